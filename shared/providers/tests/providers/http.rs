//! The HTTP plumbing against a tiny scripted axum server on 127.0.0.1: retries, Retry-After,
//! POST never re-sent, the three pagination schemes (with concurrent page fetches and loop
//! detection), error classification and the credential never leaking.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stackdock_providers::http::{
    Bucket, Client, ClientConfig, Declaration, DockClient, DockSettings, ListOptions, RateLimits,
    RetryPolicy, Scope,
};
use stackdock_providers::{Credential, ErrorClass, ProviderError};

const TOKEN: &str = "TEST-TOKEN-0123456789";
const SOURCE: &str = "environment variable VULTR_API_KEY";
const VULTR: &Declaration = &stackdock_providers::vultr::DECLARATION;
const DIGITALOCEAN: &Declaration = &stackdock_providers::digitalocean::DECLARATION;
const LINODE: &Declaration = &stackdock_providers::linode::DECLARATION;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: String,
}

/// What the script answers.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn ok(body: Value) -> Answer {
    answer(200, body.to_string())
}

fn answer(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.into(),
        delay: Duration::ZERO,
    }
}

impl Answer {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    fn delay(mut self, d: Duration) -> Answer {
        self.delay = d;
        self
    }
}

type Script = dyn Fn(usize, &Seen) -> Answer + Send + Sync;

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

struct Server {
    base: String,
    shared: Shared,
}

impl Server {
    /// Serves `script(n, request)` (n = 1-based request number) under `http://127.0.0.1:PORT/v2`.
    async fn start(script: impl Fn(usize, &Seen) -> Answer + Send + Sync + 'static) -> Server {
        let shared = Shared {
            script: Arc::new(script),
            seen: Arc::new(Mutex::new(Vec::new())),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: Arc::new(AtomicUsize::new(0)),
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Server {
            base: format!("http://{addr}/v2"),
            shared,
        }
    }

    fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("lock").clone()
    }

    fn count(&self) -> usize {
        self.shared.seen.lock().expect("lock").len()
    }

    fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = reqwest::Url::parse(&format!("http://x{uri}")).expect("uri");
    let seen = Seen {
        method: method.to_string(),
        path: url.path().to_owned(),
        query: url.query_pairs().into_owned().collect(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut log = s.seen.lock().expect("lock");
        log.push(seen.clone());
        log.len()
    };
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let a = (s.script)(n, &seen);
    if !a.delay.is_zero() {
        tokio::time::sleep(a.delay).await;
    }
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    for (k, v) in a.headers {
        h.insert(k, HeaderValue::from_str(&v).expect("header"));
    }
    (StatusCode::from_u16(a.status).expect("status"), h, a.body).into_response()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    }
}

fn settings(server: &Server, declaration: &'static Declaration) -> DockSettings {
    DockSettings {
        declaration,
        dock: "test-dock".to_owned(),
        credential: Credential::new(TOKEN),
        credential_source: SOURCE.to_owned(),
        base_url: Some(server.base.clone()),
        rate_limits: RateLimits::unlimited(),
        retry: fast_retries(),
        page_concurrency: 8,
        query: Vec::new(),
    }
}

fn http(request_timeout: Duration) -> Client {
    Client::new(ClientConfig {
        request_timeout,
        ..ClientConfig::default()
    })
    .expect("client")
}

fn dock(server: &Server, declaration: &'static Declaration) -> DockClient {
    tuned(server, declaration, Duration::from_secs(5), |_| {})
}

/// A dock client of `declaration` against `server` whose requests time out after
/// `request_timeout`, with `tune` applied to its settings.
fn tuned(
    server: &Server,
    declaration: &'static Declaration,
    request_timeout: Duration,
    tune: impl FnOnce(&mut DockSettings),
) -> DockClient {
    let mut settings = settings(server, declaration);
    tune(&mut settings);
    DockClient::new(&http(request_timeout), settings)
}

