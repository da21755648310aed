//! Cloudflare DNS records ([cf-spec] dns-records-for-a-zone-list-dns-records, -create-dns-record,
//! -dns-record-details, -patch-dns-record, -delete-dns-record): listed per zone with
//! `page`/`per_page` (1 to 5,000,000, default 100) and the `name` and `type` filters.
//!
//! As Cloudflare does: names are stored and answered as FQDNs (a relative name or `@` is
//! completed with the zone); SRV and CAA records take a structured `data` and answer a
//! formatted `content` beside it; MX records need a `priority`; `ttl` is 1 (automatic) or 60 to
//! 86,400 (the free plan's floor; Enterprise zones go down to 30); only A, AAAA and CNAME
//! records can be `proxied`, and a proxied record's TTL is always automatic; an identical
//! record already there is refused (81057).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::zones::Zone;
use super::{P, Store, bad, no_route, ok, store};
use crate::Kind;
use crate::collection::stored;
use crate::dns::{BULK_ZONE, bulk_record, valid_zone, value_error};
use crate::editable::{Editable, resource};
use crate::http::{JsonBody, Q, body_object};
use crate::pagination::{self, PageMode, PerPage};
use crate::server::App;
use crate::state::{self, Slot, fields, time_do};

/// [cf-spec] dns-records-for-a-zone-list-dns-records `per_page`.
const PER_PAGE: PerPage = PerPage {
    default: 100,
    min: 1,
    max: 5_000_000,
};

/// [cf-spec] `dns-records_type`.
const TYPES: [&str; 20] = [
    "A", "AAAA", "CAA", "CERT", "CNAME", "DNSKEY", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS",
    "PTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI",
];

/// The types Cloudflare can proxy ([cf-spec] `proxied` is on these records' schemas only).
const PROXIABLE: [&str; 3] = ["A", "AAAA", "CNAME"];

/// [cf-spec] `dns-records_ttl`: 1 (automatic), else 60 to 86,400 on the free plan.
const TTL_AUTOMATIC: u64 = 1;
const TTL_MIN: u64 = 60;
const TTL_MAX: u64 = 86_400;

#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
struct Fields {
    rtype: String,
    /// The FQDN.
    name: String,
    /// `content`; for SRV the target, for CAA the value (`data` holds the rest).
    value: String,
    priority: Option<u64>,
    weight: u64,
    port: u64,
    flags: u64,
    tag: String,
    ttl: u64,
    proxied: bool,
}

#[derive(Debug, Hash)]
pub(crate) struct DnsRecord {
    id: String,
    pub(super) zone_id: String,
    zone_name: String,
    /// The FQDN, as the out-of-band API addresses it.
    label: String,
    fields: Fields,
    created: i64,
    modified: i64,
}

resource!(
    DnsRecord,
    key: |r| r.id.clone(),
    label: label,
    summary: |r| ("active", "", r.fields.rtype.as_str(), &[] as &[String]),
    edit: |r| Editable::default().data(&mut r.fields.value).ttl(&mut r.fields.ttl),
);

impl DnsRecord {
    fn render(&self) -> Value {
        let f = &self.fields;
        let (content, data) = match f.rtype.as_str() {
            "SRV" => (
                format!("{} {} {}", f.weight, f.port, f.value),
                Some(
                    json!({"priority": f.priority.unwrap_or(0), "weight": f.weight, "port": f.port, "target": f.value}),
                ),
            ),
            "CAA" => (
                format!("{} {} \"{}\"", f.flags, f.tag, f.value),
                Some(json!({"flags": f.flags, "tag": f.tag, "value": f.value})),
            ),
            _ => (f.value.clone(), None),
        };
        let mut out = json!({
            "id": self.id,
            "zone_id": self.zone_id,
            "zone_name": self.zone_name,
            "name": f.name,
            "type": f.rtype,
            "content": content,
            "proxiable": PROXIABLE.contains(&f.rtype.as_str()),
            "proxied": f.proxied,
            "ttl": f.ttl,
            "locked": false,
            "meta": {"auto_added": false, "managed_by_apps": false, "managed_by_argo_tunnel": false, "source": "primary"},
            "tags": [],
            "created_on": time_do(self.created),
            "modified_on": time_do(self.modified),
        });
        if let Some(data) = data {
            out["data"] = data;
        }
        if let Some(p) = f.priority.filter(|_| f.rtype == "MX" || f.rtype == "SRV") {
            out["priority"] = json!(p);
        }
        out
    }
}

