//! A test driver for the committed state-machine definitions (infra/statemachines/*.asl.json):
//! it walks a definition as Step Functions executes it and calls the handlers for its Tasks, so
//! the definition that deploys is the one the tests run.
//!
//! Only the subset of the Amazon States Language the definitions use is implemented — Task (a
//! Lambda function ARN as `Resource`, `Parameters`, `ResultPath`, `Retry`, `Catch`), Map
//! (`ItemsPath`, `ItemSelector`, an INLINE `ItemProcessor`, `MaxConcurrency` or
//! `MaxConcurrencyPath`, `ResultPath`, `Catch`), Choice (`Choices` of `Variable` with
//! `StringEquals` or `NumericGreaterThanEquals`, `Default`), Wait (`Seconds`), Pass (`Result`,
//! `ResultPath`), Succeed and Fail, with paths `$`, `$.a.b` and the context object's
//! `$$.Execution.Name`, `$$.Execution.Id`, `$$.Execution.Input.a`, `$$.Map.Item.Value` and
//! `$$.Map.Item.Index` — and anything else panics, naming it: a definition that grows a feature
//! the driver does not have fails its tests instead of being half-run.
//!
//! Retry waits are Step Functions' (`IntervalSeconds × BackoffRate^n`, capped by
//! `MaxDelaySeconds`; with `JitterStrategy: FULL` the real wait is random below it): the driver
//! records each declared wait and sleeps one millisecond per declared second, as it does for a
//! Wait state's `Seconds`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value, json};

/// A failed state as Step Functions reports it: `Error` and `Cause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    /// A Lambda function's error: `errorType` as the Error, the error payload as the Cause.
    pub fn lambda(error_type: &str, message: &str) -> Failure {
        Failure {
            error: error_type.to_owned(),
            cause: json!({"errorType": error_type, "errorMessage": message}).to_string(),
        }
    }
}

/// Calls the function a Task names (its substituted ARN) with the Task's effective input.
pub type Invoke =
    Arc<dyn Fn(String, Value) -> LocalBoxFuture<'static, Result<Value, Failure>> + Send + Sync>;

/// What happened, in order (per Map item, in the order items ran).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A Task invoked its function (`attempt` 1 is the first).
    Invoked {
        state: String,
        resource: String,
        input: Value,
        attempt: u32,
    },
    /// A Task's attempt failed.
    Failed {
        state: String,
        input: Value,
        error: String,
    },
    /// A Retry matched; the next attempt comes after `wait_seconds` (the declared bound).
    Retrying { state: String, wait_seconds: f64 },
    /// A Catch matched and the execution went on at `next`.
    Caught {
        state: String,
        error: String,
        next: String,
    },
    /// A Wait state waited `seconds` (declared).
    Waited { state: String, seconds: u64 },
    /// A Map ran `items` items at most `max_concurrency` at a time.
    Mapped {
        state: String,
        items: usize,
        max_concurrency: usize,
    },
}

/// One definition, ready to execute.
pub struct Machine {
    definition: Value,
    invoke: Invoke,
    events: Arc<Mutex<Vec<Event>>>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// Transitions after which an execution is taken to loop (Step Functions' own limit is 25,000
/// history events; the sync definition takes a handful per dock).
const MAX_TRANSITIONS: usize = 10_000;

impl Machine {
    /// Reads `path`, replaces each `${Name}` of `substitutions` (the template's
    /// `DefinitionSubstitutions`) and parses it; a `${` left over panics.
    pub fn load(
        path: &std::path::Path,
        substitutions: &BTreeMap<&str, String>,
        invoke: Invoke,
    ) -> Machine {
        let mut text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, value) in substitutions {
            text = text.replace(&format!("${{{name}}}"), value);
        }
        if let Some(at) = text.find("${") {
            panic!(
                "{}: a substitution is left: {}",
                path.display(),
                &text[at..text.len().min(at + 40)]
            );
        }
        let definition: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_keys(
            "the definition",
            &definition,
            &["Comment", "StartAt", "States"],
        );
        Machine {
            definition,
            invoke,
            events: Arc::default(),
            in_flight: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// Executes the definition on `input` as execution `name`: its output, or the failure that
    /// ended it (a Fail state, or an error no Catch took).
    pub async fn execute(&self, name: &str, input: Value) -> Result<Value, Failure> {
        let ctx = json!({
            "Execution": {
                "Name": name,
                "Id": format!("arn:aws:states:us-east-1:123456789012:execution:stackdock-sync:{name}"),
                "Input": input.clone(),
            }
        });
        let start = str_field(&self.definition, "StartAt").to_owned();
        let states = obj_field(&self.definition, "States").clone();
        self.run_states(states, start, input, ctx).await
    }

    /// Everything that happened so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("events").clone()
    }

