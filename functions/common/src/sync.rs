//! The scheduled sync: an EventBridge Scheduler event marks runs left past their deadline failed,
//! syncs every dock, prints the EMF metrics (`metrics`), plans, writes the drift flags, notes the
//! plan on the sync's run record and, with `drift = "remediate"`, submits the apply that restores
//! stackdock.toml — unless a resource in it has failed `REMEDIATION_ATTEMPTS` remediations in a
//! row, or the plan deletes while `prune` is off.
//!
//! Deployed, the schedule starts the sync state machine instead, whose steps (`fanout`) sync one
//! dock per invocation and then run the same `plan_after_sync`; [`handler`] syncs every dock in
//! one invocation (local runs: `cargo lambda invoke sync` with the schedule event).
//!
//! # Errors
//! Docks that failed to sync are recorded in the run and their plans blocked; the invocation then
//! fails with `Retryable` (a provider or network failure: the next attempt may list them) or
//! `NonRetryable` (only credential problems), after everything else has been recorded.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::Timestamp;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use stackdock_core::config::DriftMode;
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::render;
use stackdock_engine::{SyncOptions, SyncReport, record_drift_noting};
use tracing::Instrument as _;

use stackdock_store::{Outcome, RunKind, RunStatus, RunsRequest};

use crate::{Deps, FunctionError, metrics, submit::REMEDIATION_PREFIX, submit_remediation};

/// What a scheduled sync did (the function's response, also logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncOutcome {
    pub run_id: String,
    pub docks: usize,
    pub docks_failed: usize,
    pub records_written: usize,
    pub plan_digest: String,
    pub changes: usize,
    pub drifted: usize,
    /// The apply run submitted to remove drift (`drift = "remediate"`).
    pub remediation_run_id: Option<String>,
}

/// The sync function's handler.
pub async fn handler(
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    deps: &Deps,
) -> Result<SyncOutcome, FunctionError> {
    let actor = actor(&event.payload);
    let span = tracing::info_span!(
        "sync",
        run_id = tracing::field::Empty,
        event_id = event.payload.id.as_deref().unwrap_or(""),
    );
    run(deps, &actor).instrument(span).await
}

/// Who started the sync: the schedule's ARN when the event names it.
fn actor(event: &EventBridgeEvent<serde_json::Value>) -> String {
    match event.resources.as_ref().and_then(|r| r.first()) {
        Some(schedule) => format!("schedule:{schedule}"),
        None if event.source.is_empty() => "schedule:unknown".to_owned(),
        None => format!("schedule:{}", event.source),
    }
}

/// Syncs, plans, flags drift and maybe remediates, on behalf of `actor`, every dock in this one
/// invocation (the local story: `cargo lambda invoke sync` with the schedule event; deployed, the
/// sync state machine runs the same work as its steps, see `fanout`). Runs inside the caller's
/// span, whose `run_id` field it fills in.
pub async fn run(deps: &Deps, actor: &str) -> Result<SyncOutcome, FunctionError> {
    reap_stale_runs(deps).await;
    let opts = SyncOptions {
        actor: actor.to_owned(),
        ..SyncOptions::default()
    };
    let report = stackdock_engine::sync(&deps.config, &deps.docks, deps.store.as_ref(), &opts)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "sync failed"))?;
    tracing::Span::current().record("run_id", report.run_id.as_str());
    let outcome = plan_after_sync(deps, actor, &report, &BTreeMap::new()).await?;
    let failed: Vec<_> = report.failed().collect();
    if !failed.is_empty() {
        // Credential problems need a person; anything else (a provider or Secrets Manager that
        // failed for now) may pass on the next attempt.
        let credentials_only = failed.iter().all(|d| d.credential_problem);
        return Err(FunctionError::DocksFailed {
            run_id: report.run_id.clone(),
            failed: failed.len(),
            total: report.docks.len(),
            detail: failed
                .iter()
                .map(|d| format!("{}: {}", d.dock, d.error.as_deref().unwrap_or("failed")))
                .collect::<Vec<_>>()
                .join("; "),
            credentials_only,
        });
    }
    Ok(outcome)
}

