//! The DynamoDB backend, for StackDock in AWS: the universal tables as DynamoDB tables whose
//! attributes are the records' JSON attribute names (the SQLite columns), one generic JSON ↔
//! attribute-value codec for every kind, and conditional writes for leases and intents.
//!
//! # Tables
//! Each is named `<prefix>-<table>`; every key attribute is a string (`S`), billing on demand.
//! The names are public constants in [`tables`] (the SAM template mirrors them).
//!
//! | table | partition key | sort key | extra |
//! |---|---|---|---|
//! | `servers`, `blockVolumes`, `buckets`, `databases`, `webServices`, `domains` | `dockId` | `providerResourceId` | GSI `orgId-index` (partition key `orgId`, projection `INCLUDE` of [`tables::INDEX_ATTRIBUTES`]: all but `fullApiData`) |
//! | `docks` | `orgId` | `dockId` | |
//! | `runs` | `orgId` | `runId` | a run's header, and its entries in chunk items `<runId>#a#000003` (`runs`); TTL on `ttl` (epoch seconds of `expiresAt`) on every item |
//! | `locks` | `name` | | TTL on `ttl` |
//! | `intents` | `orgId` | `address` | |
//!
//! # Guarantees and their cost
//! - `commit_sync` reads what it compares of the dock's stored records (one paginated, strongly
//!   consistent query per listed kind, five attributes projected), writes only the observed half
//!   of new, changed and returned records and the missing marks, one UpdateItem each (16 in
//!   flight), and writes the dock status last. It never writes an apply-owned attribute of a
//!   stored record (`crate::APPLY_OWNED`), so an apply writing ownership meanwhile loses nothing.
//!   It is not atomic (DynamoDB transactions hold 100 items; a sync may hold thousands): a
//!   failure part-way leaves `lastSyncAt` unchanged and the next sync completes the rest. An
//!   unchanged re-sync sends one write: the dock status.
//! - `put_records` writes only the attributes that differ from the stored version, the observed
//!   ones only with a newer `updatedAt` and conditionally on the one it read (`crate::rules`).
//! - Leases and intents are single conditional writes: atomic, exactly one winner.
//! - [`DynamoStore::write_requests`] counts every write request sent (benchmarks and tests).
//!
//! It must not decide anything the SQLite backend decides differently: the conformance suite runs
//! against both.

mod batch;
mod codec;
mod docks;
mod error;
mod intents;
mod leases;
mod query;
mod records;
mod runs;
mod sync;
pub mod tables;
mod update;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use jiff::Timestamp;
use stackdock_core::Record;
use stackdock_core::record::{DockStatus, RecordKey};

pub use self::batch::{MAX_BATCH_GET, MAX_BATCH_WRITE};
use crate::{
    DockSync, Intent, InventoryPage, Lease, PageRequest, RunRecord, RunsPage, RunsRequest, Store,
    StoreError, SyncStats,
};

/// The DynamoDB store. Cloning shares the client and the counters.
#[derive(Clone)]
pub struct DynamoStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    prefix: String,
    /// Every write request sent (PutItem, UpdateItem, DeleteItem).
    write_requests: AtomicU64,
    /// UpdateItem calls that write universal records (a sync's or `put_records`').
    record_writes: AtomicU64,
}