impl Store {
    /// A new record of `zone`.
    fn add_record(&mut self, zone: (&str, &str), fields: Fields, at: i64) -> DnsRecord {
        DnsRecord {
            id: self.new_id(),
            zone_id: zone.0.to_owned(),
            zone_name: zone.1.to_owned(),
            label: fields.name.clone(),
            fields,
            created: at,
            modified: at,
        }
    }
}

// ---------------------------------------------------------------------------
// seeding

/// One fixture record of `zone` (as the API renders it, `data` for SRV and CAA).
pub(super) fn seed_record(store: &mut Store, zone: &Zone, r: &Value) {
    let data = r.get("data").cloned().unwrap_or(Value::Null);
    let rtype = fields::string(r, "type");
    let value = match rtype.as_str() {
        "SRV" => fields::string(&data, "target"),
        "CAA" => fields::string(&data, "value"),
        _ => fields::string(r, "content"),
    };
    let f = Fields {
        name: fields::string(r, "name"),
        value,
        priority: r.get("priority").and_then(Value::as_u64),
        weight: fields::uint(&data, "weight"),
        port: fields::uint(&data, "port"),
        flags: fields::uint(&data, "flags"),
        tag: fields::string(&data, "tag"),
        ttl: r
            .get("ttl")
            .and_then(Value::as_u64)
            .unwrap_or(TTL_AUTOMATIC),
        proxied: r.get("proxied").and_then(Value::as_bool).unwrap_or(false),
        rtype,
    };
    let record = DnsRecord {
        id: fields::string(r, "id"),
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        label: f.name.clone(),
        fields: f,
        created: state::now(),
        modified: state::now(),
    };
    store.records.insert(record.id.clone(), record);
}

/// Generated records: A records of the zone [`BULK_ZONE`], which is created on the first.
fn bulk_dns_record(store: &mut Store, slot: Slot) -> DnsRecord {
    let zone = store
        .zones
        .values()
        .find(|z| z.name == BULK_ZONE)
        .map(|z| z.id.clone());
    let zone_id = match zone {
        Some(id) => id,
        None => {
            let zone = store.add_zone(BULK_ZONE, 0, slot.created);
            let id = zone.id.clone();
            store.zones.insert(id.clone(), zone);
            id
        }
    };
    let (name, content) = bulk_record(slot.n);
    let fields = Fields {
        rtype: "A".to_owned(),
        name: format!("{name}.{BULK_ZONE}"),
        value: content,
        ttl: TTL_AUTOMATIC,
        ..Fields::default()
    };
    store.add_record((&zone_id, BULK_ZONE), fields, slot.created)
}

stored!(DnsRecord: Kind::DomainRecord, in Store.records, render: |r, _s| r.render(),
    bulk: bulk_dns_record);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/cloudflare/client/v4/zones/{zone_id}/dns_records",
            get(list_records).post(create_record),
        )
        .route(
            "/cloudflare/client/v4/zones/{zone_id}/dns_records/{dns_record_id}",
            get(get_record).patch(patch_record).delete(delete_record),
        )
}

/// The zone `id`'s name, or the 404 of its path.
fn zone_name(store: &Store, id: &str, path: &str) -> Result<String, Response> {
    store
        .zones
        .get(id)
        .map(|z| z.name.clone())
        .ok_or_else(|| no_route(path))
}

/// The 404 of a record that is not in its zone (81044).
fn record_404() -> Response {
    super::error(StatusCode::NOT_FOUND, 81044, "Record does not exist.")
}

/// `GET /zones/{zone_id}/dns_records` with `name` (an FQDN) and `type` (exact matches).
async fn list_records(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(zone): Path<String>,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    zone_name(store, &zone, &format!("/zones/{zone}/dns_records"))?;
    let wanted = |key: &str| query.get(key).filter(|v| !v.is_empty());
    if let Some(t) = wanted("type")
        && !TYPES.contains(&t.as_str())
    {
        return Err(bad(
            1004,
            &format!("DNS Validation Error: invalid type {t}"),
        ));
    }
    let seqs = store.records.select(|r| {
        r.zone_id == zone
            && wanted("name").is_none_or(|n| n.eq_ignore_ascii_case(&r.fields.name))
            && wanted("type").is_none_or(|t| *t == r.fields.rtype)
    });
    let page =
        pagination::result_info(seqs.len(), &query, PER_PAGE, mode).map_err(|m| bad(1004, &m))?;
    let listing = store
        .records
        .listing(&seqs, page, state::fingerprint, DnsRecord::render);
    Ok(listing.json("result"))
}

