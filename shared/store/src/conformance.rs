//! The conformance suite every `Store` backend runs (SQLite here, DynamoDB elsewhere): the
//! behaviour the engine relies on, checked through the trait alone.
//!
//! Enabled by the `conformance` feature. A backend's test calls [`run_all`] with a function that
//! makes a fresh, empty store per check, or calls the checks one by one. Every check panics with a
//! message naming what the store got wrong; none reads a clock (all times are fixed) or depends on
//! another check's data.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;
use stackdock_core::record::{
    Attrs, BucketAttrs, DatabaseAttrs, DockStatus, DomainAttrs, DomainRecordAttrs, DriftEntry,
    ProvisioningSource, ProvisioningState, RecordKey, ServerAttrs, VolumeAttrs, WebServiceAttrs,
    WebServiceBuild, WebServiceRepo, dock_id,
};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record, VecMap, VecSet};

use crate::{
    ActionResult, DockSync, Intent, KindListing, Lease, LogLine, Outcome, RunKind, RunRecord,
    RunStatus, Store, StoreError, SyncStats,
};

mod failed;
mod pages;
mod runs;
pub use failed::a_failed_create_keeps_its_error_until_an_apply_clears_it;
pub use pages::inventory_pages_walk_every_record_once_in_order;
pub use runs::run_pages_walk_every_run_once_newest_first;

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

/// An incomplete listing marks nothing missing (safety rule 2).
pub async fn incomplete_listing_marks_nothing_missing(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    let web2 = server(ORG, &dock, "id-2", "web-2", "ewr");
    sync_servers(&store, &dock, at(0), vec![web1.clone(), web2.clone()], true).await;
    let stats = sync_servers(&store, &dock, at(60), vec![web1.clone()], false).await;
    assert_eq!(
        stats.marked_missing, 0,
        "an incomplete listing must not mark anything missing"
    );
    assert_eq!(
        must_get(&store, &web2.key()).await.missing_since,
        None,
        "a record absent from an incomplete listing is not missing"
    );
    let stats = sync_servers(&store, &dock, at(90), vec![], false).await;
    assert_eq!(
        stats.marked_missing, 0,
        "an empty incomplete listing (a failed list call) marks nothing missing"
    );
}

/// A record written after a listing began (an apply's create finishing while a scheduled sync
/// listed) is not marked missing by that listing; the next complete listing decides.
pub async fn a_record_written_after_the_listing_began_is_not_missing(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    sync_servers(&store, &dock, at(0), vec![web1.clone()], true).await;
    let mut created = server(ORG, &dock, "id-2", "web-2", "ewr");
    created.managed_by = Some("servers.web-2".into());
    created.updated_at = Some(at(100));
    ok(
        store.put_records(std::slice::from_ref(&created)).await,
        "apply writes its create",
    );
    let started_before = KindListing {
        started_at: Some(at(90)),
        ..listing(Kind::Servers, vec![web1.clone()], true)
    };
    let stats = ok(
        store
            .commit_sync(dock_sync(ORG, &dock, at(120), vec![started_before]))
            .await,
        "overlapping sync",
    );
    assert_eq!(
        stats.marked_missing, 0,
        "the listing began before the create was recorded"
    );
    assert_eq!(must_get(&store, &created.key()).await.missing_since, None);
    let started_after = KindListing {
        started_at: Some(at(200)),
        ..listing(Kind::Servers, vec![web1], true)
    };
    let stats = ok(
        store
            .commit_sync(dock_sync(ORG, &dock, at(210), vec![started_after]))
            .await,
        "later sync",
    );
    assert_eq!(
        stats.marked_missing, 1,
        "a listing that began after the write and lacks it marks it missing"
    );
}

