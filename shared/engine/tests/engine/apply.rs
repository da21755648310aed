//! Sync, plan and apply against fake providers and the SQLite store: convergence, idempotence,
//! partial failure, crash recovery and the refusal of stale plans.

use stackdock_core::plan::ActionKind;
use stackdock_core::record::{Attrs, ProvisioningSource, dock_id};
use stackdock_core::{Kind, Record};
use stackdock_engine::{EngineError, apply, lease_name, record_drift};
use stackdock_store::{Intent, Outcome, RunStatus, StoreError};

use crate::support::{ORG, World, server, volume};

fn fleet() -> Vec<stackdock_core::config::DesiredResource> {
    vec![
        server("web-1", "vultr", "vc2-1c-1gb"),
        volume("data", "vultr", 40, "web-1"),
        server("app-1", "linode", "g6-nanode-1"),
    ]
}

#[tokio::test]
async fn converges_then_a_second_apply_makes_no_provider_call() {
    let w = World::new(fleet());
    let report = w.converge().await;
    assert_eq!(
        report.run.status,
        RunStatus::Succeeded,
        "{:?}",
        report.run.actions
    );
    assert_eq!(report.run.actions.len(), 3);
    assert_eq!(w.vultr.resources(Kind::Servers).len(), 1);
    let volumes = w.vultr.resources(Kind::BlockVolumes);
    let server_id = w.vultr.resources(Kind::Servers)[0]
        .provider_resource_id
        .clone();
    match &volumes[0].attrs {
        Attrs::BlockVolumes(v) => assert_eq!(
            v.attached_to_instance.as_deref(),
            Some(server_id.as_str()),
            "attached to the new server"
        ),
        other => panic!("not a volume: {other:?}"),
    }

    w.sync().await;
    let plan = w.plan().await;
    assert!(!plan.has_changes(), "plan after apply: {:?}", plan.actions);
    assert_eq!(plan.summary.drift, 0);

    w.vultr.reset_calls();
    w.linode.reset_calls();
    let again = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect("second apply");
    assert!(again.run.actions.is_empty());
    assert_eq!(w.mutations(), 0, "a converged apply calls no provider");

    let stored = w.store.inventory(ORG, None).await.expect("inventory");
    assert!(
        stored
            .iter()
            .all(|r| r.provisioning_source == ProvisioningSource::Api && r.managed_by.is_some())
    );
}

#[tokio::test]
async fn adopts_an_existing_resource_without_creating_it() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    let mut existing = Record::new(
        ORG,
        dock_id(ORG, "vultr"),
        stackdock_core::ProviderKind::Vultr,
        Kind::Servers,
        "pre-1",
        "web-1",
    );
    existing.region = Some("ewr".into());
    existing.attrs = Attrs::Servers(stackdock_core::record::ServerAttrs {
        instance_type: Some("vc2-1c-1gb".into()),
        image: Some("os:2284".into()),
        tags: ["web".to_owned()].into(),
        ..Default::default()
    });
    w.vultr.insert(existing);
    let report = w.converge().await;
    assert_eq!(report.run.actions[0].action, "adopt");
    assert_eq!(w.vultr.calls().create, 0);
    w.sync().await;
    assert!(!w.plan().await.has_changes());
    let stored = w.store.inventory(ORG, None).await.expect("inventory");
    assert_eq!(stored[0].managed_by.as_deref(), Some("servers.web-1"));
    assert_eq!(
        stored[0].provisioning_source,
        ProvisioningSource::Manual,
        "adopted, not created: never deleted"
    );
}

#[tokio::test]
async fn drift_is_flagged_recorded_and_restored() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.converge().await;
    let id = w.vultr.resources(Kind::Servers)[0]
        .provider_resource_id
        .clone();
    assert!(w.vultr.mutate(Kind::Servers, &id, |r| {
        if let Attrs::Servers(s) = &mut r.attrs {
            s.instance_type = Some("vc2-4c-8gb".into());
        }
    }));
    w.sync().await;
    let plan = w.plan().await;
    let drift: Vec<_> = plan.of_kind(ActionKind::Drift).collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].changes[0].field, "plan");
    assert_eq!(
        plan.of_kind(ActionKind::Update).count(),
        1,
        "the update restores the file's value"
    );

    assert_eq!(
        record_drift(&plan, &w.config, w.store.as_ref())
            .await
            .expect("record drift"),
        1
    );
    let stored = w.store.inventory(ORG, None).await.expect("inventory");
    assert_eq!(stored[0].drift.len(), 1);

    apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect("apply");
    w.sync().await;
    let after = w.plan().await;
    assert!(after.actions.is_empty(), "{:?}", after.actions);
}

