//! The conformance suite every `Store` backend runs (SQLite here, DynamoDB elsewhere): the
//! behaviour the engine relies on, checked through the trait alone.
//!
//! Enabled by the `conformance` feature. A backend's test calls [`run_all`] with a function that
//! makes a fresh, empty store per check, or calls the checks one by one. Every check panics with a
//! message naming what the store got wrong; none reads a clock (all times are fixed) or depends on
//! another check's data.

use std::future::Future;
use std::sync::Arc;

use serde_json::json;
use stackdock_core::record::{
    DockStatus, DriftEntry, ProvisioningSource, ProvisioningState, RecordKey, dock_id,
};
use stackdock_core::{FieldValue, Kind, Record, VecMap};

use crate::{Store, SyncStats};

mod failed;
mod fixtures;
mod lease;
mod missing;
mod pages;
mod races;
mod runs;
pub use failed::a_failed_create_keeps_its_error_until_an_apply_clears_it;
use fixtures::{
    assert_bookkeeping, dock_sync, intent, listing, must_get, ok, run, status, sync_servers,
};
pub use fixtures::{at, full_record, server};
pub use lease::{
    concurrent_acquirers_exactly_one_wins, intents_conditional_put_list_clear, lease_lifecycle,
};
pub use missing::{
    a_record_written_after_the_listing_began_is_not_missing,
    complete_listing_marks_absent_records_missing_once, incomplete_listing_marks_nothing_missing,
    missing_record_listed_again_comes_back, region_scoped_listing_marks_only_its_regions,
};
pub use pages::inventory_pages_walk_every_record_once_in_order;
pub use races::{
    a_sync_never_overwrites_ownership_an_apply_wrote_during_it,
    an_apply_write_never_undoes_what_a_sync_observed,
};
pub use runs::{
    a_five_thousand_action_run_reads_back_whole_and_in_order,
    run_pages_walk_every_run_once_newest_first,
    runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies, runs_put_get_list,
};

/// The org most checks write to.
pub const ORG: &str = "acme";
/// An org whose data must never be visible to [`ORG`].
pub const OTHER_ORG: &str = "globex";

/// Runs every check, each against a fresh empty store from `make_store`.
pub async fn run_all<F, Fut>(make_store: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    macro_rules! checks {
        ($($check:ident),* $(,)?) => {
            $(
                eprintln!("store conformance: {}", stringify!($check));
                $check(make_store().await).await;
            )*
        };
    }
    checks!(
        records_read_back_by_org_and_dock_sorted,
        inventory_pages_walk_every_record_once_in_order,
        unchanged_resync_writes_nothing,
        changed_record_is_rewritten,
        bookkeeping_survives_resync,
        a_failed_create_keeps_its_error_until_an_apply_clears_it,
        incomplete_listing_marks_nothing_missing,
        a_record_written_after_the_listing_began_is_not_missing,
        complete_listing_marks_absent_records_missing_once,
        missing_record_listed_again_comes_back,
        region_scoped_listing_marks_only_its_regions,
        dock_status_round_trip,
        runs_put_get_list,
        run_pages_walk_every_run_once_newest_first,
        runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies,
        a_five_thousand_action_run_reads_back_whole_and_in_order,
        lease_lifecycle,
        concurrent_acquirers_exactly_one_wins,
        intents_conditional_put_list_clear,
        other_orgs_are_invisible,
        put_records_skips_identical_records,
        an_apply_write_never_undoes_what_a_sync_observed,
        a_huge_provider_object_is_capped_and_marked_truncated,
    );
}

/// Holds a backend's write requests while its reads pass, so a check can act between the reads
/// of a `commit_sync` and its writes (DynamoDB: a proxy in front of moto). SQLite has no such
/// window (a sync reads and writes under one write lock), so its checks pass `None`.
#[async_trait::async_trait]
pub trait WriteGate: Send + Sync {
    /// From now on the gated store's writes wait.
    fn close(&self);
    /// Returns once a write is waiting at the closed gate.
    async fn write_held(&self);
    /// Lets every held and later write through.
    fn open(&self);
}

