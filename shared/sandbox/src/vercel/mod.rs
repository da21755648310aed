//! Vercel's REST API under `/vercel` (each path carries its own version, as at
//! `https://api.vercel.com`): the authenticated user, projects (with their domains, variables
//! and production deployment), domains and the DNS records of the domains whose DNS Vercel
//! serves, with `limit` + `until` pagination (`pagination.{count,next,prev}`,
//! millisecond timestamps), `{"error": {"code", "message"}}` errors and `X-RateLimit-*` headers.
//! Every route takes the optional `teamId` and `slug` query parameters the document gives every
//! operation.
//!
//! This module owns the provider's store, its [`Emulation`] and what its kinds share; domains and
//! their records live in `domains.rs`, projects in `projects.rs`.

mod domains;
mod project_domains;
mod projects;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::collection::{Collections, Of, OutOfBand};
use crate::emulation::{Emulation, Expected, HeaderForm, RateHeaders};
use crate::http::{error, json};
use crate::server::App;
use crate::state::{self, State as AppState, Table};

use domains::{DnsRecord, Domain};
use projects::Project;

const P: Provider = Provider::Vercel;
const SALT: u64 = 0x5645_5243;

/// Vercel has no regions for these kinds.
const REGIONS: &[&str] = &[""];

/// Vercel state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    projects: Table<Project>,
    domains: Table<Domain>,
    records: Table<DnsRecord>,
    /// The last creation time handed out (epoch milliseconds): every object gets a later one, so
    /// `until` cursors never tie.
    clock: i64,
    bulk: u64,
}

impl Store {
    /// A creation time after every other one: now, or one millisecond after the last.
    fn stamp(&mut self) -> i64 {
        self.clock = (state::now() * 1000).max(self.clock + 1);
        self.clock
    }

    /// Keeps the clock ahead of a time given by a fixture or a generated object.
    fn saw(&mut self, at: i64) {
        self.clock = self.clock.max(at);
    }
}

impl state::Store for Store {
    /// Keeps the bulk counter and the clock: generated resources after a reset get new numbers.
    fn clear(&mut self) {
        self.projects.clear();
        self.domains.clear();
        self.records.clear();
    }

    fn bulk_counter(&mut self) -> &mut u64 {
        &mut self.bulk
    }
}

fn store(st: &mut AppState) -> &mut Store {
    st.store_mut()
}

static COLLECTIONS: Collections<Store> = Collections::new(
    P,
    (REGIONS, 37),
    &[
        &Of::<Project>::NEW,
        &Of::<Domain>::NEW,
        &Of::<DnsRecord>::NEW,
    ],
);

/// The Vercel emulation.
#[derive(Debug)]
pub(crate) struct Vercel;

impl Emulation for Vercel {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        Router::new()
            .route("/vercel/v2/user", get(user))
            .merge(projects::routes())
            .merge(project_domains::routes())
            .merge(domains::routes())
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        domains::seed_fixtures(store(st));
    }

    fn collections(&self) -> &'static dyn OutOfBand {
        &COLLECTIONS
    }

    /// `{"error": {"code", "message"}}` ([vercel-tf] client/error.go `APIError`).
    fn error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({"error": {"code": code(status), "message": message}})
    }

    fn not_found_message(&self, what: &str) -> String {
        format!("The {what} was not found.")
    }

    fn unknown_endpoint_message(&self) -> String {
        "The requested path was not found.".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Invalid JSON."
    }

    fn unauthorized_message(&self) -> &'static str {
        "The request is missing an authentication token"
    }

    fn too_many_message(&self) -> &'static str {
        "Rate limit exceeded"
    }

    fn field_error(&self, key: &str, expected: Expected) -> Response {
        let what = match expected {
            Expected::String => "string",
            Expected::StringList => "array of strings",
        };
        bad(&format!("Invalid request: `{key}` should be {what}."))
    }

    /// [vercel-docs] /docs/limits: `X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds).
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            form: HeaderForm::Counters([
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
            ]),
            limit: 1200,
            window: Duration::from_secs(60),
        })
    }
}

/// Vercel's error `code` for a status.
fn code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        429 => "rate_limited",
        _ => "internal_server_error",
    }
}

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

/// `GET /v2/user` ([vercel-sdk] getAuthUser).
async fn user() -> Response {
    json(
        StatusCode::OK,
        &crate::catalog::parse(crate::catalog::VERCEL_USER),
    )
}
