//! Cloudflare API v4 under `/cloudflare/client/v4`: the token check, Pages projects, Workers
//! scripts (listed only), D1 databases, R2 buckets, zones and their DNS records ([cf-spec] cloudflare/api-schemas `openapi.json`, `fixtures/specs/cloudflare`).
//!
//! Every answer is Cloudflare's envelope `{"success", "errors": [{"code", "message"}],
//! "messages", "result"}`, errors included; listings are `page`/`per_page` with
//! `result_info {page, per_page, count, total_count, total_pages}` within each list's
//! documented bounds; the rate-limit headers are the structured `Ratelimit` /
//! `Ratelimit-Policy` fields, with `Retry-After` on a 429. A new zone is `pending` until it has
//! been read a few times (the sandbox's stand-in for the registrar delegating to its assigned
//! nameservers), then `active`.
//!
//! This module owns the provider's store, its [`Emulation`] and the envelope; each kind lives
//! in its own file (`pages.rs`, `workers.rs`, `databases.rs`, `buckets.rs`, `zones.rs`, `records.rs`).

mod buckets;
mod databases;
mod pages;
mod pages_bodies;
mod records;
mod workers;
mod zones;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::catalog;
use crate::collection::{Collections, Of, OutOfBand, Stored, poll};
use crate::emulation::{Emulation, Expected, HeaderForm, RateHeaders};
use crate::http::json;
use crate::server::App;
use crate::state::{self, State as AppState, Table};

use buckets::R2Bucket;
use databases::D1Database;
use pages::PagesProject;
use records::DnsRecord;
use workers::WorkersScript;
use zones::Zone;

const P: Provider = Provider::Cloudflare;
const SALT: u64 = 0x434c_4f55_4446;

/// The account the sandbox's token works in.
pub(crate) const ACCOUNT_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const ACCOUNT_NAME: &str = "Acme";

/// Cloudflare state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pages: Table<PagesProject>,
    buckets: Table<R2Bucket>,
    databases: Table<D1Database>,
    zones: Table<Zone>,
    records: Table<DnsRecord>,
    workers: Table<WorkersScript>,
    /// Ids handed out (zones and records), for ids that never repeat.
    next_id: u64,
    bulk: u64,
}

impl state::Store for Store {
    /// Keeps the counters: resources after a reset get new ids and numbers.
    fn clear(&mut self) {
        self.pages.clear();
        self.buckets.clear();
        self.databases.clear();
        self.zones.clear();
        self.records.clear();
        self.workers.clear();
    }

    fn bulk_counter(&mut self) -> &mut u64 {
        &mut self.bulk
    }
}

impl Store {
    /// A new D1 database uuid (hyphenated).
    fn new_uuid(&mut self) -> String {
        self.next_id += 1;
        state::det_uuid(SALT, self.next_id).hyphenated().to_string()
    }

    /// A new 32-hex id ([cf-spec] `identifier`).
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        state::det_uuid(SALT, self.next_id).simple().to_string()
    }
}

fn store(st: &mut AppState) -> &mut Store {
    st.store_mut()
}

static COLLECTIONS: Collections<Store> = Collections::new(
    P,
    (&["global"], 41),
    &[
        &Of::<PagesProject>::NEW,
        &Of::<D1Database>::NEW,
        &Of::<R2Bucket>::NEW,
        &Of::<Zone>::NEW,
        &Of::<DnsRecord>::NEW,
        &Of::<WorkersScript>::NEW,
    ],
);

/// The Cloudflare emulation.
#[derive(Debug)]
pub(crate) struct Cloudflare;

