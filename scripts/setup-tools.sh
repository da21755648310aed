#!/usr/bin/env bash
# Installs the pinned Python-packaged tools the tests and checks use into `.venv-tools/` at the
# workspace root (moto server for DynamoDB and Secrets Manager, Playwright for the report's browser
# test), and Debian's Chromium for that test when it is missing. Idempotent: a package already at
# its pinned version is skipped, so a second run is instant. Quiet unless something fails.
#
# To add a tool: add one `requirement` line below (exact `==` pin).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-tools

requirements=(
  'moto[server]==5.2.5'
  'cfn-lint==1.58.0'
  'aws-sam-cli==1.170.0'
  'cargo-lambda==1.9.2'
  'playwright==1.49.1'
)

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs a command silently; on failure prints its output and stops.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    echo "setup-tools: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

if [[ ! -x $VENV/bin/python ]]; then
  quiet python3 -m venv "$VENV"
fi

# The name without extras or pin (`moto[server]==5.2.5` → `moto`) and its pinned version.
installed_version() {
  "$VENV/bin/python" -c 'import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass' "$1"
}

missing=()
for requirement in "${requirements[@]}"; do
  name=${requirement%%==*}
  name=${name%%[*}
  pinned=${requirement##*==}
  if [[ $(installed_version "$name") != "$pinned" ]]; then
    missing+=("$requirement")
  fi
done

if ((${#missing[@]})); then
  quiet "$VENV/bin/pip" install --disable-pip-version-check --quiet "${missing[@]}"
fi

# The fleet report's browser test (tests/browser) drives Debian's Chromium through Playwright.
if [[ -z ${STACKDOCK_CHROMIUM:-} ]] && ! command -v chromium >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "setup-tools: Chromium is missing and apt-get is not available: install Chromium and set STACKDOCK_CHROMIUM to its path" >&2
    exit 1
  fi
  sudo_=()
  if [[ $(id -u) != 0 ]]; then sudo_=(sudo); fi
  quiet "${sudo_[@]}" apt-get update -q
  quiet env DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -q --no-install-recommends chromium
fi
