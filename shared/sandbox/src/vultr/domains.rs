//! Vultr DNS ([vultr-spec] `/domains`): zones (`/domains`, `/domains/{domain}`) and their records
//! (`/domains/{domain}/records`, `…/records/{record-id}`), cursor-paged like every Vultr listing.
//!
//! A zone is named by its domain; a record by a UUID. Names are relative with `""` for the apex;
//! host-name values (CNAME, MX, NS, SRV) are kept without the trailing dot; SRV `data` is
//! `weight port target` beside `priority`, CAA `data` is `flags tag "value"`. A new zone gets the
//! apex NS records of Vultr's nameservers (its SOA is served by `/domains/{domain}/soa`, not as a
//! record: the document's record `type` enum has no SOA), and an apex A record when created with
//! an `ip`. A record update is a `PATCH` answered `204` without the record; a zone's only
//! update is its DNSSEC switch (`PUT {dns_sec}`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodFilter, get};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{P, SALT, Store, bad, store};
use crate::Kind;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::dns::{BULK_ZONE, bulk_record, valid_zone, value_error};
use crate::editable::{Editable, resource};
use crate::http::{JsonBody, Listing, Q, body_object, empty, error, json, no_content, wrap};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{self, Resource, Slot, fields, time_vultr};

/// Vultr's nameservers, the same for every zone ([vultr-spec] has no field for them).
const NAMESERVERS: [&str; 2] = ["ns1.vultr.com", "ns2.vultr.com"];

/// The TTL a record gets when the request gives none (or 0).
const DEFAULT_TTL: u64 = 300;

/// The record types a request may create ([vultr-spec] create-dns-domain-record `type`).
const TYPES: [&str; 9] = [
    "A", "AAAA", "CNAME", "NS", "MX", "SRV", "TXT", "CAA", "SSHFP",
];

#[derive(Debug, Hash)]
pub(crate) struct Zone {
    name: String,
    dns_sec: bool,
    created: i64,
}

resource!(
    Zone,
    key: |z| z.name.clone(),
    label: name,
    summary: |_z| ("active", "", "", &[] as &[String]),
    edit: |_z| Editable::default(),
);

impl Zone {
    fn render(&self) -> Value {
        json!({
            "domain": self.name,
            "date_created": time_vultr(self.created),
            "dns_sec": if self.dns_sec { "enabled" } else { "disabled" },
        })
    }
}

#[derive(Debug, Hash)]
pub(crate) struct DnsRecord {
    id: Uuid,
    zone: String,
    /// Relative to the zone, `""` at the apex.
    name: String,
    rtype: String,
    data: String,
    ttl: u64,
    /// 0 for the types without one, as Vultr lists them.
    priority: u64,
}

resource!(
    DnsRecord,
    key: |r| r.id.to_string(),
    label: name,
    summary: |r| ("active", "", &r.rtype, &[] as &[String]),
    edit: |r| Editable::default().data(&mut r.data).ttl(&mut r.ttl),
);

impl DnsRecord {
    fn new(zone: &str, rtype: &str, name: &str, data: &str) -> DnsRecord {
        DnsRecord {
            id: Uuid::new_v4(),
            zone: zone.to_owned(),
            name: name.to_owned(),
            rtype: rtype.to_owned(),
            data: data.to_owned(),
            ttl: DEFAULT_TTL,
            priority: 0,
        }
    }

    fn render(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "type": self.rtype,
            "name": self.name,
            "data": self.data,
            "priority": self.priority,
            "ttl": self.ttl,
        })
    }
}

impl Store {
    fn add_record(&mut self, r: DnsRecord) -> Value {
        let rendered = r.render();
        self.records.insert(r.key(), r);
        rendered
    }
}

// ---------------------------------------------------------------------------
// seeding

/// The fixture zones with their records (`fixtures/vultr/domains.json`: each zone object as the
/// API renders it, plus its `records`).
pub(super) fn seed_fixtures(store: &mut Store) {
    for z in crate::catalog::items(crate::catalog::VULTR_DOMAINS, "domains") {
        let zone = Zone {
            name: fields::string(&z, "domain"),
            dns_sec: fields::string(&z, "dns_sec") == "enabled",
            created: state::parse_time(&fields::string(&z, "date_created")),
        };
        for r in z
            .get("records")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let record = DnsRecord {
                id: Uuid::parse_str(&fields::string(r, "id")).unwrap_or_else(|_| Uuid::new_v4()),
                ttl: fields::uint(r, "ttl"),
                priority: fields::uint(r, "priority"),
                ..DnsRecord::new(
                    &zone.name,
                    &fields::string(r, "type"),
                    &fields::string(r, "name"),
                    &fields::string(r, "data"),
                )
            };
            store.add_record(record);
        }
        store.domains.insert(zone.key(), zone);
    }
}

