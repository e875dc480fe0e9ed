#!/usr/bin/env bash
# The quick start: install what is needed, build, start a local PostgreSQL and
# a local S3-compatible store (s3rver) with a demo feed, and run catalog-api on
# http://127.0.0.1:8000 with AUTH_DISABLED=1 and a `demo` job. Ctrl-C stops it
# all. State lives in .local/ (git-ignored); running it again reuses it, and a
# `demo` job changed by the user is left as it is.
#
# Settings (environment; README "Quick start" lists them):
#   PORT (8000), LOCAL_PG_PORT (54329), LOCAL_S3_PORT (54330)   loopback ports
#   BIND_ADDRESS (127.0.0.1)   where catalog-api listens; anything else is reachable
#                              from other machines, so set API_TOKEN with it
#   API_TOKEN                  run with this token instead of AUTH_DISABLED=1
#   LOCAL_STATE_DIR (.local)   PostgreSQL data, S3 data, logs, ccache
#   BUILD_DIR (build)          CMake build directory
#   CATALOG_API_BINARY         run this binary instead of building (tests)
#
# Exit status: 0 when catalog-api is already running on PORT or from the same
# state directory (it says so and does nothing); 130 after Ctrl-C (143 after
# SIGTERM), everything stopped; 1 when something fails or another program
# holds PORT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/postgres.sh
source scripts/lib/s3.sh

port=${PORT:-8000}
pg_port=${LOCAL_PG_PORT:-54329}
s3_port=${LOCAL_S3_PORT:-54330}
bind=${BIND_ADDRESS:-127.0.0.1}
state=${LOCAL_STATE_DIR:-$root/.local}
build_dir=${BUILD_DIR:-build}
for setting in "PORT=$port" "LOCAL_PG_PORT=$pg_port" "LOCAL_S3_PORT=$s3_port"; do
  value=${setting#*=}
  [[ $value =~ ^[0-9]+$ ]] && [ "$value" -ge 1 ] && [ "$value" -le 65535 ] ||
    die "${setting%%=*} must be a port number (1-65535), got '$value'"
done
[ "$port" != "$pg_port" ] && [ "$port" != "$s3_port" ] && [ "$pg_port" != "$s3_port" ] ||
  die "PORT, LOCAL_PG_PORT and LOCAL_S3_PORT must differ ($port, $pg_port, $s3_port)"
# Where to reach the server: loopback unless it listens on one address only.
case $bind in
  0.0.0.0 | :: | 127.*) host=127.0.0.1 ;;
  *:*) host="[$bind]" ;;
  *) host=$bind ;;
esac
url="http://$host:$port"

# "PID NAME" of the process listening on TCP port $1, when ss can tell.
listener() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\2 \1/p' | head -n 1
}
# "pid 123, catalog-api" for messages.
holder_of() {
  local who
  who=$(listener "$1")
  if [ -n "$who" ]; then printf 'pid %s, %s' "${who%% *}" "${who#* }"; else printf 'pid unknown'; fi
}
port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# A second start while the first runs: say so plainly instead of failing to
# bind (the first instance would even answer the second's health check).
if port_in_use "$port"; then
  if curl -s --max-time 3 "$url/health" 2>/dev/null | grep -q '"database":'; then
    log "catalog-api is already running on $url ($(holder_of "$port")); nothing to do."
    log "Stop it with Ctrl-C in its terminal, or set PORT to start another one."
    exit 0
  fi
  die "port $port is in use by another program ($(holder_of "$port")); stop it or set PORT to a free port"
fi
mkdir -p "$state"
chmod 755 "$state"
state=$(cd "$state" && pwd)
# The same state directory serves one quick start at a time (one PostgreSQL).
pidfile="$state/run-local.pid"
if [ -f "$pidfile" ]; then
  read -r other_pid other_port <"$pidfile" || true
  if [ -n "${other_pid:-}" ] && [ "$other_pid" != $$ ] && kill -0 "$other_pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$other_pid/cmdline" 2>/dev/null | grep -q run-local.sh; then
    log "catalog-api is already running from $state on http://127.0.0.1:${other_port:-?} (run-local.sh pid $other_pid); nothing to do."
    exit 0
  fi
fi
echo "$$ $port" >"$pidfile"
add_cleanup "rm -f '$pidfile'"
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'run_cleanup' EXIT

bash scripts/install-deps.sh
if [ -n "${CATALOG_API_BINARY:-}" ]; then
  binary=$CATALOG_API_BINARY
  [ -x "$binary" ] || die "CATALOG_API_BINARY=$binary is not an executable"
else
  export CCACHE_DIR=${CCACHE_DIR:-$state/ccache}
  log "configuring $build_dir"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$state/cmake.log" 2>&1 ||
    { cat "$state/cmake.log" >&2; die "cmake could not configure $build_dir (log above)"; }
  log "building catalog-api (a first build compiles about 45 files, a few minutes on 2 cores; later starts take seconds)"
  cmake --build "$build_dir" --target catalog-api || die "the build failed (compiler output above)"
  binary=$build_dir/catalog-api
fi

# PostgreSQL in $state/pg. A cluster still running there was left by a start
# that was killed (only one start uses the directory): restart it on pg_port.
if as_postgres "$(pg_bindir)/pg_ctl" -D "$state/pg" status >/dev/null 2>&1; then
  log "stopping the PostgreSQL a killed earlier start left running"
  stop_postgres "$state/pg"
