//! Apply: a reviewed plan executed under the org's lease, each step recorded.
//!
//! # Guarantees
//! - One apply per org at a time (the lease); the plan is re-computed under the lease and a plan
//!   whose digest no longer matches is refused with what changed.
//! - Before every create an intent is recorded; a create whose response was lost (timeout, 5xx)
//!   is resolved by looking the resource up by its ownership tag, never by sending it again, and a
//!   later run finishes any intent a crash left behind the same way.
//! - One attempt per action; failures are collected, actions depending on a failed one are
//!   skipped, the rest go on.
//! - Replaces without `allow_replace` and other disallowed changes are skipped and recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::{FutureExt as _, StreamExt};

use jiff::Timestamp;
use stackdock_core::config::Config;
use stackdock_core::plan::{Action, ActionKind, Plan, ResourceSpec, compare};
use stackdock_core::record::{ProvisioningSource, RecordKey, dock_id};
use stackdock_core::schema::{Change, default_value, field_rules};
use stackdock_core::{Kind, Record};
use stackdock_providers::Provider;
use stackdock_store::{ActionResult, Lease, Outcome, RunKind, RunRecord, RunStatus, Store};

use crate::{DefaultResolver, Docks, EngineError, PlanOptions, plan_current};

mod converge;
mod create;

/// Progress callback: one line per step, for a terminal.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// How an apply runs.
#[derive(Clone)]
pub struct ApplyOptions {
    /// Lease owner: unique per process (`cli:<host>:<pid>`, a Lambda request id).
    pub owner: String,
    /// Who asked (recorded in the run).
    pub actor: String,
    pub lease_ttl: Duration,
    /// Per-resource wait for readiness after a create or update.
    pub ready_timeout: Duration,
    /// Actions of one stage (same phase and kind) run at once, at most this many per dock.
    pub concurrency: usize,
    /// Directory of stackdock.toml: `user_data_file` is read relative to it.
    pub config_dir: PathBuf,
    /// Use this run id (an apply submitted through the API); otherwise a new one.
    pub run_id: Option<String>,
    pub plan: PlanOptions,
    pub progress: Option<Progress>,
    /// Reads the secrets web services' environment variables point to (`env_sources`), at the
    /// create or update that sends them.
    pub secrets: Arc<DefaultResolver>,
}

impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("owner", &self.owner)
            .field("actor", &self.actor)
            .field("lease_ttl", &self.lease_ttl)
            .field("ready_timeout", &self.ready_timeout)
            .field("concurrency", &self.concurrency)
            .field("config_dir", &self.config_dir)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl ApplyOptions {
    pub fn new(
        owner: impl Into<String>,
        actor: impl Into<String>,
        config_dir: impl Into<PathBuf>,
    ) -> ApplyOptions {
        ApplyOptions {
            owner: owner.into(),
            actor: actor.into(),
            lease_ttl: Duration::from_secs(15 * 60),
            ready_timeout: Duration::from_secs(10 * 60),
            concurrency: 16,
            config_dir: config_dir.into(),
            run_id: None,
            plan: PlanOptions::default(),
            progress: None,
            secrets: Arc::new(DefaultResolver::new()),
        }
    }
}

/// The result of an apply: its run record.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub run: RunRecord,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.run
            .actions
            .iter()
            .filter(|a| a.outcome == Outcome::Failed)
            .count()
    }
}

/// The lease name of an org's applies.
pub fn lease_name(org: &str) -> String {
    format!("apply/{org}")
}

/// Applies `reviewed` (a plan the user saw) if it still matches the current plan.
pub async fn apply(
    reviewed: &Plan,
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
) -> Result<ApplyReport, EngineError> {
    let org = &config.settings.org;
    if &reviewed.org != org {
        return Err(EngineError::WrongOrg {
            plan: reviewed.org.clone(),
            config: org.clone(),
        });
    }
    let lease = store
        .acquire_lease(
            &lease_name(org),
            &opts.owner,
            opts.lease_ttl,
            Timestamp::now(),
        )
        .await?;
    let result = apply_leased(reviewed, config, docks, store, opts, lease.clone()).await;
    let (result, lease) = match result {
        Ok((report, lease)) => (Ok(report), lease),
        Err(e) => (Err(e), lease),
    };
    if let Err(e) = store.release_lease(&lease).await {
        tracing::warn!(error = %e, "releasing the apply lease failed; it expires by itself");
    }
    result
}

