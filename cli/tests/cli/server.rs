//! `stackdock server reboot|power-on|power-off ADDRESS` against the sandbox and the embedded
//! store: refused for an unknown or unmanaged address with what to do, run under the apply lease
//! and written to the run log, and the plan afterwards showing the file's `power` again.

use stackdock_store::Store as _;

use crate::support::{Workspace, text};

/// The status of server `name` as a fresh sync lists it from the sandbox.
async fn listed_status(ws: &Workspace, name: &str) -> String {
    let sync = ws.run(&["sync"]).await;
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
    let out = ws
        .run(&["inventory", "--kind", "servers", "--format", "json"])
        .await;
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json inventory");
    let found = records
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no server {name}: {records}"));
    found["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_power_actions_refuse_unknown_and_unmanaged_addresses_then_run_under_the_lease() {
    let ws = Workspace::new().await;

    let unknown = ws.run(&["server", "reboot", "servers.web-9"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    let err = text(&unknown.stderr);
    assert!(
        err.contains("`servers.web-9` is not an entry of stackdock.toml"),
        "{err}"
    );
    assert!(
        err.contains("servers.web-1"),
        "the servers are listed: {err}"
    );

    let volume = ws
        .run(&["server", "reboot", "block_volumes.web-1-data"])
        .await;
    assert_eq!(volume.status.code(), Some(1));
    let err = text(&volume.stderr);
    assert!(err.contains("power actions apply to servers only"), "{err}");

    // Declared, but nothing is managed before the first apply.
    let unmanaged = ws.run(&["server", "power-off", "servers.web-1"]).await;
    assert_eq!(unmanaged.status.code(), Some(1));
    let err = text(&unmanaged.stderr);
    assert!(err.contains("not managed by StackDock yet"), "{err}");
    assert!(err.contains("stackdock apply"), "says what to do: {err}");
    let store = stackdock_store::SqliteStore::open(ws.db_path()).expect("store");
    assert!(
        store.list_runs("acme", 10).await.expect("runs").is_empty(),
        "a refused command writes no run"
    );
    drop(store);

    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    assert_eq!(listed_status(&ws, "web-1").await, "running");

    let off = ws
        .run(&["server", "power-off", "servers.web-1", "--format", "json"])
        .await;
    assert_eq!(off.status.code(), Some(0), "{}", text(&off.stderr));
    let json: serde_json::Value = serde_json::from_slice(&off.stdout).expect("json");
    assert_eq!(json["outcome"], "succeeded", "{json}");
    assert_eq!(json["status"], "stopped", "{json}");
    assert_eq!(json["sent"], true);
    assert!(
        json["note"]
            .as_str()
            .is_some_and(|n| n.contains("power = \"on\"")),
        "the file still says on: {json}"
    );
    assert_eq!(listed_status(&ws, "web-1").await, "stopped");

    // A stopped server has nothing to reboot: refused, recorded as a failed action.
    let reboot = ws.run(&["server", "reboot", "servers.web-1"]).await;
    assert_eq!(reboot.status.code(), Some(1));
    assert!(
        text(&reboot.stdout).contains("nothing to reboot"),
        "{}",
        text(&reboot.stdout)
    );

    // The file says `on` (the default): the plan powers it back on, and it is no drift, since
    // StackDock itself powered it off.
    let plan = ws.run(&["plan", "--format", "json"]).await;
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("json plan");
    let actions = plan["actions"].as_array().expect("actions");
    let update = actions
        .iter()
        .find(|a| a["action"] == "update" && a["address"] == "servers.web-1")
        .unwrap_or_else(|| panic!("an update of web-1: {plan}"));
    assert_eq!(update["changes"][0]["field"], "power", "{update}");
    assert_eq!(update["changes"][0]["before"], "off", "{update}");
    assert_eq!(update["changes"][0]["after"], "on", "{update}");
    assert!(
        !actions.iter().any(|a| a["action"] == "drift"),
        "no drift: {plan}"
    );

    let on = ws.run(&["server", "power-on", "servers.web-1"]).await;
    assert_eq!(on.status.code(), Some(0), "{}", text(&on.stderr));
    assert!(
        text(&on.stdout).contains("powered on (now running)"),
        "{}",
        text(&on.stdout)
    );
    let again = ws.run(&["server", "power-on", "servers.web-1"]).await;
    assert!(text(&again.stdout).contains("already running: nothing sent"));
    let reboot = ws.run(&["server", "reboot", "servers.web-1"]).await;
    assert_eq!(reboot.status.code(), Some(0), "{}", text(&reboot.stderr));
    assert!(text(&reboot.stdout).contains("rebooted"));
    let sent = ws.sandbox.counters();
    assert_eq!(sent.route("POST /vultr/v2/instances/{id}/halt"), 1);
    assert_eq!(sent.route("POST /vultr/v2/instances/{id}/start"), 1);
    assert_eq!(sent.route("POST /vultr/v2/instances/{id}/reboot"), 1);

    // Every command that got the lease is an apply run with its action; the lease is released.
    let store = stackdock_store::SqliteStore::open(ws.db_path()).expect("store");
    let runs = store.list_runs("acme", 50).await.expect("runs");
    let power_runs: Vec<(String, String)> = runs
        .iter()
        .flat_map(|r| r.actions.iter())
        .filter(|a| a.target == "servers.web-1" && a.action != "create")
        .map(|a| (a.action.clone(), format!("{:?}", a.outcome)))
        .collect();
    for expected in ["power-off", "reboot", "power-on"] {
        assert!(
            power_runs.iter().any(|(a, _)| a == expected),
            "{expected} recorded: {power_runs:?}"
        );
    }
    assert!(
        runs.iter().any(|r| r.log.iter().any(|l| l
            .message
            .contains("stackdock server power-off servers.web-1"))),
        "the run log names the command"
    );
    let lease = store
        .acquire_lease(
            &stackdock_engine::lease_name("acme"),
            "test",
            std::time::Duration::from_secs(5),
            jiff::Timestamp::now(),
        )
        .await;
    assert!(lease.is_ok(), "the lease was released: {lease:?}");
}
