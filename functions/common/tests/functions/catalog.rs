//! Issue 19, item 4: the API functions hold no provider secret. Their `Deps` have no dock
//! adapters (`Deps::from_env` resolves no credential when `STACKDOCK_API_ROUTES` is set); a plan
//! there checks DigitalOcean's catalog as the sync stored it and sends no provider request.

use stackdock_engine::Docks;

use crate::support::{Live, ORG, Worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_in_the_api_checks_the_stored_catalog_and_sends_no_provider_request() {
    // worker-1's size has a typo the catalog check catches.
    let live = Live::with(
        |s| s.replace("plan = \"s-1vcpu-1gb\"", "plan = \"s-1vcpu-1gbb\""),
        Worker::InProcess,
    )
    .await;
    let _ = live.scheduled_sync().await.expect("sync");
    let statuses = live.store.dock_statuses(ORG).await.expect("statuses");
    let stored = statuses
        .iter()
        .find(|s| s.name == "do-main")
        .and_then(|s| s.catalog.clone())
        .expect("the sync stored do-main's catalog");
    // The sandbox's catalog; DigitalOcean's real one is measured in the unit tests.
    assert!(stored.len() < 64 * 1024, "{} bytes", stored.len());
    assert!(
        statuses
            .iter()
            .filter(|s| s.name != "do-main")
            .all(|s| s.catalog.is_none()),
        "only DigitalOcean has a plan-time catalog"
    );

    // The API function: the same store, no adapters.
    let api = live.with_docks(Docks::default(), Worker::Manual);
    api.sandbox.record_exchanges();
    let reply = api.get("/v1/plan?format=json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.text.contains("unknown size `s-1vcpu-1gbb`"),
        "the stored catalog was checked: {}",
        reply.text
    );
    assert!(reply.text.contains("s-1vcpu-1gb`?"), "{}", reply.text);
    assert_eq!(
        api.sandbox.exchanges().len(),
        0,
        "no provider request: {:?}",
        api.sandbox.exchanges()
    );
}
