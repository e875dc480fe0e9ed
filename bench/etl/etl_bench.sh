#!/usr/bin/env bash
# ETL benchmark (hook of scripts/bench.sh; contract in bench/etl/README.md).
#
# On a generated partner feed (bench/etl/gen_feed.py; 100k rows in quick mode,
# 100k and 1M in full mode), measured side by side in one run:
#   catalog-api run-job: first load, forced re-run unchanged (and of the same
#                        rows as a Google Merchant XML feed), 1% changed,
#                        10% changed, ETag-skipped re-run (also through
#                        POST /jobs/{id}/run?wait=true on a running server)
#   baselines:           psql \copy into an UNLOGGED table (the limit);
#                        the straightforward SQL pipeline (\copy into a staging
#                        table + INSERT … ON CONFLICT … WHERE … IS DISTINCT FROM);
#                        a naive per-row upsert loop (5k rows, scaled)
# Figures: wall time, rows/s, peak RSS of catalog-api (/usr/bin/time -v), rows
# physically written to products (pg_stat_user_tables), WAL bytes, and the
# issue-5 ratios. S3 is s3rver on loopback (raw endpoint, no verifying proxy).
#
# Standalone: BENCH_DSN=... BENCH_PGPORT=... BENCH_BUILD_DIR=build-bench \
#             BENCH_WORK=$(mktemp -d) BENCH_ETL_OUT=/tmp/etl.json BENCH_QUICK=1 bash bench/etl/etl_bench.sh
set -euo pipefail

ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
# shellcheck source=../../scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=../../scripts/lib/s3.sh
source scripts/lib/s3.sh

: "${BENCH_DSN:?}" "${BENCH_PGPORT:?}" "${BENCH_WORK:?}" "${BENCH_ETL_OUT:?}"
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
BIN="$BUILD_DIR/catalog-api"
[ -x "$BIN" ] || die "$BIN missing"
QUICK=${BENCH_QUICK:-1}
if [ "$QUICK" = 1 ]; then SIZES=(100000); else SIZES=(100000 1000000); fi
# scripts/bench.sh --rows N: that size only, after 1M when N is larger (the linearity reference).
if [ -n "${BENCH_ETL_SIZE:-}" ]; then
  if [ "$BENCH_ETL_SIZE" -gt 1000000 ]; then SIZES=(1000000 "$BENCH_ETL_SIZE"); else SIZES=("$BENCH_ETL_SIZE"); fi
fi
if [ -n "${BENCH_ETL_ROWS:-}" ]; then read -r -a SIZES <<<"$BENCH_ETL_ROWS"; fi   # development override
# Above 1M rows only catalog-api and \copy run: the SQL pipeline would take hours.
LARGE=${BENCH_ETL_LARGE_ABOVE:-1000000}   # development: a lower value skips the baselines sooner
NAIVE_ROWS=${BENCH_ETL_NAIVE_ROWS:-5000}
TIME_BIN=/usr/bin/time
if [ ! -x "$TIME_BIN" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  log "installing time (for peak RSS)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends time >/dev/null
fi

W="$BENCH_WORK/etl-bench"
mkdir -p "$W"
chmod 755 "$W"   # psql \copy reads as us, but keep it readable for the postgres user too
trap 'run_cleanup' EXIT
trap 'exit 130' INT TERM

PIN=()
if [ -n "${BENCH_CLIENT_CPUS:-}" ] && command -v taskset >/dev/null; then PIN=(taskset -c "$BENCH_CLIENT_CPUS"); fi
PSQL_BIN=$(command -v psql)
[ -n "${BENCH_PGDIR:-}" ] && declare -F pg_bindir >/dev/null && PSQL_BIN="$(pg_bindir)/psql"
PSQL=("$PSQL_BIN" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -d "$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$BENCH_DSN")")
sql() { "${PSQL[@]}" -At -c "$1"; }

# ------------------------------------------------------------------ S3
start_s3 "$W/s3"
S3=$CATALOG_TEST_S3_RAW_ENDPOINT
BUCKET=$CATALOG_TEST_S3_BUCKET
s3_put() {  # s3_put FILE KEY: signed PutObject to the raw s3rver endpoint (s3rver's own account)
  curl -sS --fail -o /dev/null --aws-sigv4 "aws:amz:$CATALOG_TEST_S3_REGION:s3" --user "S3RVER:S3RVER" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T "$1" "$S3/$BUCKET/$2"
}

RUN_ENV=(env -i PATH="$PATH" DATABASE_URL="$BENCH_DSN" S3_ENDPOINT="$S3" S3_FORCE_PATH_STYLE=true
         AWS_REGION="$CATALOG_TEST_S3_REGION" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER S3_RAW_BUCKET="$BUCKET" LOG_LEVEL="${BENCH_ETL_LOG_LEVEL:-warn}")

"${RUN_ENV[@]}" "$BIN" migrate >"$W/migrate.log" 2>&1 || { cat "$W/migrate.log" >&2; die "migrate failed"; }

# ------------------------------------------------------------------ measuring
now_ns() { date +%s%N; }
WRITTEN_SQL="SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables
             WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'products'::regclass)"
