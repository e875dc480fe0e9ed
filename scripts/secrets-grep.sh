#!/usr/bin/env bash
# Fails if a secret appears in any log line the test suite produced.
#
#   bash scripts/secrets-grep.sh [PATH...]
#
# Secrets: every non-comment line of tests/secrets.txt plus the per-run values
# scripts/test.sh exports (CATALOG_TEST_API_TOKEN,
# CATALOG_TEST_S3_SECRET_ACCESS_KEY, CATALOG_TEST_S3_SESSION_TOKEN,
# CATALOG_TEST_DB_PASSWORD; unset ones are skipped). Logs: each PATH (a file,
# or a directory whose files are all read; for a CTest Testing/Temporary
# directory, the log of the run in progress), plus every *.log file under
# CATALOG_TEST_LOG_DIR and CATALOG_TEST_WORK_DIR when set (server output kept
# by tests/support/process.cpp, PostgreSQL and S3 server logs).
# Prints file:line with the secret masked for every hit; exits 1 if any.
# Runs as the CTest test SecretsGrep, after every other test (a fixture cleanup).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

secrets=()
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] || secrets+=("$line")
done <"$root/tests/secrets.txt"
for name in CATALOG_TEST_API_TOKEN CATALOG_TEST_S3_SECRET_ACCESS_KEY CATALOG_TEST_S3_SESSION_TOKEN CATALOG_TEST_DB_PASSWORD; do
  value=${!name:-}
  # Short values would match by accident; generated ones are long.
  if [ -n "$value" ]; then
    [ ${#value} -ge 8 ] || { echo "secrets grep: $name is shorter than 8 characters" >&2; exit 1; }
    secrets+=("$value")
  fi
done

files=()
add_dir_logs() {  # every *.log under $1, the biggest data files aside
  local f
  while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$1" -type f -name '*.log' -print0 2>/dev/null)
}
for path in "$@"; do
  if [ -d "$path" ] && [ "$(basename "$path")" = Temporary ]; then
    # CTest writes the running suite's log to LastTest.log.tmp and renames it at the end.
    if [ -f "$path/LastTest.log.tmp" ]; then files+=("$path/LastTest.log.tmp")
    elif [ -f "$path/LastTest.log" ]; then files+=("$path/LastTest.log"); fi
  elif [ -d "$path" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$path" -type f -print0)
  elif [ -f "$path" ]; then
    files+=("$path")
  fi
done
for dir in "${CATALOG_TEST_LOG_DIR:-}" "${CATALOG_TEST_WORK_DIR:-}"; do
  if [ -n "$dir" ] && [ -d "$dir" ]; then add_dir_logs "$dir"; fi
done

patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
printf '%s\n' "${secrets[@]}" >"$patterns"
hits=0
if [ ${#files[@]} -gt 0 ]; then
  while IFS= read -r hit; do
    hits=$((hits + 1))
    file=${hit%%:*}
    rest=${hit#*:}
    lineno=${rest%%:*}
    text=${rest#*:}
    for s in "${secrets[@]}"; do text=${text//"$s"/***}; done
    printf 'secret in log: %s:%s: %s\n' "$file" "$lineno" "${text:0:300}"
  done < <(grep -a -n -H -F -f "$patterns" -- "${files[@]}" 2>/dev/null || true)
fi
if [ "$hits" -gt 0 ]; then
  echo "secrets grep: $hits log line(s) hold a secret" >&2
  exit 1
fi
echo "secrets grep: ok (${#secrets[@]} secrets, ${#files[@]} log files)"