#[async_trait::async_trait]
impl WriteGate for crate::testing::WriteHoldingProxy {
    fn close(&self) {
        crate::testing::WriteHoldingProxy::close(self);
    }
    async fn write_held(&self) {
        crate::testing::WriteHoldingProxy::write_held(self).await;
    }
    fn open(&self) {
        crate::testing::WriteHoldingProxy::open(self);
    }
}

// ---------------------------------------------------------------------------------------------
// Records and sync

/// Every kind round-trips every field; inventory is per org or dock, sorted by (dock, kind, id).
pub async fn records_read_back_by_org_and_dock_sorted(store: Arc<dyn Store>) {
    let main = dock_id(ORG, "vultr-main");
    let second = dock_id(ORG, "do-main");
    // Listed out of order, so sorting is the store's doing.
    let listed: Vec<Record> = Kind::ALL
        .into_iter()
        .rev()
        .flat_map(|kind| {
            [
                full_record(kind, ORG, &main, "id-2"),
                full_record(kind, ORG, &main, "id-1"),
            ]
        })
        .collect();
    let listings = Kind::ALL
        .into_iter()
        .map(|kind| {
            let records = listed.iter().filter(|r| r.kind() == kind).cloned();
            listing(kind, records.collect(), true)
        })
        .collect();
    let stats = ok(
        store
            .commit_sync(dock_sync(ORG, &main, at(0), listings))
            .await,
        "commit the first sync of a dock",
    );
    assert_eq!(
        stats,
        SyncStats {
            written: 14,
            unchanged: 0,
            marked_missing: 0,
            // Every record is new to the dock, in the order listed.
            appeared: Kind::ALL
                .into_iter()
                .flat_map(|kind| [(kind, "id-2".to_owned()), (kind, "id-1".to_owned())])
                .collect(),
        },
        "a first sync writes every listed record, each one new to the dock"
    );
    let other = server(ORG, &second, "id-0", "db-host", "ams");
    ok(
        store
            .commit_sync(dock_sync(
                ORG,
                &second,
                at(0),
                vec![listing(Kind::Servers, vec![other.clone()], true)],
            ))
            .await,
        "commit a second dock's sync",
    );

    for record in &listed {
        let stored = ok(store.get(&record.key()).await, "get a record")
            .unwrap_or_else(|| panic!("{:?} was written but `get` finds nothing", record.key()));
        let mut expected = record.clone();
        expected.updated_at = Some(at(0));
        assert_eq!(
            stored,
            expected,
            "a {} must read back exactly as written (with updatedAt = the sync's now)",
            record.kind().noun()
        );
    }

    let all = ok(store.inventory(ORG, None).await, "inventory of an org");
    let keys: Vec<RecordKey> = all.iter().map(Record::key).collect();
    let mut expected: Vec<RecordKey> = listed.iter().map(Record::key).collect();
    expected.push(other.key());
    expected.sort();
    assert_eq!(
        keys, expected,
        "inventory(org) holds every record of the org's docks, sorted by (dock, kind, id)"
    );

    let one = ok(
        store.inventory(ORG, Some(&main)).await,
        "inventory of a dock",
    );
    let mut expected: Vec<RecordKey> = listed.iter().map(Record::key).collect();
    expected.sort();
    assert_eq!(
        one.iter().map(Record::key).collect::<Vec<_>>(),
        expected,
        "inventory(org, dock) holds that dock's records only, sorted"
    );

    let unknown = RecordKey {
        dock_id: main.clone(),
        kind: Kind::Servers,
        provider_resource_id: "no-such-id".into(),
    };
    assert_eq!(
        ok(store.get(&unknown).await, "get an unknown record"),
        None,
        "get of an unknown key is None, not an error"
    );
    let wrong_kind = RecordKey {
        kind: Kind::Domains,
        ..other.key()
    };
    assert_eq!(
        ok(store.get(&wrong_kind).await, "get with another kind"),
        None,
        "the key's kind selects the table: a server is not found as a domain"
    );
}

