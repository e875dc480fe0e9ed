# Shared helpers for the project's scripts. Sourced, not run.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A free TCP port on 127.0.0.1, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until 127.0.0.1:$1 accepts connections, at most $2 seconds (default 30).
wait_for_port() {
  local port=$1 limit=${2:-30} i
  for ((i = 0; i < limit * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Runs a command as the unprivileged user PostgreSQL needs when we are root.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Cleanup hooks run in reverse order on exit.
CLEANUP_HOOKS=()
add_cleanup() { CLEANUP_HOOKS+=("$1"); }
run_cleanup() {
  local i
  for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do eval "${CLEANUP_HOOKS[$i]}" || true; done
}
