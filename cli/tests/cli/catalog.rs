//! `stackdock catalog DOCK regions|plans|images|apps` against the sandbox: each provider's
//! catalog read through its API, stored for a day (a second call sends no request), read again
//! with `--refresh`, and refused for a provider without one.

use crate::support::{Workspace, text};

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_of_every_provider_are_read_once_and_kept() {
    let ws = Workspace::new().await;
    let plans = json_of(
        &ws.run(&["catalog", "vultr-main", "plans", "--format", "json"])
            .await,
    );
    assert_eq!(plans["dock"], "vultr-main");
    assert_eq!(plans["provider"], "vultr");
    assert_eq!(plans["section"], "plans");
    assert!(plans["fetchedAt"].is_string(), "{plans}");
    let first = &plans["items"][0];
    for key in [
        "id",
        "vcpus",
        "memoryMb",
        "diskGb",
        "monthlyUsd",
        "available",
        "regions",
    ] {
        assert!(first.get(key).is_some(), "every plan has `{key}`: {first}");
    }
    assert!(ids(&plans).contains(&"vc2-1c-1gb".to_owned()), "{plans}");
    let hf = plans["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["id"] == "vhf-1c-1gb")
        .expect("a high-frequency plan");
    assert_eq!(hf["regions"].as_array().map(Vec::len), Some(6), "{hf}");

    // Stored: every section of the dock comes from the store for a day, without a request.
    let before = ws.sandbox.counters().total;
    let apps = json_of(
        &ws.run(&["catalog", "vultr-main", "apps", "--format", "json"])
            .await,
    );
    assert!(ids(&apps).contains(&"app:37".to_owned()), "{apps}");
    assert!(
        ids(&apps).contains(&"image:openlitespeed-wordpress".to_owned()),
        "{apps}"
    );
    let images = text(&ws.run(&["catalog", "vultr-main", "images"]).await.stdout);
    assert!(
        images.contains("os:2284") && images.contains("Ubuntu 24.04 LTS x64"),
        "{images}"
    );
    assert!(images.contains("the stored copy"), "{images}");
    assert_eq!(
        ws.sandbox.counters().total,
        before,
        "no request while stored"
    );

    // --refresh reads it again: the four listings.
    let refreshed = ws
        .run(&["catalog", "vultr-main", "regions", "--refresh"])
        .await;
    let out = text(&refreshed.stdout);
    assert_eq!(
        refreshed.status.code(),
        Some(0),
        "{}",
        text(&refreshed.stderr)
    );
    assert!(
        out.contains("ewr") && out.contains("New Jersey, US"),
        "{out}"
    );
    assert!(out.contains("read from the provider now"), "{out}");
    assert_eq!(ws.sandbox.counters().total, before + 4);

    let sizes = json_of(
        &ws.run(&["catalog", "do-main", "plans", "--format", "json"])
            .await,
    );
    assert!(ids(&sizes).contains(&"s-1vcpu-1gb".to_owned()), "{sizes}");
    let one_clicks = json_of(
        &ws.run(&["catalog", "do-main", "apps", "--format", "json"])
            .await,
    );
    assert_eq!(
        ids(&one_clicks),
        ["wordpress-24-04", "docker-20-04", "lamp-24-04"],
        "droplet 1-Clicks only"
    );

    let types = text(&ws.run(&["catalog", "linode-main", "plans"]).await.stdout);
    assert!(types.contains("g6-nanode-1"), "{types}");
    let scripts = json_of(
        &ws.run(&["catalog", "linode-main", "apps", "--format", "json"])
            .await,
    );
    // The account's own StackScripts and Linode's, not every public one.
    assert_eq!(
        ids(&scripts),
        ["401697", "607026", "913277", "1000002"],
        "{scripts}"
    );

    let none = ws.run(&["catalog", "cloudflare-main", "regions"]).await;
    assert_eq!(none.status.code(), Some(1));
    assert!(
        text(&none.stderr).contains("Cloudflare docks have no catalog"),
        "{}",
        text(&none.stderr)
    );
    let typo = ws.run(&["catalog", "vultr-mian", "regions"]).await;
    assert_eq!(typo.status.code(), Some(1));
    assert!(text(&typo.stderr).contains("no dock `vultr-mian`"));
}

/// A create Vultr refuses shows as `failed` with Vultr's error in `stackdock inventory`; the next
/// apply creates it and the failure is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_is_shown_failed_by_the_inventory_until_it_succeeds() {
    use stackdock_sandbox::{Fault, FaultRule};
    let ws = Workspace::new().await;
    ws.sandbox.set_faults(vec![FaultRule::new(
        "POST /vultr/v2/instances",
        Fault::Status { code: 400 },
    )]);
    let apply = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply.stdout));
    let inventory = ws.run(&["inventory", "--kind", "servers"]).await;
    let out = text(&inventory.stdout);
    assert!(
        out.lines().any(|l| l.contains("web-1")
            && l.contains("failed")
            && l.contains("failed:servers.web-1")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("servers.web-1 failed: ") && l.contains("HTTP 400")),
        "{out}"
    );

    ws.sandbox.set_faults(Vec::new());
    let again = ws.run(&["apply", "--auto-approve"]).await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );
    let out = text(&ws.run(&["inventory", "--kind", "servers"]).await.stdout);
    assert!(!out.contains(" failed: "), "{out}");
}
