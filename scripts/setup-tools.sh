#!/usr/bin/env bash
# Installs the pinned Python-packaged tools the tests and checks use into `.venv-tools/` at the
# workspace root (moto server for DynamoDB and Secrets Manager). Idempotent: a package already at
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
