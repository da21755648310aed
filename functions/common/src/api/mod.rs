//! The Function URL API: an axum `Router` that `lambda_http::run` serves.
//!
//! | route | answers |
//! |---|---|
//! | `GET /v1/plan?format=json\|markdown\|text` | 200 the deployed config's plan |
//! | `POST /v1/plan` (body: a proposed stackdock.toml) | 200 its plan; 400 `invalid_config` with diagnostics |
//! | `POST /v1/apply` (body: `{"plan_digest": …}`) | 202 `{"run_id"}`; 409 `stale_plan`; 423 `locked` |
//! | `GET /v1/runs/{id}` | 200 the run record; 404 `run_not_found` |
//! | `GET /v1/inventory?kind=&dock=` | 200 the stored records |
//! | `GET /v1/drift` | 200 the records the last plan flagged |
//! | `GET /v1/health` | 200 when the config is loaded and the store answers; 503 otherwise |
//!
//! Every error is `{"code": snake_case, "message": …}`: 400 `invalid_json`, `invalid_request`,
//! `invalid_query`; 404 `not_found`; 405 `method_not_allowed`; 413 `body_too_large`.
//! Nothing here applies: `POST /v1/apply` records a Pending run and submits it to the worker.

mod apply;
mod caller;
mod error;
mod plan;
mod read;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};

pub use caller::Caller;
pub use error::ApiError;

use crate::Deps;

/// Largest request body accepted (a proposed stackdock.toml is a few KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's router over `deps`.
pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/plan", get(plan::current).post(plan::proposed))
        .route("/v1/apply", post(apply::submit))
        .route("/v1/runs/{id}", get(read::run))
        .route("/v1/inventory", get(read::inventory))
        .route("/v1/drift", get(read::drift))
        .route("/v1/health", get(read::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(deps)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        "not_found",
        format!(
            "no route for {method} {}; the API serves /v1/plan, /v1/apply, /v1/runs/{{id}}, /v1/inventory, /v1/drift and /v1/health",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}

/// The request body, or the error for one that is too large or unreadable.
fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::bad_request("invalid_body", "the request body could not be read")
        }
    })
}
