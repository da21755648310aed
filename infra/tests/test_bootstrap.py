"""Checks over infra/bootstrap.yaml and the policy files docs/deploy.md includes.

The bootstrap's policies are rendered with the documented example values (account
111122223333, us-east-1, stack and table prefix `stackdock`, bucket `my-stackdock-artifacts`,
repository OWNER/REPO) and must equal infra/policies/*.json exactly, so the documentation shows
the policies that are tested. Then: the deployer can only make change sets of its stack through
the service role and pass only that role; the service role cannot create a role without the
boundary nor attach a managed policy; nothing the bootstrap names falls under the names the
service role may edit; every (action, resource) of every role in infra/template.yaml is inside
the boundary; the plan caller's policy reaches only the plan API.

`python3 infra/tests/test_bootstrap.py --write` rewrites the policy files from the template.
"""

import fnmatch
import json
import re
import sys
import unittest
from pathlib import Path

from cfnlint.decode import decode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_template  # noqa: E402

from reliability import held

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "infra" / "bootstrap.yaml"
POLICIES = ROOT / "infra" / "policies"

ACCOUNT = "111122223333"
REGION = "us-east-1"
EXAMPLE = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "stackdock",
    "AppStackName": "stackdock",
    "TablePrefix": "stackdock",
    "SecretPrefix": "stackdock/",
    "ArtifactsBucket": "my-stackdock-artifacts",
    "ArtifactsPrefix": "stackdock",
    "GitHubRepository": "OWNER/REPO",
    "GitHubOidcProviderArn": "",
    "GitHubOidcProvider": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
    "FunctionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary-stackdock-functions",
    "DeployServiceRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/cfn-stackdock-deploy",
}

# file → (resource, where its document is)
FILES = {
    "functions-boundary.json": ("FunctionsBoundary", "managed"),
    "deploy-service-role.json": ("DeployServiceRole", "inline"),
    "deployer.json": ("GitHubDeployRole", "inline"),
    "deploy-trust.json": ("GitHubDeployRole", "trust"),
    "plan-caller.json": ("GitHubPlanRole", "inline"),
    "plan-trust.json": ("GitHubPlanRole", "trust"),
}
PLAN_API = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stackdock-api"
APPLY_API = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stackdock-api-apply"
APPLY_WORKER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stackdock-apply"


def render(value, names):
    """Resolves Ref, Fn::Sub, Fn::GetAtt and Fn::If (the CreateOidcProvider one) with `names`."""
    if isinstance(value, dict):
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return names[arg]
            if fn == "Fn::GetAtt":
                return names[".".join(arg) if isinstance(arg, list) else arg]
            if fn == "Fn::Sub":
                return re.sub(r"\$\{([^}!]+)\}", lambda m: names[m.group(1)], arg)
            if fn == "Fn::If":
                return render(arg[1], names)
        return {k: render(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, names) for v in value]
    return value


def load():
    template, problems = decode(str(BOOTSTRAP))
    if problems:
        raise AssertionError(f"{BOOTSTRAP} does not parse: {problems}")
    return template


def document(template, resource, where):
    props = template["Resources"][resource]["Properties"]
    if where == "managed":
        doc = props["PolicyDocument"]
    elif where == "inline":
        (policy,) = props["Policies"]
        doc = policy["PolicyDocument"]
    else:
        doc = props["AssumeRolePolicyDocument"]
    return render(json.loads(json.dumps(doc)), EXAMPLE)


def as_list(value):
    return value if isinstance(value, list) else [value]


def matches(pattern, arn):
    """IAM resource matching: `*` any run of characters, `?` one character, case-sensitive."""
    return fnmatch.fnmatchcase(arn, pattern)


def allows(doc, action, resource):
    allowed = False
    for s in as_list(doc["Statement"]):
        hit = any(fnmatch.fnmatchcase(action, a) for a in as_list(s["Action"])) and any(
            matches(r, resource) for r in as_list(s["Resource"]))
        if hit and s["Effect"] == "Deny" and "Condition" not in s:
            return False
        if hit and s["Effect"] == "Allow":
            allowed = True
    return allowed


def statements(doc):
    return as_list(doc["Statement"])


class PolicyFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load()

    def test_each_file_is_the_bootstrap_policy_rendered_with_the_example_values(self):
        for name, (resource, where) in FILES.items():
            with self.subTest(file=name):
                on_disk = json.loads((POLICIES / name).read_text())
                self.assertEqual(on_disk, document(self.t, resource, where),
                                 f"infra/policies/{name} differs from {resource} in infra/bootstrap.yaml; "
                                 "run python3 infra/tests/test_bootstrap.py --write")

    def test_docs_include_every_policy_file_verbatim(self):
        docs = (ROOT / "docs" / "deploy.md").read_text()
        for name in list(FILES) + ["apply-caller.json"]:
            with self.subTest(file=name):
                text = (POLICIES / name).read_text().strip()
                self.assertTrue(text in docs, f"docs/deploy.md must show infra/policies/{name} as it is")
        held("docs/deploy.md gives the deployer and caller policies exactly as tested (item 3)")


class Deployer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load()
        cls.deployer = document(cls.t, "GitHubDeployRole", "inline")
        cls.service = document(cls.t, "DeployServiceRole", "inline")
        cls.boundary = document(cls.t, "FunctionsBoundary", "managed")

    def test_the_deployer_gets_only_its_stack_the_service_role_and_the_artifacts(self):
        stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/stackdock/*"
        for s in statements(self.deployer):
            for action in as_list(s["Action"]):
                service = action.split(":")[0]
                self.assertIn(service, ("cloudformation", "iam", "s3"), action)
                if service == "iam":
                    self.assertEqual(action, "iam:PassRole")
                    self.assertEqual(s["Resource"], EXAMPLE["DeployServiceRole.Arn"])
                    self.assertEqual(s["Condition"], {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}})
                if service == "s3":
                    for r in as_list(s["Resource"]):
                        self.assertTrue(r.startswith("arn:aws:s3:::my-stackdock-artifacts"), r)
                if action == "cloudformation:CreateChangeSet":
                    for r in as_list(s["Resource"]):
                        if ":stack/" in r:
                            self.assertEqual(r, stack)
                            self.assertEqual(s["Condition"], {"StringEquals": {
                                "cloudformation:RoleArn": EXAMPLE["DeployServiceRole.Arn"]}},
                                "change sets only through the service role")
                        else:
                            self.assertRegex(r, r":aws:transform/")
                elif service == "cloudformation" and s["Resource"] != "*":
                    self.assertEqual(s["Resource"], stack)
                elif service == "cloudformation":
                    self.assertIn(action, ("cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"))
        for forbidden in ("cloudformation:CreateStack", "cloudformation:UpdateStack", "iam:CreateRole",
                          "lambda:UpdateFunctionCode", "iam:PutRolePolicy"):
            self.assertFalse(allows(self.deployer, forbidden, stack), forbidden)
        held("the GitHub deployer gets only its stack, the service role and the artifacts (item 3)")

    def test_only_cloudformation_assumes_the_service_role(self):
        trust = document(self.t, "DeployServiceRole", "trust")
        (s,) = statements(trust)
        self.assertEqual(s["Principal"], {"Service": "cloudformation.amazonaws.com"})
        self.assertEqual(s["Action"], "sts:AssumeRole")
        held("only CloudFormation assumes the deployment service role (item 3)")

    def test_the_service_role_creates_roles_only_with_the_boundary(self):
        boundary = EXAMPLE["FunctionsBoundary"]
        for s in statements(self.service):
            actions = as_list(s["Action"])
            for action in actions:
                self.assertNotIn("*", action)
                self.assertNotIn(action, ("iam:AttachRolePolicy", "iam:CreatePolicy", "iam:CreatePolicyVersion",
                                          "iam:CreateUser", "iam:PutUserPolicy", "iam:AttachUserPolicy",
                                          "iam:CreateAccessKey"), "no managed policies, no users")
                if action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary") \
                        and s["Effect"] == "Allow":
                    self.assertEqual(s["Condition"], {"StringEquals": {"iam:PermissionsBoundary": boundary}})
                if action.startswith("iam:") and s["Effect"] == "Allow":
                    for r in as_list(s["Resource"]):
                        self.assertEqual(r, f"arn:aws:iam::{ACCOUNT}:role/stackdock-*", action)
        self.assertTrue(any(s["Effect"] == "Deny" and s["Action"] == "iam:DeleteRolePermissionsBoundary"
                            for s in statements(self.service)))
        held("roles are created only inside the permissions boundary (item 3)")

    def test_nothing_the_bootstrap_names_is_under_the_stacks_names(self):
        patterns = {r for s in statements(self.service) if s["Effect"] == "Allow"
                    and any(a.startswith("iam:") for a in as_list(s["Action"]))
                    for r in as_list(s["Resource"])}
        self.assertTrue(patterns)
        own = [EXAMPLE["DeployServiceRole.Arn"], EXAMPLE["FunctionsBoundary"],
               f"arn:aws:iam::{ACCOUNT}:role/github-stackdock-plan",
               f"arn:aws:iam::{ACCOUNT}:role/github-stackdock-deploy"]
        for name, (resource, _) in FILES.items():
            props = self.t["Resources"][resource]["Properties"]
            given = props.get("RoleName") or props.get("ManagedPolicyName")
            self.assertFalse(render(given, EXAMPLE).lower().startswith("stackdock"), given)
        for arn in own:
            for pattern in patterns:
                self.assertFalse(matches(pattern, arn) or matches(pattern.lower(), arn.lower()),
                                 f"{pattern} reaches {arn}")

    def test_the_boundary_grants_no_iam_and_no_wildcard_resource(self):
        for s in statements(self.boundary):
            self.assertEqual(s["Effect"], "Allow")
            for action in as_list(s["Action"]):
                self.assertFalse(action.startswith(("iam:", "sts:", "kms:")), action)
                self.assertNotIn("*", action)
            for r in as_list(s["Resource"]):
                if r == "*":
                    # The one exception, and exactly it: a state machine's log delivery, which
                    # CloudWatch Logs authorizes on "*" only (it names no resource, reads no log).
                    self.assertEqual(sorted(as_list(s["Action"])), sorted(test_template.LOG_DELIVERY), s)

    def test_every_role_of_the_stack_is_inside_the_boundary(self):
        stack, _ = decode(str(test_template.TEMPLATE))
        names = dict(EXAMPLE)
        arn = {
            "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
            "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
            "AWS::Serverless::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
            "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
            "AWS::Serverless::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
            "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
        }
        name_of = {"AWS::DynamoDB::Table": "TableName", "AWS::Logs::LogGroup": "LogGroupName",
                   "AWS::Serverless::Function": "FunctionName", "AWS::SQS::Queue": "QueueName",
                   "AWS::Serverless::StateMachine": "Name", "AWS::SNS::Topic": "TopicName"}
        for logical, res in stack["Resources"].items():
            if isinstance(res, dict) and res.get("Type") in arn:
                n = render(res["Properties"][name_of[res["Type"]]], names)
                names[f"{logical}.Arn"] = arn[res["Type"]].format(r=REGION, a=ACCOUNT, n=n)
                if res["Type"] in ("AWS::Serverless::StateMachine", "AWS::SNS::Topic"):
                    # Ref of a state machine or a topic is its ARN.
                    names[logical] = names[f"{logical}.Arn"]
        checked = 0
        for role in test_template.EXPECTED:
            for action, resource in test_template.role_pairs(stack, role):
                concrete = render({"Fn::Sub": resource}, names)
                with self.subTest(role=role, action=action, resource=concrete):
                    self.assertTrue(allows(self.boundary, action, concrete), "outside the boundary")
                checked += 1
        self.assertGreater(checked, 50)


class Callers(unittest.TestCase):
    def test_the_plan_caller_reaches_the_plan_api_only(self):
        plan = json.loads((POLICIES / "plan-caller.json").read_text())
        self.assertTrue(allows(plan, "lambda:InvokeFunctionUrl", PLAN_API))
        self.assertTrue(allows(plan, "lambda:InvokeFunction", PLAN_API))
        for other in (APPLY_API, APPLY_WORKER, APPLY_API + ":live"):
            for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
                self.assertFalse(allows(plan, action, other), f"plan caller may {action} {other}")

    def test_the_apply_caller_reaches_the_apply_api_only_through_its_url(self):
        apply = json.loads((POLICIES / "apply-caller.json").read_text())
        self.assertTrue(allows(apply, "lambda:InvokeFunctionUrl", APPLY_API))
        self.assertFalse(allows(apply, "lambda:InvokeFunctionUrl", APPLY_WORKER))
        self.assertFalse(allows(apply, "lambda:InvokeFunction", APPLY_WORKER),
                         "the worker is started by the apply API, never by a caller")
        for s in statements(apply):
            if s["Action"] == "lambda:InvokeFunction":
                self.assertEqual(s["Condition"], {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})
            if s["Action"] == "lambda:InvokeFunctionUrl":
                self.assertEqual(s["Condition"], {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}})

    def test_both_callers_need_both_actions_through_the_url(self):
        for name in ("plan-caller.json", "apply-caller.json"):
            doc = json.loads((POLICIES / name).read_text())
            self.assertEqual(sorted(s["Action"] for s in statements(doc)),
                             ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"], name)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        template = load()
        for name, (resource, where) in FILES.items():
            (POLICIES / name).write_text(json.dumps(document(template, resource, where), indent=2) + "\n")
            print(f"wrote infra/policies/{name}")
    else:
        unittest.main()
