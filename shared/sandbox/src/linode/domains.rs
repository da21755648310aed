//! Linode DNS ([linode-spec] `/domains`): zones (`/domains`, `/domains/{id}`) and their records
//! (`/domains/{id}/records`, `…/records/{record_id}`), both numbered, listed with page/page_size
//! and `X-Filter` like every Linode collection, refused with Linode's `{"errors": [{"reason",
//! "field"}]}` bodies.
//!
//! As Linode does: a zone gets no records of its own (its SOA and NS records are implicit and never
//! listed); a `master` zone needs `soa_email`; record names are relative with `""` for the apex;
//! an SRV record's name is built from its `service` and `protocol` (`_sip._tcp`) and a target
//! without a dot is completed with the zone; a `ttl_sec` other than 0 is rounded up to the next
//! value Linode keeps ([`TTLS`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodFilter, get};
use serde_json::{Value, json};

use super::filter::{self, Field, Filterable};
use super::{P, Store, field_err, nf, ok_empty, store};
use crate::Kind;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::dns::{BULK_ZONE, bulk_record, valid_zone, value_error};
use crate::editable::{Editable, resource};
use crate::http::{JsonBody, Listing, Q, body_object, json};
use crate::pagination::PageMode;
use crate::server::App;
use crate::state::{self, Change, Resource, Slot, fields, time_linode};

/// The TTLs Linode keeps as given; any other positive `ttl_sec` is rounded to one of these (up
/// here, as the reference says of a domain's TTLs; one above the last is kept as the last).
/// 0 means the zone's default.
const TTLS: [u64; 14] = [
    30, 120, 300, 3600, 7200, 14_400, 28_800, 57_600, 86_400, 172_800, 345_600, 604_800, 1_209_600,
    2_419_200,
];

/// The record types Linode hosts ([linode-spec] `DomainRecord.type`).
const TYPES: [&str; 9] = ["A", "AAAA", "NS", "MX", "CNAME", "TXT", "SRV", "PTR", "CAA"];

/// The SRV protocols Linode takes.
const PROTOCOLS: [&str; 5] = ["tcp", "udp", "xmpp", "tls", "smtp"];

/// The `ttl_sec` Linode keeps for a requested `ttl`.
fn rounded_ttl(ttl: u64) -> u64 {
    if ttl == 0 {
        return 0;
    }
    TTLS.iter()
        .copied()
        .find(|t| *t >= ttl)
        .unwrap_or(TTLS[TTLS.len() - 1])
}

#[derive(Debug, Hash)]
pub(crate) struct Zone {
    id: u64,
    domain: String,
    soa_email: String,
    ttl_sec: u64,
    status: String,
    tags: Vec<String>,
}

resource!(
    Zone,
    key: |z| z.id.to_string(),
    label: domain,
    summary: |z| (&z.status, "", "", &z.tags),
    edit: |z| Editable::default().status(&mut z.status).tags(&mut z.tags),
);

impl Zone {
    fn render(&self) -> Value {
        json!({
            "id": self.id,
            "domain": self.domain,
            "type": "master",
            "status": self.status,
            "soa_email": self.soa_email,
            "ttl_sec": self.ttl_sec,
            "refresh_sec": 0,
            "retry_sec": 0,
            "expire_sec": 0,
            "master_ips": [],
            "axfr_ips": [],
            "tags": self.tags,
        })
    }
}

impl Filterable for Zone {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "id" => Field::Num(self.id),
            "domain" => Field::Str(&self.domain),
            "status" => Field::Str(&self.status),
            "tags" => Field::Tags(&self.tags),
            _ => return None,
        })
    }
}

#[derive(Debug, Hash)]
pub(crate) struct DnsRecord {
    id: u64,
    domain_id: u64,
    /// The name, as the out-of-band API addresses it (`fields.name`).
    label: String,
    fields: RecordFields,
    created: i64,
    updated: i64,
}

resource!(
    DnsRecord,
    key: |r| r.id.to_string(),
    label: label,
    summary: |r| ("active", "", r.fields.rtype.as_str(), &[] as &[String]),
    edit: |r| Editable::default().data(&mut r.fields.target),
    // Linode keeps a TTL rounded to the values it accepts, however it was set.
    change: |r, change| match change {
        Change::SetTtl { ttl } => {
            r.fields.ttl_sec = rounded_ttl(*ttl);
            true
        }
        _ => false,
    },
);

