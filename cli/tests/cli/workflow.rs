//! plan → apply → plan against the sandbox: exit codes, convergence of the example fleet, and a
//! stale saved plan refused with what changed.

use stackdock_sandbox::{Change, Mutation, Provider};

use crate::support::{Workspace, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fleet_converges_and_detailed_exitcode_says_so() {
    let ws = Workspace::new().await;
    let plan = ws.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.status.code(),
        Some(2),
        "changes present: {}\n{}",
        text(&plan.stdout),
        text(&plan.stderr)
    );
    assert!(
        text(&plan.stdout).contains("+ create servers.web-1"),
        "{}",
        text(&plan.stdout)
    );

    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    assert!(
        text(&apply.stdout).contains("Apply complete"),
        "{}",
        text(&apply.stdout)
    );

    let again = ws.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "no changes after apply: {}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );

    let inventory = ws
        .run(&["inventory", "--kind", "servers", "--format", "json"])
        .await;
    let records: serde_json::Value =
        serde_json::from_slice(&inventory.stdout).expect("json inventory");
    let managed = records
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| !r["managedBy"].is_null())
        .count();
    assert_eq!(
        managed, 4,
        "the four servers of the example fleet are managed"
    );
    for secret_free in [&inventory.stdout, &plan.stdout, &apply.stdout] {
        assert!(!text(secret_free).contains(stackdock_sandbox::SECRET_MARKER));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_once_the_inventory_changed() {
    let ws = Workspace::new().await;
    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));

    ws.append_config("\n[servers.web-3]\ndock = \"vultr-main\"\nregion = \"ewr\"\nplan = \"vc2-1c-1gb\"\nimage = \"os:2284\"\n");
    let saved = ws.run(&["plan", "--out", "plan.json"]).await;
    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved.stderr));
    assert!(ws.dir.path().join("plan.json").exists());

    // Someone renames web-1 in the Vultr console after the plan was reviewed.
    ws.sandbox
        .mutate(Mutation::new(
            Provider::Vultr,
            stackdock_sandbox::Kind::Instance,
            "web-1",
            Change::SetLabel {
                label: "web-1-renamed".into(),
            },
        ))
        .expect("out-of-band change");
    let stale = ws.run(&["apply", "plan.json"]).await;
    assert_eq!(stale.status.code(), Some(1));
    let err = text(&stale.stderr);
    assert!(err.contains("the saved plan is stale"), "{err}");
    assert!(
        err.contains("the inventory changed since the plan was made"),
        "{err}"
    );
    let web3 = ws
        .sandbox
        .resources(Provider::Vultr, stackdock_sandbox::Kind::Instance)
        .expect("instances");
    assert!(
        web3.find_by_label("web-3").is_none(),
        "nothing of the stale plan was applied"
    );
}

/// Issue 19 item 6: a record whose provider object was larger than the store keeps is listed, and
/// `inventory` says its fullApiData is truncated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_says_which_records_hold_a_truncated_provider_object() {
    use stackdock_store::Store as _;
    let ws = Workspace::new().await;
    let store = stackdock_store::SqliteStore::open(ws.db_path()).expect("open the store");
    let dock = stackdock_core::record::dock_id("acme", "vultr-main");
    let mut big = stackdock_store::conformance::server("acme", &dock, "big-1", "big", "ewr");
    big.full_api_data = serde_json::json!({ "id": "big-1", "blob": "x".repeat(1 << 20) }).into();
    let big = big.with_hash();
    big.full_api_data_truncated
        .then(|| panic!("not yet truncated"));
    store
        .put_records(&[big])
        .await
        .expect("write a record with a 1 MB object");
    drop(store);
    let out = ws.run(&["inventory"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(
            "fullApiData truncated to 64 KiB (the provider sent more) for: servers big-1"
        ),
        "{stdout}"
    );
}
