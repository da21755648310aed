//! Apply in steps (design §10): the apply of `apply.rs` cut where one Lambda invocation may end,
//! so the apply state machine (infra/statemachines/apply.asl.json) runs each step in its own
//! invocation and waits for readiness in Wait states instead of sleeping functions.
//!
//! Every step starts from persisted state only — the run record (the actions recorded so far),
//! the intents, and the inventory (what was created, and what is still `Provisioning`) — so any
//! step can be run again after the invocation running it was killed or timed out:
//!
//! - [`begin`] marks a Pending run Running (a retried begin finds it Running).
//! - [`step`] re-plans under the lease and runs one batch of the first stage of the changes the
//!   run has not recorded yet. Creates are left `Provisioning`: nothing waits in the step.
//! - [`poll`] looks once at every `Provisioning` resource: ready ones become `Provisioned`, ones
//!   past `ready_timeout` become `Failed` and so does their action.
//! - [`finish`] resolves the intents left behind and settles the run; [`abandon`] settles a run
//!   the state machine gives up on, saying why.
//!
//! # Guarantees
//! - Never a duplicate create: a create is recorded as an intent before it is sent; a step killed
//!   after that finds the intent when it runs again and looks the resource up by its ownership
//!   tag (`apply.rs`), and a create whose record was written is no longer in the plan.
//! - A stage starts only once everything an earlier stage created is ready or failed; batches of
//!   one stage do not wait for each other (their actions are independent).
//! - An action runs at most once per run: a step skips every target the run has recorded, and a
//!   create whose invocation died before recording it is recorded by the poll that finds it ready.
//!
//! # Assumptions
//! The caller holds the org's apply lease across the steps and renews it between them; the
//! config does not change during the run (the deployed bundle), so the re-plan of a step differs
//! from the reviewed plan only by what the run has done.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use futures::StreamExt as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stackdock_core::config::Config;
use stackdock_core::plan::Action;
use stackdock_core::record::ProvisioningState;
use stackdock_core::{FieldValue, Kind, Record};
use stackdock_providers::{ErrorClass, PowerAction, Provider};
use stackdock_store::{ActionResult, Outcome, RunKind, RunRecord, RunStatus, Store};

use crate::apply::{Executor, run_batch, settle, stage_key, stages, target_of};
use crate::{ApplyOptions, Docks, EngineError, plan_against};

/// Actions started by one [`step`] when the caller does not say (one invocation's share).
pub const DEFAULT_BATCH: usize = 25;

/// What the run needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Next {
    /// Another [`step`]: the stage has more actions, or the next stage may start.
    Batch,
    /// Wait, then [`poll`]: resources are still becoming ready.
    Wait,
    /// [`finish`]: every change is recorded and every resource settled.
    Finish,
}

/// What one step or poll did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    pub next: Next,
    /// Actions this step attempted (recorded on the run, whatever their outcome).
    pub started: usize,
    /// Resources still `Provisioning` after it.
    pub pending: usize,
    /// Resources this poll found ready or gave up on.
    pub settled: usize,
}

/// Marks Pending apply run `run_id` Running under `lease_owner`; a Running run is left as it is
/// (the step was retried).
///
/// # Errors
/// `Invalid` when the run is unknown, not an apply, or already finished.
pub async fn begin(
    store: &dyn Store,
    org: &str,
    run_id: &str,
    lease_owner: &str,
) -> Result<RunRecord, EngineError> {
    let mut run = load(store, org, run_id).await?;
    match run.status {
        RunStatus::Pending => {
            run.status = RunStatus::Running;
            run.log(
                Timestamp::now(),
                format!("lease apply/{org} taken by {lease_owner}; applying in steps"),
            );
            store.put_run(&run).await?;
            Ok(run)
        }
        RunStatus::Running => Ok(run),
        other => Err(EngineError::Invalid(format!(
            "run {run_id} is already {other:?}; submit the plan again to apply it"
        ))),
    }
}