/// A complete listing marks absent records of its kind missing, once; nothing is deleted.
pub async fn complete_listing_marks_absent_records_missing_once(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    let web2 = server(ORG, &dock, "id-2", "web-2", "ewr");
    let volume = full_record(Kind::BlockVolumes, ORG, &dock, "vol-1");
    ok(
        store
            .commit_sync(dock_sync(
                ORG,
                &dock,
                at(0),
                vec![
                    listing(Kind::Servers, vec![web1.clone(), web2.clone()], true),
                    listing(Kind::BlockVolumes, vec![volume.clone()], true),
                ],
            ))
            .await,
        "first sync",
    );

    let stats = sync_servers(&store, &dock, at(60), vec![web1.clone()], true).await;
    assert_eq!(
        stats,
        SyncStats {
            written: 0,
            unchanged: 1,
            marked_missing: 1,
            appeared: Vec::new(),
        },
        "a complete listing without web-2 marks it missing"
    );
    let gone = must_get(&store, &web2.key()).await;
    assert_eq!(
        gone.missing_since,
        Some(at(60)),
        "missingSince is the sync's now"
    );
    assert_eq!(
        must_get(&store, &web1.key()).await.missing_since,
        None,
        "a listed record is not missing"
    );
    assert_eq!(
        must_get(&store, &volume.key()).await.missing_since,
        None,
        "a servers listing never marks a block volume missing"
    );

    let stats = sync_servers(&store, &dock, at(120), vec![web1.clone()], true).await;
    assert_eq!(
        stats,
        SyncStats {
            written: 0,
            unchanged: 1,
            marked_missing: 0,
            appeared: Vec::new(),
        },
        "a record already missing is not marked (or written) again"
    );
    assert_eq!(
        must_get(&store, &web2.key()).await.missing_since,
        Some(at(60)),
        "missingSince keeps the time it first went missing"
    );
    let inventory = ok(store.inventory(ORG, Some(&dock)).await, "inventory");
    assert!(
        inventory.iter().any(|r| r.key() == web2.key()),
        "a missing record stays in the inventory (it is never hard-deleted)"
    );
}

/// A missing record listed again is rewritten without `missingSince`, bookkeeping kept.
pub async fn missing_record_listed_again_comes_back(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    sync_servers(&store, &dock, at(0), vec![web1.clone()], true).await;
    let mut protected = must_get(&store, &web1.key()).await;
    protected.protect = true;
    ok(
        store.put_records(std::slice::from_ref(&protected)).await,
        "protect",
    );
    sync_servers(&store, &dock, at(60), vec![], true).await;
    assert_eq!(
        must_get(&store, &web1.key()).await.missing_since,
        Some(at(60)),
        "absent from a complete listing: missing"
    );

    // Same content as before it went missing: still written, because it came back.
    let stats = sync_servers(&store, &dock, at(120), vec![web1.clone()], true).await;
    assert_eq!(
        stats,
        SyncStats {
            written: 1,
            unchanged: 0,
            marked_missing: 0,
            appeared: Vec::new(),
        },
        "a record that came back is written even if its content is unchanged"
    );
    let back = must_get(&store, &web1.key()).await;
    assert_eq!(
        back.missing_since, None,
        "a listed record is no longer missing"
    );
    assert_eq!(
        back.updated_at,
        Some(at(120)),
        "coming back updates updatedAt"
    );
    assert!(back.protect, "coming back keeps the bookkeeping (protect)");
}

/// A listing scoped to some regions marks only records of those regions missing.
pub async fn region_scoped_listing_marks_only_its_regions(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let ewr = server(ORG, &dock, "id-ewr", "web-ewr", "ewr");
    let ams = server(ORG, &dock, "id-ams", "web-ams", "ams");
    let mut global = server(ORG, &dock, "id-global", "web-global", "ewr");
    global.region = None;
    let global = global.with_hash();
    sync_servers(
        &store,
        &dock,
        at(0),
        vec![ewr.clone(), ams.clone(), global.clone()],
        true,
    )
    .await;

    let scoped = KindListing {
        regions: Some(BTreeSet::from(["ewr".to_owned()])),
        ..listing(Kind::Servers, vec![], true)
    };
    let stats = ok(
        store
            .commit_sync(dock_sync(ORG, &dock, at(60), vec![scoped]))
            .await,
        "region-scoped sync",
    );
    assert_eq!(
        stats.marked_missing, 1,
        "only the record in the listed region is marked missing"
    );
    assert_eq!(
        must_get(&store, &ewr.key()).await.missing_since,
        Some(at(60)),
        "the ewr record, absent from a complete ewr listing, is missing"
    );
    assert_eq!(
        must_get(&store, &ams.key()).await.missing_since,
        None,
        "a record of a region the listing did not cover is not missing"
    );
    assert_eq!(
        must_get(&store, &global.key()).await.missing_since,
        None,
        "a record without a region is outside a region-scoped listing"
    );
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

/// Runs: put/replace, get by org and id, list newest first with a limit.
pub async fn runs_put_get_list(store: Arc<dyn Store>) {
    let first = run("run-a", ORG, RunKind::Sync, at(0));
    let third = run("run-c", ORG, RunKind::Plan, at(20));
    let mut second = run("run-b", ORG, RunKind::Apply, at(10));
    second.plan_digest = Some("sha256:abc".into());
    second.actions.push(ActionResult {
        action: "create".into(),
        target: "servers.web-1".into(),
        dock: "vultr-main".into(),
        provider_id: Some("id-1".into()),
        outcome: Outcome::Succeeded,
        message: "created".into(),
        at: at(11),
    });
    second.log(at(12), "apply finished");
    second.expires_at = Some(at(86_400));
    for r in [&first, &third, &second] {
        ok(store.put_run(r).await, "put a run");
    }

    assert_eq!(
        ok(store.get_run(ORG, "run-b").await, "get a run"),
        Some(second.clone()),
        "a run reads back exactly as written (actions, log, digest, expiry)"
    );
    assert_eq!(
        ok(
            store.get_run(ORG, "no-such-run").await,
            "get an unknown run"
        ),
        None,
        "an unknown run is None"
    );
    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.run_id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok(store.list_runs(ORG, 10).await, "list runs")),
        ["run-c", "run-b", "run-a"],
        "runs are listed newest (startedAt) first"
    );
    assert_eq!(
        ids(ok(store.list_runs(ORG, 2).await, "list runs with a limit")),
        ["run-c", "run-b"],
        "list_runs returns at most `limit` runs, the newest"
    );

    let mut finished = second.clone();
    finished.status = RunStatus::Succeeded;
    finished.finished_at = Some(at(15));
    ok(store.put_run(&finished).await, "replace a run");
    assert_eq!(
        ok(store.get_run(ORG, "run-b").await, "get the replaced run"),
        Some(finished),
        "put_run replaces a run with the same id"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 10).await, "list runs").len(),
        3,
        "replacing a run does not add one"
    );
    assert_eq!(
        ok(
            store.get_run(OTHER_ORG, "run-b").await,
            "get another org's run"
        ),
        None,
        "a run is not visible to another org"
    );
    assert_eq!(
        ok(
            store.list_runs(OTHER_ORG, 10).await,
            "list another org's runs"
        ),
        vec![],
        "another org lists none of these runs"
    );
}

