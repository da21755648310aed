//! Vultr API v2 under `/vultr/v2`: account, instances, block storage, managed
//! databases, DNS (zones and records) and the read-only catalogs (regions, plans, operating
//! systems, applications), with cursor pagination (`per_page` ≤ 500, `cursor`, `meta.links`),
//! `{"error": "...", "status": N}` errors and 202-accepted asynchronous creates.
//!
//! Secrets are returned exactly where Vultr returns them: instance
//! `default_password` and `kvm` URL, database `password` / `access_key` /
//! `access_cert` — in LIST responses too.
//!
//! This module owns the provider's store, its [`Emulation`] and what its kinds share; each kind
//! (`instances`, `blocks`, `databases`, `domains`) lives in its own file.

mod blocks;
mod catalogs;
mod databases;
mod domains;
mod instances;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Provider;
use crate::catalog::{self, VULTR_REGIONS};
use crate::collection::{Collections, Of, OutOfBand};
use crate::emulation::{Emulation, Expected, RateHeaders};
use crate::http::{error, json};
use crate::server::App;
use crate::state::{self, State as AppState, Table};

use blocks::Block;
use databases::Database;
use domains::{DnsRecord, Zone};
use instances::Instance;

const P: Provider = Provider::Vultr;
const SALT: u64 = 0x5655_4c54;

/// Vultr state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    instances: Table<Instance>,
    blocks: Table<Block>,
    databases: Table<Database>,
    domains: Table<Zone>,
    records: Table<DnsRecord>,
    bulk: u64,
}

impl state::Store for Store {
    /// Keeps the bulk counter: generated resources after a reset get new numbers.
    fn clear(&mut self) {
        self.instances.clear();
        self.blocks.clear();
        self.databases.clear();
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
    (VULTR_REGIONS, 37),
    &[
        &Of::<Instance>::NEW,
        &Of::<Block>::NEW,
        &Of::<Database>::NEW,
        &Of::<Zone>::NEW,
        &Of::<DnsRecord>::NEW,
    ],
);

/// The Vultr emulation.
#[derive(Debug)]
pub(crate) struct Vultr;

impl Emulation for Vultr {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        Router::new()
            .route("/vultr/v2/account", get(account))
            .merge(instances::routes())
            .merge(blocks::routes())
            .merge(databases::routes())
            .merge(domains::routes())
            .merge(catalogs::routes())
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        instances::seed_fixtures(st);
        blocks::seed_fixtures(st);
        databases::seed_fixtures(st);
        domains::seed_fixtures(store(st));
    }

    fn collections(&self) -> &'static dyn OutOfBand {
        &COLLECTIONS
    }

    fn error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({"error": message, "status": status.as_u16()})
    }

    fn not_found_message(&self, what: &str) -> String {
        format!("{what} not found")
    }

    fn unknown_endpoint_message(&self) -> String {
        "Invalid API endpoint.".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Invalid JSON body."
    }

    fn unauthorized_message(&self) -> &'static str {
        "Invalid API token."
    }

    fn too_many_message(&self) -> &'static str {
        "Rate limit reached - please try your request again later."
    }

    fn field_error(&self, key: &str, expected: Expected) -> Response {
        match expected {
            Expected::String => bad(&format!("Invalid {key}: must be a string.")),
            Expected::StringList => bad(&format!("Invalid {key}: must be an array of strings.")),
        }
    }

    /// Vultr sends no rate-limit headers.
    fn rate_headers(&self) -> Option<RateHeaders> {
        None
    }
}

// ---------------------------------------------------------------------------
// shared by the kinds

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

/// The number in a fixture's secret (`SANDBOX-SECRET-pw-7` → 7), so a fixture keeps its secrets.
fn secret_seq(text: &str) -> Option<u64> {
    text.rsplit('-').next()?.parse().ok()
}

fn parse_uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or_else(|_| Uuid::new_v4())
}

/// Whether a create body sets `key` (Vultr treats `""` and `0` as not set).
fn present(body: &Map<String, Value>, key: &str) -> bool {
    match body.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_u64() != Some(0),
        Some(_) => true,
    }
}

/// A required string field that must be a Vultr region.
fn region_field(body: &crate::http::JsonBody) -> Result<String, Response> {
    let region = body
        .str("region")?
        .ok_or_else(|| bad("Missing required parameter: region"))?;
    if !VULTR_REGIONS.contains(&region.as_str()) {
        return Err(bad("Invalid region."));
    }
    Ok(region)
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::VULTR_ACCOUNT))
}
