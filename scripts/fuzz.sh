#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan, in build-fuzz/)
# and runs each for SECONDS (default 10) on a copy of its seed corpus
# (tests/fuzz/corpus/<name>/; the repository is never written) plus its saved
# regressions (tests/fuzz/regressions/<name>/, replayed every run).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. bash scripts/fuzz.sh 600 router csv_reader
#
# One line per target, then `N passed, M failed`. A crash, leak, sanitizer
# report or hang (an input taking over 10 s) fails the target and prints the
# reproducer's path under build-fuzz/artifacts/ and the command that replays
# it. Installs what it needs; safe to run twice. CATALOG_FUZZ_BUILD_DIR moves
# the build directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/common.sh

seconds=${1:-10}
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || die "usage: fuzz.sh [SECONDS] [TARGET...] (SECONDS a positive integer)"
shift $(($# > 0 ? 1 : 0))

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$root/.local/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
build=${CATALOG_FUZZ_BUILD_DIR:-$root/build-fuzz}

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  for f in tests/fuzz/*_fuzz.cpp; do
    name=$(basename "$f" .cpp)
    targets+=("${name%_fuzz}")
  done
fi
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/${t}_fuzz.cpp" ] || die "no fuzz target '$t' (tests/fuzz/${t}_fuzz.cpp)"
done

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCATALOG_FUZZ=ON -DCATALOG_BUILD_TESTS=OFF -DCATALOG_BUILD_BENCH=OFF >/dev/null
log "building fuzz targets in $build"
build_start=$(date +%s)
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzz"); done
# pipefail makes the pipeline fail with the build (grep's "no lines" is not a failure).
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; } ||
  die "build of the fuzz targets failed"
log "built in $(($(date +%s) - build_start)) s"

work=$(mktemp -d /tmp/catalog-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Sanitizer reports are findings: stop at the first, with a stack.
export ASAN_OPTIONS=${CATALOG_FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# One target: its result lines go to $work/result-<t>, failure to $work/failed-<t>.
run_target() {
  local t=$1 bin corpus artifacts logfile dirs dict rc runs cov reproducer
  bin="$build/tests/fuzz/${t}_fuzz"
  corpus="$work/corpus/$t"
  artifacts="$build/artifacts/$t"
  logfile="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$logfile")"
  if [ -d "tests/fuzz/corpus/$t" ]; then cp -R "tests/fuzz/corpus/$t/." "$corpus/"; fi
  dirs=("$corpus")
  if [ -d "tests/fuzz/regressions/$t" ]; then dirs+=("tests/fuzz/regressions/$t"); fi
  dict=()
  case $t in
    items_body | job_body | products_cursor) dict=(-dict=tests/fuzz/json.dict) ;;
  esac
  # New inputs go to the first directory only (the temporary copy).
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$artifacts/" "${dirs[@]}" >"$logfile" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$logfile" | tail -1 | cut -d' ' -f2)
  if [ "$rc" = 0 ]; then
    printf 'fuzz %-18s ok      %s runs, %s coverage points, %s inputs in corpus\n' "$t" "${runs:-?}" "${cov:-?}" \
      "$(find "$corpus" -type f | wc -l)" >"$work/result-$t"
  else
    touch "$work/failed-$t"
    reproducer=$(grep -oE "Test unit written to [^ ]+" "$logfile" | sed 's/.* written to //' | tail -1)
    {
      printf 'fuzz %-18s FAILED  exit %s; %s\n' "$t" "$rc" \
        "$(grep -m1 -E 'FINDING:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$logfile" | cut -c1-200)"
      printf '     reproducer: %s\n     replay:     %s %s\n     log:        %s\n' "${reproducer:-none written}" \
        "$bin" "${reproducer:-}" "$logfile"
    } >"$work/result-$t"
  fi
}

# CATALOG_FUZZ_JOBS targets at a time (default: one per core).
parallel=${CATALOG_FUZZ_JOBS:-$(nproc)}
log "running ${#targets[@]} targets for ${seconds}s each, $parallel at a time"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_target "$t" &
done
wait
passed=0
failed=0
for t in "${targets[@]}"; do
  cat "$work/result-$t"
  if [ -e "$work/failed-$t" ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
done
printf '%s passed, %s failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
