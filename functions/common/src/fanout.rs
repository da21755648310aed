//! The sync state machine's steps (infra/statemachines/sync.asl.json, design §10): the schedule
//! starts an execution that lists the docks (`list-docks`), syncs each dock in its own invocation
//! under a Map state (`sync-dock`, bounded concurrency, retried per dock, a failure caught per
//! dock) and then plans (`plan`): the metrics, the plan, the drift flags and the remediation of
//! `sync::plan_after_sync`, exactly what the all-in-one sync does after its docks.
//!
//! Every step is an event with a `"step"` field, handled by the `sync` binary ([`handler`]
//! routes on it; an event without one is the schedule's EventBridge event, synced in one
//! invocation by `sync::handler`).
//!
//! # The run record
//! One sync run per execution, `sync-<execution name>`: `list-docks` creates it (or finds it
//! when Step Functions retries the step), `sync-dock` records its dock's outcome in the dock's
//! status (as the all-in-one sync does) and returns it to the Map, and `plan` writes every dock's
//! outcome on the run and settles it. The run has a single writer at a time: the Map's
//! invocations never rewrite it concurrently (the store has no conditional run update, and a
//! read-modify-write from each invocation would lose outcomes).
//!
//! # Errors
//! `sync-dock` fails with `Retryable` when its dock failed for now (the state machine retries it
//! with backoff) and `NonRetryable` when its credential was refused or is missing; the Map
//! catches the failure, so one dock never fails the others, and `plan` records it and blocks the
//! dock's plan (its status carries the error, written here when the invocation died before it
//! could record it).

use std::collections::BTreeMap;

use jiff::Timestamp;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::Kind;
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_engine::{DockOutcome, DockTiming, SyncReport, finish_run, sync_one};
use stackdock_store::{RunKind, RunRecord, SyncStats};
use tracing::Instrument as _;

use crate::sync::{SyncOutcome, plan_after_sync, reap_stale_runs};
use crate::{Deps, FunctionError, NON_RETRYABLE};

/// The environment variable with the Map's `MaxConcurrency` (the template's `SyncConcurrency`).
pub const CONCURRENCY_VAR: &str = "STACKDOCK_SYNC_CONCURRENCY";
/// The Map's concurrency when [`CONCURRENCY_VAR`] is unset (the parameter's default).
pub const DEFAULT_CONCURRENCY: usize = 10;
/// The largest concurrency accepted (the template parameter's `MaxValue`).
pub const MAX_CONCURRENCY: usize = 1000;

/// One step of the sync state machine, as its Task states pass it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    ListDocks(ListDocks),
    SyncDock(SyncDock),
    Plan(PlanStep),
}

/// `list-docks`: the execution's name (`$$.Execution.Name`) and its input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListDocks {
    pub execution: String,
    /// The execution's input: the schedule's `{"schedule": "<schedule ARN>"}`, or anything
    /// (`{}` from the console).
    #[serde(default)]
    pub input: Value,
}

/// What `list-docks` returns: the Map's items and concurrency, and what the later steps need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockList {
    pub run_id: String,
    pub actor: String,
    /// The Map's `MaxConcurrencyPath` reads it.
    pub max_concurrency: usize,
    /// The deployed config's docks, in name order.
    pub docks: Vec<String>,
}

/// `sync-dock`: one dock of the execution's run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SyncDock {
    pub run_id: String,
    pub dock: String,
}

/// What `sync-dock` returns when its dock synced completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockSynced {
    pub dock: String,
    pub listed: usize,
    pub written: usize,
    pub unchanged: usize,
    pub marked_missing: usize,
    /// The first [`APPEARED_PASSED`] resources the sync stored for the first time (`[notify]`
    /// reports the unmanaged ones): (kind, provider id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appeared: Vec<(Kind, String)>,
    /// How many more appeared than `appeared` holds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub appeared_more: usize,
}

/// How many appeared resources a dock's `sync-dock` answer carries by name: the Map's results
/// travel in one state of at most 256 KB, whatever the fleet's size.
pub const APPEARED_PASSED: usize = stackdock_engine::notify::LISTED_APPEARED;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `plan`: the run, who started it, and the Map's results (one per dock, in the docks' order).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PlanStep {
    pub run_id: String,
    pub actor: String,
    pub docks: Vec<DockResult>,
}

/// One item of the Map's result: the dock's `sync-dock` answer, or the failure its Catch put
/// at `$.failure` of the item's input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DockResult {
    Caught { dock: String, failure: Caught },
    Synced(DockSynced),
}