impl DnsRecord {
    fn render(&self) -> Value {
        let f = &self.fields;
        json!({
            "id": self.id,
            "type": f.rtype,
            "name": f.name,
            "target": f.target,
            "priority": f.priority,
            "weight": f.weight,
            "port": f.port,
            "service": f.service,
            "protocol": f.protocol,
            "ttl_sec": f.ttl_sec,
            "tag": f.tag,
            "created": time_linode(self.created),
            "updated": time_linode(self.updated),
        })
    }
}

impl Filterable for DnsRecord {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        let f = &self.fields;
        Some(match name {
            "domain_id" => Field::Num(self.domain_id),
            "id" => Field::Num(self.id),
            "name" => Field::Str(&f.name),
            "type" => Field::Str(&f.rtype),
            "target" => Field::Str(&f.target),
            "tag" => Field::OptStr(f.tag.as_deref()),
            _ => return None,
        })
    }
}

/// What a record is, as a create or an update gives it.
#[derive(Debug, Clone, Default, Hash)]
struct RecordFields {
    rtype: String,
    /// Relative to the zone, `""` at the apex.
    name: String,
    target: String,
    priority: u64,
    weight: u64,
    port: u64,
    service: Option<String>,
    protocol: Option<String>,
    ttl_sec: u64,
    tag: Option<String>,
}

impl Store {
    /// A new zone with the next id.
    fn add_zone(&mut self, domain: &str, soa_email: &str, ttl_sec: u64, tags: Vec<String>) -> u64 {
        self.next_domain += 1;
        let zone = Zone {
            id: self.next_domain,
            domain: domain.to_owned(),
            soa_email: soa_email.to_owned(),
            ttl_sec,
            status: "active".to_owned(),
            tags,
        };
        self.domains.insert(zone.key(), zone);
        self.next_domain
    }

    /// A new record of zone `domain_id` with the next id.
    fn add_record(&mut self, domain_id: u64, fields: RecordFields, at: i64) -> Value {
        self.next_record += 1;
        let r = DnsRecord {
            id: self.next_record,
            domain_id,
            label: fields.name.clone(),
            fields,
            created: at,
            updated: at,
        };
        let rendered = r.render();
        self.records.insert(r.key(), r);
        rendered
    }
}

// ---------------------------------------------------------------------------
// seeding

/// The fixture zones with their records (`fixtures/linode/domains.json`: each zone object as the
/// API renders it, plus its `records`).
pub(super) fn seed_fixtures(store: &mut Store) {
    for z in crate::catalog::items(crate::catalog::LINODE_DOMAINS, "data") {
        let zone = Zone {
            id: fields::uint(&z, "id"),
            domain: fields::string(&z, "domain"),
            soa_email: fields::string(&z, "soa_email"),
            ttl_sec: fields::uint(&z, "ttl_sec"),
            status: fields::string(&z, "status"),
            tags: fields::strings(&z, "tags"),
        };
        for r in z
            .get("records")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let record = RecordFields {
                rtype: fields::string(r, "type"),
                name: fields::string(r, "name"),
                target: fields::string(r, "target"),
                priority: fields::uint(r, "priority"),
                weight: fields::uint(r, "weight"),
                port: fields::uint(r, "port"),
                service: fields::opt_string(r, "service"),
                protocol: fields::opt_string(r, "protocol"),
                ttl_sec: fields::uint(r, "ttl_sec"),
                tag: fields::opt_string(r, "tag"),
            };
            let record = DnsRecord {
                id: fields::uint(r, "id"),
                domain_id: zone.id,
                label: record.name.clone(),
                fields: record,
                created: state::now(),
                updated: state::now(),
            };
            store.records.insert(record.key(), record);
        }
        store.domains.insert(zone.key(), zone);
    }
}

/// Generated zones: `bulk-<n>.example`, without records.
fn bulk_zone(store: &mut Store, slot: Slot) -> Zone {
    store.next_domain += 1;
    let domain = format!("bulk-{:06}.example", slot.n);
    Zone {
        id: store.next_domain,
        soa_email: format!("hostmaster@{domain}"),
        domain,
        ttl_sec: 0,
        status: "active".to_owned(),
        tags: Vec::new(),
    }
}

