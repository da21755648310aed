"""The shape of every state machine in infra/template.yaml (issue 20 item 6).

Each `AWS::Serverless::StateMachine` is read from its committed DefinitionUri file: every Task
names a function of the stack through a DefinitionSubstitution, and the state machine's role may
invoke exactly those; every Task has a bounded Retry and a Catch-all; the sync's Map takes its
concurrency from the SyncConcurrency parameter; no state can loop without a bound (a cycle of
transitions, Catch included, must pass a Choice whose first rule leaves it once the step counter
reaches its bound, and every retry is bounded); only the states the Rust test driver
(functions/common/tests/functions/asl.rs) executes are used, so the end-to-end tests run all of
the definition.
"""

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import test_template
from reliability import held

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
FANOUT = ROOT / "functions" / "common" / "src" / "fanout.rs"
APPLY_MACHINE = ROOT / "functions" / "common" / "src" / "applymachine.rs"

# What the test driver implements (asl.rs); anything else would go untested end to end.
DRIVER_STATES = {"Task", "Map", "Choice", "Wait", "Pass", "Succeed", "Fail"}
# The counter a loop carries: each Task of the loop answers it one higher.
COUNTER = "$.steps"
# Retry bounds: a retried invocation costs a Lambda run; these keep the worst case known.
MAX_ATTEMPTS = 5
MAX_DELAY_SECONDS = 300


def states_of(scope, prefix=""):
    """(qualified name, state, its scope's States) for every state, nested ItemProcessors too."""
    for name, state in scope["States"].items():
        yield prefix + name, state, scope["States"]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from states_of(processor, prefix + name + "/")


def scopes_of(scope):
    yield scope
    for state in scope["States"].values():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes_of(processor)


def successors(state):
    out = []
    if "Next" in state:
        out.append(state["Next"])
    for catcher in state.get("Catch", []):
        out.append(catcher["Next"])
    for choice in state.get("Choices", []):
        out.append(choice["Next"])
    if "Default" in state:
        out.append(state["Default"])
    return out


def rust_const(name, path=FANOUT, ty="usize"):
    match = re.search(r"pub const %s: %s = (\d+);" % (name, ty), path.read_text())
    assert match, f"{path}: no `pub const {name}: {ty}`"
    return int(match.group(1))


def bounds(state, cycle):
    """Whether `state` is a Choice whose first rule leaves `cycle` once the counter reaches a
    bound (so the cycle runs at most that many times)."""
    if state["Type"] != "Choice":
        return False
    first = state["Choices"][0]
    return (first.get("Variable") == COUNTER
            and isinstance(first.get("NumericGreaterThanEquals"), int)
            and first["Next"] not in cycle)


