#!/usr/bin/env bash
# Builds the container image (docker/Dockerfile) with podman and smoke-tests it
# the way ECS on Fargate runs it. What CI proves about the image; .ci/run runs
# it after the test suite.
#
# On a fresh Debian 12 machine, as root, with only the Debian mirror reachable:
#   1. setup:    apt-get install podman runc debootstrap ...; a containers.conf
#                (runc, ulimits within the hard limits) used through
#                CONTAINERS_CONF; debian:12 and debian:12-slim made with
#                debootstrap when podman's store lacks them (no registry here).
#   2. build:    podman build --format docker --network host -f docker/Dockerfile
#                -t catalog-api:<git sha> .   (from the repository root: -f is
#                resolved against the current directory, the context is `.`)
#   3. services: a throw-away PostgreSQL and the local S3 store (s3rver behind
#                the SigV4-verifying proxy) on free loopback ports.
#   4. smoke:    the image as Fargate runs it: --read-only (and no tmpfs
#                podman would otherwise add), --user 10001, a root-owned 0755
#                directory bind-mounted at /tmp, host networking on a free
#                loopback port (never 8000), API_TOKEN set: /health/live,
#                /health, uid and TMPDIR, /docs, the demo job through the API,
#                a spilling update, run-job as a one-off container, the
#                HEALTHCHECK, a database outage, podman stop. One line per check,
#                then "N passed, M failed"; exits non-zero on any failure.
#
# Safe to run twice: installed packages, the base image and podman's layer
# cache are reused. Containers, PostgreSQL, S3 and temporary files are removed
# on exit, also on failure or Ctrl-C.
#
#   sudo bash scripts/image-smoke.sh
#
# Env: IMAGE_SMOKE_ROWS (default 200000) rows in the spilling update run;
# IMAGE_SMOKE_RESULT: a file that gets the tested image's name when all passed
# (deploys push that image: scripts/push-image.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/postgres.sh
source scripts/lib/s3.sh
source scripts/lib/podman.sh

[ "$(id -u)" = 0 ] || die "run as root: podman runs rootful here (sudo bash scripts/image-smoke.sh)"

rows=${IMAGE_SMOKE_ROWS:-200000}
state="$root/.local/image"  # containers.conf lives here between runs (git-ignored)
work=$(mktemp -d /tmp/catalog-image.XXXXXX)
chmod 755 "$work"
suffix=$$
api_name="catalog-smoke-api-$suffix"
job_name="catalog-smoke-job-$suffix"

