#!/usr/bin/env bash
# pg-control.sh DIR PORT start|stop — start or stop a test cluster. Used by the
# integration test that takes PostgreSQL away under a running server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
source "$here/lib/postgres.sh"
case "${3:-}" in
  start) start_postgres "$1" "$2" ;;
  stop) stop_postgres "$1" ;;
  *) die "usage: pg-control.sh DIR PORT start|stop" ;;
esac