/// An error caught by a Catch: Step Functions' `{"Error", "Cause"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caught {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// The `sync` function's handler: a state-machine step (`"step"` in the event) or the schedule's
/// EventBridge event (every dock in this invocation, `sync::handler`).
pub async fn handler(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, FunctionError> {
    let (payload, context) = event.into_parts();
    if payload.get("step").is_none() {
        let scheduled = serde_json::from_value(payload).map_err(|e| {
            FunctionError::Event(format!(
                "neither a sync state-machine step (no \"step\" field) nor an EventBridge scheduled event: {e}"
            ))
        })?;
        let outcome = crate::sync::handler(LambdaEvent::new(scheduled, context), deps).await?;
        return to_value(&outcome);
    }
    let step: Step = serde_json::from_value(payload).map_err(|e| {
        FunctionError::Event(format!(
            "a sync state-machine step the `sync` function does not understand ({e}); deploy the function and infra/statemachines/sync.asl.json together"
        ))
    })?;
    match step {
        Step::ListDocks(step) => to_value(&list_docks(deps, &step).await?),
        Step::SyncDock(step) => to_value(&sync_dock(deps, &step).await?),
        Step::Plan(step) => to_value(&plan(deps, &step).await?),
    }
}

fn to_value(value: &impl Serialize) -> Result<Value, FunctionError> {
    serde_json::to_value(value)
        .map_err(|e| FunctionError::Event(format!("the step's answer is not JSON: {e}")))
}

/// The Map's concurrency from `lookup` (the environment): [`CONCURRENCY_VAR`], 1 to
/// [`MAX_CONCURRENCY`], else [`DEFAULT_CONCURRENCY`] when unset.
///
/// # Errors
/// `FunctionError::Startup` naming the bad value.
pub fn sync_concurrency(lookup: impl Fn(&str) -> Option<String>) -> Result<usize, FunctionError> {
    let Some(raw) = lookup(CONCURRENCY_VAR).filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(FunctionError::Startup(format!(
            "{CONCURRENCY_VAR}={raw:?}: expected a whole number from 1 to {MAX_CONCURRENCY} (the template's SyncConcurrency parameter)"
        ))),
    }
}

/// The run id of an execution: `sync-<execution name>`.
fn run_id_of(execution: &str) -> Result<String, FunctionError> {
    let valid = !execution.is_empty()
        && execution.len() <= 80
        && execution
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(FunctionError::Event(format!(
            "list-docks: execution name {execution:?} is not 1 to 80 letters, digits, '-' or '_'; the state machine passes $$.Execution.Name"
        )));
    }
    Ok(format!("sync-{execution}"))
}

/// Who started the execution: the schedule when its input names it, else the execution.
fn actor_of(step: &ListDocks) -> String {
    match step.input.get("schedule").and_then(Value::as_str) {
        Some(schedule) if !schedule.trim().is_empty() => format!("schedule:{schedule}"),
        _ => format!("execution:{}", step.execution),
    }
}

/// `list-docks`: marks runs past their deadline failed, records the execution's sync run (once:
/// a retried step finds it) and lists the deployed config's docks for the Map.
pub async fn list_docks(deps: &Deps, step: &ListDocks) -> Result<DockList, FunctionError> {
    let run_id = run_id_of(&step.execution)?;
    let span = tracing::info_span!("sync", step = "list-docks", run_id = %run_id);
    async {
        let max_concurrency = sync_concurrency(|name| std::env::var(name).ok())?;
        reap_stale_runs(deps).await;
        let actor = actor_of(step);
        let docks: Vec<String> = deps.config.docks.keys().cloned().collect();
        match deps.store.get_run(deps.org(), &run_id).await? {
            Some(run) if run.kind == RunKind::Sync => {
                tracing::info!("the execution's run is already recorded (list-docks retried)");
            }
            Some(run) => {
                return Err(FunctionError::Event(format!(
                    "run {run_id} exists and is a {:?} run, not this execution's sync; start the execution again (it gets a new name)",
                    run.kind
                )));
            }
            None => {
                let now = Timestamp::now();
                let mut run = RunRecord::new(&run_id, deps.org(), RunKind::Sync, &actor, now);
                run.log(
                    now,
                    format!(
                        "sync state machine execution {}: {} docks, at most {max_concurrency} at a time",
                        step.execution,
                        docks.len()
                    ),
                );
                deps.store.put_run(&run).await?;
            }
        }
        tracing::info!(docks = docks.len(), max_concurrency, "docks listed");
        Ok(DockList {
            run_id: run_id.clone(),
            actor,
            max_concurrency,
            docks,
        })
    }
    .instrument(span)
    .await
}

