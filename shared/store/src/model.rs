//! The values a store keeps besides universal records: a dock's sync, run records (the audit log),
//! leases and create intents.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stackdock_core::record::{DockStatus, RecordKey};
use stackdock_core::{Kind, Record};

/// Which records one page of the inventory holds (`Store::inventory_page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Only this dock (`org/dock`).
    pub dock_id: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Continue after this record: the `next` of the previous page.
    pub after: Option<RecordKey>,
    /// At most this many records (0 counts as 1).
    pub limit: usize,
}

/// One page of the inventory, in `Store::inventory`'s order: (dock, kind, provider id).
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryPage {
    pub records: Vec<Record>,
    /// The key of the page's last record when more records follow it; `None`: this was the last
    /// page.
    pub next: Option<RecordKey>,
}

/// Which runs one page of the audit log holds (`Store::runs_page`): newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunsRequest {
    /// Only runs of this kind.
    pub kind: Option<RunKind>,
    /// Continue after this run: the `next` of the previous page.
    pub after: Option<RunCursor>,
    /// At most this many runs (0 counts as 1).
    pub limit: usize,
}

/// A run's place in the newest-first order of the audit log: its start, then its id (runs that
/// started in the same nanosecond are ordered by id, descending).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunCursor {
    pub started_at: Timestamp,
    pub run_id: String,
}

impl RunCursor {
    pub fn of(run: &RunRecord) -> RunCursor {
        RunCursor {
            started_at: run.started_at,
            run_id: run.run_id.clone(),
        }
    }

    /// `<start, RFC 3339 with nine fractional digits>#<run id>`: fixed-width, so text order is
    /// (start, id) order. What the DynamoDB runs index sorts on and the API's cursor carries.
    pub fn sort_key(&self) -> String {
        format!("{:.9}#{}", self.started_at, self.run_id)
    }

    /// The inverse of [`RunCursor::sort_key`].
    pub fn parse_sort_key(text: &str) -> Option<RunCursor> {
        let (at, run_id) = text.split_once('#')?;
        Some(RunCursor {
            started_at: at.parse().ok()?,
            run_id: run_id.to_owned(),
        })
    }
}

/// One page of the audit log. The runs are headers: their `actions` and `log` are empty (read a
/// whole run with `Store::get_run`), so a page's size does not grow with the runs' length.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsPage {
    pub runs: Vec<RunRecord>,
    /// Where the next page starts when more runs may follow; `None`: this was the last page. A
    /// page of a `kind` may hold fewer than `limit` runs (even none) and still name a `next`: a
    /// store reads a bounded number of runs per page.
    pub next: Option<RunCursor>,
}

/// One dock's sync, written in one transaction by `Store::commit_sync`.
#[derive(Debug, Clone)]
pub struct DockSync {
    pub org_id: String,
    pub dock_id: String,
    /// The dock's new status (its `last_sync_at` set only when every kind was listed completely).
    pub status: DockStatus,
    pub listings: Vec<KindListing>,
    pub now: Timestamp,
}

/// What a sync saw of one kind on one dock.
#[derive(Debug, Clone)]
pub struct KindListing {
    pub kind: Kind,
    /// Records as listed: observed fields and `contentHash` set, bookkeeping empty.
    pub records: Vec<Record>,
    /// Only a complete listing may mark anything missing.
    pub complete: bool,
    /// The regions the listing covered (`None`: all); records outside it are never marked missing.
    pub regions: Option<BTreeSet<String>>,
    /// When the listing began. A record written at or after it (a create an apply finished while
    /// this sync was listing) is never marked missing: the listing may simply predate it.
    pub started_at: Option<Timestamp>,
}

/// Counts of one `commit_sync`, and the records it stored for the first time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStats {
    /// Records inserted or rewritten because their content changed (or came back).
    pub written: usize,
    /// Records listed with the same `contentHash`: not written.
    pub unchanged: usize,
    /// Records newly marked `missingSince`.
    pub marked_missing: usize,
    /// The (kind, provider id) of each record the dock had never stored before (a record that
    /// comes back after `missingSince` is not new): what `[notify]` reports as appeared, without
    /// reading the inventory again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appeared: Vec<(Kind, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Sync,
    Plan,
    Apply,
    Unlock,
}