/// Issue 19 item 9: a run written without an expiry is kept 90 days after it started (syncs,
/// plans) or a year (applies, force-unlocks); one with an expiry keeps it.
pub async fn runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies(
    store: Arc<dyn Store>,
) {
    let day = 24 * 60 * 60;
    for (id, kind, days) in [
        ("run-sync", RunKind::Sync, 90),
        ("run-plan", RunKind::Plan, 90),
        ("run-apply", RunKind::Apply, 365),
        ("run-unlock", RunKind::Unlock, 365),
    ] {
        let mut written = run(id, ORG, kind, at(0));
        written.expires_at = None;
        ok(store.put_run(&written).await, "put a run without an expiry");
        let stored = ok(store.get_run(ORG, id).await, "get it").expect("the run is stored");
        assert_eq!(
            stored.expires_at,
            Some(at(days * day)),
            "a {kind:?} run expires {days} days after it started"
        );
    }
    let mut kept = run("run-kept", ORG, RunKind::Sync, at(0));
    kept.expires_at = Some(at(10));
    ok(store.put_run(&kept).await, "put a run with an expiry");
    assert_eq!(
        ok(store.get_run(ORG, "run-kept").await, "get it").and_then(|r| r.expires_at),
        Some(at(10)),
        "an explicit expiry is kept"
    );
    assert_eq!(
        RunRecord::new("r", ORG, RunKind::Apply, "me", at(0)).expires_at,
        Some(at(365 * day)),
        "a new run carries its expiry from the start"
    );
    eprintln!(
        "RELIABILITY security run records expire 90 days (syncs, plans) or a year (applies) after start (item 9) -> held (store conformance::runs_expire_90_days_after_start_for_syncs_and_a_year_for_applies)"
    );
}