/// Marks runs past their deadline failed (`fail_stale_runs`), logging what it did; a failure to
/// look is only logged: the next sync tries again.
pub(crate) async fn reap_stale_runs(deps: &Deps) {
    match fail_stale_runs(deps, Timestamp::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(runs = n, "runs past their deadline marked failed"),
        // Not worth failing the sync for: the next one tries again.
        Err(e) => tracing::warn!(error = %e, "looking for runs past their deadline failed"),
    }
}

/// What follows the docks' sync, whoever synced them (this process, or the state machine's
/// `sync-dock` invocations): the EMF metrics, the plan, the drift flags, the `[notify]` messages
/// (`notify::after_sync`; `more`: per dock, appeared resources not passed on by name), the plan
/// noted on the run `report.run_id` and, with `drift = "remediate"` and a complete plan, the
/// remediation. Failed docks are only counted here (their plans are blocked by their statuses).
pub(crate) async fn plan_after_sync(
    deps: &Deps,
    actor: &str,
    report: &SyncReport,
    more: &BTreeMap<String, usize>,
) -> Result<SyncOutcome, FunctionError> {
    let failed: Vec<_> = report.failed().collect();
    for d in &failed {
        tracing::warn!(dock = %d.dock, error = d.error.as_deref().unwrap_or("sync failed"), "dock sync failed");
    }
    emit_metrics(deps, failed.len()).await;
    tracing::info!(
        docks = report.docks.len(),
        failed = failed.len(),
        written = report.written(),
        "synced"
    );

    let plan = deps.plan_deployed().await?;
    deps.remember(&plan);
    let (flagged, drift) = record_drift_noting(&plan, &deps.config, deps.store.as_ref()).await?;
    let drifted = plan.summary.drift;
    tracing::info!(
        plan_digest = %plan.digest,
        changes = plan.summary.changes(),
        drift = drifted,
        records_flagged = flagged,
        blocked = plan.summary.blocked,
        errors = plan.summary.error,
        "planned"
    );

    let mut exhausted = Vec::new();
    let remediation = if remediate(deps, &plan) {
        exhausted = exhausted_remediations(deps, &plan).await?;
        if exhausted.is_empty() {
            let id = submit_remediation(deps, &plan.digest, actor).await?;
            tracing::info!(apply_run_id = %id, "remediation submitted");
            Some(id)
        } else {
            for (address, failures) in &exhausted {
                remediation_given_up(address, *failures);
            }
            None
        }
    } else {
        None
    };
    let notified = crate::notify::after_sync(deps, report, &plan, drift, more).await;
    let noted = Noted {
        remediation: remediation.as_deref(),
        exhausted: &exhausted,
        notified: notified.as_deref(),
    };
    note_plan(deps, report, &plan, noted).await?;
    Ok(SyncOutcome {
        run_id: report.run_id.clone(),
        docks: report.docks.len(),
        docks_failed: failed.len(),
        records_written: report.written(),
        plan_digest: plan.digest.clone(),
        changes: plan.summary.changes(),
        drifted,
        remediation_run_id: remediation,
    })
}

/// Prints the run's EMF metrics (see `metrics`) from the dock statuses as stored now.
async fn emit_metrics(deps: &Deps, docks_failed: usize) {
    let statuses = match deps.store.dock_statuses(deps.org()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "dock statuses unreadable: no sync-age metrics this run");
            Vec::new()
        }
    };
    let docks: Vec<&str> = deps.config.docks.keys().map(String::as_str).collect();
    metrics::emit(&metrics::sync_lines(
        &metrics::stack_name(),
        Timestamp::now(),
        &docks,
        &statuses,
        docks_failed,
    ));
}

/// How long after its start a run may still be `pending` or `running`: the apply's lease TTL
/// (15 minutes, also Lambda's longest timeout, so no function can still be working on it) plus
/// 5 minutes of grace for the run record's last write.
pub fn run_deadline(deps: &Deps) -> std::time::Duration {
    deps.lease_ttl + std::time::Duration::from_secs(5 * 60)
}

