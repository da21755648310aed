//! `DockClient`: one dock's view of the HTTP client — base URL, credential, the provider's declaration, rate limiter,
//! retry policy and counters — and the single request loop every provider call goes through
//! (pace → send → read a capped body → classify → maybe retry).
//!
//! It must never log or format the credential, a URL's query string, or a body: logs carry the
//! dock, the route template, the status and timings only.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::classify::{Classified, Context, classify, envelope_error};
use super::declaration::WindowScope;
use super::limit::{RateLimiter, RateLimits};
use super::retry::{RetryPolicy, exhausted_until, idempotent};
use super::{Client, Declaration, RequestStats};
use crate::{Credential, DockContext, ErrorClass, ProviderError};

/// How to build a [`DockClient`]. [`DockSettings::new`] fills in the provider defaults; tests and
/// the benchmark change fields before building.
#[derive(Debug, Clone)]
pub struct DockSettings {
    /// What differs between providers at the HTTP level.
    pub declaration: &'static Declaration,
    /// Dock name, named in every error.
    pub dock: String,
    pub credential: Credential,
    /// Where the credential came from, e.g. "environment variable VULTR_API_KEY": named in
    /// unauthorized errors instead of the value.
    pub credential_source: String,
    /// The dock's `endpoint`, version path included; `None` = the provider's production URL.
    pub base_url: Option<String>,
    pub rate_limits: RateLimits,
    pub retry: RetryPolicy,
    /// Pages fetched at once by the page-numbered listings.
    pub page_concurrency: usize,
    /// Query parameters every request carries: the dock settings the declaration names in
    /// `setting_params` (Vercel `teamId`).
    pub query: Vec<(String, String)>,
}

impl DockSettings {
    /// The provider's defaults for this dock: published rate limits, default retry policy,
    /// 8 pages in flight.
    pub fn new(ctx: &DockContext, credential: Credential, endpoint: Option<&str>) -> DockSettings {
        DockSettings {
            declaration: crate::declaration(ctx.provider),
            dock: ctx.dock.clone(),
            credential,
            credential_source: ctx.credential_source.to_string(),
            base_url: endpoint.map(str::to_owned),
            rate_limits: crate::declaration(ctx.provider).published_limits(),
            retry: RetryPolicy::default(),
            page_concurrency: 8,
            query: setting_query(crate::declaration(ctx.provider), ctx),
        }
    }
}

/// The query parameters `declaration` derives from `ctx`'s dock settings (`teamId=<team_id>`).
fn setting_query(declaration: &Declaration, ctx: &DockContext) -> Vec<(String, String)> {
    declaration
        .setting_params
        .iter()
        .filter_map(|(param, key)| {
            let value = ctx.settings.raw(key)?.as_str()?;
            Some(((*param).to_owned(), value.to_owned()))
        })
        .collect()
}

/// One dock's HTTP client. Cloning is cheap; clones share the rate limiter and the counters.
#[derive(Debug, Clone)]
pub struct DockClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Client,
    declaration: &'static Declaration,
    dock: String,
    credential: Credential,
    credential_source: String,
    /// Without a trailing slash; paths start with one.
    base_url: String,
    retry: RetryPolicy,
    page_concurrency: usize,
    /// Sent with every request (see [`DockSettings::query`]).
    query: Vec<(String, String)>,
    limiter: RateLimiter,
    stats: RequestStats,
}

/// One request as the loop sends it (each attempt rebuilds the reqwest request from it).
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub method: Method,
    /// `"<METHOD> <route template>"`: the only description of the request in logs and errors.
    pub route: String,
    pub url: Url,
    pub query: &'a [(String, String)],
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// A list page (paced by the `Lists` buckets).
    pub list: bool,
}

/// A failed attempt: the classification plus whether a non-idempotent request may have acted.
#[derive(Debug)]
pub(crate) struct Failure {
    classified: Classified,
    /// The request never left (connection refused, DNS): nothing can have happened.
    not_sent: bool,
}

impl From<Classified> for Failure {
    fn from(classified: Classified) -> Failure {
        Failure {
            classified,
            not_sent: false,
        }
    }
}