/// Re-listing the same content writes nothing and keeps `updatedAt`.
pub async fn unchanged_resync_writes_nothing(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let records = vec![
        server(ORG, &dock, "id-1", "web-1", "ewr"),
        server(ORG, &dock, "id-2", "web-2", "ewr"),
    ];
    sync_servers(&store, &dock, at(0), records.clone(), true).await;
    let stats = sync_servers(&store, &dock, at(60), records.clone(), true).await;
    assert_eq!(
        stats,
        SyncStats {
            written: 0,
            unchanged: 2,
            marked_missing: 0,
            appeared: Vec::new(),
        },
        "an unchanged re-sync writes nothing"
    );
    for record in &records {
        let stored = must_get(&store, &record.key()).await;
        assert_eq!(
            stored.updated_at,
            Some(at(0)),
            "an unchanged record keeps the updatedAt of its last change"
        );
    }
    let statuses = ok(store.dock_statuses(ORG).await, "dock statuses");
    assert_eq!(
        statuses.first().and_then(|s| s.last_sync_at),
        Some(at(60)),
        "the dock's lastSyncAt records the unchanged re-sync even though no record was written"
    );
}

/// A record whose content changed is rewritten with the new `updatedAt`.
pub async fn changed_record_is_rewritten(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    let web2 = server(ORG, &dock, "id-2", "web-2", "ewr");
    sync_servers(&store, &dock, at(0), vec![web1.clone(), web2.clone()], true).await;

    let mut stopped = web1.clone();
    stopped.status = "stopped".into();
    let stopped = stopped.with_hash();
    let stats = sync_servers(
        &store,
        &dock,
        at(60),
        vec![stopped.clone(), web2.clone()],
        true,
    )
    .await;
    assert_eq!(
        stats,
        SyncStats {
            written: 1,
            unchanged: 1,
            marked_missing: 0,
            appeared: Vec::new(),
        },
        "only the changed record is written"
    );
    let stored = must_get(&store, &web1.key()).await;
    assert_eq!(stored.status, "stopped", "the change is stored");
    assert_eq!(
        stored.content_hash, stopped.content_hash,
        "the new contentHash is stored"
    );
    assert_eq!(
        stored.updated_at,
        Some(at(60)),
        "a changed record gets the sync's now as updatedAt"
    );
    assert_eq!(
        must_get(&store, &web2.key()).await.updated_at,
        Some(at(0)),
        "the unchanged neighbour keeps its updatedAt"
    );
}

/// managedBy, protect, provisioningSource/State, applied and drift survive re-syncs, changed or not.
pub async fn bookkeeping_survives_resync(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let listed = server(ORG, &dock, "id-1", "web-1", "ewr");
    sync_servers(&store, &dock, at(0), vec![listed.clone()], true).await;

    let mut managed = must_get(&store, &listed.key()).await;
    managed.managed_by = Some("servers.web-1".into());
    managed.protect = true;
    managed.provisioning_source = ProvisioningSource::Api;
    managed.provisioning_state = Some(ProvisioningState::Provisioned);
    managed.provisioned_at = Some(at(1));
    managed.applied = VecMap::from([
        ("plan".into(), FieldValue::Str("vc2-1c-1gb".into())),
        ("tags".into(), FieldValue::set(["web"])),
    ]);
    managed.drift = vec![DriftEntry {
        field: "plan".into(),
        desired: Some(FieldValue::Str("vc2-1c-1gb".into())),
        actual: Some(FieldValue::Str("vc2-2c-4gb".into())),
    }];
    assert_eq!(
        ok(
            store.put_records(std::slice::from_ref(&managed)).await,
            "put bookkeeping"
        ),
        1,
        "put_records writes a record whose bookkeeping changed"
    );

    // Listings carry no bookkeeping: it must come from the stored version.
    sync_servers(&store, &dock, at(60), vec![listed.clone()], true).await;
    assert_bookkeeping(
        &must_get(&store, &listed.key()).await,
        &managed,
        "unchanged re-sync",
    );

    let mut changed = listed.clone();
    changed.name = "web-1-renamed".into();
    let changed = changed.with_hash();
    let stats = sync_servers(&store, &dock, at(120), vec![changed], true).await;
    assert_eq!(stats.written, 1, "the renamed server is rewritten");
    let stored = must_get(&store, &listed.key()).await;
    assert_eq!(
        stored.name, "web-1-renamed",
        "the observed change is stored"
    );
    assert_bookkeeping(&stored, &managed, "re-sync with a changed record");
}