/// A server answering `script`, and a dock client of `declaration` against it.
async fn serve(
    declaration: &'static Declaration,
    script: impl Fn(usize, &Seen) -> Answer + Send + Sync + 'static,
) -> (Server, DockClient) {
    let server = Server::start(script).await;
    let dock = dock(&server, declaration);
    (server, dock)
}

/// Asserts that at least `at_least` has passed since `start`.
fn assert_waited(start: Instant, at_least: Duration) {
    let waited = start.elapsed();
    assert!(waited >= at_least, "waited {waited:?}, not {at_least:?}");
}

/// The error a GET of `path` (its own route) fails with.
async fn get_refused(d: &DockClient, path: &str) -> ProviderError {
    d.get_json::<Value>(path, path, &[])
        .await
        .expect_err("the GET fails")
}

/// A GET of `path` fails as `class`, saying `says`; the error.
async fn assert_get_fails(
    d: &DockClient,
    path: &str,
    class: ErrorClass,
    says: &str,
) -> ProviderError {
    let e = get_refused(d, path).await;
    assert_eq!(e.class, class, "{e}");
    assert!(e.message.contains(says), "{e}");
    e
}

/// Listing `key` of `path` in pages of `page_size` fails as transient, saying `says`.
async fn assert_listing_fails(d: &DockClient, path: &str, key: &str, page_size: u32, says: &str) {
    let e = d
        .list_values(path, key, &ListOptions::new().page_size(page_size))
        .await
        .expect_err("the listing fails");
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    assert!(e.message.contains(says), "{e}");
}

fn numbered(range: std::ops::Range<u64>) -> Vec<Value> {
    range.map(|i| json!({ "id": i })).collect()
}

