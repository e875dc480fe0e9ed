#!/usr/bin/env bash
# One command for every benchmark of catalog-api (see docs/performance.md):
# installs the tools (Debian packages), builds Release, starts a throw-away
# PostgreSQL with a generated catalog, runs catalog-api, the FastAPI +
# SQLAlchemy baseline and nginx side by side under wrk, runs the Google
# Benchmark micro benches and any ETL benchmarks in bench/etl/*.sh, prints a
# table with ratios and PASS/MISS, and writes bench/results/<timestamp>.json.
#
#   scripts/bench.sh [--quick] [--profile] [--no-install] [--no-build]
#                    [--only http|micro|etl]... [--rev REV] [--rows N]
#
#   --quick       development run (~2 min): 100k products, 1 s warm-up + 3 s runs
#   --profile     also profile catalog-api on GET /health (perf if hardware
#                 counters work, else callgrind) into bench/results/
#   --no-install  skip apt-get (tools must already be there)
#   --no-build    reuse build-bench/ as it is
#   --only PART   run only some parts (repeatable): http, micro, etl
#   --rev REV     benchmark a committed revision (e.g. HEAD) instead of the
#                 working tree: built from a clean git worktree in
#                 build-bench-src/ into build-bench-rev/ (useful while others
#                 have half-finished edits in src/)
#   --rows N      ETL feed size instead of the default 100k (+1M in full mode);
#                 N above 1M also runs 1M first, to report the re-run and
#                 1%-changed times against N/1M x the 1M figures (linear:
#                 <= 1.2x) and peak RSS (<= 256 MiB). Large sizes run the
#                 catalog-api cases and \copy only (no SQL pipeline, no 10%
#                 change); e.g. --only etl --rows 10000000 (1 GB of CSV; allow
#                 an hour and ~8 GB of disk). Not part of the default run.
#
# Environment knobs: BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_DURATION / BENCH_WARMUP (seconds), BENCH_ROWS (products),
# BENCH_BUILD_DIR (build-bench).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/common.sh
source scripts/lib/postgres.sh
source scripts/lib/s3.sh

