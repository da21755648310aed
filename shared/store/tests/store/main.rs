//! The store's one integration-test binary: the conformance suite against SQLite (in memory and
//! on disk), then what only SQLite promises: plain-SQL readable tables, schema versions, atomic
//! syncs, and leases across handles on one file. `dynamodb`: the same suite and DynamoDB's own
//! promises against a moto server.

mod dynamodb;
mod template;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stackdock_core::Kind;
use stackdock_core::record::dock_id;
use stackdock_store::conformance::{self, ORG, at, full_record, server};
use stackdock_store::sqlite::SCHEMA_VERSION;
use stackdock_store::{DockSync, KindListing, SqliteStore, Store, StoreError};

/// A fresh on-disk database path in its own temporary directory (kept alive by the caller).
fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    // A nested path: `open` must create the parent directories, like `.stackdock/`.
    let path = dir.path().join(".stackdock").join("stackdock.db");
    (dir, path)
}

/// A plain rusqlite connection to the same file, as `sqlite3` would open it.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open the database with plain SQLite")
}

fn sync_of(dock: &str, now: i64, listings: Vec<KindListing>) -> DockSync {
    DockSync {
        org_id: ORG.into(),
        dock_id: dock.into(),
        status: stackdock_core::record::DockStatus {
            org_id: ORG.into(),
            dock_id: dock.into(),
            name: "vultr-main".into(),
            provider: stackdock_core::ProviderKind::Vultr,
            last_sync_at: Some(at(now)),
            last_attempt_at: Some(at(now)),
            last_error: None,
            catalog: None,
            env_fingerprints: Default::default(),
        },
        listings,
        now: at(now),
    }
}

/// A store on `path` after a first sync of two servers (`id-1`, `id-2`) on `vultr-main`.
async fn two_servers_synced(
    path: &Path,
) -> (
    SqliteStore,
    String,
    stackdock_core::Record,
    stackdock_core::Record,
) {
    let store = SqliteStore::open(path).expect("open");
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    let web2 = server(ORG, &dock, "id-2", "web-2", "ewr");
    store
        .commit_sync(sync_of(
            &dock,
            0,
            vec![complete(Kind::Servers, vec![web1.clone(), web2.clone()])],
        ))
        .await
        .expect("first sync");
    (store, dock, web1, web2)
}

fn complete(kind: Kind, records: Vec<stackdock_core::Record>) -> KindListing {
    KindListing {
        kind,
        records,
        complete: true,
        regions: None,
        started_at: None,
    }
}

mod suite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_in_memory() {
        conformance::run_all(|| async {
            Arc::new(SqliteStore::open_in_memory().expect("open an in-memory store"))
                as Arc<dyn Store>
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_on_disk() {
        let dirs = Arc::new(Mutex::new(Vec::new()));
        conformance::run_all(|| {
            let dirs = Arc::clone(&dirs);
            async move {
                let (dir, path) = temp_db();
                let store = SqliteStore::open(&path).expect("open an on-disk store");
                dirs.lock().expect("not poisoned").push(dir);
                Arc::new(store) as Arc<dyn Store>
            }
        })
        .await;
    }

    /// Two handles on one file (the sync's and the apply's); SQLite has no window inside a
    /// commit (one write lock), so the apply writes between the sync's listing and its commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sync_never_overwrites_ownership_an_apply_wrote_during_it() {
        let (_dir, path) = temp_db();
        let synced = Arc::new(SqliteStore::open(&path).expect("open")) as Arc<dyn Store>;
        let apply = Arc::new(SqliteStore::open(&path).expect("open again")) as Arc<dyn Store>;
        conformance::a_sync_never_overwrites_ownership_an_apply_wrote_during_it(
            synced, apply, None,
        )
        .await;
    }
}

mod schema {
    use super::*;

