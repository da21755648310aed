"""Checks over infra/template.yaml that cfn-lint and sam validate cannot make: who may do what.

Run by scripts/lint-infra.sh with the pinned tools' Python (`.venv-tools/bin/python -m unittest
discover -s infra/tests`); the template is parsed with cfn-lint's own decoder, so the intrinsic
tags (!GetAtt, !Sub, ...) read exactly as cfn-lint reads them. STACKDOCK_TEMPLATE names another
template to check (e.g. `git show 812004e:infra/template.yaml > /tmp/old.yaml`: every test of the
roles, URLs and alarms fails on the template before issue 19).

EXPECTED lists each function role's (action, resource) pairs: the DynamoDB actions of
shared/store/src/dynamodb for the `Store` methods each handler calls (the comments in the
template say which call needs which action). A pair the template adds or drops fails the test;
change both together, with the reason in the template.
"""

import fnmatch
import os
import unittest
from pathlib import Path

from cfnlint.decode import decode

from reliability import held

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(os.environ.get("STACKDOCK_TEMPLATE", ROOT / "infra" / "template.yaml"))

RECORD_TABLES = [
    "ServersTable",
    "BlockVolumesTable",
    "BucketsTable",
    "DatabasesTable",
    "WebServicesTable",
    "DomainsTable",
    "DomainRecordsTable",
]
SECRETS = (
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretPrefix}*"
)


def table(name):
    return "${%s.Arn}" % name


def index(name):
    return "${%s.Arn}/index/orgId-index" % name


RUNS_INDEX = "${RunsTable.Arn}/index/orgId-startedKey-index"


def pairs(actions, resources):
    return {(a, r) for a in actions for r in resources}


def records(actions):
    return pairs(actions, [table(t) for t in RECORD_TABLES])


def record_index():
    return pairs(["dynamodb:Query"], [index(t) for t in RECORD_TABLES])


def logs(group):
    return pairs(["logs:CreateLogStream", "logs:PutLogEvents"], ["${%s.Arn}" % group])


# What a state machine's role needs to log to CloudWatch Logs; CloudWatch Logs authorizes these
# on "*" only. Only the state machine's role may hold them (Roles.test_log_delivery_...).
LOG_DELIVERY = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]

