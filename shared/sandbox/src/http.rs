//! The HTTP plumbing shared by the provider modules: the per-request middleware
//! (counting, latency, auth, rate limiting, fault injection, rate-limit headers),
//! error bodies in each provider's own format, and JSON helpers.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::Provider;
use crate::emulation::{self, Emulation, Expected, HeaderForm};
use crate::faults::{BucketState, Fault};
use crate::pagination::PageMode;
use crate::server::{App, lock};

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A list page: the page's envelope fields and the items (already JSON) under `key`. Written
/// straight into the body, so serving a page costs a copy of its items' text.
pub(crate) fn list_json(
    page: crate::pagination::Page,
    key: &str,
    items: &[std::sync::Arc<serde_json::value::RawValue>],
) -> Response {
    use serde::ser::{SerializeMap, Serializer as _};
    let mut body = Vec::with_capacity(items.iter().map(|i| i.get().len() + 1).sum::<usize>() + 256);
    let mut ser = serde_json::Serializer::new(&mut body);
    // Writing into a Vec cannot fail: keys are strings, `Value`s and raw items are valid JSON.
    let written = ser.serialize_map(None).and_then(|mut map| {
        for (k, v) in &page.envelope {
            map.serialize_entry(k, v)?;
        }
        let items: Vec<&serde_json::value::RawValue> = items.iter().map(|i| &**i).collect();
        // A dotted key is a list inside an object (Cloudflare R2's `result.buckets`).
        match key.split_once('.') {
            Some((outer, inner)) => {
                let nested: std::collections::BTreeMap<&str, &Vec<&serde_json::value::RawValue>> =
                    std::iter::once((inner, &items)).collect();
                map.serialize_entry(outer, &nested)?;
            }
            None => map.serialize_entry(key, &items)?,
        }
        map.end()
    });
    if written.is_err() {
        body.clear();
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A 204 with no body.
pub(crate) fn no_content() -> Response {
    empty(StatusCode::NO_CONTENT)
}

/// An empty response (204, or 200/202 with no body).
pub(crate) fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// An error in the provider's own body format.
pub(crate) fn error(provider: Provider, status: StatusCode, message: &str) -> Response {
    json(status, &emulation::of(provider).error_body(status, message))
}

/// The provider's "not found" error.
pub(crate) fn not_found(provider: Provider, what: &str) -> Response {
    let message = emulation::of(provider).not_found_message(what);
    error(provider, StatusCode::NOT_FOUND, &message)
}

/// The query string of a request, as a map.
pub(crate) type Q = axum::extract::Query<std::collections::HashMap<String, String>>;

/// `{key: value}`.
pub(crate) fn wrap(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// One listing page, rendered under the lock and written out after it (see [`list_json`]).
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) page: crate::pagination::Page,
    pub(crate) items: Vec<std::sync::Arc<serde_json::value::RawValue>>,
}

impl Listing {
    /// The page's body, items under `key`.
    pub(crate) fn json(self, key: &str) -> Response {
        list_json(self.page, key, &self.items)
    }
}

/// A JSON object request body, whose fields are read with the provider's errors for a field of
/// the wrong type.
#[derive(Debug)]
pub(crate) struct JsonBody {
    map: Map<String, Value>,
    provider: Provider,
}

impl std::ops::Deref for JsonBody {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl JsonBody {
    /// A string field (absent or `null`: `None`).
    pub(crate) fn str(&self, key: &str) -> Result<Option<String>, Response> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(emulation::of(self.provider).field_error(key, Expected::String)),
        }
    }

    /// An array-of-strings field (absent or `null`: `None`).
    pub(crate) fn strings(&self, key: &str) -> Result<Option<Vec<String>>, Response> {
        let wrong = || emulation::of(self.provider).field_error(key, Expected::StringList);
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(wrong),
            Some(_) => Err(wrong()),
        }
    }
}

