//! `POST /v1/apply`: submits the reviewed plan (named by its digest) to the apply worker.
//!
//! Refused with 423 `locked` while another apply holds the org's lease, with 409 `stale_plan` when
//! the digest is no longer the current plan's. Otherwise a Pending apply run is recorded with the
//! caller as its actor and submitted: 202 `{"run_id"}`. The worker checks the digest again under
//! the lease, so a plan that changes after the 202 is still refused (the run says so).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use stackdock_engine::lease_name;

use super::{ApiError, Caller, body};
use crate::{Deps, submit_apply};

#[derive(Debug, Deserialize)]
struct ApplyRequest {
    plan_digest: String,
}

pub(super) async fn submit(
    State(deps): State<Arc<Deps>>,
    caller: Caller,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let bytes = body(bytes)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body is not JSON: {e}")))?;
    let request: ApplyRequest = serde_json::from_value(value).map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "expected {\"plan_digest\": \"…\"}: the digest of the plan you reviewed (GET /v1/plan)",
        )
    })?;

    let org = deps.org();
    if let Some(lease) = deps.store.current_lease(&lease_name(org)).await?
        && lease.expires_at > Timestamp::now()
    {
        return Err(ApiError::new(
            StatusCode::LOCKED,
            "locked",
            format!(
                "another apply holds the lease of org {org} ({} until {}); wait for it to finish, then review the plan again",
                lease.owner, lease.expires_at
            ),
        )
        .with("holder", lease.owner)
        .with("expires_at", lease.expires_at.to_string()));
    }

    let plan = deps.plan_deployed().await?;
    if plan.digest != request.plan_digest {
        let reasons = deps.recent_plans.reasons(&request.plan_digest, &plan);
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "stale_plan",
            "the plan you reviewed is no longer the current plan; review GET /v1/plan again and submit its digest",
        )
        .with("reasons", reasons)
        .with("current_digest", plan.digest.clone()));
    }
    deps.remember(&plan);

    let run_id = submit_apply(&deps, &plan.digest, &caller.0).await?;
    tracing::info!(run_id = %run_id, actor = %caller.0, "apply accepted");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "run_id": run_id,
            "status": "pending",
            "run": format!("/v1/runs/{run_id}"),
        })),
    ))
}
