//! DigitalOcean API v2 under `/digitalocean/v2`: account, droplets (+ actions),
//! actions, tags, volumes (+ actions), DNS zones and records, and the region/size/image catalogs, with
//! page/per_page pagination (≤ 200) and absolute `links.pages` URLs pointing back
//! at the sandbox, `{"id": "...", "message": "..."}` errors, `ratelimit-*` headers
//! on every response, and GPU droplets omitted from the default listing.
//!
//! This module owns the provider's store, its [`Emulation`] and what its parts share; droplets,
//! volumes, tags, actions and the catalog listings live in their own files.

mod actions;
mod catalogs;
mod domains;
mod droplets;
mod tags;
mod volumes;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::catalog;
use crate::collection::{Collections, Of, OutOfBand, Stored};
use crate::emulation::{Emulation, Expected, HeaderForm, RateHeaders};
use crate::http::{error, json, not_found};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{self, Change, State as AppState, Table};
use crate::{Kind, Provider, SandboxError};

use actions::Action;
use domains::{DnsRecord, Zone};
use droplets::Droplet;
use volumes::Volume;

const P: Provider = Provider::Digitalocean;
const SALT: u64 = 0x444f_5631;
const PREFIX: &str = "/digitalocean/v2";

/// DigitalOcean state.
#[derive(Debug)]
pub(crate) struct Store {
    droplets: Table<Droplet>,
    volumes: Table<Volume>,
    actions: Table<Action>,
    domains: Table<Zone>,
    records: Table<DnsRecord>,
    tags: BTreeSet<String>,
    next_droplet: u64,
    next_record: u64,
    next_action: u64,
    bulk: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            droplets: Table::default(),
            volumes: Table::default(),
            actions: Table::default(),
            domains: Table::default(),
            records: Table::default(),
            tags: BTreeSet::new(),
            next_droplet: 402_000_000,
            next_record: 3_352_000_000,
            next_action: 2_100_000_000,
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

const BULK_REGIONS: &[&str] = &[
    "nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1",
];

static COLLECTIONS: Collections<Store> = Collections::new(
    P,
    (BULK_REGIONS, 41),
    &[
        &Of::<Droplet>::NEW,
        &Of::<Volume>::NEW,
        &Of::<Zone>::NEW,
        &Of::<DnsRecord>::NEW,
    ],
);

impl Store {
    /// After an out-of-band tag change of the `T` with `key`, its tags are the account's too.
    fn account_tags<T: Stored<Store = Store>>(&mut self, key: &str, change: &Change) {
        if let Some(row) = T::table(self).get(key)
            && change.is_tag_change()
        {
            let tags = row.summary().tags;
            self.tags.extend(tags);
        }
    }
}

/// The DigitalOcean emulation.
#[derive(Debug)]
pub(crate) struct Digitalocean;

impl Emulation for Digitalocean {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        Router::new()
            .route("/digitalocean/v2/account", get(account))
            .merge(droplets::routes())
            .merge(actions::routes())
            .merge(tags::routes())
            .merge(volumes::routes())
            .merge(domains::routes())
            .merge(catalogs::routes())
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        droplets::seed_fixtures(store(st));
        volumes::seed_fixtures(store(st));
        domains::seed_fixtures(store(st));
    }

    fn collections(&self) -> &'static dyn OutOfBand {
        &COLLECTIONS
    }

    /// Generated droplets and volumes are tagged `bulk`: the account has that tag.
    fn seed_bulk(&self, st: &mut AppState, kind: Kind, n: usize) -> Result<(), SandboxError> {
        if matches!(kind, Kind::Instance | Kind::Volume) {
            store(st).tags.insert("bulk".to_owned());
        }
        COLLECTIONS.seed_bulk(st, kind, n)
    }

    fn error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({
            "id": do_slug(status),
            "message": message,
            "request_id": Uuid::new_v4().to_string(),
        })
    }

    /// DigitalOcean answers these without a `request_id`.
    fn edge_error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({"id": do_slug(status), "message": message})
    }

    fn not_found_message(&self, _what: &str) -> String {
        "The resource you were accessing could not be found.".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "unable to parse request body: invalid JSON"
    }

    fn unauthorized_message(&self) -> &'static str {
        "Unable to authenticate you"
    }

    fn too_many_message(&self) -> &'static str {
        "API rate limit exceeded."
    }

    fn internal_error_message(&self) -> &'static str {
        "Server was unable to give you a response."
    }

    fn field_error(&self, key: &str, expected: Expected) -> Response {
        match expected {
            Expected::String => unprocessable(&format!("{key} must be a string")),
            Expected::StringList => unprocessable(&format!("{key} must be an array of strings")),
        }
    }

    /// `ratelimit-*`, nominally 5,000 requests an hour.
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            form: HeaderForm::Counters([
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
            ]),
            limit: 5000,
            window: Duration::from_secs(3600),
        })
    }
}

/// DigitalOcean's error `id` for a status.
fn do_slug(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        503 => "service_unavailable",
        _ => "server_error",
    }
}

// ---------------------------------------------------------------------------
// shared by the parts

fn unprocessable(msg: &str) -> Response {
    error(P, StatusCode::UNPROCESSABLE_ENTITY, msg)
}

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

fn nf() -> Response {
    not_found(P, "")
}

/// A region's catalog object; an unknown slug gets a minimal one.
fn region_object(slug: &str) -> Value {
    catalog::digitalocean()
        .region(slug)
        .cloned()
        .unwrap_or_else(
            || json!({"name": slug, "slug": slug, "features": [], "available": true, "sizes": []}),
        )
}

/// The page a listing serves; its `links.pages` URLs keep the `keep` query parameters.
fn paged(
    app: &App,
    path: &str,
    q: &HashMap<String, String>,
    keep: &[&str],
    total: usize,
    mode: PageMode,
) -> Result<pagination::Page, Response> {
    let keep: Vec<(&str, &str)> = keep
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    let url = format!("{}{PREFIX}{path}", app.base);
    pagination::digitalocean(total, q, &url, &keep, mode).map_err(|m| bad(&m))
}

/// A list of strings (numbers are taken as their text, as DigitalOcean takes ids); absent or
/// `null` is empty.
fn str_list(body: &Map<String, Value>, key: &str) -> Result<Vec<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unprocessable(&format!("{key} must be an array of strings"))),
        Some(_) => Err(unprocessable(&format!("{key} must be an array"))),
    }
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::DO_ACCOUNT))
}