/// Generated zones: `bulk-<n>.example`, without records.
fn bulk_zone(_store: &mut Store, slot: Slot) -> Zone {
    Zone {
        name: format!("bulk-{:06}.example", slot.n),
        dns_sec: false,
        created: slot.created,
    }
}

/// Generated records: A records of the zone [`BULK_ZONE`], which is created (without the
/// nameserver records, so a listing holds exactly the generated ones) on the first.
fn bulk_dns_record(store: &mut Store, slot: Slot) -> DnsRecord {
    if !store.domains.contains(BULK_ZONE) {
        let zone = Zone {
            name: BULK_ZONE.to_owned(),
            dns_sec: false,
            created: slot.created,
        };
        store.domains.insert(zone.key(), zone);
    }
    let (name, data) = bulk_record(slot.n);
    DnsRecord {
        id: state::det_uuid(SALT + 3, slot.n),
        ..DnsRecord::new(BULK_ZONE, "A", &name, &data)
    }
}

stored!(Zone: Kind::Domain, in Store.domains, render: |z, _s| z.render(), bulk: bulk_zone,
    deleted: drop_records);
stored!(DnsRecord: Kind::DomainRecord, in Store.records, render: |r, _s| r.render(),
    bulk: bulk_dns_record);

/// A deleted zone takes its records with it.
fn drop_records(store: &mut Store, zone: Zone) {
    store.records.retain(|r| r.zone != zone.name);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/vultr/v2/domains",
            list_route("domains", list_zones).post(create_zone),
        )
        .route(
            "/vultr/v2/domains/{domain}",
            get_one::<Zone>(Some("domain"), zone_404)
                .merge(with_body(P, MethodFilter::PUT, update_zone))
                .merge(delete_one::<Zone>(|_| None, no_content, zone_404)),
        )
        .route(
            "/vultr/v2/domains/{domain}/records",
            get(list_records).post(create_record),
        )
        .route(
            "/vultr/v2/domains/{domain}/records/{id}",
            get(get_record).patch(patch_record).delete(delete_record),
        )
}

fn zone_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "Invalid domain.")
}

fn record_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "Invalid record.")
}

fn list_zones(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let seqs = store.domains.select(|_| true);
    let page = pagination::vultr(seqs.len(), req.query, req.mode).map_err(|msg| bad(&msg))?;
    Ok(store
        .domains
        .listing(&seqs, page, state::fingerprint, Zone::render))
}

/// `POST /domains` `{domain, ip?, dns_sec?}`: the zone with its nameserver records, and an apex A
/// (or AAAA) record of `ip` when given.
async fn create_zone(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let name = body
        .str("domain")?
        .ok_or_else(|| bad("Missing required parameter: domain"))?;
    if !valid_zone(&name) {
        return Err(bad("Invalid domain."));
    }
    let dns_sec = dns_sec(body.str("dns_sec")?.as_deref())?.unwrap_or(false);
    let ip = body.str("ip")?.filter(|ip| !ip.is_empty());
    let ip_type = match &ip {
        None => None,
        Some(ip) if value_error("A", ip).is_none() => Some("A"),
        Some(ip) if value_error("AAAA", ip).is_none() => Some("AAAA"),
        Some(_) => return Err(bad("Invalid ip.")),
    };
    let mut st = app.state();
    let store = store(&mut st);
    if store.domains.contains(&name) {
        return Err(bad("Domain already exists."));
    }
    let zone = Zone {
        name: name.clone(),
        dns_sec,
        created: state::now(),
    };
    let rendered = zone.render();
    store.domains.insert(zone.key(), zone);
    for ns in NAMESERVERS {
        store.add_record(DnsRecord::new(&name, "NS", "", ns));
    }
    if let (Some(ip), Some(rtype)) = (ip, ip_type) {
        store.add_record(DnsRecord::new(&name, rtype, "", &ip));
    }
    Ok(json(StatusCode::OK, &wrap("domain", rendered)))
}

/// `dns_sec` (`enabled` or `disabled`) as a flag, `None` when absent.
fn dns_sec(value: Option<&str>) -> Result<Option<bool>, Response> {
    match value {
        None => Ok(None),
        Some("enabled") => Ok(Some(true)),
        Some("disabled") => Ok(Some(false)),
        Some(_) => Err(bad("Invalid dns_sec. Must be enabled or disabled.")),
    }
}

