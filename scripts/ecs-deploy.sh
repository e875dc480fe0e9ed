#!/usr/bin/env bash
# Deploys an image that is already in ECR to the ECS stack deploy/ creates:
#
#   1. register a new revision of the JOB family with the image (copy of the
#      latest revision, only the image changed: Terraform stays the source of
#      everything else),
#   2. run `catalog-api migrate` as a one-off task of it, wait for the task to
#      stop and require exit code 0 (else: deregister that revision, stop),
#   3. register a new revision of the SERVICE family with the image,
#   4. update the service to it and wait for `aws ecs wait services-stable`,
#      then require that the new revision is the one serving with rollout
#      COMPLETED (the circuit breaker may have rolled back on its own),
#   5. on failure: update the service back to the revision it ran before, wait
#      for it, and deregister both new revisions (so scheduled run-job tasks,
#      which use the latest job revision, go back to the previous image too).
#
# .github/workflows/deploy.yml runs exactly this; operators can too:
#
#   AWS_REGION=us-east-1 ECS_CLUSTER=catalog-api-prod ECS_SERVICE=api \
#   ECS_SERVICE_FAMILY=catalog-api-prod ECS_JOB_FAMILY=catalog-api-prod-job \
#   ECS_JOB_CONTAINER=job RUN_TASK_NETWORK_CONFIGURATION="$(terraform output -raw run_task_network_configuration)" \
#     bash scripts/ecs-deploy.sh <account>.dkr.ecr.<region>.amazonaws.com/catalog-api-prod:<sha>
#
# (`terraform output github_actions_variables` prints every value.)
# Needs the AWS CLI v2 and python3. MIGRATE_TIMEOUT (seconds, default 1800)
# bounds the migration; STABLE_TIMEOUT (default 900) the rollout.
# Exit status: 0 deployed; 1 failed (and rolled back where it had started);
# 2 usage. Tested against a fake `aws` by tests/deploy/ecs_deploy_test.py.
set -euo pipefail

die() { echo "ecs-deploy: ERROR: $*" >&2; exit 1; }
say() { echo "ecs-deploy: $*"; }

[ $# -eq 1 ] || { echo "usage: $0 <image uri>" >&2; exit 2; }
image=$1
for v in ECS_CLUSTER ECS_SERVICE ECS_SERVICE_FAMILY ECS_JOB_FAMILY ECS_JOB_CONTAINER RUN_TASK_NETWORK_CONFIGURATION; do
  [ -n "${!v:-}" ] || { echo "ecs-deploy: $v is not set" >&2; exit 2; }
done
migrate_timeout=${MIGRATE_TIMEOUT:-1800}
stable_timeout=${STABLE_TIMEOUT:-900}
poll=${ECS_DEPLOY_POLL_SECONDS:-10}
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# register FAMILY -> prints the new revision's ARN. The input is the latest
# revision of FAMILY (as Terraform or the previous deploy registered it) with
# every container's image replaced, minus the read-only fields the API rejects.
register() {
  local family=$1
  aws ecs describe-task-definition --task-definition "$family" --include TAGS --output json >"$work/current.json"
  "$py" - "$work/current.json" "$image" >"$work/register.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
td = doc["taskDefinition"]
for k in ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
          "registeredAt", "registeredBy", "deregisteredAt"):
    td.pop(k, None)
for c in td["containerDefinitions"]:
    c["image"] = sys.argv[2]
if doc.get("tags"):
    td["tags"] = doc["tags"]
json.dump(td, sys.stdout)
EOF
  aws ecs register-task-definition --cli-input-json "file://$work/register.json" \
    --query taskDefinition.taskDefinitionArn --output text
}

deregister() {
  [ -n "$1" ] || return 0
  say "deregistering $1"
  aws ecs deregister-task-definition --task-definition "$1" --query taskDefinition.taskDefinitionArn --output text >/dev/null ||
    echo "ecs-deploy: WARNING: could not deregister $1; deregister it by hand so scheduled jobs do not use it" >&2
}

# service_state -> "<primary task definition> <rolloutState> <running>/<desired> <deployments>"
service_state() {
  aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --output json |
    "$py" -c '
import json, sys
s = json.load(sys.stdin)["services"][0]
p = [d for d in s["deployments"] if d["status"] == "PRIMARY"][0]
print(p["taskDefinition"], p.get("rolloutState", "UNKNOWN"), "%d/%d" % (p["runningCount"], p["desiredCount"]), len(s["deployments"]))'
}

