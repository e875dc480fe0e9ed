# S3 side of the test environment. Sourced by scripts/test.sh (after
# scripts/lib/common.sh); `start_s3 WORKDIR` starts s3rver on a free loopback
# port with the signature-verifying proxy in front of it and exports what the
# integration tests read:
#   CATALOG_TEST_S3_ENDPOINT      http://127.0.0.1:<proxy port>  (every request SigV4-verified by botocore)
#   CATALOG_TEST_S3_BUCKET        a bucket that exists
#   CATALOG_TEST_S3_REGION        region the proxy verifies against
#   CATALOG_TEST_S3_ACCESS_KEY_ID / CATALOG_TEST_S3_SECRET_ACCESS_KEY   the accepted identity
#   CATALOG_TEST_S3_RAW_ENDPOINT  http://127.0.0.1:<s3rver port>  (unverified; benches only)
#   CATALOG_TEST_PYTHON           a python3 that can import botocore

_s3_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

# A python3 with botocore: Debian's first (python3-botocore), else the one on PATH.
s3_python() {
  local p
  for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import botocore' 2>/dev/null; then
      command -v "$p"
      return 0
    fi
  done
  return 1
}

# Installs s3rver into tests/s3/node_modules from the committed lock file; a
# second call is a no-op.
install_s3rver() {
  local root
  root=$(_s3_root)
  if [ -x "$root/tests/s3/node_modules/.bin/s3rver" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed for the S3 test server (scripts/install-deps.sh installs it)"
  log "installing s3rver (npm ci in tests/s3)"
  (cd "$root/tests/s3" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm ci in tests/s3 failed"
}

start_s3() {
  local work=$1 root py s3_port proxy_port i
  root=$(_s3_root)
  install_s3rver
  py=$(s3_python) || die "python3 with botocore (Debian package python3-botocore) is needed for the S3 verify proxy"
  mkdir -p "$work/data"

  export CATALOG_TEST_S3_BUCKET=catalog-test
  export CATALOG_TEST_S3_REGION=us-east-1
  export CATALOG_TEST_S3_ACCESS_KEY_ID=AKIACATALOGTEST0001
  # A fresh random secret per run; it only ever lives in this environment and a 0600 file.
  CATALOG_TEST_S3_SECRET_ACCESS_KEY=$("$py" -c 'import secrets; print(secrets.token_urlsafe(30))')
  export CATALOG_TEST_S3_SECRET_ACCESS_KEY
  (umask 077 && printf '%s\n' "$CATALOG_TEST_S3_SECRET_ACCESS_KEY" >"$work/secret")
  export CATALOG_TEST_PYTHON=$py

  for i in 1 2 3; do
    s3_port=$(free_port)
    # s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
    node --openssl-legacy-provider "$root/tests/s3/node_modules/s3rver/bin/s3rver.js" -d "$work/data" -a 127.0.0.1 -p "$s3_port" --silent \
      --no-vhost-buckets --configure-bucket "$CATALOG_TEST_S3_BUCKET" >"$work/s3rver.log" 2>&1 &
    echo $! >"$work/s3rver.pid"
    if wait_for_port "$s3_port" 30; then break; fi
    kill "$(cat "$work/s3rver.pid")" 2>/dev/null || true
    [ "$i" = 3 ] && { cat "$work/s3rver.log" >&2; die "s3rver did not start"; }
  done
  add_cleanup "kill \$(cat '$work/s3rver.pid') 2>/dev/null || true"

  for i in 1 2 3; do
    proxy_port=$(free_port)
    "$py" "$root/scripts/s3_verify_proxy.py" --port "$proxy_port" --upstream-port "$s3_port" \
      --region "$CATALOG_TEST_S3_REGION" --access-key "$CATALOG_TEST_S3_ACCESS_KEY_ID" \
      --secret-key-file "$work/secret" >"$work/proxy.log" 2>&1 &
    echo $! >"$work/proxy.pid"
    if wait_for_port "$proxy_port" 30; then break; fi
    kill "$(cat "$work/proxy.pid")" 2>/dev/null || true
    [ "$i" = 3 ] && { cat "$work/proxy.log" >&2; die "S3 verify proxy did not start"; }
  done
  add_cleanup "kill \$(cat '$work/proxy.pid') 2>/dev/null || true"

  export CATALOG_TEST_S3_ENDPOINT="http://127.0.0.1:$proxy_port"
  export CATALOG_TEST_S3_RAW_ENDPOINT="http://127.0.0.1:$s3_port"
  log "S3: s3rver on 127.0.0.1:$s3_port, verifying proxy on $CATALOG_TEST_S3_ENDPOINT"
}

# s3_bench_object DIR MIB: starts s3rver (start_s3 DIR), uploads MIB MiB of
# random bytes with curl and exports the CATALOG_BENCH_S3_* that
# bench/s3_bench reads. Throughput is timed against s3rver directly (its own
# account): the verifying proxy is a correctness check, not something to time.
s3_bench_object() {
  local work=$1 mib=$2 encoded_key
  start_s3 "$work"
  export CATALOG_BENCH_S3_ENDPOINT=$CATALOG_TEST_S3_RAW_ENDPOINT
  export CATALOG_BENCH_S3_BUCKET=$CATALOG_TEST_S3_BUCKET
  export CATALOG_BENCH_S3_KEY="bench/large object ${mib}MiB.bin"
  export CATALOG_BENCH_S3_ACCESS_KEY_ID=S3RVER
  export CATALOG_BENCH_S3_SECRET_ACCESS_KEY=S3RVER
  export CATALOG_BENCH_S3_REGION=$CATALOG_TEST_S3_REGION
  encoded_key=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$CATALOG_BENCH_S3_KEY")
  log "uploading a $mib MiB object for the S3 streaming benchmark"
  head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/object.bin"
  curl -sS --fail -o /dev/null --aws-sigv4 "aws:amz:$CATALOG_BENCH_S3_REGION:s3" \
    --user "S3RVER:S3RVER" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -T "$work/object.bin" "$CATALOG_BENCH_S3_ENDPOINT/$CATALOG_BENCH_S3_BUCKET/$encoded_key"
  rm -f "$work/object.bin"
}
