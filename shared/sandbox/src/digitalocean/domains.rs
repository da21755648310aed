//! DigitalOcean DNS ([do-spec] resources/domains): zones (`/domains`, `/domains/{name}`) and
//! their records (`/domains/{name}/records`, `…/records/{id}`), with the provider-managed SOA and
//! NS records a new zone gets, and each record type's required fields as the document lists them
//! (models/domain_record_types.yml).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{P, Store, nf, paged, store, unprocessable};
use crate::Kind;
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored};
use crate::dns::{BULK_ZONE, bulk_record, valid_zone, value_error};
use crate::editable::{Editable, resource};
use crate::http::{JsonBody, Listing, Q, body_object, json, no_content, wrap};
use crate::pagination::PageMode;
use crate::server::App;
use crate::state::{self, Resource, Slot, fields};

/// DigitalOcean's nameservers, the same for every zone ([do-spec] has no field for them).
const NAMESERVERS: [&str; 3] = [
    "ns1.digitalocean.com",
    "ns2.digitalocean.com",
    "ns3.digitalocean.com",
];

/// The TTL a zone and a record get when the request gives none.
const DEFAULT_TTL: u64 = 1800;

/// The lowest TTL DigitalOcean keeps.
const MIN_TTL: u64 = 30;

/// The record types a request may create (SOA is the provider's own).
const TYPES: [&str; 8] = ["A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT"];

#[derive(Debug, Hash)]
pub(crate) struct Zone {
    pub(super) name: String,
    ttl: u64,
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
            "name": self.name,
            "ttl": self.ttl,
            "zone_file": format!(
                "$ORIGIN {name}.\n$TTL {ttl}\n{name}. IN SOA {ns}. hostmaster.{name}. 1 10800 3600 604800 1800\n",
                name = self.name,
                ttl = self.ttl,
                ns = NAMESERVERS[0]
            ),
        })
    }
}

#[derive(Debug, Hash)]
pub(crate) struct DnsRecord {
    id: u64,
    zone: String,
    /// Relative to the zone, `@` at the apex.
    name: String,
    rtype: String,
    data: String,
    ttl: u64,
    priority: Option<u64>,
    port: Option<u64>,
    weight: Option<u64>,
    flags: Option<u64>,
    tag: Option<String>,
}

resource!(
    DnsRecord,
    key: |r| r.id.to_string(),
    label: name,
    summary: |r| ("active", "", &r.rtype, &[] as &[String]),
    edit: |r| Editable::default().data(&mut r.data).ttl(&mut r.ttl),
);

impl DnsRecord {
    fn render(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.rtype,
            "name": self.name,
            "data": self.data,
            "priority": self.priority,
            "port": self.port,
            "ttl": self.ttl,
            "weight": self.weight,
            "flags": self.flags,
            "tag": self.tag,
        })
    }
}

impl Store {
    /// A new record of `zone` with the next id.
    fn add_record(&mut self, zone: &str, fields: RecordFields) -> Value {
        self.next_record += 1;
        let r = DnsRecord {
            id: self.next_record,
            zone: zone.to_owned(),
            name: fields.name,
            rtype: fields.rtype,
            data: fields.data,
            ttl: fields.ttl,
            priority: fields.priority,
            port: fields.port,
            weight: fields.weight,
            flags: fields.flags,
            tag: fields.tag,
        };
        let rendered = r.render();
        self.records.insert(r.key(), r);
        rendered
    }

    /// The SOA and NS records DigitalOcean gives every zone it creates.
    fn provider_records(&mut self, zone: &str) {
        let mut soa = RecordFields::new("SOA", "@", &DEFAULT_TTL.to_string());
        soa.ttl = DEFAULT_TTL;
        self.add_record(zone, soa);
        for ns in NAMESERVERS {
            self.add_record(zone, RecordFields::new("NS", "@", ns));
        }
    }
}

// ---------------------------------------------------------------------------
// seeding

/// The fixture zones with their records (`fixtures/digitalocean/domains.json`: each zone object
/// as the API renders it, plus its `records`).
pub(super) fn seed_fixtures(store: &mut Store) {
    for z in catalog::items(catalog::DO_DOMAINS, "domains") {
        let zone = Zone {
            name: fields::string(&z, "name"),
            ttl: fields::uint(&z, "ttl"),
        };
        for r in z
            .get("records")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let opt = |key: &str| r.get(key).and_then(Value::as_u64);
            let record = DnsRecord {
                id: fields::uint(r, "id"),
                zone: zone.name.clone(),
                name: fields::string(r, "name"),
                rtype: fields::string(r, "type"),
                data: fields::string(r, "data"),
                ttl: fields::uint(r, "ttl"),
                priority: opt("priority"),
                port: opt("port"),
                weight: opt("weight"),
                flags: opt("flags"),
                tag: fields::opt_string(r, "tag"),
            };
            store.records.insert(record.key(), record);
        }
        store.domains.insert(zone.key(), zone);
    }
}

