//! Vercel domains and DNS ([vercel-sdk] getDomains `GET /v5/domains`, getDomain
//! `GET /v5/domains/{domain}`, createOrTransferDomain `POST /v7/domains`, deleteDomain
//! `DELETE /v6/domains/{domain}`, getRecords `GET /v4/domains/{domain}/records`, createRecord
//! `POST /v2/domains/{domain}/records`, updateRecord `PATCH /v1/domains/records/{recordId}`,
//! removeRecord `DELETE /v2/domains/{domain}/records/{recordId}`).
//!
//! A domain is named by its name; a record by `rec_…`. Lists are newest first and paged with
//! `limit` and `until` (see [`crate::pagination::vercel_until`]); a record listing without
//! `limit` answers `{records}` whole, without `pagination`. Names are relative with `""` at the
//! apex; an MX record's priority is `mxPriority`; an SRV record is created from an object
//! `{priority, weight, port, target}` and listed as `value` `weight port target` beside its
//! `priority`; a CAA record's `value` is `flags tag "value"`. A domain added through the API is
//! served by Vercel DNS (`serviceType` `zeit.world`) and gets Vercel's apex ALIAS record
//! (`creator` `system`); it stays unverified (`verified: false`) for two reads, as while the
//! registry catches up. Create bodies are checked as the document's variants are: a field the
//! record's type does not take is refused.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, patch};
use serde_json::{Map, Value, json};

use super::{P, SALT, Store, bad, store};
use crate::Kind;
use crate::collection::{ListRequest, list_route, stored};
use crate::dns::{BULK_ZONE, bulk_record, valid_zone, value_error};
use crate::editable::{Editable, resource};
use crate::http::{Listing, Q, body_object, error, json, wrap};
use crate::pagination::{self, Page, PageMode};
use crate::server::App;
use crate::state::{self, Resource, Slot, fields};

/// The nameservers of Vercel DNS ([vercel-sdk] getDomains `intendedNameservers` example).
const NAMESERVERS: [&str; 2] = ["ns1.vercel-dns.com", "ns2.vercel-dns.com"];

/// `serviceType` of a domain served by Vercel DNS.
const VERCEL_DNS: &str = "zeit.world";

/// The record types a request may create ([vercel-sdk] createRecord `type`).
const TYPES: [&str; 10] = [
    "A", "AAAA", "ALIAS", "CAA", "CNAME", "HTTPS", "MX", "SRV", "TXT", "NS",
];

/// The TTL a record gets when the request gives none ("Default value is 60"), and the bounds.
const DEFAULT_TTL: u64 = 60;
const TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=2_147_483_647;

/// `creator` of the records Vercel makes itself.
const SYSTEM: &str = "system";

/// Reads of a new domain before it is verified.
const UNVERIFIED_READS: u32 = 2;

#[derive(Debug, Hash)]
pub(crate) struct Domain {
    id: String,
    name: String,
    service_type: String,
    verified: bool,
    /// Reads left before it is verified.
    pending: u32,
    nameservers: Vec<String>,
    intended: Vec<String>,
    created: i64,
    bought: Option<i64>,
    expires: Option<i64>,
    renew: bool,
}

resource!(
    Domain,
    key: |d| d.name.clone(),
    label: name,
    summary: |d| (if d.verified { "active" } else { "pending" }, "", &d.service_type, &[] as &[String]),
    edit: |_d| Editable::default(),
    observe: |d| {
        if state::countdown(&mut d.pending) {
            d.verified = true;
            d.nameservers = d.intended.clone();
        }
    },
);

impl Domain {
    fn new(id: String, name: &str, created: i64) -> Domain {
        Domain {
            id,
            name: name.to_owned(),
            service_type: VERCEL_DNS.to_owned(),
            verified: true,
            pending: 0,
            nameservers: NAMESERVERS.map(str::to_owned).to_vec(),
            intended: NAMESERVERS.map(str::to_owned).to_vec(),
            created,
            bought: None,
            expires: None,
            renew: false,
        }
    }