/// Parse a JSON object request body (empty body = empty object).
pub(crate) fn body_object(provider: Provider, bytes: &Bytes) -> Result<JsonBody, Response> {
    let map = if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(error(
                    provider,
                    StatusCode::BAD_REQUEST,
                    emulation::of(provider).invalid_json_message(),
                ));
            }
        }
    };
    Ok(JsonBody { map, provider })
}

fn edge_error(e: &dyn Emulation, status: StatusCode, message: &str) -> Response {
    json(status, &e.edge_error_body(status, message))
}

fn unauthorized(e: &dyn Emulation) -> Response {
    edge_error(e, StatusCode::UNAUTHORIZED, e.unauthorized_message())
}

fn too_many(e: &dyn Emulation, retry_after: Option<u64>) -> Response {
    let mut resp = edge_error(e, StatusCode::TOO_MANY_REQUESTS, e.too_many_message());
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// An injected 5xx in the provider's error format (see [`Emulation::server_error`]).
pub(crate) fn server_error<E: Emulation + ?Sized>(e: &E, code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match code {
        500 => e.internal_error_message(),
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    json(status, &e.error_body(status, message))
}

async fn body_bytes(resp: Response) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

fn io_error(msg: &str) -> std::io::Error {
    std::io::Error::other(msg.to_owned())
}

/// A response whose body fails at once: hyper drops the connection.
fn aborted() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, _>(io_error("sandbox fault: connection closed"))
    });
    Body::from_stream(stream).into_response()
}

async fn truncated(resp: Response) -> Response {
    let (parts, bytes) = body_bytes(resp).await;
    let half = bytes.slice(..bytes.len() / 2);
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(half), Err(io_error("sandbox fault: body truncated"))];
    Response::from_parts(parts, Body::from_stream(futures::stream::iter(chunks)))
}

async fn malformed(resp: Response) -> Response {
    let (parts, bytes) = body_bytes(resp).await;
    let mut cut = bytes.slice(..bytes.len() / 2).to_vec();
    if cut.is_empty() {
        cut.extend_from_slice(b"{\"");
    }
    Response::from_parts(parts, Body::from(cut))
}

async fn oversized(resp: Response, size: usize) -> Response {
    let (mut parts, bytes) = body_bytes(resp).await;
    let mut padded = bytes.to_vec();
    padded.resize(size.max(bytes.len()), b' ');
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(padded))
}

