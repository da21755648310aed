//! `stackdock docks` and `stackdock docks test` against the sandbox: the account each credential
//! belongs to, the last sync and the resources, and a rejected token told apart.

use crate::support::{Workspace, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docks_show_their_accounts_syncs_and_resources() {
    let ws = Workspace::new().await;
    let before = ws.run(&["docks", "--format", "json"]).await;
    assert_eq!(before.status.code(), Some(0), "{}", text(&before.stderr));
    let docks: serde_json::Value = serde_json::from_slice(&before.stdout).expect("json");
    let by_name = |docks: &serde_json::Value, name: &str| {
        docks
            .as_array()
            .expect("array")
            .iter()
            .find(|d| d["dock"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no dock {name}: {docks}"))
    };
    let vultr = by_name(&docks, "vultr-main");
    assert_eq!(vultr["provider"], "vultr");
    assert_eq!(vultr["account"]["name"], "Sandbox Operations", "{vultr}");
    assert_eq!(vultr["account"]["balanceUsd"], -25.5, "{vultr}");
    assert_eq!(vultr["account"]["pendingUsd"], 18.42, "{vultr}");
    assert!(vultr["lastSyncAt"].is_null(), "never synced yet: {vultr}");
    let digitalocean = by_name(&docks, "do-main");
    assert_eq!(
        digitalocean["account"]["limits"]["droplet_limit"], 25,
        "{digitalocean}"
    );

    let sync = ws.run(&["sync"]).await;
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
    let after: serde_json::Value =
        serde_json::from_slice(&ws.run(&["docks", "--format", "json"]).await.stdout).expect("json");
    let vultr = by_name(&after, "vultr-main");
    assert!(vultr["lastSyncAt"].is_string(), "{vultr}");
    assert_eq!(
        vultr["resources"]["servers"], 3,
        "the fixtures' three instances: {vultr}"
    );

    let table = text(&ws.run(&["docks"]).await.stdout);
    assert!(
        table.contains("Sandbox Operations <ops@sandbox.example>")
            && table.contains("-25.50 USD (+18.42 pending)")
            && table.contains("droplet_limit 25")
            // Cloudflare's API token names no one; its status is what the provider reports.
            && table.contains("(no name reported; token active)"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docks_test_tells_a_rejected_token_apart() {
    let ws = Workspace::new().await;
    let all = ws.run(&["docks", "test"]).await;
    let out = text(&all.stdout);
    assert_eq!(all.status.code(), Some(0), "{out}{}", text(&all.stderr));
    assert_eq!(out.matches(": ok").count(), 5, "{out}");

    let wrong = "not-the-vultr-token-3b9d";
    let rejected = ws
        .run_with(
            &[("VULTR_API_KEY".to_owned(), wrong.to_owned())],
            &["docks", "test", "vultr-main"],
        )
        .await;
    let out = text(&rejected.stdout);
    assert_eq!(rejected.status.code(), Some(1), "{out}");
    assert!(out.starts_with("vultr-main: token rejected"), "{out}");
    assert!(!out.contains(wrong), "the token is never printed: {out}");

    let missing = ws.run(&["docks", "test", "vultr-mian"]).await;
    assert_eq!(missing.status.code(), Some(1));
    let err = text(&missing.stderr);
    assert!(
        err.contains("no dock `vultr-mian`") && err.contains("`vultr-main`"),
        "{err}"
    );
}