EXPECTED = {
    # sync (the state machine's list-docks and plan steps): sweep stale runs, record and settle
    # the run, plan, record drift, note the plan, remediate. Invoked synchronously by the state
    # machine: no on-failure queue.
    "SyncFunctionRole": logs("SyncLogGroup")
    | pairs(["secretsmanager:GetSecretValue"], [SECRETS])
    | records(["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"])
    | record_index()
    | pairs(["dynamodb:Query", "dynamodb:PutItem"], [table("DocksTable")])
    | pairs(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"], [table("RunsTable")])
    | pairs(["dynamodb:Query"], [RUNS_INDEX])
    | pairs(["dynamodb:GetItem"], [table("LocksTable")])
    | pairs(["states:StartExecution"], ["${ApplyStateMachine}"])
    | pairs(["sns:Publish"], ["${NotifyTopic}"]),
    # sync-dock: one dock's credential, its records (commit_sync) and its status. No run, no
    # inventory read across docks, no invoke.
    "SyncDockFunctionRole": logs("SyncDockLogGroup")
    | pairs(["secretsmanager:GetSecretValue"], [SECRETS])
    | records(["dynamodb:Query", "dynamodb:UpdateItem"])
    | pairs(["dynamodb:Query", "dynamodb:PutItem"], [table("DocksTable")]),
    # plan API: reads only (BatchGetItem: inventory reads whole by key the records of docks
    # without a status, which the orgId-index holds without fullApiData).
    "ApiFunctionRole": logs("ApiLogGroup")
    | records(["dynamodb:Query", "dynamodb:BatchGetItem"])
    | record_index()
    | pairs(["dynamodb:Query"], [table("DocksTable")])
    | pairs(["dynamodb:GetItem", "dynamodb:BatchGetItem"], [table("RunsTable")])
    | pairs(["dynamodb:Query"], [RUNS_INDEX]),
    # apply API: reads, records the Pending run, looks at the lease, starts the worker.
    "ApplyApiFunctionRole": logs("ApplyApiLogGroup")
    | records(["dynamodb:Query", "dynamodb:BatchGetItem"])
    | record_index()
    | pairs(["dynamodb:Query"], [table("DocksTable")])
    | pairs(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"], [table("RunsTable")])
    | pairs(["dynamodb:GetItem"], [table("LocksTable")])
    | pairs(["states:StartExecution"], ["${ApplyStateMachine}"]),
    # apply worker.
    "ApplyFunctionRole": logs("ApplyLogGroup")
    | pairs(["secretsmanager:GetSecretValue"], [SECRETS])
    | records(["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"])
    | record_index()
    | pairs(["dynamodb:Query"], [table("DocksTable")])
    | pairs(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"], [table("RunsTable")])
    | pairs(
        ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        [table("LocksTable")],
    )
    | pairs(
        ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"], [table("IntentsTable")]
    )
    | pairs(["sqs:SendMessage"], ["${FailureQueue.Arn}"])
    | pairs(["sns:Publish"], ["${NotifyTopic}"]),
    # the schedule's role: start the sync state machine.
    "SyncScheduleRole": pairs(["states:StartExecution"], ["${SyncStateMachine}"]),
    # the sync state machine: invoke the functions its definition names, deliver its logs.
    "SyncStateMachineRole": pairs(["lambda:InvokeFunction"], ["${SyncFunction.Arn}", "${SyncDockFunction.Arn}"])
    | pairs(LOG_DELIVERY, ["*"]),
    # the apply state machine: invoke the apply function, deliver its logs.
    "ApplyStateMachineRole": pairs(["lambda:InvokeFunction"], ["${ApplyFunction.Arn}"])
    | pairs(LOG_DELIVERY, ["*"]),
}

# Function → (name suffix, binary, role, STACKDOCK_API_ROUTES, has a Function URL, timeout).
FUNCTIONS = {
    "SyncFunction": ("sync", "sync", "SyncFunctionRole", None, False),
    "SyncDockFunction": ("sync-dock", "sync", "SyncDockFunctionRole", None, False),
    "ApiFunction": ("api", "api", "ApiFunctionRole", "plan", True),
    "ApplyApiFunction": ("api-apply", "api", "ApplyApiFunctionRole", "apply", True),
    "ApplyFunction": ("apply", "apply", "ApplyFunctionRole", None, False),
}

DATA_SERVICES = ("dynamodb:", "secretsmanager:", "lambda:", "sqs:", "sns:", "kms:", "s3:")


def canonical(value):
    """An intrinsic as one comparable string: GetAtt X.Arn and Sub "${X.Arn}" read the same."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::GetAtt":
            return "${%s}" % (".".join(arg) if isinstance(arg, list) else arg)
        if fn == "Ref":
            return "${%s}" % arg
        if fn == "Fn::Sub" and isinstance(arg, str):
            return arg
    return repr(value)


def as_list(value):
    return value if isinstance(value, list) else [value]


def load():
    template, problems = decode(str(TEMPLATE))
    if problems:
        raise AssertionError(f"{TEMPLATE} does not parse: {problems}")
    return template


def role_statements(template, role):
    """Every Allow statement of a role: inline policies and any policy attached to it."""
    resources = template["Resources"]
    props = resources[role].get("Properties", {})
    docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
    for arn in props.get("ManagedPolicyArns", []):
        name = canonical(arn).strip("${}")
        if name in resources:
            docs.append(resources[name]["Properties"]["PolicyDocument"])
        else:
            docs.append({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": canonical(arn)}]})
    for res in resources.values():
        if isinstance(res, dict) and res.get("Type") == "AWS::IAM::Policy":
            if role in [canonical(r).strip("${}") for r in res["Properties"].get("Roles", [])]:
                docs.append(res["Properties"]["PolicyDocument"])
    for doc in docs:
        for statement in as_list(doc["Statement"]):
            yield statement


def role_pairs(template, role):
    found = set()
    for statement in role_statements(template, role):
        assert statement.get("Effect") == "Allow", f"{role}: unexpected {statement}"
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                found.add((action, canonical(resource)))
    return found


def function_env(template, function):
    env = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    props = template["Resources"][function]["Properties"]
    env.update(props.get("Environment", {}).get("Variables", {}))
    return env


def foreach_blocks(template):
    """(the list it iterates, the resources it makes) for each Fn::ForEach in Resources."""
    for key, value in template["Resources"].items():
        if key.startswith("Fn::ForEach::"):
            _, collection, fragment = value
            yield canonical(collection), fragment


class Roles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load()

    def test_each_role_holds_exactly_what_its_function_does(self):
        for role, expected in EXPECTED.items():
            with self.subTest(role=role):
                self.assertIn(role, self.t["Resources"], f"{role} is missing")
                found = role_pairs(self.t, role)
                extra = sorted(found - expected)
                missing = sorted(expected - found)
                self.assertFalse(extra or missing, f"{role}:\n  extra {extra}\n  missing {missing}")
        held("one role per function, holding exactly the (action, resource) pairs its code calls (item 4)")

    def test_no_role_but_those_listed(self):
        roles = {k for k, v in self.t["Resources"].items() if isinstance(v, dict) and v.get("Type") == "AWS::IAM::Role"}
        self.assertEqual(roles, set(EXPECTED))
        policies = [k for k, v in self.t["Resources"].items()
                    if isinstance(v, dict) and v.get("Type") in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")]
        self.assertEqual(policies, [], "no policy shared between roles (one role per function)")

    def test_one_role_per_function(self):
        for function, (_, _, role, _, _) in FUNCTIONS.items():
            with self.subTest(function=function):
                props = self.t["Resources"][function]["Properties"]
                self.assertEqual(canonical(props["Role"]), "${%s.Arn}" % role)
        roles = [canonical(self.t["Resources"][f]["Properties"]["Role"]) for f in FUNCTIONS]
        self.assertEqual(len(set(roles)), len(roles))

    def test_no_wildcard_actions_or_data_resources(self):
        for role in EXPECTED:
            for action, resource in role_pairs(self.t, role):
                with self.subTest(role=role, action=action, resource=resource):
                    self.assertNotIn("*", action)
                    if action.startswith(DATA_SERVICES):
                        self.assertNotEqual(resource, "*")
                        # The only wildcard allowed is the secret prefix's own (name suffix).
                        if "*" in resource:
                            self.assertEqual(resource, SECRETS)

    def test_only_the_apply_api_and_the_sync_start_the_apply_state_machine(self):
        starters = {role for role in EXPECTED
                    if ("states:StartExecution", "${ApplyStateMachine}") in role_pairs(self.t, role)}
        self.assertEqual(starters, {"ApplyApiFunctionRole", "SyncFunctionRole"})
        invokers = {role for role in EXPECTED
                    if ("lambda:InvokeFunction", "${ApplyFunction.Arn}") in role_pairs(self.t, role)}
        self.assertEqual(invokers, {"ApplyStateMachineRole"}, "only the state machine runs the apply's steps")
        self.assertFalse([p for p in role_pairs(self.t, "ApiFunctionRole") if p[0].startswith("lambda:")],
                         "the plan API's role may not invoke anything")

    def test_log_delivery_only_for_the_state_machine_and_nothing_else_on_any_resource(self):
        for role in EXPECTED:
            wildcards = {a for a, r in role_pairs(self.t, role) if r == "*"}
            with self.subTest(role=role):
                if role in ("SyncStateMachineRole", "ApplyStateMachineRole"):
                    self.assertEqual(wildcards, set(LOG_DELIVERY))
                else:
                    self.assertEqual(wildcards, set())

    def test_the_sync_is_started_only_by_its_schedule_and_its_steps_only_by_the_state_machine(self):
        starters = {role for role in EXPECTED
                    if ("states:StartExecution", "${SyncStateMachine}") in role_pairs(self.t, role)}
        self.assertEqual(starters, {"SyncScheduleRole"})
        for function in ("SyncFunction", "SyncDockFunction"):
            invokers = {role for role in EXPECTED
                        if ("lambda:InvokeFunction", "${%s.Arn}" % function) in role_pairs(self.t, role)}
            self.assertEqual(invokers, {"SyncStateMachineRole"}, function)
        trust = self.t["Resources"]["SyncStateMachineRole"]["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        self.assertEqual(statement["Principal"], {"Service": "states.amazonaws.com"})
        self.assertEqual(statement["Condition"], {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})

    def test_api_roles_read_no_secrets(self):
        for role in ("ApiFunctionRole", "ApplyApiFunctionRole"):
            self.assertFalse([p for p in role_pairs(self.t, role) if p[0].startswith("secretsmanager:")], role)
        held("the API functions read no provider secret (item 4)")

    def test_every_role_is_bounded_when_a_boundary_is_given(self):
        self.assertEqual(self.t["Parameters"]["PermissionsBoundary"]["Type"], "String")
        for role in EXPECTED:
            with self.subTest(role=role):
                boundary = self.t["Resources"][role]["Properties"].get("PermissionsBoundary")
                self.assertEqual(boundary, {"Fn::If": ["HasPermissionsBoundary", {"Ref": "PermissionsBoundary"},
                                                       {"Ref": "AWS::NoValue"}]})


class FunctionsAndUrls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load()

    def test_functions(self):
        for function, (suffix, binary, _, routes, url) in FUNCTIONS.items():
            with self.subTest(function=function):
                res = self.t["Resources"][function]
                props = res["Properties"]
                self.assertEqual(props["FunctionName"], {"Fn::Sub": "${AWS::StackName}-" + suffix})
                self.assertEqual(res["Metadata"]["BuildProperties"]["Binary"], binary)
                env = function_env(self.t, function)
                self.assertEqual(env.get("STACKDOCK_API_ROUTES"), routes)
                self.assertEqual(env.get("STACKDOCK_STACK"), {"Ref": "AWS::StackName"})
                self.assertEqual(env.get("STACKDOCK_SECRET_PREFIX"), {"Ref": "SecretPrefix"})
                self.assertEqual(env.get("STACKDOCK_ALLOWED_ENDPOINTS"),
                                 {"Fn::Join": [",", {"Ref": "AllowedEndpoints"}]})
                self.assertEqual(env.get("RUST_LOG"), {"Ref": "LogLevel"})
                if url:
                    self.assertEqual(props["FunctionUrlConfig"]["AuthType"], "AWS_IAM")
                else:
                    self.assertNotIn("FunctionUrlConfig", props)
                logging = props["LoggingConfig"]
                self.assertEqual(logging["LogFormat"], "JSON")
                self.assertEqual(logging["ApplicationLogLevel"],
                                 {"Fn::FindInMap": ["LogLevels", {"Ref": "LogLevel"}, "Application"]})
                self.assertEqual(logging["SystemLogLevel"],
                                 {"Fn::FindInMap": ["LogLevels", {"Ref": "LogLevel"}, "System"]})

    def test_apply_callers_reach_only_the_apply_api(self):
        self.assertEqual(function_env(self.t, "ApplyApiFunction").get("STACKDOCK_APPLY_CALLERS"),
                         {"Fn::Join": [",", {"Ref": "ApplyCallers"}]})
        for function in ("SyncFunction", "SyncDockFunction", "ApiFunction", "ApplyFunction"):
            self.assertNotIn("STACKDOCK_APPLY_CALLERS", function_env(self.t, function))
        self.assertNotIn("STACKDOCK_APPLY_FUNCTION", function_env(self.t, "ApiFunction"))

    def test_url_resource_policies_name_each_list_on_its_own_function_only(self):
        for name in ("PlanCallers", "ApplyCallers"):
            self.assertEqual(self.t["Parameters"][name]["Type"], "CommaDelimitedList")
        want = {"${PlanCallers}": "${ApiFunction}", "${ApplyCallers}": "${ApplyApiFunction}"}
        seen = {}
        for collection, fragment in foreach_blocks(self.t):
            self.assertIn(collection, want)
            actions = set()
            # An empty list (the default) expands to one item "": its statements are off.
            condition = {"${PlanCallers}": "HasPlanCallers", "${ApplyCallers}": "HasApplyCallers"}[collection]
            self.assertEqual(self.t["Conditions"][condition],
                             {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": collection[2:-1]}]}, ""]}]})
            for resource in fragment.values():
                self.assertEqual(resource["Type"], "AWS::Lambda::Permission")
                self.assertEqual(resource.get("Condition"), condition)
                props = resource["Properties"]
                self.assertEqual(canonical(props["FunctionName"]), want[collection], collection)
                self.assertEqual(props["Principal"], {"Ref": "Caller"})
                if props["Action"] == "lambda:InvokeFunctionUrl":
                    self.assertEqual(props.get("FunctionUrlAuthType"), "AWS_IAM")
                elif props["Action"] == "lambda:InvokeFunction":
                    self.assertIs(props.get("InvokedViaFunctionUrl"), True, "InvokeFunction only through the URL")
                else:
                    self.fail(f"unexpected action {props['Action']}")
                actions.add(props["Action"])
            self.assertEqual(actions, {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"})
            seen[collection] = True
        self.assertEqual(set(seen), set(want))
        # Nothing else opens a function to anyone.
        others = [k for k, v in self.t["Resources"].items()
                  if isinstance(v, dict) and v.get("Type") == "AWS::Lambda::Permission"]
        self.assertEqual(others, [])
        held("IAM: each URL resource policy names its own callers only (item 1)")

    def test_the_plan_caller_cannot_reach_the_apply_url(self):
        for collection, fragment in foreach_blocks(self.t):
            if collection == "${PlanCallers}":
                for resource in fragment.values():
                    self.assertNotIn(canonical(resource["Properties"]["FunctionName"]),
                                     ("${ApplyApiFunction}", "${ApplyFunction}"))
        held("IAM: a plan caller cannot reach the apply URL (item 1)")

    def test_expanded_with_callers_each_arn_reaches_its_own_url_only(self):
        # Expand Fn::ForEach the way `sam build --language-extensions` does (SAM CLI's own
        # expander, pinned with SAM), with a plan caller and an apply caller.
        import copy
        import json

        from samcli.lib.cfn_language_extensions.sam_integration import process_template_for_sam_cli

        plan = "arn:aws:iam::111122223333:role/github-stackdock-plan"
        other = "arn:aws:iam::444455556666:root"
        apply = "arn:aws:iam::111122223333:role/stackdock-operator"
        template = json.loads(json.dumps(self.t))
        out = process_template_for_sam_cli(copy.deepcopy(template),
                                           {"PlanCallers": f"{plan},{other}", "ApplyCallers": apply})
        grants = {}
        for resource in out["Resources"].values():
            if resource.get("Type") == "AWS::Lambda::Permission":
                props = resource["Properties"]
                grants.setdefault(props["Principal"], set()).add(
                    (canonical(props["FunctionName"]), props["Action"]))
        both = ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")
        self.assertEqual(grants, {
            plan: {("${ApiFunction}", a) for a in both},
            other: {("${ApiFunction}", a) for a in both},
            apply: {("${ApplyApiFunction}", a) for a in both},
        })

    def test_outputs_name_both_urls(self):
        outputs = self.t["Outputs"]
        self.assertEqual(outputs["ApiFunctionUrl"]["Value"], {"Fn::GetAtt": ["ApiFunctionUrl", "FunctionUrl"]})
        self.assertEqual(outputs["ApplyApiFunctionUrl"]["Value"], {"Fn::GetAtt": ["ApplyApiFunctionUrl", "FunctionUrl"]})

    def test_settings(self):
        self.assertEqual(self.t["Resources"]["SyncFunction"]["Properties"].get("ReservedConcurrentExecutions"), 1)
        # The steps are invoked synchronously by the state machine, which retries and catches:
        # no asynchronous-invoke settings, no on-failure queue.
        for function in ("SyncFunction", "SyncDockFunction"):
            self.assertNotIn("EventInvokeConfig", self.t["Resources"][function]["Properties"], function)
        self.assertNotIn("STACKDOCK_APPLY_FUNCTION", function_env(self.t, "SyncDockFunction"))
        # The sync-dock function resolves its own dock's credential only; no other function
        # runs that way.
        for function in FUNCTIONS:
            want = "1" if function == "SyncDockFunction" else None
            self.assertEqual(function_env(self.t, function).get("STACKDOCK_SYNC_DOCK"), want, function)
        params = self.t["Parameters"]
        self.assertEqual(params["LogLevel"]["AllowedValues"], ["error", "warn", "info", "debug"])
        levels = self.t["Mappings"]["LogLevels"]
        self.assertEqual(set(levels), {"error", "warn", "info", "debug"})
        for level, values in levels.items():
            self.assertEqual(values["Application"], level.upper())
            self.assertIn(values["System"], ("DEBUG", "INFO", "WARN"))
        self.assertEqual(params["SecretPrefix"]["Default"], "stackdock/")
        self.assertEqual(params["AllowedEndpoints"]["Type"], "CommaDelimitedList")
        self.assertEqual(params["AllowedEndpoints"]["Default"], "")
        held("template settings: sync reserved concurrency 1, JSON logs, restricted log level (item 9)")


class Notifications(unittest.TestCase):
    """[notify]'s sns = true: the topic, who is told its ARN, and who may publish to it."""

    SENDERS = {"SyncFunction": "SyncFunctionRole", "ApplyFunction": "ApplyFunctionRole"}

    @classmethod
    def setUpClass(cls):
        cls.t = load()

    def test_the_topic_is_encrypted_and_named_after_the_stack(self):
        topic = self.t["Resources"]["NotifyTopic"]
        self.assertEqual(topic["Type"], "AWS::SNS::Topic")
        props = topic["Properties"]
        self.assertEqual(props["TopicName"], {"Fn::Sub": "${AWS::StackName}-notifications"})
        self.assertEqual(props["KmsMasterKeyId"], "alias/aws/sns")
        self.assertEqual(self.t["Outputs"]["NotifyTopicArn"]["Value"], {"Ref": "NotifyTopic"})

    def test_only_the_sending_functions_are_told_the_topic(self):
        for function in FUNCTIONS:
            want = {"Ref": "NotifyTopic"} if function in self.SENDERS else None
            self.assertEqual(function_env(self.t, function).get("STACKDOCK_NOTIFY_TOPIC_ARN"), want, function)

    def test_only_the_sending_roles_publish_and_only_to_the_topic(self):
        publishers = {}
        for role in EXPECTED:
            for action, resource in role_pairs(self.t, role):
                if action.startswith("sns:"):
                    publishers.setdefault(role, set()).add((action, resource))
        self.assertEqual(publishers, {role: {("sns:Publish", "${NotifyTopic}")}
                                      for role in self.SENDERS.values()})
        held("sns:Publish on the notification topic only, held by the sync and apply roles only (issue 21)")


class Alarms(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load()
        cls.alarms = {k: v["Properties"] for k, v in cls.t["Resources"].items()
                      if isinstance(v, dict) and v.get("Type") == "AWS::CloudWatch::Alarm"}

    def find(self, namespace, metric, dimension, value):
        return [a for a in self.alarms.values()
                if a.get("Namespace") == namespace and a.get("MetricName") == metric
                and [(d["Name"], canonical(d["Value"])) for d in a.get("Dimensions", [])] == [(dimension, value)]]

    def test_topic_is_encrypted_and_every_alarm_notifies_it(self):
        topic = self.t["Resources"]["AlarmTopic"]
        self.assertEqual(topic["Type"], "AWS::SNS::Topic")
        self.assertEqual(topic["Properties"]["KmsMasterKeyId"], {"Ref": "AlarmTopicKey"})
        self.assertNotEqual(topic["Properties"]["KmsMasterKeyId"], "alias/aws/sns",
                            "CloudWatch cannot publish to a topic under the AWS managed key")
        self.assertTrue(self.alarms)
        for name, alarm in self.alarms.items():
            self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}], name)
        subscription = self.t["Resources"]["AlarmEmailSubscription"]
        self.assertEqual(subscription["Condition"], "HasAlarmEmail")
        self.assertEqual(self.t["Parameters"]["AlarmEmail"]["Default"], "")
        held("alarms notify an encrypted SNS topic (item 8)")

    def test_each_function_has_errors_throttles_and_duration_alarms(self):
        for function in FUNCTIONS:
            timeout = self.t["Resources"][function]["Properties"]["Timeout"]
            for metric, stat, threshold in (("Errors", "Sum", 0), ("Throttles", "Sum", 0),
                                            ("Duration", "Maximum", timeout * 1000 * 0.8)):
                with self.subTest(function=function, metric=metric):
                    found = self.find("AWS/Lambda", metric, "FunctionName", "${%s}" % function)
                    self.assertEqual(len(found), 1)
                    self.assertEqual(found[0]["Statistic"], stat)
                    self.assertEqual(float(found[0]["Threshold"]), threshold)
                    self.assertEqual(found[0]["ComparisonOperator"], "GreaterThanThreshold")

    def test_failure_queue_depth(self):
        found = self.find("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${FailureQueue.QueueName}")
        self.assertEqual(len(found), 1)
        self.assertEqual(float(found[0]["Threshold"]), 0)
        self.assertEqual(found[0]["ComparisonOperator"], "GreaterThanThreshold")

    def test_sync_state_machine_failed_executions(self):
        found = self.find("AWS/States", "ExecutionsFailed", "StateMachineArn", "${SyncStateMachine}")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["Statistic"], "Sum")
        self.assertEqual(float(found[0]["Threshold"]), 0)
        self.assertEqual(found[0]["ComparisonOperator"], "GreaterThanThreshold")
        held("an alarm on failed executions of the sync state machine (issue 20 item 1)")

    def test_apply_state_machine_failed_executions(self):
        found = self.find("AWS/States", "ExecutionsFailed", "StateMachineArn", "${ApplyStateMachine}")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["Statistic"], "Sum")
        self.assertEqual(float(found[0]["Threshold"]), 0)
        self.assertEqual(found[0]["ComparisonOperator"], "GreaterThanThreshold")
        held("an alarm on failed executions of the apply state machine (issue 20 item 3)")

    def test_sync_staleness(self):
        found = self.find("StackDock", "SecondsSinceLastSuccessfulSync", "Stack", "${AWS::StackName}")
        self.assertEqual(len(found), 1)
        alarm = found[0]
        self.assertEqual(alarm["Statistic"], "Maximum")
        self.assertEqual(alarm["Threshold"], {"Ref": "SyncStalenessSeconds"})
        self.assertEqual(alarm["TreatMissingData"], "breaching")
        self.assertEqual(self.t["Parameters"]["SyncStalenessSeconds"]["Default"], 3600)
        held("an alarm on the age of the last successful sync (item 8)")


if __name__ == "__main__":
    unittest.main()
