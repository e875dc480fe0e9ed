#!/usr/bin/env bash
# The whole test suite, as README and .ci/run run it: install what is needed,
# build (release and ASan+UBSan), start a throw-away PostgreSQL and S3-compatible
# server on free loopback ports, run every unit and integration test in both
# builds, plus a short fuzz run of every libFuzzer target (scripts/fuzz.sh,
# 10 s each) and, as the last CTest tests, a grep of every log line for the
# secrets the suite uses (scripts/secrets-grep.sh) and a recap of the earlier
# stages that failed (scripts/earlier-stages.sh). Ends with CTest's summary
# line; exits non-zero if anything failed.
# Arguments go to both ctest runs, e.g. `bash scripts/test.sh -R EtlApi`;
# with arguments the fuzz run is skipped unless CATALOG_TEST_FUZZ=1
# (CATALOG_TEST_FUZZ=0 always skips it; CATALOG_TEST_FUZZ_SECONDS sets its length).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/postgres.sh
[ -f scripts/lib/s3.sh ] && source scripts/lib/s3.sh

bash scripts/install-deps.sh

jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$root/.local/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
# Paths below the checkout are hashed relative to it, so two checkouts (git
# worktrees) sharing one CCACHE_DIR reuse each other's objects.
# The build directory is then left out of the hash too (with -g ccache hashes
# it by default, which defeats the sharing).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  log "building $dir"
  # pipefail makes the pipeline fail with the build (grep's "no lines" is not a failure).
  cmake --build "$dir" -j "$jobs" -- -k 0 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; } ||
    die "build of $dir failed"
}
# Debug info as line tables only (-g1): enough for every backtrace and
# sanitizer report, and the test builds compile in 0.67x (release) of -g's
# time; the sanitizer build at -O1 (what the sanitizers' authors advise) in
# 0.48x of -O2 -g's, measured on tests/integration/notifications_test.cpp.
# It was the larger half of CI's time.
build build "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
# CATALOG_TEST_ASAN=0 skips the sanitizer build while developing; CI runs both.
asan=${CATALOG_TEST_ASAN:-1}
[ "$asan" = 0 ] || build build-asan -DCATALOG_SANITIZE=ON -DCATALOG_BUILD_BENCH=OFF \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"

work=$(mktemp -d /tmp/catalog-test.XXXXXX)
chmod 755 "$work"
trap 'run_cleanup; rm -rf "$work"' EXIT
# Each stage leaves <stage>.passed or <stage>.failed (with what failed) here;
# the last CTest run's EarlierStages test repeats the failures at the end of
# the log, where a CI log is read (scripts/earlier-stages.sh).
export CATALOG_TEST_STAGES_DIR=$work/stages
mkdir -p "$CATALOG_TEST_STAGES_DIR"
# record_ctest STAGE BUILD_DIR STATUS: the failed tests and their failure lines.
record_ctest() {
  local stage=$1 dir=$2 rc=$3
  if [ "$rc" = 0 ]; then touch "$CATALOG_TEST_STAGES_DIR/$stage.passed"; return; fi
  python3 scripts/lib/ctest_failures.py "$dir/Testing/Temporary" >"$CATALOG_TEST_STAGES_DIR/$stage.failed" 2>&1 ||
    echo "ctest exited $rc (no failure list: $dir/Testing/Temporary)" >>"$CATALOG_TEST_STAGES_DIR/$stage.failed"
}