/// Generated records: A records of the zone [`BULK_ZONE`], which is created on the first.
fn bulk_dns_record(store: &mut Store, slot: Slot) -> DnsRecord {
    let zone = store
        .domains
        .values()
        .find(|z| z.domain == BULK_ZONE)
        .map(|z| z.id);
    let domain_id = match zone {
        Some(id) => id,
        None => store.add_zone(BULK_ZONE, "hostmaster@bulk.example", 0, Vec::new()),
    };
    store.next_record += 1;
    let (name, target) = bulk_record(slot.n);
    DnsRecord {
        id: store.next_record,
        domain_id,
        label: name.clone(),
        fields: RecordFields {
            rtype: "A".to_owned(),
            name,
            target,
            ..RecordFields::default()
        },
        created: slot.created,
        updated: slot.created,
    }
}

stored!(Zone: Kind::Domain, in Store.domains, render: |z, _s| z.render(), bulk: bulk_zone,
    deleted: drop_records);
stored!(DnsRecord: Kind::DomainRecord, in Store.records, render: |r, _s| r.render(),
    bulk: bulk_dns_record);

/// A deleted zone takes its records with it.
fn drop_records(store: &mut Store, zone: Zone) {
    store.records.retain(|r| r.domain_id != zone.id);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/linode/v4/domains",
            list_route("data", list_zones).post(create_zone),
        )
        .route(
            "/linode/v4/domains/{id}",
            get_one::<Zone>(None, nf)
                .merge(with_body(P, MethodFilter::PUT, update_zone))
                .merge(delete_one::<Zone>(|_| None, ok_empty, nf)),
        )
        .route(
            "/linode/v4/domains/{id}/records",
            get(list_records).post(create_record),
        )
        .route(
            "/linode/v4/domains/{id}/records/{record_id}",
            get(get_record).put(put_record).delete(delete_record),
        )
}

fn list_zones(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let filter = filter::parse_filter(req.headers)?;
    filter::list(
        &mut store.domains,
        &filter,
        (req.query, req.mode),
        state::fingerprint,
        Zone::render,
    )
}

/// A non-negative integer field (absent or `null`: `None`).
fn uint(body: &JsonBody, key: &str) -> Result<Option<u64>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| field_err(key, &format!("{key} must be a non-negative integer"))),
    }
}

/// `POST /domains` `{domain, type, soa_email, ttl_sec?, tags?}`: the zone alone.
async fn create_zone(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let domain = body
        .str("domain")?
        .ok_or_else(|| field_err("domain", "domain is required"))?;
    if !valid_zone(&domain) {
        return Err(field_err("domain", "Domain is not valid"));
    }
    match body.str("type")?.as_deref() {
        Some("master") => {}
        Some("slave") => {
            return Err(field_err(
                "master_ips",
                "master_ips is required for slave domains",
            ));
        }
        Some(_) => return Err(field_err("type", "type must be master or slave")),
        None => return Err(field_err("type", "type is required")),
    }
    let soa_email = body
        .str("soa_email")?
        .filter(|e| !e.is_empty())
        .ok_or_else(|| field_err("soa_email", "soa_email required when type=master"))?;
    if !soa_email.contains('@') {
        return Err(field_err("soa_email", "Must be a valid email address"));
    }
    let ttl_sec = rounded_ttl(uint(&body, "ttl_sec")?.unwrap_or(0));
    let tags = body.strings("tags")?.unwrap_or_default();
    let mut st = app.state();
    let store = store(&mut st);
    if store.domains.values().any(|z| z.domain == domain) {
        return Err(field_err("domain", "Domain already exists"));
    }
    let id = store.add_zone(&domain, &soa_email, ttl_sec, tags);
    let zone = store.domains.get(&id.to_string()).ok_or_else(nf)?;
    Ok(json(StatusCode::OK, &zone.render()))
}

