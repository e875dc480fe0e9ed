#!/usr/bin/env bash
# GET /docs in a real browser: starts the catalog-api binary on a free loopback
# port against the test PostgreSQL (CATALOG_TEST_PG_DSN, from scripts/test.sh),
# loads /docs in headless Chromium (Debian's `chromium`) and checks that Swagger
# UI rendered the operations from /openapi.json with nothing blocked by the
# page's Content-Security-Policy, that "Try it out" gets 401 from this server
# until the token goes into the Authorize box and 200 after (try_it_out.js),
# then takes a screenshot and checks it is a real picture. Run by ctest (tests/CMakeLists.txt) with the binary as $1.
# Bounded: every step has its own time limit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/common.sh"

binary=${1:?usage: docs_ui_browser_test.sh CATALOG_API_BINARY [SCREENSHOT_OUT]}
screenshot_out=${2:-}
: "${CATALOG_TEST_PG_DSN:?is not set: run the tests through scripts/test.sh}"
chromium=${CATALOG_TEST_CHROMIUM:-chromium}
command -v "$chromium" >/dev/null 2>&1 || die "$chromium not found (scripts/install-deps.sh installs Debian's chromium)"
command -v psql >/dev/null 2>&1 || die "psql not found (Debian package postgresql-client)"
command -v node >/dev/null 2>&1 || die "node not found (scripts/install-deps.sh installs nodejs)"

work=$(mktemp -d /tmp/catalog-docs-ui.XXXXXX)
db="docs_ui_$$_${RANDOM}"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  psql "$CATALOG_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  if [ -f "$work/server.log" ]; then printf -- '--- server log (tail)\n' >&2; tail -n 20 "$work/server.log" >&2; fi
  exit 1
}

timeout 30 psql "$CATALOG_TEST_PG_DSN" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null ||
  fail "cannot create database $db"
dsn=$(python3 -c 'import re,sys; d=sys.argv[1]; n=sys.argv[2]
print(re.sub(r"dbname=\S+", "dbname="+n, d) if "dbname=" in d else d+" dbname="+n)' "$CATALOG_TEST_PG_DSN" "$db")

# A token is configured, as in production: /docs and its files must still load
# without one (they are public), while the protected operations show locks.
port=$(free_port)
token="docs-ui-test-token"
env -i PATH="$PATH" DATABASE_URL="$dsn" API_TOKEN="$token" PORT="$port" BIND_ADDRESS=127.0.0.1 \
  LOG_LEVEL=warn "$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null --max-time 2 "$base/health" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || fail "catalog-api exited during start-up"
  sleep 0.1
done
curl -fsS -o /dev/null --max-time 2 "$base/health" || fail "catalog-api not healthy on $base within 30 s"

# A fresh profile per run; no first-run, sync, update or other background
# traffic, and no host name resolves: only the server on 127.0.0.1 is reachable.
browser() {
  local profile
  profile=$(mktemp -d "$work/profile.XXXXXX")
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --disable-default-apps --no-default-browser-check --hide-scrollbars --user-data-dir="$profile" \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --enable-logging=stderr --v=0 --virtual-time-budget=15000 --window-size=1280,2400 "$@"
}

browser --dump-dom "$base/docs" >"$work/dom.html" 2>"$work/chromium.log" ||
  { cat "$work/chromium.log" >&2; fail "chromium --dump-dom failed"; }
dom=$(cat "$work/dom.html")
grep -q 'class="swagger-ui' <<<"$dom" || fail "Swagger UI did not mount: $(head -c 2000 "$work/dom.html")"
grep -qi 'Failed to load API definition' <<<"$dom" && fail "Swagger UI could not load /openapi.json"
# The document's title and the operations it describes, rendered by Swagger UI.
grep -q 'catalog-api' <<<"$dom" || fail "the API title is not on the page"
opblocks=$(grep -o 'class="opblock opblock-' <<<"$dom" | wc -l)
documented=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(sum(1 for p in d["paths"].values() for m in p if m in ("get","head","put","post","delete","patch","options","trace")))' \
  "$root/docs/openapi.json")
[ "$opblocks" -eq "$documented" ] || fail "rendered $opblocks operation blocks, docs/openapi.json has $documented operations"
for op in 'opblock-get.*data-path="/items"' 'opblock-post.*data-path="/items"' 'opblock-post.*data-path="/jobs/{id}/run"' \
          'opblock-get.*data-path="/products/{source}/{sku}"'; do
  grep -Eq "$op" <<<"$(tr '\n' ' ' <<<"$dom" | sed 's/<div class="opblock /\n&/g')" || fail "no operation block matching $op"
done
# The token box: an Authorize button, and locks on the protected operations.
grep -q 'class="btn authorize' <<<"$dom" || fail "no Authorize button"
grep -q 'authorization__btn' <<<"$dom" || fail "no lock icons on protected operations"
# Nothing refused by the Content-Security-Policy (which allows this origin
# only, so this also shows that nothing came from elsewhere) or failing to load.
if grep -E 'CONSOLE.*(Content Security Policy|Refused|Failed|Uncaught|[Ee]rror)' "$work/chromium.log" >&2; then
  fail "the browser reported errors loading /docs (above)"
fi

# "Try it out" and the Authorize box, clicked through as a person would.
timeout 120 node "$root/tests/docs/try_it_out.js" "$chromium" "$base" "$token" "$(mktemp -d "$work/profile.XXXXXX")" \
  >"$work/try_it_out.json" || { cat "$work/try_it_out.json" >&2; fail "Try it out against this server failed"; }

browser --screenshot="$work/docs.png" "$base/docs" >/dev/null 2>>"$work/chromium.log" ||
  { tail -n 20 "$work/chromium.log" >&2; fail "chromium --screenshot failed"; }
# A real picture: a PNG of the window's size whose pixels are not all alike
# (a blank or error page is a few KB of one colour).
python3 - "$work/docs.png" <<'EOF' || fail "the screenshot is not a rendered page"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1280, 2400), f"size {width}x{height}"
idat, pos = b"", 8
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + length]
    pos += 12 + length
raw = zlib.decompress(idat)
distinct = len(set(raw[i:i + 3] for i in range(0, len(raw), 997)))
assert len(data) > 40000 and distinct > 20, f"{len(data)} bytes, {distinct} distinct samples"
print(f"screenshot: {width}x{height}, {len(data)} bytes, {distinct} distinct samples")
EOF
if [ -n "$screenshot_out" ]; then cp "$work/docs.png" "$screenshot_out"; fi
echo "docs UI: $opblocks operations rendered, no CSP or load errors; Try it out: 401 without the token, 200 after Authorize"
