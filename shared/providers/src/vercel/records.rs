//! DNS records (`domain_records`) of the domains whose DNS Vercel serves: listed through
//! `/v4/domains/{domain}/records` ([vercel-sdk] getRecords), created with
//! `POST /v2/domains/{domain}/records` (createRecord), changed with
//! `PATCH /v1/domains/records/{recordId}` (updateRecord) and removed with
//! `DELETE /v2/domains/{domain}/records/{recordId}` (removeRecord); provider-apis-2.md §1.
//!
//! A record's id is `<domain>/<record id>`; its name is its identity (`<fqdn> <TYPE> <value>`),
//! through the one normalisation (`stackdock_core::dns::normalize`). Vercel names records
//! relative to the domain (`""` at the apex); an MX record's priority is `mxPriority`; an SRV
//! record is written as an object `{priority, weight, port, target}` and listed as `value`
//! `weight port target` beside its `priority` ([vercel-tf] client/dns_record.go); a CAA
//! record's flags, tag and value are all in `value` (`0 issue "letsencrypt.org"`). Records Vercel
//! made itself (`creator == "system"`) are provider-managed: never planned, never deleted.
//!
//! The listing answers in three shapes ([vercel-sdk] getrecordsop.ts): `{records, pagination}`
//! (paged with `until`), `{records}` (the whole list, no `pagination`) and a plain string; the
//! `Until` scheme of the shared plumbing reads the first two, and the third, which holds no record
//! to read, fails the listing rather than pass for an empty zone. There is no read of one record in
//! the document, so `get` is the record of its domain's listing.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::dns::{ProviderRecord, key_applies};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{Kind, Record};

use super::domains::{ZONES, check_zone, integer, text};
use super::{Collection, Vercel, fill, invalid};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::dns::{
    DesiredRecord, ZoneRecords, ZoneRef, fill_record, find_in_zone, list_zone_records, record_id,
    split_record_id, srv_data,
};
use crate::error::{found, gone_ok};
use crate::http::ListOptions;
use crate::redact::secret_keys;
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const RECORDS_ROUTE: &str = "/v4/domains/{domain}/records";
const CREATE_ROUTE: &str = "/v2/domains/{domain}/records";
const UPDATE_ROUTE: &str = "/v1/domains/records/{recordId}";
const DELETE_ROUTE: &str = "/v2/domains/{domain}/records/{recordId}";

/// `creator` of the records Vercel keeps itself (provider-apis-2.md §1.4).
const SYSTEM: &str = "system";

/// Records have no listing of their own: each domain's is read with its domain
/// ([`ZONE_RECORDS`]), so this collection's mappings refuse an item without one.
const RECORDS: Collection = Collection {
    route: RECORDS_ROUTE,
    get_route: RECORDS_ROUTE,
    delete_route: DELETE_ROUTE,
    list_key: "records",
    one_key: "record",
    check: check_zone,
    item: without_zone,
    value: without_zone,
};

static ZONE_RECORDS: ZoneRecords = ZoneRecords {
    route: RECORDS_ROUTE,
    path: |zone| fill(RECORDS_ROUTE, &zone.id),
    list_key: "records",
    map: |ctx, zone, item| record_of(ctx, zone, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([vercel-sdk] getRecords `records[]`, createRecord, updateRecord).

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RecordWire {
    #[serde(deserialize_with = "text")]
    id: String,
    #[serde(deserialize_with = "text")]
    name: String,
    #[serde(rename = "type", deserialize_with = "text")]
    record_type: String,
    #[serde(deserialize_with = "text")]
    value: String,
    #[serde(deserialize_with = "integer")]
    mx_priority: Option<i64>,
    #[serde(deserialize_with = "integer")]
    priority: Option<i64>,
    #[serde(deserialize_with = "integer")]
    ttl: Option<i64>,
    #[serde(deserialize_with = "text")]
    creator: String,
}

/// The answer to a create: the new record's id ([vercel-sdk] createRecord 200 `{uid}`).
#[derive(Debug, Deserialize)]
struct Created {
    uid: String,
}

/// An SRV record's data as Vercel takes it.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct Srv<'a> {
    priority: i64,
    weight: i64,
    port: i64,
    target: &'a str,
}

/// `POST /v2/domains/{domain}/records` (`type` and `name` always; `value` but for SRV; MX
/// `mxPriority`; SRV `srv`) and, without `type` and `name`, `PATCH /v1/domains/records/{id}`.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct RecordBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    record_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(rename = "mxPriority", skip_serializing_if = "Option::is_none")]
    mx_priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    srv: Option<Srv<'a>>,
}

