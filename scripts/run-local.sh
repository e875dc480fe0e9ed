#!/usr/bin/env bash
# The quick start: install what is needed, build, start a local PostgreSQL and
# a local S3-compatible store (s3rver) with a demo feed, and run catalog-api on
# http://127.0.0.1:8000 with AUTH_DISABLED=1 and a `demo` job. Ctrl-C stops it
# all. State lives in .local/ (git-ignored); running it again reuses it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/postgres.sh
source scripts/lib/s3.sh

port=${PORT:-8000}
pg_port=${LOCAL_PG_PORT:-54329}
s3_port=${LOCAL_S3_PORT:-54330}
state="$root/.local"
mkdir -p "$state"
chmod 755 "$state"

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$state/ccache}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
log "building catalog-api"
cmake --build build --target catalog-api >/dev/null

trap 'run_cleanup' EXIT INT TERM

# PostgreSQL: reuse a cluster left running by an earlier start.
if ! as_postgres "$(pg_bindir)/pg_ctl" -D "$state/pg" status >/dev/null 2>&1; then
  start_postgres "$state/pg" "$pg_port"
  add_cleanup "stop_postgres '$state/pg'"
fi
as_postgres "$(pg_bindir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'catalog'" | grep -q 1 ||
  as_postgres "$(pg_bindir)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres catalog

# S3-compatible store with the demo bucket and feed.
install_s3rver
mkdir -p "$state/s3"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null; then
  node --openssl-legacy-provider "$root/tests/s3/node_modules/s3rver/bin/s3rver.js" -d "$state/s3" \
    -a 127.0.0.1 -p "$s3_port" --silent --no-vhost-buckets --configure-bucket catalog-raw >"$state/s3rver.log" 2>&1 &
  s3_pid=$!
  add_cleanup "kill $s3_pid 2>/dev/null || true"
  wait_for_port "$s3_port" 30 || die "s3rver did not start (see $state/s3rver.log)"
fi
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
"$(s3_python)" - "$s3_port" "$root/tests/data/demo/acme-feed.csv" <<'PY'
import sys, botocore.session
port, path = sys.argv[1], sys.argv[2]
s3 = botocore.session.get_session().create_client(
    "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
    aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
with open(path, "rb") as f:
    s3.put_object(Bucket="catalog-raw", Key="raw/partners/acme/acme-feed.csv", Body=f.read())
PY

export DATABASE_URL="host=127.0.0.1 port=$pg_port user=postgres dbname=catalog"
export S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_FORCE_PATH_STYLE=true S3_RAW_BUCKET=catalog-raw
export AUTH_DISABLED=1 PORT=$port LOG_FORMAT=${LOG_FORMAT:-text}
build/catalog-api serve &
api_pid=$!
add_cleanup "kill -TERM $api_pid 2>/dev/null; wait $api_pid 2>/dev/null || true"
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$api_pid" 2>/dev/null || die "catalog-api exited during start-up"
  sleep 0.1
done
if curl -fsS -o /dev/null "http://127.0.0.1:$port/jobs" 2>/dev/null; then
  curl -fsS -X PUT "http://127.0.0.1:$port/jobs/demo" -H 'Content-Type: application/json' \
    -d '{"source":"acme","uri":"s3://catalog-raw/raw/partners/acme/acme-feed.csv"}' >/dev/null
fi
log "catalog-api is up on http://127.0.0.1:$port (Ctrl-C to stop). Try:"
log "  curl http://127.0.0.1:$port/health"
wait "$api_pid"