    /// As getDomains lists it (getDomain adds `suffix`).
    fn render(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "serviceType": self.service_type,
            "verified": self.verified,
            "nameservers": self.nameservers,
            "intendedNameservers": self.intended,
            "customNameservers": [],
            "creator": {"id": OWNER, "username": "acme-ops", "email": "ops@example.com",
                "customerId": null, "isDomainReseller": false},
            "teamId": null,
            "userId": OWNER,
            "createdAt": self.created,
            "boughtAt": self.bought,
            "expiresAt": self.expires,
            "renew": self.renew,
            "transferredAt": null,
        })
    }
}

/// The user every sandbox object belongs to (`fixtures/vercel/user.json`).
const OWNER: &str = "AEIIDYVk59zbFF2Sxfyxxmua";

#[derive(Debug, Hash)]
pub(crate) struct DnsRecord {
    id: String,
    zone: String,
    /// Relative to the domain, `""` at the apex.
    name: String,
    rtype: String,
    /// SRV: `weight port target`; CAA: `flags tag "value"`.
    value: String,
    mx_priority: Option<u64>,
    /// SRV only.
    priority: Option<u64>,
    ttl: u64,
    creator: String,
    created: i64,
    updated: i64,
    comment: Option<String>,
}

resource!(
    DnsRecord,
    key: |r| r.id.clone(),
    label: name,
    summary: |r| ("active", "", &r.rtype, &[] as &[String]),
    edit: |r| Editable::default().data(&mut r.value).ttl(&mut r.ttl),
);

impl DnsRecord {
    fn render(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "slug": format!("{}.{}.-{}", self.name, self.zone, self.rtype.to_ascii_lowercase()),
            "name": self.name,
            "type": self.rtype,
            "value": self.value,
            "creator": self.creator,
            "created": self.created,
            "updated": self.updated,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "ttl": self.ttl,
        });
        if let Some(p) = self.mx_priority {
            v["mxPriority"] = json!(p);
        }
        if let Some(p) = self.priority {
            v["priority"] = json!(p);
        }
        if let Some(c) = &self.comment {
            v["comment"] = json!(c);
        }
        v
    }

    /// As updateRecord answers it.
    fn render_updated(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "domain": self.zone,
            "name": self.name,
            "recordType": self.rtype,
            "type": if self.creator == SYSTEM { "record-sys" } else { "record" },
            "value": self.value,
            "creator": self.creator,
            "createdAt": self.created,
            "ttl": self.ttl,
        });
        if let Some(c) = &self.comment {
            v["comment"] = json!(c);
        }
        v
    }
}

/// A Vercel-style id: `prefix` and 24 letters or digits from `n`.
fn vercel_id(prefix: &str, n: u64) -> String {
    let hex = state::det_uuid(SALT, n).simple().to_string();
    format!("{prefix}{}", &hex[..24])
}

/// A fresh id (a random one: ids of created objects are not deterministic, as at Vercel).
fn fresh_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &hex[..24])
}

impl Store {
    fn add_record(&mut self, r: DnsRecord) {
        self.saw(r.created);
        self.records.insert(r.key(), r);
    }

    fn add_domain(&mut self, d: Domain) {
        self.saw(d.created);
        self.domains.insert(d.key(), d);
    }
}

// ---------------------------------------------------------------------------
// seeding

