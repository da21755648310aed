//! The apply state machine's steps (infra/statemachines/apply.asl.json, design §10):
//! `POST /v1/apply` starts an execution named after the run; `begin` takes the org's lease and
//! checks the plan, `run-batch` runs one batch of a stage (`stackdock_engine::steps::step`),
//! `poll-ready` looks once at what is becoming ready (after a Wait state), `finish` settles the
//! run and releases the lease, and `abandon` — where every Catch leads — settles a run the
//! machine gives up on and releases the lease, so no run is left `running`.
//!
//! Every step is an event with a `"step"` field handled by the `apply` binary ([`handler`]
//! routes on it; an event without one is the asynchronous worker's `{"run_id"}`, applied in one
//! invocation by `apply::handler`, kept for `cargo lambda watch` and the in-process submitter).
//!
//! # Guarantees
//! - Each step starts from persisted state (the run, the intents, the inventory), so Step
//!   Functions may run any step again after its invocation died or timed out: see
//!   `stackdock_engine::steps`.
//! - The lease's owner is the run (`apply-machine:<run id>`): every step renews it, a step that
//!   finds it lost fails `NonRetryable`, and the Catch abandons the run.
//! - `run-batch` and `poll-ready` answer `steps` one more than they were given: the machine's
//!   Choice stops the loop at [`MAX_STEPS`].

use jiff::Timestamp;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_engine::steps::{self, Next};
use stackdock_engine::{ApplyOptions, ApplyReport, lease_name};
use stackdock_store::{Lease, RunStatus, StoreError};
use tracing::Instrument as _;

use crate::apply::{not_runnable, refuse};
use crate::fanout::{Caught, caught_message};
use crate::{Deps, FunctionError};

/// The most `run-batch` and `poll-ready` invocations of one execution (the definition's Choice
/// reads the same number): well inside Step Functions' 25,000 history events, and at the default
/// batch and poll interval room for thousands of actions and hours of readiness waits.
pub const MAX_STEPS: u64 = 2000;

/// One step of the apply state machine, as its Task states pass it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    Begin { run_id: String },
    RunBatch { run_id: String, steps: u64 },
    PollReady { run_id: String, steps: u64 },
    Finish { run_id: String },
    Abandon { run_id: String, error: Caught },
}

/// Where the machine goes next (its Choice reads `$.next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    RunBatch,
    Wait,
    Finish,
    /// The run was refused or is not this machine's to run: nothing to do.
    Done,
}

/// What `begin`, `run-batch` and `poll-ready` answer: the state the loop carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub run_id: String,
    pub next: Route,
    /// Loop steps so far.
    pub steps: u64,
    #[serde(default)]
    pub started: usize,
    #[serde(default)]
    pub pending: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `finish` and `abandon` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    pub run_id: String,
    pub status: RunStatus,
    pub failed_actions: usize,
}