/// `PUT /domains/{id}`: the SOA email, default TTL, status and tags.
fn update_zone(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let soa_email = body.str("soa_email")?;
    let status = body.str("status")?;
    if status
        .as_deref()
        .is_some_and(|s| s != "active" && s != "disabled")
    {
        return Err(field_err("status", "status must be active or disabled"));
    }
    let ttl_sec = uint(body, "ttl_sec")?;
    let tags = body.strings("tags")?;
    if body.str("domain")?.is_some() {
        return Err(field_err("domain", "domain cannot be changed"));
    }
    let mut st = app.state();
    let z = store(&mut st).domains.get_mut(id).ok_or_else(nf)?;
    if let Some(e) = soa_email {
        z.soa_email = e;
    }
    if let Some(s) = status {
        z.status = s;
    }
    if let Some(t) = ttl_sec {
        z.ttl_sec = rounded_ttl(t);
    }
    if let Some(t) = tags {
        z.tags = t;
    }
    Ok(json(StatusCode::OK, &z.render()))
}

/// The zone `id`'s name, if it exists.
fn zone_name(store: &Store, id: &str) -> Option<String> {
    store.domains.get(id).map(|z| z.domain.clone())
}

/// `GET /domains/{id}/records` with page/page_size and `X-Filter`.
async fn list_records(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(zone): Path<String>,
    headers: HeaderMap,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut filter = filter::parse_filter(&headers)?;
    let mut st = app.state();
    let store = store(&mut st);
    let domain_id = store.domains.get(&zone).map(|z| z.id).ok_or_else(nf)?;
    filter
        .conditions
        .insert("domain_id".to_owned(), json!(domain_id));
    let listing = filter::list(
        &mut store.records,
        &filter,
        (&query, mode),
        state::fingerprint,
        DnsRecord::render,
    )?;
    Ok(listing.json("data"))
}

/// The record `id` of zone `zone`, if both exist.
fn record_of<'s>(store: &'s Store, zone: &str, id: &str) -> Option<&'s DnsRecord> {
    let domain_id = store.domains.get(zone)?.id;
    store.records.get(id).filter(|r| r.domain_id == domain_id)
}

async fn get_record(State(app): State<App>, Path((zone, id)): Path<(String, String)>) -> Response {
    let mut st = app.state();
    match record_of(store(&mut st), &zone, &id) {
        Some(r) => json(StatusCode::OK, &r.render()),
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
    ok_empty()
}

impl RecordFields {
    /// `base` with what `body` gives laid over it (a `PUT` may give any subset).
    fn read(mut base: RecordFields, body: &JsonBody) -> Result<RecordFields, Response> {
        if let Some(n) = body.str("name")? {
            base.name = n;
        }
        if let Some(t) = body.str("target")? {
            base.target = t;
        }
        for (key, field) in [
            ("priority", &mut base.priority),
            ("weight", &mut base.weight),
            ("port", &mut base.port),
        ] {
            if let Some(n) = uint(body, key)? {
                *field = n;
            }
        }
        if let Some(ttl) = uint(body, "ttl_sec")? {
            base.ttl_sec = rounded_ttl(ttl);
        }
        let strip = |s: String| s.trim_start_matches('_').to_owned();
        if let Some(s) = body.str("service")? {
            base.service = Some(strip(s));
        }
        if let Some(p) = body.str("protocol")? {
            base.protocol = Some(strip(p).to_ascii_lowercase());
        }
        if let Some(t) = body.str("tag")? {
            base.tag = Some(t);
        }
        Ok(base)
    }

    /// Linode's checks of a record of `zone`, and what it completes: an SRV record's name from
    /// its service and protocol, an SRV target without a dot with the zone.
    fn check(mut self, zone: &str) -> Result<RecordFields, Response> {
        if !TYPES.contains(&self.rtype.as_str()) {
            return Err(field_err("type", "type is not valid"));
        }
        if self.name.len() > 100 {
            return Err(field_err("name", "Length must be 100 characters or less."));
        }
        if let Some(e) = value_error(&self.rtype, &self.target) {
            return Err(field_err("target", e));
        }
        let host = matches!(self.rtype.as_str(), "CNAME" | "MX" | "NS" | "SRV" | "PTR");
        if host && !valid_host(&self.target) {
            return Err(field_err("target", "Target must be a valid domain"));
        }
        match self.rtype.as_str() {
            "SRV" => {
                let service = self
                    .service
                    .clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| field_err("service", "service is required for SRV records"))?;
                let protocol = self
                    .protocol
                    .clone()
                    .ok_or_else(|| field_err("protocol", "protocol is required for SRV records"))?;
                if !PROTOCOLS.contains(&protocol.as_str()) {
                    return Err(field_err("protocol", "protocol is not valid"));
                }
                if self.port == 0 {
                    return Err(field_err("port", "port is required for SRV records"));
                }
                self.name = format!("_{service}._{protocol}");
                if !self.target.contains('.') {
                    self.target = format!("{}.{zone}", self.target);
                }
            }
            "CAA" => match self.tag.as_deref() {
                Some("issue" | "issuewild" | "iodef") => {}
                _ => return Err(field_err("tag", "tag must be issue, issuewild or iodef")),
            },
            _ => {}
        }
        if self.priority > 255 {
            return Err(field_err("priority", "Must be between 0 and 255"));
        }
        if self.weight > 65_535 || self.port > 65_535 {
            return Err(field_err("weight", "Must be between 0 and 65535"));
        }
        Ok(self)
    }
}