/// Dock statuses: written alone or by a sync, read back per org, sorted by dock id.
pub async fn dock_status_round_trip(store: Arc<dyn Store>) {
    let main = dock_id(ORG, "vultr-main");
    let second = dock_id(ORG, "do-main");
    let failed = DockStatus {
        last_sync_at: None,
        last_attempt_at: Some(at(5)),
        last_error: Some("dock `vultr-main`: 401 Unauthorized; check VULTR_API_KEY".into()),
        catalog: None,
        env_fingerprints: Default::default(),
        ..status(ORG, &main, None)
    };
    ok(
        store.put_dock_status(&failed).await,
        "put a failed dock status",
    );
    assert_eq!(
        ok(store.dock_statuses(ORG).await, "dock statuses"),
        vec![failed.clone()],
        "a dock status reads back exactly as written"
    );

    ok(
        store
            .commit_sync(dock_sync(ORG, &second, at(10), vec![]))
            .await,
        "a sync writes its dock status",
    );
    let synced = status(ORG, &second, Some(at(10)));
    assert_eq!(
        ok(store.dock_statuses(ORG).await, "dock statuses"),
        vec![synced.clone(), failed.clone()],
        "commit_sync writes the dock status; statuses are sorted by dock id"
    );

    let recovered = status(ORG, &main, Some(at(20)));
    ok(
        store.put_dock_status(&recovered).await,
        "overwrite a status",
    );
    assert_eq!(
        ok(store.dock_statuses(ORG).await, "dock statuses"),
        vec![synced.clone(), recovered.clone()],
        "a dock status is replaced, not duplicated; lastError is cleared"
    );

    // The environment values' fingerprints a sync keeps (issue 18) read back as written, and a
    // status without any clears them.
    let mut fingerprinted = recovered.clone();
    fingerprinted.env_fingerprints.insert(
        "web_services.site".into(),
        [
            ("API_URL@production".to_owned(), "0f".repeat(16)),
            ("API_URL@preview".to_owned(), "a1".repeat(16)),
        ]
        .into(),
    );
    ok(
        store.put_dock_status(&fingerprinted).await,
        "put a status with fingerprints",
    );
    assert_eq!(
        ok(store.dock_statuses(ORG).await, "dock statuses"),
        vec![synced.clone(), fingerprinted],
        "a dock status's environment value fingerprints read back exactly"
    );
    ok(
        store.put_dock_status(&recovered).await,
        "put a status without fingerprints",
    );
    assert_eq!(
        ok(store.dock_statuses(ORG).await, "dock statuses"),
        vec![synced, recovered],
        "a status written without fingerprints has none"
    );
    assert_eq!(
        ok(store.dock_statuses(OTHER_ORG).await, "other org's statuses"),
        vec![],
        "another org sees none of these docks"
    );
}

/// Records and docks of another org are invisible, whatever the query.
pub async fn other_orgs_are_invisible(store: Arc<dyn Store>) {
    let ours = dock_id(ORG, "vultr-main");
    let theirs = dock_id(OTHER_ORG, "vultr-main");
    sync_servers(
        &store,
        &ours,
        at(0),
        vec![server(ORG, &ours, "id-1", "web-1", "ewr")],
        true,
    )
    .await;
    let secret = server(OTHER_ORG, &theirs, "id-1", "their-web", "ewr");
    ok(
        store
            .commit_sync(dock_sync(
                OTHER_ORG,
                &theirs,
                at(0),
                vec![listing(Kind::Servers, vec![secret.clone()], true)],
            ))
            .await,
        "another org's sync",
    );

    let inventory = ok(store.inventory(ORG, None).await, "inventory");
    assert!(
        inventory.iter().all(|r| r.org_id == ORG),
        "inventory(org) must not return another org's records: {:?}",
        inventory.iter().map(Record::key).collect::<Vec<_>>()
    );
    assert_eq!(
        inventory.len(),
        1,
        "inventory(org) holds the org's own record"
    );
    assert_eq!(
        ok(
            store.inventory(ORG, Some(&theirs)).await,
            "inventory of their dock"
        ),
        vec![],
        "naming another org's dock does not reveal its records"
    );
    assert_eq!(
        ok(store.inventory(OTHER_ORG, None).await, "their inventory")
            .into_iter()
            .map(|r| r.key())
            .collect::<Vec<_>>(),
        vec![secret.key()],
        "the other org sees only its own records"
    );
    assert!(
        ok(store.dock_statuses(ORG).await, "dock statuses")
            .iter()
            .all(|s| s.org_id == ORG),
        "dock_statuses(org) must not return another org's docks"
    );
}