written() {  # rows physically written to products' partitions so far (stats settle after the writer's backend exits)
  local a b i
  a=$(sql "$WRITTEN_SQL")
  for ((i = 0; i < 15; i++)); do
    sleep 0.2
    b=$(sql "$WRITTEN_SQL")
    [ "$a" = "$b" ] && break
    a=$b
  done
  echo "$a"
}
wal_lsn() { sql "SELECT pg_current_wal_lsn()"; }
RESULTS="$W/results.tsv"   # size  case  wall_s  rows  written  wal_bytes  rss_kib  note
: >"$RESULTS"

# measure SIZE CASE ROWS NOTE -- command...   (records one line of $RESULTS)
measure() {
  local size=$1 name=$2 rows=$3 note=$4 w0 w1 l0 l1 t0 t1 rss wal
  shift 5
  w0=$(written); l0=$(wal_lsn)
  t0=$(now_ns)
  rm -f "$W/time.txt"
  "$@" >"$W/out.txt" 2>"$W/err.txt" ||
    { cat "$W/out.txt" "$W/err.txt" "$W/time.txt" >&2; die "$size $name failed"; }
  t1=$(now_ns)
  w1=$(written); l1=$(wal_lsn)
  rss=""   # only commands run under /usr/bin/time report it
  [ -f "$W/time.txt" ] && rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.txt")
  wal=$(sql "SELECT pg_wal_lsn_diff('$l1', '$l0')::bigint")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')" \
    "$rows" "$((w1 - w0))" "$wal" "${rss:-0}" "$note" >>"$RESULTS"
  log "$size $name: $(tail -n 1 "$RESULTS" | cut -f3) s, written $((w1 - w0)), WAL $wal B, RSS ${rss:-?} KiB"
  # BENCH_ETL_LOG_LEVEL=info BENCH_ETL_RUN_LOG=FILE keeps each run's phase timings ("run finished").
  if [ -n "${BENCH_ETL_RUN_LOG:-}" ]; then
    { echo "$size $name"; grep -h '"run finished"\|run finished' "$W/out.txt" "$W/err.txt" || true; } >>"$BENCH_ETL_RUN_LOG"
  fi
}

# Every measured command runs under /usr/bin/time -v (peak RSS of that very process).
TIMED=("$TIME_BIN" -v -o "$W/time.txt")
RUN_JOB=("${PIN[@]}" "${RUN_ENV[@]}" "${TIMED[@]}" "$BIN" run-job)   # + JOB [--force]
TPSQL=("${PIN[@]}" "${TIMED[@]}" "${PSQL[@]}")
expect_run() {  # expect_run STATUS FIELD VALUE: checks the last run-job output
  "$CATALOG_TEST_PYTHON" - "$W/out.txt" "$@" <<'PY' || die "unexpected run-job result: $(cat "$W/out.txt")"
import json, sys
text = open(sys.argv[1]).read()
try:
    run = json.loads(text)
except ValueError:  # log lines (LOG_LEVEL=info, one JSON object each) before run-job's indented JSON
    run = json.loads(text[text.rindex("\n{\n") + 1:])
status, field, value = sys.argv[2], sys.argv[3], int(sys.argv[4])
ok = run["status"] == status and (field == "-" or run["counts"][field] == value)
sys.exit(0 if ok else 1)
PY
}

COPY_COLS="sku text, product_name text, description text, brand text, category text, price text, currency text, availability text, color text"
sql "CREATE UNLOGGED TABLE IF NOT EXISTS etl_bench_copy ($COPY_COLS)"