/// A host name as Linode takes it: labels of letters, digits, `-` and `_`, with or without the
/// trailing dot (the reference: every type but A, AAAA and CAA "accepts a trailing period").
fn valid_host(target: &str) -> bool {
    let target = target.strip_suffix('.').unwrap_or(target);
    !target.is_empty()
        && target.len() < 254
        && target.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*')
        })
}

async fn create_record(
    State(app): State<App>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let rtype = body
        .str("type")?
        .ok_or_else(|| field_err("type", "type is required"))?;
    let base = RecordFields {
        rtype,
        ..RecordFields::default()
    };
    let fields = RecordFields::read(base, &body)?;
    let mut st = app.state();
    let store = store(&mut st);
    let name = zone_name(store, &zone).ok_or_else(nf)?;
    let fields = fields.check(&name)?;
    let domain_id = store.domains.get(&zone).map(|z| z.id).ok_or_else(nf)?;
    let rendered = store.add_record(domain_id, fields, state::now());
    Ok(json(StatusCode::OK, &rendered))
}

/// `PUT …/records/{record_id}`: any of the record's fields but its type.
async fn put_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    if body.contains_key("type") {
        return Err(field_err("type", "type cannot be changed"));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let name = zone_name(store, &zone).ok_or_else(nf)?;
    let current = record_of(store, &zone, &id).ok_or_else(nf)?;
    let fields = RecordFields::read(current.fields.clone(), &body)?.check(&name)?;
    let r = store.records.get_mut(&id).ok_or_else(nf)?;
    r.label.clone_from(&fields.name);
    r.fields = fields;
    r.updated = state::now();
    Ok(json(StatusCode::OK, &r.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_the_next_value_linode_keeps() {
        assert_eq!(rounded_ttl(0), 0);
        assert_eq!(rounded_ttl(1), 30);
        assert_eq!(rounded_ttl(30), 30);
        assert_eq!(rounded_ttl(600), 3600);
        assert_eq!(rounded_ttl(1800), 3600);
        assert_eq!(rounded_ttl(3600), 3600);
        assert_eq!(rounded_ttl(9_999_999), 2_419_200);
    }

    #[test]
    fn srv_records_take_their_name_from_service_and_protocol() {
        let srv = RecordFields {
            rtype: "SRV".to_owned(),
            target: "sip".to_owned(),
            service: Some("sip".to_owned()),
            protocol: Some("tcp".to_owned()),
            port: 5060,
            ..RecordFields::default()
        };
        let checked = srv.clone().check("conf.example").expect("valid");
        assert_eq!(checked.name, "_sip._tcp");
        assert_eq!(checked.target, "sip.conf.example");
        let no_service = RecordFields {
            service: None,
            ..srv
        };
        assert!(no_service.check("conf.example").is_err());
    }

    #[test]
    fn host_targets_are_names_with_or_without_the_trailing_dot() {
        assert!(valid_host("mail.example.com"));
        assert!(valid_host("mail.example.com."));
        assert!(!valid_host("mail..example.com"));
        assert!(!valid_host(""));
    }
}