    #[tokio::test]
    async fn universal_tables_are_queryable_with_plain_sql() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path).expect("open");
        assert!(
            path.exists(),
            "open creates the file and its parent directories"
        );
        let dock = dock_id(ORG, "vultr-main");
        let mut listings = vec![complete(
            Kind::Servers,
            vec![server(ORG, &dock, "id-1", "web-1", "ewr")],
        )];
        listings.push(complete(
            Kind::BlockVolumes,
            vec![full_record(Kind::BlockVolumes, ORG, &dock, "vol-1")],
        ));
        store
            .commit_sync(sync_of(&dock, 0, listings))
            .await
            .expect("sync");

        let conn = raw(&path);
        let row: (String, String, String) = conn
            .query_row("select name, status, region from servers", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("select name, status, region from servers");
        assert_eq!(row, ("web-1".into(), "running".into(), "ewr".into()));

        let (tags, protect, updated, ip): (String, i64, String, String) = conn
            .query_row(
                "select tags, protect, updatedAt, ipAddress from servers where orgId = 'acme'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("kind columns");
        assert_eq!(tags, r#"["web"]"#, "tags are JSON text");
        assert_eq!(protect, 0, "protect is 0/1");
        assert_eq!(
            updated, "2023-11-14T22:13:20Z",
            "updatedAt is RFC 3339 text"
        );
        assert_eq!(ip, "203.0.113.10");

        let (size, ram): (i64, i64) = conn
            .query_row(
                "select v.sizeGb, json_extract(s.fullApiData, '$.ram')
                 from blockVolumes v join servers s on s.providerResourceId = v.attachedToInstance",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("numbers are numbers, fullApiData is JSON");
        assert_eq!((size, ram), (40, 1024));

        let dock_row: (String, String) = conn
            .query_row("select provider, lastSyncAt from docks", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("docks");
        assert_eq!(
            dock_row,
            ("vultr".into(), "2023-11-14T22:13:20.000000000Z".into())
        );

        for (table, expected) in [
            (
                "servers",
                &["instanceType", "ipAddress", "image", "tags"][..],
            ),
            (
                "blockVolumes",
                &[
                    "sizeGb",
                    "attachedToInstance",
                    "attachedToInstanceLabel",
                    "mountId",
                    "blockType",
                    "filesystemType",
                ][..],
            ),
            (
                "buckets",
                &[
                    "cluster",
                    "hostname",
                    "s3Endpoint",
                    "sizeBytes",
                    "objectCount",
                ][..],
            ),
            (
                "databases",
                &["engine", "version", "instanceType", "host", "port"][..],
            ),
            (
                "webServices",
                &[
                    "subtype",
                    "productionUrl",
                    "defaultUrl",
                    "customDomains",
                    "repo",
                    "framework",
                    "providerStatus",
                    "lastDeployAt",
                    "lastDeployId",
                    "lastCommitSha",
                    "envVarNames",
                    "build",
                ][..],
            ),
            (
                "domains",
                &[
                    "zoneName",
                    "dnsHosted",
                    "assignedNameservers",
                    "registrar",
                    "expiresAt",
                    "recordsCount",
                    "recordsDigest",
                ][..],
            ),
            (
                "domainRecords",
                &[
                    "zone", "fqdn", "type", "value", "ttl", "priority", "weight", "port", "flags",
                    "tag", "proxied", "managed",
                ][..],
            ),
        ] {
            let columns = columns(&conn, table);
            let common = [
                "orgId",
                "dockId",
                "provider",
                "providerResourceId",
                "name",
                "status",
                "region",
                "fullApiData",
                "fullApiDataTruncated",
                "updatedAt",
                "missingSince",
                "contentHash",
                "managedBy",
                "provisioningSource",
                "provisioningState",
                "provisionedAt",
                "provisioningError",
                "protect",
                "drift",
                "applied",
            ];
            for name in common.iter().chain(expected) {
                assert!(
                    columns.iter().any(|c| c == name),
                    "{table} lacks column {name}: {columns:?}"
                );
            }
            assert_eq!(
                columns.len(),
                common.len() + expected.len(),
                "{table} has exactly the record's attributes as columns: {columns:?}"
            );
        }
        let indexes: Vec<String> = conn
            .prepare("select name from sqlite_master where type = 'index' and sql like '%orgId%'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("indexes");
        for kind in Kind::ALL {
            assert!(
                indexes.contains(&format!("{}_orgId", kind.table())),
                "{} has an orgId index: {indexes:?}",
                kind.table()
            );
        }
    }

    fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
        conn.prepare(&format!("pragma table_info({table})"))
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>("name"))?.collect())
            .expect("table_info")
    }

    #[tokio::test]
    async fn wal_mode_and_schema_version_are_set() {
        let (_dir, path) = temp_db();
        drop(SqliteStore::open(&path).expect("open"));
        let conn = raw(&path);
        let mode: String = conn
            .query_row("pragma journal_mode", [], |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .query_row("pragma user_version", [], |r| r.get(0))
            .expect("user_version");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_version() {
        let (_dir, path) = temp_db();
        let dock = dock_id(ORG, "vultr-main");
        let record = server(ORG, &dock, "id-1", "web-1", "ewr");
        {
            let store = SqliteStore::open(&path).expect("open");
            store
                .commit_sync(sync_of(
                    &dock,
                    0,
                    vec![complete(Kind::Servers, vec![record.clone()])],
                ))
                .await
                .expect("sync");
        }
        let store = SqliteStore::open(&path).expect("reopen an up-to-date database");
        let stored = store.get(&record.key()).await.expect("get").expect("kept");
        assert_eq!(stored.name, "web-1");
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_with_a_clear_error() {
        let (_dir, path) = temp_db();
        drop(SqliteStore::open(&path).expect("open"));
        raw(&path)
            .execute_batch(&format!("pragma user_version = {}", SCHEMA_VERSION + 1))
            .expect("pretend a newer StackDock wrote the file");
        match SqliteStore::open(&path) {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains("newer") && message.contains("upgrade"),
                    "the error says the schema is newer and what to do: {message}"
                );
            }
            other => panic!("opening a newer schema must fail with Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_column_missing_from_an_older_file_is_added_on_open() {
        let (_dir, path) = temp_db();
        let dock = dock_id(ORG, "vultr-main");
        let record = server(ORG, &dock, "id-1", "web-1", "ewr");
        {
            let store = SqliteStore::open(&path).expect("open");
            store
                .commit_sync(sync_of(
                    &dock,
                    0,
                    vec![complete(Kind::Servers, vec![record.clone()])],
                ))
                .await
                .expect("sync");
        }
        // As if the file predates the `image` attribute.
        raw(&path)
            .execute_batch("alter table servers drop column image")
            .expect("drop a column");
        let store = SqliteStore::open(&path).expect("reopen adds the column");
        let stored = store.get(&record.key()).await.expect("get").expect("kept");
        assert_eq!(
            stored.field("image"),
            None,
            "a column added later reads as unset"
        );
        assert_eq!(stored.name, "web-1");
    }

    /// A file written before migration 3 (schema version 2: no `domainRecords` table) gains the
    /// table, its columns and its orgId index on open, keeps its records, and stores DNS records.
    #[tokio::test]
    async fn a_file_from_before_the_domain_records_table_gains_it_on_open() {
        const { assert!(SCHEMA_VERSION >= 3, "migration 3 adds domainRecords") };
        let (_dir, path) = temp_db();
        let dock = dock_id(ORG, "vultr-main");
        let web = server(ORG, &dock, "id-1", "web-1", "ewr");
        {
            let store = SqliteStore::open(&path).expect("open");
            store
                .commit_sync(sync_of(
                    &dock,
                    0,
                    vec![complete(Kind::Servers, vec![web.clone()])],
                ))
                .await
                .expect("sync");
        }
        // As the file was after migration 2: no table, no index, version 2.
        raw(&path)
            .execute_batch(
                "drop table domainRecords; alter table docks drop column envFingerprints;
                 pragma user_version = 2;",
            )
            .expect("take the file back to schema version 2");
        assert!(columns(&raw(&path), "domainRecords").is_empty());

        let store = SqliteStore::open(&path).expect("reopen migrates to the current version");
        let conn = raw(&path);
        let version: i64 = conn
            .query_row("pragma user_version", [], |r| r.get(0))
            .expect("user_version");
        assert_eq!(version, SCHEMA_VERSION);
        let table = columns(&conn, "domainRecords");
        for name in [
            "orgId",
            "dockId",
            "providerResourceId",
            "fqdn",
            "type",
            "value",
            "ttl",
        ] {
            assert!(
                table.iter().any(|c| c == name),
                "domainRecords lacks {name}: {table:?}"
            );
        }
        let index: i64 = conn
            .query_row(
                "select count(*) from sqlite_master where type = 'index' \
                 and name = 'domainRecords_orgId'",
                [],
                |r| r.get(0),
            )
            .expect("index");
        assert_eq!(index, 1, "the orgId index is created with the table");

        let stored = store.get(&web.key()).await.expect("get").expect("kept");
        assert_eq!(
            stored.name, "web-1",
            "records written before the migration are kept"
        );
        let record = full_record(Kind::DomainRecords, ORG, &dock, "zone-1/rec-1");
        store
            .commit_sync(sync_of(
                &dock,
                60,
                vec![complete(Kind::DomainRecords, vec![record.clone()])],
            ))
            .await
            .expect("sync a DNS record into the new table");
        let mut expected = record.clone();
        expected.updated_at = Some(at(60));
        assert_eq!(
            store.get(&record.key()).await.expect("get"),
            Some(expected),
            "a DNS record reads back whole from the migrated file"
        );
    }

    /// A file written with the placeholder web service record (schema version 3: `environment`
    /// and `gitRepo` columns) loses those columns on open, gains the universal record's, and
    /// stores a web service whole.
    #[tokio::test]
    async fn a_file_from_before_the_web_services_record_gains_its_columns_on_open() {
        const { assert!(SCHEMA_VERSION >= 4, "migration 4 recreates webServices") };
        let (_dir, path) = temp_db();
        drop(SqliteStore::open(&path).expect("open"));
        raw(&path)
            .execute_batch(
                "drop table webServices;
                 create table webServices (orgId TEXT NOT NULL, dockId TEXT NOT NULL,
                   providerResourceId TEXT NOT NULL, productionUrl, environment, gitRepo,
                   primary key (dockId, providerResourceId));
                 alter table docks drop column envFingerprints;
                 pragma user_version = 3;",
            )
            .expect("take the file back to schema version 3");
        assert!(columns(&raw(&path), "webServices").contains(&"gitRepo".to_owned()));

        let store = SqliteStore::open(&path).expect("reopen migrates to the current version");
        let table = columns(&raw(&path), "webServices");
        for gone in ["environment", "gitRepo"] {
            assert!(
                !table.iter().any(|c| c == gone),
                "{gone} is still there: {table:?}"
            );
        }
        for name in ["subtype", "repo", "envVarNames", "build", "lastCommitSha"] {
            assert!(
                table.iter().any(|c| c == name),
                "webServices lacks {name}: {table:?}"
            );
        }
        let dock = dock_id(ORG, "vercel-main");
        let record = full_record(Kind::WebServices, ORG, &dock, "prj_1");
        store
            .commit_sync(sync_of(
                &dock,
                60,
                vec![complete(Kind::WebServices, vec![record.clone()])],
            ))
            .await
            .expect("sync a web service into the recreated table");
        let mut expected = record.clone();
        expected.updated_at = Some(at(60));
        assert_eq!(store.get(&record.key()).await.expect("get"), Some(expected));
    }

    /// A file written before migration 5 (schema version 4: no `docks.envFingerprints`) keeps its
    /// dock statuses, which read back without fingerprints, and then stores them.
    #[tokio::test]
    async fn a_file_from_before_env_fingerprints_gains_the_column_on_open() {
        const {
            assert!(
                SCHEMA_VERSION >= 5,
                "migration 5 adds docks.envFingerprints"
            )
        };
        let (_dir, path) = temp_db();
        let dock = dock_id(ORG, "vercel-main");
        {
            let store = SqliteStore::open(&path).expect("open");
            store
                .commit_sync(sync_of(&dock, 0, vec![]))
                .await
                .expect("sync");
        }
        raw(&path)
            .execute_batch(
                "alter table docks drop column envFingerprints; pragma user_version = 4;",
            )
            .expect("take the file back to schema version 4");
        let store = SqliteStore::open(&path).expect("reopen migrates to the current version");
        assert!(columns(&raw(&path), "docks").contains(&"envFingerprints".to_owned()));
        let mut statuses = store.dock_statuses(ORG).await.expect("statuses");
        assert_eq!(statuses.len(), 1);
        assert!(statuses[0].env_fingerprints.is_empty());
        statuses[0].env_fingerprints.insert(
            "web_services.site".into(),
            [("API_URL@production".to_owned(), "ab".repeat(16))].into(),
        );
        store.put_dock_status(&statuses[0]).await.expect("put");
        assert_eq!(store.dock_statuses(ORG).await.expect("statuses"), statuses);
    }
}

mod atomicity {
    use super::*;

    /// A failure partway through a sync (here: SQLite refusing the volume insert, after the
    /// servers were written in the same transaction) leaves the previous state exactly.
    #[tokio::test]
    async fn a_sync_failing_partway_leaves_the_previous_state() {
        let (_dir, path) = temp_db();
        let (store, dock, web1, _) = two_servers_synced(&path).await;
        let before = store.inventory(ORG, None).await.expect("inventory");
        let statuses_before = store.dock_statuses(ORG).await.expect("statuses");

        // The failure is injected from outside, in the database itself: no hook in the code.
        raw(&path)
            .execute_batch(
                "create trigger fail_volumes before insert on blockVolumes
                 begin select raise(abort, 'simulated disk failure'); end;",
            )
            .expect("install a failing trigger");

        let mut renamed = web1.clone();
        renamed.name = "web-1-renamed".into();
        let partial = sync_of(
            &dock,
            60,
            vec![
                // Would rewrite web-1 and mark web-2 missing...
                complete(Kind::Servers, vec![renamed.with_hash()]),
                // ...but this insert fails after those writes.
                complete(
                    Kind::BlockVolumes,
                    vec![full_record(Kind::BlockVolumes, ORG, &dock, "vol-1")],
                ),
            ],
        );
        let error = store
            .commit_sync(partial)
            .await
            .expect_err("the injected failure must fail the sync");
        let message = error.to_string();
        assert!(
            message.contains("blockVolumes") && message.contains("simulated disk failure"),
            "the error names the table and the cause: {message}"
        );

        assert_eq!(
            store.inventory(ORG, None).await.expect("inventory"),
            before,
            "no record of the failed sync is visible: not the rename, not the missing mark"
        );
        assert_eq!(
            store.dock_statuses(ORG).await.expect("statuses"),
            statuses_before,
            "the dock status is not advanced by a failed sync"
        );
        // And another connection (another process) sees the same.
        let other = SqliteStore::open(&path).expect("second handle");
        assert_eq!(
            other.inventory(ORG, None).await.expect("inventory"),
            before,
            "another handle sees the previous state"
        );

        // The store is still usable afterwards.
        raw(&path)
            .execute_batch("drop trigger fail_volumes")
            .expect("remove the trigger");
        let stats = store
            .commit_sync(sync_of(
                &dock,
                120,
                vec![complete(Kind::Servers, vec![web1.clone()])],
            ))
            .await
            .expect("a later sync succeeds");
        assert_eq!(stats.marked_missing, 1, "web-2 is marked missing now");
    }

    /// A sync reads only what its rules need of the stored rows; an unreadable one of those values
    /// fails the sync with the table, record and column named, and nothing is written.
    #[tokio::test]
    async fn an_unreadable_stored_timestamp_fails_the_sync_by_name() {
        let (_dir, path) = temp_db();
        let (store, dock, web1, web2) = two_servers_synced(&path).await;
        let statuses_before = store.dock_statuses(ORG).await.expect("statuses");
        raw(&path)
            .execute(
                "UPDATE servers SET missingSince = 'last tuesday' WHERE providerResourceId = 'id-2'",
                [],
            )
            .expect("corrupt one timestamp");

        let mut renamed = web1.clone();
        renamed.name = "web-1-renamed".into();
        let error = store
            .commit_sync(sync_of(
                &dock,
                60,
                vec![complete(Kind::Servers, vec![renamed.with_hash(), web2])],
            ))
            .await
            .expect_err("an unreadable stored timestamp fails the sync");
        assert!(
            matches!(error, StoreError::Corrupt(_)),
            "a corrupt file, not a bug: {error:?}"
        );
        let message = error.to_string();
        for part in ["servers", "id-2", "missingSince", "last tuesday"] {
            assert!(
                message.contains(part),
                "the error names `{part}`: {message}"
            );
        }
        let name: String = raw(&path)
            .query_row(
                "SELECT name FROM servers WHERE providerResourceId = 'id-1'",
                [],
                |row| row.get(0),
            )
            .expect("web-1's row");
        assert_eq!(
            name, "web-1",
            "the rename of the failed sync is not written"
        );
        assert_eq!(
            store.dock_statuses(ORG).await.expect("statuses"),
            statuses_before,
            "the dock status is not advanced by a failed sync"
        );
    }

    /// A sync with a record of another dock is refused before anything is written.
    #[tokio::test]
    async fn a_sync_with_a_foreign_record_is_refused_whole() {
        let store = SqliteStore::open_in_memory().expect("open");
        let dock = dock_id(ORG, "vultr-main");
        let stray = server(ORG, &dock_id(ORG, "elsewhere"), "id-9", "stray", "ewr");
        let error = store
            .commit_sync(sync_of(
                &dock,
                0,
                vec![
                    complete(
                        Kind::Servers,
                        vec![server(ORG, &dock, "id-1", "web-1", "ewr")],
                    ),
                    complete(Kind::Servers, vec![stray]),
                ],
            ))
            .await
            .expect_err("refused");
        assert!(
            error.to_string().contains("elsewhere"),
            "the error names the stray record's dock: {error}"
        );
        assert_eq!(store.inventory(ORG, None).await.expect("inventory"), vec![]);
        assert_eq!(store.dock_statuses(ORG).await.expect("statuses"), vec![]);
    }
}

mod leases {
    use super::*;

    /// Two handles on one file (as two processes would be), many tasks each: one winner.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn lease_race_across_two_handles_on_one_file() {
        let (_dir, path) = temp_db();
        let first: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("first handle"));
        let second: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("second handle"));
        for round in 0..5 {
            let name = format!("apply/race-{round}");
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..24 {
                let store = Arc::clone(if i % 2 == 0 { &first } else { &second });
                let name = name.clone();
                tasks.spawn(async move {
                    let owner = format!("owner-{i}");
                    let result = store
                        .acquire_lease(&name, &owner, Duration::from_secs(60), at(round))
                        .await;
                    (owner, result)
                });
            }
            let mut winners = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                match joined.expect("task") {
                    (owner, Ok(_)) => winners.push(owner),
                    (_, Err(StoreError::LeaseHeld { .. })) => {}
                    (owner, Err(other)) => panic!("{owner}: unexpected {other}"),
                }
            }
            assert_eq!(
                winners.len(),
                1,
                "round {round}: one winner, got {winners:?}"
            );
            for store in [&first, &second] {
                let held = store
                    .current_lease(&name)
                    .await
                    .expect("current")
                    .expect("held");
                assert_eq!(held.owner, winners[0], "both handles see the winner");
            }
        }
    }
}
