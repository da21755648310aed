//! The paged read routes (issue 20 item 4): `/v1/inventory` and `/v1/drift` walk the fleet a page
//! at a time with an opaque cursor, every response stays under the Function URL's 6 MB, and
//! `fullApiData` comes only when asked.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::Value;
use stackdock_core::record::dock_id;
use stackdock_core::{FieldValue, Kind};
use stackdock_functions::api::MAX_RESPONSE_BYTES;

use axum::http::{Method, StatusCode};

use crate::support::{Live, ORG, deployed, signed};

/// Every page of `path` (which has a `?`), following `next_cursor`: the items under `field`, and
/// the largest body seen.
async fn walk(live: &Live, path: &str, field: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut largest = 0;
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let uri = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let reply = live.get(&uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
        largest = largest.max(reply.text.len());
        let body = reply.json();
        let page = body[field].as_array().expect("items").clone();
        assert_eq!(body["count"].as_u64(), Some(page.len() as u64));
        items.extend(page);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (items, largest),
        }
    }
    panic!("{path} never ended");
}

fn key(r: &Value) -> (String, String, String) {
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    (s("dockId"), s("kind"), s("providerResourceId"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_pages_cover_the_fleet_once_and_bring_provider_objects_only_when_asked() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let (one_page, _) = walk(&live, "/v1/inventory?limit=1000", "records").await;
    let everything: Vec<_> = one_page.iter().map(key).collect();
    assert!(everything.len() > 10, "{}", everything.len());
    for limit in [1, 3, 7] {
        let (paged, _) = walk(&live, &format!("/v1/inventory?limit={limit}"), "records").await;
        let keys: Vec<_> = paged.iter().map(key).collect();
        assert_eq!(
            keys, everything,
            "pages of {limit}: each record once, in order"
        );
    }
    assert!(
        one_page.iter().all(|r| r["fullApiData"].is_null()),
        "no provider object unless asked"
    );
    let (full, _) = walk(&live, "/v1/inventory?limit=1000&full=1", "records").await;
    assert!(
        full.iter().all(|r| r["fullApiData"].is_object()),
        "{full:?}"
    );

    let (servers, _) = walk(
        &live,
        "/v1/inventory?kind=servers&dock=vultr-main&limit=2",
        "records",
    )
    .await;
    assert!(!servers.is_empty());
    assert!(
        servers
            .iter()
            .all(|r| r["dockId"] == "acme/vultr-main" && r["kind"] == "servers")
    );

    for bad in [
        "/v1/inventory?limit=0",
        "/v1/inventory?limit=1001",
        "/v1/inventory?limit=ten",
        "/v1/inventory?full=yes",
        "/v1/inventory?cursor=not-a-cursor!",
        "/v1/drift?limit=0",
    ] {
        live.get(bad)
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_query");
    }
    // A cursor of another org is refused, not followed.
    let foreign = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}\nservers\nid-1",
        dock_id("globex", "vultr-main")
    ));
    let refused = live
        .get(&format!("/v1/inventory?cursor={foreign}"))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("next_cursor")),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_large_provider_objects_stays_under_the_function_url_limit() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    // 120 records whose provider objects are near the 64 KiB the store keeps: 7.5 MB together.
    let dock = dock_id(ORG, "vultr-main");
    let big: Vec<_> = (0..120)
        .map(|i| {
            let mut r = stackdock_store::conformance::full_record(
                Kind::Servers,
                ORG,
                &dock,
                &format!("big-{i:03}"),
            );
            r.full_api_data = serde_json::json!({ "id": i, "blob": "x".repeat(62 * 1024) }).into();
            r.with_hash()
        })
        .collect();
    live.store.put_records(&big).await.expect("seed");
    // The budget itself is below the Function URL's 6 MB.
    const { assert!(MAX_RESPONSE_BYTES < 6_000_000) };
    let (records, largest) = walk(&live, "/v1/inventory?limit=1000&full=1", "records").await;
    assert!(
        largest < MAX_RESPONSE_BYTES,
        "largest response {largest} bytes"
    );
    let ids: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r["providerResourceId"].as_str())
        .filter(|id| id.starts_with("big-"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        ids.len(),
        120,
        "every large record, across the pages the budget made"
    );
    let keys: Vec<_> = records.iter().map(key).collect();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "no record twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_pages_hold_only_drifted_records() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let (none, _) = walk(&live, "/v1/drift?limit=1", "drift").await;
    assert!(none.is_empty(), "{none:?}");
    // Flag three records as drifted, as a plan does.
    let mut flagged = live.store.inventory(ORG, None).await.expect("inventory");
    flagged.truncate(3);
    for r in &mut flagged {
        r.drift = vec![stackdock_core::record::DriftEntry {
            field: "plan".to_owned(),
            desired: Some(FieldValue::Str("a".into())),
            actual: Some(FieldValue::Str("b".into())),
        }];
    }
    live.store.put_records(&flagged).await.expect("flag");
    let (drift, _) = walk(&live, "/v1/drift?limit=1", "drift").await;
    let ids: Vec<&str> = drift
        .iter()
        .filter_map(|d| d["providerResourceId"].as_str())
        .collect();
    let expected: Vec<&str> = flagged
        .iter()
        .map(|r| r.provider_resource_id.as_str())
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_page_counts_what_the_inventory_holds() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let reply = live.get("/v1/report").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.content_type.starts_with("text/html"), "{reply:?}");
    let records = live.store.inventory(ORG, None).await.expect("inventory");
    let mut counts = std::collections::BTreeMap::new();
    for r in &records {
        *counts
            .entry(format!("{}/{}", r.provider, r.kind().config_key()))
            .or_insert(0) += 1;
    }
    assert!(counts.len() > 3);
    for (cell, n) in counts {
        assert!(
            reply
                .text
                .contains(&format!("<td data-count=\"{cell}\">{n}</td>")),
            "{cell}: {n}"
        );
    }
}