#[tokio::test]
async fn a_lost_create_response_is_resolved_by_ownership_tag_not_a_second_create() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.vultr.lose_next_create_response();
    let report = w.converge().await;
    assert_eq!(
        report.run.status,
        RunStatus::Succeeded,
        "{:?}",
        report.run.actions
    );
    assert_eq!(w.vultr.calls().create, 1);
    assert_eq!(w.vultr.resources(Kind::Servers).len(), 1);
    w.sync().await;
    assert!(!w.plan().await.has_changes());
    assert!(
        w.store.intents(ORG).await.expect("intents").is_empty(),
        "intent resolved"
    );
}

#[tokio::test]
async fn an_intent_left_by_a_crash_is_resolved_before_creating_again() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.sync().await;
    let plan = w.plan().await;
    let spec = plan.actions[0].spec.clone().expect("spec");
    // The crashed run recorded its intent and the provider performed the create; then it died.
    w.store
        .put_intent(&Intent {
            org_id: ORG.into(),
            address: "servers.web-1".into(),
            dock_id: dock_id(ORG, "vultr"),
            kind: Kind::Servers,
            name: spec.name.clone(),
            owner_tag: spec.owner_tag.clone(),
            run_id: "crashed-run".into(),
            created_at: jiff::Timestamp::now(),
        })
        .await
        .expect("intent");
    let created = stackdock_providers::Provider::create(
        w.vultr.as_ref(),
        Kind::Servers,
        stackdock_providers::Request::of(&spec),
    )
    .await
    .expect("the crashed run's create");
    w.vultr.reset_calls();

    let report = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect("apply");
    assert_eq!(
        report.run.status,
        RunStatus::Succeeded,
        "{:?}",
        report.run.actions
    );
    assert_eq!(
        w.vultr.calls().create,
        0,
        "found by its ownership tag, not created twice"
    );
    assert_eq!(w.vultr.resources(Kind::Servers).len(), 1);
    assert_eq!(
        report.run.actions[0].provider_id.as_deref(),
        Some(created.provider_resource_id.as_str())
    );
    assert!(w.store.intents(ORG).await.expect("intents").is_empty());
}

#[tokio::test]
async fn failures_are_collected_and_dependents_skipped() {
    let w = World::new(vec![
        server("web-1", "vultr", "vc2-1c-1gb"),
        server("web-2", "vultr", "vc2-1c-1gb"),
        volume("data", "vultr", 40, "web-2"),
    ]);
    w.vultr.fail_create_of("web-2");
    let report = w.converge().await;
    let outcome = |t: &str| {
        report
            .run
            .actions
            .iter()
            .find(|a| a.target == t)
            .map(|a| a.outcome)
    };
    assert_eq!(outcome("servers.web-1"), Some(Outcome::Succeeded));
    assert_eq!(outcome("servers.web-2"), Some(Outcome::Failed));
    assert_eq!(outcome("block_volumes.data"), Some(Outcome::Skipped));
    assert_eq!(report.run.status, RunStatus::Partial);
    assert!(
        w.store.intents(ORG).await.expect("intents").is_empty(),
        "a refused create leaves no intent"
    );
}

#[tokio::test]
async fn one_failing_dock_leaves_the_others_synced_and_marks_nothing_missing() {
    let w = World::new(vec![
        server("web-1", "vultr", "vc2-1c-1gb"),
        server("app-1", "linode", "g6-nanode-1"),
    ]);
    w.converge().await;
    w.linode.fail_list(Kind::Servers);
    let report = w.sync().await;
    assert_eq!(report.failed().count(), 1);
    let stored = w
        .store
        .inventory(ORG, Some(&dock_id(ORG, "linode")))
        .await
        .expect("inventory");
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].missing_since.is_none(),
        "a failed listing marks nothing missing"
    );

    let plan = w.plan().await;
    let blocked: Vec<_> = plan.of_kind(ActionKind::Blocked).collect();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].dock, "linode");
    assert!(!plan.has_changes());
}

#[tokio::test]
async fn a_stale_plan_is_refused_with_what_changed() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.sync().await;
    let plan = w.plan().await;
    let mut other = Record::new(
        ORG,
        dock_id(ORG, "vultr"),
        stackdock_core::ProviderKind::Vultr,
        Kind::Servers,
        "x-1",
        "web-1",
    );
    other.region = Some("ewr".into());
    w.vultr.insert(other);
    w.sync().await;
    let err = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect_err("stale");
    let message = err.to_string();
    assert!(matches!(err, EngineError::StalePlan { .. }), "{message}");
    assert!(message.contains("inventory changed"), "{message}");
    assert!(
        message.contains("no longer planned: create servers.web-1"),
        "{message}"
    );
    assert_eq!(w.vultr.calls().create, 0);
}

