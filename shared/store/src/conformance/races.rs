//! Issue 19 item 5: a sync and an apply writing one record at the same time each keep what is
//! theirs (the apply its ownership, the sync its observation).

use std::sync::Arc;

use stackdock_core::record::{ProvisioningSource, ProvisioningState, dock_id};
use stackdock_core::{FieldValue, Kind, VecMap};

use crate::Store;

use super::{
    ORG, WriteGate, assert_bookkeeping, at, dock_sync, listing, must_get, ok, server, sync_servers,
};

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
