//! Sync: every dock's whole inventory listed through its adapter and written to the store.
//!
//! # Guarantees
//! - Docks sync concurrently (bounded); one dock's failure is recorded in its status and does not
//!   stop the others.
//! - Only a complete listing of a kind marks that kind's absent records missing; a failed listing
//!   marks nothing.
//! - A dock's `lastSyncAt` moves only when every kind was listed completely.
//! - Only changed records are written (the store compares `contentHash`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::future::{BoxFuture, Shared};
use futures::{FutureExt as _, StreamExt};
use jiff::Timestamp;
use stackdock_core::config::{Config, DockConfig};
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_core::{Kind, Record};
use stackdock_providers::Provider;
use stackdock_store::{DockSync, KindListing, RunKind, RunRecord, RunStatus, Store, SyncStats};

use crate::{DefaultResolver, Docks, EngineError};

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Docks listed at the same time.
    pub concurrency: usize,
    /// Who started it (recorded in the run).
    pub actor: String,
    /// Limit the sync to these docks (`None`: all).
    pub only: Option<Vec<String>>,
    /// Reads the references of web services' environment variables, whose values a sync
    /// fingerprints (`stackdock_core::env_values`) so a plan can tell a changed value.
    pub secrets: Arc<DefaultResolver>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            concurrency: 4,
            actor: "stackdock".into(),
            only: None,
            secrets: Arc::new(DefaultResolver::new()),
        }
    }
}

/// What happened to one dock.
#[derive(Debug, Clone)]
pub struct DockOutcome {
    pub dock: String,
    /// What the store wrote; its `appeared` is empty on the dock's first complete sync (the
    /// baseline: nothing there is new).
    pub stats: SyncStats,
    /// Records listed (across kinds).
    pub listed: usize,
    /// The first failure, already free of secrets.
    pub error: Option<String>,
    /// Whether the failure needs a person (the credential was refused or could not be resolved
    /// for good) rather than another attempt.
    pub credential_problem: bool,
    /// Where the dock's sync spent its time (zero where it did not get that far, and for an
    /// outcome rebuilt from a state machine's result).
    pub timing: DockTiming,
}

/// Where one dock's sync spent its time: the listings (every kind's pages, mapped, and the
/// credential check beside them), then the one store commit of everything listed. What a
/// sync's wall time holds beyond its network critical path is mostly the last dock's commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DockTiming {
    pub listing: std::time::Duration,
    /// The catalog refresh and the environment fingerprints after a complete listing, and the
    /// commit of the records and the status.
    pub commit: std::time::Duration,
}

/// The result of a sync.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub run_id: String,
    pub docks: Vec<DockOutcome>,
}

impl SyncReport {
    pub fn failed(&self) -> impl Iterator<Item = &DockOutcome> {
        self.docks.iter().filter(|d| d.error.is_some())
    }

    pub fn written(&self) -> usize {
        self.docks.iter().map(|d| d.stats.written).sum()
    }
}