#[tokio::test]
async fn a_held_lease_refuses_a_second_apply_naming_the_holder() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.sync().await;
    let plan = w.plan().await;
    w.store
        .acquire_lease(
            &lease_name(ORG),
            "cli:other-host:42",
            std::time::Duration::from_secs(600),
            jiff::Timestamp::now(),
        )
        .await
        .expect("lease");
    let err = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect_err("held");
    assert!(
        matches!(err, EngineError::Store(StoreError::LeaseHeld { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("cli:other-host:42"), "{err}");
    assert_eq!(w.mutations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_that_loses_its_lease_starts_nothing_new_and_does_not_succeed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let w = World::new(fleet());
    w.sync().await;
    let plan = w.plan().await;
    // web-1 takes 1.5 s to create; the volume attached to it waits for it, in a later stage.
    w.vultr.delay_creates(Duration::from_millis(1500));
    let mut opts = w.options();
    // Renewed every 200 ms: the first renewal comes long before web-1 is done.
    opts.lease_ttl = Duration::from_millis(600);
    let (store, released) = (Arc::clone(&w.store), Arc::new(AtomicBool::new(false)));
    opts.progress = Some(Arc::new(move |_line: &str| {
        // Someone force-releases the lease as soon as the first action starts.
        if !released.swap(true, Ordering::SeqCst) {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .force_release(&lease_name(ORG))
                    .await
                    .expect("force release");
            });
        }
    }));
    let report = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &opts)
        .await
        .expect("the apply runs to its end");
    // Both servers were under way and finished; the volume never started.
    assert_eq!(report.run.status, RunStatus::Partial, "{:?}", report.run);
    let skipped: Vec<_> = report
        .run
        .actions
        .iter()
        .filter(|a| a.outcome == Outcome::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{:?}", report.run.actions);
    assert!(skipped[0].message.contains("lease was lost"), "{skipped:?}");
    let error = report.run.error.clone().unwrap_or_default();
    assert!(
        error.contains("1 action did not start; plan and apply again"),
        "{error}"
    );
    assert!(w.vultr.resources(Kind::BlockVolumes).is_empty());
    assert!(
        report
            .run
            .log
            .iter()
            .any(|l| l.message.contains("lease lost"))
    );
}

#[tokio::test]
async fn prune_deletes_only_what_stackdock_created() {
    let mut w = World::new(vec![
        server("web-1", "vultr", "vc2-1c-1gb"),
        server("web-2", "vultr", "vc2-1c-1gb"),
    ]);
    w.converge().await;
    w.config.settings.prune = true;
    w.config.resources.retain(|r| r.name != "web-2");
    w.sync().await;
    let plan = w.plan().await;
    assert_eq!(plan.summary.delete, 1);
    apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
        .await
        .expect("apply");
    assert_eq!(w.vultr.resources(Kind::Servers).len(), 1);
    w.sync().await;
    assert!(!w.plan().await.has_changes());
}

#[tokio::test]
async fn sync_names_the_server_a_volume_is_attached_to() {
    let w = World::new(vec![]);
    let mut srv = Record::new(
        ORG,
        dock_id(ORG, "vultr"),
        stackdock_core::ProviderKind::Vultr,
        Kind::Servers,
        "s-1",
        "web-1",
    );
    srv.region = Some("ewr".into());
    w.vultr.insert(srv);
    let mut vol = Record::new(
        ORG,
        dock_id(ORG, "vultr"),
        stackdock_core::ProviderKind::Vultr,
        Kind::BlockVolumes,
        "b-1",
        "data",
    );
    vol.attrs = Attrs::BlockVolumes(stackdock_core::record::VolumeAttrs {
        attached_to_instance: Some("s-1".into()),
        ..Default::default()
    });
    w.vultr.insert(vol);
    w.sync().await;
    let stored = w.store.inventory(ORG, None).await.expect("inventory");
    let vol = stored
        .iter()
        .find(|r| r.kind() == Kind::BlockVolumes)
        .expect("volume");
    assert_eq!(vol.field("attach_to"), Some("web-1".into()));
    assert_eq!(
        vol.content_hash,
        vol.observed_hash(),
        "the hash covers the filled-in label"
    );
    assert_eq!(w.sync().await.written(), 0, "a second sync writes nothing");
}
