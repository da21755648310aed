//! `POST /v1/apply`: submits the reviewed plan (named by its digest) to the apply worker.
//!
//! Refused with 423 `locked` while another apply holds the org's lease, with 409 `stale_plan` when
//! the digest is no longer the current plan's. Otherwise a Pending apply run is recorded with the
//! caller as its actor and submitted: 202 `{"run_id"}`. The worker checks the digest again under
//! the lease, so a plan that changes after the 202 is still refused (the run says so).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use stackdock_engine::lease_name;

use super::{ApiError, ApiOptions, Caller, Routes, body};
use crate::{Deps, submit_apply};

#[derive(Debug, Deserialize)]
struct ApplyRequest {
    plan_digest: String,
}

/// `POST /v1/apply` on the plan function: refused before anything is read, recorded or submitted.
pub(super) async fn not_served(caller: Caller) -> ApiError {
    tracing::warn!(caller = %caller.0, "apply refused: the plan function does not serve it");
    ApiError::new(
        StatusCode::FORBIDDEN,
        "apply_not_served",
        "this is the plan function: it does not apply. Apply through the apply function's URL (stack output ApplyApiFunctionUrl), as a caller listed in the stack's ApplyCallers parameter",
    )
    .with("caller", caller.0)
}

/// Whether `caller` may apply: always on the apply function's allow-list; on a local run only
/// when a list is configured.
fn check_allowed(options: &ApiOptions, caller: &Caller) -> Result<(), ApiError> {
    let checked = options.routes == Routes::Apply || !options.apply_callers.is_empty();
    if !checked || options.apply_callers.allows(&caller.0) {
        return Ok(());
    }
    tracing::warn!(caller = %caller.0, "apply refused: caller not in STACKDOCK_APPLY_CALLERS");
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "apply_not_allowed",
        format!(
            "{} may not apply: add its ARN (for an assumed-role session, its role's ARN `arn:aws:iam::<account>:role/<name>`) to the stack's ApplyCallers parameter (STACKDOCK_APPLY_CALLERS) and deploy",
            caller.0
        ),
    )
    .with("caller", caller.0.clone()))
}

pub(super) async fn submit(
    State(deps): State<Arc<Deps>>,
    Extension(options): Extension<Arc<ApiOptions>>,
    caller: Caller,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_allowed(&options, &caller)?;
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
