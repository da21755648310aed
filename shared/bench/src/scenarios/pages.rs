//! `api-pages`: a 100,000-record inventory read through the API a page at a time (issue 20 item
//! 4): the largest response against the Function URL's 6 MB, and the requests against
//! ⌈records / limit⌉ (a page cut short by the byte budget costs one more).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use stackdock_core::Kind;
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_functions::{Deps, InProcessSubmitter, api};
use stackdock_store::{DockSync, KindListing};
use tower::ServiceExt as _;

use crate::fleet::{self, ORG};
use crate::report::Row;

/// The Function URL's response limit.
const FUNCTION_URL_LIMIT: f64 = 6_000_000.0;

/// What one walk of the pages saw.
#[derive(Debug, Clone, Copy)]
pub struct Walk {
    pub requests: usize,
    pub largest: usize,
    pub records: usize,
}

/// Stores `n` servers (the plan scenario's fleet, every record with a 2 KiB provider object) on
/// one store, then walks `/v1/inventory?limit=…` with and without `full=1`.
pub async fn run(n: usize) -> anyhow::Result<Vec<Row>> {
    let (config, inventory) = super::plan::inputs(n);
    let store = fleet::memory_store()?;
    let mut by_dock: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for mut r in inventory {
        r.full_api_data =
            serde_json::json!({ "id": r.provider_resource_id, "blob": "x".repeat(2048) }).into();
        by_dock
            .entry(r.dock_id.to_string())
            .or_default()
            .push(r.with_hash());
    }
    for (dock, records) in by_dock {
        let name = dock
            .split_once('/')
            .map_or(dock.as_str(), |(_, n)| n)
            .to_owned();
        let provider = records[0].provider;
        let now = jiff::Timestamp::now();
        let status = DockStatus {
            org_id: ORG.to_owned(),
            dock_id: dock.clone(),
            name: name.clone(),
            provider,
            last_sync_at: Some(now),
            last_attempt_at: Some(now),
            last_error: None,
            catalog: None,
            env_fingerprints: Default::default(),
        };
        store
            .commit_sync(DockSync {
                org_id: ORG.to_owned(),
                dock_id: dock_id(ORG, &name),
                status,
                listings: vec![KindListing {
                    kind: Kind::Servers,
                    records,
                    complete: true,
                    regions: None,
                    started_at: None,
                }],
                now,
            })
            .await
            .context("storing the fleet")?;
    }
    let docks = stackdock_engine::Docks::build(
        &config,
        &stackdock_engine::DefaultResolver::new(),
        &stackdock_engine::Adapters::default(),
    )
    .await;
    let deps = Deps::new(config, store, docks, Arc::new(InProcessSubmitter::new()));
    let mut rows = Vec::new();
    for (full, limit) in [(false, api::MAX_LIMIT), (true, api::MAX_LIMIT)] {
        let walk = walk(&deps, limit, full).await?;
        anyhow::ensure!(
            walk.records == n,
            "the pages held {} of {n} records",
            walk.records
        );
        let tag = if full { "full" } else { "records" };
        let bound = n.div_ceil(limit);
        rows.push(
            Row::new(
                format!("api-pages/{tag}/requests/{n}"),
                walk.requests as f64,
                bound as f64,
                "requests",
            )
            .note(format!(
                "limit={limit}{}; bound ⌈records / limit⌉; a page the 5 MiB budget cuts short costs one more",
                if full { "&full=1 (2 KiB provider objects)" } else { "" }
            )),
        );
        rows.push(
            Row::new(
                format!("api-pages/{tag}/largest/{n}"),
                walk.largest as f64,
                FUNCTION_URL_LIMIT,
                "bytes",
            )
            .ratio_at_most(1.0)
            .note("largest response body vs the Function URL's 6 MB"),
        );
    }
    Ok(rows)
}

async fn walk(deps: &Arc<Deps>, limit: usize, full: bool) -> anyhow::Result<Walk> {
    let router = api::router(deps.clone());
    let mut out = Walk {
        requests: 0,
        largest: 0,
        records: 0,
    };
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = format!("/v1/inventory?limit={limit}");
        if full {
            uri.push_str("&full=1");
        }
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let response = router
            .clone()
            .oneshot(Request::get(&uri).body(Body::empty())?)
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "{uri}: {}",
            response.status()
        );
        let bytes = response.into_body().collect().await?.to_bytes();
        out.requests += 1;
        out.largest = out.largest.max(bytes.len());
        let body: serde_json::Value = serde_json::from_slice(&bytes)?;
        out.records += body["records"].as_array().map_or(0, Vec::len);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(out),
        }
    }
}
