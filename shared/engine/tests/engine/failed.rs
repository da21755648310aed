//! A failed create leaves `provisioningState = failed` with the provider's error on a record
//! (issue 21, part 5); the next plan creates the entry again and the create that succeeds
//! clears it.

use stackdock_core::Kind;
use stackdock_core::plan::ActionKind;
use stackdock_core::record::{ProvisioningState, dock_id, failed_create_id};

use crate::support::{ORG, World, server};

#[tokio::test]
async fn a_refused_create_is_recorded_failed_with_its_error_until_a_create_succeeds() {
    let w = World::new(vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    w.vultr.fail_create_of("web-1");
    w.converge().await;

    let failed_key = |id: &str| stackdock_core::record::RecordKey {
        dock_id: dock_id(ORG, "vultr"),
        kind: Kind::Servers,
        provider_resource_id: id.to_owned(),
    };
    let failed = w
        .store
        .get(&failed_key(&failed_create_id("servers.web-1")))
        .await
        .expect("get")
        .expect("a refused create leaves a record");
    assert_eq!(failed.provisioning_state, Some(ProvisioningState::Failed));
    assert_eq!(failed.managed_by.as_deref(), Some("servers.web-1"));
    let error = failed
        .provisioning_error
        .clone()
        .expect("the error is kept");
    assert!(error.contains("web-1 rejected (injected)"), "{error}");
    assert!(
        failed.missing_since.is_some(),
        "nothing exists at the provider"
    );

    // The next plan creates the entry again, saying why; a sync in between changes nothing.
    w.sync().await;
    let plan = w.plan().await;
    let create = plan
        .actions
        .iter()
        .find(|a| a.address.as_deref() == Some("servers.web-1"))
        .expect("an action for web-1");
    assert_eq!(create.action, ActionKind::Create, "{create:?}");
    assert!(
        create
            .reason
            .contains("the last create of server `web-1` failed")
            && create.reason.contains("rejected (injected)"),
        "{}",
        create.reason
    );

    // Once the provider accepts it, the failed record is cleared and the server is managed.
    w.vultr.accept_create_of("web-1");
    w.converge().await;
    let records = w.store.inventory(ORG, None).await.expect("inventory");
    let managed: Vec<_> = records
        .iter()
        .filter(|r| r.managed_by.as_deref() == Some("servers.web-1"))
        .collect();
    assert_eq!(managed.len(), 1, "{managed:?}");
    assert_eq!(
        managed[0].provisioning_state,
        Some(ProvisioningState::Provisioned)
    );
    assert_eq!(managed[0].provisioning_error, None);
    let cleared = w
        .store
        .get(&failed_key(&failed_create_id("servers.web-1")))
        .await
        .expect("get")
        .expect("kept, as the store keeps every record");
    assert_eq!(cleared.provisioning_state, None);
    assert_eq!(cleared.provisioning_error, None);
    assert_eq!(cleared.managed_by, None);
    let again = w.plan().await;
    assert!(
        again
            .actions
            .iter()
            .all(|a| a.action != ActionKind::Create && a.action != ActionKind::Recreate),
        "converged: {:?}",
        again.actions
    );
}
