//! The apply worker: an asynchronous invocation `{"run_id": …}` naming a Pending apply run.
//!
//! # Guarantees
//! - Idempotent under redelivery (Lambda may deliver an async event more than once, and retries
//!   it after a failure): a run that is not Pending, or not an apply, is left alone; the worker
//!   takes the org's lease *before* looking again, so of two concurrent deliveries exactly one
//!   applies and the other does nothing.
//! - The run's plan digest must still be the current plan's, else the run is marked Failed saying
//!   why, and nothing is applied.
//! - `stackdock_engine::apply` does the work under the same lease (same owner), re-planning and
//!   recording every action into the run.

use jiff::Timestamp;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use stackdock_engine::{ApplyOptions, EngineError, lease_name};
use stackdock_store::{Lease, RunKind, RunRecord, RunStatus, StoreError};
use tracing::Instrument as _;

use crate::{Deps, FunctionError};

/// The event the apply function receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyEvent {
    pub run_id: String,
}

/// What one delivery did (the function's response, also logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The run was applied; `status` is its final status.
    Applied {
        run_id: String,
        status: RunStatus,
        failed_actions: usize,
    },
    /// Nothing was done: the run is unknown, finished, running elsewhere, or not an apply.
    Skipped { run_id: String, reason: String },
    /// The run was refused and marked Failed (a stale plan, another apply holding the lease).
    Refused { run_id: String, reason: String },
}

/// The apply function's handler.
pub async fn handler(
    event: LambdaEvent<ApplyEvent>,
    deps: &Deps,
) -> Result<ApplyOutcome, FunctionError> {
    run(deps, &event.payload.run_id, &event.context.request_id).await
}

/// Applies run `run_id` if it is still Pending; `request_id` makes this delivery's lease owner
/// unique.
pub async fn run(
    deps: &Deps,
    run_id: &str,
    request_id: &str,
) -> Result<ApplyOutcome, FunctionError> {
    let span = tracing::info_span!("apply", run_id = %run_id);
    async {
        let outcome = deliver(deps, run_id, request_id).await;
        match &outcome {
            Ok(o) => tracing::info!(outcome = ?o, "apply delivery handled"),
            Err(e) => {
                tracing::error!(error = %e, error_type = e.error_type(), "apply delivery failed")
            }
        }
        outcome
    }
    .instrument(span)
    .await
}

async fn deliver(
    deps: &Deps,
    run_id: &str,
    request_id: &str,
) -> Result<ApplyOutcome, FunctionError> {
    let org = deps.org();
    // A cheap look first: most redeliveries end here without touching the lease.
    let Some(run) = deps.store.get_run(org, run_id).await? else {
        return Ok(skipped(run_id, format!("no run {run_id} in org {org}")));
    };
    if let Some(why) = not_runnable(&run) {
        return Ok(skipped(run_id, why));
    }

    // The owner names the run, so a delivery that finds the lease taken can tell a concurrent
    // delivery of the same run (nothing to do) from another apply (this run cannot go ahead).
    let owner_prefix = format!("apply-worker:{run_id}:");
    let owner = format!("{owner_prefix}{request_id}:{}", uuid::Uuid::new_v4());
    let lease = match deps
        .store
        .acquire_lease(&lease_name(org), &owner, deps.lease_ttl, Timestamp::now())
        .await
    {
        Ok(lease) => lease,
        Err(StoreError::LeaseHeld { owner: holder, .. }) if holder.starts_with(&owner_prefix) => {
            return Ok(skipped(
                run_id,
                "another delivery of this run holds the lease".into(),
            ));
        }
        Err(StoreError::LeaseHeld {
            owner: holder,
            expires_at,
            ..
        }) => {
            let reason = format!(
                "another apply ({holder}) holds the org's lease until {expires_at}; review the plan again and resubmit once it has finished"
            );
            refuse(deps, run, &reason).await?;
            return Ok(refused(run_id, reason));
        }
        Err(e) => return Err(e.into()),
    };

    let outcome = leased(deps, run_id, &owner).await;
    release(deps, &lease).await;
    outcome
}

