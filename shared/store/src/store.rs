//! The `Store` trait.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use stackdock_core::Record;
use stackdock_core::record::{DockStatus, RecordKey};

use crate::model::{
    DockSync, Intent, InventoryPage, Lease, PageRequest, RunRecord, RunsPage, RunsRequest,
    SyncStats,
};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The lease is held by someone else until `expires_at`.
    #[error(
        "the apply lease `{name}` is held by {owner} until {expires_at}; wait for it, or run `stackdock unlock --force` if that apply is dead"
    )]
    LeaseHeld {
        name: String,
        owner: String,
        expires_at: Timestamp,
    },
    /// The lease this caller held was lost (expired and taken, or force-released).
    #[error("the apply lease `{name}` is no longer held by {owner}")]
    LeaseLost { name: String, owner: String },
    /// A conditional write found an existing item (e.g. an intent already recorded).
    #[error("{0} already exists")]
    Conflict(String),
    /// Stored data could not be read back (a newer schema, or damage).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, SQLite, DynamoDB).
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// Persistence for universal records, dock statuses, runs, leases and intents.
///
/// # Guarantees every backend gives (checked by the conformance suite)
/// - `commit_sync` writes only records whose `contentHash` changed or that came back from missing,
///   keeps StackDock's bookkeeping of stored records, marks missing only from complete listings
///   and within the listed regions, and is atomic per call on SQLite (all or nothing).
/// - A lease has at most one unexpired holder; an expired lease can be taken over.
/// - `put_intent` is a conditional create: a second intent for the same address is a `Conflict`.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// Every record of `org`, or of one of its docks; sorted by (dock, kind, provider id).
    async fn inventory(&self, org: &str, dock_id: Option<&str>) -> Result<Vec<Record>, StoreError>;

    /// One page of `org`'s records, in [`Store::inventory`]'s order, of the docks that have a
    /// status (every dock a sync has listed): at most `request.limit` records after
    /// `request.after`. Reads only what the page returns, whatever the size of the inventory.
    async fn inventory_page(
        &self,
        org: &str,
        request: &PageRequest,
    ) -> Result<InventoryPage, StoreError>;

    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError>;

    /// Writes one dock's sync: changed records, missing marks and the dock status.
    async fn commit_sync(&self, sync: DockSync) -> Result<SyncStats, StoreError>;

    /// Writes records exactly as given (apply's results, adoption, drift flags). Records equal to
    /// the stored version are skipped; returns how many were written.
    async fn put_records(&self, records: &[Record]) -> Result<usize, StoreError>;

    async fn dock_statuses(&self, org: &str) -> Result<Vec<DockStatus>, StoreError>;

    /// Writes a dock status alone (a failed sync writes no records).
    async fn put_dock_status(&self, status: &DockStatus) -> Result<(), StoreError>;

    /// Inserts or replaces a run record, of any number of actions and log lines, as every store
    /// keeps it: with its default expiry when it has none, and a message (of an action, a log
    /// line, or the error) longer than `RUN_MAX_MESSAGE_BYTES` cut. A run id holding `#` is
    /// refused.
    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError>;

    /// A run as `put_run` last wrote it, actions and log lines in order.
    async fn get_run(&self, org: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The most recent `limit` runs first, whole (actions and log): what the sync's stale-run
    /// sweep, remediation and notifications read. Reads those runs only, never the whole log.
    async fn list_runs(&self, org: &str, limit: usize) -> Result<Vec<RunRecord>, StoreError>;

    /// One page of the audit log, newest first, as headers (`actions` and `log` empty): what
    /// `GET /v1/runs` and `stackdock runs` serve. Every store orders by (`started_at`, `run_id`)
    /// descending and continues strictly after `request.after`, so pages neither repeat nor skip
    /// a run while others are written.
    async fn runs_page(&self, org: &str, request: &RunsRequest) -> Result<RunsPage, StoreError>;

    /// Takes the lease `name` for `owner` until `now + ttl`, or fails with `LeaseHeld`. The same
    /// owner taking it again renews it.
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError>;

    /// Extends a held lease; `LeaseLost` if it is no longer this owner's.
    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError>;

    /// Releases a held lease (no error if it was already gone).
    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError>;

    /// Removes the lease whoever holds it; returns the lease that was removed.
    async fn force_release(&self, name: &str) -> Result<Option<Lease>, StoreError>;

    async fn current_lease(&self, name: &str) -> Result<Option<Lease>, StoreError>;

    /// Records a create intent; `Conflict` if one exists for the same org and address.
    async fn put_intent(&self, intent: &Intent) -> Result<(), StoreError>;

    async fn intents(&self, org: &str) -> Result<Vec<Intent>, StoreError>;

    /// Removes the intent of an address (no error if absent).
    async fn clear_intent(&self, org: &str, address: &str) -> Result<(), StoreError>;
}