impl Emulation for Cloudflare {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        Router::new()
            .route("/cloudflare/client/v4/user/tokens/verify", get(verify))
            .merge(pages::routes())
            .merge(buckets::routes())
            .merge(databases::routes())
            .merge(zones::routes())
            .merge(records::routes())
            .merge(workers::routes())
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        pages::seed_fixtures(store(st));
        databases::seed_fixtures(store(st));
        buckets::seed_fixtures(store(st));
        zones::seed_fixtures(store(st));
        workers::seed_fixtures(store(st));
    }

    fn collections(&self) -> &'static dyn OutOfBand {
        &COLLECTIONS
    }

    fn error_body(&self, status: StatusCode, message: &str) -> Value {
        failure(code_of(status), message)
    }

    fn not_found_message(&self, what: &str) -> String {
        format!("{what} not found")
    }

    fn unknown_endpoint_message(&self) -> String {
        "No route for that URI".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Malformed JSON in request body"
    }

    fn unauthorized_message(&self) -> &'static str {
        "Authentication error"
    }

    fn too_many_message(&self) -> &'static str {
        "Please wait and consider throttling your request speed"
    }

    fn internal_error_message(&self) -> &'static str {
        "Internal Server Error"
    }

    fn field_error(&self, key: &str, expected: Expected) -> Response {
        let what = match expected {
            Expected::String => "a string",
            Expected::StringList => "an array of strings",
        };
        bad(
            1004,
            &format!("DNS Validation Error: `{key}` must be {what}"),
        )
    }

    /// [cf-docs]: 1,200 requests per five minutes per token, told by the structured fields.
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            form: HeaderForm::Structured {
                name: "ratelimit",
                policy: "ratelimit-policy",
            },
            limit: 1200,
            window: Duration::from_secs(300),
        })
    }
}

// ---------------------------------------------------------------------------
// the envelope, shared by the kinds

/// Cloudflare's error code for an answer of `status` the API proper does not code itself
/// (10000: authentication, 971: throttled, 7003: no such object or route, 1004: validation).
fn code_of(status: StatusCode) -> u32 {
    match status.as_u16() {
        401 | 403 => 10000,
        404 => 7003,
        429 => 971,
        400 | 422 => 1004,
        _ => 10000,
    }
}

/// A failure's body ([cf-spec] `api-response-common-failure`).
fn failure(code: u32, message: &str) -> Value {
    json!({
        "success": false,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": null,
    })
}

/// A success's body with `result` ([cf-spec] `api-response-single`).
fn success(result: Value) -> Value {
    json!({"success": true, "errors": [], "messages": [], "result": result})
}

/// 200 with `result`.
fn ok(result: Value) -> Response {
    json(StatusCode::OK, &success(result))
}

/// An error answer of `status` with Cloudflare's `code`.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    json(status, &failure(code, message))
}

/// A 400 with Cloudflare's `code`.
fn bad(code: u32, message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, code, message)
}

/// The 404 of an object path Cloudflare cannot route (an unknown zone or record id).
fn no_route(path: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        7003,
        &format!("Could not route to {path}, perhaps your object identifier is invalid?"),
    )
}

/// The account of an `/accounts/{account_id}/…` path must be the token's.
fn check_account(account: &str) -> Result<(), Response> {
    if account == ACCOUNT_ID {
        Ok(())
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            10000,
            "Authentication error: the token has no access to this account",
        ))
    }
}

/// `GET …/{id}` of one object of the account (`T`'s row `key`): the account checked, then the
/// row answered and observed, as a poll; `absent` is the kind's own 404.
fn get_in_account<T: Stored<Store = Store>>(
    app: &App,
    account: &str,
    key: &str,
    absent: fn() -> Response,
) -> Result<Response, Response> {
    check_account(account)?;
    let mut st = app.state();
    poll::<T>(store(&mut st), key).map(ok).ok_or_else(absent)
}

/// `DELETE …/{id}` of one object of the account (`T`'s row `key`) → `result: null`; `absent` is
/// the kind's own 404.
fn delete_in_account<T: Stored<Store = Store>>(
    app: &App,
    account: &str,
    key: &str,
    absent: fn() -> Response,
) -> Result<Response, Response> {
    check_account(account)?;
    let mut st = app.state();
    T::table_mut(store(&mut st))
        .remove(key)
        .map(|_| ok(Value::Null))
        .ok_or_else(absent)
}

/// `GET /user/tokens/verify` ([cf-spec] user-api-tokens-verify-token).
async fn verify() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::CLOUDFLARE_TOKEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_the_envelope_and_a_code() {
        let body = Cloudflare.error_body(StatusCode::TOO_MANY_REQUESTS, "slow down");
        assert_eq!(body["success"], json!(false));
        assert_eq!(body["errors"][0]["code"], json!(971));
        assert_eq!(body["result"], Value::Null);
        assert_eq!(success(json!({"id": "x"}))["errors"], json!([]));
    }

    #[test]
    fn ids_are_32_hex_digits_and_never_repeat() {
        let mut store = Store::default();
        let (a, b) = (store.new_id(), store.new_id());
        assert_ne!(a, b);
        assert!(a.len() == 32 && a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