/// Generated zones: `bulk-<n>.example`, without records.
fn bulk_zone(_store: &mut Store, slot: Slot) -> Zone {
    Zone {
        name: format!("bulk-{:06}.example", slot.n),
        ttl: DEFAULT_TTL,
    }
}

/// Generated records: A records of the zone [`BULK_ZONE`], which is created (without the
/// provider's records, so a listing holds exactly the generated ones) on the first.
fn bulk_dns_record(store: &mut Store, slot: Slot) -> DnsRecord {
    if !store.domains.contains(BULK_ZONE) {
        let zone = Zone {
            name: BULK_ZONE.to_owned(),
            ttl: DEFAULT_TTL,
        };
        store.domains.insert(zone.key(), zone);
    }
    store.next_record += 1;
    let (name, data) = bulk_record(slot.n);
    DnsRecord {
        id: store.next_record,
        zone: BULK_ZONE.to_owned(),
        name,
        rtype: "A".to_owned(),
        data,
        ttl: DEFAULT_TTL,
        priority: None,
        port: None,
        weight: None,
        flags: None,
        tag: None,
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
            "/digitalocean/v2/domains",
            list_route("domains", list_zones).post(create_zone),
        )
        .route(
            "/digitalocean/v2/domains/{name}",
            get_one::<Zone>(Some("domain"), nf).merge(delete_one::<Zone>(|_| None, no_content, nf)),
        )
        .route(
            "/digitalocean/v2/domains/{name}/records",
            get(list_records).post(create_record),
        )
        .route(
            "/digitalocean/v2/domains/{name}/records/{id}",
            get(get_record)
                .put(put_record)
                .patch(patch_record)
                .delete(delete_record),
        )
}

fn list_zones(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let seqs = store.domains.select(|_| true);
    let page = paged(req.app, "/domains", req.query, &[], seqs.len(), req.mode)?;
    Ok(store
        .domains
        .listing(&seqs, page, state::fingerprint, Zone::render))
}

/// `POST /domains` `{name, ip_address?}`: the zone with its SOA and NS records, and an apex A
/// record when `ip_address` is given.
async fn create_zone(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let name = body
        .str("name")?
        .ok_or_else(|| unprocessable("name is required"))?;
    if !valid_zone(&name) {
        return Err(unprocessable("Name is invalid"));
    }
    let ip = body.str("ip_address")?;
    if let Some(ip) = &ip
        && value_error("A", ip).is_some()
    {
        return Err(unprocessable("ip_address is invalid"));
    }
    let mut st = app.state();
    let store = store(&mut st);
    if store.domains.contains(&name) {
        return Err(unprocessable("Name already exists"));
    }
    let zone = Zone {
        name: name.clone(),
        ttl: DEFAULT_TTL,
    };
    let rendered = zone.render();
    store.domains.insert(zone.key(), zone);
    store.provider_records(&name);
    if let Some(ip) = ip {
        store.add_record(&name, RecordFields::new("A", "@", &ip));
    }
    Ok(json(StatusCode::CREATED, &wrap("domain", rendered)))
}

/// `GET /domains/{name}/records?type=&name=<fqdn>`.
async fn list_records(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(zone): Path<String>,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(nf());
    }
    let (rtype, fqdn) = (query.get("type"), query.get("name"));
    let seqs = store.records.select(|r| {
        r.zone == zone
            && rtype.is_none_or(|t| r.rtype.eq_ignore_ascii_case(t))
            && fqdn.is_none_or(|f| *f == absolute(&r.zone, &r.name))
    });
    let path = format!("/domains/{zone}/records");
    let page = paged(&app, &path, &query, &["type", "name"], seqs.len(), mode)?;
    let listing = store
        .records
        .listing(&seqs, page, state::fingerprint, DnsRecord::render);
    Ok(listing.json("domain_records"))
}

/// The fully qualified name of a relative `name` in `zone`.
fn absolute(zone: &str, name: &str) -> String {
    if name == "@" {
        zone.to_owned()
    } else {
        format!("{name}.{zone}")
    }
}

/// The record `id` of `zone`, if both exist.
fn record_of<'s>(store: &'s Store, zone: &str, id: &str) -> Option<&'s DnsRecord> {
    store.records.get(id).filter(|r| r.zone == zone)
}

async fn get_record(State(app): State<App>, Path((zone, id)): Path<(String, String)>) -> Response {
    let mut st = app.state();
    match record_of(store(&mut st), &zone, &id) {
        Some(r) => json(StatusCode::OK, &wrap("domain_record", r.render())),
        None => nf(),
    }
}

async fn delete_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    if record_of(store, &zone, &id).is_none() {
        return nf();
    }
    store.records.remove(&id);
    no_content()
}

/// A record's fields as a create or an update gives them.
#[derive(Debug)]
struct RecordFields {
    rtype: String,
    name: String,
    data: String,
    ttl: u64,
    priority: Option<u64>,
    port: Option<u64>,
    weight: Option<u64>,
    flags: Option<u64>,
    tag: Option<String>,
}

