#!/usr/bin/env bash
# Lints docs/openapi.json with @redocly/cli (pinned by tests/docs/package-lock.json)
# under tests/docs/redocly.yaml: recommended-strict, examples that match their
# schemas, an example for every request body and JSON response. Run by ctest
# (tests/CMakeLists.txt); installs the linter with `npm ci` on first use.
# Offline once installed: telemetry and update checks are off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

locked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/@redocly/cli"]["version"])' \
  "$here/package-lock.json")
installed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$here/node_modules/@redocly/cli/package.json" 2>/dev/null || true)
if [ "$installed" != "$locked" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
  echo "installing @redocly/cli $locked (npm ci in tests/docs)" >&2
  (cd "$here" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1
cd "$here"
timeout 120 node_modules/.bin/redocly lint --config redocly.yaml --format=stylish "$root/docs/openapi.json"