    /// The most Task invocations in flight at once.
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn record(&self, event: Event) {
        self.events.lock().expect("events").push(event);
    }

    fn run_states(
        &self,
        states: Map<String, Value>,
        start: String,
        input: Value,
        ctx: Value,
    ) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        Box::pin(async move {
            let mut name = start;
            let mut input = input;
            for _ in 0..MAX_TRANSITIONS {
                let state = states
                    .get(&name)
                    .unwrap_or_else(|| panic!("state `{name}` is not defined"));
                let kind = str_field(state, "Type");
                let result = match kind {
                    "Task" => {
                        check_keys(
                            &name,
                            state,
                            &[
                                "Type",
                                "Comment",
                                "Resource",
                                "Parameters",
                                "ResultPath",
                                "Retry",
                                "Catch",
                                "Next",
                                "End",
                            ],
                        );
                        let effective = effective_input(state, &input, &ctx);
                        self.task(&name, state, effective).await
                    }
                    "Map" => {
                        check_keys(
                            &name,
                            state,
                            &[
                                "Type",
                                "Comment",
                                "ItemsPath",
                                "ItemSelector",
                                "ItemProcessor",
                                "MaxConcurrency",
                                "MaxConcurrencyPath",
                                "ResultPath",
                                "Catch",
                                "Next",
                                "End",
                            ],
                        );
                        self.map(&name, state, &input, &ctx).await
                    }
                    "Choice" => {
                        check_keys(&name, state, &["Type", "Comment", "Choices", "Default"]);
                        name = choose(&name, state, &input);
                        continue;
                    }
                    "Wait" => {
                        check_keys(&name, state, &["Type", "Comment", "Seconds", "Next"]);
                        let seconds = state
                            .get("Seconds")
                            .and_then(Value::as_u64)
                            .unwrap_or_else(|| panic!("state `{name}`: Seconds"));
                        self.record(Event::Waited {
                            state: name.clone(),
                            seconds,
                        });
                        tokio::time::sleep(Duration::from_millis(seconds)).await;
                        Ok(input.clone())
                    }
                    "Pass" => {
                        check_keys(
                            &name,
                            state,
                            &["Type", "Comment", "Result", "ResultPath", "Next", "End"],
                        );
                        Ok(state
                            .get("Result")
                            .cloned()
                            .unwrap_or_else(|| input.clone()))
                    }
                    "Succeed" => {
                        check_keys(&name, state, &["Type", "Comment"]);
                        return Ok(input);
                    }
                    "Fail" => {
                        check_keys(&name, state, &["Type", "Comment", "Error", "Cause"]);
                        return Err(Failure {
                            error: str_field(state, "Error").to_owned(),
                            cause: str_field(state, "Cause").to_owned(),
                        });
                    }
                    other => {
                        panic!("state `{name}`: type {other} is not implemented by the test driver")
                    }
                };
                match result {
                    Ok(output) => {
                        input = apply_result_path(&name, state.get("ResultPath"), input, output);
                    }
                    Err(failure) => match catcher(&name, state, &failure) {
                        Some((result_path, next)) => {
                            self.record(Event::Caught {
                                state: name.clone(),
                                error: failure.error.clone(),
                                next: next.clone(),
                            });
                            let caught = json!({"Error": failure.error, "Cause": failure.cause});
                            input = apply_result_path(&name, result_path.as_ref(), input, caught);
                            name = next;
                            continue;
                        }
                        None => return Err(failure),
                    },
                }
                match (state.get("End"), state.get("Next")) {
                    (Some(Value::Bool(true)), None) => return Ok(input),
                    (None, Some(Value::String(next))) => name = next.clone(),
                    _ => panic!("state `{name}`: exactly one of End: true and Next"),
                }
            }
            panic!("more than {MAX_TRANSITIONS} transitions: the definition loops");
        })
    }