/// `sync-dock`: syncs one dock (`stackdock_engine::sync_one`: its records and its status).
///
/// # Errors
/// `DockFailed` when the dock did not sync completely (retryable unless its credential is the
/// problem); a store failure; `Engine(Invalid)` for a dock the config does not have.
pub async fn sync_dock(deps: &Deps, step: &SyncDock) -> Result<DockSynced, FunctionError> {
    let span =
        tracing::info_span!("sync", step = "sync-dock", run_id = %step.run_id, dock = %step.dock);
    async {
        let docks = deps.docks_for(&step.dock).await;
        let outcome = sync_one(&deps.config, &step.dock, &docks, deps.store.as_ref()).await?;
        if let Some(message) = outcome.error {
            tracing::warn!(error = %message, credential_problem = outcome.credential_problem, "dock sync failed");
            return Err(FunctionError::DockFailed {
                run_id: step.run_id.clone(),
                dock: step.dock.clone(),
                message,
                credential_problem: outcome.credential_problem,
            });
        }
        tracing::info!(
            listed = outcome.listed,
            written = outcome.stats.written,
            unchanged = outcome.stats.unchanged,
            marked_missing = outcome.stats.marked_missing,
            "dock synced"
        );
        let mut appeared = outcome.stats.appeared;
        let appeared_more = appeared.len().saturating_sub(APPEARED_PASSED);
        appeared.truncate(APPEARED_PASSED);
        Ok(DockSynced {
            dock: outcome.dock,
            listed: outcome.listed,
            written: outcome.stats.written,
            unchanged: outcome.stats.unchanged,
            marked_missing: outcome.stats.marked_missing,
            appeared,
            appeared_more,
        })
    }
    .instrument(span)
    .await
}

/// `plan`: writes every dock's outcome on the run and settles it (once: a retried step finds it
/// settled; a run the stale-run sweep marked failed meanwhile is settled too), blocks the docks whose invocation failed without recording it, then plans, flags
/// drift and maybe remediates (`sync::plan_after_sync`).
///
/// Failed docks do not fail the step: they are on the run, in the answer's `docks_failed` and
/// in the `DocksFailed` metric (and its alarm), and the next execution syncs them again.
pub async fn plan(deps: &Deps, step: &PlanStep) -> Result<SyncOutcome, FunctionError> {
    let span = tracing::info_span!("sync", step = "plan", run_id = %step.run_id);
    async {
        let Some(mut run) = deps.store.get_run(deps.org(), &step.run_id).await? else {
            return Err(FunctionError::Event(format!(
                "run {} is not recorded (list-docks records it; it may have expired): start a new execution",
                step.run_id
            )));
        };
        let mut outcomes: Vec<DockOutcome> = step.docks.iter().map(outcome_of).collect();
        outcomes.sort_by(|a, b| a.dock.cmp(&b.dock));
        let now = Timestamp::now();
        block_caught(deps, &step.docks, run.started_at, now).await?;
        // Settled once, by this step: a retried step finds its dock lines. A run the stale-run
        // sweep marked failed meanwhile (an execution longer than the run deadline) is settled
        // here all the same, the sweep's line kept above the outcome.
        if run.log.iter().any(|l| l.message.starts_with(DOCK_LINE)) {
            tracing::info!("the run is already settled (plan retried)");
        } else {
            finish_run(&mut run, &outcomes, now);
            deps.store.put_run(&run).await?;
        }
        let report = SyncReport {
            run_id: step.run_id.clone(),
            docks: outcomes,
        };
        let more: BTreeMap<String, usize> = step
            .docks
            .iter()
            .filter_map(|d| match d {
                DockResult::Synced(s) if s.appeared_more > 0 => {
                    Some((s.dock.clone(), s.appeared_more))
                }
                _ => None,
            })
            .collect();
        plan_after_sync(deps, &step.actor, &report, &more).await
    }
    .instrument(span)
    .await
}

/// How every line `finish_run` writes for a dock starts.
const DOCK_LINE: &str = "dock `";

/// A Map result as the engine's dock outcome.
fn outcome_of(result: &DockResult) -> DockOutcome {
    match result {
        DockResult::Synced(s) => DockOutcome {
            dock: s.dock.clone(),
            stats: SyncStats {
                written: s.written,
                unchanged: s.unchanged,
                marked_missing: s.marked_missing,
                appeared: s.appeared.clone(),
            },
            listed: s.listed,
            error: None,
            credential_problem: false,
            timing: DockTiming::default(),
        },
        DockResult::Caught { dock, failure } => DockOutcome {
            dock: dock.clone(),
            stats: SyncStats::default(),
            listed: 0,
            error: Some(caught_message(failure)),
            credential_problem: failure.error == NON_RETRYABLE,
            timing: DockTiming::default(),
        },
    }
}