# wait_stable TASKDEF: services-stable, then the PRIMARY deployment must be
# TASKDEF with rollout COMPLETED. Bounded by STABLE_TIMEOUT.
wait_stable() {
  local want=$1 deadline state td rollout
  deadline=$(($(date +%s) + stable_timeout))
  while :; do
    if aws ecs wait services-stable --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" 2>"$work/wait.err"; then
      state=$(service_state)
      read -r td rollout _ <<<"$state"
      say "service: $state"
      if [ "$td" = "$want" ] && [ "$rollout" = COMPLETED ]; then return 0; fi
      if [ "$td" != "$want" ]; then
        echo "ecs-deploy: the service runs $td, not $want (circuit breaker rollback?)" >&2
        return 1
      fi
      [ "$rollout" = FAILED ] && return 1
    else
      say "still waiting for the service: $(tr '\n' ' ' <"$work/wait.err")"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "ecs-deploy: service not stable within ${stable_timeout}s" >&2; return 1; }
    sleep "$poll"
  done
}

previous=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
  --query 'services[0].taskDefinition' --output text)
[ -n "$previous" ] && [ "$previous" != None ] || die "service $ECS_SERVICE not found in cluster $ECS_CLUSTER"
say "image:              $image"
say "service now runs:   $previous"

# --- 1-2: migrations with the new image -------------------------------------------
job_td=$(register "$ECS_JOB_FAMILY")
say "job revision:       $job_td"
overrides=$(printf '{"containerOverrides":[{"name":"%s","command":["migrate"]}]}' "$ECS_JOB_CONTAINER")
task=$(aws ecs run-task --cluster "$ECS_CLUSTER" --task-definition "$job_td" --launch-type FARGATE \
  --network-configuration "$RUN_TASK_NETWORK_CONFIGURATION" --overrides "$overrides" \
  --started-by deploy-migrate --query 'tasks[0].taskArn' --output text) || true
if [ -z "$task" ] || [ "$task" = None ]; then
  deregister "$job_td"
  die "run-task for the migration did not start a task"
fi
say "migrate task:       $task"
deadline=$(($(date +%s) + migrate_timeout))
until aws ecs wait tasks-stopped --cluster "$ECS_CLUSTER" --tasks "$task" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    aws ecs stop-task --cluster "$ECS_CLUSTER" --task "$task" --reason "deploy: migration timed out" >/dev/null 2>&1 || true
    deregister "$job_td"
    die "migration still running after ${migrate_timeout}s (task stopped); the service was not changed"
  fi
  say "migration still running"
done
read -r exit_code stopped_reason < <(aws ecs describe-tasks --cluster "$ECS_CLUSTER" --tasks "$task" --output json |
  "$py" -c '
import json, sys
t = json.load(sys.stdin)["tasks"][0]
c = t["containers"][0]
print(c.get("exitCode", "none"), (t.get("stoppedReason") or "-").replace("\n", " "))')
if [ "$exit_code" != 0 ]; then
  task_id=${task##*/}
  echo "ecs-deploy: migrate exited with '$exit_code' ($stopped_reason); its last log lines:" >&2
  aws logs get-log-events --log-group-name "${ECS_LOG_GROUP:-/ecs/$ECS_SERVICE_FAMILY}" \
    --log-stream-name "job/$ECS_JOB_CONTAINER/$task_id" --limit 20 --query 'events[].message' --output text >&2 || true
  deregister "$job_td"
  die "migration failed; the service was not changed"
fi
say "migrations applied (exit 0)"

# --- 3-4: the service ---------------------------------------------------------------
service_td=$(register "$ECS_SERVICE_FAMILY")
say "service revision:   $service_td"
aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" --task-definition "$service_td" \
  --query 'service.taskDefinition' --output text >/dev/null
if wait_stable "$service_td"; then
  say "deployed $image: $service_td is serving"
  exit 0
fi

# --- 5: roll back -------------------------------------------------------------------
echo "ecs-deploy: rolling back to $previous" >&2
aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" --task-definition "$previous" \
  --query 'service.taskDefinition' --output text >/dev/null
rolled_back=0
wait_stable "$previous" && rolled_back=1
deregister "$service_td"
deregister "$job_td"
[ "$rolled_back" = 1 ] || die "rollback to $previous did not become stable either: look at the service events"
die "deploy of $image failed; rolled back to $previous (migrations already applied stay applied)"