class StateMachines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = test_template.load()
        cls.resources = cls.t["Resources"]
        cls.machines = {k: v for k, v in cls.resources.items()
                        if isinstance(v, dict) and v.get("Type") == "AWS::Serverless::StateMachine"}
        cls.definitions = {}
        for name, machine in cls.machines.items():
            path = INFRA / machine["Properties"]["DefinitionUri"]
            cls.definitions[name] = (path, json.loads(path.read_text()))

    def test_the_sync_state_machine_exists_and_the_schedule_starts_it(self):
        self.assertIn("SyncStateMachine", self.machines)
        target = self.resources["SyncSchedule"]["Properties"]["Target"]
        self.assertEqual(target["Arn"], {"Ref": "SyncStateMachine"})
        self.assertEqual(json.loads(target["Input"]), {"schedule": "<aws.scheduler.schedule-arn>"})

    def test_every_task_names_a_function_of_the_stack_and_the_role_invokes_exactly_those(self):
        for name, machine in self.machines.items():
            path, definition = self.definitions[name]
            props = machine["Properties"]
            substitutions = props.get("DefinitionSubstitutions", {})
            placeholders = set(re.findall(r"\$\{([^}]+)\}", path.read_text()))
            self.assertEqual(placeholders, set(substitutions), f"{path}: placeholders vs DefinitionSubstitutions")
            named = set()
            for state_name, state, _ in states_of(definition):
                if state["Type"] != "Task":
                    continue
                with self.subTest(machine=name, state=state_name):
                    match = re.fullmatch(r"\$\{([^}]+)\}", state["Resource"])
                    self.assertIsNotNone(match, f"{state['Resource']}: a Task's Resource is a substituted function ARN")
                    value = substitutions[match.group(1)]
                    self.assertEqual(list(value), ["Fn::GetAtt"], value)
                    function, attribute = value["Fn::GetAtt"]
                    self.assertEqual(attribute, "Arn")
                    self.assertEqual(self.resources[function]["Type"], "AWS::Serverless::Function")
                    named.add(function)
            role = test_template.canonical(props["Role"]).strip("${}").removesuffix(".Arn")
            invoked = {r for a, r in test_template.role_pairs(self.t, role) if a == "lambda:InvokeFunction"}
            self.assertEqual(invoked, {"${%s.Arn}" % f for f in named}, f"{role} invokes exactly the Tasks' functions")
        held("state machines: every Task names a function of the stack, the role invokes only those (issue 20 item 6)")

    def test_every_task_retries_boundedly_and_catches_everything(self):
        for name, _ in self.machines.items():
            _, definition = self.definitions[name]
            for state_name, state, _ in states_of(definition):
                if state["Type"] != "Task":
                    continue
                with self.subTest(machine=name, state=state_name):
                    retry = state.get("Retry")
                    self.assertTrue(retry, "a Task without Retry")
                    for retrier in retry:
                        self.assertNotIn("States.ALL", retrier["ErrorEquals"], "retry only what is retryable")
                        self.assertIn("Retryable", retrier["ErrorEquals"])
                        self.assertNotIn("NonRetryable", retrier["ErrorEquals"])
                        self.assertTrue(1 <= retrier["MaxAttempts"] <= MAX_ATTEMPTS, retrier)
                        self.assertGreaterEqual(retrier["BackoffRate"], 1.0)
                        self.assertGreater(retrier["IntervalSeconds"], 0)
                        self.assertLessEqual(retrier["MaxDelaySeconds"], MAX_DELAY_SECONDS)
                    catch = state.get("Catch")
                    self.assertTrue(catch, "a Task without Catch")
                    self.assertEqual(catch[-1]["ErrorEquals"], ["States.ALL"], "the last Catch takes everything")
        held("state machines: Retry (bounded) and Catch on every Task (issue 20 item 6)")

    def test_no_state_can_loop(self):
        for name in self.machines:
            _, definition = self.definitions[name]
            for scope in scopes_of(definition):
                states = scope["States"]
                for state_name, state in states.items():
                    for target in successors(state):
                        self.assertIn(target, states, f"{state_name} -> {target}: no such state in its scope")
                    self.assertIn(state["Type"], DRIVER_STATES,
                                  f"{state_name}: {state['Type']} is not run by the test driver (asl.rs)")
                    if state["Type"] in ("Succeed", "Fail"):
                        self.assertEqual(successors(state), [], state_name)
                    elif state["Type"] in ("Task", "Map"):
                        self.assertTrue(("Next" in state) != (state.get("End") is True), f"{state_name}: Next xor End")
                # Depth-first: a transition back to a state on the current path is a cycle, which
                # a Choice on it must bound with the counter, and whose Tasks carry the counter.
                seen, path = set(), []

                def visit(s):
                    if s in path:
                        cycle = path[path.index(s):]
                        self.assertTrue(any(bounds(states[c], cycle) for c in cycle),
                                        f"{name}: the cycle {cycle} has no Choice bounding {COUNTER}")
                        for c in cycle:
                            if states[c]["Type"] == "Task":
                                self.assertEqual(states[c]["Parameters"].get("steps.$"), COUNTER,
                                                 f"{name}: {c} in a loop is not given the counter")
                        return
                    if s in seen:
                        return
                    seen.add(s)
                    path.append(s)
                    for t in successors(states[s]):
                        visit(t)
                    path.pop()

                visit(scope["StartAt"])
                self.assertEqual(seen, set(states), f"{name}: unreachable states {set(states) - seen}")
        held("state machines: no state can loop without a counter bounding it, every state is reachable (issue 20 item 6)")

    def test_the_sync_map_runs_at_most_sync_concurrency_docks(self):
        _, definition = self.definitions["SyncStateMachine"]
        maps = [(n, s) for n, s, _ in states_of(definition) if s["Type"] == "Map"]
        self.assertEqual(len(maps), 1)
        map_name, map_state = maps[0]
        self.assertNotIn("MaxConcurrency", map_state)
        self.assertEqual(map_state["MaxConcurrencyPath"], "$.max_concurrency")
        # The only way into the Map is list-docks' answer, whose max_concurrency is the
        # STACKDOCK_SYNC_CONCURRENCY of the function it runs in: the SyncConcurrency parameter.
        into = [(n, s) for n, s, _ in states_of(definition) if s.get("Next") == map_name]
        self.assertEqual(len(into), 1, into)
        self.assertEqual(definition["StartAt"], into[0][0])
        task = into[0][1]
        self.assertEqual(task["Type"], "Task")
        self.assertNotIn("ResultPath", task, "list-docks' answer is the Map's input")
        self.assertEqual(task["Parameters"]["step"], "list-docks")
        function = self.machines["SyncStateMachine"]["Properties"]["DefinitionSubstitutions"][
            task["Resource"].strip("${}")]["Fn::GetAtt"][0]
        self.assertEqual(test_template.function_env(self.t, function)["STACKDOCK_SYNC_CONCURRENCY"],
                         {"Ref": "SyncConcurrency"})
        param = self.t["Parameters"]["SyncConcurrency"]
        self.assertEqual(param["Type"], "Number")
        self.assertEqual(param["MinValue"], 1)
        self.assertEqual(param["MaxValue"], rust_const("MAX_CONCURRENCY"))
        self.assertEqual(param["Default"], rust_const("DEFAULT_CONCURRENCY"))
        # Each item is one sync-dock invocation of one dock.
        processor = map_state["ItemProcessor"]
        self.assertEqual(processor["ProcessorConfig"]["Mode"], "INLINE")
        self.assertEqual(map_state["ItemSelector"]["dock.$"], "$$.Map.Item.Value")
        self.assertEqual(map_state["ItemSelector"]["step"], "sync-dock")
        held("the sync Map's concurrency is the SyncConcurrency parameter (issue 20 item 1)")

    def test_the_apply_loop_is_bounded_by_max_steps_and_every_failure_settles_the_run(self):
        self.assertIn("ApplyStateMachine", self.machines)
        _, definition = self.definitions["ApplyStateMachine"]
        states = definition["States"]
        route = states["Route"]
        self.assertEqual(route["Choices"][0]["NumericGreaterThanEquals"],
                         rust_const("MAX_STEPS", APPLY_MACHINE, "u64"))
        self.assertIn("Default", route, "an unknown route never fails the execution unsettled")
        # Every Catch (and the bound, and an unknown route) leads to Abandon, which settles the
        # run and releases the lease before the execution fails.
        for state_name, state in states.items():
            with self.subTest(state=state_name):
                if state_name == "Abandon":
                    self.assertEqual(state["Next"], "ApplyFailed")
                    self.assertEqual(state["Catch"][-1]["Next"], "ApplyFailed")
                    self.assertEqual(state["Parameters"]["step"], "abandon")
                    continue
                for catcher in state.get("Catch", []):
                    self.assertEqual(catcher["Next"], "Abandon")
                    self.assertEqual(catcher["ResultPath"], "$.error")
                if state["Type"] == "Pass":
                    self.assertEqual(state["Next"], "Abandon")
                    self.assertEqual(state["ResultPath"], "$.error")
        # Readiness is waited for in a Wait state, never in a function.
        waits = [n for n, s in states.items() if s["Type"] == "Wait"]
        self.assertEqual(waits, ["WaitForReadiness"])
        self.assertEqual(states["WaitForReadiness"]["Next"], "PollReady")
        self.assertEqual(states["PollReady"]["Parameters"]["step"], "poll-ready")
        self.assertEqual(states["RunBatch"]["Parameters"]["step"], "run-batch")
        held("the apply state machine: its loop is bounded by MAX_STEPS and every failure settles the run (issue 20 item 3)")

    def test_a_dock_failure_is_caught_inside_the_map(self):
        _, definition = self.definitions["SyncStateMachine"]
        map_state = next(s for _, s, _ in states_of(definition) if s["Type"] == "Map")
        processor = map_state["ItemProcessor"]
        task = processor["States"][processor["StartAt"]]
        self.assertEqual(task["Type"], "Task")
        catcher = task["Catch"][-1]
        self.assertEqual(catcher["ResultPath"], "$.failure", "the plan step reads the failure there")
        self.assertEqual(processor["States"][catcher["Next"]]["Type"], "Succeed",
                         "a failed dock ends its item successfully: it never fails the Map")

    def test_each_definition_passes_cfn_lints_states_language_schema(self):
        # cfn-lint checks a definition only inline (rule E3601): inline each one, substituted.
        cfn_lint = Path(sys.executable).parent / "cfn-lint"
        for name, machine in self.machines.items():
            path, _ = self.definitions[name]
            text = path.read_text()
            for key in machine["Properties"].get("DefinitionSubstitutions", {}):
                text = text.replace("${%s}" % key, "arn:aws:lambda:us-east-1:123456789012:function:%s" % key)
            template = {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Resources": {
                    "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
                        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "states.amazonaws.com"}}]}}},
                    name: {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}, "Definition": json.loads(text)}},
                },
            }
            with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                json.dump(template, f)
                f.flush()
                result = subprocess.run([str(cfn_lint), f.name], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, f"{path}: {result.stdout}{result.stderr}")

    def test_logs_go_to_a_log_group_of_the_stack_with_its_retention(self):
        for name, machine in self.machines.items():
            logging = machine["Properties"]["Logging"]
            (destination,) = logging["Destinations"]
            group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
            props = self.resources[group]["Properties"]
            self.assertEqual(props["RetentionInDays"], {"Ref": "LogRetentionDays"}, name)
            self.assertTrue(props["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/${AWS::StackName}-"))


if __name__ == "__main__":
    unittest.main()