/// The fixture domains with their records (`fixtures/vercel/domains.json`: each domain as
/// getDomains lists it, plus its `records` as getRecords lists them).
pub(super) fn seed_fixtures(store: &mut Store) {
    let int = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64);
    for d in crate::catalog::items(crate::catalog::VERCEL_DOMAINS, "domains") {
        let name = fields::string(&d, "name");
        let domain = Domain {
            service_type: fields::string(&d, "serviceType"),
            verified: d.get("verified").and_then(Value::as_bool).unwrap_or(false),
            nameservers: fields::strings(&d, "nameservers"),
            intended: fields::strings(&d, "intendedNameservers"),
            bought: int(&d, "boughtAt"),
            expires: int(&d, "expiresAt"),
            renew: d.get("renew").and_then(Value::as_bool).unwrap_or(false),
            ..Domain::new(
                fields::string(&d, "id"),
                &name,
                int(&d, "createdAt").unwrap_or(0),
            )
        };
        for r in d
            .get("records")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let created = int(r, "createdAt").unwrap_or(domain.created);
            store.add_record(DnsRecord {
                id: fields::string(r, "id"),
                zone: name.clone(),
                name: fields::string(r, "name"),
                rtype: fields::string(r, "type"),
                value: fields::string(r, "value"),
                mx_priority: r.get("mxPriority").and_then(Value::as_u64),
                priority: r.get("priority").and_then(Value::as_u64),
                ttl: r.get("ttl").and_then(Value::as_u64).unwrap_or(DEFAULT_TTL),
                creator: fields::string(r, "creator"),
                created,
                updated: int(r, "updatedAt").unwrap_or(created),
                comment: fields::opt_string(r, "comment"),
            });
        }
        store.add_domain(domain);
    }
}

/// Generated domains: `bulk-<n>.example`, served by Vercel DNS, without records.
fn bulk_domain(_store: &mut Store, slot: Slot) -> Domain {
    let name = format!("bulk-{:06}.example", slot.n);
    Domain::new(vercel_id("", slot.seq), &name, slot.created * 1000)
}

/// Generated records: A records of the domain [`BULK_ZONE`], which is created (without the
/// system records, so a listing holds exactly the generated ones) on the first.
fn bulk_dns_record(store: &mut Store, slot: Slot) -> DnsRecord {
    if !store.domains.contains(BULK_ZONE) {
        let domain = Domain::new(vercel_id("", 0), BULK_ZONE, slot.created * 1000 - 1);
        store.add_domain(domain);
    }
    let (name, value) = bulk_record(slot.n);
    let created = slot.created * 1000;
    store.saw(created);
    DnsRecord {
        id: vercel_id("rec_", slot.seq),
        zone: BULK_ZONE.to_owned(),
        name,
        rtype: "A".to_owned(),
        value,
        mx_priority: None,
        priority: None,
        ttl: DEFAULT_TTL,
        creator: OWNER.to_owned(),
        created,
        updated: created,
        comment: None,
    }
}

stored!(Domain: Kind::Domain, in Store.domains, render: |d, _s| d.render(), bulk: bulk_domain,
    deleted: drop_records);
stored!(DnsRecord: Kind::DomainRecord, in Store.records, render: |r, _s| r.render(),
    bulk: bulk_dns_record);

/// A deleted domain takes its records with it.
fn drop_records(store: &mut Store, domain: Domain) {
    store.records.retain(|r| r.zone != domain.name);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/vercel/v5/domains", list_route("domains", list_domains))
        .route("/vercel/v7/domains", axum::routing::post(create_domain))
        .route("/vercel/v5/domains/{domain}", get(get_domain))
        .route("/vercel/v6/domains/{domain}", delete(delete_domain))
        .route("/vercel/v4/domains/{domain}/records", get(list_records))
        .route(
            "/vercel/v2/domains/{domain}/records",
            axum::routing::post(create_record),
        )
        .route("/vercel/v1/domains/records/{id}", patch(update_record))
        .route(
            "/vercel/v2/domains/{domain}/records/{id}",
            delete(delete_record),
        )
}

fn domain_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "The domain was not found.")
}

fn record_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "The DNS record was not found.")
}

/// The seqs of the rows `seqs` of `table`, newest first, with their creation times.
fn newest_first<T>(
    table: &state::Table<T>,
    seqs: Vec<u64>,
    created: fn(&T) -> i64,
) -> (Vec<u64>, Vec<i64>) {
    let mut rows: Vec<(i64, u64)> = seqs
        .into_iter()
        .filter_map(|s| table.by_seq(s).map(|r| (created(r), s)))
        .collect();
    rows.sort_by(|a, b| b.cmp(a));
    rows.into_iter().map(|(at, s)| (s, at)).unzip()
}

