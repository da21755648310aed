//! The control API under `/_sandbox/`, so another process (the CLI quick start, a
//! shell script) can inspect counters, inject faults and make out-of-band changes.
//! No authentication (the server only listens on 127.0.0.1); not counted.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | GET | `/_sandbox/` | endpoints and tokens per provider |
//! | GET | `/_sandbox/counters` | [`Counters`](crate::Counters) |
//! | DELETE | `/_sandbox/counters` | zero the counters |
//! | GET | `/_sandbox/faults` | active rules |
//! | POST | `/_sandbox/faults` | a [`FaultRule`](crate::FaultRule) or an array of them (appended) |
//! | DELETE | `/_sandbox/faults` | remove all rules |
//! | POST | `/_sandbox/mutate` | a [`Mutation`](crate::Mutation) |
//! | POST | `/_sandbox/reset` | reset counters, faults, limits, latency and resources |
//! | POST | `/_sandbox/seed` | `{"fixtures": true}` or `{"provider": "vultr", "kind": "instance", "count": 2000}` |
//! | GET | `/_sandbox/resources/{provider}/{kind}` | [`Resources`](crate::Resources) |
//! | POST | `/_sandbox/latency` | `{"ms": 250}` |
//! | POST | `/_sandbox/rate-limit/{provider}` | a [`RateLimit`](crate::RateLimit) |
//! | DELETE | `/_sandbox/rate-limit/{provider}` | remove the provider's limit |

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::{Counters, FaultRule, RateLimit};
use crate::http::json;
use crate::server::{App, lock};
use crate::state::Mutation;
use crate::{Kind, Provider, SandboxError};

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/_sandbox", get(index))
        .route("/_sandbox/", get(index))
        .route("/_sandbox/counters", get(counters).delete(reset_counters))
        .route(
            "/_sandbox/faults",
            get(faults).post(add_faults).delete(clear_faults),
        )
        .route("/_sandbox/mutate", post(mutate))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/seed", post(seed))
        .route("/_sandbox/resources/{provider}/{kind}", get(resources))
        .route("/_sandbox/latency", post(latency))
        .route(
            "/_sandbox/rate-limit/{provider}",
            post(set_rate_limit).delete(clear_rate_limit),
        )
}

fn fail(status: StatusCode, message: &str) -> Response {
    json(status, &json!({"error": message}))
}

fn ok() -> Response {
    json(StatusCode::OK, &json!({"ok": true}))
}

fn sandbox_error(err: &SandboxError) -> Response {
    let status = match err {
        SandboxError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    fail(status, &err.to_string())
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(bytes)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, &format!("invalid body: {e}")))
}

async fn index(State(app): State<App>) -> Response {
    let providers: Vec<Value> = Provider::ALL
        .iter()
        .map(|p| {
            json!({
                "provider": p.name(),
                "endpoint": format!("{}{}", app.base, p.prefix()),
                "token": app.token(*p),
            })
        })
        .collect();
    json(StatusCode::OK, &json!({"providers": providers}))
}

async fn counters(State(app): State<App>) -> Response {
    let snapshot = lock(&app.counters).clone();
    json(
        StatusCode::OK,
        &serde_json::to_value(snapshot).unwrap_or(Value::Null),
    )
}

async fn reset_counters(State(app): State<App>) -> Response {
    *lock(&app.counters) = Counters::default();
    ok()
}

async fn faults(State(app): State<App>) -> Response {
    let rules = lock(&app.faults).rules();
    json(StatusCode::OK, &json!({"faults": rules}))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<FaultRule>),
    One(FaultRule),
}

async fn add_faults(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let rules = match parse::<OneOrMany>(&body)? {
        OneOrMany::Many(r) => r,
        OneOrMany::One(r) => vec![r],
    };
    let mut set = lock(&app.faults);
    set.add(rules);
    Ok(json(StatusCode::OK, &json!({"faults": set.rules()})))
}

async fn clear_faults(State(app): State<App>) -> Response {
    lock(&app.faults).clear();
    ok()
}

async fn mutate(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let m: Mutation = parse(&body)?;
    app.state().mutate(&m).map_err(|e| sandbox_error(&e))?;
    Ok(ok())
}

async fn reset(State(app): State<App>) -> Response {
    app.reset();
    ok()
}

#[derive(Deserialize)]
struct SeedBody {
    #[serde(default)]
    fixtures: bool,
    provider: Option<Provider>,
    kind: Option<Kind>,
    #[serde(default)]
    count: usize,
}

async fn seed(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let req: SeedBody = parse(&body)?;
    if req.fixtures {
        app.seed_fixtures();
    }
    if let (Some(p), Some(k)) = (req.provider, req.kind) {
        app.seed_bulk(p, k, req.count)
            .map_err(|e| sandbox_error(&e))?;
    }
    Ok(ok())
}

async fn resources(
    State(app): State<App>,
    Path((provider, kind)): Path<(String, String)>,
) -> Result<Response, Response> {
    let provider: Provider = provider.parse().map_err(|e| sandbox_error(&e))?;
    let kind: Kind = kind.parse().map_err(|e| sandbox_error(&e))?;
    let list = app
        .state()
        .summaries(provider, kind)
        .map_err(|e| sandbox_error(&e))?;
    Ok(json(
        StatusCode::OK,
        &json!({"count": list.len(), "resources": list}),
    ))
}

#[derive(Deserialize)]
struct LatencyBody {
    ms: u64,
}

async fn latency(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let req: LatencyBody = parse(&body)?;
    *lock(&app.latency) = Duration::from_millis(req.ms);
    Ok(ok())
}

async fn set_rate_limit(
    State(app): State<App>,
    Path(provider): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let provider: Provider = provider.parse().map_err(|e| sandbox_error(&e))?;
    let limit: RateLimit = parse(&body)?;
    app.set_rate_limit(provider, Some(limit));
    Ok(ok())
}

async fn clear_rate_limit(
    State(app): State<App>,
    Path(provider): Path<String>,
) -> Result<Response, Response> {
    let provider: Provider = provider.parse().map_err(|e| sandbox_error(&e))?;
    app.set_rate_limit(provider, None);
    Ok(ok())
}
