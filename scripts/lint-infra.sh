#!/usr/bin/env bash
# Lints the SAM template with the pinned tools in .venv-tools (scripts/setup-tools.sh installs
# them): cfn-lint, then `sam validate --lint` and `sam validate` (the SAM transform itself, which
# catches what cfn-lint misses, e.g. a bad FunctionUrlConfig AuthType), for infra/template.yaml
# and infra/bootstrap.yaml; then the template tests in infra/tests. Offline; exits non-zero on
# the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv-tools/bin
template=infra/template.yaml
for tool in cfn-lint sam; do
  if [[ ! -x $bin/$tool ]]; then
    echo "lint-infra: $bin/$tool is missing; run scripts/setup-tools.sh" >&2
    exit 1
  fi
done

# sam validate needs a region to expand the template, and no credentials.
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

bootstrap=infra/bootstrap.yaml
echo "lint-infra: cfn-lint $template $bootstrap"
"$bin/cfn-lint" "$template" "$bootstrap"
echo "lint-infra: sam validate --lint -t $bootstrap"
"$bin/sam" validate --lint -t "$bootstrap"
echo "lint-infra: sam validate --lint -t $template"
"$bin/sam" validate --lint -t "$template"
# --language-extensions: expand AWS::LanguageExtensions (the Fn::ForEach over the caller lists)
# locally, as `sam build` and `sam deploy` must too; CloudFormation expands it again at deploy.
echo "lint-infra: sam validate --language-extensions -t $template --region us-east-1"
"$bin/sam" validate --language-extensions -t "$template" --region us-east-1
# What the linters cannot see: each role's exact (action, resource) pairs, who may call which
# URL, the alarms, the bootstrap's policies against infra/policies/*.json, and infra/build.sh's
# copy of the config and its user_data_files.
echo "lint-infra: infra/tests (python -m unittest)"
"$bin/python" -m unittest discover -s infra/tests
echo "lint-infra: ok"