cleanup() {
  podman rm -f -v -i -t 0 "$api_name" "$job_name" >/dev/null 2>&1 || true
  run_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Phase timings, printed as they end and again in the summary.
timings=()
phase_started=0
phase_begin() { phase_name=$1; phase_started=$SECONDS; log "phase: $1"; }
phase_end() {
  local took=$((SECONDS - phase_started))
  timings+=("$phase_name ${took}s")
  log "phase $phase_name took ${took}s"
}

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s: %s\n' "$1" "$2"; }

# ---------------------------------------------------------------- setup
phase_begin setup
bash scripts/install-deps.sh  # PostgreSQL, python3-botocore, node for s3rver, curl
podman_setup "$state/podman"
ensure_debian_base "$work"
phase_end

# ---------------------------------------------------------------- build
phase_begin build
sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then sha="$sha-dirty"; fi
image="catalog-api:$sha"
# From the repository root: `-f docker/Dockerfile` is resolved against the
# current directory, and `.` (the context) is the repository. --format docker
# keeps HEALTHCHECK (OCI has none); --network host because the build's
# apt-get needs the mirror and podman's bridge network is not used here;
# --pull=never because no registry is reachable (debian:12 is local).
# The host's CA bundle goes in as a build secret: `npm ci` (Swagger UI files)
# reaches the npm registry through this network's TLS-intercepting proxy,
# whose CA only the host trusts. It is not stored in the image.
ca_secret=()
[ -s /etc/ssl/certs/ca-certificates.crt ] && ca_secret=(--secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt)
podman build --format docker --network host --pull=never "${ca_secret[@]}" \
  --ignorefile docker/Dockerfile.dockerignore \
  -f docker/Dockerfile -t "$image" . >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log" >&2; die "podman build failed"; }
log "built $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
phase_end

# ---------------------------------------------------------------- services
phase_begin services
pg_port=$(free_port)
start_postgres "$work/pg" "$pg_port"
add_cleanup "stop_postgres '$work/pg'"
as_postgres "$(pg_bindir)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres catalog
start_s3 "$work/s3"  # exports CATALOG_TEST_S3_* (bucket, key pair, verifying endpoint)

port=$(free_port)
while [ "$port" = 8000 ]; do port=$(free_port); done
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
# Secrets go through a 0600 env file, never the command line.
(
  umask 077
  cat >"$work/env" <<EOF
PORT=$port
BIND_ADDRESS=127.0.0.1
DATABASE_URL=host=127.0.0.1 port=$pg_port user=postgres dbname=catalog
S3_ENDPOINT=$CATALOG_TEST_S3_ENDPOINT
S3_FORCE_PATH_STYLE=true
S3_RAW_BUCKET=$CATALOG_TEST_S3_BUCKET
AWS_REGION=$CATALOG_TEST_S3_REGION
AWS_ACCESS_KEY_ID=$CATALOG_TEST_S3_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$CATALOG_TEST_S3_SECRET_ACCESS_KEY
API_TOKEN=$token
LOG_FORMAT=json
SHUTDOWN_TIMEOUT=25
EOF
)
# What Fargate gives a task volume: an empty directory owned by root, 0755.
mkdir -p "$work/fargate-tmp"
chown 0:0 "$work/fargate-tmp"
chmod 0755 "$work/fargate-tmp"
# The demo feed, where the demo job reads it.
"$(s3_python)" - "$CATALOG_TEST_S3_ENDPOINT" "$root/tests/data/demo/acme-feed.csv" <<'PY'
import os, sys, botocore.session
endpoint, path = sys.argv[1], sys.argv[2]
s3 = botocore.session.get_session().create_client(
    "s3", endpoint_url=endpoint, region_name=os.environ["CATALOG_TEST_S3_REGION"],
    aws_access_key_id=os.environ["CATALOG_TEST_S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["CATALOG_TEST_S3_SECRET_ACCESS_KEY"])
with open(path, "rb") as f:
    s3.put_object(Bucket=os.environ["CATALOG_TEST_S3_BUCKET"], Key="raw/partners/acme/acme-feed.csv", Body=f.read())
PY
phase_end

# ---------------------------------------------------------------- smoke
phase_begin smoke
# How ECS runs the task: read-only root, no tmpfs anywhere, uid 10001, the
# task volume at /tmp. podman would mount tmpfs on /tmp, /var/tmp and /run
# with --read-only; --read-only-tmpfs=false turns that off, so scratch space
# comes only from the image's VOLUMEs. --health-interval=disable: no systemd
# here to run the timer; `podman healthcheck run` runs the image's check.
run_flags=(--read-only --read-only-tmpfs=false --user 10001 --network host
  -v "$work/fargate-tmp:/tmp" --env-file "$work/env")
podman run -d --name "$api_name" "${run_flags[@]}" --health-interval=disable "$image" serve >/dev/null ||
  die "podman run of $image failed"

base="http://127.0.0.1:$port"
auth=(-H "Authorization: Bearer $token")
api() { curl -sS --max-time 60 "${auth[@]}" "$@"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
wait_status() {  # wait_status URL CODE SECONDS
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }
# wait_run RUN_ID SECONDS: prints the finished run's JSON.
wait_run() {
  local i body status
  for ((i = 0; i < $2; i++)); do
    body=$(api "$base/runs/$1") || true
    status=$(printf '%s' "$body" | json_field status 2>/dev/null || true)
    case "$status" in succeeded | failed | skipped | cancelled) printf '%s' "$body"; return 0 ;; esac
    sleep 1
  done
  printf '%s' "$body"
  return 1
}
counts() { python3 -c 'import json,sys; r=json.load(sys.stdin); c=r["counts"]
print("status=%s read=%s inserted=%s updated=%s error=%s" % (r["status"], c["read"], c["inserted"], c["updated"], r.get("error")))'; }

if wait_status "$base/health/live" 200 60; then pass "GET /health/live is 200"
else fail "GET /health/live is 200" "got $(status_of "$base/health/live"); log: $(podman logs --tail 5 "$api_name" 2>&1)"; fi

if wait_status "$base/health" 200 60; then pass "GET /health is 200 (database connected, migrated)"
else fail "GET /health is 200" "got $(status_of "$base/health")"; fi

uid=$(podman exec "$api_name" id -u 2>&1 || true)
tmpdir=$(podman exec "$api_name" sh -c 'echo "$TMPDIR"; touch "$TMPDIR/probe" && echo writable; touch /tmp/probe 2>/dev/null || echo tmp-readonly' 2>&1 | tr '\n' ' ' || true)
if [ "$uid" = 10001 ] && [ "$tmpdir" = "/var/tmp/catalog writable tmp-readonly " ]; then
  pass "runs as uid 10001; TMPDIR /var/tmp/catalog writable although /tmp is not"
else fail "runs as uid 10001 with a writable TMPDIR" "uid=$uid; $tmpdir"; fi

# Swagger UI is embedded at build time (the docs-ui stage): the page and its bundle.
docs=$(status_of "$base/docs")
bundle=$(status_of "$base/docs/assets/swagger-ui-bundle.js")
if [ "$docs" = 200 ] && [ "$bundle" = 200 ]; then pass "GET /docs and its Swagger UI bundle are 200 (embedded)"
else fail "GET /docs and its Swagger UI bundle are 200" "/docs $docs, bundle $bundle"; fi

# The demo job through the API, as run-local.sh defines it.
demo_uri="s3://$CATALOG_TEST_S3_BUCKET/raw/partners/acme/acme-feed.csv"
put=$(status_of -X PUT "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"source\":\"acme\",\"uri\":\"$demo_uri\"}" "$base/jobs/demo")
run=$(api -X POST "$base/jobs/demo/run?wait=true" || true)
summary=$(printf '%s' "$run" | counts 2>/dev/null || printf 'bad answer: %s' "$run")
if [[ $put =~ ^20[01]$ ]] && [[ $summary == "status=succeeded read=50 inserted=50 "* ]]; then
  pass "demo job through the API: $summary"
else fail "demo job through the API" "PUT $put; $summary"; fi

# A spilling update: load $rows rows, then a version where every row changed.
# The changed rows outgrow the in-memory buffer and go to a temporary file.
python3 - "$work" "$rows" <<'PY'
import sys
work, rows = sys.argv[1], int(sys.argv[2])
for version, price in (("v1", 10), ("v2", 20)):
    with open(f"{work}/bulk-{version}.csv", "w") as f:
        f.write("sku,product_name,description,brand,category,price,currency,availability,color\n")
        for i in range(rows):
            f.write(f"BULK-{i:07d},Bulk item {i} {version},Item {i} of the spill test ({version}),Acme,Tools,"
                    f"{price + i % 100}.{i % 100:02d},usd,In Stock,blue\n")
PY
status_of -X PUT "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"source\":\"bulk\",\"uri\":\"s3://$CATALOG_TEST_S3_BUCKET/raw/partners/bulk/\"}" "$base/jobs/bulk" >/dev/null
upload() {  # upload VERSION: POST /feeds, wait for its run, print counts
  local created run_id
  created=$(api -X POST -H 'Content-Type: text/csv' --max-time 300 \
    --data-binary "@$work/bulk-$1.csv" "$base/feeds?job=bulk&file_name=bulk-$1.csv") || { printf 'upload failed'; return 1; }
  run_id=$(printf '%s' "$created" | json_field run_id 2>/dev/null) || { printf 'upload answered %s' "$created"; return 1; }
  wait_run "$run_id" 900 | counts 2>/dev/null || printf 'run %s did not finish' "$run_id"
}
first=$(upload v1 || true)
second=$(upload v2 || true)
if [[ $first == "status=succeeded read=$rows inserted=$rows "* ]] &&
  [[ $second == "status=succeeded read=$rows inserted=0 updated=$rows "* ]]; then
  pass "spilling update of $rows changed rows: $second"
else fail "spilling update of $rows changed rows" "first: $first; second: $second"; fi

# run-job as a one-off task (what the scheduled ECS tasks run).
if podman run --rm --name "$job_name" "${run_flags[@]}" "$image" run-job demo --force >"$work/run-job.out" 2>&1; then
  pass "run-job demo --force in a one-off container exits 0"
else fail "run-job in a one-off container" "exit $?: $(tail -n 3 "$work/run-job.out" | tr '\n' ' ')"; fi

health=$(podman healthcheck run "$api_name" 2>&1) && hc=0 || hc=$?
if [ "$hc" = 0 ] && [ "$(podman inspect --format '{{.State.Health.Status}}' "$api_name" 2>/dev/null)" = healthy ]; then
  pass "podman healthcheck run reports healthy"
else fail "podman healthcheck run reports healthy" "exit $hc: $health"; fi

# A database outage must not fail the container's health check (ECS would
# replace every task during an RDS failover); /health still reports it.
stop_postgres "$work/pg"
deep=$(wait_status "$base/health" 503 10 && echo 503 || status_of "$base/health")
live=$(status_of "$base/health/live")
podman healthcheck run "$api_name" >/dev/null 2>&1 && hc=healthy || hc=unhealthy
if [ "$deep" = 503 ] && [ "$live" = 200 ] && [ "$hc" = healthy ]; then
  pass "database down: /health 503, /health/live 200, container still healthy"
else fail "database down: /health 503, /health/live 200, container still healthy" "/health $deep, /health/live $live, $hc"; fi
start_postgres "$work/pg" "$pg_port"
wait_status "$base/health" 200 30 || true

stop_started=$SECONDS
podman stop -t 30 "$api_name" >/dev/null 2>&1 || true
took=$((SECONDS - stop_started))
code=$(podman inspect --format '{{.State.ExitCode}}' "$api_name" 2>/dev/null || echo '?')
if [ "$took" -lt 30 ] && [ "$code" = 0 ]; then pass "podman stop -t 30: exited 0 after ${took}s (SIGTERM drain, no SIGKILL)"
else fail "podman stop -t 30 exits 0 within the timeout" "exit code $code after ${took}s"; fi
phase_end

if [ "$failed" -gt 0 ]; then
  log "container log (last 30 lines):"
  podman logs --tail 30 "$api_name" >&2 2>&1 || true
fi
log "timings: ${timings[*]}"
echo "$passed passed, $failed failed"
# The image that passed, for scripts/push-image.sh (deploys push this very
# image, never a rebuild).
if [ "$failed" = 0 ] && [ -n "${IMAGE_SMOKE_RESULT:-}" ]; then echo "$image" >"$IMAGE_SMOKE_RESULT"; fi
[ "$failed" = 0 ]
