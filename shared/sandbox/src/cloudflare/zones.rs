//! Cloudflare zones ([cf-spec] zones-get, zones-post, zones-0-get, zones-0-delete): listed with
//! `page`/`per_page` (5 to 50, default 20) and the `name`, `status` and `account.id` filters;
//! created `pending` with two assigned nameservers, and `active` once read a few times; deleted
//! with their records.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{ACCOUNT_ID, ACCOUNT_NAME, P, Store, bad, no_route, ok, store};
use crate::Kind;
use crate::collection::{ListRequest, list_route, poll, stored};
use crate::dns::valid_zone;
use crate::editable::{Editable, resource};
use crate::http::{Listing, body_object, json};
use crate::pagination::{self, PerPage};
use crate::server::App;
use crate::state::{self, Slot, fields, time_do};

/// [cf-spec] zones-get `per_page`.
const PER_PAGE: PerPage = PerPage {
    default: 20,
    min: 5,
    max: 50,
};

/// The owner every zone of the account has ([cf-spec] `zones_zone.owner`).
const OWNER_ID: &str = "7c5dae5552338874e5053f2534d2767a";

/// [cf-spec] zones-get `status`.
const STATUSES: [&str; 4] = ["initializing", "pending", "active", "moved"];

/// The names Cloudflare's assigned nameservers are made of (`<name>.ns.cloudflare.com`).
const NS_NAMES: [&str; 12] = [
    "ada", "bob", "cruz", "dana", "eli", "fay", "gus", "ivy", "kai", "lola", "max", "rex",
];

#[derive(Debug, Hash)]
pub(crate) struct Zone {
    pub(super) id: String,
    pub(super) name: String,
    status: String,
    paused: bool,
    zone_type: String,
    name_servers: Vec<String>,
    original_name_servers: Option<Vec<String>>,
    original_registrar: Option<String>,
    /// Planted as a secret in the fixtures (a partial zone's ownership token).
    verification_key: Option<String>,
    account_id: String,
    created: i64,
    activated: Option<i64>,
    /// Reads left until a pending zone turns active.
    pending: u32,
}

resource!(
    Zone,
    key: |z| z.id.clone(),
    label: name,
    summary: |z| (&z.status, "", &z.zone_type, &[] as &[String]),
    edit: |z| Editable::default().status(&mut z.status),
    observe: |z| if state::countdown(&mut z.pending) && z.status == "pending" {
        z.status = "active".to_owned();
        z.activated = Some(state::now());
    },
);

impl Zone {
    pub(super) fn render(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "paused": self.paused,
            "type": self.zone_type,
            "development_mode": 0,
            "name_servers": self.name_servers,
            "original_name_servers": self.original_name_servers,
            "original_registrar": self.original_registrar,
            "original_dnshost": null,
            "vanity_name_servers": [],
            "verification_key": self.verification_key,
            "created_on": time_do(self.created),
            "modified_on": time_do(self.activated.unwrap_or(self.created)),
            "activated_on": self.activated.map(time_do),
            "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3, "phishing_detected": false},
            "owner": {"id": OWNER_ID, "type": "organization", "name": ACCOUNT_NAME},
            "account": {"id": self.account_id, "name": ACCOUNT_NAME},
            "permissions": ["#zone:read", "#zone:edit", "#dns_records:read", "#dns_records:edit"],
        })
    }
}

/// Two nameservers for zone `name`, the same for the same name.
fn assigned(name: &str) -> Vec<String> {
    let h = state::fingerprint(&name) as usize;
    let first = h % NS_NAMES.len();
    let second = (first + 1 + (h / NS_NAMES.len()) % (NS_NAMES.len() - 1)) % NS_NAMES.len();
    [first, second]
        .iter()
        .map(|i| format!("{}.ns.cloudflare.com", NS_NAMES[*i]))
        .collect()
}

impl Store {
    /// A new `full` zone of the account, `pending` for `pending_polls` reads.
    pub(super) fn add_zone(&mut self, name: &str, pending_polls: u32, created: i64) -> Zone {
        let (status, activated) = if pending_polls == 0 {
            ("active", Some(created))
        } else {
            ("pending", None)
        };
        Zone {
            id: self.new_id(),
            name: name.to_owned(),
            status: status.to_owned(),
            paused: false,
            zone_type: "full".to_owned(),
            name_servers: assigned(name),
            original_name_servers: None,
            original_registrar: None,
            verification_key: None,
            account_id: ACCOUNT_ID.to_owned(),
            created,
            activated,
            pending: pending_polls,
        }
    }
}

// ---------------------------------------------------------------------------
// seeding

