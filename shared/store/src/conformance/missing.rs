//! Missing records: which listings may mark a record missing, and how it comes back (safety
//! rule 2: only a complete listing, of its own kind and regions, marks anything).

use std::collections::BTreeSet;
use std::sync::Arc;

use stackdock_core::Kind;
use stackdock_core::record::dock_id;

use crate::{KindListing, Store, SyncStats};

use super::{ORG, at, dock_sync, full_record, listing, must_get, ok, server, sync_servers};

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