pipeline_sql() {  # pipeline_sql SOURCE FILE: the straightforward SQL pipeline, one transaction
  cat <<SQL
BEGIN;
SELECT products_ensure_partition('$1');
CREATE TEMP TABLE stage ($COPY_COLS) ON COMMIT DROP;
\\copy stage FROM '$2' WITH (FORMAT csv, HEADER true)
INSERT INTO products AS p (source, sku, name, description, brand, category, price, currency, availability,
                           attributes, content_hash)
SELECT '$1', sku, product_name, description, brand, category,
       nullif(regexp_replace(price, '[\$,[:space:]]', '', 'g'), '')::numeric(12,2), upper(trim(currency)),
       replace(lower(trim(availability)), ' ', '_'), jsonb_build_object('color', color),
       hashtextextended(concat_ws(E'\x1f', product_name, description, brand, category, price, currency,
                                  availability, color), 0)
FROM stage
ON CONFLICT (source, sku) DO UPDATE SET
  name = EXCLUDED.name, description = EXCLUDED.description, brand = EXCLUDED.brand,
  category = EXCLUDED.category, price = EXCLUDED.price, currency = EXCLUDED.currency,
  availability = EXCLUDED.availability, attributes = EXCLUDED.attributes,
  content_hash = EXCLUDED.content_hash, updated_at = now()
WHERE (p.name, p.description, p.brand, p.category, p.price, p.currency, p.availability, p.attributes)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.description, EXCLUDED.brand, EXCLUDED.category, EXCLUDED.price,
       EXCLUDED.currency, EXCLUDED.availability, EXCLUDED.attributes);
COMMIT;
SQL
}

# ------------------------------------------------------------------ runs
for N in "${SIZES[@]}"; do
  label=$((N / 1000))k
  [ "$N" -ge 1000000 ] && [ $((N % 1000000)) = 0 ] && label=$((N / 1000000))M
  large=0; [ "$N" -gt "$LARGE" ] && large=1
  log "ETL $label: generating feeds"
  python3 bench/etl/gen_feed.py --rows "$N" "$W/base.csv"
  python3 bench/etl/gen_feed.py --rows "$N" --version 2 --every 100 "$W/ch1.csv"
  [ $large = 1 ] || python3 bench/etl/gen_feed.py --rows "$N" --version 3 --every 10 "$W/ch10.csv"
  bytes=$(stat -c %s "$W/base.csv")
  src="etl${label,,}" pipe="sql${label,,}" job="etl-bench-${label,,}" key="etl-bench/$label/feed.csv"  # job ids are lower-case slugs
  sql "INSERT INTO jobs (id, source, uri) VALUES ('$job', '$src', 's3://$BUCKET/$key') ON CONFLICT (id) DO NOTHING"
  s3_put "$W/base.csv" "$key"
  sql "CHECKPOINT" >/dev/null

  # The limit: \copy of the same bytes into an unlogged table.
  sql "TRUNCATE etl_bench_copy"
  measure "$label" copy "$N" "psql \\copy into an UNLOGGED table ($bytes bytes)" -- \
    "${TPSQL[@]}" -c "\\copy etl_bench_copy FROM '$W/base.csv' WITH (FORMAT csv, HEADER true)"
  sql "TRUNCATE etl_bench_copy"
  if [ $large = 0 ]; then
  # The limit for a load that ends with products' index set: \copy into a fresh
  # logged table, then the same nine index definitions built by sorting (over
  # the feed's own columns; rolled back).
  cat >"$W/copy-indexed.sql" <<SQL