/// Runs one batch (at most `batch` actions) of the first stage the run has not finished, or
/// says what to do instead.
///
/// # Errors
/// A store or planning failure (the step can be run again); `Invalid` for a run that is not
/// Running.
pub async fn step(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
    run_id: &str,
    batch: usize,
) -> Result<StepReport, EngineError> {
    let org = &config.settings.org;
    let run = running(store, org, run_id).await?;
    // One read of the inventory per step: the plan and what is still becoming ready.
    let inventory = store.inventory(org, None).await?;
    let current = plan_against(config, docks, store, &inventory, opts.plan).await?;
    let recorded: BTreeSet<String> = run.actions.iter().map(|a| a.target.clone()).collect();
    let failed: BTreeSet<String> = run
        .actions
        .iter()
        .filter(|a| a.outcome != Outcome::Succeeded)
        .map(|a| a.target.clone())
        .collect();
    let remaining: Vec<&Action> = current
        .changes()
        .filter(|a| !recorded.contains(&target_of(a)))
        .collect();
    let in_flight = provisioning(inventory);
    let Some(stage) = stages(&remaining).into_iter().next() else {
        let next = if in_flight.is_empty() {
            Next::Finish
        } else {
            Next::Wait
        };
        return Ok(report(next, 0, in_flight.len(), 0));
    };
    // Only the stage's own earlier batches may still be becoming ready.
    let (phase, kind) = stage_key(stage[0]);
    if in_flight
        .iter()
        .any(|r| !(phase == 1 && kind == Some(r.kind())))
    {
        return Ok(report(Next::Wait, 0, in_flight.len(), 0));
    }
    let take = batch.max(1).min(stage.len());
    let more = stage.len() > take;
    let actions: Vec<&Action> = stage.into_iter().take(take).collect();
    let exec = Executor::new(config, docks, store, opts, run_id, true);
    let run = tokio::sync::Mutex::new(run);
    let lost = AtomicBool::new(false);
    let results = run_batch(&exec, actions, &failed, &lost, &run).await;
    // Written once more: a result whose own write failed is recorded here.
    store.put_run(&run.into_inner()).await?;
    // What was becoming ready, and the creates this batch left `Provisioning`.
    let created = results
        .iter()
        .filter(|r| {
            r.outcome == Outcome::Succeeded
                && matches!(r.action.as_str(), "create" | "recreate" | "replace")
        })
        .count();
    let pending = in_flight.len() + created;
    let next = if more || pending == 0 {
        Next::Batch
    } else {
        Next::Wait
    };
    Ok(report(next, results.len(), pending, 0))
}