impl<'a> RecordBody<'a> {
    /// Vercel's shape of `d` (with its name and type on a create): a TTL of 0 or none left to
    /// Vercel's default.
    fn of(d: &DesiredRecord<'a>, create: bool) -> Result<RecordBody<'a>, String> {
        let (value, mx_priority, srv) = match d.record_type {
            "SRV" => match (d.priority, d.weight, d.port) {
                (Some(priority), Some(weight), Some(port)) => (
                    None,
                    None,
                    Some(Srv {
                        priority,
                        weight,
                        port,
                        target: d.value,
                    }),
                ),
                _ => {
                    return Err(format!(
                        "SRV record `{}` needs `priority`, `weight` and `port`",
                        d.fqdn
                    ));
                }
            },
            "MX" => match d.priority {
                Some(p) => (Some(d.value.to_owned()), Some(p), None),
                None => return Err(format!("MX record `{}` needs `priority`", d.fqdn)),
            },
            "CAA" => (Some(d.zone_file_value()?), None, None),
            _ => (Some(d.value.to_owned()), None, None),
        };
        Ok(RecordBody {
            name: create.then(|| d.relative_name()),
            record_type: create.then_some(d.record_type),
            value,
            ttl: d.ttl.filter(|t| *t > 0),
            mx_priority,
            srv,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A record object of `zone` → the universal record; `creator == "system"` marks it
/// provider-managed.
fn record_of(ctx: &DockContext, zone: &ZoneRef, raw: impl Listed) -> Result<Record, String> {
    let wire: RecordWire = raw
        .decode()
        .map_err(|e| format!("a DNS record has an unexpected shape: {e}"))?;
    if wire.id.trim().is_empty() {
        return Err("a DNS record has no id".to_owned());
    }
    let record_type = wire.record_type.to_ascii_uppercase();
    let srv = (record_type == "SRV")
        .then(|| srv_data(&wire.value))
        .flatten();
    let id = record_id(&zone.id, &wire.id);
    let mut record = Record::new(
        &ctx.org,
        &ctx.dock_id,
        ctx.provider,
        Kind::DomainRecords,
        &id,
        &id,
    );
    record.full_api_data = raw.into_api_data(secret_keys(ctx.provider));
    let priority = match record_type.as_str() {
        "MX" => wire.mx_priority.or(wire.priority),
        _ => wire
            .priority
            .filter(|_| key_applies("priority", &record_type)),
    };
    let provider = ProviderRecord {
        zone: &zone.name,
        name: &wire.name,
        record_type: &wire.record_type,
        value: srv.map_or(wire.value.as_str(), |(_, _, target)| target),
        ttl: wire.ttl,
        priority,
        weight: srv.map(|(weight, _, _)| weight),
        port: srv.map(|(_, port, _)| port),
        flags: None,
        tag: None,
    };
    fill_record(&mut record, &provider)?;
    if let Attrs::DomainRecords(a) = &mut record.attrs {
        a.managed |= wire.creator == SYSTEM;
    }
    Ok(record.with_hash())
}

fn without_zone<T>(ctx: &DockContext, route: &str, _: T) -> Result<Record, ProviderError> {
    Err(invalid(
        ctx,
        route,
        "a DNS record is mapped with its domain, which this listing does not give".to_owned(),
    ))
}

/// The domain and record ids of `id`, each checked to be a path segment of its kind (a record id
/// is `rec_` and letters or digits).
fn record_ids<'a>(
    ctx: &DockContext,
    route: &str,
    id: &'a str,
) -> Result<(&'a str, &'a str), ProviderError> {
    let (zone, record) = split_record_id(ctx, route, id)?;
    check_zone(ctx, route, zone)?;
    if !record
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(invalid(
            ctx,
            route,
            format!("`{record}` is not a Vercel DNS record id (`rec_…`)"),
        ));
    }
    Ok((zone, record))
}

/// Whether a `domains` record is one whose records Vercel serves.
fn hosted(zone: &Record) -> bool {
    matches!(&zone.attrs, Attrs::Domains(a) if a.dns_hosted)
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Records: ready once created; updated in place with `PATCH`.
#[derive(Debug)]
pub(super) struct Records;

impl Records {
    /// The record `record` of `zone`, from the zone's listing; `None` when it (or its zone) does
    /// not exist.
    async fn read(
        &self,
        dock: &Vercel,
        zone: &str,
        record: &str,
    ) -> Result<Option<Record>, ProviderError> {
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        let zone = ZoneRef::named(zone);
        let listed = list_zone_records(client, ctx, vec![zone.clone()], &ZONE_RECORDS);
        let wanted = record_id(&zone.id, record);
        Ok(found(listed.await)?
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.provider_resource_id == wanted))
    }

    /// [`Records::read`] of a record that must exist (just created or changed).
    async fn read_existing(
        &self,
        dock: &Vercel,
        route: &str,
        zone: &str,
        record: &str,
    ) -> Result<Record, ProviderError> {
        self.read(dock, zone, record).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &dock.account.ctx.dock,
                route,
                format!(
                    "DNS record {} no longer exists; run `stackdock sync` to refresh the inventory",
                    record_id(zone, record)
                ),
            )
        })
    }
}