/// The rest of a delivery, holding the lease.
async fn leased(deps: &Deps, run_id: &str, owner: &str) -> Result<ApplyOutcome, FunctionError> {
    let org = deps.org();
    // Looked at again under the lease: a delivery that finished after the first look has moved
    // the run on by now.
    let Some(run) = deps.store.get_run(org, run_id).await? else {
        return Ok(skipped(run_id, "the run disappeared".into()));
    };
    if let Some(reason) = not_runnable(&run) {
        return Ok(skipped(run_id, reason));
    }
    let Some(digest) = run.plan_digest.clone() else {
        let reason = "the run names no plan digest; submit it through POST /v1/apply".to_owned();
        refuse(deps, run, &reason).await?;
        return Ok(refused(run_id, reason));
    };

    let current = deps.plan_deployed().await?;
    if current.digest != digest {
        let reason = format!(
            "the plan changed since it was submitted: {}; review the current plan and submit it again",
            deps.recent_plans.reasons(&digest, &current).join("; ")
        );
        refuse(deps, run, &reason).await?;
        return Ok(refused(run_id, reason));
    }

    let mut opts = ApplyOptions::new(owner, run.actor.clone(), deps.config_dir.clone());
    opts.run_id = Some(run_id.to_owned());
    opts.lease_ttl = deps.lease_ttl;
    opts.ready_timeout = deps.ready_timeout;
    opts.plan = deps.plan_options;
    match stackdock_engine::apply(
        &current,
        &deps.config,
        &deps.docks,
        deps.store.as_ref(),
        &opts,
    )
    .await
    {
        Ok(report) => {
            if let Some(failed) = stackdock_engine::notify::apply_occurrence(&report) {
                deps.notifier.send(&deps.config, vec![failed]).await;
            }
            Ok(ApplyOutcome::Applied {
                run_id: run_id.to_owned(),
                status: report.run.status,
                failed_actions: report.failed(),
            })
        }
        Err(EngineError::StalePlan { reasons }) => {
            let reason = format!(
                "the plan changed while the apply started: {}; review the current plan and submit it again",
                reasons
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            refuse(deps, run, &reason).await?;
            Ok(refused(run_id, reason))
        }
        Err(e) => {
            // The engine may have moved the run to Running: record the failure so a redelivery
            // does not find it stuck there, then report it.
            let latest = deps.store.get_run(org, run_id).await.ok().flatten();
            refuse(deps, latest.unwrap_or(run), &e.to_string()).await?;
            Err(e.into())
        }
    }
}

fn skipped(run_id: &str, reason: String) -> ApplyOutcome {
    ApplyOutcome::Skipped {
        run_id: run_id.to_owned(),
        reason,
    }
}

fn refused(run_id: &str, reason: String) -> ApplyOutcome {
    ApplyOutcome::Refused {
        run_id: run_id.to_owned(),
        reason,
    }
}

/// Why a run is not for this worker, if it is not.
pub(crate) fn not_runnable(run: &RunRecord) -> Option<String> {
    if run.kind != RunKind::Apply {
        return Some(format!("run {} is not an apply", run.run_id));
    }
    match run.status {
        RunStatus::Pending => None,
        status => Some(format!(
            "run {} is already {}",
            run.run_id,
            serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{status:?}"))
        )),
    }
}

/// Marks the run Failed with `reason`.
pub(crate) async fn refuse(
    deps: &Deps,
    mut run: RunRecord,
    reason: &str,
) -> Result<(), FunctionError> {
    tracing::warn!(reason, "apply run refused");
    let now = Timestamp::now();
    run.status = RunStatus::Failed;
    run.error = Some(reason.to_owned());
    run.finished_at = Some(now);
    run.log(now, format!("not applied: {reason}"));
    deps.store.put_run(&run).await?;
    Ok(())
}

async fn release(deps: &Deps, lease: &Lease) {
    // The engine releases the lease itself when it ran; releasing a lease that is gone is fine.
    if let Err(e) = deps.store.release_lease(lease).await {
        tracing::warn!(error = %e, "releasing the apply lease failed; it expires by itself");
    }
}
