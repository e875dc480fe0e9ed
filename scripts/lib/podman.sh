# Podman on this machine class, for building and smoke-testing the image.
# Sourced, not run; needs scripts/lib/common.sh. Root only.
#
# Why these settings (measured on the CI hosts, see issue 12):
#   - runtime "runc", not crun: the hosts mount hybrid cgroups (v1 controllers
#     plus an empty cgroup2 at /sys/fs/cgroup/unified) and crun fails there.
#   - default_ulimits at or below the hard limits (nofile 20000, nproc 32768):
#     podman's defaults ask for more and every container start fails.
#   - cgroupfs and file events: there is no systemd to talk to.
#   - base images cannot be pulled (no registry access), so debian:12 is built
#     from the Debian mirror apt already uses (debootstrap) and imported.

# podman_setup STATE_DIR: installs podman and friends with apt (a no-op when
# present), writes STATE_DIR/containers.conf and exports CONTAINERS_CONF so
# only this script's podman calls read it (a user's /etc/containers or
# ~/.config/containers is left alone).
podman_setup() {
  local state=$1 p missing=()
  for p in podman runc conmon debootstrap netavark uidmap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt-get update -qq
    # runc named explicitly so apt satisfies podman's "crun | runc" with it.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed"
  fi
  mkdir -p "$state"
  cat >"$state/containers.conf" <<'EOF'
# Written by scripts/lib/podman.sh; read only through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  export CONTAINERS_CONF="$state/containers.conf"
  podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1 || { podman info >&2 || true; die "podman does not work here"; }
}

# The first http(s) mirror apt is configured with for bookworm (not the
# security archive): deb822 files in sources.list.d first, then sources.list.
apt_mirror() {
  local f mirror=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { if (uris != "" && suites ~ /(^| )bookworm( |$)/ && enabled != "no") { print uris; exit } uris = ""; suites = ""; enabled = ""; next }
      tolower($1) == "uris:" { uris = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 " " }
      tolower($1) == "enabled:" { enabled = $2 }
      END { if (uris != "" && suites ~ /(^| )bookworm( |$)/ && enabled != "no") print uris }' "$f" | head -n 1)
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /^https?:/) { if ($(i + 1) == "bookworm") { print $i; exit } } }' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || die "no Debian bookworm mirror found in /etc/apt/sources.list(.d)"
  printf '%s' "${mirror%/}"
}

# The security archive apt uses, if any (same order as apt_mirror).
apt_security_mirror() {
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -v '^[[:space:]]*#' | grep -oE 'https?://[^[:space:]]+debian-security/?' | head -n 1 | sed 's:/$::'
}

# ensure_debian_base WORK_DIR: makes sure podman's store has debian:12 and
# debian:12-slim (the Dockerfile's base images). Skipped when they exist.
ensure_debian_base() {
  local work=$1 mirror security rootfs
  if podman image exists debian:12 && podman image exists debian:12-slim; then
    log "base image debian:12 already in podman's store"
    return 0
  fi
  mirror=$(apt_mirror)
  security=$(apt_security_mirror || true)
  rootfs="$work/debian-rootfs"
  rm -rf "$rootfs"
  log "debootstrap bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  # apt inside the image uses the same mirror the host does (the builds below
  # run apt-get in it with host networking).
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security"
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -rf "$rootfs/var/lib/apt/lists/"* "$rootfs/var/cache/apt/"*.bin "$rootfs/var/cache/apt/archives/"*.deb
  tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["bash"]' - debian:12 >/dev/null ||
    die "podman import of the debootstrap rootfs failed"
  podman tag debian:12 debian:12-slim
  rm -rf "$rootfs"
}
