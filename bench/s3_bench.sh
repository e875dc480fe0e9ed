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
start_s3 "$work/s3"

export CATALOG_BENCH_S3_ENDPOINT=$CATALOG_TEST_S3_RAW_ENDPOINT
export CATALOG_BENCH_S3_BUCKET=$CATALOG_TEST_S3_BUCKET
export CATALOG_BENCH_S3_KEY="bench/large object ${mib}MiB.bin"
export CATALOG_BENCH_S3_ACCESS_KEY_ID=S3RVER
export CATALOG_BENCH_S3_SECRET_ACCESS_KEY=S3RVER
export CATALOG_BENCH_S3_REGION=$CATALOG_TEST_S3_REGION
encoded_key=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$CATALOG_BENCH_S3_KEY")

log "uploading a $mib MiB object"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/object.bin"
curl -sS --fail -o /dev/null --aws-sigv4 "aws:amz:$CATALOG_BENCH_S3_REGION:s3" \
  --user "S3RVER:S3RVER" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
  -T "$work/object.bin" "$CATALOG_BENCH_S3_ENDPOINT/$CATALOG_BENCH_S3_BUCKET/$encoded_key"
rm -f "$work/object.bin"

mkdir -p bench/results
"$build/bench/s3_bench" --benchmark_counters_tabular=true \
  --benchmark_out="bench/results/s3_bench.json" --benchmark_out_format=json
log "results: bench/results/s3_bench.json"