fn list_domains(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let (seqs, stamps) = newest_first(&store.domains, store.domains.select(|_| true), |d| {
        d.created
    });
    let page = pagination::vercel_until(&stamps, req.query, req.mode).map_err(|m| bad(&m))?;
    Ok(store
        .domains
        .listing(&seqs, page, state::fingerprint, Domain::render))
}

/// `GET /v5/domains/{domain}` → `{domain}` (with `suffix`), a poll.
async fn get_domain(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let d = store(&mut st)
        .domains
        .get_mut(&name)
        .ok_or_else(domain_404)?;
    let mut v = d.render();
    v["suffix"] = json!(false);
    d.observe();
    Ok(json(StatusCode::OK, &wrap("domain", v)))
}

/// `POST /v7/domains` `{name, cdnEnabled?, zone?, method?}`: adds the domain (the transfer form,
/// with `authCode` or `token`, is not emulated). → `200 {domain}`.
async fn create_domain(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "cdnEnabled" | "zone" | "method"))
    {
        return Err(bad(&format!(
            "Invalid request: should NOT have additional property `{key}`."
        )));
    }
    let name = body
        .str("name")?
        .ok_or_else(|| bad("Invalid request: missing required property `name`."))?;
    if body.str("method")?.is_some_and(|m| m != "add") {
        return Err(bad(
            "Invalid request: only `method: \"add\"` is supported here.",
        ));
    }
    if !valid_zone(&name) {
        return Err(bad(&format!("The domain \"{name}\" is not valid.")));
    }
    let mut st = app.state();
    let store = store(&mut st);
    if store.domains.contains(&name) {
        return Err(error(
            P,
            StatusCode::CONFLICT,
            &format!("The domain \"{name}\" already exists."),
        ));
    }
    let created = store.stamp();
    let domain = Domain {
        verified: false,
        pending: UNVERIFIED_READS,
        nameservers: Vec::new(),
        ..Domain::new(fresh_id(""), &name, created)
    };
    let rendered = domain.render();
    store.add_domain(domain);
    let at = store.stamp();
    store.add_record(DnsRecord {
        id: fresh_id("rec_"),
        zone: name,
        name: String::new(),
        rtype: "ALIAS".to_owned(),
        value: "cname.vercel-dns.com.".to_owned(),
        mx_priority: None,
        priority: None,
        ttl: DEFAULT_TTL,
        creator: SYSTEM.to_owned(),
        created: at,
        updated: at,
        comment: None,
    });
    Ok(json(StatusCode::OK, &wrap("domain", rendered)))
}

/// `DELETE /v6/domains/{domain}` → `200 {uid}`; its records go with it.
async fn delete_domain(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let domain = store.domains.remove(&name).ok_or_else(domain_404)?;
    let uid = domain.id.clone();
    drop_records(store, domain);
    Ok(json(StatusCode::OK, &json!({ "uid": uid })))
}

/// `GET /v4/domains/{domain}/records`: with `limit`, a page (`{records, pagination}`); without,
/// every record (`{records}`).
async fn list_records(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(zone): Path<String>,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(domain_404());
    }
    let selected = store.records.select(|r| r.zone == zone);
    let (seqs, stamps) = newest_first(&store.records, selected, |r| r.created);
    let page = if query.contains_key("limit") {
        pagination::vercel_until(&stamps, &query, mode).map_err(|m| bad(&m))?
    } else {
        let range = if mode == PageMode::Empty {
            0..0
        } else {
            0..seqs.len()
        };
        Page {
            range,
            envelope: Map::new(),
        }
    };
    let listing = store
        .records
        .listing(&seqs, page, state::fingerprint, DnsRecord::render);
    Ok(listing.json("records"))
}