impl RunKind {
    /// As serialized: `sync`, `plan`, `apply`, `unlock`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunKind::Sync => "sync",
            RunKind::Plan => "plan",
            RunKind::Apply => "apply",
            RunKind::Unlock => "unlock",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Submitted, not started (an apply waiting for its worker).
    Pending,
    Running,
    Succeeded,
    /// Some actions failed, others succeeded.
    Partial,
    Failed,
}

impl RunStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Partial | RunStatus::Failed
        )
    }
}

/// Outcome of one action of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Not attempted: not allowed (a replace without allow_replace) or a dependency failed.
    Skipped,
}

/// One action's result, as recorded in the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    pub action: String,
    pub target: String,
    pub dock: String,
    #[serde(default)]
    pub provider_id: Option<String>,
    pub outcome: Outcome,
    pub message: String,
    pub at: Timestamp,
}

/// A line of a run's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub at: Timestamp,
    pub message: String,
}

/// The audit record of a sync, plan, apply or force-unlock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub run_id: String,
    pub org_id: String,
    pub kind: RunKind,
    pub status: RunStatus,
    /// Who: a user name, a CLI host, or the caller's IAM identity.
    pub actor: String,
    pub started_at: Timestamp,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub plan_digest: Option<String>,
    #[serde(default)]
    pub actions: Vec<ActionResult>,
    #[serde(default)]
    pub log: Vec<LogLine>,
    #[serde(default)]
    pub error: Option<String>,
    /// When the store may expire the record (DynamoDB TTL). Stores write
    /// [`RunRecord::default_expiry`] when it is `None`.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// How long a run record is kept after it started: the audit log of syncs and plans (one every
/// few minutes) for 90 days, of applies and force-unlocks (what changed, and who) for a year.
/// DynamoDB expires a run through its `ttl` attribute; SQLite keeps the same `expiresAt`.
pub fn run_retention(kind: RunKind) -> jiff::SignedDuration {
    const DAY: i64 = 24 * 60 * 60;
    match kind {
        RunKind::Sync | RunKind::Plan => jiff::SignedDuration::from_secs(90 * DAY),
        RunKind::Apply | RunKind::Unlock => jiff::SignedDuration::from_secs(365 * DAY),
    }
}

impl RunRecord {
    /// When this run expires by default: [`run_retention`] after it started.
    pub fn default_expiry(&self) -> Option<Timestamp> {
        self.started_at.checked_add(run_retention(self.kind)).ok()
    }

    pub fn new(
        run_id: impl Into<String>,
        org_id: impl Into<String>,
        kind: RunKind,
        actor: impl Into<String>,
        now: Timestamp,
    ) -> RunRecord {
        let mut run = RunRecord {
            run_id: run_id.into(),
            org_id: org_id.into(),
            kind,
            status: RunStatus::Running,
            actor: actor.into(),
            started_at: now,
            finished_at: None,
            plan_digest: None,
            actions: Vec::new(),
            log: Vec::new(),
            error: None,
            expires_at: None,
        };
        run.expires_at = run.default_expiry();
        run
    }

    pub fn log(&mut self, at: Timestamp, message: impl Into<String>) {
        self.log.push(LogLine {
            at,
            message: message.into(),
        });
    }
}

/// A lease on one name (the org): at most one holder until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    pub name: String,
    pub owner: String,
    pub acquired_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A create about to be attempted, recorded before the request so a crash can be resolved by
/// looking the resource up by its ownership tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    pub org_id: String,
    pub address: String,
    pub dock_id: String,
    pub kind: Kind,
    pub name: String,
    pub owner_tag: String,
    pub run_id: String,
    pub created_at: Timestamp,
}