async fn slow(resp: Response, chunk: usize, delay: Duration) -> Response {
    let (parts, bytes) = body_bytes(resp).await;
    let chunk = chunk.max(1);
    let stream = futures::stream::unfold((bytes, true), move |(rest, first)| async move {
        if rest.is_empty() {
            return None;
        }
        if !first {
            tokio::time::sleep(delay).await;
        }
        let n = chunk.min(rest.len());
        let head = rest.slice(..n);
        let tail = rest.slice(n..);
        Some((Ok::<Bytes, Infallible>(head), (tail, false)))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

fn ok_with_error(e: &dyn Emulation) -> Response {
    let body = e.edge_error_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        e.internal_error_message(),
    );
    json(StatusCode::OK, &body)
}

fn rate_headers(
    app: &App,
    provider: Provider,
    bucket: Option<BucketState>,
    headers: &mut HeaderMap,
) {
    let Some(rate) = emulation::of(provider).rate_headers() else {
        return;
    };
    let (limit, remaining, reset) = match bucket {
        Some(b) => (
            u64::from(b.limit),
            u64::from(b.remaining),
            crate::state::now() + i64::try_from(b.reset_in).unwrap_or(0),
        ),
        None => {
            let n = app.nominal(provider, rate);
            (n.limit, n.remaining, n.reset_epoch)
        }
    };
    match rate.form {
        HeaderForm::Counters(names) => {
            headers.insert(names[0], HeaderValue::from(limit));
            headers.insert(names[1], HeaderValue::from(remaining));
            headers.insert(names[2], HeaderValue::from(reset));
        }
        HeaderForm::Structured { name, policy } => {
            let left = (reset - crate::state::now()).max(0);
            let window = rate.window.as_secs();
            if let Ok(v) = HeaderValue::from_str(&format!("\"default\";r={remaining};t={left}")) {
                headers.insert(name, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"default\";q={limit};w={window}")) {
                headers.insert(policy, v);
            }
        }
    }
}

/// The middleware in front of every provider route.
pub(crate) async fn provider_layer(
    State(app): State<App>,
    mut req: Request,
    next: Next,
) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let Some(provider) = Provider::from_path(&template) else {
        return next.run(req).await;
    };
    let emulation = emulation::of(provider);
    let key = format!("{} {}", req.method(), template);
    lock(&app.counters).record(provider, &key);
    let latency = *lock(&app.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if !app.authorized(provider, req.headers()) {
        let mut resp = unauthorized(emulation);
        rate_headers(&app, provider, None, resp.headers_mut());
        return resp;
    }
    let bucket = app.rate_check(provider, &key);
    if let Some(b) = bucket
        && !b.allowed
    {
        let mut resp = too_many(emulation, Some(b.retry_after));
        rate_headers(&app, provider, bucket, resp.headers_mut());
        return resp;
    }
    let fault = lock(&app.faults).take(&key);
    if fault.is_some() {
        tracing::debug!(%key, ?fault, "sandbox fault fires");
    }
    let mode = match fault {
        Some(Fault::PaginationLoop) => PageMode::Loop,
        Some(Fault::EmptyPage) => PageMode::Empty,
        _ => PageMode::Normal,
    };
    req.extensions_mut().insert(mode);
    let mut resp = match fault {
        None if lock(&app.journal).is_some() => recorded(&app, provider, req, next).await,
        None | Some(Fault::PaginationLoop | Fault::EmptyPage) => next.run(req).await,
        Some(Fault::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(Fault::RateLimited { retry_after }) => too_many(emulation, retry_after),
        Some(Fault::Status { code }) => emulation.server_error(code),
        Some(Fault::CreateThen500) => {
            let _ = next.run(req).await;
            emulation.server_error(500)
        }
        Some(Fault::Timeout { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return aborted();
        }
        Some(Fault::MalformedJson) => malformed(next.run(req).await).await,
        Some(Fault::TruncatedBody) => truncated(next.run(req).await).await,
        Some(Fault::OkWithErrorBody) => ok_with_error(emulation),
        Some(Fault::OversizedBody { bytes }) => oversized(next.run(req).await, bytes).await,
        Some(Fault::SlowBody {
            chunk_bytes,
            delay_ms,
        }) => {
            slow(
                next.run(req).await,
                chunk_bytes,
                Duration::from_millis(delay_ms),
            )
            .await
        }
    };
    rate_headers(&app, provider, bucket, resp.headers_mut());
    resp
}

/// Runs the handler and appends the exchange to the journal, bodies parsed as JSON.
async fn recorded(app: &App, provider: Provider, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let request_bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts
        .uri
        .path()
        .strip_prefix(provider.prefix())
        .unwrap_or(parts.uri.path())
        .to_owned();
    let req = Request::from_parts(parts, Body::from(request_bytes.clone()));
    let (parts, response_bytes) = body_bytes(next.run(req).await).await;
    let exchange = crate::Exchange {
        provider,
        method,
        path,
        request: serde_json::from_slice(&request_bytes).ok(),
        status: parts.status.as_u16(),
        response: serde_json::from_slice(&response_bytes).ok(),
    };
    if let Some(journal) = lock(&app.journal).as_mut() {
        journal.push(exchange);
    }
    Response::from_parts(parts, Body::from(response_bytes))
}

/// Unknown paths: counted as `<METHOD> <prefix>/<unmatched>` and answered 404 in
/// the provider's format (plain 404 outside the provider prefixes).
pub(crate) async fn fallback(State(app): State<App>, method: Method, uri: Uri) -> Response {
    let Some(provider) = Provider::from_path(uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let key = format!("{method} {}/<unmatched>", provider.prefix());
    lock(&app.counters).record(provider, &key);
    let message = emulation::of(provider).unknown_endpoint_message();
    error(provider, StatusCode::NOT_FOUND, &message)
}