/// The fields of a record a create or an update gives.
#[derive(Debug, Default)]
struct RecordFields {
    name: Option<String>,
    rtype: Option<String>,
    value: Option<String>,
    ttl: Option<u64>,
    mx_priority: Option<u64>,
    srv: Option<(u64, u64, u64, String)>,
    comment: Option<String>,
}

/// A non-negative whole number of at most `max` (the document's `minimum`/`maximum`).
fn number(body: &Map<String, Value>, key: &str, max: u64) -> Result<Option<u64>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .filter(|n| *n <= max)
            .map(Some)
            .ok_or_else(|| {
                bad(&format!(
                    "Invalid request: `{key}` should be a number up to {max}."
                ))
            }),
    }
}

impl RecordFields {
    /// Reads a create (`create`) or update body, refusing a field the operation's variant for
    /// the record's type does not declare.
    fn read(
        body: &Map<String, Value>,
        create: bool,
        rtype: &str,
    ) -> Result<RecordFields, Response> {
        let allowed: &[&str] = if create {
            match rtype {
                "MX" => &["name", "type", "ttl", "value", "mxPriority", "comment"],
                "SRV" => &["name", "type", "ttl", "srv", "comment"],
                "HTTPS" => &["name", "type", "ttl", "https", "comment"],
                _ => &["name", "type", "ttl", "value", "comment"],
            }
        } else {
            &[
                "name",
                "value",
                "type",
                "ttl",
                "mxPriority",
                "srv",
                "https",
                "comment",
            ]
        };
        if let Some(key) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad(&format!(
                "Invalid request: should NOT have additional property `{key}`."
            )));
        }
        let string = |key: &str| match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("Invalid request: `{key}` should be string."))),
        };
        let srv = match body.get("srv") {
            None | Some(Value::Null) => None,
            Some(Value::Object(s)) => {
                let n = |k: &str| {
                    number(s, k, 65_535)?.ok_or_else(|| {
                        bad(&format!(
                            "Invalid request: `srv` missing required property `{k}`."
                        ))
                    })
                };
                let target = match s.get("target") {
                    Some(Value::String(t)) if !t.is_empty() => t.trim_end_matches('.').to_owned(),
                    _ => return Err(bad("Invalid request: `srv.target` should be string.")),
                };
                Some((n("priority")?, n("weight")?, n("port")?, target))
            }
            Some(_) => return Err(bad("Invalid request: `srv` should be object.")),
        };
        let ttl = number(body, "ttl", *TTL_RANGE.end())?;
        if ttl.is_some_and(|t| !TTL_RANGE.contains(&t)) {
            return Err(bad("Invalid request: `ttl` should be >= 60."));
        }
        Ok(RecordFields {
            name: string("name")?,
            rtype: string("type")?,
            value: string("value")?,
            ttl,
            mx_priority: number(body, "mxPriority", 65_535)?,
            srv,
            comment: string("comment")?,
        })
    }
}

/// Vercel's checks of a record's value for its type: addresses, a CAA `flags tag "value"`, a
/// value where the type needs one.
fn check_value(rtype: &str, value: &str) -> Result<(), Response> {
    if let Some(e) = value_error(rtype, value) {
        return Err(bad(e));
    }
    if rtype == "CAA" {
        let parts: Vec<&str> = value.splitn(3, ' ').collect();
        let valid = matches!(parts.as_slice(),
            [flags, tag, v] if flags.parse::<u8>().is_ok()
                && matches!(*tag, "issue" | "issuewild" | "iodef")
                && v.len() >= 2 && v.starts_with('"') && v.ends_with('"'));
        if !valid {
            return Err(bad(
                "Invalid CAA record value. Must be: flags tag \"value\" (e.g. 0 issue \"letsencrypt.org\").",
            ));
        }
    }
    Ok(())
}