/// Looks once at every resource still `Provisioning` (at most `opts.concurrency` at a time):
/// ready ones are recorded `Provisioned` (a server declared `power = "off"` is powered off
/// first), ones that failed or are still not ready `ready_timeout` after their create are
/// recorded `Failed`, and so is their action.
///
/// # Errors
/// A store failure (the poll can be run again).
pub async fn poll(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
    run_id: &str,
) -> Result<StepReport, EngineError> {
    let org = &config.settings.org;
    let mut run = running(store, org, run_id).await?;
    let in_flight = provisioning(store.inventory(org, None).await?);
    let now = Timestamp::now();
    // Each resource's record is written as soon as it is seen settled: a poll killed half-way
    // keeps what it learnt, and the next one looks only at the rest.
    let checks = futures::stream::iter(in_flight)
        .map(|record| async move {
            let settled = match check(config, docks, opts, &record, now).await {
                Seen::Pending => Settled::Pending,
                Seen::Ready(mut latest) => {
                    latest.keep_bookkeeping_of(&record);
                    latest.provisioning_state = Some(ProvisioningState::Provisioned);
                    latest.provisioned_at = Some(Timestamp::now());
                    latest.updated_at = Some(Timestamp::now());
                    store.put_records(&[latest]).await?;
                    Settled::Ready
                }
                Seen::Failed(message) => {
                    let mut failed = record.clone();
                    failed.provisioning_state = Some(ProvisioningState::Failed);
                    failed.updated_at = Some(Timestamp::now());
                    store.put_records(&[failed]).await?;
                    Settled::Failed(message)
                }
            };
            Ok::<_, EngineError>((record, settled))
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let (mut pending, mut settled) = (0, 0);
    for checked in checks {
        let (record, seen) = checked?;
        let address = record.managed_by.clone().unwrap_or_default();
        let dock = dock_name(org, &record.dock_id);
        let id = record.provider_resource_id.clone();
        match seen {
            Settled::Pending => pending += 1,
            Settled::Ready => {
                settled += 1;
                say(opts, run_id, &format!("  {address}: ready"));
                if !run.actions.iter().any(|a| a.target == address) {
                    // The invocation that created it ended before recording the result.
                    run.actions.push(ActionResult {
                        action: "create".to_owned(),
                        target: address.to_string(),
                        dock,
                        provider_id: Some(id.to_string()),
                        outcome: Outcome::Succeeded,
                        message: format!("created {address} (recorded when found ready)"),
                        at: Timestamp::now(),
                    });
                }
            }
            Settled::Failed(message) => {
                settled += 1;
                say(opts, run_id, &format!("  {address}: FAILED: {message}"));
                match run.actions.iter_mut().find(|a| a.target == address) {
                    Some(result) => {
                        result.outcome = Outcome::Failed;
                        result.message = message;
                        result.at = Timestamp::now();
                    }
                    None => run.actions.push(ActionResult {
                        action: "create".to_owned(),
                        target: address.to_string(),
                        dock,
                        provider_id: Some(id.to_string()),
                        outcome: Outcome::Failed,
                        message,
                        at: Timestamp::now(),
                    }),
                }
            }
        }
    }
    if settled > 0 {
        store.put_run(&run).await?;
    }
    let next = if pending > 0 { Next::Wait } else { Next::Batch };
    Ok(report(next, 0, pending, settled))
}

/// Clears the intents whose resources are recorded and settles the run (once: a finished run is
/// returned as it is).
///
/// # Errors
/// A store failure (the step can be run again).
pub async fn finish(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
    run_id: &str,
) -> Result<RunRecord, EngineError> {
    let org = &config.settings.org;
    let mut run = load(store, org, run_id).await?;
    if run.status.is_finished() {
        return Ok(run);
    }
    let exec = Executor::new(config, docks, store, opts, run_id, true);
    match exec.resolve_intents().await {
        Ok(resolved) => {
            for address in resolved {
                run.log(
                    Timestamp::now(),
                    format!("resolved the create intent of {address} left by an earlier attempt: the resource is recorded"),
                );
            }
        }
        Err(e) => run.log(
            Timestamp::now(),
            format!("checking the intents left by earlier attempts failed: {e}"),
        ),
    }
    settle(&mut run, 0);
    store.put_run(&run).await?;
    Ok(run)
}

/// Settles a run the state machine gave up on (a step failed after its retries, the step limit,
/// a lost lease): Partial if some actions succeeded, else Failed, with `reason` as its error. A
/// finished run is returned as it is.
///
/// # Errors
/// A store failure.
pub async fn abandon(
    store: &dyn Store,
    org: &str,
    run_id: &str,
    reason: &str,
) -> Result<RunRecord, EngineError> {
    let mut run = load(store, org, run_id).await?;
    if run.status.is_finished() {
        return Ok(run);
    }
    settle(&mut run, 0);
    let succeeded = run.actions.iter().any(|a| a.outcome == Outcome::Succeeded);
    run.status = if succeeded {
        RunStatus::Partial
    } else {
        RunStatus::Failed
    };
    run.error = Some(match run.error.take() {
        Some(earlier) => format!("{reason}; {earlier}"),
        None => reason.to_owned(),
    });
    run.log(Timestamp::now(), format!("stopped: {reason}"));
    store.put_run(&run).await?;
    Ok(run)
}

/// Runs a whole apply through the steps in this process: [`step`] until it says wait,
/// `poll_every` sleeps and [`poll`]s while resources become ready, then [`finish`]. `renew` runs
/// between steps (the caller's lease renewal); its error stops the run.
///
/// # Errors
/// The first step error, or `renew`'s.
pub async fn run_steps<R, F>(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
    run_id: &str,
    poll_every: Duration,
    mut renew: R,
) -> Result<RunRecord, EngineError>
where
    R: FnMut() -> F,
    F: std::future::Future<Output = Result<(), EngineError>>,
{
    let mut next = Next::Batch;
    loop {
        renew().await?;
        next = match next {
            Next::Batch => step(config, docks, store, opts, run_id, DEFAULT_BATCH).await?,
            Next::Wait => {
                tokio::time::sleep(poll_every).await;
                poll(config, docks, store, opts, run_id).await?
            }
            Next::Finish => return finish(config, docks, store, opts, run_id).await,
        }
        .next;
    }
}

/// What a poll did with one resource (its record already written).
enum Settled {
    Ready,
    Pending,
    Failed(String),
}

/// What one look at a `Provisioning` resource saw.
#[allow(
    clippy::large_enum_variant,
    reason = "one per resource per poll, moved once"
)]
enum Seen {
    Ready(Record),
    Pending,
    Failed(String),
}