QUICK=0 PROFILE=0 INSTALL=1 BUILD=1 ONLY=() REV= ETL_ROWS=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --profile) PROFILE=1 ;;
    --no-install) INSTALL=0 ;;
    --no-build) BUILD=0 ;;
    --rev) shift; [ $# -gt 0 ] || die "--rev needs a revision"; REV=$1 ;;
    --rows) shift; [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || die "--rows needs a positive row count"; ETL_ROWS=$1 ;;
    --only) shift; [ $# -gt 0 ] || die "--only needs http, micro or etl"; ONLY+=("$1") ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done
want() { [ ${#ONLY[@]} -eq 0 ] && return 0; local p; for p in "${ONLY[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

if [ $QUICK = 1 ]; then
  ROWS=${BENCH_ROWS:-100000} DURATION=${BENCH_DURATION:-3} WARMUP=${BENCH_WARMUP:-1} MODE=quick
else
  ROWS=${BENCH_ROWS:-1000000} DURATION=${BENCH_DURATION:-10} WARMUP=${BENCH_WARMUP:-3} MODE=full
fi
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
SRC=$ROOT
if [ -n "$REV" ]; then
  SRC=$ROOT/build-bench-src
  BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build-bench-rev}
  REV_SHA=$(git rev-parse --verify "$REV^{commit}") || die "unknown revision: $REV"
  if [ ! -e "$SRC/.git" ]; then git worktree add --detach --force "$SRC" "$REV_SHA" >/dev/null
  else git -C "$SRC" checkout --detach --force -q "$REV_SHA"; fi
fi
PY=/usr/bin/python3   # Debian's python: the baseline uses Debian's FastAPI stack
STARTED=$(date +%s)
LOADAVG_START=$(cut -d" " -f1-3 /proc/loadavg)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)

# ---------------------------------------------------------------- tools
if [ $INSTALL = 1 ]; then
  log "installing tools (idempotent)"
  bash scripts/install-deps.sh
  tools=(wrk python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-sqlalchemy
         python3-psycopg2 util-linux valgrind)
  if ! dpkg-query -W -f='${Status}' nginx-light 2>/dev/null | grep -q "install ok installed" &&
     ! dpkg-query -W -f='${Status}' nginx 2>/dev/null | grep -q "install ok installed"; then
    if apt-cache show nginx-light >/dev/null 2>&1; then tools+=(nginx-light); else tools+=(nginx); fi
  fi
  missing=()
  for p in "${tools[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    log "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
for t in wrk nginx curl; do command -v $t >/dev/null || die "$t not found (run without --no-install)"; done
[ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx || NGINX=$(command -v nginx)

# ---------------------------------------------------------------- build
if [ $BUILD = 1 ]; then
  log "building Release in $BUILD_DIR"
  cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCATALOG_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR"
fi
[ -x "$BUILD_DIR/catalog-api" ] || die "$BUILD_DIR/catalog-api missing (build failed?)"

# ---------------------------------------------------------------- CPU pinning
# Two cores: the system under test (server + PostgreSQL) on CPU 0, wrk on
# CPU 1. More cores: first half vs second half. One core: no pinning.
NCPU=$(nproc)
if command -v taskset >/dev/null && [ "$NCPU" -ge 2 ]; then
  half=$((NCPU / 2))
  SERVER_CPUS=$([ $half -eq 1 ] && echo 0 || echo "0-$((half - 1))")
  CLIENT_CPUS=$([ $((NCPU - half)) -eq 1 ] && echo $half || echo "$half-$((NCPU - 1))")
  PIN_SERVER=(taskset -c "$SERVER_CPUS")
  PIN_CLIENT=(taskset -c "$CLIENT_CPUS")
  PINNING="server + PostgreSQL on CPU $SERVER_CPUS, wrk on CPU $CLIENT_CPUS (taskset)"
else
  SERVER_CPUS="" CLIENT_CPUS="" PIN_SERVER=() PIN_CLIENT=()
  PINNING="not pinned ($NCPU CPU)"
fi

# ---------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d /tmp/catalog-bench.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/http" "$WORK/micro" "$WORK/etl" "$WORK/logs" bench/results
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM
add_cleanup "rm -rf '$WORK'"

# Stops a process group we started with setsid: TERM, up to 15 s, then KILL.
stop_group() {
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
# CPU seconds (user + system, in clock ticks) used so far by a list of pids.
cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + ${f% *} + ${f#* }))
  done
  echo $total
}
group_pids() { pgrep -g "$1" 2>/dev/null | tr '\n' ' '; }
HZ=$(getconf CLK_TCK)

PGPORT=$(free_port)
PGDIR="$WORK/pg/data"   # start_postgres writes $PGDIR.log as postgres: the parent must be theirs
mkdir -p "$WORK/pg"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$WORK/pg"; fi
log "starting PostgreSQL on 127.0.0.1:$PGPORT"
start_postgres "$PGDIR" "$PGPORT"
add_cleanup "stop_postgres '$PGDIR'"
PGPID=$(head -n 1 "$PGDIR/postmaster.pid")
pin_postgres() {  # backends inherit the postmaster's affinity; pin the running ones too
  [ -n "$SERVER_CPUS" ] || return 0
  local pid
  for pid in $PGPID $(pgrep -P "$PGPID"); do taskset -a -cp "$SERVER_CPUS" "$pid" >/dev/null 2>&1 || true; done
}
pin_postgres
unpin_postgres() {
  [ -n "$SERVER_CPUS" ] || return 0
  local pid
  for pid in $PGPID $(pgrep -P "$PGPID"); do taskset -a -cp "0-$((NCPU - 1))" "$pid" >/dev/null 2>&1 || true; done
}
pg_pids() { echo "$PGPID $(pgrep -P "$PGPID" | tr '\n' ' ')"; }
PSQL=("$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
DSN="host=127.0.0.1 port=$PGPORT user=postgres dbname=bench"

# Environment every bench/etl/*.sh script gets (the hook for the ETL benchmarks).
export BENCH_MODE=$MODE BENCH_QUICK=$QUICK BENCH_ROOT=$ROOT BENCH_BUILD_DIR=$BUILD_DIR \
  BENCH_PGPORT=$PGPORT BENCH_PGDIR=$PGDIR BENCH_DSN=$DSN BENCH_WORK=$WORK \
  BENCH_SERVER_CPUS=$SERVER_CPUS BENCH_CLIENT_CPUS=$CLIENT_CPUS BENCH_ETL_SIZE=$ETL_ROWS

# ---------------------------------------------------------------- HTTP
CATALOG_PID="" FASTAPI_PID="" NGINX_PID=""
start_catalog() {  # start_catalog PORT LOGFILE [wrapper...]
  local port=$1 logf=$2; shift 2
  setsid env -i PATH="$PATH" DATABASE_URL="$DSN" AUTH_DISABLED=1 PORT="$port" BIND_ADDRESS=127.0.0.1 \
    LOG_LEVEL=warn HTTP_THREADS=1 DB_POOL_SIZE=8 JOB_WORKERS="${JOB_WORKERS:-1}" \
    "${PIN_SERVER[@]}" "$@" "$BUILD_DIR/catalog-api" serve >"$logf" 2>&1 &
  echo $!
}
wait_health() {  # wait_health PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# One wrk measurement: run_wrk ROUTE TARGET PORT METHOD PATH [BODY] [PRODUCT_KEYS] [SERVER_PGID] [IF_NONE_MATCH] [PATHS_FILE]
run_wrk() {
  local route=$1 target=$2 port=$3 method=$4 path=$5 body=${6:-} keys=${7:-} pgid=${8:-} inm=${9:-} paths=${10:-}
  local base="$WORK/http/$route.$target" url="http://127.0.0.1:$port$path" code check_path=$path
  [ -n "$keys" ] && check_path=/products/acme/SKU-00000004
  [ -n "$paths" ] && check_path=$(head -n 1 "$paths")
  # Precheck: the route answers 2xx (wrk itself only counts >= 400 as errors).
  if [ "$method" = POST ]; then
    code=$(curl -s -o "$base.precheck" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      --data "$body" --max-time 10 "http://127.0.0.1:$port$check_path" || true)
  else
    code=$(curl -s -o "$base.precheck" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port$check_path" || true)
  fi
  printf '{"route":"%s","target":"%s","method":"%s","path":"%s","precheck_status":"%s"' \
    "$route" "$target" "$method" "$path" "$code" >"$base.meta"
  if [ "$target" = catalog-api ] && { [ "$code" = 404 ] || [ "$code" = 405 ]; }; then
    printf ',"available":false}\n' >>"$base.meta"
    log "$method $path on $target: not available ($code)"
    return 0
  fi
  local envs=(WRK_METHOD="$method")
  [ -n "$body" ] && envs+=(WRK_BODY="$body")
  [ -n "$keys" ] && envs+=(WRK_PRODUCT_KEYS="$keys")
  [ -n "$inm" ] && envs+=(WRK_IF_NONE_MATCH="$inm")
  [ -n "$paths" ] && envs+=(WRK_PATHS="$paths")
  local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" --timeout 10s --latency -s bench/wrk/bench.lua)
  log "$method $path on $target: warm-up ${WARMUP}s, measure ${DURATION}s"
  env "${envs[@]}" "${PIN_CLIENT[@]}" "${wrk[@]}" -d"${WARMUP}s" "$url" >"$base.warmup.txt" 2>&1 || true
  local spids dpids s0 d0 s1 d1
  spids=$([ -n "$pgid" ] && group_pids "$pgid")
  dpids=$(pg_pids)
  s0=$(cpu_ticks $spids) d0=$(cpu_ticks $dpids)
  env "${envs[@]}" WRK_JSON="$base.wrk.json" "${PIN_CLIENT[@]}" "${wrk[@]}" -d"${DURATION}s" "$url" \
    >"$base.wrk.txt" 2>&1 || true
  s1=$(cpu_ticks $spids) d1=$(cpu_ticks $dpids)
  printf ',"available":true,"server_cpu_s":%s,"db_cpu_s":%s}\n' \
    "$(awk "BEGIN{print ($s1-$s0)/$HZ}")" "$(awk "BEGIN{print ($d1-$d0)/$HZ}")" >>"$base.meta"
}

# CPU ticks of PostgreSQL including backends that have exited since (the
# postmaster's cutime + cstime): pgbench's connections come and go within
# one measurement, unlike the servers' pooled ones.
pg_all_ticks() {
  local f
  f=$(cut -d' ' -f16,17 "/proc/$PGPID/stat" 2>/dev/null) || f="0 0"
  echo $(($(cpu_ticks $(pg_pids)) + ${f% *} + ${f#* }))
}
# The reference of a list route: its rows selected as plain columns by
# pgbench (LIMIT 101: the server asks for one row more than the page), 8
# connections like DB_POOL_SIZE, prepared, PostgreSQL pinned as for the
# servers and pgbench on the load generator's CPU. Written in the shape of
# run_wrk's outputs (target "pgbench"; no latency percentiles).
# run_pgbench ROUTE SQL
# run_pgbench ROUTE SQL [PGOPTIONS]
run_pgbench() {
  local route=$1 sql=$2 base="$WORK/http/$1.pgbench" d0 d1 tps
  printf '%s\n' "$sql" >"$base.sql"
  printf '{"route":"%s","target":"pgbench","method":"SQL","path":"plain columns","precheck_status":"200"' \
    "$route" >"$base.meta"
  local pgb=(env PGOPTIONS="${3:-}" "$(pg_bindir)/pgbench" -n -M prepared -c 8 -j 1 -h 127.0.0.1 -p "$PGPORT"
             -U postgres -f "$base.sql" bench)
  log "pgbench reference of $route: warm-up ${WARMUP}s, measure ${DURATION}s"
  "${PIN_CLIENT[@]}" "${pgb[@]}" -T "$WARMUP" >"$base.warmup.txt" 2>&1 || true
  d0=$(pg_all_ticks)
  "${PIN_CLIENT[@]}" "${pgb[@]}" -T "$DURATION" >"$base.txt" 2>&1 || true
  sleep 0.5  # pgbench's backends exit and are reaped: their time moves into the postmaster's cutime
  d1=$(pg_all_ticks)
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$base.txt" | tail -n 1)
  if [ -z "$tps" ]; then
    printf ',"available":true}\n' >>"$base.meta"
    log "pgbench reference of $route failed: $(tail -n 3 "$base.txt" | tr '\n' ' ')"
    return 0
  fi
  printf ',"available":true,"db_cpu_s":%s}\n' "$(awk "BEGIN{print ($d1-$d0)/$HZ}")" >>"$base.meta"
  printf '{"requests":%d,"duration_us":%d,"bytes":0,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latency_us":{"p50":null,"p90":null,"p99":null,"max":null,"mean":null}}\n' \
    "$(awk "BEGIN{printf \"%d\", $tps * $DURATION}")" "$((DURATION * 1000000))" >"$base.wrk.json"
}
# collect_pages PORT products|items COUNT OUT: real page paths, found by
# following next_cursor (products) or the Link header (items) from the first
# page; prints how many.
collect_pages() {
  "$PY" - "$@" <<'PY'
import json, sys, urllib.parse, urllib.request
port, kind, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
path, paths = "/%s?limit=100" % kind, []
while path and len(paths) < count:
    paths.append(path)
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=30) as r:
        body, link = r.read(), r.headers.get("Link")
    if kind == "products":
        cursor = json.loads(body).get("next_cursor")
        path = "/products?limit=100&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else None
    else:
        path = link.split(">")[0].lstrip("<") if link else None
with open(out, "w") as f:
    f.write("\n".join(paths) + "\n")
print(len(paths))
PY
}
PLAIN_PRODUCT="p.source, p.sku, p.name, p.description, p.brand, p.category, p.price, p.currency, p.availability, p.attributes, p.created_at, p.updated_at, p.deleted_at, p.last_run_id"

if want http; then
  CATALOG_PORT=$(free_port)
  log "starting catalog-api on 127.0.0.1:$CATALOG_PORT (HTTP_THREADS=1, DB_POOL_SIZE=8)"
  CATALOG_PID=$(start_catalog "$CATALOG_PORT" "$WORK/logs/catalog-api.log")
  add_cleanup "stop_group $CATALOG_PID"
  wait_health "$CATALOG_PORT" 60 || { tail -n 20 "$WORK/logs/catalog-api.log" >&2; die "catalog-api did not become healthy"; }
  pin_postgres

  log "generating $ROWS products and 10000 items"
  load_start=$(date +%s.%N)
  "${PSQL[@]}" -d bench <<SQL
SELECT products_ensure_partition(s) FROM unnest(ARRAY['acme','globex','initech','umbrella']) AS s;
INSERT INTO products (source, sku, name, description, brand, category, price, currency, availability,
                      attributes, content_hash, created_at, updated_at)
SELECT (ARRAY['acme','globex','initech','umbrella'])[i % 4 + 1],
       'SKU-' || lpad(i::text, 8, '0'),
       (ARRAY['Cordless Drill','Garden Hose','Chef Knife','Puzzle Cube','USB-C Charger','Paperback Novel',
              'Yoga Mat','Desk Lamp'])[i % 8 + 1] || ' ' || (i % 997) || ' – Édition ' || (i % 13),
       'A durable, well-made product (#' || i || ') for everyday use. Ships in 2–3 days.',
       'Brand ' || (i % 211),
       (ARRAY['tools','garden','kitchen','toys','electronics','books','sports','office'])[i % 8 + 1],
       ((i::bigint * 7919) % 100000) / 100.0 + 1,
       (ARRAY['USD','EUR','GBP'])[i % 3 + 1],
       (ARRAY['in_stock','out_of_stock','preorder'])[i % 3 + 1],
       jsonb_build_object('color', (ARRAY['red','green','blue','black'])[i % 4 + 1], 'weight_g', i % 5000),
       hashtextextended(i::text, 0),
       now() - make_interval(secs => i), now() - make_interval(secs => i / 2)
FROM generate_series(1, $ROWS) AS i;
INSERT INTO items (id, name, description, created_at)
SELECT gen_random_uuid(), 'item ' || i, 'seeded item number ' || i, now() - make_interval(secs => i)
FROM generate_series(1, 10000) AS i;
VACUUM (ANALYZE) products;
VACUUM (ANALYZE) items;
CHECKPOINT;
SQL
  LOAD_SECONDS=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $load_start}")
  log "data loaded in ${LOAD_SECONDS}s"

  FASTAPI_PORT=$(free_port)
  log "starting FastAPI baseline (uvicorn --workers 2) on 127.0.0.1:$FASTAPI_PORT"
  setsid env BENCH_DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:$PGPORT/bench" \
    "${PIN_SERVER[@]}" $PY -m uvicorn app:app --app-dir bench/baselines/fastapi --host 127.0.0.1 \
    --port "$FASTAPI_PORT" --workers 2 --no-access-log --log-level warning >"$WORK/logs/fastapi.log" 2>&1 &
  FASTAPI_PID=$!
  add_cleanup "stop_group $FASTAPI_PID"
  wait_health "$FASTAPI_PORT" 60 || { tail -n 20 "$WORK/logs/fastapi.log" >&2; die "FastAPI baseline did not start"; }

  NGINX_PORT=$(free_port)
  mkdir -p "$WORK/nginx"
  sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" bench/baselines/nginx/nginx.conf.in >"$WORK/nginx/nginx.conf"
  log "starting nginx on 127.0.0.1:$NGINX_PORT"
  setsid "${PIN_SERVER[@]}" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" \
    -g "error_log $WORK/nginx/error.log warn;" >"$WORK/logs/nginx.log" 2>&1 &
  NGINX_PID=$!
  add_cleanup "stop_group $NGINX_PID"
  wait_health "$NGINX_PORT" 20 || { cat "$WORK/logs/nginx.log" "$WORK/nginx/error.log" >&2 || true; die "nginx did not start"; }
  pin_postgres

  ITEM_BODY='{"name":"bench item","description":"written by wrk"}'
  run_wrk health catalog-api "$CATALOG_PORT" GET /health "" "" "$CATALOG_PID"
  run_wrk health fastapi "$FASTAPI_PORT" GET /health "" "" "$FASTAPI_PID"
  run_wrk health nginx "$NGINX_PORT" GET /health "" "" "$NGINX_PID"
  run_wrk items_list catalog-api "$CATALOG_PORT" GET '/items?limit=100' "" "" "$CATALOG_PID"
  run_wrk items_list fastapi "$FASTAPI_PORT" GET '/items?limit=100' "" "" "$FASTAPI_PID"
  run_wrk products_list catalog-api "$CATALOG_PORT" GET '/products?limit=100' "" "" "$CATALOG_PID"
  run_wrk products_list fastapi "$FASTAPI_PORT" GET '/products?limit=100' "" "" "$FASTAPI_PID"
  for sorted in "products_filter&brand=Brand%207" "products_sort_name&sort_by=name" \
                "products_sort_price&sort_by=price&order=desc" "products_sort_updated&sort_by=updated_at&order=desc"; do
    run_wrk "${sorted%%&*}" catalog-api "$CATALOG_PORT" GET "/products?limit=100&${sorted#*&}" "" "" "$CATALOG_PID"
  done
  # A client revalidating an unchanged page: If-None-Match with the page's ETag.
  PAGE_ETAG=$(curl -s -D - -o /dev/null "http://127.0.0.1:$CATALOG_PORT/products?limit=100" |
    sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^[:space:]]*\).*/\1/p')
  if [ -n "$PAGE_ETAG" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $PAGE_ETAG" \
       "http://127.0.0.1:$CATALOG_PORT/products?limit=100")" = 304 ]; then
    run_wrk products_304 catalog-api "$CATALOG_PORT" GET '/products?limit=100' "" "" "$CATALOG_PID" "$PAGE_ETAG"
  else
    log "GET /products answered no ETag or no 304 to it: no revalidation figure"
  fi
  run_wrk product_get catalog-api "$CATALOG_PORT" GET '/products/{source}/{sku}' "" "$ROWS" "$CATALOG_PID"
  run_wrk product_get fastapi "$FASTAPI_PORT" GET '/products/{source}/{sku}' "" "$ROWS" "$FASTAPI_PID"
  # Pages that are not the same page twice (issue 22): real cursors, asked in
  # random order, as sync jobs page through a catalogue. They are measured on
  # a second instance with RESPONSE_CACHE_BYTES=0, so every page is computed
  # (a client paging through asks each page once per version anyway).
  PRODUCT_PAGES=$(collect_pages "$CATALOG_PORT" products 1000 "$WORK/http/products.paths" || echo 0)
  ITEM_PAGES=$(collect_pages "$CATALOG_PORT" items 200 "$WORK/http/items.paths" || echo 0)
  log "collected $PRODUCT_PAGES /products and $ITEM_PAGES /items page paths"
  UNCACHED_PORT=$(free_port)
  UNCACHED_PID=$(start_catalog "$UNCACHED_PORT" "$WORK/logs/catalog-api-uncached.log" env RESPONSE_CACHE_BYTES=0)
  add_cleanup "stop_group $UNCACHED_PID"
  if wait_health "$UNCACHED_PORT" 60; then
    run_wrk products_pages catalog-api "$UNCACHED_PORT" GET /products "" "" "$UNCACHED_PID" "" "$WORK/http/products.paths"
    run_wrk items_pages catalog-api "$UNCACHED_PORT" GET /items "" "" "$UNCACHED_PID" "" "$WORK/http/items.paths"
  else
    log "catalog-api without the response cache did not start: no varied-pages figures"
  fi
  stop_group "$UNCACHED_PID"
  # The plain-column references, run while the servers sit idle (before
  # POST /items adds rows to the items page).
  run_pgbench items_list "SELECT id, name, description, created_at FROM items ORDER BY created_at DESC, id DESC LIMIT 101;"
  run_pgbench products_list "SELECT $PLAIN_PRODUCT FROM products p WHERE p.deleted_at IS NULL ORDER BY p.sku, p.source LIMIT 101;"
  run_pgbench products_filter "SELECT $PLAIN_PRODUCT FROM products p WHERE p.deleted_at IS NULL AND p.brand = 'Brand 7' ORDER BY p.sku, p.source LIMIT 101;"
  run_pgbench products_sort_name "SELECT $PLAIN_PRODUCT FROM products p WHERE p.deleted_at IS NULL ORDER BY p.name, p.source, p.sku LIMIT 101;"
  run_pgbench products_sort_price "SELECT $PLAIN_PRODUCT FROM ((SELECT * FROM products p WHERE p.deleted_at IS NULL AND p.price IS NOT NULL ORDER BY p.price DESC, p.source DESC, p.sku DESC LIMIT 101) UNION ALL (SELECT * FROM products p WHERE p.deleted_at IS NULL AND p.price IS NULL ORDER BY p.source DESC, p.sku DESC LIMIT 101)) p ORDER BY p.price DESC NULLS LAST, p.source DESC, p.sku DESC LIMIT 101;"
  run_pgbench products_sort_updated "SELECT $PLAIN_PRODUCT FROM products p WHERE p.deleted_at IS NULL ORDER BY p.updated_at DESC, p.source DESC, p.sku DESC LIMIT 101;"
  # The same kind of page from a random start in the range the collected
  # cursors cover, prepared with a generic plan as the server's page statements are.
  run_pgbench products_pages "\\set i random(1, $((PRODUCT_PAGES * 100)))
SELECT $PLAIN_PRODUCT FROM products p WHERE p.deleted_at IS NULL AND (p.sku, p.source) > ('SKU-' || lpad(:i::text, 8, '0'), '') ORDER BY p.sku, p.source LIMIT 101;" \
    "-c plan_cache_mode=force_generic_plan"
  NEWEST_ITEM=$("${PSQL[@]}" -d bench -Atc "SELECT max(created_at) FROM items")
  run_pgbench items_pages "\\set i random(1, $((ITEM_PAGES * 100)))
SELECT id, name, description, created_at FROM items WHERE (created_at, id) < ('$NEWEST_ITEM'::timestamptz - make_interval(secs => :i), 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid) ORDER BY created_at DESC, id DESC LIMIT 101;" \
    "-c plan_cache_mode=force_generic_plan"
  run_pgbench product_get "\\set i random(1, $ROWS)
SELECT $PLAIN_PRODUCT FROM products p WHERE p.source = (ARRAY['acme','globex','initech','umbrella'])[:i::int % 4 + 1] AND p.sku = 'SKU-' || lpad(:i::text, 8, '0');"
  run_wrk items_create catalog-api "$CATALOG_PORT" POST /items "$ITEM_BODY" "" "$CATALOG_PID"
  run_wrk items_create fastapi "$FASTAPI_PORT" POST /items "$ITEM_BODY" "" "$FASTAPI_PID"

  # The three servers are stopped before the micro and ETL parts, so those
  # have the machine to themselves.
  stop_group "$NGINX_PID"; stop_group "$FASTAPI_PID"
  if [ $PROFILE = 0 ]; then stop_group "$CATALOG_PID"; fi
fi

# ---------------------------------------------------------------- profile (optional)
if [ $PROFILE = 1 ] && want http; then
  PROFILE_BASE="bench/results/$STAMP.profile"
  if perf stat -e instructions true >/dev/null 2>&1 &&
     ! perf stat -e instructions true 2>&1 | grep -q "not supported"; then
    log "profiling catalog-api with perf during GET /health"
    env "${PIN_CLIENT[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((DURATION + 2))s" "http://127.0.0.1:$CATALOG_PORT/health" >/dev/null 2>&1 &
    wrk_pid=$!
    sleep 1
    timeout $((DURATION + 10)) perf record -g -o "$WORK/perf.data" -p "$CATALOG_PID" -- sleep "$DURATION" >/dev/null 2>&1 || true
    wait $wrk_pid || true
    perf report -i "$WORK/perf.data" --stdio --no-children --percent-limit 1 >"$PROFILE_BASE.perf.txt" 2>/dev/null || true
    log "perf report: $PROFILE_BASE.perf.txt"
  else
    log "hardware counters not available: profiling catalog-api with callgrind during GET /health"
    stop_group "$CATALOG_PID"
    CG_PORT=$(free_port)
    CG_PID=$(start_catalog "$CG_PORT" "$WORK/logs/catalog-callgrind.log" \
      valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no)
    add_cleanup "stop_group $CG_PID"
    if wait_health "$CG_PORT" 120; then
      "${PIN_CLIENT[@]}" wrk -t1 -c8 -d"$((DURATION * 2))s" --timeout 10s "http://127.0.0.1:$CG_PORT/health" \
        >"$PROFILE_BASE.callgrind-wrk.txt" 2>&1 || true
      stop_group "$CG_PID"
      callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | head -n 80 >"$PROFILE_BASE.callgrind-inclusive.txt" || true
      callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | head -n 60 >"$PROFILE_BASE.callgrind-self.txt" || true
      log "callgrind reports: $PROFILE_BASE.callgrind-{inclusive,self}.txt"
    else
      log "catalog-api under callgrind did not become healthy; no profile"
    fi
  fi
  stop_group "$CATALOG_PID"
fi

# ---------------------------------------------------------------- micro (Google Benchmark)
if want micro; then
  # bench/s3_bench streams an object from a loopback s3rver beside curl.
  if [ -x "$BUILD_DIR/bench/s3_bench" ]; then
    s3_bench_object "$WORK/micro-s3" "$([ $QUICK = 1 ] && echo 64 || echo 256)"
  fi
  shopt -s nullglob
  for exe in "$BUILD_DIR"/bench/*_bench; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    name=$(basename "$exe")
    log "micro: $name"
    args=(--benchmark_format=json --benchmark_out="$WORK/micro/$name.json" --benchmark_out_format=json)
    [ $QUICK = 1 ] && args+=(--benchmark_min_time=0.05)
    timeout 300 "${PIN_SERVER[@]}" "$exe" "${args[@]}" >"$WORK/logs/$name.stdout" 2>"$WORK/logs/$name.stderr" ||
      log "micro: $name exited with $? (see its stderr in the JSON notes)"
    tail -c 2000 "$WORK/logs/$name.stderr" >"$WORK/micro/$name.stderr" 2>/dev/null || true
  done
  shopt -u nullglob
fi

# ---------------------------------------------------------------- ETL hook
# Every bench/etl/*.sh is run with bash and the BENCH_* environment above plus
# BENCH_ETL_OUT, the JSON file it must write (format: bench/etl/README.md).
# Unlike the HTTP part, nothing is pinned here: PostgreSQL gets the whole
# machine, as on its own host (RDS has two vCPUs or more), and so do the
# loaders. Every contender (\copy, the SQL pipeline, catalog-api) runs under
# these same conditions; a first load builds its indexes on two connections,
# which one pinned core would serialise.
ETL_PINNING="not pinned: PostgreSQL and each loader share all $NCPU CPUs"
if want etl; then
  unpin_postgres
  shopt -s nullglob
  etl_timeout=$([ $QUICK = 1 ] && echo 300 || echo 900)
  [ -n "$ETL_ROWS" ] && etl_timeout=$((900 + ETL_ROWS / 2000))   # 10M rows: ~1.9 h at most
  for script in bench/etl/*.sh; do
    name=$(basename "$script" .sh)
    log "etl: $script"
    BENCH_SERVER_CPUS="" BENCH_CLIENT_CPUS="" BENCH_ETL_OUT="$WORK/etl/$name.json" timeout "$etl_timeout" bash "$script" \
      >"$WORK/logs/etl-$name.log" 2>&1 ||
      { log "etl: $script failed ($?); last lines:"; tail -n 15 "$WORK/logs/etl-$name.log" >&2; }
  done
  shopt -u nullglob
fi

# ---------------------------------------------------------------- report
OUT="bench/results/$STAMP.json"
$PY bench/report.py --work "$WORK" --out "$OUT" \
  --meta mode="$MODE" stamp="$STAMP" rows="$ROWS" connections="$CONNECTIONS" threads="$THREADS" \
  duration_s="$DURATION" warmup_s="$WARMUP" pinning="$PINNING" etl_pinning="$ETL_PINNING" ncpu="$NCPU" \
  load_seconds="${LOAD_SECONDS:-}" pg_version="$("$(pg_bindir)/postgres" --version)" \
  wrk_version="$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)" nginx_version="$("$NGINX" -v 2>&1)" \
  commit="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)$(git -C "$SRC" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo '+dirty')" \
  wall_seconds="$(($(date +%s) - STARTED))" loadavg_start="$LOADAVG_START" loadavg_end="$(cut -d" " -f1-3 /proc/loadavg)"
log "results: $OUT (total $(($(date +%s) - STARTED)) s)"
