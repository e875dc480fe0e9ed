#!/usr/bin/env bash
# scripts/post-deploy-smoke.sh against a stand-in API (tests/deploy/fake_api.py)
# on a free loopback port: passes on a healthy service, and fails, naming the
# check, when the database is down, when auth is off, and when nothing listens.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
passed=0
failed=0
check() {  # NAME CONDITION-EXIT-STATUS
  if [ "$2" = 0 ]; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; sed 's/^/     | /' "$work/out"; failed=$((failed + 1)); fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {  # MODE -> sets $port
  port=$(free_port)
  python3 "$root/tests/deploy/fake_api.py" "$port" "$1" s3cret &
  pids+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/health/live" && return 0; sleep 0.1; done
  echo "fake API did not start"; exit 1
}

start good
bash "$root/scripts/post-deploy-smoke.sh" "http://127.0.0.1:$port/" s3cret >"$work/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^post-deploy smoke: 6 passed, 0 failed$' "$work/out"; check "healthy service: exit 0, 6 passed" $?

bash "$root/scripts/post-deploy-smoke.sh" "http://127.0.0.1:$port" wrong >"$work/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^FAIL GET /jobs with the token: status 401' "$work/out"; check "wrong token: exit 1, names the /jobs check" $?

start db_down
bash "$root/scripts/post-deploy-smoke.sh" "http://127.0.0.1:$port" s3cret >"$work/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^FAIL GET /health: status 503' "$work/out" && grep -q '^ok   GET /health/live' "$work/out"
check "database down: exit 1, /health fails, /health/live passes" $?

start no_auth
bash "$root/scripts/post-deploy-smoke.sh" "http://127.0.0.1:$port" s3cret >"$work/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^FAIL GET /jobs without token: status 200' "$work/out"; check "auth disabled: exit 1" $?

port=$(free_port)  # nothing listens there
SMOKE_TIMEOUT=2 bash "$root/scripts/post-deploy-smoke.sh" "http://127.0.0.1:$port" s3cret >"$work/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q '^post-deploy smoke: 0 passed, 6 failed$' "$work/out"; check "nothing listening: exit 1, all 6 fail" $?

bash "$root/scripts/post-deploy-smoke.sh" >"$work/out" 2>&1; rc=$?
[ $rc = 2 ]; check "no arguments: usage, exit 2" $?

echo "post-deploy smoke tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
