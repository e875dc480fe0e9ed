#!/usr/bin/env bash
# Installs every Debian package the project builds, tests and runs with.
# Safe to run twice: apt-get skips what is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-system-dev libpqxx-dev libpq-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libtinyxml2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcsv-dev
  libxml2-dev  # streaming XML feeds (RSS/Atom; SAX2 push parser), no DTD processing
  postgresql postgresql-client python3 python3-botocore curl procps
  openssl  # the test CA of the PostgreSQL TLS cluster (scripts/lib/postgres.sh enable_tls)
  iproute2  # ss: scripts/run-local.sh and its test see who holds a port
  chromium  # headless, for the /docs browser test (tests/docs/docs_ui_browser_test.sh)
  # scripts/fuzz.sh: clang and its libFuzzer/sanitizer runtime (Debian 12: clang 14)
  clang libclang-rt-14-dev
)
# nodejs/npm: for the S3-compatible test server (s3rver), the Swagger UI files
# the build embeds (docs/ui, `npm ci` run by CMake) and the OpenAPI lint
# (tests/docs). A machine that
# already has node with npm (e.g. from another repository) keeps it.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "==> installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