fn ids(items: &[stackdock_providers::http::Item]) -> Vec<u64> {
    items
        .iter()
        .map(|item| {
            let v: Value = serde_json::from_str(item.get()).expect("listed items are JSON");
            v["id"].as_u64().expect("id")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn get_is_retried_on_503_then_succeeds() {
    let (server, d) = serve(VULTR, |n, _| {
        if n <= 2 {
            answer(503, r#"{"error":"busy upstream","status":503}"#)
        } else {
            ok(json!({"instance": {"id": "abc"}}))
        }
    })
    .await;
    let v: Value = d
        .get_json("/instances/{id}", "/instances/abc", &[])
        .await
        .expect("third attempt succeeds");
    assert_eq!(v["instance"]["id"], "abc");
    assert_eq!(server.count(), 3);
    assert_eq!(d.stats().requests(), 3);
    assert_eq!(d.stats().retries(), 2);
    assert_eq!(d.stats().route("GET /instances/{id}"), 3);
    let seen = &server.requests()[0];
    assert_eq!(seen.path, "/v2/instances/abc");
    assert_eq!(
        seen.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    let ua = seen.headers["user-agent"].to_str().expect("ascii");
    assert!(ua.starts_with("stackdock/") && ua.contains("github.com/stackdock/stackdock"));
}

#[tokio::test]
async fn retry_after_is_honoured_and_attempts_are_bounded() {
    let (server, d) = serve(VULTR, |n, _| {
        if n == 1 {
            answer(429, r#"{"error":"slow down","status":429}"#).header("retry-after", "1")
        } else {
            ok(json!({"ok": true}))
        }
    })
    .await;
    let start = Instant::now();
    let _: Value = d
        .get_json("/account", "/account", &[])
        .await
        .expect("succeeds after waiting");
    assert_waited(start, Duration::from_secs(1));
    assert_eq!(server.count(), 2);
    assert_eq!(d.stats().rate_limited(), 1);

    // Always 429: gives up after max_attempts, classified RateLimited.
    let server = Server::start(|_, _| answer(429, "").header("retry-after", "0")).await;
    let d = tuned(&server, VULTR, Duration::from_secs(5), |s| {
        s.retry.max_attempts = 3;
    });
    assert_get_fails(&d, "/account", ErrorClass::RateLimited, "after 3 attempts").await;
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_budget_fails_at_once() {
    let server = Server::start(|_, _| {
        answer(
            429,
            r#"{"id":"too_many_requests","message":"API rate limit exceeded."}"#,
        )
        .header("retry-after", "30")
    })
    .await;
    let d = tuned(&server, DIGITALOCEAN, Duration::from_secs(5), |s| {
        s.retry.max_elapsed = Duration::from_secs(2);
    });
    let start = Instant::now();
    let e = get_refused(&d, "/droplets").await;
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count(), 1);
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(e.dock, "test-dock");
    assert_eq!(e.route, "GET /droplets");
}

#[tokio::test]
async fn post_is_not_retried_on_500_but_is_on_429() {
    let (server, d) = serve(LINODE, |_, _| {
        answer(500, r#"{"errors":[{"reason":"oops"}]}"#)
    })
    .await;
    let e = d
        .post_json::<_, Value>(
            "/linode/instances",
            "/linode/instances",
            &json!({"label": "web-1"}),
            &[],
        )
        .await
        .expect_err("500");
    assert_eq!(server.count(), 1);
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(e.route, "POST /linode/instances");
    assert!(e.message.contains("the create may have happened"), "{e}");
    assert_eq!(server.requests()[0].body, r#"{"label":"web-1"}"#);
    assert_eq!(
        server.requests()[0].headers["content-type"],
        "application/json"
    );

    let (server, d) = serve(LINODE, |n, _| {
        if n == 1 {
            answer(429, r#"{"errors":[{"reason":"Too many requests"}]}"#).header("retry-after", "0")
        } else {
            ok(json!({"id": 7, "label": "web-1"}))
        }
    })
    .await;
    let v: Value = d
        .post_json("/linode/instances", "/linode/instances", &json!({}), &[])
        .await
        .expect("created after the 429");
    assert_eq!(v["id"], 7);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn patch_is_not_retried_on_503_and_delete_is() {
    let (server, d) = serve(VULTR, |_, _| answer(503, "")).await;
    let e = d
        .patch_json::<_, ()>(
            "/instances/{id}",
            "/instances/a",
            &json!({"label": "x"}),
            &[],
        )
        .await
        .expect_err("503");
    assert_eq!(server.count(), 1);
    assert!(e.message.contains("may have been applied"), "{e}");

    let (server, d) = serve(VULTR, |n, _| answer(if n == 1 { 503 } else { 204 }, "")).await;
    d.delete("/instances/{id}", "/instances/a", &[])
        .await
        .expect("deleted on the second attempt");
    assert_eq!(server.count(), 2);
    assert_eq!(server.requests()[0].method, "DELETE");
}

#[tokio::test]
async fn timeouts_are_transient_and_retried_for_reads() {
    let server = Server::start(|_, _| ok(json!({})).delay(Duration::from_millis(500))).await;
    let d = tuned(&server, VULTR, Duration::from_millis(100), |s| {
        s.retry.max_attempts = 2;
    });
    assert_get_fails(&d, "/account", ErrorClass::Transient, "no answer within").await;
    assert_eq!(server.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Classification

#[tokio::test]
async fn unauthorized_names_the_credential_source_never_the_token() {
    // A provider that echoes the token back must not get it into our message either.
    let (server, d) = serve(VULTR, |_, _| {
        answer(
            401,
            format!(r#"{{"error":"Invalid API token {TOKEN}.","status":401}}"#),
        )
    })
    .await;
    let e = get_refused(&d, "/account").await;
    assert_eq!(e.class, ErrorClass::Unauthorized);
    assert_eq!(server.count(), 1, "a rejected credential is not retried");
    let shown = format!("{e} {e:?}");
    assert!(shown.contains(SOURCE), "{shown}");
    assert!(shown.contains("test-dock"), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!format!("{d:?}").contains(TOKEN));
}

#[tokio::test]
async fn malformed_json_is_transient() {
    let server = Server::start(|_, _| answer(200, r#"{"instances": [{"id": "a"#)).await;
    let d = tuned(&server, VULTR, Duration::from_secs(5), |s| {
        s.retry.max_attempts = 2;
    });
    let e = assert_get_fails(&d, "/instances", ErrorClass::Transient, "malformed JSON").await;
    assert!(!e.message.contains(r#""id""#), "no body in messages: {e}");
    assert_eq!(server.count(), 2, "a read is retried");
}

#[tokio::test]
async fn invalid_carries_field_messages_and_an_envelope_in_a_200_is_an_error() {
    let (_server, d) = serve(LINODE, |n, _| {
        if n == 1 {
            answer(
                400,
                r#"{"errors":[{"field":"label","reason":"Label must be unique"}]}"#,
            )
        } else {
            ok(json!({"errors": [{"reason": "Not found"}]}))
        }
    })
    .await;
    let e = d
        .put_json::<_, Value>("/volumes/{id}", "/volumes/1", &json!({"label": "x"}), &[])
        .await
        .expect_err("400");
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(e.fields.len(), 1);
    assert_eq!(e.fields[0].field, "label");
    assert!(e.to_string().contains("label: Label must be unique"), "{e}");
    let e = d
        .get_json::<Value>("/volumes/{id}", "/volumes/1", &[])
        .await
        .expect_err("error envelope");
    assert_eq!(e.class, ErrorClass::NotFound);
}

#[tokio::test]
async fn oversized_bodies_are_transient_and_not_retried() {
    let server = Server::start(|_, _| ok(json!({"blob": "x".repeat(8192)}))).await;
    let http = Client::new(ClientConfig {
        max_body_bytes: 1024,
        ..ClientConfig::default()
    })
    .expect("client");
    let d = DockClient::new(&http, settings(&server, VULTR));
    assert_get_fails(
        &d,
        "/instances",
        ErrorClass::Transient,
        "response too large",
    )
    .await;
    assert_eq!(server.count(), 1);
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

#[tokio::test]
async fn client_side_buckets_pace_requests() {
    let server = Server::start(|_, _| ok(json!({}))).await;
    let bucket = Bucket::new("test 5/200ms", 5, Duration::from_millis(200), Scope::All);
    let d = tuned(&server, VULTR, Duration::from_secs(5), |s| {
        s.rate_limits = RateLimits::unlimited().with(bucket);
    });
    let start = Instant::now();
    for _ in 0..12 {
        let _: Value = d.get_json("/account", "/account", &[]).await.expect("ok");
    }
    // 5 at once, 5 after 200 ms, 2 after 400 ms.
    assert_waited(start, Duration::from_millis(400));
    assert_eq!(server.count(), 12);
}

#[tokio::test]
async fn an_exhausted_window_pauses_the_dock_until_its_reset() {
    // DigitalOcean says the token has 0 requests left until `ratelimit-reset` (epoch seconds).
    let reset = jiff::Timestamp::now().as_second() + 2;
    let (server, d) = serve(DIGITALOCEAN, move |n, _| {
        let a = ok(json!({"account": {}}));
        if n == 1 {
            a.header("ratelimit-remaining", "0")
                .header("ratelimit-reset", reset.to_string())
        } else {
            a
        }
    })
    .await;
    let _: Value = d.get_json("/account", "/account", &[]).await.expect("ok");
    let start = Instant::now();
    let _: Value = d.get_json("/account", "/account", &[]).await.expect("ok");
    assert_waited(start, Duration::from_millis(900));
    assert_eq!(server.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Pagination

/// Vultr: `per_page` + opaque `cursor`, `meta.links.next` "" at the end.
fn vultr_script(items: Vec<Value>) -> impl Fn(usize, &Seen) -> Answer + Send + Sync {
    move |_, seen| {
        let per_page: usize = seen.query["per_page"].parse().expect("per_page");
        let start: usize = seen
            .query
            .get("cursor")
            .map(|c| c.trim_start_matches("next-").parse().expect("cursor"))
            .unwrap_or(0);
        let end = (start + per_page).min(items.len());
        let next = if end < items.len() {
            format!("next-{end}")
        } else {
            String::new()
        };
        ok(json!({
            "instances": items[start..end],
            "meta": {"total": items.len(), "links": {"next": next, "prev": ""}}
        }))
    }
}

#[tokio::test]
async fn vultr_cursor_pagination() {
    let (server, d) = serve(VULTR, vultr_script(numbered(0..7))).await;
    let opts = ListOptions::new().query("tag", "env:prod").page_size(3);
    let items = d
        .list_values("/instances", "instances", &opts)
        .await
        .expect("listed");
    assert_eq!(ids(&items), (0..7).collect::<Vec<_>>());
    assert_eq!(server.count(), 3);
    assert_eq!(d.stats().route("GET /instances"), 3);
    for seen in server.requests() {
        assert_eq!(seen.query["tag"], "env:prod");
        assert_eq!(seen.query["per_page"], "3");
    }

    // Default page size is the maximum.
    let (server, d) = serve(VULTR, vultr_script(numbered(0..2))).await;
    let items: Vec<Value> = d
        .list("/instances", "instances", &ListOptions::new())
        .await
        .expect("listed");
    assert_eq!(items.len(), 2);
    assert_eq!(server.requests()[0].query["per_page"], "500");
}

/// Waits (up to 2 s) until the server has seen `n` requests; whether it did.
fn seen_requests(server: &Server, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while server.count() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.count() >= n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_page_is_mapped_while_the_next_page_is_requested() {
    let (server, d) = serve(VULTR, vultr_script(numbered(0..7))).await;
    // Mapping the first item of pages 1 and 2 waits for the request of the following page: it
    // has gone out before the page is decoded, so the wait ends at once. A listing that mapped
    // only after the last page (or before asking for the next one) would wait in vain.
    let overlapped = Mutex::new(Vec::new());
    let map = |item: stackdock_providers::http::Item| {
        let id = serde_json::from_str::<Value>(item.get()).expect("JSON")["id"]
            .as_u64()
            .expect("id");
        if id.is_multiple_of(3) && id < 6 {
            let next_request = usize::try_from(id / 3 + 2).expect("small");
            overlapped
                .lock()
                .expect("lock")
                .push((id, seen_requests(&server, next_request)));
        }
        Ok(id)
    };
    let ids = d
        .list_mapped(
            "/instances",
            "instances",
            &ListOptions::new().page_size(3),
            &map,
        )
        .await
        .expect("listed");
    assert_eq!(ids, (0..7).collect::<Vec<_>>(), "mapped in page order");
    assert_eq!(
        *overlapped.lock().expect("lock"),
        vec![(0, true), (3, true)],
        "pages 1 and 2 were mapped while the next page was being asked for"
    );
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn an_item_that_does_not_map_fails_the_whole_listing_on_any_page() {
    for (dialect, route, key) in [
        (VULTR, "/instances", "instances"),
        (DIGITALOCEAN, "/droplets", "droplets"),
    ] {
        for bad in [1u64, 4, 8] {
            let (_server, d) = if std::ptr::eq(dialect, VULTR) {
                serve(dialect, vultr_script(numbered(0..9))).await
            } else {
                serve(dialect, do_script(numbered(0..9), Duration::ZERO, None)).await
            };
            let map = |item: stackdock_providers::http::Item| {
                let id = serde_json::from_str::<Value>(item.get()).expect("JSON")["id"]
                    .as_u64()
                    .expect("id");
                if id == bad {
                    return Err(ProviderError::new(
                        ErrorClass::Transient,
                        "test",
                        "GET /x",
                        format!("item {id} has an unexpected shape"),
                    ));
                }
                Ok(id)
            };
            let e = d
                .list_mapped(route, key, &ListOptions::new().page_size(3), &map)
                .await
                .expect_err("a listing with an unmappable item is an error, never a shorter list");
            assert_eq!(
                e.class,
                ErrorClass::Transient,
                "{} item {bad}",
                dialect.provider
            );
            assert!(
                e.message.contains(&format!("item {bad} has")),
                "{}: {e}",
                dialect.provider
            );
        }
    }
}

#[tokio::test]
async fn vultr_repeated_cursor_is_a_loop() {
    let (server, d) = serve(VULTR, |_, _| {
        ok(json!({
            "instances": [{"id": 1}],
            "meta": {"total": 100, "links": {"next": "same", "prev": ""}}
        }))
    })
    .await;
    let says = "pagination loop at GET /instances page 3";
    assert_listing_fails(&d, "/instances", "instances", 1, says).await;
    assert_eq!(server.count(), 2);
}

/// DigitalOcean: `page` + `per_page`, `meta.total`, `links.pages.next` when there is one.
fn do_script(
    items: Vec<Value>,
    delay: Duration,
    empty_page: Option<usize>,
) -> impl Fn(usize, &Seen) -> Answer + Send + Sync {
    move |_, seen| {
        let page: usize = seen.query["page"].parse().expect("page");
        let per_page: usize = seen.query["per_page"].parse().expect("per_page");
        let start = ((page - 1) * per_page).min(items.len());
        let end = (start + per_page).min(items.len());
        let last = items.len().div_ceil(per_page);
        let mut pages = serde_json::Map::new();
        if page < last {
            pages.insert(
                "next".into(),
                json!(format!(
                    "http://h/v2/droplets?page={}&per_page={per_page}",
                    page + 1
                )),
            );
        }
        let slice = if empty_page == Some(page) {
            &items[0..0]
        } else {
            &items[start..end]
        };
        ok(json!({
            "droplets": slice,
            "links": {"pages": pages},
            "meta": {"total": items.len()}
        }))
        .delay(delay)
    }
}

#[tokio::test]
async fn digitalocean_pages_are_fetched_concurrently_and_in_order() {
    let script = do_script(numbered(0..9), Duration::from_millis(150), None);
    let (server, d) = serve(DIGITALOCEAN, script).await;
    let opts = ListOptions::new()
        .query("tag_name", "stackdock")
        .page_size(2);
    let start = Instant::now();
    let items = d
        .list_values("/droplets", "droplets", &opts)
        .await
        .expect("listed");
    assert_eq!(ids(&items), (0..9).collect::<Vec<_>>());
    assert_eq!(server.count(), 5, "one request per page");
    assert!(server.max_in_flight() >= 2, "pages 2..5 in parallel");
    // Sequentially 5 × 150 ms; page 1 then pages 2..5 together ≈ 300 ms.
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
    for seen in server.requests() {
        assert_eq!(seen.query["tag_name"], "stackdock");
    }

    // Page concurrency is bounded.
    let server = Server::start(do_script(numbered(0..40), Duration::from_millis(50), None)).await;
    let d = tuned(&server, DIGITALOCEAN, Duration::from_secs(5), |s| {
        s.page_concurrency = 3;
    });
    let items = d
        .list_values("/droplets", "droplets", &ListOptions::new().page_size(2))
        .await
        .expect("listed");
    assert_eq!(ids(&items), (0..40).collect::<Vec<_>>());
    assert_eq!(server.count(), 20);
    assert!(server.max_in_flight() <= 3);
}

#[tokio::test]
async fn digitalocean_single_page_and_default_page_size() {
    let (server, d) = serve(
        DIGITALOCEAN,
        do_script(numbered(0..3), Duration::ZERO, None),
    )
    .await;
    let items = d
        .list_values("/droplets", "droplets", &ListOptions::new())
        .await
        .expect("listed");
    assert_eq!(items.len(), 3);
    assert_eq!(server.count(), 1);
    assert_eq!(server.requests()[0].query["per_page"], "200");
}

#[tokio::test]
async fn empty_middle_page_is_an_error() {
    let script = do_script(numbered(0..9), Duration::ZERO, Some(3));
    let (_server, d) = serve(DIGITALOCEAN, script).await;
    assert_listing_fails(&d, "/droplets", "droplets", 2, "page 3 of 5 is empty").await;
}

#[tokio::test]
async fn digitalocean_without_total_follows_next_links() {
    let items = numbered(0..5);
    let (server, d) = serve(DIGITALOCEAN, move |_, seen| {
        let page: usize = seen.query["page"].parse().expect("page");
        let start = (page - 1) * 2;
        let end = (start + 2).min(items.len());
        let mut pages = serde_json::Map::new();
        if end < items.len() {
            pages.insert(
                "next".into(),
                json!(format!("http://h/v2/x?page={}", page + 1)),
            );
        }
        ok(json!({"volumes": items[start..end], "links": {"pages": pages}}))
    })
    .await;
    let got = d
        .list_values("/volumes", "volumes", &ListOptions::new().page_size(2))
        .await
        .expect("listed");
    assert_eq!(ids(&got), vec![0, 1, 2, 3, 4]);
    assert_eq!(server.count(), 3);
}

/// Linode: `page` + `page_size`; body `page`, `pages`, `results`. `stuck` answers page 1 always.
fn linode_script(items: Vec<Value>, stuck: bool) -> impl Fn(usize, &Seen) -> Answer + Send + Sync {
    move |_, seen| {
        let size: usize = seen.query["page_size"].parse().expect("page_size");
        let pages = items.len().div_ceil(size).max(1);
        let mut page: usize = seen.query["page"].parse().expect("page");
        if stuck {
            page = 1;
        }
        let start = ((page - 1) * size).min(items.len());
        let end = (start + size).min(items.len());
        ok(json!({"data": items[start..end], "page": page, "pages": pages, "results": items.len()}))
    }
}

#[tokio::test]
async fn linode_pages_with_x_filter() {
    let (server, d) = serve(LINODE, linode_script(numbered(0..1234), false)).await;
    let filter = r#"{"tags":"stackdock"}"#;
    let items = d
        .list_values(
            "/linode/instances",
            "data",
            &ListOptions::new().header("X-Filter", filter),
        )
        .await
        .expect("listed");
    assert_eq!(ids(&items), (0..1234).collect::<Vec<_>>());
    assert_eq!(server.count(), 3);
    for seen in server.requests() {
        assert_eq!(seen.query["page_size"], "500");
        assert_eq!(seen.headers["x-filter"], filter);
    }
    let mut pages: Vec<String> = server
        .requests()
        .iter()
        .map(|s| s.query["page"].clone())
        .collect();
    pages.sort();
    assert_eq!(pages, vec!["1", "2", "3"]);
}

#[tokio::test]
async fn linode_repeated_page_is_a_loop() {
    let (_server, d) = serve(LINODE, linode_script(numbered(0..5), true)).await;
    let says = "pagination loop at GET /volumes page 2";
    assert_listing_fails(&d, "/volumes", "data", 2, says).await;
}

#[tokio::test]
async fn listing_that_changes_between_pages_is_an_error() {
    let (_server, d) = serve(LINODE, move |_, seen| {
        let page: usize = seen.query["page"].parse().expect("page");
        // The total grows while we page: an item shifted, one could have been skipped.
        let results = if page == 1 { 4 } else { 5 };
        let data = if page == 1 {
            numbered(0..2)
        } else {
            numbered(2..4)
        };
        ok(json!({"data": data, "page": page, "pages": 2, "results": results}))
    })
    .await;
    assert_listing_fails(&d, "/volumes", "data", 2, "changed while it was paged").await;
}

#[tokio::test]
async fn list_decodes_typed_items_and_missing_key_is_an_error() {
    #[derive(serde::Deserialize)]
    struct Item {
        id: u64,
    }
    let (_server, d) = serve(VULTR, vultr_script(numbered(0..4))).await;
    let items: Vec<Item> = d
        .list("/instances", "instances", &ListOptions::new())
        .await
        .expect("typed");
    assert_eq!(items.iter().map(|i| i.id).sum::<u64>(), 6);
    let e = d
        .list_values("/instances", "blocks", &ListOptions::new())
        .await
        .expect_err("no such key");
    assert!(e.message.contains("no `blocks` list"), "{e}");
}

mod vercel;