async fn apply_leased(
    reviewed: &Plan,
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &ApplyOptions,
    lease: Lease,
) -> Result<(ApplyReport, Lease), EngineError> {
    let current = plan_current(config, docks, store, opts.plan).await?;
    let reasons = compare(reviewed, &current);
    if !reasons.is_empty() {
        return Err(EngineError::StalePlan { reasons });
    }
    let org = &config.settings.org;
    let run_id = opts
        .run_id
        .clone()
        .unwrap_or_else(|| format!("apply-{}", uuid::Uuid::new_v4()));
    let mut run = RunRecord::new(&run_id, org, RunKind::Apply, &opts.actor, Timestamp::now());
    run.plan_digest = Some(current.digest.clone());
    run.log(
        Timestamp::now(),
        format!("lease {} taken by {}", lease.name, lease.owner),
    );
    store.put_run(&run).await?;

    let exec = Executor::new(config, docks, store, opts, &run_id, false);
    let changes: Vec<&Action> = current.changes().collect();
    let run = tokio::sync::Mutex::new(run);
    let lease = tokio::sync::Mutex::new(lease);
    let lost = AtomicBool::new(false);
    let stages = async {
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for stage in stages(&changes) {
            for r in run_batch(&exec, stage, &failed, &lost, &run).await {
                if r.outcome != Outcome::Succeeded {
                    failed.insert(r.target);
                }
            }
        }
    };
    let renewal = async {
        loop {
            tokio::time::sleep(opts.lease_ttl / 3).await;
            let mut held = lease.lock().await;
            match store
                .renew_lease(&held, opts.lease_ttl, Timestamp::now())
                .await
            {
                Ok(renewed) => {
                    run.lock().await.log(
                        Timestamp::now(),
                        format!("lease renewed until {}", renewed.expires_at),
                    );
                    *held = renewed;
                }
                Err(e) => {
                    // Another apply may take over: start nothing new; in-flight actions finish
                    // and their intents protect them.
                    tracing::error!(error = %e, "the apply lease was lost");
                    run.lock().await.log(
                        Timestamp::now(),
                        format!("lease lost ({e}); no further action started"),
                    );
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    };
    {
        tokio::pin!(stages);
        tokio::pin!(renewal);
        tokio::select! {
            () = &mut stages => {}
            () = &mut renewal => {
                // The lease is lost, but running actions must not be cut off mid-request.
                (&mut stages).await;
            }
        }
    }
    let mut run = run.into_inner();
    let lease = lease.into_inner();
    match exec.resolve_intents().await {
        Ok(resolved) => {
            for address in resolved {
                run.log(
                    Timestamp::now(),
                    format!("resolved the create intent of {address} left by an earlier apply: the resource is recorded"),
                );
            }
        }
        Err(e) => run.log(
            Timestamp::now(),
            format!("checking the intents left by earlier applies failed: {e}"),
        ),
    }
    // Results in plan order, whatever order the concurrent actions finished in.
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    for (i, a) in changes.iter().enumerate() {
        order.entry(target_of(a)).or_insert(i);
    }
    run.actions
        .sort_by_key(|r| order.get(&r.target).copied().unwrap_or(usize::MAX));
    settle(&mut run, exec.not_started.load(Ordering::SeqCst));
    store.put_run(&run).await?;
    Ok((ApplyReport { run }, lease))
}

/// Runs one batch of a stage's actions: docks side by side, each with its own concurrency (one
/// provider's rate limit — Linode: 20 creates per 15 s — never holds up another's actions); each
/// result is recorded on the run as soon as it is known, so after a crash the run tells what
/// happened. `failed` holds the targets that did not succeed before this batch.
pub(crate) async fn run_batch(
    exec: &Executor<'_>,
    actions: Vec<&Action>,
    failed: &BTreeSet<String>,
    lost: &AtomicBool,
    run: &tokio::sync::Mutex<RunRecord>,
) -> Vec<ActionResult> {
    let mut by_dock: BTreeMap<&str, Vec<&Action>> = BTreeMap::new();
    for action in actions {
        by_dock
            .entry(action.dock.as_str())
            .or_default()
            .push(action);
    }
    let store = exec.store;
    let per_dock = by_dock.into_values().map(|actions| {
        futures::stream::iter(actions)
            .map(|action| async move {
                let result = exec.attempt(action, failed, lost).await;
                let mut run = run.lock().await;
                run.actions.push(result.clone());
                if let Err(e) = store.put_run(&run).await {
                    tracing::warn!(error = %e, "recording an action result failed; it is recorded with the next one");
                }
                result
            })
            .buffer_unordered(exec.opts.concurrency.max(1))
            .collect::<Vec<ActionResult>>()
            // Boxed as `Send` here, where the borrows' lifetimes are concrete: unboxed, `apply`'s
            // future cannot be proven `Send` where it is spawned (the Lambda worker's in-process
            // apply; rust-lang/rust#102211).
            .boxed()
    });
    futures::future::join_all(per_dock)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Settles a run whose actions are all recorded: its status from the outcomes (`not_started`:
/// actions a lost lease kept from starting), its error, its end and its summary line.
pub(crate) fn settle(run: &mut RunRecord, not_started: usize) {
    let failures = run
        .actions
        .iter()
        .filter(|a| a.outcome == Outcome::Failed)
        .count();
    let succeeded = run
        .actions
        .iter()
        .filter(|a| a.outcome == Outcome::Succeeded)
        .count();
    // Actions the lost lease kept from starting: the plan is not done, so the run did not succeed.
    run.status = match (failures, succeeded, not_started) {
        (0, _, 0) => RunStatus::Succeeded,
        (_, 0, _) => RunStatus::Failed,
        _ => RunStatus::Partial,
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut errors = Vec::new();
    if failures > 0 {
        errors.push(format!("{failures} action{} failed", plural(failures)));
    }
    if not_started > 0 {
        errors.push(format!(
            "the apply lease was lost, so {not_started} action{} did not start; plan and apply again",
            plural(not_started)
        ));
    }
    if !errors.is_empty() {
        run.error = Some(errors.join("; "));
    }
    run.finished_at = Some(Timestamp::now());
    run.log(
        Timestamp::now(),
        format!(
            "{succeeded} succeeded, {failures} failed, {} skipped",
            run.actions.len() - succeeded - failures
        ),
    );
}

/// What an action is about, as recorded: its address, else the provider id.
pub(crate) fn target_of(action: &Action) -> String {
    action
        .address
        .clone()
        .or_else(|| action.provider_id.clone())
        .unwrap_or_default()
}

/// Consecutive actions of the same phase and kind: they do not depend on each other (the plan
/// orders servers before the volumes attached to them, deletes after creates), so each stage
/// runs concurrently and the next starts when it is done.
pub(crate) fn stages<'p>(changes: &[&'p Action]) -> Vec<Vec<&'p Action>> {
    let mut stages: Vec<Vec<&Action>> = Vec::new();
    for action in changes {
        let same = stages
            .last()
            .and_then(|s| s.last())
            .is_some_and(|prev| stage_key(prev) == stage_key(action));
        match stages.last_mut() {
            Some(stage) if same => stage.push(action),
            _ => stages.push(vec![action]),
        }
    }
    stages
}

pub(crate) fn stage_key(a: &Action) -> (u8, Option<Kind>) {
    let phase = match a.action {
        ActionKind::Adopt => 0,
        ActionKind::Delete => 2,
        _ => 1,
    };
    (phase, a.kind)
}

fn verb(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "creating",
        ActionKind::Recreate => "recreating",
        ActionKind::Update => "updating",
        ActionKind::Replace => "replacing",
        ActionKind::Adopt => "adopting",
        ActionKind::Delete => "deleting",
        _ => "handling",
    }
}

fn past(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "created",
        ActionKind::Recreate => "recreated",
        ActionKind::Update => "updated",
        ActionKind::Replace => "replaced",
        ActionKind::Adopt => "adopted",
        ActionKind::Delete => "deleted",
        _ => "handled",
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "done",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
    }
}

pub(crate) struct Executor<'a> {
    pub(crate) config: &'a Config,
    pub(crate) docks: &'a Docks,
    pub(crate) store: &'a dyn Store,
    pub(crate) opts: &'a ApplyOptions,
    pub(crate) run_id: String,
    /// Actions skipped because the lease was lost before they started.
    pub(crate) not_started: AtomicUsize,
    /// Leave a create `Provisioning` instead of waiting for it to be ready (the apply state
    /// machine waits in Wait states and polls with `steps::poll`).
    pub(crate) defer_ready: bool,
}

