#!/usr/bin/env python3
"""A fake `aws` CLI for tests/deploy/ecs_deploy_test.py: the ECS and Logs calls
scripts/ecs-deploy.sh makes, against a JSON state file ($FAKE_AWS_STATE).

register-task-definition validates its input against botocore's ECS model
(RegisterTaskDefinition input shape), as the real CLI does before sending.
Every call is appended to state["calls"]. Behaviour knobs in the state:
  migrate_exit   exit code the migrate task's container reports
  bad_image      an image whose service deployment the circuit breaker rolls back
"""
import json
import os
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
        out = {"services": [service_view(state)], "failures": []}
    elif (service, op) == ("ecs", "update-service"):
        td = find_td(state, o["task-definition"])
        svc = state["service"]
        svc["history"].append(td["taskDefinitionArn"])
        if td["containerDefinitions"][0]["image"] == state.get("bad_image"):
            pass  # the circuit breaker rolls back: the service keeps its previous revision
        else:
            svc["taskDefinition"] = td["taskDefinitionArn"]
        out = {"service": service_view(state)}
    elif (service, op) == ("ecs", "run-task"):
        td = find_td(state, o["task-definition"])
        overrides = json.loads(o["overrides"])
        n = len(state["tasks"]) + 1
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{o['cluster']}/task{n:04d}"
        state["tasks"][arn] = {"taskDefinitionArn": td["taskDefinitionArn"], "overrides": overrides,
                               "image": td["containerDefinitions"][0]["image"], "exitCode": state["migrate_exit"]}
        out = {"tasks": [{"taskArn": arn}], "failures": []}
    elif (service, op) == ("ecs", "describe-tasks"):
        t = state["tasks"][o["tasks"]]
        out = {"tasks": [{"taskArn": o["tasks"], "lastStatus": "STOPPED",
                          "stoppedReason": "Essential container in task exited",
                          "containers": [{"name": t["overrides"]["containerOverrides"][0]["name"],
                                          "exitCode": t["exitCode"]}]}]}
    elif (service, op) == ("ecs", "wait"):
        raise SystemExit("use `ecs wait <waiter>`")
    elif service == "ecs" and op in ("stop-task",):
        out = {"task": {}}
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


if __name__ == "__main__":
    # `aws ecs wait <waiter> ...`: the waiters just succeed (the state is already final).
    if sys.argv[1:3] == ["ecs", "wait"]:
        state = load()
        state["calls"].append(["ecs", "wait", sys.argv[3]])
        save(state)
        sys.exit(0)
    main()
