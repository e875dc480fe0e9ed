#!/usr/bin/env bash
# The quick start, as a newcomer runs it: scripts/run-local.sh against a
# scratch state directory on free loopback ports, with this build's binary
# (CATALOG_API_BINARY, so no second build). Checks that
#   - catalog-api listens on 127.0.0.1:PORT only, and the demo job answers;
#   - a second start while the first runs says "already running", exits 0 and
#     never claims "is up";
#   - SIGTERM to its process group (what Ctrl-C does) leaves nothing running;
#   - a user's change to the demo job (max_rejects) survives a restart;
#   - README's demo sequence: 50 inserted, then skipped, then (forced) 50
#     unchanged;
#   - another program holding the port: it is named and the script exits 1.
# Usage: run_local_test.sh CATALOG_API_BINARY   (registered in tests/CMakeLists.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/postgres.sh"
binary=${1:?usage: run_local_test.sh CATALOG_API_BINARY}

work=$(mktemp -d /tmp/run-local-test.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as `postgres` under it
state=$work/state
port=$(free_port)
pg_port=$(free_port)
s3_port=$(free_port)
for p in "$port" "$pg_port" "$s3_port"; do [ "$p" != 8000 ] || { echo "free_port gave 8000; retry"; exit 1; }; done
export PORT=$port LOCAL_PG_PORT=$pg_port LOCAL_S3_PORT=$s3_port LOCAL_STATE_DIR=$state CATALOG_API_BINARY=$binary
unset BIND_ADDRESS API_TOKEN AUTH_DISABLED
url=http://127.0.0.1:$port

script_pid=""
finish() {
  local rc=$?
  if [ -n "$script_pid" ] && kill -0 "$script_pid" 2>/dev/null; then
    kill -TERM -- "-$script_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$script_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$script_pid" 2>/dev/null || true
  fi
  stop_postgres "$state/pg"
  if [ "$rc" != 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$work"
}
trap finish EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start LOG: run-local.sh in its own process group (as a terminal would);
# waits until it says "is up" (at most 120 s).
start() {
  local log=$1 i
  setsid bash "$root/scripts/run-local.sh" >"$log" 2>&1 &
  script_pid=$!
  for ((i = 0; i < 240; i++)); do
    grep -q "catalog-api is up on $url" "$log" && break
    kill -0 "$script_pid" 2>/dev/null || fail "run-local.sh exited before it was up (log: $log)"
    sleep 0.5
  done
  grep -q "catalog-api is up on $url" "$log" || fail "run-local.sh was not up within 120 s"
  [ "$(ps -o pgid= -p "$script_pid" | tr -d ' ')" = "$script_pid" ] || fail "run-local.sh does not lead its process group"
}

# stop: SIGTERM to the process group, as Ctrl-C signals the foreground group;
# then nothing of the quick start may be left.
stop() {
  local rc=0 i
  kill -TERM -- "-$script_pid"
  for ((i = 0; i < 600; i++)); do kill -0 "$script_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$script_pid" 2>/dev/null && fail "run-local.sh still running 60 s after SIGTERM"
  wait "$script_pid" || rc=$?
  script_pid=""
  [ "$rc" = 143 ] || fail "run-local.sh exited $rc after SIGTERM, expected 143"
  local left
  left=$(ps -eo pid=,args= | grep -F "$work" | grep -v grep || true)
  [ -z "$left" ] || fail "still running after the stop: $left"
  for p in "$port" "$pg_port" "$s3_port"; do
    [ -z "$(ss -Hltn "sport = :$p")" ] || fail "port $p still listening after the stop: $(ss -Hltnp "sport = :$p")"
  done
  [ ! -e "$state/run-local.pid" ] || fail "run-local.pid left behind"
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

# 0. Another program holds the port: named, exit 1, nothing started.
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$port" &
holder=$!
for _ in $(seq 100); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.1; done
rc=0
timeout 60 bash "$root/scripts/run-local.sh" >"$work/held.log" 2>&1 || rc=$?
kill "$holder"; wait "$holder" 2>/dev/null || true
[ "$rc" = 1 ] || fail "with the port held by another program run-local.sh exited $rc, expected 1: $(cat "$work/held.log")"
grep -q "port $port is in use by another program (.*python3" "$work/held.log" ||
  fail "run-local.sh did not name the program holding the port: $(cat "$work/held.log")"
[ ! -d "$state/pg" ] || fail "run-local.sh started PostgreSQL although the port was taken"

# 1. First start: loopback only, demo job created.
start "$work/first.log"
listening=$(ss -Hltn "sport = :$port" | awk '{print $4}')
[ -n "$listening" ] || fail "nothing listens on port $port"
[ "$listening" = "127.0.0.1:$port" ] || fail "listens on '$listening', expected 127.0.0.1:$port only"
grep -q "created the demo job" "$work/first.log" || fail "first start did not say it created the demo job"
[ "$(http_code "$url/jobs/demo")" = 200 ] || fail "GET /jobs/demo is not 200"
# The Google Merchant XML demo feed loads as the README shows.
merchant=$(curl -s --max-time 60 -X POST "$url/jobs/demo-merchant/run?wait=true")
grep -q '"inserted":5' <<<"$merchant" || fail "the demo-merchant run did not insert its 5 items: $merchant"

# 1b. README's demo sequence, as written there.
demo_run() {  # demo_run QUERY PYTHON-CONDITION-ON-d
  local body
  body=$(curl -s --max-time 120 -X POST "$url/jobs/demo/run?wait=true$1")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$body" "$2" ||
    fail "POST /jobs/demo/run?wait=true$1: want $2, got $body"
}
demo_run "" 'd["status"] == "succeeded" and d["counts"]["inserted"] == 50'
demo_run "" 'd["status"] == "skipped"'
demo_run "&force=true" 'd["status"] == "succeeded" and d["counts"]["unchanged"] == 50 and d["counts"]["inserted"] == 0 and d["counts"]["updated"] == 0'
# README's preview: a dry run of the same feed, then of an uploaded update,
# whose change list names what would change while products stay as they were.
demo_run "&dry_run=true" 'd["status"] == "succeeded" and d["dry_run"] and d["counts"]["unchanged"] == 50'
upload=$(curl -s --max-time 60 -X POST "$url/feeds?job=demo&dry_run=true" -H 'Content-Type: text/csv' \
  --data-binary @"$root/tests/data/demo/acme-feed-update.csv")
run_id=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["dry_run"]; print(d["run_id"])' "$upload") ||
  fail "POST /feeds?job=demo&dry_run=true: want a queued dry run, got $upload"
for _ in $(seq 1 120); do
  curl -s --max-time 10 "$url/runs/$run_id" | grep -qE '"status":"(queued|running)"' || break
  sleep 0.5
done
changes=$(curl -s --max-time 10 "$url/runs/$run_id/changes")
python3 - "$changes" <<'PY' || fail "GET /runs/$run_id/changes: want ACME-0002's price, ACME-0003's availability, ACME-0051 new; got $changes"
import json, sys
d = json.loads(sys.argv[1])
by = {i["sku"]: i for i in d["items"]}
assert d["dry_run"] and set(by) == {"ACME-0002", "ACME-0003", "ACME-0051"}, by
assert by["ACME-0002"]["fields"] == {"price": {"before": "386.46", "after": "399.00"}}, by
assert by["ACME-0003"]["fields"]["availability"]["after"] == "out_of_stock", by
assert by["ACME-0051"]["kind"] == "inserted", by
PY
curl -s --max-time 10 "$url/products/acme/ACME-0002" | grep -q '"price":"386.46"' ||
  fail "the dry run changed ACME-0002: $(curl -s "$url/products/acme/ACME-0002")"

# 2. The user changes the demo job.
[ "$(http_code -X PUT "$url/jobs/demo" -H 'Content-Type: application/json' \
  -d '{"source":"acme","uri":"s3://catalog-raw/raw/partners/acme/acme-feed.csv","options":{"max_rejects":7}}')" = 200 ] ||
  fail "PUT /jobs/demo with max_rejects did not answer 200"

# 3. A second start while the first runs.
rc=0
timeout 60 bash "$root/scripts/run-local.sh" >"$work/second.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "second start exited $rc, expected 0"
grep -q "catalog-api is already running on $url (pid [0-9]*, catalog-api)" "$work/second.log" ||
  fail "second start did not say plainly that catalog-api is already running: $(cat "$work/second.log")"
grep -q "is up" "$work/second.log" && fail "second start claimed 'is up'"
grep -qi "address already in use" "$work/second.log" && fail "second start tried to bind"
[ "$(http_code "$url/health")" = 200 ] || fail "the first instance stopped answering after the second start"

# 4. Stop, restart: the change survives and the job is not re-created.
stop
start "$work/restart.log"
grep -q "demo job exists" "$work/restart.log" || fail "restart did not find the existing demo job"
grep -q "created the demo job" "$work/restart.log" && fail "restart re-created the demo job"
curl -s --max-time 10 "$url/jobs/demo" | grep -q '"max_rejects":7' ||
  fail "the user's max_rejects did not survive a restart: $(curl -s "$url/jobs/demo")"
stop
echo "run-local.sh: port held -> exit 1, loopback bind, demo sequence, dry run and its changes, kept demo job, plain second start, clean stop: ok"
