#!/usr/bin/env python3
"""scripts/ecs-deploy.sh (what .github/workflows/deploy.yml runs) against a
fake AWS CLI (tests/deploy/fake_aws.py) whose register-task-definition
validates its input with botocore's ECS model. Revision 1 of the service
family is deploy/task-definition.json; the job family is derived from it the
way ecs.tf derives it. Three deploys:

  good             migrate exits 0, the rollout completes -> exit 0, the service
                   and both families' latest revisions carry the new image
  migrate fails    exit 1, the service untouched, the new job revision
                   deregistered (schedules keep the previous image), no service
                   revision registered, the migration's log printed
  rollout fails    the circuit breaker keeps the old revision -> exit 1, the
                   service updated back to the previous revision, both new
                   revisions deregistered
and the failures the fake now drives as AWS would: a wrong cluster, a
migration that never stops (waiter timeouts until MIGRATE_TIMEOUT: the task
is stopped, which the deploy role must be allowed to do), a migrate task that
never ran its container, no capacity for it, and a service that never
becomes stable. The fake enforces the deploy role's IAM actions from
deploy/github.tf on every call.

Prints `ok`/`FAIL` per assertion and `ecs-deploy tests: N passed, M failed`.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OLD = "123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-api-prod:" + "a" * 40
NEW = "123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-api-prod:" + "b" * 40
CLUSTER, SERVICE, FAM, JOB_FAM = "catalog-api-prod", "api", "catalog-api-prod", "catalog-api-prod-job"

passed, failed = 0, 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def registered(td, family, rev):
    return dict(td, family=family, taskDefinitionArn=f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{rev}",
                revision=rev, status="ACTIVE", compatibilities=["EC2", "FARGATE"], requiresAttributes=[],
                registeredAt="then", registeredBy="terraform")


def initial_state():
    td = json.load(open(os.path.join(ROOT, "deploy", "task-definition.json")))
    tags = td.pop("tags")
    td["containerDefinitions"][0]["image"] = OLD
    job = copy.deepcopy(td)
    c = job["containerDefinitions"][0]
    c.update(name="job", command=["migrate"])
    for k in ("portMappings", "healthCheck"):
        c.pop(k)
    c["logConfiguration"]["options"]["awslogs-stream-prefix"] = "job"
    svc_td = registered(td, FAM, 1)
    return {
        "calls": [], "tasks": {}, "tags": tags, "migrate_exit": 0,
        "families": {FAM: [svc_td], JOB_FAM: [registered(job, JOB_FAM, 1)]},
        "service": {"name": SERVICE, "taskDefinition": svc_td["taskDefinitionArn"], "history": []},
    }


def deploy(work, state, extra_env=None):
    path = os.path.join(work, "state.json")
    json.dump(state, open(path, "w"))
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    with open(os.path.join(bindir, "aws"), "w") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" "{HERE}/fake_aws.py" "$@"\n')
    os.chmod(os.path.join(bindir, "aws"), 0o755)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"], FAKE_AWS_STATE=path, PYTHON=sys.executable,
               AWS_REGION="us-east-1", ECS_CLUSTER=CLUSTER, ECS_SERVICE=SERVICE, ECS_SERVICE_FAMILY=FAM,
               ECS_JOB_FAMILY=JOB_FAM, ECS_JOB_CONTAINER="job", ECS_DEPLOY_POLL_SECONDS="0", STABLE_TIMEOUT="5",
               RUN_TASK_NETWORK_CONFIGURATION='{"awsvpcConfiguration":{"subnets":["subnet-1"],"securityGroups":["sg-1"],"assignPublicIp":"DISABLED"}}')
    env.update(extra_env or {})
    p = subprocess.run(["bash", os.path.join(ROOT, "scripts", "ecs-deploy.sh"), NEW], env=env,
                       capture_output=True, text=True, timeout=120)
    return p, json.load(open(path))


def latest_active(state, family):
    return [t for t in state["families"][family] if t["status"] == "ACTIVE"][-1]


def image(td):
    return td["containerDefinitions"][0]["image"]


def ops(state):
    return [c[1] if c[1] != "wait" else "wait " + c[2] for c in state["calls"]]


with tempfile.TemporaryDirectory() as work:
    # --- good deploy ---------------------------------------------------------------
    p, st = deploy(work, initial_state())
    out = p.stdout + p.stderr
    check("good deploy: exit 0", p.returncode == 0, out)
    check("good deploy: service runs the new service revision",
          st["service"]["taskDefinition"].endswith(f"/{FAM}:2") and image(latest_active(st, FAM)) == NEW, st["service"])
    check("good deploy: latest job revision (what schedules run) has the new image", image(latest_active(st, JOB_FAM)) == NEW)
    (task,) = st["tasks"].values()
    check("good deploy: migrate ran as a one-off task of the new job revision with command migrate",
          task["taskDefinitionArn"].endswith(f"/{JOB_FAM}:2") and task["image"] == NEW and
          task["overrides"] == {"containerOverrides": [{"name": "job", "command": ["migrate"]}]}, task)
    seq = ops(st)
    check("good deploy: order = register job, run migrate, wait stopped, check exit, register service, update, wait stable",
          [o for o in seq if o in ("register-task-definition", "run-task", "wait tasks-stopped", "describe-tasks",
                                   "update-service", "wait services-stable")] ==
          ["register-task-definition", "run-task", "wait tasks-stopped", "describe-tasks", "register-task-definition",
           "update-service", "wait services-stable"], seq)
    svc2 = st["families"][FAM][1]
    check("good deploy: new service revision differs from revision 1 only in the image",
          {k: v for k, v in svc2.items() if k not in ("taskDefinitionArn", "revision", "registeredAt", "registeredBy", "containerDefinitions")} ==
          {k: v for k, v in st["families"][FAM][0].items() if k not in ("taskDefinitionArn", "revision", "registeredAt", "registeredBy", "containerDefinitions")}
          and dict(svc2["containerDefinitions"][0], image=OLD) == st["families"][FAM][0]["containerDefinitions"][0])
    check("good deploy: nothing deregistered", "deregister-task-definition" not in seq, seq)

    # --- migration fails -------------------------------------------------------------
    s0 = initial_state()
    s0["migrate_exit"] = 1
    p, st = deploy(work, s0)
    out = p.stdout + p.stderr
    check("migration fails: exit 1 with a message", p.returncode == 1 and "migration failed; the service was not changed" in out, out)
    check("migration fails: the migration's log is printed", "migration 5 failed" in out, out)
    check("migration fails: service untouched, no service revision registered",
          st["service"]["taskDefinition"].endswith(f"/{FAM}:1") and "update-service" not in ops(st)
          and len(st["families"][FAM]) == 1, ops(st))
    check("migration fails: the new job revision is deregistered (schedules keep the old image)",
          st["families"][JOB_FAM][1]["status"] == "INACTIVE" and image(latest_active(st, JOB_FAM)) == OLD)

    # --- rollout fails: circuit breaker keeps the old revision -------------------------
    s0 = initial_state()
    s0["bad_image"] = NEW
    p, st = deploy(work, s0)
    out = p.stdout + p.stderr
    check("rollout fails: exit 1, says it rolled back", p.returncode == 1 and "rolled back to" in out, out)
    check("rollout fails: service updated to the new revision, then back to the previous one",
          st["service"]["history"] == [f"arn:aws:ecs:us-east-1:123456789012:task-definition/{FAM}:2",
                                       f"arn:aws:ecs:us-east-1:123456789012:task-definition/{FAM}:1"]
          and st["service"]["taskDefinition"].endswith(f"/{FAM}:1"), st["service"])
    check("rollout fails: both new revisions deregistered; latest active = the old image",
          st["families"][FAM][1]["status"] == "INACTIVE" and st["families"][JOB_FAM][1]["status"] == "INACTIVE"
          and image(latest_active(st, FAM)) == OLD and image(latest_active(st, JOB_FAM)) == OLD)

    # --- the fake is as strict as AWS: what the deploy role may do, the cluster ----------
    s0 = initial_state()
    s0["cluster"] = "another-cluster"
    p, st = deploy(work, s0)
    out = p.stdout + p.stderr
    check("wrong cluster: exit 1 before anything is registered",
          p.returncode == 1 and "register-task-definition" not in ops(st), out)

    # --- migration never stops: the waiter times out until MIGRATE_TIMEOUT --------------
    s0 = initial_state()
    s0["waiter_timeouts"] = {"tasks-stopped": 1000}
    p, st = deploy(work, s0, {"MIGRATE_TIMEOUT": "0"})
    out = p.stdout + p.stderr
    check("migration times out: exit 1, says so, service untouched",
          p.returncode == 1 and "migration still running after 0s" in out and "update-service" not in ops(st), out)
    check("migration times out: the task is stopped (the deploy role may StopTask) and the job revision retired",
          st.get("stopped") == list(st["tasks"]) and st["families"][JOB_FAM][1]["status"] == "INACTIVE",
          (st.get("stopped"), out))

    # --- the migrate task never ran its container (image pull failed) -------------------
    s0 = initial_state()
    s0["task_failure"] = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    p, st = deploy(work, s0)
    out = p.stdout + p.stderr
    check("migrate task failed to start: exit 1 naming the reason, service untouched",
          p.returncode == 1 and "CannotPullContainerError" in out and "update-service" not in ops(st)
          and st["families"][JOB_FAM][1]["status"] == "INACTIVE", out)

    # --- no capacity: run-task starts nothing -------------------------------------------
    s0 = initial_state()
    s0["run_failure"] = "RESOURCE:MEMORY"
    p, st = deploy(work, s0)
    out = p.stdout + p.stderr
    check("no capacity for the migration: exit 1, service untouched, job revision retired",
          p.returncode == 1 and "did not start a task" in out and "update-service" not in ops(st)
          and st["families"][JOB_FAM][1]["status"] == "INACTIVE", out)

    # --- the service never becomes stable: rolled back ----------------------------------
    s0 = initial_state()
    s0["waiter_timeouts"] = {"services-stable": 1000}
    p, st = deploy(work, s0, {"STABLE_TIMEOUT": "0"})
    out = p.stdout + p.stderr
    check("service never stable: exit 1, rolled back to revision 1",
          p.returncode == 1 and "not stable within 0s" in out and st["service"]["taskDefinition"].endswith(f"/{FAM}:1"),
          out)

    # --- usage -------------------------------------------------------------------------
    p = subprocess.run(["bash", os.path.join(ROOT, "scripts", "ecs-deploy.sh")], capture_output=True, text=True,
                       env=dict(os.environ, ECS_CLUSTER=""))
    check("no image argument: usage, exit 2", p.returncode == 2 and "usage" in p.stderr, p.stderr)

print(f"ecs-deploy tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