    /// A Task: invokes its Resource, retrying as its Retry says.
    async fn task(&self, name: &str, state: &Value, input: Value) -> Result<Value, Failure> {
        let resource = str_field(state, "Resource").to_owned();
        assert!(
            resource.starts_with("arn:aws:lambda:"),
            "state `{name}`: Resource {resource} is not a Lambda function ARN (the only Task the driver runs)"
        );
        let retriers: Vec<Value> = state
            .get("Retry")
            .map(|r| {
                r.as_array()
                    .unwrap_or_else(|| panic!("state `{name}`: Retry is not an array"))
                    .clone()
            })
            .unwrap_or_default();
        let mut retried = vec![0_u32; retriers.len()];
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.record(Event::Invoked {
                state: name.to_owned(),
                resource: resource.clone(),
                input: input.clone(),
                attempt,
            });
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            let result = (self.invoke)(resource.clone(), input.clone()).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let failure = match result {
                Ok(output) => return Ok(output),
                Err(f) => f,
            };
            self.record(Event::Failed {
                state: name.to_owned(),
                input: input.clone(),
                error: failure.error.clone(),
            });
            let Some(i) = retriers.iter().position(|r| {
                check_keys(
                    name,
                    r,
                    &[
                        "ErrorEquals",
                        "IntervalSeconds",
                        "MaxAttempts",
                        "BackoffRate",
                        "MaxDelaySeconds",
                        "JitterStrategy",
                    ],
                );
                matches(name, r, &failure.error)
            }) else {
                return Err(failure);
            };
            let r = &retriers[i];
            let max_attempts = r
                .get("MaxAttempts")
                .map_or(3, |v| v.as_u64().expect("MaxAttempts"));
            if u64::from(retried[i]) >= max_attempts {
                return Err(failure);
            }
            let interval = r
                .get("IntervalSeconds")
                .map_or(1.0, |v| v.as_f64().expect("IntervalSeconds"));
            let backoff = r
                .get("BackoffRate")
                .map_or(2.0, |v| v.as_f64().expect("BackoffRate"));
            let cap = r
                .get("MaxDelaySeconds")
                .map_or(f64::INFINITY, |v| v.as_f64().expect("MaxDelaySeconds"));
            match r.get("JitterStrategy").and_then(Value::as_str) {
                None | Some("FULL" | "NONE") => {}
                Some(other) => panic!("state `{name}`: JitterStrategy {other}"),
            }
            let exponent = i32::try_from(retried[i]).expect("few retries");
            let wait = (interval * backoff.powi(exponent)).min(cap);
            retried[i] += 1;
            self.record(Event::Retrying {
                state: name.to_owned(),
                wait_seconds: wait,
            });
            tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
        }
    }

    /// A Map: each item through the ItemProcessor, at most MaxConcurrency at a time, results in
    /// the items' order; the first item that fails fails the Map.
    async fn map(
        &self,
        name: &str,
        state: &Value,
        input: &Value,
        ctx: &Value,
    ) -> Result<Value, Failure> {
        let items = match state.get("ItemsPath") {
            Some(Value::String(path)) => resolve(name, path, input, ctx),
            None => input.clone(),
            Some(other) => panic!("state `{name}`: ItemsPath {other}"),
        };
        let items = items
            .as_array()
            .unwrap_or_else(|| panic!("state `{name}`: the items are not an array: {items}"))
            .clone();
        let declared = match (state.get("MaxConcurrency"), state.get("MaxConcurrencyPath")) {
            (Some(n), None) => n
                .as_u64()
                .unwrap_or_else(|| panic!("state `{name}`: MaxConcurrency {n}")),
            (None, Some(Value::String(path))) => {
                let n = resolve(name, path, input, ctx);
                n.as_u64().unwrap_or_else(|| {
                    panic!("state `{name}`: MaxConcurrencyPath {path} is {n}, not a whole number")
                })
            }
            (None, None) => 0,
            _ => panic!("state `{name}`: both MaxConcurrency and MaxConcurrencyPath"),
        };
        // 0 means no limit (Step Functions then runs up to 40 at a time in practice).
        let max_concurrency = if declared == 0 {
            items.len().max(1)
        } else {
            usize::try_from(declared).expect("fits")
        };
        self.record(Event::Mapped {
            state: name.to_owned(),
            items: items.len(),
            max_concurrency,
        });
        let processor = obj_field(state, "ItemProcessor");
        for key in processor.keys() {
            assert!(
                ["ProcessorConfig", "StartAt", "States"].contains(&key.as_str()),
                "state `{name}`: ItemProcessor.{key} is not implemented by the test driver"
            );
        }
        if let Some(config) = processor.get("ProcessorConfig") {
            assert_eq!(
                config.get("Mode").and_then(Value::as_str),
                Some("INLINE"),
                "state `{name}`: only INLINE Map processors are implemented"
            );
        }
        let start = processor
            .get("StartAt")
            .and_then(Value::as_str)
            .expect("ItemProcessor.StartAt")
            .to_owned();
        let states = processor
            .get("States")
            .and_then(Value::as_object)
            .expect("ItemProcessor.States")
            .clone();
        let runs = items.into_iter().enumerate().map(|(index, item)| {
            let mut item_ctx = ctx.clone();
            item_ctx["Map"] = json!({"Item": {"Value": item, "Index": index}});
            let item_input = match state.get("ItemSelector") {
                Some(selector) => parameters(name, selector, input, &item_ctx),
                None => item_ctx["Map"]["Item"]["Value"].clone(),
            };
            self.run_states(states.clone(), start.clone(), item_input, item_ctx)
        });
        let results: Vec<Result<Value, Failure>> = futures::stream::iter(runs)
            .buffered(max_concurrency)
            .collect()
            .await;
        results
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }
}