/// Issue 19 item 6: a run of 5,000 actions (well over a megabyte of JSON, more than one DynamoDB
/// item holds) reads back exactly, in order, by id and in the list; so does the same run after it
/// grows by one action (as an apply records each one) and after it is rewritten shorter. A message
/// longer than `RUN_MAX_MESSAGE_BYTES` is cut the same way by every store, and a run id holding
/// the chunk separator `#` is refused.
pub async fn a_five_thousand_action_run_reads_back_whole_and_in_order(store: Arc<dyn Store>) {
    let action = |i: i64| ActionResult {
        action: if i % 3 == 0 { "create" } else { "update" }.into(),
        target: format!("servers.web-{i:04}"),
        dock: "vultr-main".into(),
        provider_id: (i % 5 != 0).then(|| format!("id-{i}")),
        outcome: if i % 7 == 0 {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        },
        message: format!("action {i}: {}", "detail ".repeat((i % 40) as usize)),
        at: at(1_000 + i),
    };
    let older = run("sync-before", ORG, RunKind::Sync, at(0));
    let mut big = run("apply-big", ORG, RunKind::Apply, at(1_000));
    big.plan_digest = Some("sha256:big".into());
    big.actions = (0..5_000).map(action).collect();
    for i in 0..300 {
        big.log(
            at(1_000 + i),
            format!("log line {i}: {}", "lease ".repeat(20)),
        );
    }
    let size = serde_json::to_string(&big).map_or(0, |json| json.len());
    assert!(
        size > 1_000_000,
        "the run is over 1 MB of JSON ({size} bytes)"
    );
    ok(store.put_run(&older).await, "put an older run");
    ok(store.put_run(&big).await, "put a 5,000-action run");
    assert_eq!(
        ok(
            store.get_run(ORG, "apply-big").await,
            "get the 5,000-action run"
        ),
        Some(big.clone()),
        "a 5,000-action run reads back exactly, actions and log in order"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 10).await, "list runs"),
        vec![big.clone(), older.clone()],
        "list_runs returns the whole run too"
    );

    big.actions.push(action(5_000));
    big.status = RunStatus::Partial;
    big.finished_at = Some(at(7_000));
    big.log(at(7_000), "apply finished");
    ok(store.put_run(&big).await, "record one more action");
    assert_eq!(
        ok(store.get_run(ORG, "apply-big").await, "get the grown run"),
        Some(big.clone()),
        "the run with its 5,001st action reads back exactly"
    );

    let mut short = big.clone();
    short.actions.truncate(10);
    short.log.truncate(2);
    ok(store.put_run(&short).await, "rewrite the run shorter");
    assert_eq!(
        ok(
            store.get_run(ORG, "apply-big").await,
            "get the shortened run"
        ),
        Some(short.clone()),
        "a run rewritten with fewer actions reads back with those only"
    );
    assert_eq!(
        ok(store.list_runs(ORG, 1).await, "list the newest run"),
        vec![short],
        "the list holds the shortened run too"
    );

    let mut long = run("apply-long", ORG, RunKind::Apply, at(2_000));
    let mut loud = action(0);
    loud.message = "é".repeat(100_000);
    long.actions.push(loud);
    ok(
        store.put_run(&long).await,
        "put a run with a 200 KB message",
    );
    let stored = ok(store.get_run(ORG, "apply-long").await, "get it").expect("the run is stored");
    let message = &stored.actions[0].message;
    assert!(
        message.len() <= crate::RUN_MAX_MESSAGE_BYTES
            && message.starts_with("éé")
            && message.ends_with("(cut: longer than 16 KiB)"),
        "a message over {} bytes is cut and says so (got {} bytes)",
        crate::RUN_MAX_MESSAGE_BYTES,
        message.len()
    );

    let hashed = run("apply-big#a#000000", ORG, RunKind::Apply, at(3_000));
    assert!(
        store.put_run(&hashed).await.is_err(),
        "a run id holding `#` is refused"
    );
    assert_eq!(
        ok(store.get_run(ORG, "apply-big").await, "get the run again").map(|r| r.actions.len()),
        Some(10),
        "the refused id changed nothing"
    );
    eprintln!(
        "RELIABILITY security a 5,000-action run is stored in items under the size limit and reads back whole, in order (item 6) -> held (store conformance::a_five_thousand_action_run_reads_back_whole_and_in_order)"
    );
}

