//! A failed create (`provisioningState = failed`, issue 21 part 5): the provider's error is kept
//! on the record, read back by key, by dock and through the org inventory (DynamoDB: records of
//! a dock without a status come through the `orgId-index`, which does not project it, and are
//! read whole by key), survives a sync like the rest of the bookkeeping, and goes when an apply
//! writes the record without it.

use std::sync::Arc;

use stackdock_core::record::{ProvisioningSource, ProvisioningState, dock_id};

use super::{ORG, at, dock_sync, listing, must_get, ok, server};
use crate::{PageRequest, Store};

/// What the provider answered, as apply keeps it.
const REFUSED: &str =
    "dock `vultr-main`: POST /instances: invalid request: HTTP 400: Invalid plan.";

pub async fn a_failed_create_keeps_its_error_until_an_apply_clears_it(store: Arc<dyn Store>) {
    // A dock no sync has listed (no status): the org inventory finds it through the index.
    let unsynced = dock_id(ORG, "vultr-new");
    let mut failed = server(ORG, &unsynced, "failed:servers.web-9", "web-9", "ewr");
    failed.status = "error".into();
    failed.managed_by = Some("servers.web-9".into());
    failed.provisioning_source = ProvisioningSource::Api;
    failed.provisioning_state = Some(ProvisioningState::Failed);
    failed.provisioning_error = Some(REFUSED.into());
    failed.missing_since = Some(at(0));
    let failed = failed.with_hash();
    ok(
        store.put_records(std::slice::from_ref(&failed)).await,
        "put a failed create",
    );

    let by_key = must_get(&store, &failed.key()).await;
    assert_eq!(by_key.provisioning_state, Some(ProvisioningState::Failed));
    assert_eq!(by_key.provisioning_error.as_deref(), Some(REFUSED));
    let everything = ok(store.inventory(ORG, None).await, "org inventory");
    let listed = everything
        .iter()
        .find(|r| r.key() == failed.key())
        .expect("the org inventory holds the failed record");
    assert_eq!(
        listed.provisioning_error.as_deref(),
        Some(REFUSED),
        "read through the org inventory"
    );

    // A synced dock: a server whose create timed out keeps its error through re-syncs.
    let dock = dock_id(ORG, "vultr-main");
    let slow = server(ORG, &dock, "id-7", "web-7", "ewr");
    let sync = |now| {
        dock_sync(
            ORG,
            &dock,
            now,
            vec![listing(
                stackdock_core::Kind::Servers,
                vec![slow.clone()],
                true,
            )],
        )
    };
    ok(store.commit_sync(sync(at(10))).await, "first sync");
    let mut timed_out = must_get(&store, &slow.key()).await;
    timed_out.managed_by = Some("servers.web-7".into());
    timed_out.provisioning_source = ProvisioningSource::Api;
    timed_out.provisioning_state = Some(ProvisioningState::Failed);
    timed_out.provisioning_error = Some("not ready after 600s: still `pending`".into());
    ok(
        store.put_records(std::slice::from_ref(&timed_out)).await,
        "put the timed-out create",
    );
    ok(store.commit_sync(sync(at(70))).await, "re-sync");
    let kept = must_get(&store, &slow.key()).await;
    assert_eq!(
        kept.provisioning_error, timed_out.provisioning_error,
        "a sync keeps the error, as all bookkeeping"
    );
    let page = ok(
        store
            .inventory_page(
                ORG,
                &PageRequest {
                    dock_id: None,
                    kind: None,
                    after: None,
                    limit: 100,
                },
            )
            .await,
        "an inventory page",
    );
    assert!(
        page.records
            .iter()
            .any(|r| r.key() == slow.key() && r.provisioning_error == timed_out.provisioning_error),
        "a page reads the error too"
    );

    // A later successful create writes the record without it.
    let mut provisioned = kept.clone();
    provisioned.provisioning_state = Some(ProvisioningState::Provisioned);
    provisioned.provisioned_at = Some(at(80));
    provisioned.provisioning_error = None;
    assert_eq!(
        ok(
            store.put_records(std::slice::from_ref(&provisioned)).await,
            "put provisioned"
        ),
        1
    );
    let cleared = must_get(&store, &slow.key()).await;
    assert_eq!(
        cleared.provisioning_state,
        Some(ProvisioningState::Provisioned)
    );
    assert_eq!(cleared.provisioning_error, None, "the error is cleared");
}