/// Whether the apply state machine still holds the org's lease for run `run_id` (its steps
/// renew it; it lapses `lease_ttl` after the last step of an execution that stopped).
async fn stepping(deps: &Deps, run_id: &str, now: Timestamp) -> Result<bool, FunctionError> {
    let lease = deps
        .store
        .current_lease(&stackdock_engine::lease_name(deps.org()))
        .await?;
    Ok(lease
        .is_some_and(|l| l.owner == crate::applymachine::lease_owner(run_id) && l.expires_at > now))
}

/// How many recent runs the sync looks through for ones past their deadline.
const STALE_SCAN: usize = 100;

/// Marks `failed`, with the reason, every recent run still `pending` or `running` past its
/// deadline: its start plus [`run_deadline`] (a function that timed out or crashed never finishes
/// its record) — but an apply whose state machine still holds the lease for it, which may run
/// for hours. A run's `expires_at` is not a deadline but how long the store keeps the record
/// (90 days or a year, `stackdock_store::run_retention`), so it plays no part. Returns how many
/// it marked.
pub async fn fail_stale_runs(deps: &Deps, now: Timestamp) -> Result<usize, FunctionError> {
    let limit = jiff::SignedDuration::try_from(run_deadline(deps))
        .map_err(|e| FunctionError::Config(format!("run deadline out of range: {e}")))?;
    let mut marked = 0;
    let recent = deps
        .store
        .runs_page(
            deps.org(),
            &RunsRequest {
                limit: STALE_SCAN,
                ..RunsRequest::default()
            },
        )
        .await?;
    // Headers first: only a run past its deadline is read whole (its log is rewritten).
    for header in recent.runs {
        if !matches!(header.status, RunStatus::Pending | RunStatus::Running) {
            continue;
        }
        let deadline = header
            .started_at
            .checked_add(limit)
            .unwrap_or(header.started_at);
        if now <= deadline {
            continue;
        }
        if header.kind == RunKind::Apply && stepping(deps, &header.run_id, now).await? {
            // The apply state machine is working on it: each of its steps renews the org's
            // lease for the run, so a live lease is a live apply, however long it has run.
            continue;
        }
        let Some(mut run) = deps.store.get_run(deps.org(), &header.run_id).await? else {
            continue;
        };
        let was = if run.status == RunStatus::Pending {
            "pending"
        } else {
            "running"
        };
        let reason = format!(
            "still {was} at {now}, past its deadline {deadline}: the function working on it timed out or stopped; marked failed by the next sync. Check the resources it touched (`stackdock plan`) before applying again"
        );
        tracing::warn!(run_id = %run.run_id, kind = ?run.kind, "{reason}");
        run.status = RunStatus::Failed;
        run.finished_at = Some(now);
        run.error = Some(reason.clone());
        run.log(now, reason);
        deps.store.put_run(&run).await?;
        marked += 1;
    }
    Ok(marked)
}

/// Remediation runs only on a complete plan: every dock synced, nothing unsatisfiable, and no
/// delete unless `prune = true` (the plan makes none without it; this holds even if it did).
fn remediate(deps: &Deps, plan: &Plan) -> bool {
    deps.config.settings.drift == DriftMode::Remediate
        && plan.has_changes()
        && plan.summary.error == 0
        && plan.summary.blocked == 0
        && (deps.config.settings.prune || plan.of_kind(ActionKind::Delete).next().is_none())
}

/// Consecutive failed remediation attempts after which the sync stops remediating a resource.
pub const REMEDIATION_ATTEMPTS: usize = 3;

/// How many of the most recent applies are read (whole) to count remediation attempts: ten
/// times the attempts that stop remediation, so applies on other resources in between do not
/// hide them.
const REMEDIATION_SCAN: usize = 10 * REMEDIATION_ATTEMPTS;