/// Lease: acquire, refusal naming the holder, renewal, expiry and takeover, loss, release, force.
pub async fn lease_lifecycle(store: Arc<dyn Store>) {
    let name = "apply/acme";
    let minute = Duration::from_secs(60);

    let alice = ok(
        store.acquire_lease(name, "alice", minute, at(0)).await,
        "acquire a free lease",
    );
    assert_eq!(
        alice,
        Lease {
            name: name.into(),
            owner: "alice".into(),
            acquired_at: at(0),
            expires_at: at(60),
        },
        "a new lease is held from now until now + ttl"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        Some(alice.clone()),
        "current_lease shows the holder"
    );

    match store.acquire_lease(name, "bob", minute, at(10)).await {
        Err(StoreError::LeaseHeld {
            name: held,
            owner,
            expires_at,
        }) => {
            assert_eq!(held, name, "LeaseHeld names the lease");
            assert_eq!(owner, "alice", "LeaseHeld names the holder");
            assert_eq!(expires_at, at(60), "LeaseHeld says when the lease expires");
        }
        other => panic!("a held lease must refuse another owner with LeaseHeld, got {other:?}"),
    }

    let again = ok(
        store.acquire_lease(name, "alice", minute, at(20)).await,
        "the holder acquires again",
    );
    assert_eq!(
        (again.owner.as_str(), again.expires_at),
        ("alice", at(80)),
        "acquiring a lease one holds renews it"
    );
    let renewed = ok(
        store.renew_lease(&again, minute, at(30)).await,
        "renew a held lease",
    );
    assert_eq!(
        (renewed.owner.as_str(), renewed.expires_at),
        ("alice", at(90)),
        "renew extends the lease to now + ttl"
    );

    let bob = ok(
        store.acquire_lease(name, "bob", minute, at(90)).await,
        "take over an expired lease",
    );
    assert_eq!(
        bob,
        Lease {
            name: name.into(),
            owner: "bob".into(),
            acquired_at: at(90),
            expires_at: at(150),
        },
        "an expired lease is taken over by another owner"
    );
    match store.renew_lease(&renewed, minute, at(95)).await {
        Err(StoreError::LeaseLost { name: lost, owner }) => {
            assert_eq!(
                (lost.as_str(), owner.as_str()),
                (name, "alice"),
                "LeaseLost names the lease and the owner who lost it"
            );
        }
        other => panic!("renewing a lease taken over by another must be LeaseLost, got {other:?}"),
    }
    ok(
        store.release_lease(&renewed).await,
        "releasing a lost lease is not an error",
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease").map(|l| l.owner),
        Some("bob".to_owned()),
        "releasing a lost lease leaves the new holder's lease alone"
    );

    ok(store.release_lease(&bob).await, "release");
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        None,
        "a released lease is gone"
    );
    ok(
        store.release_lease(&bob).await,
        "releasing an already released lease is not an error",
    );

    let carol = ok(
        store.acquire_lease(name, "carol", minute, at(100)).await,
        "acquire after release",
    );
    assert_eq!(
        ok(store.force_release(name).await, "force release"),
        Some(carol.clone()),
        "force_release returns the lease it removed"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        None,
        "force_release removes the lease"
    );
    assert_eq!(
        ok(store.force_release(name).await, "force release again"),
        None,
        "force_release of a free lease returns None"
    );
    assert!(
        matches!(
            store.renew_lease(&carol, minute, at(110)).await,
            Err(StoreError::LeaseLost { .. })
        ),
        "renewing a force-released lease must be LeaseLost"
    );

    // Expired but taken by nobody: still the owner's, and nobody else can have acted on it.
    let dave = ok(
        store
            .acquire_lease(name, "dave", Duration::from_secs(10), at(200))
            .await,
        "acquire a short lease",
    );
    let late = ok(
        store.renew_lease(&dave, minute, at(300)).await,
        "renew an expired lease nobody took over",
    );
    assert_eq!(
        late.expires_at,
        at(360),
        "an expired lease nobody took over can be renewed by its owner"
    );
}

/// Many concurrent acquirers of one free lease: exactly one wins, the others are told who.
pub async fn concurrent_acquirers_exactly_one_wins(store: Arc<dyn Store>) {
    let name = "apply/race";
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let owner = format!("owner-{i}");
            (
                owner.clone(),
                store
                    .acquire_lease(name, &owner, Duration::from_secs(60), at(0))
                    .await,
            )
        });
    }
    let mut winners = Vec::new();
    let mut refused = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (owner, result) = joined.unwrap_or_else(|e| panic!("an acquirer task failed: {e}"));
        match result {
            Ok(lease) => winners.push((owner, lease)),
            Err(StoreError::LeaseHeld { owner: holder, .. }) => refused.push(holder),
            Err(other) => panic!("{owner}: a racing acquire must win or get LeaseHeld: {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 16 concurrent acquirers must win, winners: {winners:?}"
    );
    let (winner, lease) = &winners[0];
    assert_eq!(&lease.owner, winner, "the winner's lease names the winner");
    assert!(
        refused.iter().all(|holder| holder == winner),
        "every refused acquirer is told the winner ({winner}) holds it: {refused:?}"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease").map(|l| l.owner),
        Some(winner.clone()),
        "the stored lease is the winner's"
    );
}