/// Syncs every dock of `config` into `store` and writes a run record.
pub async fn sync(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    opts: &SyncOptions,
) -> Result<SyncReport, EngineError> {
    let org = &config.settings.org;
    let started = Timestamp::now();
    let run_id = format!("sync-{}", uuid::Uuid::new_v4());
    let mut run = RunRecord::new(&run_id, org, RunKind::Sync, &opts.actor, started);
    store.put_run(&run).await?;
    let previous = store.dock_statuses(org).await?;

    let selected: Vec<(&String, &DockConfig)> = config
        .docks
        .iter()
        .filter(|(name, _)| opts.only.as_ref().is_none_or(|only| only.contains(name)))
        .collect();
    let mut outcomes: Vec<DockOutcome> = futures::stream::iter(selected)
        .map(|(name, dock)| {
            let prev = previous
                .iter()
                .find(|s| s.dock_id == dock_id(org, name))
                .cloned();
            sync_dock(config, name, dock, docks, store, prev, &opts.secrets)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by(|a, b| a.dock.cmp(&b.dock));

    finish_run(&mut run, &outcomes, Timestamp::now());
    store.put_run(&run).await?;
    Ok(SyncReport {
        run_id,
        docks: outcomes,
    })
}

/// Syncs the one dock `name` of `config` into `store` exactly as [`sync`] syncs each of its
/// docks (its status, its records), without a run record: the caller records the outcome on its
/// run (the sync state machine's `sync-dock` step, one invocation per dock, whose memory depends
/// on this dock only).
///
/// # Errors
/// `EngineError::Invalid` when `name` is not a dock of `config`; a store failure reading the
/// dock's previous status. A failed sync of the dock is not an error: it is in the outcome.
pub async fn sync_one(
    config: &Config,
    name: &str,
    docks: &Docks,
    store: &dyn Store,
) -> Result<DockOutcome, EngineError> {
    let org = &config.settings.org;
    let Some((name, dock)) = config.docks.get_key_value(name) else {
        return Err(EngineError::Invalid(format!(
            "dock `{name}` is not in stackdock.toml (docks: {}); sync a dock of the deployed config",
            config.docks.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    };
    let id = dock_id(org, name);
    let previous = store
        .dock_statuses(org)
        .await?
        .into_iter()
        .find(|s| s.dock_id == id);
    // Read only when a web service of the dock points at a secret (built on first use).
    let secrets = DefaultResolver::new();
    Ok(sync_dock(config, name, dock, docks, store, previous, &secrets).await)
}

/// Writes each dock's outcome on a sync `run` (one log line per dock, in the order given) and
/// settles it: `succeeded`, `partial` when some docks failed, `failed` when all did (its error
/// says how many, or is cleared).
pub fn finish_run(run: &mut RunRecord, outcomes: &[DockOutcome], now: Timestamp) {
    for o in outcomes {
        let line = match &o.error {
            None => format!(
                "dock `{}`: listed {}, wrote {}, unchanged {}, newly missing {}",
                o.dock, o.listed, o.stats.written, o.stats.unchanged, o.stats.marked_missing
            ),
            Some(e) => format!("dock `{}` failed: {e}", o.dock),
        };
        run.log(now, line);
    }
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    run.status = match failed {
        0 => RunStatus::Succeeded,
        n if n == outcomes.len() => RunStatus::Failed,
        _ => RunStatus::Partial,
    };
    run.error =
        (failed > 0).then(|| format!("{failed} of {} docks failed to sync", outcomes.len()));
    run.finished_at = Some(now);
}

/// The docks a settled sync run (one [`finish_run`] wrote its dock lines on) recorded as failed;
/// `None` when the run holds no dock line (not settled: still running, or marked failed by the
/// stale-run sweep before it could be).
pub fn failed_docks(run: &RunRecord) -> Option<std::collections::BTreeSet<String>> {
    let mut settled = false;
    let mut failed = std::collections::BTreeSet::new();
    for line in &run.log {
        let Some((dock, rest)) = line
            .message
            .strip_prefix("dock `")
            .and_then(|l| l.split_once('`'))
        else {
            continue;
        };
        settled = true;
        if rest.starts_with(" failed: ") {
            failed.insert(dock.to_owned());
        }
    }
    settled.then_some(failed)
}

async fn sync_dock(
    config: &Config,
    name: &str,
    dock: &DockConfig,
    docks: &Docks,
    store: &dyn Store,
    previous: Option<DockStatus>,
    secrets: &DefaultResolver,
) -> DockOutcome {
    let org = &config.settings.org;
    let now = Timestamp::now();
    let mut status = previous.unwrap_or_else(|| DockStatus {
        org_id: org.clone(),
        dock_id: dock_id(org, name),
        name: name.to_owned(),
        provider: dock.provider,
        last_sync_at: None,
        last_attempt_at: None,
        last_error: None,
        catalog: None,
        env_fingerprints: Default::default(),
    });
    // A dock's first complete sync is its baseline: what it finds there is not new (`[notify]`).
    let baseline = status.last_sync_at.is_none();
    status.provider = dock.provider;
    status.last_attempt_at = Some(now);
    let mut outcome = DockOutcome {
        dock: name.to_owned(),
        stats: SyncStats::default(),
        listed: 0,
        error: None,
        credential_problem: false,
        timing: DockTiming::default(),
    };

    let provider = match docks.get(name) {
        Some(p) => Arc::clone(p),
        None => {
            let why = docks
                .failures
                .get(name)
                .cloned()
                .unwrap_or_else(|| format!("dock `{name}` has no adapter"));
            outcome.credential_problem = docks.failures.contains_key(name);
            return fail(store, status, outcome, why).await;
        }
    };
    // The credential check goes out with the listings, not before them: it costs no latency,
    // and when it fails its clear "unauthorized" message wins over the listings' errors. Each
    // listing is its own task, so decoding pages of different kinds and docks uses every core.
    let kinds = dock.provider.kinds();
    let started = std::time::Instant::now();
    let (checked, listings) = futures::future::join(
        provider.check_credentials(),
        list_kinds(&provider, kinds, dock.regions.as_ref(), started),
    )
    .await;
    let listed_in = started.elapsed();
    outcome.timing.listing = listed_in;
    if let Err(e) = checked {
        outcome.credential_problem = e.is(stackdock_providers::ErrorClass::Unauthorized);
        return fail(store, status, outcome, e.to_string()).await;
    }
    let mut first_error = None;
    let mut kind_listings = Vec::new();
    for (kind, result) in kinds.iter().zip(listings) {
        match result {
            Ok(records) => {
                outcome.listed += records.len();
                kind_listings.push(KindListing {
                    kind: *kind,
                    records,
                    complete: true,
                    regions: dock.regions.clone(),
                    started_at: Some(now),
                });
            }
            Err(e) => {
                tracing::info!(dock = name, kind = %kind, error = %e, "listing failed; nothing of this kind is marked missing");
                first_error.get_or_insert(e);
            }
        }
    }
    label_attachments(&mut kind_listings);
    if first_error.is_none() {
        status.last_sync_at = Some(now);
        // The catalog plans are checked against where no provider request is made (the API
        // functions) and `stackdock catalog` shows: read again once the stored one is older
        // than its TTL. A failed read keeps the one stored before.
        if let Some(catalog) = crate::catalog::refresh(provider.as_ref(), &status, now, false).await
        {
            status.catalog = Some(catalog);
        }
        status.env_fingerprints = crate::env_values::fingerprints(config, name, secrets).await;
    }
    status.last_error.clone_from(&first_error);
    let commit = DockSync {
        org_id: org.clone(),
        dock_id: status.dock_id.clone(),
        status,
        listings: kind_listings,
        now,
    };
    let committed = store.commit_sync(commit).await;
    outcome.timing.commit = started.elapsed() - listed_in;
    tracing::debug!(
        dock = name,
        listed = outcome.listed,
        listing_ms = outcome.timing.listing.as_millis() as u64,
        commit_ms = outcome.timing.commit.as_millis() as u64,
        "dock synced"
    );
    match committed {
        Ok(mut stats) => {
            if baseline {
                stats.appeared.clear();
            }
            outcome.stats = stats;
        }
        Err(e) => first_error = Some(format!("writing the inventory failed: {e}")),
    }
    outcome.error = first_error;
    outcome
}

/// Every kind's listing, in `kinds` order. Each is its own task, so decoding pages of different
/// kinds and docks uses every core. The kinds without a parent are listed at once; a child kind
/// (`Kind::parent`: DNS records) starts the moment its own parent's listing ends, within it, so
/// the zones are listed once and a slow sibling (a web-service listing of many pages) never
/// holds the records back: waiting for every top kind put Vercel's records after its projects
/// (1,480 ms instead of 800 at 100 ms a request).
async fn list_kinds(
    provider: &Arc<dyn Provider>,
    kinds: &[Kind],
    regions: Option<&BTreeSet<String>>,
    started: std::time::Instant,
) -> Vec<Result<Vec<Record>, String>> {
    type Listed = Result<Arc<Vec<Record>>, String>;
    let spawn = |kind: Kind, parents: Option<Arc<Vec<Record>>>| {
        let task = tokio::spawn(list_kind(
            Arc::clone(provider),
            kind,
            parents,
            regions.cloned(),
            started,
        ));
        async move {
            task.await
                .unwrap_or_else(|e| Err(format!("the {kind} listing stopped unexpectedly: {e}")))
                .map(Arc::new)
        }
    };
    // Shared, so each child awaits its own parent while the caller awaits them all.
    let top: BTreeMap<Kind, Shared<BoxFuture<'static, Listed>>> = kinds
        .iter()
        .filter(|k| k.parent().is_none())
        .map(|&k| (k, spawn(k, None).boxed().shared()))
        .collect();
    let children = kinds.iter().filter_map(|&kind| {
        let parent = kind.parent()?;
        let listed = top.get(&parent).cloned();
        let spawn = &spawn;
        Some(async move {
            let result: Listed = match listed {
                Some(listed) => match listed.await {
                    Ok(parents) => spawn(kind, Some(parents)).await,
                    Err(_) => Err(format!(
                        "the {kind} listing reads the {parent} listing, which failed"
                    )),
                },
                None => spawn(kind, None).await,
            };
            (kind, result)
        })
    });
    let children: Vec<_> = children.collect();
    let tops = top
        .into_iter()
        .map(|(kind, listed)| async move { (kind, listed.await) });
    let (tops, children) = futures::future::join(
        futures::future::join_all(tops),
        futures::future::join_all(children),
    )
    .await;
    // Every shared handle is gone by now, so a parent's records are not copied.
    let mut done: BTreeMap<Kind, Listed> = tops.into_iter().chain(children).collect();
    kinds
        .iter()
        .map(|k| match done.remove(k) {
            Some(Ok(records)) => Ok(Arc::try_unwrap(records).unwrap_or_else(|r| (*r).clone())),
            Some(Err(e)) => Err(e),
            None => Err(format!("the {k} listing was not made")),
        })
        .collect()
}

async fn list_kind(
    provider: Arc<dyn Provider>,
    kind: Kind,
    parents: Option<Arc<Vec<Record>>>,
    regions: Option<BTreeSet<String>>,
    started: std::time::Instant,
) -> Result<Vec<Record>, String> {
    let listed = match &parents {
        Some(parents) => provider.list_within(kind, parents).await,
        None => provider.list(kind).await,
    };
    let mut records = listed.map_err(|e| e.to_string())?;
    if let Some(regions) = &regions {
        records.retain(|r| {
            r.region
                .as_ref()
                .is_none_or(|region| regions.contains(region.as_str()))
        });
    }
    // `listed` counts what the dock's "listed" counts: the records kept after the region filter.
    tracing::debug!(
        dock = %provider.context().dock,
        kind = %kind,
        listed = records.len(),
        listed_ms = started.elapsed().as_millis() as u64,
        "kind listed"
    );
    Ok(records)
}

async fn fail(
    store: &dyn Store,
    mut status: DockStatus,
    mut outcome: DockOutcome,
    error: String,
) -> DockOutcome {
    // Said once, by the caller, from the report (the CLI's `warning:`, the sync function's log).
    tracing::info!(dock = %outcome.dock, error = %error, "dock sync failed");
    status.last_error = Some(error.clone());
    if let Err(e) = store.put_dock_status(&status).await {
        outcome.error = Some(format!("{error}; recording the failure also failed: {e}"));
        return outcome;
    }
    outcome.error = Some(error);
    outcome
}

/// Names the server each volume is attached to, from the same dock's server listing: some
/// providers (DigitalOcean, Linode without `linode_label`) report only the server's id, and
/// `attach_to` in stackdock.toml names servers by label. Done here once for every provider.
fn label_attachments(listings: &mut [KindListing]) {
    let servers: std::collections::BTreeMap<String, String> = listings
        .iter()
        .filter(|l| l.kind == stackdock_core::Kind::Servers)
        .flat_map(|l| l.records.iter())
        .map(|r| (r.provider_resource_id.to_string(), r.name.to_string()))
        .collect();
    for listing in listings
        .iter_mut()
        .filter(|l| l.kind == stackdock_core::Kind::BlockVolumes)
    {
        for record in &mut listing.records {
            if let stackdock_core::record::Attrs::BlockVolumes(v) = &mut record.attrs
                && v.attached_to_instance_label.is_none()
                && let Some(name) = v
                    .attached_to_instance
                    .as_ref()
                    .and_then(|id| servers.get(id))
            {
                v.attached_to_instance_label = Some(name.clone());
                record.content_hash = record.observed_hash();
            }
        }
    }
}