/// `PUT /domains/{domain}` `{dns_sec}` ([vultr-spec] update-dns-domain, `dns_sec` required) →
/// `204`.
fn update_zone(app: &App, name: &str, body: &JsonBody) -> Result<Response, Response> {
    let enabled = dns_sec(body.str("dns_sec")?.as_deref())?
        .ok_or_else(|| bad("Missing required parameter: dns_sec"))?;
    let mut st = app.state();
    let zone = store(&mut st).domains.get_mut(name).ok_or_else(zone_404)?;
    zone.dns_sec = enabled;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `GET /domains/{domain}/records`.
async fn list_records(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(zone): Path<String>,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(zone_404());
    }
    let seqs = store.records.select(|r| r.zone == zone);
    let page = pagination::vultr(seqs.len(), &query, mode).map_err(|msg| bad(&msg))?;
    let listing = store
        .records
        .listing(&seqs, page, state::fingerprint, DnsRecord::render);
    Ok(listing.json("records"))
}

/// The record `id` of `zone`, if both exist.
fn record_of<'s>(store: &'s Store, zone: &str, id: &str) -> Result<&'s DnsRecord, Response> {
    if !store.domains.contains(zone) {
        return Err(zone_404());
    }
    store
        .records
        .get(id)
        .filter(|r| r.zone == zone)
        .ok_or_else(record_404)
}

async fn get_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let r = record_of(store(&mut st), &zone, &id)?;
    Ok(json(StatusCode::OK, &wrap("record", r.render())))
}

async fn delete_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    record_of(store, &zone, &id)?;
    store.records.remove(&id);
    Ok(no_content())
}

/// A record's fields as a create or an update gives them.
#[derive(Debug)]
struct RecordFields {
    rtype: String,
    name: String,
    data: String,
    ttl: u64,
    priority: Option<u64>,
}

impl RecordFields {
    fn of(r: &DnsRecord) -> RecordFields {
        RecordFields {
            rtype: r.rtype.clone(),
            name: r.name.clone(),
            data: r.data.clone(),
            ttl: r.ttl,
            priority: Some(r.priority),
        }
    }