fi
log "starting PostgreSQL on 127.0.0.1:$pg_port"
port_in_use "$pg_port" && die "LOCAL_PG_PORT $pg_port is in use ($(holder_of "$pg_port")); set LOCAL_PG_PORT to a free port"
add_cleanup "stop_postgres '$state/pg'"
start_postgres "$state/pg" "$pg_port"
as_postgres "$(pg_bindir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'catalog'" | grep -q 1 ||
  as_postgres "$(pg_bindir)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres catalog

# S3-compatible store with the demo bucket and feed.
install_s3rver
mkdir -p "$state/s3"
if port_in_use "$s3_port"; then
  log "using the S3 store already listening on 127.0.0.1:$s3_port ($(holder_of "$s3_port"))"
else
  log "starting s3rver on 127.0.0.1:$s3_port"
  node --openssl-legacy-provider "$root/tests/s3/node_modules/s3rver/bin/s3rver.js" -d "$state/s3" \
    -a 127.0.0.1 -p "$s3_port" --silent --no-vhost-buckets --configure-bucket catalog-raw >"$state/s3rver.log" 2>&1 &
  s3_pid=$!
  add_cleanup "kill $s3_pid 2>/dev/null; wait $s3_pid 2>/dev/null || true"
  wait_for_port "$s3_port" 30 || die "s3rver did not start (see $state/s3rver.log)"
fi
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
"$(s3_python)" - "$s3_port" "$root/tests/data/demo" <<'PY' ||
import sys, botocore.session
port, demo = sys.argv[1], sys.argv[2]
s3 = botocore.session.get_session().create_client(
    "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
    aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
for name, key in (("acme-feed.csv", "raw/partners/acme/acme-feed.csv"),
                  ("northwind-merchant.xml", "raw/partners/northwind/products.xml")):
    with open(f"{demo}/{name}", "rb") as f:
        s3.put_object(Bucket="catalog-raw", Key=key, Body=f.read())
PY
  die "uploading the demo feeds to 127.0.0.1:$s3_port failed: is LOCAL_S3_PORT held by something other than s3rver?"

export DATABASE_URL="host=127.0.0.1 port=$pg_port user=postgres dbname=catalog"
export S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_FORCE_PATH_STYLE=true S3_RAW_BUCKET=catalog-raw
export PORT=$port BIND_ADDRESS=$bind LOG_FORMAT=${LOG_FORMAT:-text}
auth=()
if [ -n "${API_TOKEN:-}" ]; then
  unset AUTH_DISABLED
  auth=(-H "Authorization: Bearer $API_TOKEN")
else
  export AUTH_DISABLED=1
fi
"$binary" serve &
api_pid=$!
add_cleanup "kill -TERM $api_pid 2>/dev/null; wait $api_pid 2>/dev/null || true"
healthy=0
for _ in $(seq 1 300); do
  kill -0 "$api_pid" 2>/dev/null || die "catalog-api exited during start-up (its log is above)"
  if curl -fsS --max-time 2 "$url/health" >/dev/null 2>&1; then
    healthy=1
    break
  fi
  sleep 0.1
done
[ "$healthy" = 1 ] || die "catalog-api did not answer $url/health within 30 s"
# The answer must have come from this server, not from another on the port.
holder=$(listener "$port")
kill -0 "$api_pid" 2>/dev/null && { [ -z "$holder" ] || [ "${holder%% *}" = "$api_pid" ]; } ||
  die "another program answers on port $port ($(holder_of "$port")); set PORT to a free port"

# The demo jobs are created once; a user's later changes to them are kept.
# `demo` reads our CSV; `demo-merchant` a Google Merchant XML feed (docs/formats.md).
create_demo_job() {  # create_demo_job ID JSON
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$url/jobs/$1" || true)
  case $code in
    200) log "$1 job exists (kept as it is)" ;;
    404)
      curl -fsS -o /dev/null -X PUT "${auth[@]}" "$url/jobs/$1" -H 'Content-Type: application/json' -d "$2" ||
        die "could not create the $1 job"
      log "created the $1 job"
      ;;
    *) log "warning: GET /jobs/$1 answered $code; the $1 job was not checked" ;;
  esac
}
create_demo_job demo '{"source":"acme","uri":"s3://catalog-raw/raw/partners/acme/acme-feed.csv"}'
create_demo_job demo-merchant \
  '{"source":"northwind","uri":"s3://catalog-raw/raw/partners/northwind/products.xml","options":{"profile":"google_merchant"}}'

case $bind in
  127.* | ::1 | localhost) ;;
  *)
    log "warning: listening on $bind:$port, reachable from other machines"
    [ -n "${API_TOKEN:-}" ] || log "warning: and without authentication (AUTH_DISABLED=1): set API_TOKEN"
    ;;
esac
log "catalog-api is up on $url (Ctrl-C to stop). Try:"
log "  curl -i $url/health"
log "  $url/docs in a browser (the API reference)"
log "  curl -s -X POST '$url/jobs/demo/run?wait=true&dry_run=true'   (a preview: nothing written)"
log "  curl -s $url/runs/<run_id>/changes   (what a run changed, or would)"
wait "$api_pid"
