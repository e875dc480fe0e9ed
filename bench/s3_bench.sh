#!/usr/bin/env bash
# Runs bench/s3_bench.cpp against a loopback s3rver: starts it (scripts/lib/s3.sh),
# uploads one large object with curl, then reports signatures/s and the
# client's streaming MB/s beside `curl` fetching the same object in the same run.
#   bench/s3_bench.sh [BUILD_DIR] [OBJECT_MIB]      (defaults: build, 256)
# Throughput is measured against s3rver directly (its own account S3RVER; it
# does not check V4 signatures): the verifying proxy is a correctness check
# written in Python, not something to time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
mib=${2:-256}
cd "$root"
source scripts/lib/common.sh
source scripts/lib/s3.sh
[ -x "$build/bench/s3_bench" ] || die "$build/bench/s3_bench not built (cmake --build $build --target s3_bench)"

work=$(mktemp -d /tmp/catalog-s3-bench.XXXXXX)
trap 'run_cleanup; rm -rf "$work"' EXIT
s3_bench_object "$work/s3" "$mib"

mkdir -p bench/results
"$build/bench/s3_bench" --benchmark_counters_tabular=true \
  --benchmark_out="bench/results/s3_bench.json" --benchmark_out_format=json
log "results: bench/results/s3_bench.json"
