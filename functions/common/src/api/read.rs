//! The read-only routes: a run, the inventory, the drift flags and health.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_core::{ApiData, Kind};
use stackdock_store::{PageRequest, RunCursor, RunKind, RunsRequest};

use super::ApiError;
use crate::Deps;

pub(super) async fn run(
    State(deps): State<Arc<Deps>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match deps.store.get_run(deps.org(), &id).await? {
        Some(run) => Ok(Json(
            serde_json::to_value(run).map_err(|e| ApiError::internal(&e))?,
        )),
        None => Err(ApiError::not_found(
            "run_not_found",
            format!("no run {id} in org {}", deps.org()),
        )),
    }
}

/// The largest page a caller may ask for.
pub const MAX_LIMIT: usize = 1000;
/// The page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 200;
/// Every response's body stays under this many bytes (a Function URL answers at most 6 MB): a page
/// stops before the record that would cross it, and says where to continue.
pub const MAX_RESPONSE_BYTES: usize = 5 * 1024 * 1024;
/// The most records one `/v1/drift` response reads looking for drift: its time stays bounded
/// however little of the fleet drifted.
pub const MAX_DRIFT_SCAN: usize = 5000;
/// Records read per store page while looking for drift.
const DRIFT_SCAN_PAGE: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(super) struct InventoryQuery {
    kind: Option<String>,
    dock: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    full: Option<String>,
}

/// A checked query: the page to read and whether `fullApiData` is wanted.
struct Paging {
    request: PageRequest,
    full: bool,
}

impl InventoryQuery {
    fn paging(&self, deps: &Deps) -> Result<Paging, ApiError> {
        let invalid = |m: String| ApiError::bad_request("invalid_query", m);
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                invalid(format!(
                    "unknown kind `{k}`; use one of {}",
                    Kind::ALL.map(Kind::config_key).join(", ")
                ))
            })?),
        };
        let dock_id = match self.dock.as_deref().filter(|d| !d.is_empty()) {
            None => None,
            Some(d) if deps.config.docks.contains_key(d) => Some(dock_id(deps.org(), d)),
            Some(d) => {
                return Err(invalid(format!(
                    "unknown dock `{d}`; the deployed config has {}",
                    deps.config
                        .docks
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let limit = limit(self.limit.as_deref())?;
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(cursor::decode(c, deps.org()).ok_or_else(foreign_cursor)?),
        };
        let full = match self.full.as_deref() {
            None | Some("" | "0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "`full={other}`: use `full=1` or leave it out"
                )));
            }
        };
        Ok(Paging {
            request: PageRequest {
                dock_id,
                kind,
                after,
                limit,
            },
            full,
        })
    }
}