impl<'a> Executor<'a> {
    /// An executor of run `run_id`; `defer_ready` leaves creates `Provisioning` for the apply
    /// state machine's polls instead of waiting here.
    pub(crate) fn new(
        config: &'a Config,
        docks: &'a Docks,
        store: &'a dyn Store,
        opts: &'a ApplyOptions,
        run_id: &str,
        defer_ready: bool,
    ) -> Self {
        Executor {
            config,
            docks,
            store,
            opts,
            run_id: run_id.to_owned(),
            not_started: AtomicUsize::new(0),
            defer_ready,
        }
    }
}

impl Executor<'_> {
    fn say(&self, line: &str) {
        tracing::info!(run_id = %self.run_id, "{line}");
        if let Some(p) = &self.opts.progress {
            p(line);
        }
    }

    /// Runs one action unless it is not allowed, a dependency failed or the lease is lost.
    pub(crate) async fn attempt(
        &self,
        action: &Action,
        failed: &BTreeSet<String>,
        lost: &AtomicBool,
    ) -> ActionResult {
        let target = target_of(action);
        let blocked_by = action.depends_on.iter().find(|d| failed.contains(*d));
        let (outcome, message, provider_id) = if !action.allowed {
            (
                Outcome::Skipped,
                format!("not applied: {}", action.reason),
                action.provider_id.clone(),
            )
        } else if let Some(dep) = blocked_by {
            (
                Outcome::Skipped,
                format!("skipped: {dep} failed"),
                action.provider_id.clone(),
            )
        } else if lost.load(Ordering::SeqCst) {
            self.not_started.fetch_add(1, Ordering::SeqCst);
            (
                Outcome::Skipped,
                "skipped: the apply lease was lost".to_owned(),
                action.provider_id.clone(),
            )
        } else {
            self.say(&format!("{} {target}…", verb(action.action)));
            match self.run(action).await {
                Ok(id) => (
                    Outcome::Succeeded,
                    format!("{} {target}", past(action.action)),
                    id,
                ),
                Err(e) => (Outcome::Failed, e.to_string(), action.provider_id.clone()),
            }
        };
        self.say(&format!("  {target}: {}: {message}", outcome_word(outcome)));
        ActionResult {
            action: action.action.as_str().to_owned(),
            target,
            dock: action.dock.clone(),
            provider_id,
            outcome,
            message,
            at: Timestamp::now(),
        }
    }

    pub(crate) fn provider(&self, action: &Action) -> Result<&Arc<dyn Provider>, EngineError> {
        self.docks.get(&action.dock).ok_or_else(|| {
            let why = self
                .docks
                .failures
                .get(&action.dock)
                .cloned()
                .unwrap_or_else(|| "no adapter".into());
            EngineError::Invalid(format!("dock `{}` is unavailable: {why}", action.dock))
        })
    }

    fn dock_id(&self, action: &Action) -> String {
        dock_id(&self.config.settings.org, &action.dock)
    }

    /// Runs one change; returns the provider id it ended on.
    async fn run(&self, action: &Action) -> Result<Option<String>, EngineError> {
        let kind = action
            .kind
            .ok_or_else(|| EngineError::Invalid("a change without a kind".into()))?;
        let settings = (self.config.settings.org.as_str(), self.opts.ready_timeout);
        let followed =
            crate::follow::follow_server(self.store, self.docks, settings, action).await?;
        let action = followed.as_ref().unwrap_or(action);
        match action.action {
            ActionKind::Adopt => self.adopt(action, kind).await.map(Some),
            ActionKind::Create | ActionKind::Recreate => {
                let id = self.create(action, kind).await?;
                if let Some(old) = &action.provider_id {
                    self.release_old(action, kind, old).await?;
                }
                Ok(Some(id))
            }
            ActionKind::Update => self.update(action, kind).await.map(Some),
            ActionKind::Replace => {
                let old = action.provider_id.clone().ok_or_else(|| {
                    EngineError::Invalid("a replace without a provider id".into())
                })?;
                self.delete(action, kind, &old).await?;
                self.create(action, kind).await.map(Some)
            }
            ActionKind::Delete => {
                let id = action
                    .provider_id
                    .clone()
                    .ok_or_else(|| EngineError::Invalid("a delete without a provider id".into()))?;
                self.delete(action, kind, &id).await?;
                Ok(Some(id))
            }
            other => Err(EngineError::Invalid(format!(
                "`{}` is not a change",
                other.as_str()
            ))),
        }
    }

    fn spec<'s>(&self, action: &'s Action) -> Result<&'s ResourceSpec, EngineError> {
        action.spec.as_ref().ok_or_else(|| {
            EngineError::Invalid(format!(
                "{} has no spec",
                action.address.as_deref().unwrap_or("?")
            ))
        })
    }

    fn address(action: &Action) -> String {
        action.address.clone().unwrap_or_default()
    }

    async fn stored(&self, action: &Action, kind: Kind, id: &str) -> Result<Record, EngineError> {
        let key = RecordKey {
            dock_id: self.dock_id(action),
            kind,
            provider_resource_id: id.to_owned(),
        };
        self.store.get(&key).await?.ok_or_else(|| {
            EngineError::Invalid(format!(
                "{} {id} is not in the store; run `stackdock sync`",
                kind.noun()
            ))
        })
    }

    /// Clears the intents whose address is now recorded as managed: an earlier apply was killed
    /// after its create landed (its record written, or the resource adopted by name since), so
    /// the resource is known and nothing is left to look up. Returns the addresses resolved.
    pub(crate) async fn resolve_intents(&self) -> Result<Vec<String>, EngineError> {
        let org = &self.config.settings.org;
        let intents = self.store.intents(org).await?;
        if intents.is_empty() {
            return Ok(Vec::new());
        }
        let records = self.store.inventory(org, None).await?;
        let mut resolved = Vec::new();
        for intent in intents {
            let recorded = records.iter().any(|r| {
                r.dock_id == intent.dock_id
                    && r.kind() == intent.kind
                    && r.missing_since.is_none()
                    && r.managed_by.as_deref() == Some(intent.address.as_str())
            });
            if recorded {
                self.store.clear_intent(org, &intent.address).await?;
                resolved.push(intent.address);
            }
        }
        Ok(resolved)
    }

    async fn adopt(&self, action: &Action, kind: Kind) -> Result<String, EngineError> {
        let id = action
            .provider_id
            .clone()
            .ok_or_else(|| EngineError::Invalid("an adopt without a provider id".into()))?;
        let spec = self.spec(action)?;
        let mut record = self.stored(action, kind, &id).await?;
        let address = Self::address(action);
        // An intent for this address means an earlier apply created it and was killed before
        // recording it: it is StackDock's, not a manual resource (the intent is cleared at the
        // end of the run, once the record is written).
        let intended = self
            .store
            .intents(&self.config.settings.org)
            .await?
            .iter()
            .any(|i| i.address == address && i.dock_id == record.dock_id && i.kind == kind);
        if intended {
            record.provisioning_source = ProvisioningSource::Api;
        }
        record.managed_by = Some(address.into());
        record.protect |= spec.protect;
        // The baseline for drift is what runs now; an update that follows moves it to the file.
        record.applied = managed_keys(&record, kind, spec)
            .filter_map(|k| record.field(k).map(|v| (k.into(), v)))
            .collect();
        self.store.put_records(&[record]).await?;
        Ok(id)
    }
}

/// Managed keys of `kind` that the spec sets (the fields drift is measured on).
fn managed_keys<'s>(
    record: &Record,
    kind: Kind,
    spec: &'s ResourceSpec,
) -> impl Iterator<Item = &'static str> + 's {
    field_rules(record.provider, kind)
        .iter()
        .filter(move |r| {
            r.change != Change::CreateOnly
                && (spec.fields.contains_key(r.key) || default_value(kind, r.key).is_some())
        })
        .map(|r| r.key)
}