/// `POST /v2/domains/{domain}/records` → `200 {uid}`.
async fn create_record(
    State(app): State<App>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let rtype = body
        .str("type")?
        .ok_or_else(|| bad("Invalid request: missing required property `type`."))?;
    if !TYPES.contains(&rtype.as_str()) {
        return Err(bad(&format!(
            "Invalid request: `type` should be one of {}.",
            TYPES.join(", ")
        )));
    }
    let f = RecordFields::read(&body, true, &rtype)?;
    let name = f
        .name
        .ok_or_else(|| bad("Invalid request: missing required property `name`."))?;
    if name.ends_with('.') || name.contains(' ') {
        return Err(bad("Invalid request: `name` should be a subdomain name."));
    }
    let (value, priority) = match (rtype.as_str(), f.srv) {
        ("SRV", Some((priority, weight, port, target))) => {
            (format!("{weight} {port} {target}"), Some(priority))
        }
        ("SRV", None) => return Err(bad("Invalid request: missing required property `srv`.")),
        _ => {
            let value = f
                .value
                .ok_or_else(|| bad("Invalid request: missing required property `value`."))?;
            (value, None)
        }
    };
    check_value(&rtype, &value)?;
    if rtype == "MX" && f.mx_priority.is_none() {
        return Err(bad(
            "Invalid request: missing required property `mxPriority`.",
        ));
    }
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(domain_404());
    }
    let at = store.stamp();
    let id = fresh_id("rec_");
    store.add_record(DnsRecord {
        id: id.clone(),
        zone,
        name,
        value: match rtype.as_str() {
            "CNAME" | "MX" | "NS" => value.trim_end_matches('.').to_owned(),
            _ => value,
        },
        rtype,
        mx_priority: f.mx_priority,
        priority,
        ttl: f.ttl.unwrap_or(DEFAULT_TTL),
        creator: OWNER.to_owned(),
        created: at,
        updated: at,
        comment: f.comment,
    });
    Ok(json(StatusCode::OK, &json!({ "uid": id })))
}

/// `PATCH /v1/domains/records/{recordId}` → `200` the record (without `mxPriority` or SRV data).
async fn update_record(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let mut st = app.state();
    let store = store(&mut st);
    let rtype = store.records.get(&id).ok_or_else(record_404)?.rtype.clone();
    let f = RecordFields::read(&body, false, &rtype)?;
    if f.rtype.as_ref().is_some_and(|t| *t != rtype) {
        return Err(bad("Invalid request: a record's `type` cannot change."));
    }
    let current = store.records.get(&id).ok_or_else(record_404)?;
    let srv_priority = f.srv.as_ref().map(|s| s.0);
    let value = match (&f.srv, &f.value) {
        (Some((_, weight, port, target)), _) => format!("{weight} {port} {target}"),
        (None, Some(v)) => v.clone(),
        (None, None) => current.value.clone(),
    };
    check_value(&rtype, &value)?;
    let at = store.stamp();
    let r = store.records.get_mut(&id).ok_or_else(record_404)?;
    if let Some(name) = f.name {
        r.name = name;
    }
    r.value = match rtype.as_str() {
        "CNAME" | "MX" | "NS" => value.trim_end_matches('.').to_owned(),
        _ => value,
    };
    if let Some(t) = f.ttl {
        r.ttl = t;
    }
    if let Some(p) = f.mx_priority {
        r.mx_priority = Some(p);
    }
    if let Some(priority) = srv_priority {
        r.priority = Some(priority);
    }
    if f.comment.is_some() {
        r.comment = f.comment;
    }
    r.updated = at;
    Ok(json(StatusCode::OK, &r.render_updated()))
}

/// `DELETE /v2/domains/{domain}/records/{recordId}` → `200 {}`.
async fn delete_record(
    State(app): State<App>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    if !store.domains.contains(&zone) {
        return Err(domain_404());
    }
    if store.records.get(&id).is_none_or(|r| r.zone != zone) {
        return Err(record_404());
    }
    store.records.remove(&id);
    Ok(json(StatusCode::OK, &json!({})))
}