async fn check(
    config: &Config,
    docks: &Docks,
    opts: &ApplyOptions,
    record: &Record,
    now: Timestamp,
) -> Seen {
    let dock = dock_name(&config.settings.org, &record.dock_id);
    let Some(provider) = docks.get(&dock) else {
        return Seen::Failed(format!(
            "dock `{dock}` is unavailable, so its readiness cannot be checked; run apply again"
        ));
    };
    let provider: &dyn Provider = provider.as_ref();
    let (kind, id) = (record.kind(), record.provider_resource_id.as_str());
    let wants_off = kind == Kind::Servers
        && record.applied.get("power").and_then(FieldValue::as_str) == Some("off");
    if wants_off
        && let Ok(Some(r)) = provider.get(kind, id).await
        && r.status == PowerAction::Off.target_status()
    {
        return Seen::Ready(r);
    }
    // One look, no waiting: a timeout of zero polls once.
    match provider.wait_ready(kind, id, Duration::ZERO).await {
        Ok(_) if wants_off => {
            // Built and booted: powered off as a create does, the short wait for it inline.
            let off = PowerAction::Off;
            match provider.power(kind, id, off).await {
                Ok(()) => match provider.wait_power(kind, id, off, opts.ready_timeout).await {
                    Ok(r) => Seen::Ready(r),
                    Err(e) => Seen::Failed(e.to_string()),
                },
                Err(e) => Seen::Failed(e.to_string()),
            }
        }
        Ok(r) => Seen::Ready(r),
        Err(e) if matches!(e.class, ErrorClass::Transient | ErrorClass::RateLimited) => {
            let since = record.updated_at.unwrap_or(now);
            let waited = now.duration_since(since).unsigned_abs();
            if waited >= opts.ready_timeout {
                Seen::Failed(format!(
                    "{e} (not ready {}s after its create); run `stackdock sync` and `stackdock plan` to see",
                    opts.ready_timeout.as_secs()
                ))
            } else {
                Seen::Pending
            }
        }
        Err(e) => Seen::Failed(e.to_string()),
    }
}

/// The managed resources of `inventory` still becoming ready.
fn provisioning(inventory: Vec<Record>) -> Vec<Record> {
    inventory
        .into_iter()
        .filter(|r| {
            r.provisioning_state == Some(ProvisioningState::Provisioning)
                && r.managed_by.is_some()
                && r.missing_since.is_none()
        })
        .collect()
}

async fn load(store: &dyn Store, org: &str, run_id: &str) -> Result<RunRecord, EngineError> {
    let run = store.get_run(org, run_id).await?.ok_or_else(|| {
        EngineError::Invalid(format!(
            "no run {run_id} in org {org}; submit the plan through POST /v1/apply"
        ))
    })?;
    if run.kind != RunKind::Apply {
        return Err(EngineError::Invalid(format!(
            "run {run_id} is not an apply"
        )));
    }
    Ok(run)
}

async fn running(store: &dyn Store, org: &str, run_id: &str) -> Result<RunRecord, EngineError> {
    let run = load(store, org, run_id).await?;
    if run.status != RunStatus::Running {
        return Err(EngineError::Invalid(format!(
            "run {run_id} is {:?}, not running; nothing more is applied",
            run.status
        )));
    }
    Ok(run)
}

/// The dock's name in a dock id `<org>/<name>`.
fn dock_name(org: &str, id: &str) -> String {
    id.strip_prefix(org)
        .and_then(|rest| rest.strip_prefix('/'))
        .map_or_else(|| id.to_owned(), str::to_owned)
}

fn say(opts: &ApplyOptions, run_id: &str, line: &str) {
    tracing::info!(run_id = %run_id, "{line}");
    if let Some(p) = &opts.progress {
        p(line);
    }
}

fn report(next: Next, started: usize, pending: usize, settled: usize) -> StepReport {
    StepReport {
        next,
        started,
        pending,
        settled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdock_core::record::dock_id;

    #[test]
    fn the_dock_name_is_the_dock_id_without_its_org() {
        assert_eq!(dock_name("acme", &dock_id("acme", "do-main")), "do-main");
        assert_eq!(dock_name("acme", "other/x"), "other/x");
    }

    #[test]
    fn next_is_kebab_case_for_the_state_machine_choice() {
        assert_eq!(
            serde_json::to_value(Next::Batch).expect("json"),
            serde_json::json!("batch")
        );
        assert_eq!(
            serde_json::to_value(Next::Finish).expect("json"),
            serde_json::json!("finish")
        );
    }
}