/// `GET /v1/runs` walks the audit log newest first a page at a time: run headers (no actions, no
/// log) each with the `url` that reads it whole; `kind` filters; a malformed cursor or an unknown
/// kind is a 400 that says what to do; the apply function does not serve the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_listed_newest_first_a_page_at_a_time() {
    use stackdock_store::{RunKind, RunRecord};
    let live = Live::new().await;
    let start = jiff::Timestamp::from_second(1_800_000_000).expect("time");
    let mut written = Vec::new();
    for i in 0..7_i64 {
        let kind = if i % 3 == 0 {
            RunKind::Apply
        } else {
            RunKind::Sync
        };
        let mut run = RunRecord::new(
            format!("run-{i}"),
            ORG,
            kind,
            "ci@runner",
            start + jiff::SignedDuration::from_secs(i * 60),
        );
        run.log(run.started_at, format!("line of run {i}"));
        live.store.put_run(&run).await.expect("put a run");
        written.push(run.run_id);
    }
    written.reverse();

    let (runs, _) = walk(&live, "/v1/runs?limit=2", "runs").await;
    let ids: Vec<&str> = runs.iter().filter_map(|r| r["runId"].as_str()).collect();
    assert_eq!(ids, written, "every run once, newest first");
    assert!(
        runs.iter()
            .all(|r| r.get("actions").is_none() && r.get("log").is_none()),
        "headers only"
    );
    assert_eq!(runs[0]["url"], "/v1/runs/run-6");
    let whole = live.get("/v1/runs/run-6").await.json();
    assert_eq!(whole["log"][0]["message"], "line of run 6", "{whole}");

    let (applies, _) = walk(&live, "/v1/runs?kind=apply&limit=1", "runs").await;
    let ids: Vec<&str> = applies.iter().filter_map(|r| r["runId"].as_str()).collect();
    assert_eq!(ids, ["run-6", "run-3", "run-0"], "only applies");

    let bad = live
        .get("/v1/runs?kind=deploy")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
    assert!(
        bad["message"]
            .as_str()
            .is_some_and(|m| m.contains("sync, plan, apply, unlock")),
        "{bad}"
    );
    live.get("/v1/runs?cursor=bm90LWEtY3Vyc29y")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
    live.get("/v1/runs?limit=0")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");
    live.call_with(
        deployed("apply", ROLE),
        signed(Method::GET, "/v1/runs", "", ROLE),
    )
    .await
    .error(StatusCode::FORBIDDEN, "route_not_served");
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ci/stackdock-apply";