/// `put_records` skips records equal to the stored version and writes the others as given.
pub async fn put_records_skips_identical_records(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let mut record = server(ORG, &dock, "id-1", "web-1", "ewr");
    record.updated_at = Some(at(0));
    assert_eq!(
        ok(
            store.put_records(std::slice::from_ref(&record)).await,
            "put a new record"
        ),
        1,
        "a new record is written"
    );
    assert_eq!(
        ok(
            store.put_records(std::slice::from_ref(&record)).await,
            "put it again"
        ),
        0,
        "a record identical to the stored one is skipped"
    );
    let mut adopted = record.clone();
    adopted.managed_by = Some("servers.web-1".into());
    let fresh = full_record(Kind::Databases, ORG, &dock, "db-1");
    assert_eq!(
        ok(
            store
                .put_records(&[record.clone(), adopted.clone(), fresh.clone()])
                .await,
            "put a batch"
        ),
        2,
        "in a batch, only the changed and the new record are written"
    );
    assert_eq!(
        must_get(&store, &record.key()).await,
        adopted,
        "put_records writes the record exactly as given"
    );
    assert_eq!(
        must_get(&store, &fresh.key()).await,
        fresh,
        "put_records writes a new record exactly as given (updatedAt untouched)"
    );
}

/// Issue 19 item 6: a provider object of 1 MB goes through a sync (and an apply's write): the
/// record is kept, its `fullApiData` cut to the limit with its small fields, marked truncated; the
/// hash still covers the whole object, so an unchanged re-sync writes nothing.
pub async fn a_huge_provider_object_is_capped_and_marked_truncated(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let mut big = server(ORG, &dock, "id-1", "web-1", "ewr");
    big.full_api_data = json!({
        "id": "id-1",
        "label": "web-1",
        "user_data": "x".repeat(1 << 20),
        "region": "ewr",
    })
    .into();
    let big = big.with_hash();
    let small = server(ORG, &dock, "id-2", "web-2", "ewr");
    let stats = sync_servers(&store, &dock, at(0), vec![big.clone(), small.clone()], true).await;
    assert_eq!(
        stats.written, 2,
        "the record with a 1 MB object is written, not refused"
    );
    let stored = must_get(&store, &big.key()).await;
    assert!(
        stored.full_api_data_truncated,
        "the record says its fullApiData was truncated"
    );
    assert!(
        stored.full_api_data.as_str().len() <= crate::MAX_FULL_API_DATA_BYTES,
        "fullApiData is at most {} bytes, got {}",
        crate::MAX_FULL_API_DATA_BYTES,
        stored.full_api_data.as_str().len()
    );
    assert_eq!(
        stored.full_api_data.get_str("id").as_deref(),
        Some("id-1"),
        "small fields are kept"
    );
    assert_eq!(
        stored.full_api_data.get_str("region").as_deref(),
        Some("ewr"),
        "small fields are kept"
    );
    assert_eq!(
        stored.full_api_data.get("user_data"),
        None,
        "the huge field is dropped"
    );
    assert_eq!(
        stored.content_hash, big.content_hash,
        "the hash covers the whole object"
    );
    assert!(
        !must_get(&store, &small.key()).await.full_api_data_truncated,
        "a small object is whole"
    );
    let stats = sync_servers(&store, &dock, at(60), vec![big.clone(), small], true).await;
    assert_eq!(
        stats.written, 0,
        "an unchanged huge object is not rewritten"
    );

    let mut created = big.clone();
    created.provider_resource_id = "id-3".into();
    created.managed_by = Some("servers.web-3".into());
    created.updated_at = Some(at(70));
    ok(
        store.put_records(&[created.clone()]).await,
        "an apply writes a huge record",
    );
    let stored = must_get(&store, &created.key()).await;
    assert!(
        stored.full_api_data_truncated
            && stored.full_api_data.as_str().len() <= crate::MAX_FULL_API_DATA_BYTES
    );
    eprintln!(
        "RELIABILITY security a 1 MB provider object is kept capped at 64 KiB and marked truncated (item 6) -> held (store conformance::a_huge_provider_object_is_capped_and_marked_truncated)"
    );
}