/// The `apply` function's handler: a state-machine step (`"step"` in the event) or the
/// asynchronous worker's `{"run_id"}` (the whole apply in this invocation).
pub async fn handler(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, FunctionError> {
    let (payload, context) = event.into_parts();
    if payload.get("step").is_none() {
        let worker = serde_json::from_value(payload).map_err(|e| {
            FunctionError::Event(format!(
                "neither an apply state-machine step (no \"step\" field) nor {{\"run_id\": …}}: {e}"
            ))
        })?;
        let outcome = crate::apply::handler(LambdaEvent::new(worker, context), deps).await?;
        return to_value(&outcome);
    }
    let step: Step = serde_json::from_value(payload).map_err(|e| {
        FunctionError::Event(format!(
            "an apply state-machine step the `apply` function does not understand ({e}); deploy the function and infra/statemachines/apply.asl.json together"
        ))
    })?;
    match step {
        Step::Begin { run_id } => to_value(&begin(deps, &run_id).await?),
        Step::RunBatch { run_id, steps } => to_value(&run_batch(deps, &run_id, steps).await?),
        Step::PollReady { run_id, steps } => to_value(&poll_ready(deps, &run_id, steps).await?),
        Step::Finish { run_id } => to_value(&finish(deps, &run_id).await?),
        Step::Abandon { run_id, error } => to_value(&abandon(deps, &run_id, &error).await?),
    }
}

fn to_value(value: &impl Serialize) -> Result<Value, FunctionError> {
    serde_json::to_value(value)
        .map_err(|e| FunctionError::Event(format!("the step's answer is not JSON: {e}")))
}

/// The lease owner of run `run_id`'s steps.
pub fn lease_owner(run_id: &str) -> String {
    format!("apply-machine:{run_id}")
}

/// `begin`: takes the org's lease for the run, checks the run is Pending (or Running under this
/// lease: a retried begin) and its plan still current, and marks it Running.
pub async fn begin(deps: &Deps, run_id: &str) -> Result<Progress, FunctionError> {
    let span = tracing::info_span!("apply", step = "begin", run_id = %run_id);
    async {
        let org = deps.org();
        let Some(run) = deps.store.get_run(org, run_id).await? else {
            return Ok(done(run_id, format!("no run {run_id} in org {org}")));
        };
        let retried = run.status == RunStatus::Running;
        if !retried && let Some(why) = not_runnable(&run) {
            return Ok(done(run_id, why));
        }
        let owner = lease_owner(run_id);
        match deps
            .store
            .acquire_lease(&lease_name(org), &owner, deps.lease_ttl, Timestamp::now())
            .await
        {
            Ok(_) => {}
            Err(StoreError::LeaseHeld {
                owner: holder,
                expires_at,
                ..
            }) => {
                let reason = format!(
                    "another apply ({holder}) holds the org's lease until {expires_at}; review the plan again and resubmit once it has finished"
                );
                if !retried {
                    refuse(deps, run, &reason).await?;
                }
                return Ok(done(run_id, reason));
            }
            Err(e) => return Err(e.into()),
        }
        if !retried {
            let Some(digest) = run.plan_digest.clone() else {
                let reason = "the run names no plan digest; submit it through POST /v1/apply";
                refuse(deps, run, reason).await?;
                release(deps, run_id).await;
                return Ok(done(run_id, reason.to_owned()));
            };
            let current = deps.plan_deployed().await?;
            if current.digest != digest {
                let reason = format!(
                    "the plan changed since it was submitted: {}; review the current plan and submit it again",
                    deps.recent_plans.reasons(&digest, &current).join("; ")
                );
                refuse(deps, run, &reason).await?;
                release(deps, run_id).await;
                return Ok(done(run_id, reason));
            }
        }
        steps::begin(deps.store.as_ref(), org, run_id, &owner).await?;
        tracing::info!(retried, "apply begun");
        Ok(Progress {
            run_id: run_id.to_owned(),
            next: Route::RunBatch,
            steps: 0,
            started: 0,
            pending: 0,
            reason: None,
        })
    }
    .instrument(span)
    .await
}

/// `run-batch`: renews the lease and runs one batch (`stackdock_engine::steps::step`).
pub async fn run_batch(deps: &Deps, run_id: &str, steps: u64) -> Result<Progress, FunctionError> {
    let span = tracing::info_span!("apply", step = "run-batch", run_id = %run_id, steps);
    async {
        renew(deps, run_id).await?;
        let opts = options(deps, run_id);
        let report = steps::step(
            &deps.config,
            &deps.docks,
            deps.store.as_ref(),
            &opts,
            run_id,
            steps::DEFAULT_BATCH,
        )
        .await?;
        tracing::info!(started = report.started, pending = report.pending, next = ?report.next, "batch run");
        Ok(progress(run_id, steps, &report))
    }
    .instrument(span)
    .await
}

/// `poll-ready`: renews the lease and looks once at what is becoming ready
/// (`stackdock_engine::steps::poll`).
pub async fn poll_ready(deps: &Deps, run_id: &str, steps: u64) -> Result<Progress, FunctionError> {
    let span = tracing::info_span!("apply", step = "poll-ready", run_id = %run_id, steps);
    async {
        renew(deps, run_id).await?;
        let opts = options(deps, run_id);
        let report =
            steps::poll(&deps.config, &deps.docks, deps.store.as_ref(), &opts, run_id).await?;
        tracing::info!(settled = report.settled, pending = report.pending, next = ?report.next, "readiness polled");
        Ok(progress(run_id, steps, &report))
    }
    .instrument(span)
    .await
}

/// `finish`: settles the run, releases the lease and, when actions failed, notifies.
pub async fn finish(deps: &Deps, run_id: &str) -> Result<Settled, FunctionError> {
    let span = tracing::info_span!("apply", step = "finish", run_id = %run_id);
    async {
        let opts = options(deps, run_id);
        let run = steps::finish(
            &deps.config,
            &deps.docks,
            deps.store.as_ref(),
            &opts,
            run_id,
        )
        .await?;
        release(deps, run_id).await;
        let report = ApplyReport { run };
        if let Some(failed) = stackdock_engine::notify::apply_occurrence(&report) {
            deps.notifier.send(&deps.config, vec![failed]).await;
        }
        tracing::info!(status = ?report.run.status, "apply finished");
        Ok(Settled {
            run_id: run_id.to_owned(),
            status: report.run.status,
            failed_actions: report.failed(),
        })
    }
    .instrument(span)
    .await
}

/// `abandon`: a step failed after its retries (or the loop reached [`MAX_STEPS`]): the run is
/// settled with the caught error and the lease released.
pub async fn abandon(deps: &Deps, run_id: &str, error: &Caught) -> Result<Settled, FunctionError> {
    let span = tracing::info_span!("apply", step = "abandon", run_id = %run_id);
    async {
        let reason = format!(
            "the apply state machine stopped: {}; see the execution's history in the Step Functions console, then plan and apply again",
            caught_message(error)
        );
        tracing::error!(reason, "apply abandoned");
        let run = steps::abandon(deps.store.as_ref(), deps.org(), run_id, &reason).await?;
        release(deps, run_id).await;
        let report = ApplyReport { run };
        if let Some(failed) = stackdock_engine::notify::apply_occurrence(&report) {
            deps.notifier.send(&deps.config, vec![failed]).await;
        }
        Ok(Settled {
            run_id: run_id.to_owned(),
            status: report.run.status,
            failed_actions: report.failed(),
        })
    }
    .instrument(span)
    .await
}

fn options(deps: &Deps, run_id: &str) -> ApplyOptions {
    // The actor is recorded by `submit_apply` on the run; the options' is not written again.
    let mut opts = ApplyOptions::new(lease_owner(run_id), "", deps.config_dir.clone());
    opts.run_id = Some(run_id.to_owned());
    opts.lease_ttl = deps.lease_ttl;
    opts.ready_timeout = deps.ready_timeout;
    opts.plan = deps.plan_options;
    opts
}

fn progress(run_id: &str, steps: u64, report: &steps::StepReport) -> Progress {
    Progress {
        run_id: run_id.to_owned(),
        next: match report.next {
            Next::Batch => Route::RunBatch,
            Next::Wait => Route::Wait,
            Next::Finish => Route::Finish,
        },
        steps: steps + 1,
        started: report.started,
        pending: report.pending,
        reason: None,
    }
}

fn done(run_id: &str, reason: String) -> Progress {
    tracing::warn!(reason, "apply not run");
    Progress {
        run_id: run_id.to_owned(),
        next: Route::Done,
        steps: 0,
        started: 0,
        pending: 0,
        reason: Some(reason),
    }
}

/// The run's lease as its owner holds it (renewal and release match on name and owner).
fn held(deps: &Deps, run_id: &str) -> Lease {
    let now = Timestamp::now();
    Lease {
        name: lease_name(deps.org()),
        owner: lease_owner(run_id),
        acquired_at: now,
        expires_at: now,
    }
}

/// Renews the run's lease for another `lease_ttl`.
///
/// # Errors
/// `Store(LeaseLost)` (not retryable: the Catch abandons the run) when another owner holds it.
async fn renew(deps: &Deps, run_id: &str) -> Result<(), FunctionError> {
    deps.store
        .renew_lease(&held(deps, run_id), deps.lease_ttl, Timestamp::now())
        .await?;
    Ok(())
}

async fn release(deps: &Deps, run_id: &str) {
    if let Err(e) = deps.store.release_lease(&held(deps, run_id)).await {
        tracing::warn!(error = %e, "releasing the apply lease failed; it expires by itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_as_the_definition_passes_them() {
        let step: Step = serde_json::from_value(serde_json::json!({
            "step": "poll-ready", "run_id": "apply-1", "steps": 7
        }))
        .expect("poll-ready");
        assert_eq!(
            step,
            Step::PollReady {
                run_id: "apply-1".into(),
                steps: 7
            }
        );
        let abandon: Step = serde_json::from_value(serde_json::json!({
            "step": "abandon", "run_id": "apply-1",
            "error": {"Error": "States.Timeout", "Cause": ""}
        }))
        .expect("abandon");
        assert!(matches!(abandon, Step::Abandon { .. }));
    }

    #[test]
    fn a_report_moves_the_counter_on_by_one() {
        let report = steps::StepReport {
            next: Next::Wait,
            started: 3,
            pending: 2,
            settled: 0,
        };
        let p = progress("apply-1", 41, &report);
        assert_eq!(p.steps, 42);
        assert_eq!(p.next, Route::Wait);
        assert_eq!(
            serde_json::to_value(Route::RunBatch).expect("json"),
            serde_json::json!("run-batch")
        );
    }
}
