//! The embedded default backend: one SQLite file (`.stackdock/stackdock.db`), with the universal
//! tables as plain tables whose columns are the records' attribute names, so
//! `sqlite3 .stackdock/stackdock.db 'select name, status, region from servers'` just works.
//!
//! One connection per `SqliteStore`, behind a `std::sync::Mutex`, used only inside
//! `spawn_blocking`: SQLite calls block, and the lock is never held across an `.await`. Several
//! stores (or processes) may open the same file: WAL lets readers run beside the one writer, and
//! every write takes SQLite's write lock up front (`BEGIN IMMEDIATE`) and waits up to the busy
//! timeout for it.

mod docks;
mod error;
mod intents;
mod leases;
mod records;
mod row;
mod runs;
mod schema;
mod sync;
mod timestamp;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::Connection;
use stackdock_core::Record;
use stackdock_core::record::{DockStatus, RecordKey};

use self::error::sql;
use self::schema::Layout;
pub use self::schema::SCHEMA_VERSION;
use crate::{
    DockSync, Intent, InventoryPage, Lease, PageRequest, RunRecord, RunsPage, RunsRequest, Store,
    StoreError, SyncStats,
};

/// How long a write waits for another connection's write to finish before failing as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite store. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    layout: Layout,
    /// `None` for an in-memory database.
    path: Option<PathBuf>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the database at `path`, and brings
    /// its schema up to date.
    ///
    /// # Errors
    /// `Corrupt` if the file was written by a newer StackDock (a newer schema version);
    /// `Backend` if the directory or file cannot be created or opened.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        // Synchronous: opening happens once at start-up, before any concurrent work.
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Backend(format!(
                    "create the directory {} for the SQLite store: {e}",
                    parent.display()
                ))
            })?;
        }
        let context = format!("open {}", path.display());
        let conn = Connection::open(&path).map_err(sql(&context))?;
        Self::init(conn, Some(path))
    }

    /// A private, empty in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(sql("open an in-memory database"))?;
        Self::init(conn, None)
    }

    /// The database file, `None` if in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<SqliteStore, StoreError> {
        let context = format!(
            "configure {}",
            path.as_deref().map_or_else(
                || "the in-memory database".to_owned(),
                |p| p.display().to_string()
            )
        );
        // The busy timeout first: switching to WAL itself waits for other openers.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql(&context))?;
        // 16 KiB pages (effective only for a new database): a record's `fullApiData` is a few KiB
        // of JSON, which on the default 4 KiB pages spills into overflow pages and rebalances
        // the table on nearly every insert.
        conn.pragma_update(None, "page_size", 16_384)
            .map_err(sql(&context))?;
        // WAL: readers never block the writer nor see its uncommitted writes. (In-memory
        // databases answer "memory"; that is fine.) Synchronous stays FULL: an intent recorded
        // before a create must survive a power cut.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sql(&context))?;
        let layout = Layout::derive()?;
        schema::migrate(&mut conn, &layout)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                layout,
                path,
            }),
        })
    }

    /// Runs `work` on the connection in the blocking pool.
    async fn run<T, F>(&self, what: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Layout) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier call poisons the mutex, but cannot leave the connection
            // mid-transaction: rusqlite rolls a `Transaction` back when it is dropped, unwinding
            // included. So the connection is still consistent and usable.
            let mut conn = inner.conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn, &inner.layout)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("{what}: the SQLite worker failed: {e}")))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn inventory(&self, org: &str, dock_id: Option<&str>) -> Result<Vec<Record>, StoreError> {
        let org = org.to_owned();
        let dock_id = dock_id.map(str::to_owned);
        self.run("inventory", move |conn, layout| {
            records::inventory(conn, layout, &org, dock_id.as_deref())
        })
        .await
    }

    async fn inventory_page(
        &self,
        org: &str,
        request: &PageRequest,
    ) -> Result<InventoryPage, StoreError> {
        let docks = self
            .dock_statuses(org)
            .await?
            .into_iter()
            .map(|s| s.dock_id)
            .collect();
        crate::page::walk(docks, request, |kind, dock, after, limit| {
            let org = org.to_owned();
            self.run("inventory page", move |conn, layout| {
                records::after(conn, layout, &org, kind, &dock, after.as_deref(), limit)
            })
        })
        .await
    }

    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        let key = key.clone();
        self.run("get", move |conn, layout| records::get(conn, layout, &key))
            .await
    }

    async fn commit_sync(&self, sync: DockSync) -> Result<SyncStats, StoreError> {
        self.run("commit_sync", move |conn, layout| {
            sync::commit_sync(conn, layout, sync)
        })
        .await
    }

    async fn put_records(&self, records: &[Record]) -> Result<usize, StoreError> {
        let records = records.to_vec();
        self.run("put_records", move |conn, layout| {
            sync::put_records(conn, layout, records)
        })
        .await
    }

    async fn dock_statuses(&self, org: &str) -> Result<Vec<DockStatus>, StoreError> {
        let org = org.to_owned();
        self.run("dock_statuses", move |conn, _| docks::list(conn, &org))
            .await
    }

    async fn put_dock_status(&self, status: &DockStatus) -> Result<(), StoreError> {
        let status = status.clone();
        self.run("put_dock_status", move |conn, _| docks::put(conn, &status))
            .await
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let run = run.clone();
        self.run("put_run", move |conn, _| runs::put(conn, &run))
            .await
    }

    async fn get_run(&self, org: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let (org, run_id) = (org.to_owned(), run_id.to_owned());
        self.run("get_run", move |conn, _| runs::get(conn, &org, &run_id))
            .await
    }

    async fn list_runs(&self, org: &str, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let org = org.to_owned();
        self.run("list_runs", move |conn, _| runs::list(conn, &org, limit))
            .await
    }

    async fn runs_page(&self, org: &str, request: &RunsRequest) -> Result<RunsPage, StoreError> {
        let (org, request) = (org.to_owned(), request.clone());
        self.run("runs_page", move |conn, _| runs::page(conn, &org, &request))
            .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.run("acquire_lease", move |conn, _| {
            leases::acquire(conn, &name, &owner, ttl, now)
        })
        .await
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Lease, StoreError> {
        let lease = lease.clone();
        self.run("renew_lease", move |conn, _| {
            leases::renew(conn, &lease, ttl, now)
        })
        .await
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let lease = lease.clone();
        self.run("release_lease", move |conn, _| {
            leases::release(conn, &lease)
        })
        .await
    }

    async fn force_release(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let name = name.to_owned();
        self.run("force_release", move |conn, _| {
            leases::force_release(conn, &name)
        })
        .await
    }

    async fn current_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let name = name.to_owned();
        self.run("current_lease", move |conn, _| leases::current(conn, &name))
            .await
    }

    async fn put_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        let intent = intent.clone();
        self.run("put_intent", move |conn, _| intents::put(conn, &intent))
            .await
    }

    async fn intents(&self, org: &str) -> Result<Vec<Intent>, StoreError> {
        let org = org.to_owned();
        self.run("intents", move |conn, _| intents::list(conn, &org))
            .await
    }

    async fn clear_intent(&self, org: &str, address: &str) -> Result<(), StoreError> {
        let (org, address) = (org.to_owned(), address.to_owned());
        self.run("clear_intent", move |conn, _| {
            intents::clear(conn, &org, &address)
        })
        .await
    }
}