impl RecordFields {
    fn new(rtype: &str, name: &str, data: &str) -> RecordFields {
        RecordFields {
            rtype: rtype.to_owned(),
            name: name.to_owned(),
            data: data.to_owned(),
            ttl: DEFAULT_TTL,
            priority: None,
            port: None,
            weight: None,
            flags: None,
            tag: None,
        }
    }

    fn of(r: &DnsRecord) -> RecordFields {
        RecordFields {
            rtype: r.rtype.clone(),
            name: r.name.clone(),
            data: r.data.clone(),
            ttl: r.ttl,
            priority: r.priority,
            port: r.port,
            weight: r.weight,
            flags: r.flags,
            tag: r.tag.clone(),
        }
    }

    /// `base` with what `body` gives laid over it.
    fn read(mut base: RecordFields, body: &JsonBody) -> Result<RecordFields, Response> {
        if let Some(t) = body.str("type")? {
            base.rtype = t.to_ascii_uppercase();
        }
        if let Some(n) = body.str("name")? {
            base.name = n;
        }
        if let Some(d) = body.str("data")? {
            base.data = d;
        }
        let int = |key: &str| match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| unprocessable(&format!("{key} must be an integer"))),
        };
        if let Some(ttl) = int("ttl")? {
            base.ttl = ttl;
        }
        base.priority = int("priority")?.or(base.priority);
        base.port = int("port")?.or(base.port);
        base.weight = int("weight")?.or(base.weight);
        base.flags = int("flags")?.or(base.flags);
        if let Some(tag) = body.str("tag")? {
            base.tag = Some(tag);
        }
        Ok(base)
    }

    /// DigitalOcean's checks of a record: its type, the fields that type requires, its value,
    /// host names ending in a dot (or `@`), the TTL floor.
    fn check(&self) -> Result<(), Response> {
        if !TYPES.contains(&self.rtype.as_str()) {
            return Err(unprocessable("Type is not included in the list"));
        }
        if self.name.is_empty() {
            return Err(unprocessable("Name can't be blank"));
        }
        if let Some(e) = value_error(&self.rtype, &self.data) {
            return Err(unprocessable(e));
        }
        let host = matches!(self.rtype.as_str(), "CNAME" | "MX" | "NS" | "SRV");
        if host && self.data != "@" && !self.data.ends_with('.') {
            return Err(unprocessable("Data needs to end with a dot (.)"));
        }
        let needs = |present: bool, what: &str| {
            if present {
                Ok(())
            } else {
                Err(unprocessable(&format!(
                    "{what} is required for {} records",
                    self.rtype
                )))
            }
        };
        match self.rtype.as_str() {
            "MX" => needs(self.priority.is_some(), "Priority")?,
            "SRV" => {
                needs(self.priority.is_some(), "Priority")?;
                needs(self.port.is_some(), "Port")?;
                needs(self.weight.is_some(), "Weight")?;
            }
            "CAA" => {
                needs(self.flags.is_some(), "Flags")?;
                match self.tag.as_deref() {
                    Some("issue" | "issuewild" | "iodef") => {}
                    _ => return Err(unprocessable("Tag must be one of issue, issuewild, iodef")),
                }
            }
            _ => {}
        }
        if self.ttl < MIN_TTL {
            return Err(unprocessable(&format!(
                "TTL must be greater than or equal to {MIN_TTL}"
            )));
        }
        Ok(())
    }
}

async fn create_record(
    State(app): State<App>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let mut base = RecordFields::new("", "", "");
    // MX records may leave the name out ([do-spec]: `type, data, priority`): the apex.
    if body.str("type")?.as_deref() == Some("MX") {
        base.name = "@".to_owned();
    }
    let fields = RecordFields::read(base, &body)?;
    fields.check()?;
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(nf());
    }
    let rendered = store.add_record(&zone, fields);
    Ok(json(StatusCode::CREATED, &wrap("domain_record", rendered)))
}

async fn put_record(
    State(app): State<App>,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    update_record(&app, ids, &body, true)
}

async fn patch_record(
    State(app): State<App>,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    update_record(&app, ids, &body, false)
}

/// `PUT` (`type` required, [do-spec]) or `PATCH` of one record; SOA records are refused.
fn update_record(
    app: &App,
    (zone, id): (String, String),
    body: &Bytes,
    put: bool,
) -> Result<Response, Response> {
    let body = body_object(P, body)?;
    if put && body.str("type")?.is_none() {
        return Err(unprocessable("type is required"));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let current = record_of(store, &zone, &id).ok_or_else(nf)?;
    if current.rtype == "SOA" {
        return Err(unprocessable("SOA records cannot be changed"));
    }
    let fields = RecordFields::read(RecordFields::of(current), &body)?;
    if fields.rtype != current.rtype {
        return Err(unprocessable("Type cannot be changed"));
    }
    fields.check()?;
    let r = store.records.get_mut(&id).ok_or_else(nf)?;
    r.name = fields.name;
    r.data = fields.data;
    r.ttl = fields.ttl;
    r.priority = fields.priority;
    r.port = fields.port;
    r.weight = fields.weight;
    r.flags = fields.flags;
    r.tag = fields.tag;
    Ok(json(StatusCode::OK, &wrap("domain_record", r.render())))
}