/// The fixture zones with their records (`fixtures/cloudflare/zones.json`: each zone object as
/// the API renders it, plus its `records`).
pub(super) fn seed_fixtures(store: &mut Store) {
    for z in crate::catalog::items(crate::catalog::CLOUDFLARE_ZONES, "result") {
        let strings = |key| Some(fields::strings(&z, key)).filter(|s| !s.is_empty());
        let zone = Zone {
            id: fields::string(&z, "id"),
            name: fields::string(&z, "name"),
            status: fields::string(&z, "status"),
            paused: z.get("paused").and_then(Value::as_bool).unwrap_or(false),
            zone_type: fields::string(&z, "type"),
            name_servers: fields::strings(&z, "name_servers"),
            original_name_servers: strings("original_name_servers"),
            original_registrar: fields::opt_string(&z, "original_registrar"),
            verification_key: fields::opt_string(&z, "verification_key"),
            account_id: z["account"]["id"].as_str().unwrap_or(ACCOUNT_ID).to_owned(),
            created: state::parse_time(&fields::string(&z, "created_on")),
            activated: fields::opt_string(&z, "activated_on").map(|t| state::parse_time(&t)),
            pending: 0,
        };
        for r in z
            .get("records")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            super::records::seed_record(store, &zone, r);
        }
        store.zones.insert(zone.id.clone(), zone);
    }
}

/// Generated zones: `bulk-<n>.example`, active, without records.
fn bulk_zone(store: &mut Store, slot: Slot) -> Zone {
    store.add_zone(&format!("bulk-{:06}.example", slot.n), 0, slot.created)
}

stored!(Zone: Kind::Domain, in Store.zones, render: |z, _s| z.render(), bulk: bulk_zone,
    deleted: drop_records);

/// A deleted zone takes its records with it.
fn drop_records(store: &mut Store, zone: Zone) {
    store.records.retain(|r| r.zone_id != zone.id);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/cloudflare/client/v4/zones",
            list_route("result", list_zones).post(create_zone),
        )
        .route(
            "/cloudflare/client/v4/zones/{zone_id}",
            get(get_zone).delete(delete_zone),
        )
}

/// `GET /zones` with `name`, `status` and `account.id` (each an exact match).
fn list_zones(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let q = req.query;
    let wanted = |key: &str| q.get(key).filter(|v| !v.is_empty());
    if let Some(status) = wanted("status")
        && !STATUSES.contains(&status.as_str())
    {
        return Err(bad(1001, &format!("Invalid status: {status}")));
    }
    let seqs = store.zones.select(|z| {
        wanted("name").is_none_or(|n| *n == z.name)
            && wanted("status").is_none_or(|s| *s == z.status)
            && wanted("account.id").is_none_or(|a| *a == z.account_id)
    });
    let page =
        pagination::result_info(seqs.len(), q, PER_PAGE, req.mode).map_err(|m| bad(1001, &m))?;
    Ok(store
        .zones
        .listing(&seqs, page, state::fingerprint, Zone::render))
}

/// `POST /zones` `{name, account: {id}, type?}` ([cf-spec] zones-post: `name` and `account`
/// required; `type` full, partial or secondary).
async fn create_zone(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let name = body
        .str("name")?
        .ok_or_else(|| bad(1099, "name is required"))?;
    let account = match body.get("account") {
        Some(Value::Object(a)) => a.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
    .ok_or_else(|| bad(1001, "account.id is required"))?;
    let zone_type = body.str("type")?.unwrap_or_else(|| "full".to_owned());
    if !["full", "partial", "secondary"].contains(&zone_type.as_str()) {
        return Err(bad(1001, "type must be full, partial or secondary"));
    }
    if !valid_zone(&name) {
        return Err(bad(1099, &format!("Invalid domain name: {name}")));
    }
    if account != ACCOUNT_ID {
        return Err(error_forbidden());
    }
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let store = store(&mut st);
    if store.zones.values().any(|z| z.name == name) {
        return Err(bad(1061, &format!("{name} already exists")));
    }
    let mut zone = store.add_zone(&name, pending.max(1), state::now());
    zone.zone_type = zone_type;
    let json = store.zones.create(zone, pending, Zone::render);
    Ok(ok(json))
}

fn error_forbidden() -> Response {
    super::error(
        StatusCode::FORBIDDEN,
        1002,
        "Requestor does not have access to this account",
    )
}

async fn get_zone(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match poll::<Zone>(store(&mut st), &id) {
        Some(zone) => ok(zone),
        None => no_route(&format!("/zones/{id}")),
    }
}

/// `DELETE /zones/{zone_id}` → `{"result": {"id"}}`; the zone's records go with it.
async fn delete_zone(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    match store.zones.remove(&id) {
        Some(zone) => {
            drop_records(store, zone);
            json(StatusCode::OK, &super::success(json!({ "id": id })))
        }
        None => no_route(&format!("/zones/{id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_nameservers_are_two_different_and_stable() {
        let a = assigned("example.com");
        assert_eq!(a.len(), 2);
        assert_ne!(a[0], a[1]);
        assert_eq!(a, assigned("example.com"));
        assert!(a[0].ends_with(".ns.cloudflare.com"));
    }

    #[test]
    fn a_new_zone_is_pending_until_read_then_active() {
        use crate::state::Resource;
        let mut store = Store::default();
        let mut z = store.add_zone("example.com", 2, state::now());
        assert_eq!(z.status, "pending");
        z.observe();
        assert_eq!(z.status, "pending");
        z.observe();
        assert_eq!(z.status, "active");
        assert!(z.activated.is_some());
        assert_eq!(store.add_zone("example.net", 0, 0).status, "active");
    }
}
