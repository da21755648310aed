//! The read-only routes: a run, the inventory, the drift flags and health.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use stackdock_core::Kind;
use stackdock_core::record::{DockStatus, dock_id};

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

#[derive(Debug, Default, Deserialize)]
pub(super) struct InventoryQuery {
    kind: Option<String>,
    dock: Option<String>,
}

pub(super) async fn inventory(
    State(deps): State<Arc<Deps>>,
    query: Result<Query<InventoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|_| ApiError::bad_request("invalid_query", "expected ?kind=…&dock=…"))?;
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(Kind::parse(k).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!(
                    "unknown kind `{k}`; use one of {}",
                    Kind::ALL.map(Kind::config_key).join(", ")
                ),
            )
        })?),
    };
    let dock = match query.dock.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(d) if deps.config.docks.contains_key(d) => Some(dock_id(deps.org(), d)),
        Some(d) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "unknown dock `{d}`; the deployed config has {}",
                    deps.config
                        .docks
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    let records: Vec<_> = deps
        .store
        .inventory(deps.org(), dock.as_deref())
        .await?
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.kind() == k))
        .collect();
    Ok(Json(json!({ "count": records.len(), "records": records })))
}

pub(super) async fn drift(State(deps): State<Arc<Deps>>) -> Result<Json<Value>, ApiError> {
    let prefix = format!("{}/", deps.org());
    let drifted: Vec<Value> = deps
        .store
        .inventory(deps.org(), None)
        .await?
        .into_iter()
        .filter(|r| !r.drift.is_empty())
        .map(|r| {
            json!({
                "address": r.managed_by,
                "dock": r.dock_id.strip_prefix(&prefix).unwrap_or(&r.dock_id),
                "kind": r.kind().config_key(),
                "name": r.name,
                "providerResourceId": r.provider_resource_id,
                "drift": r.drift,
            })
        })
        .collect();
    Ok(Json(json!({ "count": drifted.len(), "drift": drifted })))
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
