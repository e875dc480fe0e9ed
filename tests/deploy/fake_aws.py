#!/usr/bin/env python3
"""A fake `aws` CLI for tests/deploy/ecs_deploy_test.py: the ECS and Logs calls
scripts/ecs-deploy.sh makes, against a JSON state file ($FAKE_AWS_STATE).

register-task-definition validates its input against botocore's ECS model
(RegisterTaskDefinition input shape), as the real CLI does before sending.
As strict as AWS where a deploy script could go wrong:
  - IAM: every call needs its action in the deploy role's policy, read from
    deploy/github.tf (data "aws_iam_policy_document" "github_deploy"); a call
    the role may not make fails AccessDeniedException, as on AWS. RunTask is
    allowed only for the job family in the state's cluster (the policy's
    resource and ecs:cluster condition).
  - the cluster: calls naming another cluster fail (ClusterNotFoundException),
    describe-services of another cluster answers MISSING;
  - an INACTIVE (deregistered) task definition cannot be run or deployed.
Every call is appended to state["calls"]. Behaviour knobs in the state:
  cluster          the only cluster that exists (default catalog-api-prod)
  migrate_exit     exit code the migrate task's container reports
  task_failure     the migrate task stops without an exit code, with this
                   stoppedReason (e.g. CannotPullContainerError: ...)
  run_failure      run-task starts nothing and reports this failure reason
                   (e.g. RESOURCE:MEMORY for missing capacity)
  waiter_timeouts  {"tasks-stopped": n, "services-stable": n}: that many
                   `aws ecs wait` calls time out first (exit 255, as the CLI)
  bad_image        an image whose service deployment the circuit breaker rolls back
"""
import json
import os
import re
import sys

import jmespath

STATE = os.environ["FAKE_AWS_STATE"]
ACCOUNT, REGION = "123456789012", "us-east-1"
READ_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
             "registeredAt", "registeredBy", "deregisteredAt")


def load():
    with open(STATE) as f:
        return json.load(f)


def save(state):
    with open(STATE, "w") as f:
        json.dump(state, f, indent=1)


def parse(argv):
    service, op, rest = argv[0], argv[1], argv[2:]
    opts, i = {}, 0
    while i < len(rest):
        key = rest[i][2:]
        if i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            opts.setdefault(key, []).append(rest[i + 1])
            i += 2
        else:
            opts[key] = [True]
            i += 1
    return service, op, {k: (v[0] if len(v) == 1 else v) for k, v in opts.items()}


def fail(msg, code=254):
    print(f"\nAn error occurred (ClientException) when calling the operation: {msg}", file=sys.stderr)
    sys.exit(code)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def deploy_role_actions():
    """The actions of the deploy role's policy document, from the Terraform."""
    text = open(os.path.join(ROOT, "deploy", "github.tf")).read()
    start = text.index('data "aws_iam_policy_document" "github_deploy"')
    depth, end = 0, None
    for i in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            end = i
            break
    block = re.sub(r"#[^\n]*", "", text[start:end])
    actions = set()
    for body in re.findall(r"\bactions\s*=\s*\[([^\]]*)\]", block):
        actions.update(re.findall(r'"([a-z0-9]+:[A-Za-z0-9*]+)"', body))
    if not actions:
        raise SystemExit("fake aws: no actions found in the github_deploy policy of deploy/github.tf")
    return actions


def iam_action(service, op):
    """`ecs describe-task-definition` -> ecs:DescribeTaskDefinition; waiters poll a Describe call."""
    if service == "ecs" and op == "wait":
        raise ValueError("waiters are checked by their polling call")
    return f"{service}:" + "".join(w.capitalize() for w in op.split("-"))


def authorize(action, detail=""):
    if action not in deploy_role_actions():
        deny(action, detail)


def deny(action, detail=""):
    if True:
        print(f"\nAn error occurred (AccessDeniedException) when calling the operation: User: "
              f"arn:aws:sts::{ACCOUNT}:assumed-role/github-deploy/session is not authorized to perform: {action}"
              f"{detail} because no identity-based policy allows the {action} action", file=sys.stderr)
        sys.exit(254)


def cluster_of(state):
    return state.get("cluster", "catalog-api-prod")


def require_cluster(state, o):
    if o.get("cluster") != cluster_of(state):
        print(f"\nAn error occurred (ClusterNotFoundException) when calling the operation: Cluster not found.",
              file=sys.stderr)
        sys.exit(254)


def require_active(td):
    if td["status"] != "ACTIVE":
        fail(f"TaskDefinition is inactive: {td['taskDefinitionArn']}")


def td_arn(family, rev):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{rev}"


def find_td(state, ref):
    name = ref.split("task-definition/")[-1]
    family, _, rev = name.partition(":")
    revs = state["families"].get(family)
    if not revs:
        fail(f"Unable to describe task definition {ref}.")
    if rev:
        return revs[int(rev) - 1]
    active = [t for t in revs if t["status"] == "ACTIVE"]
    if not active:
        fail(f"No active revision of {family}.")
    return active[-1]


def service_view(state):
    svc = state["service"]
    return {"serviceName": svc["name"], "taskDefinition": svc["taskDefinition"],
            "deployments": [{"status": "PRIMARY", "taskDefinition": svc["taskDefinition"], "rolloutState": "COMPLETED",
                             "runningCount": 2, "desiredCount": 2}]}


