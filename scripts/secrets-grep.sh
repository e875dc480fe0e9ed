#!/usr/bin/env bash
# Fails if a secret appears in any log line the test suite produced.
#
#   bash scripts/secrets-grep.sh [PATH...]
#
# Secrets: every non-comment line of tests/secrets.txt plus the per-run values
# scripts/test.sh exports: CATALOG_TEST_API_TOKEN and
# CATALOG_TEST_S3_SECRET_ACCESS_KEY must be set (an unset one fails: the grep
# could not look for it); CATALOG_TEST_S3_SESSION_TOKEN and
# CATALOG_TEST_DB_PASSWORD are looked for when set, and the summary line names
# those that were not. Logs: each PATH (a file,
# or a directory whose files are all read; for a CTest Testing/Temporary
# directory, the log of the run in progress), plus every *.log file under
# CATALOG_TEST_LOG_DIR and CATALOG_TEST_WORK_DIR when set (server output kept
# by tests/support/process.cpp, PostgreSQL and S3 server logs).
# Prints file:line with the secret masked for every hit; exits 1 if any, and
# also when there is nothing to read (no log file at all, a PATH that does not
# exist) or grep itself fails: a check that could not look must not pass.
# Runs as the CTest test SecretsGrep, after every other test (a fixture cleanup).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

secrets=()
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] || secrets+=("$line")
done <"$root/tests/secrets.txt"
unchecked=()
add_secret() {  # add_secret NAME required|optional
  local value=${!1:-}
  if [ -z "$value" ]; then
    [ "$2" = optional ] || { echo "secrets grep: $1 is not set, so it cannot be looked for (run through scripts/test.sh)" >&2; exit 1; }
    unchecked+=("$1")
    return
  fi
  # Short values would match by accident; generated ones are long.
  [ ${#value} -ge 8 ] || { echo "secrets grep: $1 is shorter than 8 characters" >&2; exit 1; }
  secrets+=("$value")
}
add_secret CATALOG_TEST_API_TOKEN required
add_secret CATALOG_TEST_S3_SECRET_ACCESS_KEY required
add_secret CATALOG_TEST_S3_SESSION_TOKEN optional
add_secret CATALOG_TEST_DB_PASSWORD optional

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
  else
    echo "secrets grep: $path does not exist" >&2
    exit 1
  fi
done
for dir in "${CATALOG_TEST_LOG_DIR:-}" "${CATALOG_TEST_WORK_DIR:-}"; do
  if [ -n "$dir" ] && [ -d "$dir" ]; then add_dir_logs "$dir"; fi
done

patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
printf '%s\n' "${secrets[@]}" >"$patterns"
if [ ${#files[@]} -eq 0 ]; then
  echo "secrets grep: no log file to read (paths: ${*:-none}; CATALOG_TEST_LOG_DIR=${CATALOG_TEST_LOG_DIR:-unset}, CATALOG_TEST_WORK_DIR=${CATALOG_TEST_WORK_DIR:-unset}): nothing was checked" >&2
  exit 1
fi
matches=$(mktemp)
trap 'rm -f "$patterns" "$matches"' EXIT
# grep: 0 = hits, 1 = none, anything else = it could not read (that fails).
grep_status=0
grep -a -n -H -F -f "$patterns" -- "${files[@]}" >"$matches" || grep_status=$?
if [ "$grep_status" -gt 1 ]; then
  echo "secrets grep: grep failed (status $grep_status) reading the logs: nothing can be said" >&2
  exit 1
fi
hits=0
while IFS= read -r hit; do
  hits=$((hits + 1))
  file=${hit%%:*}
  rest=${hit#*:}
  lineno=${rest%%:*}
  text=${rest#*:}
  for s in "${secrets[@]}"; do text=${text//"$s"/***}; done
  printf 'secret in log: %s:%s: %s\n' "$file" "$lineno" "${text:0:300}"
done <"$matches"
if [ "$hits" -gt 0 ]; then
  echo "secrets grep: $hits log line(s) hold a secret" >&2
  exit 1
fi
note=""
[ ${#unchecked[@]} -eq 0 ] || note="; not set, so not looked for: ${unchecked[*]}"
echo "secrets grep: ok (${#secrets[@]} secrets, ${#files[@]} log files$note)"