/// The request body of `desired`, or an `Invalid` error naming what it lacks.
fn body_of<'a>(
    ctx: &DockContext,
    route: &str,
    desired: &DesiredRecord<'a>,
    create: bool,
) -> Result<RecordBody<'a>, ProviderError> {
    RecordBody::of(desired, create).map_err(|m| invalid(ctx, route, m))
}

#[async_trait::async_trait]
impl KindAdapter<Vercel> for Records {
    fn kind(&self) -> Kind {
        Kind::DomainRecords
    }

    fn collection(&self) -> &'static Collection {
        &RECORDS
    }

    /// Every hosted domain's records: the domains, then each hosted one's listing.
    async fn list(&self, dock: &Vercel) -> Result<Vec<Record>, ProviderError> {
        let zones = dock.list_with(&ZONES, &ListOptions::new()).await?;
        self.list_within(dock, &zones).await
    }

    /// The records of each domain listed whose DNS Vercel serves; the others have none here.
    async fn list_within(
        &self,
        dock: &Vercel,
        zones: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = zones
            .iter()
            .filter(|z| hosted(z))
            .map(ZoneRef::of)
            .collect();
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        list_zone_records(client, ctx, zones, &ZONE_RECORDS).await
    }

    async fn get(&self, dock: &Vercel, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let (zone, record) = record_ids(&dock.account.ctx, &route, id)?;
        self.read(dock, zone, record).await
    }

    /// The records of the entry's domain kept when their identity is the entry's; none when the
    /// domain does not exist.
    async fn find_owned(
        &self,
        dock: &Vercel,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        let desired = DesiredRecord::of(ctx, &route, spec)?;
        check_zone(ctx, &route, desired.zone)?;
        let zone = ZoneRef::named(desired.zone);
        find_in_zone(client, ctx, &ZONE_RECORDS, &zone, &desired, &[]).await
    }

    /// Sent once; Vercel answers with the new id only, so the record is read back.
    async fn create(&self, dock: &Vercel, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {CREATE_ROUTE}");
        let ctx = &dock.account.ctx;
        let desired = DesiredRecord::of(ctx, &route, request.spec)?;
        check_zone(ctx, &route, desired.zone)?;
        let body = body_of(ctx, &route, &desired, true)?;
        let path = fill(CREATE_ROUTE, desired.zone);
        let created: Created = dock
            .account
            .client
            .post_json(CREATE_ROUTE, &path, &body, &[])
            .await?;
        record_ids(ctx, &route, &record_id(desired.zone, &created.uid))?;
        self.read_existing(dock, &route, desired.zone, &created.uid)
            .await
    }

    /// `PATCH` of the record as the entry now declares it (the plan changes only fields that
    /// update in place); Vercel's answer lacks `mxPriority` and the SRV data, so the record is
    /// read back.
    async fn update(&self, dock: &Vercel, update: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {UPDATE_ROUTE}");
        let ctx = &dock.account.ctx;
        let (zone, record) = record_ids(ctx, &route, update.id)?;
        let desired = DesiredRecord::of(ctx, &route, update.request.spec)?;
        let body = body_of(ctx, &route, &desired, false)?;
        let path = fill(UPDATE_ROUTE, record);
        let _: Value = dock
            .account
            .client
            .patch_json(UPDATE_ROUTE, &path, &body, &[])
            .await?;
        self.read_existing(dock, &route, zone, record).await
    }

    async fn delete(&self, dock: &Vercel, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {DELETE_ROUTE}");
        let (zone, record) = record_ids(&dock.account.ctx, &route, id)?;
        let path = format!("/v2/domains/{zone}/records/{record}");
        gone_ok(dock.account.client.delete(DELETE_ROUTE, &path, &[]).await)
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::vercel::testing::ctx;

    const ID: &str = "rec_V0fra8eEgQwEpFhYG2vTzC3K";

    fn zone() -> ZoneRef {
        ZoneRef::named("example.com")
    }

    fn attrs(r: &Record) -> &stackdock_core::record::DomainRecordAttrs {
        let Attrs::DomainRecords(a) = &r.attrs else {
            panic!("not a record")
        };
        a
    }

    #[test]
    fn records_map_to_their_identity_reading_mx_srv_and_caa() {
        let a = json!({"id": ID, "slug": "s", "name": "", "type": "A", "value": "203.0.113.10",
            "creator": "u1", "created": 1, "updated": 1, "createdAt": 1, "updatedAt": 1, "ttl": 60});
        let r = record_of(&ctx(), &zone(), a).expect("maps");
        assert_eq!(r.provider_resource_id, format!("example.com/{ID}"));
        assert_eq!(r.name, "example.com A 203.0.113.10");
        assert_eq!(attrs(&r).ttl, Some(60));
        assert!(!r.provider_managed());
        let mx = json!({"id": ID, "name": "", "type": "MX", "value": "mx1.example.net.",
            "mxPriority": 10, "creator": "u1"});
        let r = record_of(&ctx(), &zone(), mx).expect("maps");
        assert_eq!(r.name, "example.com MX mx1.example.net");
        assert_eq!(attrs(&r).priority, Some(10));
        let srv = json!({"id": ID, "name": "_sip._tcp", "type": "SRV",
            "value": "5 5060 sip.example.com", "priority": 10, "creator": "u1"});
        let r = record_of(&ctx(), &zone(), srv).expect("maps");
        assert_eq!(r.name, "_sip._tcp.example.com SRV sip.example.com");
        let a = attrs(&r);
        assert_eq!(
            (a.priority, a.weight, a.port),
            (Some(10), Some(5), Some(5060))
        );
        let caa = json!({"id": ID, "name": "", "type": "CAA",
            "value": "0 issue \"letsencrypt.org\"", "creator": "u1"});
        let r = record_of(&ctx(), &zone(), caa).expect("maps");
        let a = attrs(&r);
        assert_eq!(
            (a.flags, a.tag.as_deref(), a.value.as_deref()),
            (Some(0), Some("issue"), Some("letsencrypt.org"))
        );
    }

    #[test]
    fn system_records_are_provider_managed() {
        let txt =
            json!({"id": ID, "name": "_acme", "type": "TXT", "value": "x", "creator": "system"});
        assert!(
            record_of(&ctx(), &zone(), txt)
                .expect("maps")
                .provider_managed()
        );
        let bad = json!({"id": ID, "name": "www", "type": "A", "value": "nope", "creator": "u1"});
        assert!(
            record_of(&ctx(), &zone(), bad)
                .expect_err("fails")
                .contains("IPv4")
        );
        assert!(record_of(&ctx(), &zone(), json!({"type": "A"})).is_err());
    }

    fn desired(record_type: &'static str, value: &'static str) -> DesiredRecord<'static> {
        DesiredRecord {
            zone: "example.com",
            fqdn: "_sip._tcp.example.com",
            record_type,
            value,
            ttl: Some(600),
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            flags: None,
            tag: None,
        }
    }

    #[test]
    fn bodies_are_relative_with_mx_priority_and_srv_objects() {
        let body = |d: &DesiredRecord<'_>, create| {
            serde_json::to_value(RecordBody::of(d, create).expect("builds")).expect("json")
        };
        assert_eq!(
            body(&desired("SRV", "sip.example.com"), true),
            json!({"name": "_sip._tcp", "type": "SRV", "ttl": 600,
                "srv": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}})
        );
        let mx = DesiredRecord {
            fqdn: "example.com",
            ..desired("MX", "mx1.example.net")
        };
        assert_eq!(
            body(&mx, true),
            json!({"name": "", "type": "MX", "value": "mx1.example.net", "ttl": 600, "mxPriority": 10})
        );
        let caa = DesiredRecord {
            fqdn: "example.com",
            ttl: None,
            flags: Some(128),
            tag: Some("issue"),
            ..desired("CAA", "letsencrypt.org")
        };
        assert_eq!(
            body(&caa, false),
            json!({"value": "128 issue \"letsencrypt.org\""})
        );
        let no_port = DesiredRecord {
            port: None,
            ..desired("SRV", "sip.example.com")
        };
        assert!(RecordBody::of(&no_port, true).is_err());
    }

    #[test]
    fn record_ids_must_be_a_domain_and_a_record_id() {
        let c = ctx();
        let id = format!("example.com/{ID}");
        assert_eq!(
            record_ids(&c, "GET", &id).expect("splits"),
            ("example.com", ID)
        );
        for bad in [
            "example.com/rec_1?x=1",
            "Example.com/rec_1",
            "../x/rec_1",
            "example.com",
        ] {
            assert!(record_ids(&c, "GET", bad).is_err(), "{bad}");
        }
    }
}
