#!/usr/bin/env bash
# Builds the four Lambda functions with SAM (rust-cargolambda) and puts the deployed
# stackdock.toml beside each bootstrap, where the functions read it (STACKDOCK_CONFIG, the
# template's ConfigPath, defaults to `stackdock.toml` relative to /var/task), with every
# `user_data_file` it references at the same path relative to it (infra/bundle-config.py, which
# refuses a path that leaves the config's directory).
#
# SAM's rust-cargolambda builder copies only target/lambda/<bin>/bootstrap into the artifact
# directory, so the config is copied in after `sam build`; `sam deploy` then zips each
# .aws-sam/build/<Function>/ directory as it is. `--language-extensions`: the template's
# Fn::ForEach (AWS::LanguageExtensions) is kept as it is for CloudFormation to expand.
#
# Usage: infra/build.sh [extra `sam build` arguments, e.g. --parallel]
#        infra/build.sh --check   only the checks below (the Lambda target, the bundle), no build
# Env:   STACKDOCK_DEPLOY_CONFIG  the file to deploy (default: stackdock.toml at the repo root)
#        STACKDOCK_CONFIG_NAME    its name beside the bootstrap (default: stackdock.toml; must
#                                 match the ConfigPath parameter when that is a relative path)
#        STACKDOCK_SECRET_PREFIX  the stack's SecretPrefix parameter (default: stackdock/)
#        STACKDOCK_ALLOWED_ENDPOINTS  the stack's AllowedEndpoints, comma-separated (default: none)
#
# Before building, the config is checked for the Lambda target exactly as the deployed functions
# check it at start (`stackdock validate --target lambda`): credentials only `{ secret = … }`
# under the secret prefix, endpoints only the provider's published https API or an allowed origin.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${STACKDOCK_DEPLOY_CONFIG:-stackdock.toml}
name=${STACKDOCK_CONFIG_NAME:-stackdock.toml}
build_dir=.aws-sam/build
functions=(SyncFunction SyncDockFunction ApiFunction ApplyApiFunction ApplyFunction)

if [[ ! -f $config ]]; then
  echo "infra/build.sh: $config not found; set STACKDOCK_DEPLOY_CONFIG to the stackdock.toml to deploy" >&2
  exit 1
fi
check_only=false
if [[ ${1:-} == --check ]]; then
  check_only=true
  shift
fi
for arg in "$@"; do
  case $arg in
    -b | --build-dir | --build-dir=*)
      echo "infra/build.sh: the build directory is fixed at $build_dir (sam deploy reads it from there)" >&2
      exit 1
      ;;
  esac
done

# The pinned tools (sam, cargo-lambda and the zig it needs) live in .venv-tools when
# scripts/setup-tools.sh installed them; cargo-lambda finds zig through the python3 on PATH.
if [[ -x .venv-tools/bin/sam ]]; then
  export PATH="$PWD/.venv-tools/bin:$PATH"
fi
export SAM_CLI_TELEMETRY=0

# Refuse a config the functions would refuse, before spending minutes on the build.
validate=(validate --target lambda --secret-prefix "${STACKDOCK_SECRET_PREFIX:-stackdock/}")
IFS=',' read -r -a allowed <<<"${STACKDOCK_ALLOWED_ENDPOINTS:-}"
for origin in "${allowed[@]}"; do
  origin=${origin//[[:space:]]/}
  [[ -n $origin ]] && validate+=(--allow-endpoint "$origin")
done
cargo run --locked --quiet -p stackdock-cli -- --config "$config" "${validate[@]}"

# Refuse a config whose user_data_files cannot be bundled before spending minutes on the build.
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
python3 infra/bundle-config.py "$config" "$check/$name" >/dev/null
if $check_only; then
  echo "infra/build.sh: $config can be deployed (checks only, nothing built)"
  exit 0
fi

sam build --beta-features --language-extensions -t infra/template.yaml "$@"

for fn in "${functions[@]}"; do
  dir=$build_dir/$fn
  if [[ ! -f $dir/bootstrap ]]; then
    echo "infra/build.sh: $dir/bootstrap is missing after sam build" >&2
    exit 1
  fi
  python3 infra/bundle-config.py "$config" "$dir/$name"
done
