#!/usr/bin/env bash
# The Lambda functions as Lambda runs them, offline: builds them with `cargo lambda build`, starts
# the provider sandbox and moto, emulates the runtime with `cargo lambda watch`, invokes `sync`
# with the EventBridge schedule fixture and calls the API over its Function URL path
# (/v1/health, /v1/plan). Exits non-zero on any failure, printing the logs; stops every process
# it started. Everything listens on 127.0.0.1.
#
# Needs the tools of scripts/setup-tools.sh (moto, cargo-lambda) in .venv-tools/.
# Ports: LAMBDA_PORT (default 9000); the sandbox and moto take free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-tools
# cargo lambda needs the venv's python first on PATH (it finds zig through it) and a writable
# cache for zig.
export PATH="$VENV/bin:$PATH" XDG_CACHE_HOME="$ROOT/.cache"
LAMBDA_PORT=${LAMBDA_PORT:-9000}

work=$(mktemp -d)
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    # Each server runs in its own process group (setsid): stop the group, so children such as
    # the function processes `cargo lambda watch` spawned stop too.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n==> lambda-smoke: %s\n' "$*"; }

fail() {
  echo "lambda-smoke: FAILED: $*" >&2
  local log
  for log in "$work"/*.log; do
    [[ -f $log ]] || continue
    echo "--- $(basename "$log") (last 60 lines)" >&2
    tail -n 60 "$log" >&2
  done
  exit 1
}

# Starts a server in its own process group, logging to $work/<name>.log; remembers its pid.
start() {
  local name=$1
  shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `curl` gets any HTTP answer from $1 (at most ~60 s).
wait_http() {
  local i
  for i in $(seq 1 300); do
    if curl -s -o /dev/null --max-time 2 "$1"; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

for tool in moto_server cargo-lambda; do
  [[ -x $VENV/bin/$tool ]] || fail "$VENV/bin/$tool is missing: run scripts/setup-tools.sh"
done

step "build (cargo build --workspace, then cargo lambda build)"
# `cargo lambda watch` runs the host build: prebuilt here so the first invoke does not compile.
cargo build --workspace --bins --locked
# CI has just built the release artifacts (`cargo lambda build --release`): checking them here
# instead of building a second, debug set saves a full compile for the Lambda target.
if [[ ${SMOKE_RELEASE_ARTIFACTS:-0} != 1 ]]; then
  cargo lambda build --locked -p stackdock-fn-sync -p stackdock-fn-api -p stackdock-fn-apply
fi
for bin in sync api apply; do
  [[ -s target/lambda/$bin/bootstrap ]] || fail "cargo lambda build made no target/lambda/$bin/bootstrap"
done

step "provider sandbox and moto"
sandbox_port=$(free_port)
start sandbox "$ROOT/target/debug/stackdock" sandbox --port "$sandbox_port"
moto_port=$(free_port)
start moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
wait_http "http://127.0.0.1:$sandbox_port/" || fail "the sandbox did not start"
wait_http "http://127.0.0.1:$moto_port/moto-api/" || fail "moto did not start"

# The example fleet, each dock pointed at the sandbox (the endpoint replaces the provider's base
# URL); cloud-init beside it for `user_data_file`.
config=$work/stackdock.toml
cp -r cloud-init "$work/"
python3 - "$ROOT/stackdock.toml" "$config" "$sandbox_port" <<'PY'
import re, sys
source, target, port = sys.argv[1], sys.argv[2], sys.argv[3]
prefixes = {"vultr": "/vultr/v2", "digitalocean": "/digitalocean/v2", "linode": "/linode/v4",
            "vercel": "/vercel", "cloudflare": "/cloudflare/client/v4"}
out = []
for line in open(source).read().splitlines():
    out.append(line)
    m = re.match(r'provider = "(\w+)"', line)
    if m:
        out.append(f'endpoint = "http://127.0.0.1:{port}{prefixes[m.group(1)]}"')
open(target, "w").write("\n".join(out) + "\n")
PY

# The functions check the config for the Lambda target (design §11): credentials only from
# Secrets Manager under STACKDOCK_SECRET_PREFIX (moto here), endpoints only on the provider's
# published https API or an allowed origin (the sandbox's).
python3 - "$config" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
out = []
provider = None
for line in text.splitlines():
    m = re.match(r'provider = "(\w+)"', line)
    if m:
        provider = m.group(1)
    if line.startswith("credentials = { env =") and provider:
        line = f'credentials = {{ secret = "stackdock/{provider}" }}'
    out.append(line)
open(path, "w").write("\n".join(out) + "\n")
PY
"$VENV/bin/python" - "$moto_port" <<'PY' || fail "creating the sandbox tokens' secrets in moto failed"
import sys, boto3
sm = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}",
                  region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
for provider in ("vultr", "digitalocean", "linode", "vercel", "cloudflare"):
    sm.create_secret(Name=f"stackdock/{provider}", SecretString=f"sandbox-{provider}-token")
PY

# Every dock of the example fleet is synced.
export SMOKE_DOCKS
SMOKE_DOCKS=$(grep -c '^provider = ' "$config")

env_vars=(
  "STACKDOCK_CONFIG=$config"
  "STACKDOCK_SECRET_PREFIX=stackdock/"
  "STACKDOCK_ALLOWED_ENDPOINTS=http://127.0.0.1:$sandbox_port"
  "STACKDOCK_TABLE_PREFIX=smoke"
  # Local only: the deployed tables come from the SAM template.
  "STACKDOCK_CREATE_TABLES=1"
  "AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port"
  "AWS_REGION=us-east-1"
  "AWS_ACCESS_KEY_ID=test"
  "AWS_SECRET_ACCESS_KEY=test"
  "RUST_LOG=info"
)
env_list=$(IFS=,; echo "${env_vars[*]}")

step "cargo lambda watch on 127.0.0.1:$LAMBDA_PORT"
start watch cargo lambda watch --ignore-changes -A 127.0.0.1 -P "$LAMBDA_PORT" --env-vars "$env_list"
wait_http "http://127.0.0.1:$LAMBDA_PORT/" || fail "cargo lambda watch did not start"

step "invoke sync with fixtures/events/example-eventbridge-schedule.json"
if ! cargo lambda invoke sync -A 127.0.0.1 -P "$LAMBDA_PORT" -o json \
  --data-file fixtures/events/example-eventbridge-schedule.json >"$work/sync.out" 2>"$work/invoke.log"; then
  fail "invoking sync failed: $(cat "$work/sync.out")"
fi
cat "$work/sync.out"
python3 - "$work/sync.out" <<'PY' || fail "unexpected sync output"
import json, os, sys
docks = int(os.environ["SMOKE_DOCKS"])
out = json.load(open(sys.argv[1]))
assert out["run_id"].startswith("sync-"), out
assert out["docks"] == docks and out["docks_failed"] == 0, out
assert out["records_written"] > 0, out
assert len(out["plan_digest"]) == 64, out
PY

step "GET /v1/health over the Function URL"
url=http://127.0.0.1:$LAMBDA_PORT/lambda-url/api
curl -sS --max-time 60 -o "$work/health.out" -w '%{http_code}' "$url/v1/health" >"$work/health.code" ||
  fail "GET /v1/health failed"
cat "$work/health.out"; echo
[[ $(cat "$work/health.code") == 200 ]] || fail "GET /v1/health answered $(cat "$work/health.code")"
python3 - "$work/health.out" <<'PY' || fail "unexpected health body"
import json, os, sys
docks = int(os.environ["SMOKE_DOCKS"])
out = json.load(open(sys.argv[1]))
assert out["status"] == "ok" and out["store"] == "reachable", out
assert out["docks"] == docks and out["docks_synced"] == docks, out
PY

step "GET /v1/plan over the Function URL"
curl -sS --max-time 60 -o "$work/plan.out" -w '%{http_code}' "$url/v1/plan" >"$work/plan.code" ||
  fail "GET /v1/plan failed"
[[ $(cat "$work/plan.code") == 200 ]] || fail "GET /v1/plan answered $(cat "$work/plan.code"): $(cat "$work/plan.out")"
python3 - "$work/plan.out" "$work/sync.out" <<'PY' || fail "unexpected plan body"
import json, sys
plan, sync = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert plan["org"] == "acme", plan["org"]
assert plan["digest"] == sync["plan_digest"], (plan["digest"], sync["plan_digest"])
assert plan["summary"]["blocked"] == 0 and plan["summary"]["error"] == 0, plan["summary"]
print("plan", plan["digest"], plan["summary"])
PY
curl -sS --max-time 60 -o "$work/markdown.out" -w '%{http_code}' "$url/v1/plan?format=markdown" >"$work/markdown.code" ||
  fail "GET /v1/plan?format=markdown failed"
[[ $(cat "$work/markdown.code") == 200 ]] && grep -q 'servers.web-1' "$work/markdown.out" ||
  fail "GET /v1/plan?format=markdown: $(cat "$work/markdown.code") $(head -c 300 "$work/markdown.out")"

curl -sS --max-time 60 -o "$work/missing.out" -w '%{http_code}' "$url/v1/nope" >"$work/missing.code" || true
[[ $(cat "$work/missing.code") == 404 ]] && grep -q '"not_found"' "$work/missing.out" ||
  fail "an unknown route answered $(cat "$work/missing.code"): $(cat "$work/missing.out")"

step "passed"
echo "lambda-smoke: 1 passed, 0 failed"