    /// `base` with what `body` gives laid over it (`type` only on a create: an update cannot
    /// change it).
    fn read(
        mut base: RecordFields,
        body: &JsonBody,
        create: bool,
    ) -> Result<RecordFields, Response> {
        if create {
            base.rtype = body
                .str("type")?
                .ok_or_else(|| bad("Missing required parameter: type"))?
                .to_ascii_uppercase();
            base.name = body
                .str("name")?
                .ok_or_else(|| bad("Missing required parameter: name"))?;
            base.data = body
                .str("data")?
                .ok_or_else(|| bad("Missing required parameter: data"))?;
        } else {
            if let Some(n) = body.str("name")? {
                base.name = n;
            }
            if let Some(d) = body.str("data")? {
                base.data = d;
            }
        }
        let int = |key: &str| match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(&format!("Invalid {key}: must be a non-negative integer."))),
        };
        match int("ttl")? {
            Some(0) => base.ttl = DEFAULT_TTL,
            Some(ttl) => base.ttl = ttl,
            None => {}
        }
        base.priority = int("priority")?.or(base.priority);
        // Vultr keeps host names without the trailing dot.
        if matches!(base.rtype.as_str(), "CNAME" | "MX" | "NS") {
            base.data = base.data.trim_end_matches('.').to_owned();
        }
        Ok(base)
    }

    /// Vultr's checks of a record: its type, its value, the priority of MX and SRV records, and
    /// the zone-file shapes of SRV (`weight port target`) and CAA (`flags tag "value"`) data.
    fn check(&self) -> Result<(), Response> {
        if !TYPES.contains(&self.rtype.as_str()) {
            return Err(bad(&format!(
                "Invalid record type. Must be one of: {}.",
                TYPES.join(", ")
            )));
        }
        if self.name.ends_with('.') || self.name.contains(' ') {
            return Err(bad("Invalid record name."));
        }
        if let Some(e) = value_error(&self.rtype, &self.data) {
            return Err(bad(e));
        }
        let needs_priority = matches!(self.rtype.as_str(), "MX" | "SRV");
        if needs_priority && self.priority.is_none() {
            return Err(bad(&format!(
                "Missing required parameter: priority (required for {} records)",
                self.rtype
            )));
        }
        let parts: Vec<&str> = self.data.split_whitespace().collect();
        match self.rtype.as_str() {
            "SRV" => {
                let numbers = parts.len() == 3
                    && parts[..2].iter().all(|p| p.parse::<u16>().is_ok())
                    && !parts[2].ends_with('.');
                if !numbers {
                    return Err(bad(
                        "Invalid SRV record data. Must be: weight port target (e.g. 5 5060 sip.example.com).",
                    ));
                }
            }
            "CAA" => {
                let shaped = self.data.splitn(3, ' ').collect::<Vec<_>>();
                let valid = matches!(shaped.as_slice(),
                    [flags, tag, value] if flags.parse::<u8>().is_ok()
                        && matches!(*tag, "issue" | "issuewild" | "iodef")
                        && value.len() >= 2 && value.starts_with('"') && value.ends_with('"'));
                if !valid {
                    return Err(bad(
                        "Invalid CAA record data. Must be: flags tag \"value\" (e.g. 0 issue \"letsencrypt.org\").",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `POST /domains/{domain}/records` `{name, type, data, ttl?, priority?}` → `201 {record}`.
async fn create_record(
    State(app): State<App>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let base = RecordFields {
        rtype: String::new(),
        name: String::new(),
        data: String::new(),
        ttl: DEFAULT_TTL,
        priority: None,
    };
    let fields = RecordFields::read(base, &body, true)?;
    fields.check()?;
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(zone_404());
    }
    let r = DnsRecord {
        ttl: fields.ttl,
        priority: fields.priority.unwrap_or(0),
        ..DnsRecord::new(&zone, &fields.rtype, &fields.name, &fields.data)
    };
    let rendered = store.add_record(r);
    Ok(json(StatusCode::CREATED, &wrap("record", rendered)))
}

/// `PATCH /domains/{domain}/records/{record-id}` `{name?, data?, ttl?, priority?}` → `204`.
async fn patch_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let mut st = app.state();
    let store = store(&mut st);
    let current = record_of(store, &zone, &id)?;
    let fields = RecordFields::read(RecordFields::of(current), &body, false)?;
    fields.check()?;
    let r = store.records.get_mut(&id).ok_or_else(record_404)?;
    r.name = fields.name;
    r.data = fields.data;
    r.ttl = fields.ttl;
    r.priority = fields.priority.unwrap_or(0);
    Ok(empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(rtype: &str, data: &str, priority: Option<u64>) -> RecordFields {
        RecordFields {
            rtype: rtype.to_owned(),
            name: String::new(),
            data: data.to_owned(),
            ttl: DEFAULT_TTL,
            priority,
        }
    }

    #[test]
    fn a_deleted_zone_takes_its_records_with_it() {
        let mut store = Store::default();
        let [a, b] = ["a.example", "b.example"].map(|name| Zone {
            name: name.to_owned(),
            dns_sec: false,
            created: 0,
        });
        let kept = DnsRecord::new(&b.name, "A", "www", "203.0.113.2");
        let kept_key = kept.key();
        let gone = DnsRecord::new(&a.name, "A", "www", "203.0.113.1");
        let gone_key = gone.key();
        store.add_record(gone);
        store.add_record(DnsRecord::new(&a.name, "NS", "", NAMESERVERS[0]));
        store.add_record(kept);
        drop_records(&mut store, a);
        assert!(store.records.get(&gone_key).is_none());
        assert!(store.records.get(&kept_key).is_some());
        assert_eq!(store.records.select(|_| true).len(), 1);
    }

    #[test]
    fn srv_and_caa_data_take_their_zone_file_shapes() {
        assert!(
            fields("SRV", "5 5060 sip.example.com", Some(10))
                .check()
                .is_ok()
        );
        assert!(fields("SRV", "sip.example.com", Some(10)).check().is_err());
        assert!(
            fields("SRV", "5 5060 sip.example.com", None)
                .check()
                .is_err()
        );
        assert!(
            fields("CAA", "0 issue \"letsencrypt.org\"", None)
                .check()
                .is_ok()
        );
        assert!(fields("CAA", "letsencrypt.org", None).check().is_err());
        assert!(fields("CAA", "0 policy \"x\"", None).check().is_err());
        assert!(fields("MX", "mail.example.com", None).check().is_err());
        assert!(fields("A", "2001:db8::1", None).check().is_err());
        assert!(fields("SOA", "x", None).check().is_err());
    }
}