/// Intents: a conditional create per (org, address), listed by address, cleared idempotently.
pub async fn intents_conditional_put_list_clear(store: Arc<dyn Store>) {
    let web2 = intent(ORG, "servers.web-2", "run-1");
    let web1 = intent(ORG, "servers.web-1", "run-1");
    ok(store.put_intent(&web2).await, "record an intent");
    ok(store.put_intent(&web1).await, "record another intent");
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1.clone(), web2.clone()],
        "intents read back exactly as written, sorted by address"
    );

    let retry = intent(ORG, "servers.web-2", "run-2");
    assert!(
        matches!(store.put_intent(&retry).await, Err(StoreError::Conflict(_))),
        "a second intent for the same address must be a Conflict"
    );
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1.clone(), web2.clone()],
        "a refused intent does not replace the recorded one"
    );

    let elsewhere = intent(OTHER_ORG, "servers.web-2", "run-9");
    ok(
        store.put_intent(&elsewhere).await,
        "the same address in another org is another intent",
    );
    assert_eq!(
        ok(store.intents(OTHER_ORG).await, "other org's intents"),
        vec![elsewhere],
        "intents are per org"
    );

    ok(store.clear_intent(ORG, "servers.web-2").await, "clear");
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1],
        "a cleared intent is gone, the others stay"
    );
    ok(
        store.clear_intent(ORG, "servers.web-2").await,
        "clearing an absent intent is not an error",
    );
    ok(
        store.put_intent(&retry).await,
        "after clearing, an intent for the address can be recorded again",
    );
    assert_eq!(
        ok(store.intents(OTHER_ORG).await, "other org's intents").len(),
        1,
        "clearing in one org leaves another org's intent alone"
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

/// Issue 19 item 5: a sync has read the dock's stored records and built its writes (a changed
/// `web-1`, a `web-2` it has never seen); an apply then writes ownership of both (adopts `web-1`,
/// records its create of `web-2`); then the sync writes. Ownership survives, and the sync's
/// observation lands. `synced` is the store the sync writes through (behind `gate`, if any),
/// `apply` the same tables through another handle.
pub async fn a_sync_never_overwrites_ownership_an_apply_wrote_during_it(
    synced: Arc<dyn Store>,
    apply: Arc<dyn Store>,
    gate: Option<Arc<dyn WriteGate>>,
) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    sync_servers(&synced, &dock, at(0), vec![web1.clone()], true).await;
    let mut stopped = web1.clone();
    stopped.status = "stopped".into();
    let stopped = stopped.with_hash();
    let web2 = server(ORG, &dock, "id-2", "web-2", "ewr");
    let batch = dock_sync(
        ORG,
        &dock,
        at(60),
        vec![listing(
            Kind::Servers,
            vec![stopped.clone(), web2.clone()],
            true,
        )],
    );
    let mut created = web2.clone();
    created.managed_by = Some("servers.web-2".into());
    created.provisioning_source = ProvisioningSource::Api;
    created.provisioning_state = Some(ProvisioningState::Provisioned);
    created.provisioned_at = Some(at(50));
    created.updated_at = Some(at(50));
    let apply_writes = {
        let (apply, key, created) = (Arc::clone(&apply), web1.key(), created.clone());
        async move {
            let mut adopted = must_get(&apply, &key).await;
            adopted.managed_by = Some("servers.web-1".into());
            adopted.protect = true;
            adopted.applied = VecMap::from([("plan".into(), FieldValue::Str("vc2-1c-1gb".into()))]);
            ok(
                apply.put_records(&[adopted.clone(), created]).await,
                "the apply writes ownership",
            );
            adopted
        }
    };
    let adopted = match gate {
        Some(gate) => {
            gate.close();
            let sync = tokio::spawn({
                let synced = Arc::clone(&synced);
                async move { synced.commit_sync(batch).await }
            });
            gate.write_held().await;
            let adopted = apply_writes.await;
            gate.open();
            let committed = sync
                .await
                .unwrap_or_else(|e| panic!("the sync task failed: {e}"));
            ok(committed, "commit the sync");
            adopted
        }
        None => {
            let adopted = apply_writes.await;
            ok(synced.commit_sync(batch).await, "commit the sync");
            adopted
        }
    };
    let stored = must_get(&apply, &web1.key()).await;
    assert_eq!(
        stored.status, "stopped",
        "the sync's observation of web-1 is stored"
    );
    assert_bookkeeping(
        &stored,
        &adopted,
        "a sync committed after an apply adopted web-1",
    );
    let stored = must_get(&apply, &web2.key()).await;
    assert_bookkeeping(
        &stored,
        &created,
        "a sync committed after an apply created web-2",
    );
    eprintln!(
        "RELIABILITY security a sync never overwrites the ownership fields an apply wrote during it, on both stores (item 5) -> held (store conformance::a_sync_never_overwrites_ownership_an_apply_wrote_during_it)"
    );
}