/// The resources of `plan` whose last [`REMEDIATION_ATTEMPTS`] remediation attempts all failed,
/// with the count. The count is kept in the store as the apply runs themselves (their per-action
/// results): from the newest apply back, a failed action on the address in a remediation run (id
/// starting with `REMEDIATION_PREFIX`) counts, a succeeded one in any apply resets it, runs that
/// did not touch it are passed over.
async fn exhausted_remediations(
    deps: &Deps,
    plan: &Plan,
) -> Result<Vec<(String, usize)>, FunctionError> {
    // The applies among the most recent runs, whole (their per-action outcomes count).
    let recent = deps
        .store
        .runs_page(
            deps.org(),
            &RunsRequest {
                kind: Some(RunKind::Apply),
                after: None,
                limit: REMEDIATION_SCAN,
            },
        )
        .await?;
    let mut applies = Vec::with_capacity(recent.runs.len());
    for header in recent.runs {
        applies.extend(deps.store.get_run(deps.org(), &header.run_id).await?);
    }
    let mut targets: Vec<String> = plan
        .actions
        .iter()
        .filter_map(|a| a.address.clone())
        .collect();
    targets.sort();
    targets.dedup();
    let mut exhausted = Vec::new();
    for target in targets {
        let mut failures = 0;
        for run in &applies {
            let outcomes: Vec<Outcome> = run
                .actions
                .iter()
                .filter(|a| a.target == target)
                .map(|a| a.outcome)
                .collect();
            if outcomes.contains(&Outcome::Succeeded) {
                // Any apply that succeeded on it (a remediation or a person's) resets the count.
                break;
            }
            if run.run_id.starts_with(REMEDIATION_PREFIX) && outcomes.contains(&Outcome::Failed) {
                failures += 1;
            }
        }
        if failures >= REMEDIATION_ATTEMPTS {
            exhausted.push((target, failures));
        }
    }
    Ok(exhausted)
}

/// A resource the sync stopped remediating: logged as a warning naming it. This is the hook for
/// notifications (TODO(#21): send it to the SNS topic / webhook once per new occurrence).
fn remediation_given_up(address: &str, failures: usize) {
    tracing::warn!(
        address,
        failures,
        "remediation stopped: the last {failures} remediation attempts on {address} failed; fix it by hand (see the apply runs) and run `stackdock apply`; remediation resumes after a successful apply of it"
    );
}

/// What the sync's run record notes besides the plan.
struct Noted<'a> {
    /// The remediation run submitted.
    remediation: Option<&'a str>,
    /// Resources whose remediation stopped, with their failed attempts.
    exhausted: &'a [(String, usize)],
    /// The notifications' line (`notify::after_sync`).
    notified: Option<&'a str>,
}

/// Adds the plan's digest, summary and drift, the remediation and the notifications to the
/// sync's run record.
async fn note_plan(
    deps: &Deps,
    report: &SyncReport,
    plan: &Plan,
    noted: Noted<'_>,
) -> Result<(), FunctionError> {
    let Noted {
        remediation,
        exhausted,
        notified,
    } = noted;
    let Some(mut run) = deps.store.get_run(deps.org(), &report.run_id).await? else {
        tracing::warn!("the sync's run record is gone; the plan summary is only in this log");
        return Ok(());
    };
    let now = Timestamp::now();
    run.plan_digest = Some(plan.digest.clone());
    run.log(
        now,
        format!("plan {}: {}", plan.digest, render::text::summary_line(plan)),
    );
    let drift: Vec<String> = plan
        .of_kind(ActionKind::Drift)
        .map(|a| {
            let fields: Vec<&str> = a.changes.iter().map(|c| c.field.as_str()).collect();
            format!(
                "{} ({})",
                a.address.as_deref().unwrap_or("?"),
                fields.join(", ")
            )
        })
        .collect();
    run.log(
        now,
        if drift.is_empty() {
            "drift: none".to_owned()
        } else {
            format!("drift: {} resources: {}", drift.len(), drift.join("; "))
        },
    );
    match remediation {
        Some(id) => run.log(now, format!("remediation: submitted apply run {id}")),
        None if !exhausted.is_empty() => run.log(
            now,
            format!(
                "remediation: not submitted, stopped after {REMEDIATION_ATTEMPTS} consecutive failed attempts on: {}",
                exhausted
                    .iter()
                    .map(|(a, n)| format!("{a} ({n} failed)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        None if deps.config.settings.drift == DriftMode::Remediate && plan.has_changes() => run
            .log(
                now,
                "remediation: not submitted, the plan is incomplete (blocked docks or errors)",
            ),
        None => {}
    }
    if let Some(line) = notified {
        run.log(now, line);
    }
    deps.store.put_run(&run).await?;
    Ok(())
}