/// The record `id` of zone `zone`, if both exist.
fn record_of<'s>(store: &'s Store, zone: &str, id: &str) -> Result<&'s DnsRecord, Response> {
    zone_name(store, zone, &format!("/zones/{zone}/dns_records/{id}"))?;
    store
        .records
        .get(id)
        .filter(|r| r.zone_id == zone)
        .ok_or_else(record_404)
}

async fn get_record(State(app): State<App>, Path((zone, id)): Path<(String, String)>) -> Response {
    let mut st = app.state();
    match record_of(store(&mut st), &zone, &id) {
        Ok(r) => ok(r.render()),
        Err(e) => e,
    }
}

async fn delete_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    if let Err(e) = record_of(store, &zone, &id) {
        return e;
    }
    store.records.remove(&id);
    ok(json!({ "id": id }))
}

/// A whole number field (absent or `null`: `None`); Cloudflare types them `number`.
fn number(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, Response> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            bad(
                1004,
                &format!("DNS Validation Error: `{key}` must be a non-negative whole number"),
            )
        }),
    }
}

impl Fields {
    /// `base` with what `body` gives laid over it (a `PATCH` may give any subset), the name
    /// completed with `zone`.
    fn read(mut base: Fields, body: &JsonBody, zone: &str) -> Result<Fields, Response> {
        if let Some(t) = body.str("type")? {
            base.rtype = t;
        }
        if let Some(n) = body.str("name")? {
            base.name = crate::dns::fqdn_in(zone, &n);
        }
        if let Some(c) = body.str("content")? {
            base.value = c;
        }
        if let Some(p) = number(body, "priority")? {
            base.priority = Some(p);
        }
        if let Some(ttl) = number(body, "ttl")? {
            base.ttl = ttl;
        }
        match body.get("proxied") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => base.proxied = *b,
            Some(_) => {
                return Err(bad(
                    1004,
                    "DNS Validation Error: `proxied` must be a boolean",
                ));
            }
        }
        match body.get("data") {
            None | Some(Value::Null) => {}
            Some(Value::Object(data)) => base.read_data(data)?,
            Some(_) => return Err(bad(1004, "DNS Validation Error: `data` must be an object")),
        }
        Ok(base)
    }

    /// SRV `{priority, weight, port, target}`, CAA `{flags, tag, value}`.
    fn read_data(&mut self, data: &Map<String, Value>) -> Result<(), Response> {
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        match self.rtype.as_str() {
            "SRV" => {
                self.priority = number(data, "priority")?.or(self.priority);
                self.weight = number(data, "weight")?.unwrap_or(self.weight);
                self.port = number(data, "port")?.unwrap_or(self.port);
                if let Some(t) = text("target") {
                    self.value = t;
                }
            }
            "CAA" => {
                self.flags = number(data, "flags")?.unwrap_or(self.flags);
                if let Some(t) = text("tag") {
                    self.tag = t;
                }
                if let Some(v) = text("value") {
                    self.value = v;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Cloudflare's checks; a proxied record's TTL becomes automatic.
    fn check(mut self) -> Result<Fields, Response> {
        let invalid = |m: &str| bad(9005, &format!("DNS Validation Error: {m}"));
        if !TYPES.contains(&self.rtype.as_str()) {
            return Err(bad(
                9000,
                &format!("Invalid DNS record type: {}", self.rtype),
            ));
        }
        if self.name.is_empty() || self.name.len() > 255 {
            return Err(bad(9007, "DNS name is invalid."));
        }
        if let Some(e) = value_error(&self.rtype, self.value.trim()) {
            return Err(invalid(e));
        }
        let host = matches!(self.rtype.as_str(), "CNAME" | "MX" | "NS" | "SRV" | "PTR");
        if host && !valid_zone(self.value.trim_end_matches('.')) {
            return Err(invalid("content must be a valid hostname"));
        }
        if self.ttl != TTL_AUTOMATIC && !(TTL_MIN..=TTL_MAX).contains(&self.ttl) {
            return Err(bad(
                9021,
                "TTL must be between 60 and 86400 seconds, or 1 for Automatic.",
            ));
        }
        if self.proxied && !PROXIABLE.contains(&self.rtype.as_str()) {
            return Err(bad(9004, "This record type cannot be proxied."));
        }
        if self.proxied {
            self.ttl = TTL_AUTOMATIC;
        }
        match self.rtype.as_str() {
            "MX" | "SRV" if self.priority.is_none_or(|p| p > 65_535) => {
                return Err(invalid("priority is required (0 to 65535)"));
            }
            "SRV" if self.weight > 65_535 || self.port > 65_535 || self.port == 0 => {
                return Err(invalid("SRV data needs a weight and a port (0 to 65535)"));
            }
            "CAA"
                if !["issue", "issuewild", "iodef"].contains(&self.tag.as_str())
                    || self.flags > 255 =>
            {
                return Err(invalid(
                    "CAA data needs flags (0 to 255) and tag issue, issuewild or iodef",
                ));
            }
            _ => {}
        }
        if !matches!(self.rtype.as_str(), "MX" | "SRV") {
            self.priority = None;
        }
        Ok(self)
    }
}

/// Whether `store` already has `fields` in `zone` (another record than `except`).
fn duplicate(store: &Store, zone: &str, fields: &Fields, except: Option<&str>) -> bool {
    store.records.values().any(|r| {
        r.zone_id == zone
            && Some(r.id.as_str()) != except
            && r.fields.rtype == fields.rtype
            && r.fields.name == fields.name
            && r.fields.value.eq_ignore_ascii_case(&fields.value)
    })
}

/// `POST …/dns_records` ([cf-spec]: `type`, `name` and `content` (or `data`) required).
async fn create_record(
    State(app): State<App>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let rtype = body
        .str("type")?
        .ok_or_else(|| bad(9000, "DNS record type is required"))?;
    if body.str("name")?.is_none() {
        return Err(bad(9007, "DNS name is required"));
    }
    let structured = rtype == "SRV" || rtype == "CAA";
    if structured && !body.contains_key("data") {
        return Err(bad(9101, "data is required for this record type"));
    }
    if !structured && body.str("content")?.is_none() {
        return Err(bad(9005, "content is required"));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let name = zone_name(store, &zone, &format!("/zones/{zone}/dns_records"))?;
    let base = Fields {
        rtype,
        ttl: TTL_AUTOMATIC,
        ..Fields::default()
    };
    let fields = Fields::read(base, &body, &name)?.check()?;
    if duplicate(store, &zone, &fields, None) {
        return Err(bad(81057, "Record already exists."));
    }
    let record = store.add_record((&zone, &name), fields, state::now());
    let rendered = record.render();
    store.records.insert(record.id.clone(), record);
    Ok(ok(rendered))
}

/// `PATCH …/dns_records/{dns_record_id}`: any of the record's fields.
async fn patch_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let mut st = app.state();
    let store = store(&mut st);
    let current = record_of(store, &zone, &id)?;
    let fields = Fields::read(current.fields.clone(), &body, &current.zone_name)?.check()?;
    if duplicate(store, &zone, &fields, Some(&id)) {
        return Err(bad(81057, "Record already exists."));
    }
    let r = store.records.get_mut(&id).ok_or_else(record_404)?;
    r.label.clone_from(&fields.name);
    r.fields = fields;
    r.modified = state::now();
    Ok(ok(r.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ttl: u64, proxied: bool) -> Fields {
        Fields {
            rtype: "A".to_owned(),
            name: "www.example.com".to_owned(),
            value: "203.0.113.10".to_owned(),
            ttl,
            proxied,
            ..Fields::default()
        }
    }

    #[test]
    fn ttls_are_automatic_or_within_the_plan_bounds() {
        assert!(a(1, false).check().is_ok());
        assert!(a(60, false).check().is_ok());
        assert!(a(86_400, false).check().is_ok());
        assert!(a(30, false).check().is_err());
        assert!(a(86_401, false).check().is_err());
        assert_eq!(
            a(300, true).check().expect("valid").ttl,
            1,
            "a proxied TTL is automatic"
        );
    }

    #[test]
    fn only_addresses_and_cnames_are_proxied() {
        let txt = Fields {
            rtype: "TXT".to_owned(),
            value: "hello".to_owned(),
            ..a(1, true)
        };
        assert!(txt.check().is_err());
        let mx = Fields {
            rtype: "MX".to_owned(),
            value: "mail.example.com".to_owned(),
            ..a(1, false)
        };
        assert!(mx.clone().check().is_err(), "MX needs a priority");
        assert!(
            Fields {
                priority: Some(10),
                ..mx
            }
            .check()
            .is_ok()
        );
    }
}