/// A Choice: the Next of the first rule that matches the input, else its Default (none is
/// Step Functions' `States.NoChoiceMatched`, a panic here).
fn choose(name: &str, state: &Value, input: &Value) -> String {
    let rules = state
        .get("Choices")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("state `{name}`: Choices"));
    for rule in rules {
        check_keys(
            name,
            rule,
            &[
                "Variable",
                "StringEquals",
                "NumericGreaterThanEquals",
                "Next",
            ],
        );
        let variable = str_field(rule, "Variable");
        // A missing variable matches no rule (Step Functions: a runtime error only when
        // no rule and no Default takes the input; the definitions here always set it).
        let value = variable
            .strip_prefix("$.")
            .and_then(|field| input.get(field));
        let matched = match (
            value,
            rule.get("StringEquals"),
            rule.get("NumericGreaterThanEquals"),
        ) {
            (Some(v), Some(Value::String(s)), None) => v.as_str() == Some(s.as_str()),
            (Some(v), None, Some(n)) => match (v.as_f64(), n.as_f64()) {
                (Some(v), Some(n)) => v >= n,
                _ => false,
            },
            (None, _, _) => false,
            _ => panic!("state `{name}`: a Choice rule beyond the driver's subset: {rule}"),
        };
        if matched {
            return str_field(rule, "Next").to_owned();
        }
    }
    match state.get("Default") {
        Some(Value::String(next)) => next.clone(),
        _ => panic!("States.NoChoiceMatched in {name}: {input}"),
    }
}

/// The Task's effective input: its Parameters applied to the state's input, or the input.
fn effective_input(state: &Value, input: &Value, ctx: &Value) -> Value {
    match state.get("Parameters") {
        Some(p) => parameters("Parameters", p, input, ctx),
        None => input.clone(),
    }
}