BEGIN;
CREATE TABLE etl_bench_indexed (source text COLLATE "C" NOT NULL DEFAULT 'bench',
  updated_at timestamptz NOT NULL DEFAULT now(), ${COPY_COLS/sku text/sku text COLLATE \"C\"});
\\copy etl_bench_indexed (sku, product_name, description, brand, category, price, currency, availability, color) FROM '$W/base.csv' WITH (FORMAT csv, HEADER true)
ALTER TABLE etl_bench_indexed ADD PRIMARY KEY (source, sku);
CREATE INDEX ON etl_bench_indexed (sku, source);
CREATE INDEX ON etl_bench_indexed (updated_at, source, sku);
CREATE INDEX ON etl_bench_indexed (product_name, source, sku);
CREATE INDEX ON etl_bench_indexed (price, source, sku);
CREATE INDEX ON etl_bench_indexed USING gin (product_name gin_trgm_ops);
CREATE INDEX ON etl_bench_indexed (brand);
CREATE INDEX ON etl_bench_indexed (category);
CREATE INDEX ON etl_bench_indexed (availability);
ROLLBACK;
SQL
  measure "$label" copy_indexed "$N" "psql \\copy into a new table + the products index set built after" -- \
    "${TPSQL[@]}" -f "$W/copy-indexed.sql"
  fi

  # catalog-api
  # LOG_LEVEL=info: its "run finished" line carries visible_ms (run_feed's
  # start to the commit that made the rows readable) and indexes_ms.
  measure "$label" first "$N" "catalog-api run-job, first load" -- \
    "${PIN[@]}" "${RUN_ENV[@]}" LOG_LEVEL=info "${TIMED[@]}" "$BIN" run-job "$job"
  expect_run succeeded inserted "$N"
  visible_ms=$(grep '"run finished"' "$W/out.txt" | sed -n 's/.*"visible_ms":\([0-9]*\).*/\1/p')
  indexes_ms=$(grep '"run finished"' "$W/out.txt" | sed -n 's/.*"indexes_ms":\([0-9]*\).*/\1/p')
  [ -n "$visible_ms" ] || die "no visible_ms in the first load's log: $(head -c 2000 "$W/out.txt")"
  printf '%s\t%s\t%s\t%s\t0\t0\t0\t%s\n' "$label" first_visible "$(awk -v m="$visible_ms" 'BEGIN{printf "%.4f", m/1000}')" \
    "$N" "the run's visible_ms (indexes_ms $indexes_ms)" >>"$RESULTS"
  log "$label first load: rows visible after $visible_ms ms, secondary indexes $indexes_ms ms more"
  measure "$label" rerun "$N" "catalog-api run-job --force, unchanged feed" -- "${RUN_JOB[@]}" "$job" --force
  expect_run succeeded unchanged "$N"
  # Issue 25: the same rows as a Google Merchant XML feed, forced on the
  # source the CSV loaded: all unchanged (the hash does not depend on the
  # format), so this is the XML reader's cost beside the CSV re-run above.
  python3 bench/etl/gen_merchant_xml.py "$W/base.csv" "$W/base.xml"
  xjob="$job-xml" xkey="etl-bench/$label/feed.xml"
  sql "INSERT INTO jobs (id, source, uri, options) VALUES ('$xjob', '$src', 's3://$BUCKET/$xkey',
       '{\"profile\": \"google_merchant\"}') ON CONFLICT (id) DO NOTHING"
  s3_put "$W/base.xml" "$xkey"
  measure "$label" rerun_xml "$N" "catalog-api run-job --force, the same rows as Google Merchant XML ($(stat -c %s "$W/base.xml") bytes)" -- \
    "${RUN_JOB[@]}" "$xjob" --force
  expect_run succeeded unchanged "$N"
  rm -f "$W/base.xml"
  measure "$label" skip "$N" "catalog-api run-job, same ETag (skipped)" -- "${RUN_JOB[@]}" "$job"
  expect_run skipped - 0
  if [ $large = 0 ]; then
  # The operator's path: POST /jobs/{id}/run?wait=true on a running server
  # (warm pool and credentials), timed from curl.
  api_port=$(free_port)
  "${RUN_ENV[@]}" PORT="$api_port" AUTH_DISABLED=1 JOB_WORKERS=1 "$BIN" serve >"$W/serve.log" 2>&1 &
  api_pid=$!
  add_cleanup "kill $api_pid 2>/dev/null"
  wait_for_port "$api_port" 30 || { cat "$W/serve.log" >&2; die "catalog-api serve did not start"; }
  api_url="http://127.0.0.1:$api_port/jobs/$job/run?wait=true"
  curl -sS --fail -X POST "$api_url" >/dev/null   # warm-up: first connection of each kind
  # Five back-to-back triggers (the report divides by 5); the last one's JSON is checked.
  measure "$label" skip_api "$N" "5 x POST /jobs/{id}/run?wait=true, same ETag (skipped)" -- "${PIN[@]}" bash -c \
    'for i in 1 2 3 4; do curl -sS --fail -o /dev/null -X POST "$1" || exit 1; done; curl -sS --fail -X POST "$1"' _ "$api_url"
  expect_run skipped - 0
  kill "$api_pid"; wait "$api_pid" 2>/dev/null || true
  fi
  s3_put "$W/ch1.csv" "$key"
  # LOG_LEVEL=info: "run finished" carries changes_ms, the change log's own
  # statements (docs/change-log.md): the run without the log costs wall - that.
  measure "$label" ch1 "$N" "catalog-api run-job, 1% changed (change log on)" -- \
    "${PIN[@]}" "${RUN_ENV[@]}" LOG_LEVEL=info "${TIMED[@]}" "$BIN" run-job "$job"
  expect_run succeeded updated "$((N / 100))"
  changes_ms=$(grep '"run finished"' "$W/out.txt" | sed -n 's/.*"changes_ms":\([0-9]*\).*/\1/p')
  changes=$(sql "SELECT count(*) FROM run_changes WHERE run_id = (SELECT id FROM job_runs WHERE job_id = '$job'
                 ORDER BY queued_at DESC LIMIT 1)")
  printf '%s\t%s\t%s\t%s\t%s\t0\t0\t%s\n' "$label" ch1_changes "$(awk -v m="${changes_ms:-0}" 'BEGIN{printf "%.4f", m/1000}')" \
    "$N" "$changes" "the 1% changed run's changes_ms" >>"$RESULTS"
  log "$label 1% changed: $changes changes recorded in ${changes_ms:-?} ms"
  if [ $large = 1 ]; then
    rm -f "$W/base.csv" "$W/ch1.csv"
    sql "VACUUM products" >/dev/null
    continue
  fi
  s3_put "$W/ch10.csv" "$key"
  measure "$label" ch10 "$N" "catalog-api run-job, 10% changed" -- "${RUN_JOB[@]}" "$job"
  expect_run succeeded updated "$((N / 10))"

  # The straightforward SQL pipeline on the same files.
  pipeline_sql "$pipe" "$W/base.csv" >"$W/pipe-base.sql"
  pipeline_sql "$pipe" "$W/ch1.csv" >"$W/pipe-ch1.sql"
  pipeline_sql "$pipe" "$W/ch10.csv" >"$W/pipe-ch10.sql"
  measure "$label" pipe_first "$N" "SQL pipeline, first load" -- "${TPSQL[@]}" -f "$W/pipe-base.sql"
  measure "$label" pipe_rerun "$N" "SQL pipeline, unchanged feed" -- "${TPSQL[@]}" -f "$W/pipe-base.sql"
  measure "$label" pipe_ch1 "$N" "SQL pipeline, 1% changed" -- "${TPSQL[@]}" -f "$W/pipe-ch1.sql"
  measure "$label" pipe_ch10 "$N" "SQL pipeline, 10% changed" -- "${TPSQL[@]}" -f "$W/pipe-ch10.sql"
  sql "VACUUM products" >/dev/null
done

# The naive per-row loop: one autocommitted upsert per round trip, on a small feed.
python3 bench/etl/gen_feed.py --rows "$NAIVE_ROWS" --naive-sql naive "$W/naive.sql"
measure naive naive "$NAIVE_ROWS" "naive per-row upsert loop (psql, one statement per round trip)" -- \
  "${TPSQL[@]}" -f "$W/naive.sql"

# ------------------------------------------------------------------ report
python3 - "$RESULTS" "$BENCH_ETL_OUT" <<'PY'
import json, sys
res = {}
for line in open(sys.argv[1], encoding="utf-8"):
    size, case, wall, rows, written, wal, rss, note = line.rstrip("\n").split("\t")
    res[(size, case)] = dict(wall=float(wall), rows=int(rows), written=int(written), wal=int(wal),
                             rss=int(rss), note=note)
out = []
def add(name, value, unit="", target="", status="", note=""):
    out.append({k: v for k, v in dict(name=name, value=value, unit=unit, target=target, status=status,
                                      note=note).items() if v != "" or k in ("name", "value")})
def st(ok):
    return "PASS" if ok else "MISS"

naive = res.get(("naive", "naive"))
naive_rate = naive["rows"] / naive["wall"] if naive else None
sizes = sorted({s for s, _ in res if s != "naive"}, key=lambda s: res[(s, "first")]["rows"])
ref = res.get(("1M", "rerun")) and "1M"   # the linearity reference of large sizes
for s in sizes:
    r = lambda c: res[(s, c)]
    if (s, "pipe_first") not in res:
        # A large size (scripts/bench.sh --rows N, N > 1M): catalog-api and \copy only.
        n = r("first")["rows"]
        for case, title in [("copy", "\\copy (unlogged)"), ("first", "catalog-api first load"),
                            ("rerun", "catalog-api forced re-run, unchanged"), ("ch1", "catalog-api 1% changed")]:
            m = r(case)
            note = "%.3f s wall, %d rows written" % (m["wall"], m["written"])
            if case != "copy":
                note += ", peak RSS %.1f MiB" % (m["rss"] / 1024)
            add("%s %s" % (s, title), round(m["rows"] / m["wall"]), "rows/s", note=note)
        add("%s ETag-skipped re-run" % s, round(r("skip")["wall"] * 1000, 1), "ms")
        rss = max(r(k)["rss"] for k in ("first", "rerun", "skip", "ch1")) / 1024
        add("%s peak RSS of catalog-api" % s, round(rss, 1), "MiB", "<= 256 MiB", st(rss <= 256),
            "first %.0f, re-run %.0f, 1%% changed %.0f MiB" % tuple(r(k)["rss"] / 1024 for k in ("first", "rerun", "ch1")))
        add("%s 1%% changed, rows written" % s, r("ch1")["written"], "rows", "= %d (1%%)" % (n // 100),
            st(r("ch1")["written"] == n // 100))
        if ref and s != ref:
            scale = n / res[(ref, "first")]["rows"]
            for case, title in [("rerun", "forced re-run unchanged"), ("ch1", "1% changed")]:
                f = r(case)["wall"] / (res[(ref, case)]["wall"] * scale)
                add("%s %s / (%g x 1M)" % (s, title, scale), round(f, 2), "x", "<= 1.2x", st(f <= 1.2),
                    "%s %.2f s, 1M %.2f s (linear)" % (s, r(case)["wall"], res[(ref, case)]["wall"]))
        continue
    for case, title in [("copy", "\\copy (unlogged)"), ("copy_indexed", "\\copy + index builds (logged)"),
                        ("first", "catalog-api first load"),
                        ("rerun", "catalog-api forced re-run, unchanged"), ("ch1", "catalog-api 1% changed"),
                        ("ch10", "catalog-api 10% changed"), ("skip", "catalog-api ETag-skipped re-run"),
                        ("pipe_first", "SQL pipeline first load"), ("pipe_rerun", "SQL pipeline re-run, unchanged"),
                        ("pipe_ch1", "SQL pipeline 1% changed"), ("pipe_ch10", "SQL pipeline 10% changed")]:
        m = r(case)
        note = "%.3f s wall, %d rows written, WAL %.1f MiB" % (m["wall"], m["written"], m["wal"] / 1048576)
        if case in ("first", "rerun", "ch1", "ch10", "skip"):
            note += ", peak RSS %.1f MiB" % (m["rss"] / 1024)
        if case == "skip":
            add("%s %s" % (s, title), round(m["wall"] * 1000, 1), "ms",
                note=note + " (whole run-job process: start, connect, migrate check, HEAD)")
            api = r("skip_api")
            per_run = api["wall"] / 5
            add("%s ETag-skipped re-run, POST ?wait=true" % s, round(per_run * 1000, 1), "ms", "<= 50 ms",
                st(per_run <= 0.050), "curl end to end against a running server, mean of 5 back to back")
        else:
            add("%s %s" % (s, title), round(m["rows"] / m["wall"]), "rows/s", note=note)
    c, p = r("copy")["wall"], lambda k: r(k)["wall"]
    f = p("first_visible") / c
    add("%s first load: rows visible / \\copy" % s, round(f, 2), "x", "<= 4x", st(f <= 4),
        "the run's visible_ms %.2f s (run_feed start to the commit; process start, S3 HEAD excluded), \\copy %.2f s"
        % (p("first_visible"), c))
    f = p("first") / c
    add("%s first load: all indexes / \\copy" % s, round(f, 2), "x", "<= 7x", st(f <= 7),
        "whole run-job process %.2f s (includes the ANALYZE after the indexes), \\copy %.2f s" % (p("first"), c))
    f = p("first") / p("copy_indexed")
    add("%s first load, catalog-api / (\\copy + index builds)" % s, round(f, 2), "x",
        note="catalog-api %.2f s, \\copy into a logged table + the nine index builds %.2f s" % (p("first"), p("copy_indexed")))
    g = p("pipe_first") / p("first")
    add("%s first load, SQL pipeline / catalog-api" % s, round(g, 2), "x", ">= 2x", st(g >= 2),
        "SQL pipeline %.2f s, catalog-api %.2f s" % (p("pipe_first"), p("first")))
    if (s, "rerun_xml") in res:
        f = p("rerun_xml") / p("rerun")
        add("%s forced re-run, Google Merchant XML / the same rows as CSV" % s, round(f, 2), "x", "<= 1.5x",
            st(f <= 1.5), "XML %.2f s (%d rows written, peak RSS %.1f MiB), CSV %.2f s"
            % (p("rerun_xml"), r("rerun_xml")["written"], r("rerun_xml")["rss"] / 1024, p("rerun")))
    f = p("rerun") / c
    add("%s forced re-run unchanged, catalog-api / \\copy" % s, round(f, 2), "x", "<= 1.5x", st(f <= 1.5),
        "catalog-api %.2f s, \\copy %.2f s" % (p("rerun"), c))
    add("%s forced re-run unchanged, rows written" % s, r("rerun")["written"], "rows", "0",
        st(r("rerun")["written"] == 0), "SQL pipeline wrote %d" % r("pipe_rerun")["written"])
    g = p("pipe_rerun") / p("rerun")
    add("%s re-run unchanged, SQL pipeline / catalog-api" % s, round(g, 2), "x", ">= 4x", st(g >= 4),
        "SQL pipeline %.2f s, catalog-api %.2f s" % (p("pipe_rerun"), p("rerun")))
    f = p("ch1") / c
    add("%s 1%% changed, catalog-api / \\copy" % s, round(f, 2), "x", "<= 2x", st(f <= 2),
        "catalog-api %.2f s, \\copy %.2f s" % (p("ch1"), c))
    n = r("ch1")["rows"]
    add("%s 1%% changed, rows written" % s, r("ch1")["written"], "rows", "= %d (1%%)" % (n // 100),
        st(r("ch1")["written"] == n // 100), "10%% changed wrote %d (expected %d)" % (r("ch10")["written"], n // 10))
    g = p("pipe_ch1") / p("ch1")
    add("%s 1%% changed, SQL pipeline / catalog-api" % s, round(g, 2), "x", note="SQL pipeline %.2f s" % p("pipe_ch1"))
    if (s, "ch1_changes") in res:
        log_s = r("ch1_changes")["wall"]
        f = p("ch1") / max(p("ch1") - log_s, 1e-9)
        add("%s 1%% changed, with the change log / without" % s, round(f, 3), "x", "<= 1.25x", st(f <= 1.25),
            "%d changes recorded in %.0f ms of a %.2f s run (the log's statements, timed in the run)"
            % (r("ch1_changes")["written"], log_s * 1000, p("ch1")))
    rss = max(r(k)["rss"] for k in ("first", "rerun", "ch1", "ch10", "rerun_xml") if (s, k) in res) / 1024
    add("%s peak RSS of catalog-api" % s, round(rss, 1), "MiB", "<= 128 MiB", st(rss <= 128))
    if naive_rate:
        add("%s first load, naive per-row loop (scaled) / catalog-api" % s,
            round((r("first")["rows"] / naive_rate) / p("first"), 1), "x",
            note="naive %.0f rows/s on %d rows -> %.0f s scaled" % (naive_rate, naive["rows"], r("first")["rows"] / naive_rate))
if naive:
    add("naive per-row upsert loop", round(naive_rate), "rows/s",
        note="%d rows in %.2f s, %d rows written" % (naive["rows"], naive["wall"], naive["written"]))
json.dump({"rows": out}, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
for row in out:
    print("%-62s %12s %-7s %-12s %-5s %s" % (row["name"], row["value"], row.get("unit", ""), row.get("target", ""),
                                           row.get("status", ""), row.get("note", "")))
PY