fn transient(message: String) -> Classified {
    Classified {
        class: ErrorClass::Transient,
        message,
        fields: Vec::new(),
        retry_after: None,
        no_retry: false,
    }
}

impl DockClient {
    pub fn new(http: &Client, settings: DockSettings) -> DockClient {
        let base = settings
            .base_url
            .unwrap_or_else(|| settings.declaration.base_url.to_owned());
        DockClient {
            inner: Arc::new(Inner {
                http: http.clone(),
                declaration: settings.declaration,
                dock: settings.dock,
                credential: settings.credential,
                credential_source: settings.credential_source,
                base_url: base.trim_end_matches('/').to_owned(),
                retry: settings.retry,
                page_concurrency: settings.page_concurrency.max(1),
                query: settings.query,
                limiter: RateLimiter::new(&settings.rate_limits),
                stats: RequestStats::default(),
            }),
        }
    }

    pub fn dock(&self) -> &str {
        &self.inner.dock
    }

    pub fn declaration(&self) -> &'static Declaration {
        self.inner.declaration
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// This dock's request counters.
    pub fn stats(&self) -> &RequestStats {
        &self.inner.stats
    }

    pub(crate) fn page_concurrency(&self) -> usize {
        self.inner.page_concurrency
    }

    /// `GET` and decode. `route` is the path template (`/instances/{id}`), `path_and_query` the
    /// real path (`/instances/abc`); headers are extra request headers.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        route: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        let out = self.outgoing(Method::GET, route, path_and_query, &[], headers, None)?;
        self.decode(&out.route, self.execute(&out).await?)
    }

    /// `POST` a JSON body and decode the answer (an empty answer decodes as JSON `null`, so
    /// `()` and `Option<_>` work for 204s). Sent once: retried only after a 429.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        path_and_query: &str,
        body: &B,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        self.send_json(Method::POST, route, path_and_query, body, headers)
            .await
    }

    /// `POST` without a body (an action such as Vultr's `/instances/{id}/halt`), the answer
    /// decoded as [`post_json`](Self::post_json)'s. Sent once: retried only after a 429.
    pub async fn post_empty<T: DeserializeOwned>(
        &self,
        route: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        let out = self.outgoing(Method::POST, route, path_and_query, &[], headers, None)?;
        self.decode(&out.route, self.execute(&out).await?)
    }

    /// `PUT` a JSON body; retried only after a 429.
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        path_and_query: &str,
        body: &B,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        self.send_json(Method::PUT, route, path_and_query, body, headers)
            .await
    }

    /// `PATCH` a JSON body; retried only after a 429.
    pub async fn patch_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        path_and_query: &str,
        body: &B,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        self.send_json(Method::PATCH, route, path_and_query, body, headers)
            .await
    }

    /// `DELETE`. A resource already gone is a `NotFound` error: the adapter decides that this is
    /// success.
    pub async fn delete(
        &self,
        route: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<(), ProviderError> {
        let out = self.outgoing(Method::DELETE, route, path_and_query, &[], headers, None)?;
        self.execute(&out).await.map(|_| ())
    }

    async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        path_and_query: &str,
        body: &B,
        headers: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        let route_key = route_key(&method, route);
        let bytes = serde_json::to_vec(body).map_err(|e| {
            self.error(
                &route_key,
                ErrorClass::Invalid,
                format!("the request body could not be encoded: {e}"),
            )
        })?;
        let out = self.outgoing(method, route, path_and_query, &[], headers, Some(bytes))?;
        self.decode(&out.route, self.execute(&out).await?)
    }

    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        route: &str,
        value: Value,
    ) -> Result<T, ProviderError> {
        serde_json::from_value(value).map_err(|e| self.unexpected_shape(route, &e))
    }

    /// One listed item decoded as `T`, with the same error as [`decode`](Self::decode).
    pub(crate) fn decode_item<T: DeserializeOwned>(
        &self,
        route: &str,
        item: &RawValue,
    ) -> Result<T, ProviderError> {
        serde_json::from_str(item.get()).map_err(|e| self.unexpected_shape(route, &e))
    }

    fn unexpected_shape(&self, route: &str, e: &serde_json::Error) -> ProviderError {
        self.error(
            route,
            ErrorClass::Transient,
            format!("the response has an unexpected shape: {e}"),
        )
    }

    /// Builds a request; bad URLs and header names are `Invalid` before anything is sent.
    pub(crate) fn outgoing<'q>(
        &self,
        method: Method,
        route: &str,
        path_and_query: &str,
        query: &'q [(String, String)],
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Outgoing<'q>, ProviderError> {
        let route_key = route_key(&method, route);
        let sep = if path_and_query.starts_with('/') {
            ""
        } else {
            "/"
        };
        let url =
            Url::parse(&format!("{}{sep}{path_and_query}", self.inner.base_url)).map_err(|e| {
                self.error(
                    &route_key,
                    ErrorClass::Invalid,
                    format!(
                        "bad request URL under base {} ({e}); check the dock's endpoint",
                        self.inner.base_url
                    ),
                )
            })?;
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            match (name, value) {
                (Ok(n), Ok(v)) => {
                    map.insert(n, v);
                }
                _ => {
                    return Err(self.error(
                        &route_key,
                        ErrorClass::Invalid,
                        "a request header has an invalid name or value".to_owned(),
                    ));
                }
            }
        }
        Ok(Outgoing {
            method,
            route: route_key,
            url,
            query,
            headers: map,
            body,
            list: false,
        })
    }

    /// The request loop: pace, send, classify, and retry what may be retried, within the
    /// policy's attempts and total time.
    ///
    /// # Retries
    /// - GET/HEAD/DELETE: on 429, 5xx (not 501), timeouts, connection errors, truncated or
    ///   malformed bodies.
    /// - POST/PUT/PATCH: only on 429 (the provider refused before acting). Any other failure is
    ///   returned at once; a transient one says the change may have happened.
    /// - The wait is the provider's (`Retry-After`, exhausted-window reset) if it gave one, else
    ///   full-jitter backoff. A wait that does not fit in the remaining time fails now, as
    ///   rate-limited with `retry_after` when the provider asked for it.
    pub(crate) async fn execute(&self, out: &Outgoing<'_>) -> Result<Value, ProviderError> {
        self.execute_with(out, &|body, status| self.decode_body(body, status))
            .await
    }

    /// [`execute`](Self::execute) with the 2xx body read by `decode` (a list page keeps its
    /// items as text); a body `decode` refuses is a failed attempt like any other.
    pub(crate) async fn execute_with<T>(
        &self,
        out: &Outgoing<'_>,
        decode: &Decode<'_, T>,
    ) -> Result<T, ProviderError> {
        let policy = &self.inner.retry;
        let start = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let remaining = policy.max_elapsed.saturating_sub(start.elapsed());
            match self
                .inner
                .limiter
                .reserve(&out.route, out.list, Instant::now(), remaining)
            {
                Ok(wait) if wait.is_zero() => {}
                Ok(wait) => {
                    tracing::debug!(dock = %self.inner.dock, route = %out.route, wait_ms = wait.as_millis() as u64, "paced by the rate limiter");
                    tokio::time::sleep(wait).await;
                }
                Err(wait) => {
                    let mut e = self.error(
                        &out.route,
                        ErrorClass::RateLimited,
                        format!(
                            "the dock's rate limit allows the next request in {}, more than the {} left for this call",
                            secs(wait),
                            secs(remaining)
                        ),
                    );
                    e.retry_after = Some(wait);
                    return Err(e);
                }
            }
            self.inner.stats.record_request(&out.route);
            if attempt > 1 {
                self.inner.stats.record_retry();
            }
            let sent = Instant::now();
            let failure = match self.attempt(out, decode).await {
                Ok(value) => {
                    tracing::debug!(dock = %self.inner.dock, route = %out.route, attempt, elapsed_ms = sent.elapsed().as_millis() as u64, "ok");
                    return Ok(value);
                }
                Err(f) => f,
            };
            let c = &failure.classified;
            let retryable = !c.no_retry
                && match c.class {
                    ErrorClass::RateLimited => true,
                    ErrorClass::Transient => idempotent(&out.method),
                    _ => false,
                };
            if !retryable || attempt >= policy.max_attempts {
                return Err(self.finish(out, failure, attempt));
            }
            let wait = c.retry_after.unwrap_or_else(|| policy.backoff(attempt));
            let remaining = policy.max_elapsed.saturating_sub(start.elapsed());
            if wait > remaining {
                if c.class == ErrorClass::RateLimited {
                    let mut e = self.finish(out, failure, attempt);
                    e.message = format!(
                        "{}; the provider asks to wait {}, more than the {} left for this call",
                        e.message,
                        secs(wait),
                        secs(remaining)
                    );
                    e.retry_after = Some(wait);
                    return Err(e);
                }
                return Err(self.finish(out, failure, attempt));
            }
            tracing::warn!(
                dock = %self.inner.dock,
                route = %out.route,
                attempt,
                class = c.class.as_str(),
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: send, read the capped body, classify.
    async fn attempt<T>(&self, out: &Outgoing<'_>, decode: &Decode<'_, T>) -> Result<T, Failure> {
        let http = &self.inner.http;
        let mut rb = http
            .inner
            .request(out.method.clone(), out.url.clone())
            .bearer_auth(self.inner.credential.expose())
            .header(ACCEPT, "application/json")
            .headers(out.headers.clone());
        if !out.query.is_empty() {
            rb = rb.query(out.query);
        }
        if !self.inner.query.is_empty() {
            rb = rb.query(&self.inner.query);
        }
        if let Some(body) = &out.body {
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let not_sent = e.is_connect();
                let what = if e.is_timeout() {
                    format!(
                        "no answer within {} (request timeout)",
                        secs(http.config.request_timeout)
                    )
                } else if not_sent {
                    format!("could not connect: {}", describe(&e))
                } else {
                    format!("the request failed: {}", describe(&e))
                };
                return Err(Failure {
                    classified: transient(what),
                    not_sent,
                });
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let now = jiff::Timestamp::now();
        self.note_rate_headers(&out.route, &headers, now);
        let body = read_capped(resp, http.config.max_body_bytes).await?;
        let ctx = Context {
            credential_source: &self.inner.credential_source,
            now,
        };
        if !(200..300).contains(&status) {
            if status == 429 {
                self.inner.stats.record_rate_limited();
            }
            tracing::debug!(dock = %self.inner.dock, route = %out.route, status, "provider error");
            return Err(classify(self.inner.declaration, status, &headers, &body, ctx).into());
        }
        decode(&body, status)
    }

    /// A 2xx body as JSON (`null` when empty), refused when it is an error envelope.
    pub(crate) fn decode_body(&self, body: &[u8], status: u16) -> Result<Value, Failure> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| malformed(status, &e))?;
        self.refuse_envelope(&value)?;
        Ok(value)
    }

    /// An error envelope in a 2xx (some gateways answer errors with 200) as the failure it says.
    pub(crate) fn refuse_envelope(&self, body: &Value) -> Result<(), Failure> {
        let ctx = Context {
            credential_source: &self.inner.credential_source,
            now: jiff::Timestamp::now(),
        };
        match envelope_error(self.inner.declaration.errors, body, ctx) {
            Some(c) => Err(c.into()),
            None => Ok(()),
        }
    }

    /// Pauses the limiter when the provider's headers say the window is used up: the whole token
    /// for DigitalOcean (one budget per token), the one operation for Linode (per-operation
    /// windows).
    fn note_rate_headers(&self, route: &str, headers: &HeaderMap, now: jiff::Timestamp) {
        let Some(wait) = exhausted_until(self.inner.declaration, headers, now) else {
            return;
        };
        if wait.is_zero() {
            return;
        }
        let until = Instant::now() + wait;
        match self.inner.declaration.rate_headers.map(|h| h.scope) {
            Some(WindowScope::Token) => self.inner.limiter.pause_all(until),
            Some(WindowScope::Route) => self.inner.limiter.pause_route(route, until),
            None => {}
        }
        tracing::debug!(dock = %self.inner.dock, route, wait_ms = wait.as_millis() as u64, "provider window exhausted; pausing");
    }

    /// The error returned for a failed call, with what a failed change means.
    fn finish(&self, out: &Outgoing<'_>, failure: Failure, attempts: u32) -> ProviderError {
        let Failure {
            classified: c,
            not_sent,
        } = failure;
        let mut message = c.message;
        if c.class == ErrorClass::Transient && !idempotent(&out.method) {
            if not_sent {
                message.push_str("; the request was not sent");
            } else if out.method == Method::POST {
                message.push_str(
                    "; the create may have happened: look the resource up by its ownership tag before sending it again",
                );
            } else {
                message.push_str(
                    "; the change may have been applied: read the resource before sending it again",
                );
            }
        }
        if attempts > 1 {
            message.push_str(&format!(" (after {attempts} attempts)"));
        }
        let mut e = self.error(&out.route, c.class, message);
        e.fields = c.fields;
        for f in &mut e.fields {
            f.message = self.scrub(std::mem::take(&mut f.message));
        }
        e.retry_after = c.retry_after;
        e
    }

    /// A `ProviderError` for this dock; the message is scrubbed of the credential.
    pub(crate) fn error(&self, route: &str, class: ErrorClass, message: String) -> ProviderError {
        ProviderError::new(class, &self.inner.dock, route, self.scrub(message))
    }

    /// Belt and braces: should a provider ever echo the token in a message, it stops here.
    fn scrub(&self, message: String) -> String {
        let token = self.inner.credential.expose();
        if token.len() >= 4 && message.contains(token) {
            message.replace(token, "***")
        } else {
            message
        }
    }
}