def main():
    service, op, o = parse(sys.argv[1:])
    state = load()
    state["calls"].append([service, op] + [f"{k}={v}" for k, v in sorted(o.items()) if k not in ("query", "output")])
    save(state)
    authorize(iam_action(service, op))
    out = None
    if (service, op) == ("ecs", "describe-task-definition"):
        td = find_td(state, o["task-definition"])
        out = {"taskDefinition": td, "tags": state.get("tags", [])}
    elif (service, op) == ("ecs", "register-task-definition"):
        path = o["cli-input-json"]
        assert path.startswith("file://"), path
        params = json.load(open(path[len("file://"):]))
        import botocore.session  # only here: importing it costs most of a call's time
        from botocore.validate import ParamValidator
        shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            print("\nParameter validation failed:\n" + report.generate_report(), file=sys.stderr)
            sys.exit(252)
        revs = state["families"].setdefault(params["family"], [])
        td = dict(params, taskDefinitionArn=td_arn(params["family"], len(revs) + 1), revision=len(revs) + 1,
                  status="ACTIVE", compatibilities=["EC2", "FARGATE"], requiresAttributes=[], registeredAt="now",
                  registeredBy="fake")
        td.pop("tags", None)
        revs.append(td)
        out = {"taskDefinition": td}
    elif (service, op) == ("ecs", "deregister-task-definition"):
        td = find_td(state, o["task-definition"])
        td["status"] = "INACTIVE"
        out = {"taskDefinition": td}
    elif (service, op) == ("ecs", "describe-services"):
        if o.get("cluster") != cluster_of(state):
            out = {"services": [], "failures": [{"arn": o.get("services"), "reason": "MISSING"}]}
        else:
            out = {"services": [service_view(state)], "failures": []}
    elif (service, op) == ("ecs", "update-service"):
        require_cluster(state, o)
        td = find_td(state, o["task-definition"])
        require_active(td)
        svc = state["service"]
        svc["history"].append(td["taskDefinitionArn"])
        if td["containerDefinitions"][0]["image"] == state.get("bad_image"):
            pass  # the circuit breaker rolls back: the service keeps its previous revision
        else:
            svc["taskDefinition"] = td["taskDefinitionArn"]
        out = {"service": service_view(state)}
    elif (service, op) == ("ecs", "run-task"):
        require_cluster(state, o)
        td = find_td(state, o["task-definition"])
        # The policy's resource: the job family only (RunMigrateTask).
        if td["family"] != state.get("job_family", "catalog-api-prod-job"):
            deny("ecs:RunTask", f" on resource {td['taskDefinitionArn']}")
        require_active(td)
        if state.get("run_failure"):
            out = {"tasks": [], "failures": [{"arn": td["taskDefinitionArn"], "reason": state["run_failure"]}]}
        else:
            overrides = json.loads(o["overrides"])
            n = len(state["tasks"]) + 1
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{o['cluster']}/task{n:04d}"
            state["tasks"][arn] = {"taskDefinitionArn": td["taskDefinitionArn"], "overrides": overrides,
                                   "image": td["containerDefinitions"][0]["image"], "exitCode": state["migrate_exit"],
                                   "failure": state.get("task_failure")}
            out = {"tasks": [{"taskArn": arn}], "failures": []}
    elif (service, op) == ("ecs", "describe-tasks"):
        require_cluster(state, o)
        t = state["tasks"].get(o["tasks"])
        if t is None:
            out = {"tasks": [], "failures": [{"arn": o["tasks"], "reason": "MISSING"}]}
        else:
            container = {"name": t["overrides"]["containerOverrides"][0]["name"]}
            if t.get("failure"):
                reason = t["failure"]  # stopped before the container ran: no exit code
            else:
                reason = "Essential container in task exited"
                container["exitCode"] = t["exitCode"]
            out = {"tasks": [{"taskArn": o["tasks"], "lastStatus": "STOPPED", "stoppedReason": reason,
                              "containers": [container]}], "failures": []}
    elif (service, op) == ("ecs", "wait"):
        raise SystemExit("use `ecs wait <waiter>`")
    elif (service, op) == ("ecs", "stop-task"):
        require_cluster(state, o)
        state.setdefault("stopped", []).append(o["task"])
        out = {"task": {"taskArn": o["task"], "desiredStatus": "STOPPED"}}
    elif (service, op) == ("logs", "get-log-events"):
        out = {"events": [{"message": '{"level":"error","msg":"migration 5 failed: relation exists"}'}]}
    else:
        fail(f"fake aws does not know `{service} {op}`")
    save(state)
    if "query" in o:
        out = jmespath.search(o["query"], out)
    if o.get("output") == "text":
        if isinstance(out, list):
            print("\t".join("None" if x is None else str(x) for x in out))
        else:
            print("None" if out is None else out)
    else:
        print(json.dumps(out, indent=2))


def wait(waiter, argv):
    """`aws ecs wait <waiter> ...`: polls its Describe call (so needs its IAM
    action and the right cluster); succeeds at once, as the state is already
    final, unless the test asked for timeouts."""
    _, _, o = parse(["ecs", "wait"] + argv)
    state = load()
    state["calls"].append(["ecs", "wait", waiter])
    save(state)
    authorize({"tasks-stopped": "ecs:DescribeTasks", "services-stable": "ecs:DescribeServices"}[waiter])
    require_cluster(state, o)
    left = state.get("waiter_timeouts", {}).get(waiter, 0)
    if left > 0:
        state["waiter_timeouts"][waiter] = left - 1
        save(state)
        name = "".join(w.capitalize() for w in waiter.split("-"))
        print(f"\nWaiter {name} failed: Max attempts exceeded", file=sys.stderr)
        sys.exit(255)
    sys.exit(0)


if __name__ == "__main__":
    if sys.argv[1:3] == ["ecs", "wait"]:
        wait(sys.argv[3], sys.argv[4:])
    main()