/// Issue 19 item 5, the converse: an apply read a record, a sync then observed a change (a
/// rename), then the apply wrote ownership on its copy: the sync's observation survives. An apply
/// write that brings a newer observation (a later `updatedAt`) is written.
pub async fn an_apply_write_never_undoes_what_a_sync_observed(store: Arc<dyn Store>) {
    let dock = dock_id(ORG, "vultr-main");
    let web1 = server(ORG, &dock, "id-1", "web-1", "ewr");
    sync_servers(&store, &dock, at(0), vec![web1.clone()], true).await;
    let read = must_get(&store, &web1.key()).await;
    let mut renamed = web1.clone();
    renamed.name = "web-1-renamed".into();
    let renamed = renamed.with_hash();
    sync_servers(&store, &dock, at(60), vec![renamed.clone()], true).await;

    let mut adopted = read;
    adopted.managed_by = Some("servers.web-1".into());
    adopted.provisioning_source = ProvisioningSource::Api;
    assert_eq!(
        ok(
            store.put_records(std::slice::from_ref(&adopted)).await,
            "the apply writes ownership"
        ),
        1,
        "the ownership is written"
    );
    let stored = must_get(&store, &web1.key()).await;
    assert_eq!(
        stored.name, "web-1-renamed",
        "the apply's stale copy must not undo the sync's rename"
    );
    assert_eq!(
        stored.content_hash, renamed.content_hash,
        "nor its contentHash"
    );
    assert_eq!(stored.updated_at, Some(at(60)), "nor its updatedAt");
    assert_bookkeeping(&stored, &adopted, "an apply write after a sync");

    let mut answered = stored.clone();
    answered.status = "stopped".into();
    answered.updated_at = Some(at(90));
    let answered = answered.with_hash();
    ok(
        store.put_records(std::slice::from_ref(&answered)).await,
        "the apply writes an update's answer",
    );
    assert_eq!(
        must_get(&store, &web1.key()).await,
        answered,
        "an apply write with a newer observation is written as given"
    );
    eprintln!(
        "RELIABILITY security an apply write never undoes what a sync observed, on both stores (item 5) -> held (store conformance::an_apply_write_never_undoes_what_a_sync_observed)"
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

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fixed instant: `seconds` after 2023-11-14T22:13:20Z.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds)
        .unwrap_or_else(|e| panic!("fixture time {seconds}s is out of range: {e}"))
}

/// A listed server (observed half only, hash set).
pub fn server(org: &str, dock: &str, id: &str, name: &str, region: &str) -> Record {
    let mut record = Record::new(org, dock, ProviderKind::Vultr, Kind::Servers, id, name);
    record.status = "running".into();
    record.region = Some(region.into());
    record.attrs = Attrs::Servers(ServerAttrs {
        instance_type: Some("vc2-1c-1gb".into()),
        ip_address: Some("203.0.113.10".into()),
        image: Some("ubuntu-24.04".into()),
        tags: VecSet::from(["web".to_owned()]),
    });
    record.full_api_data = json!({ "id": id, "label": name, "region": region, "ram": 1024 }).into();
    record.with_hash()
}

/// A listed record of `kind` with every kind attribute set and nested `fullApiData`.
pub fn full_record(kind: Kind, org: &str, dock: &str, id: &str) -> Record {
    let s = |v: &str| Some(v.to_owned());
    let mut record = Record::new(
        org,
        dock,
        ProviderKind::Vultr,
        kind,
        id,
        format!("{kind}-{id}"),
    );
    record.status = "active".into();
    record.region = Some("ewr".into());
    record.attrs = match kind {
        Kind::Servers => Attrs::Servers(ServerAttrs {
            instance_type: s("vc2-2c-4gb"),
            ip_address: s("203.0.113.7"),
            image: s("debian-12"),
            tags: VecSet::from(["a".to_owned(), "stackdock-0123456789abcdef".to_owned()]),
        }),
        Kind::BlockVolumes => Attrs::BlockVolumes(VolumeAttrs {
            size_gb: Some(40),
            attached_to_instance: s("id-1"),
            attached_to_instance_label: s("web-1"),
            mount_id: s("ewr-abc"),
            block_type: s("high_perf"),
            filesystem_type: s("ext4"),
        }),
        Kind::Buckets => Attrs::Buckets(BucketAttrs {
            cluster: s("ewr1"),
            hostname: s("b.ewr1.example"),
            s3_endpoint: s("https://ewr1.example"),
            size_bytes: Some(5_000_000_000_000),
            object_count: Some(0),
        }),
        Kind::Databases => Attrs::Databases(DatabaseAttrs {
            engine: s("pg"),
            version: s("16"),
            instance_type: s("vultr-dbaas-startup"),
            host: s("db.example"),
            port: Some(5432),
        }),
        Kind::WebServices => Attrs::WebServices(Box::new(WebServiceAttrs {
            subtype: s("project"),
            production_url: s("https://www.acme.example"),
            default_url: s("https://app-acme.vercel.app"),
            custom_domains: ["www.acme.example".to_owned()].into(),
            repo: WebServiceRepo {
                provider: s("github"),
                full_name: s("acme/app"),
                branch: s("main"),
            },
            framework: s("nextjs"),
            provider_status: s("READY"),
            last_deploy_at: s("2026-08-20T10:00:00Z"),
            last_deploy_id: s("dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa"),
            last_commit_sha: s("9f2c4e1"),
            env_var_names: [
                "API_URL@production".to_owned(),
                "API_URL@preview".to_owned(),
            ]
            .into(),
            build: WebServiceBuild {
                root_directory: s("apps/web"),
                build_command: s("npm run build"),
                install_command: s("npm ci"),
                output_directory: None,
            },
        })),
        Kind::Domains => Attrs::Domains(DomainAttrs {
            zone_name: s("acme.example"),
            dns_hosted: true,
            assigned_nameservers: vec!["ns1.example".into(), "ns2.example".into()],
            registrar: None,
            expires_at: s("2030-01-01"),
            records_count: Some(2),
            records_digest: s("0f1e2d"),
        }),
        // Every attribute set, both flags true (no single record type uses them all; the store
        // keeps whatever it is given).
        Kind::DomainRecords => Attrs::DomainRecords(DomainRecordAttrs {
            zone: s("acme.example"),
            fqdn: s("_sip._tcp.acme.example"),
            record_type: s("SRV"),
            value: s("sip.acme.example"),
            ttl: Some(300),
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            flags: Some(128),
            tag: s("issue"),
            proxied: true,
            managed: true,
        }),
    };
    record.full_api_data = json!({
        "id": id,
        "nested": { "list": [1, 2.5, "three", null, true], "empty": {} },
        "unicode": "ünïcødé ✓ \"quoted\"",
    })
    .into();
    record.with_hash()
}