/// `"<METHOD> <route>"`, accepting a route that already starts with its method.
pub(crate) fn route_key(method: &Method, route: &str) -> String {
    let m = method.as_str();
    if route.len() > m.len() && route.starts_with(m) && route.as_bytes()[m.len()] == b' ' {
        route.to_owned()
    } else {
        format!("{m} {route}")
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A reqwest error's chain, without the URL (its query string may carry filters or cursors).
fn describe(e: &reqwest::Error) -> String {
    let mut msg = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&s.to_string());
        source = s.source();
    }
    if msg.is_empty() {
        msg = "connection error".to_owned();
    }
    msg
}

/// Reads a 2xx body (bytes, HTTP status) into what the caller wants.
pub(crate) type Decode<'a, T> = dyn Fn(&[u8], u16) -> Result<T, Failure> + Sync + 'a;

/// A 2xx body that is not JSON: transient (a proxy's page, a body cut short). serde's message
/// names a line and column, never the content.
pub(crate) fn malformed(status: u16, e: &serde_json::Error) -> Failure {
    Failure::from(transient(format!(
        "malformed JSON in an HTTP {status} response ({e})"
    )))
}

/// Reads the body up to `max` bytes. Too large is transient but not worth re-sending soon; a
/// body cut short (connection reset) is transient and retryable.
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        let mut c = transient(format!(
            "response too large (more than {} MiB)",
            max / (1024 * 1024)
        ));
        c.no_retry = true;
        Failure::from(c)
    };
    if resp.content_length().is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    // Sized once from Content-Length when sent: a page of a listing is megabytes, and growing the
    // buffer chunk by chunk copied it over and over.
    let mut buf = Vec::with_capacity(resp.content_length().map_or(0, |len| len as usize));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > max {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf),
            Err(e) => {
                return Err(Failure::from(transient(format!(
                    "the response body was cut short: {}",
                    describe(&e)
                ))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys() {
        assert_eq!(
            route_key(&Method::GET, "/instances/{id}"),
            "GET /instances/{id}"
        );
        assert_eq!(route_key(&Method::GET, "GET /instances"), "GET /instances");
        assert_eq!(route_key(&Method::POST, "/GETx"), "POST /GETx");
        assert_eq!(route_key(&Method::DELETE, "DELETE"), "DELETE DELETE");
    }
}