/// A payload template: `"key.$": path` takes the path's value, other keys are literal.
fn parameters(name: &str, template: &Value, input: &Value, ctx: &Value) -> Value {
    match template {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| match key.strip_suffix(".$") {
                    Some(key) => {
                        let path = value
                            .as_str()
                            .unwrap_or_else(|| panic!("{name}: {key}.$ is not a path"));
                        (key.to_owned(), resolve(name, path, input, ctx))
                    }
                    None => (key.clone(), parameters(name, value, input, ctx)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| parameters(name, v, input, ctx))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `$`, `$.a.b` on the input, `$$.a.b` on the context object; nothing else.
fn resolve(name: &str, path: &str, input: &Value, ctx: &Value) -> Value {
    let (root, rest) = if let Some(rest) = path.strip_prefix("$$") {
        (ctx, rest)
    } else if let Some(rest) = path.strip_prefix('$') {
        (input, rest)
    } else {
        panic!("{name}: {path} is not a path");
    };
    if rest.is_empty() {
        return root.clone();
    }
    let rest = rest
        .strip_prefix('.')
        .unwrap_or_else(|| panic!("{name}: path {path} is beyond the driver's subset ($, $.a.b)"));
    let mut at = root;
    for part in rest.split('.') {
        assert!(
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{name}: path {path} is beyond the driver's subset ($, $.a.b)"
        );
        at = at.get(part).unwrap_or_else(|| {
            panic!("States.Runtime in {name}: path {path} does not exist in {root}")
        });
    }
    at.clone()
}

/// ResultPath: absent or `$` replaces the input with the result, `$.field` sets one field.
fn apply_result_path(name: &str, path: Option<&Value>, input: Value, result: Value) -> Value {
    match path.map(|p| {
        p.as_str().unwrap_or_else(|| {
            panic!("state `{name}`: ResultPath {p} is not implemented by the test driver")
        })
    }) {
        None | Some("$") => result,
        Some(path) => {
            let field = path
                .strip_prefix("$.")
                .filter(|f| !f.contains('.') && !f.is_empty())
                .unwrap_or_else(|| panic!("state `{name}`: ResultPath {path} is beyond the driver's subset ($, $.field)"));
            let mut input = input;
            let object = input.as_object_mut().unwrap_or_else(|| {
                panic!("States.Runtime in {name}: ResultPath {path} on a non-object input")
            });
            object.insert(field.to_owned(), result);
            input
        }
    }
}

/// Whether a Retrier's or Catcher's ErrorEquals takes `error`.
fn matches(name: &str, rule: &Value, error: &str) -> bool {
    let equals = rule
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("state `{name}`: a rule without ErrorEquals"));
    equals
        .iter()
        .any(|e| match e.as_str().expect("an error name") {
            "States.ALL" => true,
            "States.TaskFailed" => error != "States.Timeout",
            other => other == error,
        })
}

/// The first Catcher that takes the failure: its ResultPath and Next.
fn catcher(name: &str, state: &Value, failure: &Failure) -> Option<(Option<Value>, String)> {
    let catchers = state
        .get("Catch")?
        .as_array()
        .unwrap_or_else(|| panic!("state `{name}`: Catch is not an array"));
    catchers.iter().find_map(|c| {
        check_keys(name, c, &["ErrorEquals", "ResultPath", "Next"]);
        matches(name, c, &failure.error).then(|| {
            (
                c.get("ResultPath").cloned(),
                str_field(c, "Next").to_owned(),
            )
        })
    })
}

fn check_keys(name: &str, value: &Value, allowed: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{name}: not an object"));
    for key in object.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{name}: field {key} is not implemented by the test driver (it knows {allowed:?})"
        );
    }
}

fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} missing or not a string in {value}"))
}

fn obj_field<'a>(value: &'a Value, key: &str) -> &'a Map<String, Value> {
    value
        .get(key)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{key} missing or not an object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(definition: Value, invoke: Invoke) -> Machine {
        let dir = std::env::temp_dir().join(format!("asl-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("m.asl.json");
        std::fs::write(&path, definition.to_string()).expect("write");
        Machine::load(
            &path,
            &BTreeMap::from([("Fn", "arn:aws:lambda:us-east-1:1:function:f".to_owned())]),
            invoke,
        )
    }

    fn uuid_like() -> String {
        format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
    }

    #[tokio::test]
    async fn retries_as_declared_then_catches() {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let invoke: Invoke = Arc::new(move |_, _| {
            seen.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Err(Failure::lambda("Retryable", "down")) })
        });
        let m = machine(
            json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "${Fn}",
                      "Retry": [{"ErrorEquals": ["Retryable"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3.0}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Done"}],
                      "End": true},
                "Done": {"Type": "Succeed"}}}),
            invoke,
        );
        let out = m.execute("x", json!({"a": 1})).await.expect("caught");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "the first attempt and two retries"
        );
        assert_eq!(out["a"], 1);
        assert_eq!(out["failure"]["Error"], "Retryable");
        let waits: Vec<f64> = m
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::Retrying { wait_seconds, .. } => Some(*wait_seconds),
                _ => None,
            })
            .collect();
        assert_eq!(waits, vec![2.0, 6.0]);
    }

    #[tokio::test]
    #[should_panic(expected = "type Parallel is not implemented")]
    async fn an_unimplemented_state_fails_loudly() {
        let invoke: Invoke = Arc::new(|_, _| Box::pin(async { Ok(json!({})) }));
        let m = machine(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [], "End": true}}}),
            invoke,
        );
        let _ = m.execute("x", json!({})).await;
    }
}