fn listing(kind: Kind, records: Vec<Record>, complete: bool) -> KindListing {
    KindListing {
        kind,
        records,
        complete,
        regions: None,
        started_at: None,
    }
}

fn status(org: &str, dock: &str, synced: Option<Timestamp>) -> DockStatus {
    DockStatus {
        org_id: org.into(),
        dock_id: dock.into(),
        name: dock.rsplit('/').next().unwrap_or(dock).into(),
        provider: ProviderKind::Vultr,
        last_sync_at: synced,
        last_attempt_at: synced,
        catalog: None,
        env_fingerprints: Default::default(),
        last_error: None,
    }
}

fn dock_sync(org: &str, dock: &str, now: Timestamp, listings: Vec<KindListing>) -> DockSync {
    let complete = listings.iter().all(|l| l.complete);
    DockSync {
        org_id: org.into(),
        dock_id: dock.into(),
        status: DockStatus {
            last_attempt_at: Some(now),
            ..status(org, dock, complete.then_some(now))
        },
        listings,
        now,
    }
}

async fn sync_servers(
    store: &Arc<dyn Store>,
    dock: &str,
    now: Timestamp,
    records: Vec<Record>,
    complete: bool,
) -> SyncStats {
    let org = records
        .first()
        .map_or_else(|| ORG.to_owned(), |r| r.org_id.to_string());
    ok(
        store
            .commit_sync(dock_sync(
                &org,
                dock,
                now,
                vec![listing(Kind::Servers, records, complete)],
            ))
            .await,
        "commit a servers sync",
    )
}

fn run(id: &str, org: &str, kind: RunKind, started: Timestamp) -> RunRecord {
    let mut run = RunRecord::new(id, org, kind, "ci@runner-1", started);
    run.log.push(LogLine {
        at: started,
        message: format!("{kind:?} started"),
    });
    run
}

fn intent(org: &str, address: &str, run_id: &str) -> Intent {
    let name = address.rsplit('.').next().unwrap_or(address);
    Intent {
        org_id: org.into(),
        address: address.into(),
        dock_id: dock_id(org, "vultr-main"),
        kind: Kind::Servers,
        name: name.into(),
        owner_tag: stackdock_core::record::owner_tag(org, address),
        run_id: run_id.into(),
        created_at: at(0),
    }
}

async fn must_get(store: &Arc<dyn Store>, key: &RecordKey) -> Record {
    ok(store.get(key).await, "get a record")
        .unwrap_or_else(|| panic!("{key:?} should be stored, `get` finds nothing"))
}

fn assert_bookkeeping(stored: &Record, expected: &Record, when: &str) {
    assert_eq!(
        stored.managed_by, expected.managed_by,
        "{when}: managedBy must survive"
    );
    assert_eq!(
        stored.protect, expected.protect,
        "{when}: protect must survive"
    );
    assert_eq!(
        stored.provisioning_source, expected.provisioning_source,
        "{when}: provisioningSource must survive"
    );
    assert_eq!(
        stored.provisioning_state, expected.provisioning_state,
        "{when}: provisioningState must survive"
    );
    assert_eq!(
        stored.provisioned_at, expected.provisioned_at,
        "{when}: provisionedAt must survive"
    );
    assert_eq!(
        stored.provisioning_error, expected.provisioning_error,
        "{when}: provisioningError must survive"
    );
    assert_eq!(
        stored.applied, expected.applied,
        "{when}: applied must survive"
    );
    assert_eq!(stored.drift, expected.drift, "{when}: drift must survive");
}

/// Unwraps a store call, panicking with what was being done and the store's error.
fn ok<T>(result: Result<T, StoreError>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing}: the store failed: {e}"))
}