status=0
fuzz=${CATALOG_TEST_FUZZ:-$([ $# = 0 ] && echo 1 || echo 0)}
if [ "$fuzz" != 0 ]; then
  log "fuzz: every target for ${CATALOG_TEST_FUZZ_SECONDS:-10}s"
  fuzz_rc=0
  bash scripts/fuzz.sh "${CATALOG_TEST_FUZZ_SECONDS:-10}" 2>&1 | tee "$work/fuzz.out" || fuzz_rc=$?
  if [ "$fuzz_rc" = 0 ]; then touch "$CATALOG_TEST_STAGES_DIR/fuzz.passed"; else
    status=1
    { grep -A3 -E 'FAILED|^error:' "$work/fuzz.out" || tail -20 "$work/fuzz.out"; } >"$CATALOG_TEST_STAGES_DIR/fuzz.failed"
  fi
fi

pg_port=$(free_port)
start_postgres "$work/pg" "$pg_port"
add_cleanup "stop_postgres '$work/pg'"
export CATALOG_TEST_PG_DSN="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"

# A second cluster that one test stops and starts under a running server.
outage_port=$(free_port)
start_postgres "$work/pg-outage" "$outage_port"
add_cleanup "stop_postgres '$work/pg-outage'"
export CATALOG_TEST_PG_OUTAGE_DSN="host=127.0.0.1 port=$outage_port user=postgres dbname=postgres"
export CATALOG_TEST_PG_OUTAGE_START="$root/scripts/pg-control.sh $work/pg-outage $outage_port start"
export CATALOG_TEST_PG_OUTAGE_STOP="$root/scripts/pg-control.sh $work/pg-outage $outage_port stop"

# A cluster serving TLS with a certificate for "localhost" only, for the
# tests of DB_SSL_ROOT_CERT_PEM (verify-full): its CA and a CA that signed nothing.
tls_port=$(free_port)
start_postgres "$work/pg-tls" "$tls_port"
add_cleanup "stop_postgres '$work/pg-tls'"
enable_tls "$work/pg-tls" "$tls_port" "$work/pg-tls-certs"
export CATALOG_TEST_PG_TLS_DSN="host=localhost hostaddr=127.0.0.1 port=$tls_port user=postgres dbname=postgres"
export CATALOG_TEST_PG_TLS_CA="$work/pg-tls-certs/ca.pem"
export CATALOG_TEST_PG_TLS_OTHER_CA="$work/pg-tls-certs/other-ca.pem"

# A primary with a streaming replica of it, for the read-replica tests (their
# own pair: those tests pause and stop the replica, and the other tests' WAL
# does not have to stream anywhere). The tests take the lock file in turn.
replica_primary_port=$(free_port)
start_postgres "$work/pg-replica-primary" "$replica_primary_port"
add_cleanup "stop_postgres '$work/pg-replica-primary'"
replica_port=$(free_port)
start_replica "$work/pg-replica" "$replica_port" "$replica_primary_port"
add_cleanup "stop_postgres '$work/pg-replica'"
export CATALOG_TEST_PG_REPLICA_PRIMARY_DSN="host=127.0.0.1 port=$replica_primary_port user=postgres dbname=postgres"
export CATALOG_TEST_PG_REPLICA_DSN="host=127.0.0.1 port=$replica_port user=postgres dbname=postgres"
export CATALOG_TEST_PG_REPLICA_START="$root/scripts/pg-control.sh $work/pg-replica $replica_port start"
export CATALOG_TEST_PG_REPLICA_STOP="$root/scripts/pg-control.sh $work/pg-replica $replica_port stop"
export CATALOG_TEST_PG_REPLICA_LOCK="$work/pg-replica.lock"

if declare -F start_s3 >/dev/null; then start_s3 "$work/s3"; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp}

# Secrets the suite hands to servers, fresh per run, for SecretsGrep to look
# for in every log line (the S3 secret key comes from start_s3).
CATALOG_TEST_API_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
export CATALOG_TEST_API_TOKEN
export CATALOG_TEST_WORK_DIR=$work
mkdir -p "$work/logs-release" "$work/logs-asan"

log "tests: release build"
rc=0
(export CATALOG_TEST_LOG_DIR=$work/logs-release; cd build && ctest -j "$jobs" --output-on-failure --timeout 300 "$@") || rc=$?
record_ctest release build "$rc"
[ "$rc" = 0 ] || status=1
if [ "$asan" != 0 ]; then
  log "tests: ASan+UBSan build"
  (export CATALOG_TEST_LOG_DIR=$work/logs-asan; cd build-asan && ctest -j "$jobs" --output-on-failure --timeout 600 "$@") || status=1
fi
exit $status
