# Throw-away PostgreSQL clusters on free loopback ports. Sourced, not run.
# Needs scripts/lib/common.sh.

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  printf '%s' "$dir"
}

# start_postgres DIR PORT: initdb (if needed) and start a cluster in DIR,
# listening only on 127.0.0.1:PORT with trust auth for local tests.
start_postgres() {
  local dir=$1 port=$2 bin
  bin=$(pg_bindir)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
      { cat "$dir.initdb.log" >&2; die "initdb failed in $dir"; }
  fi
  as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start on port $port"; }
}

# stop_postgres DIR
stop_postgres() {
  local dir=$1
  as_postgres "$(pg_bindir)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# start_replica DIR PORT PRIMARY_PORT: a hot-standby streaming replica of the
# cluster on PRIMARY_PORT (pg_basebackup -R: standby.signal and
# primary_conninfo), started like any other cluster. initdb's default
# pg_hba.conf already trusts replication connections from 127.0.0.1, and the
# defaults wal_level=replica and max_wal_senders=10 allow streaming. Restart
# a stopped one with start_postgres DIR PORT: it stays a replica.
start_replica() {
  local dir=$1 port=$2 primary_port=$3 bin
  bin=$(pg_bindir)
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir" -R -X stream -c fast \
    >"$dir.basebackup.log" 2>&1 || { cat "$dir.basebackup.log" >&2; die "pg_basebackup from port $primary_port failed"; }
  start_postgres "$dir" "$port"
}

# enable_tls DIR PORT CERTS: TLS on the running cluster in DIR, with a
# certificate for the host name "localhost" only, signed by a throw-away CA.
# Leaves in CERTS: ca.pem (that CA) and other-ca.pem (a CA that signed
# nothing), for tests of libpq's verify-full.
enable_tls() {
  local dir=$1 port=$2 certs=$3
  mkdir -p "$certs"
  (
    cd "$certs"
    local subj
    for ca in ca other-ca; do
      [ $ca = ca ] && subj="/CN=catalog-test-ca" || subj="/CN=catalog-test-other-ca"
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "$subj" -keyout $ca.key -out $ca.pem 2>/dev/null
    done
    openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
      -out server.crt 2>/dev/null
  ) || die "could not make the test CA and server certificate (openssl)"
  install -m 600 "$certs/server.key" "$dir/server.key"
  install -m 644 "$certs/server.crt" "$dir/server.crt"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/server.key" "$dir/server.crt"; fi
  as_postgres "$(pg_bindir)/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null || die "could not turn TLS on (port $port)"
  # The reload is asynchronous, and a key it cannot read leaves TLS off: wait until the server says on.
  local i
  for i in $(seq 1 100); do
    [ "$(as_postgres "$(pg_bindir)/psql" -X -qtA -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "SHOW ssl")" = on ] &&
      return 0
    sleep 0.1
  done
  tail -n 20 "$dir/server.log" >&2
  die "TLS did not come on (port $port)"
}