impl fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table_prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// A store on the tables `<table_prefix>-<table>`, through `client` (built once per process).
    ///
    /// # Errors
    /// `Backend` if the prefix would make invalid table names (allowed: letters, digits, `_`,
    /// `-`, `.`; at most 200 characters).
    pub fn new(client: Client, table_prefix: &str) -> Result<DynamoStore, StoreError> {
        validate_prefix(table_prefix)?;
        Ok(DynamoStore {
            inner: Arc::new(Inner {
                client,
                prefix: table_prefix.to_owned(),
                write_requests: AtomicU64::new(0),
                record_writes: AtomicU64::new(0),
            }),
        })
    }

    /// A store whose client is configured from the environment (`aws_config::load_from_env`):
    /// region, credentials and endpoint from the usual AWS variables (`AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, …), profiles, or the Lambda role.
    ///
    /// # Errors
    /// As [`DynamoStore::new`].
    pub async fn from_env(table_prefix: &str) -> Result<DynamoStore, StoreError> {
        validate_prefix(table_prefix)?;
        let config = aws_config::load_from_env().await;
        DynamoStore::new(Client::new(&config), table_prefix)
    }

    /// The table prefix (`stackdock` for `stackdock-servers`).
    pub fn table_prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The full name of one of StackDock's tables (`servers` → `<prefix>-servers`).
    pub fn table(&self, table: &str) -> String {
        tables::table_name(&self.inner.prefix, table)
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Write requests sent so far: PutItem, UpdateItem and DeleteItem calls.
    pub fn write_requests(&self) -> u64 {
        self.inner.write_requests.load(Ordering::Relaxed)
    }

    /// Record writes sent so far: one UpdateItem per changed record of a sync or `put_records`
    /// (a subset of [`DynamoStore::write_requests`]; the dock status is not one).
    pub fn record_write_requests(&self) -> u64 {
        self.inner.record_writes.load(Ordering::Relaxed)
    }

    /// Creates every StackDock table of this prefix that does not exist yet (on demand billing,
    /// TTL on `runs` and `locks`), waits until all are ACTIVE, and returns their names. Existing
    /// tables are fine and left as they are. For local use (moto, a developer account):
    /// production tables come from the SAM template.
    ///
    /// # Errors
    /// `Backend` with the table and the service's reason (e.g. missing IAM permissions).
    pub async fn create_tables(&self) -> Result<Vec<String>, StoreError> {
        tables::create_all(&self.inner.client, &self.inner.prefix).await
    }

    /// Adds the newest-first index key to every run of `org` recorded before the runs index
    /// existed (an upgrade step: `stackdock tables upgrade`); returns how many it updated.
    ///
    /// # Errors
    /// `Backend` with the table and the service's reason.
    pub async fn index_runs(&self, org: &str) -> Result<usize, StoreError> {
        runs::index_runs(self, org).await
    }

    fn count_record_write(&self) {
        self.count_write();
        self.inner.record_writes.fetch_add(1, Ordering::Relaxed);
    }

    fn count_write(&self) {
        self.inner.write_requests.fetch_add(1, Ordering::Relaxed);
    }
}

fn validate_prefix(prefix: &str) -> Result<(), StoreError> {
    let valid = !prefix.is_empty()
        && prefix.len() <= 200
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "`{prefix}` is not a valid DynamoDB table prefix: use 1 to 200 letters, digits, `_`, `-` \
         or `.` (e.g. dynamodb://stackdock)"
    )))
}

#[async_trait]
impl Store for DynamoStore {
    async fn inventory(&self, org: &str, dock_id: Option<&str>) -> Result<Vec<Record>, StoreError> {
        let docks = match dock_id {
            Some(_) => Vec::new(),
            None => docks::list(self, org)
                .await?
                .into_iter()
                .map(|status| status.dock_id)
                .collect(),
        };
        records::inventory(self, org, dock_id, &docks).await
    }

    async fn inventory_page(
        &self,
        org: &str,
        request: &PageRequest,
    ) -> Result<InventoryPage, StoreError> {
        let docks = docks::list(self, org)
            .await?
            .into_iter()
            .map(|status| status.dock_id)
            .collect();
        crate::page::walk(docks, request, |kind, dock, after, limit| {
            records::after(self, org, kind, dock, after, limit)
        })
        .await
    }

    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        records::get(self, key).await
    }

    async fn commit_sync(&self, sync: DockSync) -> Result<SyncStats, StoreError> {
        sync::commit_sync(self, sync).await
    }

    async fn put_records(&self, records: &[Record]) -> Result<usize, StoreError> {
        sync::put_records(self, records).await
    }

    async fn dock_statuses(&self, org: &str) -> Result<Vec<DockStatus>, StoreError> {
        docks::list(self, org).await
    }

    async fn put_dock_status(&self, status: &DockStatus) -> Result<(), StoreError> {
        docks::put(self, status).await
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        runs::put(self, run).await
    }

    async fn get_run(&self, org: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        runs::get(self, org, run_id).await
    }

    async fn list_runs(&self, org: &str, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        runs::list(self, org, limit).await
    }

    async fn runs_page(&self, org: &str, request: &RunsRequest) -> Result<RunsPage, StoreError> {
        runs::page(self, org, request).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError> {
        leases::acquire(self, name, owner, ttl, now).await
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError> {
        leases::renew(self, lease, ttl, now).await
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        leases::release(self, lease).await
    }

    async fn force_release(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        leases::force_release(self, name).await
    }

    async fn current_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        leases::current(self, name).await
    }

    async fn put_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        intents::put(self, intent).await
    }

    async fn intents(&self, org: &str) -> Result<Vec<Intent>, StoreError> {
        intents::list(self, org).await
    }

    async fn clear_intent(&self, org: &str, address: &str) -> Result<(), StoreError> {
        intents::clear(self, org, address).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_must_make_valid_table_names() {
        assert!(validate_prefix("stackdock").is_ok());
        assert!(validate_prefix("sd-test_1.a").is_ok());
        for bad in ["", "has space", "slash/no", &"x".repeat(201)] {
            assert!(validate_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