/// The message of a caught failure: the function's `errorMessage` when the cause is the Lambda
/// error payload, else the error and its cause as Step Functions gave them (a timeout, a crash).
pub fn caught_message(failure: &Caught) -> String {
    let message = serde_json::from_str::<Value>(&failure.cause)
        .ok()
        .and_then(|cause| {
            cause
                .get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    match message {
        Some(m) => m,
        None if failure.cause.trim().is_empty() => format!(
            "the sync-dock invocation failed with {} (see the execution's history in the Step Functions console)",
            failure.error
        ),
        None => format!(
            "the sync-dock invocation failed with {}: {}",
            failure.error, failure.cause
        ),
    }
}

/// Writes the failure on the status of each caught dock whose invocation did not record one in
/// this run (it timed out or crashed first), so its plan is blocked as any failed dock's is.
async fn block_caught(
    deps: &Deps,
    results: &[DockResult],
    run_started: Timestamp,
    now: Timestamp,
) -> Result<(), FunctionError> {
    let caught: Vec<(&String, &Caught)> = results
        .iter()
        .filter_map(|r| match r {
            DockResult::Caught { dock, failure } => Some((dock, failure)),
            DockResult::Synced(_) => None,
        })
        .collect();
    if caught.is_empty() {
        return Ok(());
    }
    let org = deps.org().to_owned();
    let statuses = deps.store.dock_statuses(&org).await?;
    for (dock, failure) in caught {
        let Some(config) = deps.config.docks.get(dock.as_str()) else {
            tracing::warn!(dock = %dock, "a caught dock the config does not have: not recorded");
            continue;
        };
        let id = dock_id(&org, dock);
        let stored = statuses.iter().find(|s| s.dock_id == id).cloned();
        let recorded = stored.as_ref().is_some_and(|s| {
            s.last_error.is_some() && s.last_attempt_at.is_some_and(|at| at >= run_started)
        });
        if recorded {
            continue;
        }
        let mut status = stored.unwrap_or_else(|| DockStatus {
            org_id: org.clone(),
            dock_id: id,
            name: dock.clone(),
            provider: config.provider,
            last_sync_at: None,
            last_attempt_at: None,
            last_error: None,
            catalog: None,
            env_fingerprints: Default::default(),
        });
        status.last_attempt_at = Some(now);
        status.last_error = Some(caught_message(failure));
        tracing::warn!(dock = %dock, error = %failure.error, "the dock's invocation failed before recording it: its status now does");
        deps.store.put_dock_status(&status).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_is_bounded_and_defaults_to_the_parameter_default() {
        let of = |v: &str| {
            let v = v.to_owned();
            sync_concurrency(move |name| (name == CONCURRENCY_VAR).then(|| v.clone()))
        };
        assert_eq!(
            sync_concurrency(|_| None).expect("unset"),
            DEFAULT_CONCURRENCY
        );
        assert_eq!(of("25").expect("25"), 25);
        for bad in ["0", "1001", "ten", "-1"] {
            let err = of(bad).expect_err(bad).to_string();
            assert!(
                err.contains(CONCURRENCY_VAR) && err.contains("1 to 1000"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_run_id_comes_from_a_valid_execution_name_only() {
        assert_eq!(run_id_of("abc-123_x").expect("valid"), "sync-abc-123_x");
        for bad in ["", "a b", "a/b", &"x".repeat(81)] {
            assert!(run_id_of(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_caught_failure_reads_the_lambda_error_message_or_says_what_step_functions_said() {
        let lambda = Caught {
            error: "NonRetryable".into(),
            cause: r#"{"errorType":"NonRetryable","errorMessage":"dock `do-main`: 401"}"#.into(),
        };
        assert_eq!(caught_message(&lambda), "dock `do-main`: 401");
        let timeout = Caught {
            error: "Lambda.Unknown".into(),
            cause: "The cause could not be determined because Lambda did not return an error type."
                .into(),
        };
        assert!(
            caught_message(&timeout)
                .starts_with("the sync-dock invocation failed with Lambda.Unknown: The cause")
        );
        let bare = Caught {
            error: "States.Timeout".into(),
            cause: String::new(),
        };
        assert!(caught_message(&bare).contains("States.Timeout"));
        let result: DockResult = serde_json::from_value(serde_json::json!({
            "step": "sync-dock", "run_id": "sync-x", "dock": "do-main",
            "failure": {"Error": "NonRetryable", "Cause": lambda.cause}
        }))
        .expect("a caught item");
        let outcome = outcome_of(&result);
        assert!(outcome.credential_problem);
        assert_eq!(outcome.error.as_deref(), Some("dock `do-main`: 401"));
    }
}
