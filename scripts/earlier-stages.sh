#!/usr/bin/env bash
# Fails if a stage scripts/test.sh ran before this CTest run failed: the fuzz
# run, or the release build's CTest run when this is the sanitizer build's.
#
#   bash scripts/earlier-stages.sh
#
# Why: the suite ends with the last CTest run's summary, and a CI log is often
# read from its tail. Without this, a release test or fuzz finding that failed
# half an hour earlier shows only as a non-zero exit under a "100% tests
# passed" line. Each failed stage left a file in CATALOG_TEST_STAGES_DIR
# (written by scripts/test.sh); this prints them and exits 1. Without that
# directory (ctest run by hand) there were no earlier stages: exit 77, which
# CTest reports as skipped, not passed.
# Runs as the CTest test EarlierStages, after every other test (a fixture cleanup).
set -euo pipefail

dir=${CATALOG_TEST_STAGES_DIR:-}
if [ -z "$dir" ]; then
  echo "earlier stages: CATALOG_TEST_STAGES_DIR is not set (not run through scripts/test.sh), so there are none"
  exit 77
fi
[ -d "$dir" ] || { echo "earlier stages: $dir does not exist" >&2; exit 1; }

failed=0
for f in "$dir"/*.failed; do
  [ -e "$f" ] || continue
  failed=$((failed + 1))
  printf -- '--- stage %s failed:\n' "$(basename "$f" .failed)"
  cat "$f"
done
passed=$(find "$dir" -name '*.passed' -printf '%f ' | sed 's/\.passed//g')
if [ "$failed" -gt 0 ]; then
  echo "earlier stages: $failed failed (the full output is above in this log); passed: ${passed:-none}" >&2
  exit 1
fi
echo "earlier stages: all passed (${passed:-none ran})"