/// A page's `limit`: [`DEFAULT_LIMIT`] when not given, else a number from 1 to [`MAX_LIMIT`].
fn limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "invalid_query",
                format!("`limit={l}` is not a number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

fn foreign_cursor() -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        "`cursor` is not one this API gave; pass the `next_cursor` of the previous page unchanged, or leave it out to start over",
    )
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RunsQuery {
    kind: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /v1/runs?kind=&limit=&cursor=`: one page of the audit log, newest first, each run as its
/// header (no actions, no log: `GET /v1/runs/{id}` reads one whole) with its `url`;
/// `next_cursor` when more may follow.
pub(super) async fn runs(
    State(deps): State<Arc<Deps>>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query
        .map_err(|_| ApiError::bad_request("invalid_query", "expected ?kind=…&limit=…&cursor=…"))?;
    let kinds = [
        RunKind::Sync,
        RunKind::Plan,
        RunKind::Apply,
        RunKind::Unlock,
    ];
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            kinds
                .into_iter()
                .find(|candidate| candidate.as_str() == k)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!(
                            "unknown run kind `{k}`; use one of {}",
                            kinds.map(RunKind::as_str).join(", ")
                        ),
                    )
                })?,
        ),
    };
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(cursor::decode_run(c).ok_or_else(foreign_cursor)?),
    };
    let request = RunsRequest {
        kind,
        after,
        limit: limit(query.limit.as_deref())?,
    };
    let page = deps.store.runs_page(deps.org(), &request).await?;
    let mut body = Page::default();
    let mut next = page.next;
    let mut last_kept = None;
    for run in page.runs {
        let cursor = RunCursor::of(&run);
        let mut value = serde_json::to_value(&run).map_err(|e| ApiError::internal(&e))?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove("actions");
            fields.remove("log");
            fields.insert("url".into(), format!("/v1/runs/{}", run.run_id).into());
        }
        if !body.push(value) {
            // Cut short by the byte budget: continue after the last run it holds.
            next = last_kept;
            break;
        }
        last_kept = Some(cursor);
    }
    Ok(Json(json!({
        "count": body.items.len(),
        "runs": body.items,
        "next_cursor": next.map(|c| cursor::encode_run(&c)),
    })))
}

/// `GET /v1/inventory?kind=&dock=&limit=&cursor=&full=`: one page of records, `next_cursor` when
/// more may follow, `fullApiData` only with `full=1`; under [`MAX_RESPONSE_BYTES`] whatever the fleet.
pub(super) async fn inventory(
    State(deps): State<Arc<Deps>>,
    query: Result<Query<InventoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "expected ?kind=…&dock=…&limit=…&cursor=…&full=1",
        )
    })?;
    let Paging { request, full } = query.paging(&deps)?;
    let page = deps.store.inventory_page(deps.org(), &request).await?;
    let mut body = Page::default();
    let mut stopped_at = None;
    for mut record in page.records {
        let key = record.key();
        if !full {
            record.full_api_data = ApiData::null();
        }
        let value = serde_json::to_value(&record).map_err(|e| ApiError::internal(&e))?;
        if !body.push(value) {
            break;
        }
        stopped_at = Some(key);
    }
    // A page cut short by the byte budget continues after its last record; a full one after the
    // store's `next`.
    let next = if body.full { stopped_at } else { page.next };
    Ok(Json(json!({
        "count": body.items.len(),
        "records": body.items,
        "next_cursor": next.map(|k| cursor::encode(&k)),
    })))
}

/// `GET /v1/drift?limit=&cursor=`: the flagged records, a page at a time (at most `limit`
/// entries, reading at most [`MAX_DRIFT_SCAN`] records).
pub(super) async fn drift(
    State(deps): State<Arc<Deps>>,
    query: Result<Query<InventoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|_| ApiError::bad_request("invalid_query", "expected ?limit=…&cursor=…"))?;
    let Paging { mut request, .. } = query.paging(&deps)?;
    let limit = request.limit;
    let prefix = format!("{}/", deps.org());
    let mut body = Page::default();
    let mut scanned = 0;
    let mut next = None;
    'pages: loop {
        // Records are read in pages of their own size: `limit` counts drifted entries.
        request.limit = DRIFT_SCAN_PAGE.min(MAX_DRIFT_SCAN - scanned).max(1);
        let page = deps.store.inventory_page(deps.org(), &request).await?;
        scanned += page.records.len();
        for r in page.records {
            let key = r.key();
            if !r.drift.is_empty() {
                let entry = json!({
                    "address": r.managed_by,
                    "dock": r.dock_id.strip_prefix(&prefix).unwrap_or(&r.dock_id),
                    "kind": r.kind().config_key(),
                    "name": r.name,
                    "providerResourceId": r.provider_resource_id,
                    "drift": r.drift,
                });
                if !body.push(entry) || body.items.len() == limit {
                    next = Some(key);
                    break 'pages;
                }
            }
            next = Some(key);
        }
        match page.next {
            Some(after) if scanned < MAX_DRIFT_SCAN => request.after = Some(after),
            Some(_) => break,
            None => {
                next = None;
                break;
            }
        }
    }
    Ok(Json(json!({
        "count": body.items.len(),
        "drift": body.items,
        "next_cursor": next.map(|k| cursor::encode(&k)),
    })))
}

/// A response's items, kept under [`MAX_RESPONSE_BYTES`].
#[derive(Default)]
struct Page {
    items: Vec<Value>,
    bytes: usize,
    /// An item was refused: the body is as large as it may be.
    full: bool,
}

impl Page {
    /// Adds `item` unless it would take the body past the budget (the first item always fits:
    /// a record's `fullApiData` is at most 64 KiB).
    fn push(&mut self, item: Value) -> bool {
        let size = item.to_string().len() + 1;
        if !self.items.is_empty() && self.bytes + size > MAX_RESPONSE_BYTES - 4096 {
            self.full = true;
            return false;
        }
        self.bytes += size;
        self.items.push(item);
        true
    }
}

/// The opaque `cursor`: the key of the last record a page returned, base64url of
/// `org \n dock \n kind \n id`, refused for another org.
mod cursor {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use stackdock_core::Kind;
    use stackdock_core::record::RecordKey;
    use stackdock_store::RunCursor;

    pub(super) fn encode(key: &RecordKey) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}\n{}\n{}",
            key.dock_id,
            key.kind.table(),
            key.provider_resource_id
        ))
    }

    /// A runs cursor: `runs` and the last run's sort key (start and id).
    pub(super) fn encode_run(after: &RunCursor) -> String {
        URL_SAFE_NO_PAD.encode(format!("runs\n{}", after.sort_key()))
    }

    /// The store reads only the caller's org, so a cursor carries no org: one made for another
    /// org's log only says where to start in this one.
    pub(super) fn decode_run(cursor: &str) -> Option<RunCursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        RunCursor::parse_sort_key(text.strip_prefix("runs\n")?)
    }

    pub(super) fn decode(cursor: &str, org: &str) -> Option<RecordKey> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = text.splitn(3, '\n');
        let (dock_id, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        if !dock_id.starts_with(&format!("{org}/")) {
            return None;
        }
        Some(RecordKey {
            dock_id: dock_id.to_owned(),
            kind: Kind::parse(kind)?,
            provider_resource_id: id.to_owned(),
        })
    }
}

pub(super) async fn health(State(deps): State<Arc<Deps>>) -> Result<Json<Value>, ApiError> {
    let statuses = deps
        .store
        .dock_statuses(deps.org())
        .await
        .map_err(|e| ApiError::store_unavailable(&e))?;
    Ok(Json(json!({
        "status": "ok",
        "org": deps.org(),
        "config": "loaded",
        "config_digest": deps.config.digest(),
        "store": "reachable",
        "docks": deps.config.docks.len(),
        "docks_synced": statuses.iter().filter(|s| s.last_sync_at.is_some()).count(),
        "docks_unavailable": unavailable(&deps, &statuses),
    })))
}

/// The configured docks that cannot be trusted now: a credential this process could not resolve,
/// or a last sync attempt that failed (from the stored statuses, so the API functions, which
/// resolve no credential, report what the sync saw).
fn unavailable<'d>(deps: &'d Deps, statuses: &'d [DockStatus]) -> Vec<&'d str> {
    let failed = statuses
        .iter()
        .filter(|s| s.last_error.is_some())
        .map(|s| s.name.as_str());
    let names: std::collections::BTreeSet<&str> = deps
        .docks
        .failures
        .keys()
        .map(String::as_str)
        .chain(failed)
        .filter(|name| deps.config.docks.contains_key(*name))
        .collect();
    names.into_iter().collect()
}
