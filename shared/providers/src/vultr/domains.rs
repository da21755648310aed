//! DNS (`domains` and `domain_records`): zones through `/domains` and their records through
//! `/domains/{dns-domain}/records` ([vultr-spec] list-dns-domains … delete-dns-domain-record;
//! provider-apis-2.md §10).
//!
//! A zone's id is its domain. A record's id is `<zone>/<record UUID>`; its name is its identity
//! (`<fqdn> <TYPE> <value>`), the mapping going through the one normalisation
//! (`stackdock_core::dns::normalize`). Vultr names records relative to the zone with `""` for the
//! apex and keeps host names without the trailing dot. It has one `data` field where other
//! providers have several: an SRV record's `data` is `weight port target` (its priority has its
//! own field) and a CAA record's `flags tag "value"`, so every key of those types is written into
//! `data` and read back from it. Neither zones nor records have a status or tags: a create whose
//! answer was lost is found again by the zone's name, or the record's identity.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::dns::{ProviderRecord, key_applies};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{Kind, Record};

use super::Vultr;
use super::client::{
    self, Collection, Write, decode_object, get_existing, invalid, lenient, not_in_place,
    require_id,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::dns::{
    DesiredRecord, ZoneRecords, ZoneRef, fill_record, fill_zone, find_in_zone, list_zone_records,
    record_id, split_record_id, srv_data,
};
use crate::error::{found, gone_ok};
use crate::http::ListOptions;
use crate::object::unwrap_envelope;
use crate::redact::secret_keys;
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

/// Vultr's nameservers, the same for every zone ([vultr-spec] has no field for them).
const NAMESERVERS: [&str; 2] = ["ns1.vultr.com", "ns2.vultr.com"];

const ZONES: Collection = Collection {
    kind: Kind::Domains,
    route: "/domains",
    route_id: "/domains/{dns-domain}",
    list_key: "domains",
    one_key: "domain",
    item: zone_record,
    value: zone_record,
    write: Write::Put,
};

const RECORDS_ROUTE: &str = "/domains/{dns-domain}/records";
const RECORD_ROUTE: &str = "/domains/{dns-domain}/records/{record-id}";

/// Records have no listing of their own: each zone's is read with its zone
/// ([`ZONE_RECORDS`]), so this collection's mappings refuse an item without one.
const RECORDS: Collection = Collection {
    kind: Kind::DomainRecords,
    route: RECORDS_ROUTE,
    route_id: RECORD_ROUTE,
    list_key: "records",
    one_key: "record",
    item: without_zone,
    value: without_zone,
    write: Write::Patch,
};

static ZONE_RECORDS: ZoneRecords = ZoneRecords {
    route: RECORDS_ROUTE,
    path: |zone| format!("/domains/{}/records", zone.id),
    list_key: "records",
    map: |ctx, zone, item| record_of(ctx, zone, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([vultr-spec] `domain` and `dns-record`).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ZoneWire {
    #[serde(deserialize_with = "lenient::string")]
    domain: String,
}

/// `POST /domains` ([vultr-spec] create-dns-domain): the zone alone, without `ip` (which would
/// add records no entry declares).
#[derive(Debug, Serialize)]
struct CreateZone<'a> {
    domain: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordWire {
    #[serde(deserialize_with = "lenient::string")]
    id: String,
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    record_type: String,
    #[serde(deserialize_with = "lenient::string")]
    name: String,
    #[serde(deserialize_with = "lenient::string")]
    data: String,
    priority: Option<i64>,
    ttl: Option<i64>,
}

/// `POST …/records` ([vultr-spec] create-dns-domain-record: `name`, `type`, `data` required) and
/// `PATCH …/records/{record-id}` (update-dns-domain-record, which takes no `type`).
#[derive(Debug, PartialEq, Eq, Serialize)]
struct RecordBody<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    record_type: Option<&'a str>,
    name: String,
    data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
}

impl<'a> RecordBody<'a> {
    /// Vultr's shape of `d` (with its `type` on a create): `""` for the apex, SRV and CAA keys in
    /// `data`, a TTL of 0 or none left to Vultr's default.
    fn of(d: &DesiredRecord<'a>, create: bool) -> Result<RecordBody<'a>, String> {
        Ok(RecordBody {
            record_type: create.then_some(d.record_type),
            name: d.relative_name(),
            data: d.zone_file_value()?,
            ttl: d.ttl.filter(|t| *t > 0),
            priority: d
                .priority
                .filter(|_| key_applies("priority", d.record_type)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A record of `kind` with the dock's ids and the object as `fullApiData`, to be filled.
fn base_record(ctx: &DockContext, kind: Kind, id: &str, raw: impl Listed) -> Record {
    let mut record = Record::new(&ctx.org, &ctx.dock_id, ctx.provider, kind, id, id);
    record.full_api_data = raw.into_api_data(secret_keys(ctx.provider));
    record
}

/// A zone object → the universal record (id and name: the domain).
fn zone_record(ctx: &DockContext, route: &str, raw: impl Listed) -> Result<Record, ProviderError> {
    let wire: ZoneWire = decode_object(&ctx.dock, route, &raw)?;
    require_id(ctx, route, Kind::Domains, &wire.domain)?;
    let mut record = base_record(ctx, Kind::Domains, &wire.domain, raw);
    fill_zone(&mut record, &wire.domain, &NAMESERVERS);
    Ok(record.with_hash())
}

/// A record object of `zone` → the universal record. Vultr lists a priority (0) on every type;
/// only MX and SRV records have one.
fn record_of(ctx: &DockContext, zone: &ZoneRef, raw: impl Listed) -> Result<Record, String> {
    let wire: RecordWire = raw
        .decode()
        .map_err(|e| format!("a DNS record has an unexpected shape: {e}"))?;
    if wire.id.trim().is_empty() {
        return Err("a DNS record has no id".to_owned());
    }
    let srv = (wire.record_type.eq_ignore_ascii_case("SRV"))
        .then(|| srv_data(&wire.data))
        .flatten();
    let mut record = base_record(
        ctx,
        Kind::DomainRecords,
        &record_id(&zone.id, &wire.id),
        raw,
    );
    let record_type = wire.record_type.to_ascii_uppercase();
    let provider = ProviderRecord {
        zone: &zone.name,
        name: &wire.name,
        record_type: &wire.record_type,
        value: srv.map_or(wire.data.as_str(), |(_, _, target)| target),
        ttl: wire.ttl,
        priority: wire
            .priority
            .filter(|_| key_applies("priority", &record_type)),
        weight: srv.map(|(weight, _, _)| weight),
        port: srv.map(|(_, port, _)| port),
        flags: None,
        tag: None,
    };
    fill_record(&mut record, &provider)?;
    Ok(record.with_hash())
}

fn without_zone<T>(ctx: &DockContext, route: &str, _: T) -> Result<Record, ProviderError> {
    Err(invalid(
        ctx,
        route,
        "a DNS record is mapped with its zone, which this listing does not give".to_owned(),
    ))
}

// ---------------------------------------------------------------------------------------------
// The kind adapters

/// Zones (`/domains`): ready once created; nothing changes in place (DNSSEC is not managed).
#[derive(Debug)]
pub(super) struct Zones;

#[async_trait::async_trait]
impl KindAdapter<Vultr> for Zones {
    fn kind(&self) -> Kind {
        Kind::Domains
    }

    fn collection(&self) -> &'static Collection {
        &ZONES
    }

    /// A zone is named by its entry: the one of that name, if it exists.
    async fn find_owned(
        &self,
        dock: &Vultr,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {}", ZONES.route_id);
        check_zone(&dock.account.ctx, &route, &spec.name)?;
        Ok(client::get(dock, &ZONES, &spec.name)
            .await?
            .into_iter()
            .collect())
    }

    async fn create(&self, dock: &Vultr, request: Request<'_>) -> Result<Record, ProviderError> {
        let body = CreateZone {
            domain: &request.spec.name,
        };
        client::create(dock, &ZONES, &body).await
    }

    async fn update(&self, dock: &Vultr, update: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PUT {}", ZONES.route_id);
        match update.changes.first() {
            Some(change) => Err(not_in_place(
                &dock.account.ctx,
                &route,
                Kind::Domains,
                change,
            )),
            None => get_existing(dock, &ZONES, update.id).await,
        }
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

/// Refuses a zone id that is not a domain name: it becomes a path segment.
fn check_zone(ctx: &DockContext, route: &str, zone: &str) -> Result<(), ProviderError> {
    let ok = !zone.is_empty()
        && !zone.starts_with('.')
        && zone
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if ok {
        return Ok(());
    }
    Err(invalid(
        ctx,
        route,
        format!("`{zone}` is not a DNS zone; a zone is a lowercase domain name"),
    ))
}

/// The zone and record ids of `id`, each checked to be a path segment of its kind (a record id
/// is a UUID: hex digits and dashes).
fn record_ids<'a>(
    ctx: &DockContext,
    route: &str,
    id: &'a str,
) -> Result<(&'a str, &'a str), ProviderError> {
    let (zone, record) = split_record_id(ctx, route, id)?;
    check_zone(ctx, route, zone)?;
    if !record.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(invalid(
            ctx,
            route,
            format!("`{record}` is not a Vultr DNS record id (a UUID)"),
        ));
    }
    Ok((zone, record))
}

/// Records (`/domains/{dns-domain}/records`): ready once created; updated in place with `PATCH`.
#[derive(Debug)]
pub(super) struct Records;

impl Records {
    /// The record `record` of `zone`; `None` when it (or its zone) does not exist.
    async fn read(
        &self,
        dock: &Vultr,
        route: &str,
        zone: &str,
        record: &str,
    ) -> Result<Option<Record>, ProviderError> {
        let path = format!("/domains/{zone}/records/{record}");
        let answer = dock
            .account
            .client
            .get_json::<Value>(RECORD_ROUTE, &path, &[]);
        match found(answer.await)? {
            Some(answer) => answered(dock, route, zone, answer).map(Some),
            None => Ok(None),
        }
    }
}

/// An answer holding one record of `zone`, as a record.
fn answered(dock: &Vultr, route: &str, zone: &str, answer: Value) -> Result<Record, ProviderError> {
    let ctx = &dock.account.ctx;
    let raw = unwrap_envelope(&ctx.dock, route, answer, RECORDS.one_key)?;
    record_of(ctx, &ZoneRef::named(zone), raw)
        .map_err(|m| ProviderError::new(ErrorClass::Transient, &ctx.dock, route, m))
}

/// The request body of `spec`, or an `Invalid` error naming what it lacks.
fn body_of<'a>(
    ctx: &DockContext,
    route: &str,
    desired: &DesiredRecord<'a>,
    create: bool,
) -> Result<RecordBody<'a>, ProviderError> {
    RecordBody::of(desired, create).map_err(|m| invalid(ctx, route, m))
}

#[async_trait::async_trait]
impl KindAdapter<Vultr> for Records {
    fn kind(&self) -> Kind {
        Kind::DomainRecords
    }

    fn collection(&self) -> &'static Collection {
        &RECORDS
    }

    /// Every zone's records: the zones, then each zone's listing.
    async fn list(&self, dock: &Vultr) -> Result<Vec<Record>, ProviderError> {
        let zones = client::list(dock, &ZONES, &ListOptions::new()).await?;
        self.list_within(dock, &zones).await
    }

    /// The records of each zone listed.
    async fn list_within(
        &self,
        dock: &Vultr,
        zones: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = zones.iter().map(ZoneRef::of).collect();
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        list_zone_records(client, ctx, zones, &ZONE_RECORDS).await
    }

    async fn get(&self, dock: &Vultr, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {RECORD_ROUTE}");
        let (zone, record) = record_ids(&dock.account.ctx, &route, id)?;
        self.read(dock, &route, zone, record).await
    }

    /// The records of the entry's zone (Vultr filters a record listing by nothing), kept when
    /// their identity is the entry's; none when the zone does not exist.
    async fn find_owned(
        &self,
        dock: &Vultr,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        let desired = DesiredRecord::of(ctx, &route, spec)?;
        check_zone(ctx, &route, desired.zone)?;
        let zone = ZoneRef::named(desired.zone);
        find_in_zone(client, ctx, &ZONE_RECORDS, &zone, &desired, &[]).await
    }

    async fn create(&self, dock: &Vultr, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {RECORDS_ROUTE}");
        let ctx = &dock.account.ctx;
        let desired = DesiredRecord::of(ctx, &route, request.spec)?;
        check_zone(ctx, &route, desired.zone)?;
        let body = body_of(ctx, &route, &desired, true)?;
        let path = format!("/domains/{}/records", desired.zone);
        let answer = dock
            .account
            .client
            .post_json(RECORDS_ROUTE, &path, &body, &[]);
        answered(dock, &route, desired.zone, answer.await?)
    }

    /// `PATCH` of the record as the entry now declares it (the plan changes only fields that
    /// update in place); Vultr answers `204`, so the record is read back.
    async fn update(&self, dock: &Vultr, update: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {RECORD_ROUTE}");
        let ctx = &dock.account.ctx;
        let (zone, record) = record_ids(ctx, &route, update.id)?;
        let desired = DesiredRecord::of(ctx, &route, update.request.spec)?;
        let body = body_of(ctx, &route, &desired, false)?;
        let path = format!("/domains/{zone}/records/{record}");
        let _: Value = dock
            .account
            .client
            .patch_json(RECORD_ROUTE, &path, &body, &[])
            .await?;
        let read_route = format!("GET {RECORD_ROUTE}");
        let read = self.read(dock, &read_route, zone, record).await?;
        read.ok_or_else(|| client::gone(ctx, RECORD_ROUTE, Kind::DomainRecords, update.id))
    }

    async fn delete(&self, dock: &Vultr, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {RECORD_ROUTE}");
        let (zone, record) = record_ids(&dock.account.ctx, &route, id)?;
        let path = format!("/domains/{zone}/records/{record}");
        gone_ok(dock.account.client.delete(RECORD_ROUTE, &path, &[]).await)
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stackdock_core::record::Attrs;

    use super::*;
    use crate::vultr::client::testing::ctx;

    fn zone() -> ZoneRef {
        ZoneRef::named("example.com")
    }

    const ID: &str = "cb676a46-66fd-4dfb-b839-443f2e6c0b60";

    #[test]
    fn zones_map_with_the_provider_nameservers() {
        let raw = json!({"domain": "example.com", "date_created": "2020-10-10T01:56:20+00:00", "dns_sec": "disabled"});
        let r = zone_record(&ctx(), "GET /domains", raw).expect("succeeds");
        assert_eq!(
            (r.provider_resource_id.as_str(), r.name.as_str()),
            ("example.com", "example.com")
        );
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        assert!(a.dns_hosted);
        assert_eq!(a.assigned_nameservers, NAMESERVERS);
        assert!(zone_record(&ctx(), "GET /domains", json!({"domain": ""})).is_err());
    }

    #[test]
    fn records_map_to_their_identity_reading_srv_and_caa_data() {
        let a = json!({"id": ID, "type": "A", "name": "", "data": "203.0.113.10", "priority": 0, "ttl": 300});
        let r = record_of(&ctx(), &zone(), a).expect("succeeds");
        assert_eq!(r.provider_resource_id, format!("example.com/{ID}"));
        assert_eq!(r.name, "example.com A 203.0.113.10");
        assert_eq!(r.field("priority"), None, "A records have no priority");
        let srv = json!({"id": ID, "type": "SRV", "name": "_sip._tcp", "data": "5 5060 sip.example.com", "priority": 10, "ttl": 300});
        let r = record_of(&ctx(), &zone(), srv).expect("succeeds");
        assert_eq!(r.name, "_sip._tcp.example.com SRV sip.example.com");
        let Attrs::DomainRecords(a) = &r.attrs else {
            panic!("not a record")
        };
        assert_eq!(
            (a.priority, a.weight, a.port),
            (Some(10), Some(5), Some(5060))
        );
        let caa = json!({"id": ID, "type": "CAA", "name": "", "data": "128 issuewild \"pki.goog\"", "priority": 0, "ttl": 300});
        let r = record_of(&ctx(), &zone(), caa).expect("succeeds");
        let Attrs::DomainRecords(a) = &r.attrs else {
            panic!("not a record")
        };
        assert_eq!(
            (a.flags, a.tag.as_deref(), a.value.as_deref()),
            (Some(128), Some("issuewild"), Some("pki.goog"))
        );
        let ns = json!({"id": ID, "type": "NS", "name": "", "data": "ns1.vultr.com", "priority": 0, "ttl": 300});
        assert!(
            record_of(&ctx(), &zone(), ns)
                .expect("succeeds")
                .provider_managed()
        );
        let bad = json!({"id": ID, "type": "A", "name": "www", "data": "not-an-address"});
        assert!(
            record_of(&ctx(), &zone(), bad)
                .expect_err("fails")
                .contains("IPv4")
        );
        assert!(record_of(&ctx(), &zone(), json!({"type": "A"})).is_err());
    }

    #[test]
    fn bodies_name_the_apex_empty_and_put_srv_and_caa_keys_in_data() {
        let srv = DesiredRecord {
            zone: "example.com",
            fqdn: "_sip._tcp.example.com",
            record_type: "SRV",
            value: "sip.example.com",
            ttl: Some(600),
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            flags: None,
            tag: None,
        };
        let body =
            serde_json::to_value(RecordBody::of(&srv, true).expect("succeeds")).expect("json");
        assert_eq!(
            body,
            json!({"type": "SRV", "name": "_sip._tcp", "data": "5 5060 sip.example.com", "ttl": 600, "priority": 10})
        );
        let caa = DesiredRecord {
            fqdn: "example.com",
            record_type: "CAA",
            value: "letsencrypt.org",
            ttl: None,
            priority: None,
            weight: None,
            port: None,
            flags: Some(128),
            tag: Some("issue"),
            ..srv
        };
        let body =
            serde_json::to_value(RecordBody::of(&caa, false).expect("succeeds")).expect("json");
        assert_eq!(
            body,
            json!({"name": "", "data": "128 issue \"letsencrypt.org\""})
        );
    }

    #[test]
    fn record_ids_must_be_a_zone_and_a_uuid() {
        let c = ctx();
        let id = format!("example.com/{ID}");
        assert_eq!(
            record_ids(&c, "GET", &id).expect("succeeds"),
            ("example.com", ID)
        );
        for bad in [
            "example.com/42?x=1",
            "Example.com/abc",
            "../x/abc",
            "example.com",
        ] {
            assert!(record_ids(&c, "GET", bad).is_err(), "{bad}");
        }
    }
}
