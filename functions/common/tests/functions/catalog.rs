//! Issue 19, item 4: the API functions hold no provider secret. Their `Deps` have no dock
//! adapters (`Deps::from_env` resolves no credential when `STACKDOCK_API_ROUTES` is set); a plan
//! there checks each dock's catalog (Vultr, DigitalOcean, Linode) as the sync stored it and
//! sends no provider request.

use stackdock_engine::Docks;

use crate::support::{Live, ORG, Worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_in_the_api_checks_the_stored_catalog_and_sends_no_provider_request() {
    // worker-1's size, the Linode server's type and a Vultr image have typos the catalog
    // checks catch.
    let live = Live::with(
        |s| {
            s.replace("plan = \"s-1vcpu-1gb\"", "plan = \"s-1vcpu-1gbb\"")
                .replace("plan = \"g6-nanode-1\"", "plan = \"g6-nanode1\"")
                .replacen("image = \"os:2284\"", "image = \"os:2285\"", 1)
        },
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
    let mut with_catalog: Vec<&str> = statuses
        .iter()
        .filter(|s| s.catalog.is_some())
        .map(|s| s.name.as_str())
        .collect();
    with_catalog.sort_unstable();
    assert_eq!(
        with_catalog,
        ["do-main", "linode-main", "vultr-main"],
        "every server provider's catalog is stored"
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
    assert!(
        reply
            .text
            .contains("unknown type `g6-nanode1` for linode; did you mean `g6-nanode-1`?"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .text
            .contains("unknown image `os:2285` for vultr; did you mean `os:2284`?"),
        "{}",
        reply.text
    );
    assert_eq!(
        api.sandbox.exchanges().len(),
        0,
        "no provider request: {:?}",
        api.sandbox.exchanges()
    );
}
