//! The Function URL API: an axum `Router` that `lambda_http::run` serves.
//!
//! | route | answers |
//! |---|---|
//! | `GET /v1/plan?format=json\|markdown\|text` | 200 the deployed config's plan |
//! | `POST /v1/plan` (body: a proposed stackdock.toml) | 200 its plan; 400 `invalid_config` with diagnostics |
//! | `POST /v1/apply` (body: `{"plan_digest": …}`) | 202 `{"run_id"}`; 409 `stale_plan`; 423 `locked` |
//! | `GET /v1/runs?kind=&limit=&cursor=` | 200 a page of the audit log, newest first (run headers, each with its `url`), and `next_cursor` |
//! | `GET /v1/runs/{id}` | 200 the run record; 404 `run_not_found` |
//! | `GET /v1/inventory?kind=&dock=&limit=&cursor=&full=1` | 200 a page of the stored records and `next_cursor`; `fullApiData` only with `full=1` |
//! | `GET /v1/drift?limit=&cursor=` | 200 a page of the records the last plan flagged, and `next_cursor` |
//! | `GET /v1/report` | 200 the fleet report page (`text/html`, self-contained; at most 2,000 rows per kind) |
//! | `GET /v1/health` | 200 when the config is loaded and the store answers; 503 otherwise |
//!
//! Every error is `{"code": snake_case, "message": …}`: 400 `invalid_json`, `invalid_request`,
//! `invalid_query`; 401 `no_caller`; 403 `apply_not_served`, `apply_not_allowed`,
//! `route_not_served`; 404 `not_found`; 405 `method_not_allowed`; 413 `body_too_large`.
//! Nothing here applies: `POST /v1/apply` records a Pending run and submits it to the worker.
//!
//! Which routes are served, and to whom, is fixed at start by [`ApiOptions`] (`access.rs`): the
//! plan function (`STACKDOCK_API_ROUTES=plan`) answers `POST /v1/apply` with 403
//! `apply_not_served`; the apply function (`apply`) serves only `POST /v1/apply`, `GET /v1/plan`,
//! `GET /v1/runs/{id}` and `GET /v1/health`, and applies only for `STACKDOCK_APPLY_CALLERS`.

mod access;
mod apply;
mod caller;
mod error;
mod plan;
mod read;
mod report;

pub use read::{DEFAULT_LIMIT, MAX_DRIFT_SCAN, MAX_LIMIT, MAX_RESPONSE_BYTES};

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Router};

pub use access::{APPLY_CALLERS_VAR, ApiOptions, ApplyCallers, ROUTES_VAR, Routes};
pub use caller::Caller;
pub use error::ApiError;

use crate::Deps;

/// Largest request body accepted (a proposed stackdock.toml is a few KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's router over `deps`, serving every route to every caller: a local run (tests,
/// `cargo lambda watch`). Deployed functions use [`router_with`] and [`ApiOptions::from_env`].
pub fn router(deps: Arc<Deps>) -> Router {
    router_with(deps, ApiOptions::local())
}

/// The API's router over `deps`, serving the routes of `options` to the callers it admits.
pub fn router_with(deps: Arc<Deps>, options: ApiOptions) -> Router {
    let routes = options.routes;
    let plan_post: MethodRouter<Arc<Deps>> = match routes {
        Routes::Apply => post(not_served),
        Routes::All | Routes::Plan => post(plan::proposed),
    };
    let apply_post: MethodRouter<Arc<Deps>> = match routes {
        Routes::Plan => post(apply::not_served),
        Routes::All | Routes::Apply => post(apply::submit),
    };
    let (inventory, drift, report, runs): (MethodRouter<Arc<Deps>>, _, _, _) = match routes {
        Routes::Apply => (
            get(not_served),
            get(not_served),
            get(not_served),
            get(not_served),
        ),
        Routes::All | Routes::Plan => (
            get(read::inventory),
            get(read::drift),
            get(report::page),
            get(read::runs),
        ),
    };
    let options = Arc::new(options);
    let identify = {
        let options = options.clone();
        move |request, next| caller::identify(options.as_ref().clone(), request, next)
    };
    Router::new()
        .route("/v1/plan", get(plan::current).merge(plan_post))
        .route("/v1/apply", apply_post)
        .route("/v1/runs", runs)
        .route("/v1/runs/{id}", get(read::run))
        .route("/v1/inventory", inventory)
        .route("/v1/drift", drift)
        .route("/v1/report", report)
        .route("/v1/health", get(read::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(identify))
        .layer(Extension(options))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(deps)
}

/// A route the apply function does not serve: it belongs to the plan function.
async fn not_served(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "route_not_served",
        format!(
            "{method} {} is not served by the apply function; call the plan function's URL (stack output ApiFunctionUrl)",
            uri.path()
        ),
    )
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        "not_found",
        format!(
            "no route for {method} {}; the API serves /v1/plan, /v1/apply, /v1/runs, /v1/runs/{{id}}, /v1/inventory, /v1/drift, /v1/report and /v1/health",
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
