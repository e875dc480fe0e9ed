#!/usr/bin/env bash
# Post-deploy smoke test of a running catalog-api, from anywhere that can reach
# it (an operator's shell after a first deploy, or after anything unusual):
#
#   bash scripts/post-deploy-smoke.sh https://api.example.com "$TOKEN"
#
# Checks, one `ok`/`FAIL` line each:
#   GET /health/live         200 (the process serves HTTP; what the ALB checks)
#   GET /health              200 {"status":"healthy","database":"connected"}
#   GET /products?limit=1    200 JSON with an `items` array
#   GET /openapi.json        200, an OpenAPI 3 document
#   GET /jobs                401 without the token (auth is on), 200 with it
# Writes nothing. Needs curl and python3. Exit 0 if all pass, 1 otherwise,
# 2 on usage. SMOKE_TIMEOUT (seconds per request, default 10).
set -uo pipefail

if [ $# -ne 2 ] || [ -z "$1" ]; then
  echo "usage: $0 <base url, e.g. https://catalog.example.com> <API token>" >&2
  exit 2
fi
base=${1%/}
token=$2
timeout=${SMOKE_TIMEOUT:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# get NAME PATH WANT_STATUS [curl args...] -> body in $work/body, status in $status
get() {
  local path=$1; shift
  status=$(curl -sS -o "$work/body" -w '%{http_code}' --max-time "$timeout" "$@" "$base$path" 2>"$work/err") || status="000 ($(tr '\n' ' ' <"$work/err"))"
}

snippet() { head -c 300 "$work/body" | tr '\n' ' '; }

# json_check EXPR: python expression on `d` (the parsed body) that must be true.
json_check() {
  python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit("not JSON: %s" % e)
sys.exit(0 if eval(sys.argv[2]) else "unexpected body")' "$work/body" "$1" 2>&1
}

echo "post-deploy smoke test of $base"

get /health/live
if [ "$status" = 200 ]; then ok "GET /health/live -> 200"; else fail "GET /health/live" "status $status, want 200: $(snippet)"; fi

get /health
if [ "$status" = 200 ] && msg=$(json_check 'd.get("status") == "healthy" and d.get("database") == "connected"'); then
  ok "GET /health -> 200, database connected"
else
  fail "GET /health" "status $status, want 200 healthy/connected: $(snippet) ${msg:-}"
fi

get '/products?limit=1' -H "Authorization: Bearer $token"
if [ "$status" = 200 ] && msg=$(json_check 'isinstance(d.get("items"), list)'); then
  ok "GET /products?limit=1 -> 200 with items"
else
  fail "GET /products?limit=1" "status $status, want 200 with an items array: $(snippet) ${msg:-}"
fi

get /openapi.json
if [ "$status" = 200 ] && msg=$(json_check 'str(d.get("openapi", "")).startswith("3") and "/products" in d.get("paths", {})'); then
  ok "GET /openapi.json -> 200, OpenAPI 3 document"
else
  fail "GET /openapi.json" "status $status, want 200 with an OpenAPI 3 document: $(snippet) ${msg:-}"
fi

get /jobs
if [ "$status" = 401 ]; then ok "GET /jobs without token -> 401"; else fail "GET /jobs without token" "status $status, want 401 (is auth disabled?)"; fi

get /jobs -H "Authorization: Bearer $token"
if [ "$status" = 200 ]; then ok "GET /jobs with the token -> 200"; else fail "GET /jobs with the token" "status $status, want 200 (wrong token?): $(snippet)"; fi

echo "post-deploy smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
