//! Linode API v4 under `/linode/v4`: profile, account, Linode instances (+ resize,
//! boot, shutdown, reboot), volumes (+ attach, detach, resize), Object Storage
//! buckets, DNS zones with their records and the read-only catalogs (regions, types, images,
//! StackScripts), with page/page_size pagination (25–500), `X-Filter` header filtering,
//! `{"errors": [{"reason": "...", "field": "..."}]}` errors and
//! `X-RateLimit-*` headers. `root_pass` is validated and never echoed back.
//!
//! This module owns the provider's store, its [`Emulation`] and what its kinds share; each kind
//! (`instances`, `volumes`, `buckets`, `domains`) lives in its own file, the `X-Filter` evaluator in
//! `filter.rs`.

mod buckets;
mod catalogs;
mod domains;
mod filter;
mod instances;
mod volumes;

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::catalog::{self, LINODE_REGIONS};
use crate::collection::{Collections, Of, OutOfBand};
use crate::emulation::{Emulation, Expected, HeaderForm, RateHeaders};
use crate::http::{error, json, not_found};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{self, State as AppState, Table};

use buckets::Bucket;
use domains::{DnsRecord, Zone};
use instances::Instance;
use volumes::Volume;

const P: Provider = Provider::Linode;

/// Linode state.
#[derive(Debug)]
pub(crate) struct Store {
    instances: Table<Instance>,
    volumes: Table<Volume>,
    buckets: Table<Bucket>,
    domains: Table<Zone>,
    records: Table<DnsRecord>,
    next_instance: u64,
    next_volume: u64,
    next_domain: u64,
    next_record: u64,
    bulk: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            instances: Table::default(),
            volumes: Table::default(),
            buckets: Table::default(),
            domains: Table::default(),
            records: Table::default(),
            next_instance: 53_000_000,
            next_volume: 940_000,
            next_domain: 2_760_000,
            next_record: 28_400_000,
            bulk: 0,
        }
    }
}

impl state::Store for Store {
    fn clear(&mut self) {
        *self = Store::default();
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
    (LINODE_REGIONS, 43),
    &[
        &Of::<Instance>::NEW,
        &Of::<Volume>::NEW,
        &Of::<Bucket>::NEW,
        &Of::<Zone>::NEW,
        &Of::<DnsRecord>::NEW,
    ],
);

/// The Linode emulation.
#[derive(Debug)]
pub(crate) struct Linode;

impl Emulation for Linode {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        Router::new()
            .route("/linode/v4/profile", get(profile))
            .route("/linode/v4/account", get(account))
            .merge(instances::routes())
            .merge(volumes::routes())
            .merge(buckets::routes())
            .merge(domains::routes())
            .merge(catalogs::routes())
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        let store = store(st);
        instances::seed_fixtures(store);
        volumes::seed_fixtures(store);
        buckets::seed_fixtures(store);
        domains::seed_fixtures(store);
    }

    fn collections(&self) -> &'static dyn OutOfBand {
        &COLLECTIONS
    }

    fn error_body(&self, _status: StatusCode, message: &str) -> Value {
        json!({"errors": [{"reason": message}]})
    }

    fn not_found_message(&self, _what: &str) -> String {
        "Not found".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Invalid JSON"
    }

    fn unauthorized_message(&self) -> &'static str {
        "Invalid Token"
    }

    fn too_many_message(&self) -> &'static str {
        "Too Many Requests"
    }

    fn internal_error_message(&self) -> &'static str {
        "Please try again"
    }

    /// Linode's 502 comes from its nginx front, as an HTML page.
    fn server_error(&self, code: u16) -> Response {
        if code != 502 {
            return crate::http::server_error(self, code);
        }
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/html"))],
            html,
        )
            .into_response()
    }

    fn field_error(&self, key: &str, expected: Expected) -> Response {
        match expected {
            Expected::String => field_err(key, "Must be a string"),
            Expected::StringList => field_err(key, "Must be a list of strings"),
        }
    }

    /// `X-RateLimit-*`, nominally 1,600 requests per 2 minutes.
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            form: HeaderForm::Counters([
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
            ]),
            limit: 1600,
            window: Duration::from_secs(120),
        })
    }
}

// ---------------------------------------------------------------------------
// shared by the kinds

fn nf() -> Response {
    not_found(P, "")
}

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

/// A 400 naming the offending field.
fn field_err(field: &str, reason: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"errors": [{"reason": reason, "field": field}]}),
    )
}

/// Linode answers most actions and deletes with `{}`.
fn ok_empty() -> Response {
    json(StatusCode::OK, &json!({}))
}

fn page_of(
    total: usize,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<pagination::Page, Response> {
    pagination::linode(total, q, mode).map_err(|reason| field_err("page_size", &reason))
}

/// A region field that must be one of Linode's regions.
fn check_region(region: &str) -> Result<(), Response> {
    if LINODE_REGIONS.contains(&region) {
        Ok(())
    } else {
        Err(field_err("region", "region is not valid"))
    }
}

async fn profile() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::LINODE_PROFILE))
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::LINODE_ACCOUNT))
}
