//! DNS (`domains` and `domain_records`): zones through `/domains` and their records through
//! `/domains/{name}/records` ([do-spec] resources/domains; provider-apis-2.md §9.2).
//!
//! A zone's id is its name. A record's id is `<zone>/<record id>`; its name is its identity
//! (`<fqdn> <TYPE> <value>`), the mapping going through the one normalisation
//! (`stackdock_core::dns::normalize`). DigitalOcean names records relative to the zone with `@`
//! for the apex, and takes host-name values (CNAME, MX, NS, SRV) absolute with the trailing dot.
//! Neither zones nor records have a status or tags: a create whose answer was lost is found again
//! by the zone's name, or the record's identity.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::dns::{ProviderRecord, has_target};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{Kind, Record};

use super::DigitalOcean;
use super::client::{Collection, base_record, decode_wire, id_string, null_default};
use crate::adapter::{Dock, KindAdapter, Readiness, Update};
use crate::dns::{
    DesiredRecord, ZoneRecords, ZoneRef, fill_record, fill_zone, find_in_zone, list_zone_records,
    record_id, split_record_id,
};
use crate::error::{found, gone_ok};
use crate::object::unwrap_envelope;
use crate::spec::{not_in_place, required_str};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

/// DigitalOcean's nameservers, the same for every zone ([do-spec] has no field for them).
pub(super) const NAMESERVERS: [&str; 3] = [
    "ns1.digitalocean.com",
    "ns2.digitalocean.com",
    "ns3.digitalocean.com",
];

pub(super) const ZONES: Collection = Collection {
    kind: Kind::Domains,
    list: "/domains",
    one: "/domains/{name}",
    list_key: "domains",
    one_key: "domain",
    noun: "domain",
    item: zone_record,
    value: zone_record,
};

const RECORDS_ROUTE: &str = "/domains/{name}/records";
const RECORD_ROUTE: &str = "/domains/{name}/records/{id}";

/// Records have no listing of their own: each zone's is read with its zone
/// ([`ZONE_RECORDS`]), so this collection's mappings refuse an item without one.
const RECORDS: Collection = Collection {
    kind: Kind::DomainRecords,
    list: RECORDS_ROUTE,
    one: RECORD_ROUTE,
    list_key: "domain_records",
    one_key: "domain_record",
    noun: "domain record",
    item: without_zone,
    value: without_zone,
};

static ZONE_RECORDS: ZoneRecords = ZoneRecords {
    route: RECORDS_ROUTE,
    path: |zone| format!("/domains/{}/records", zone.id),
    list_key: "domain_records",
    map: |ctx, zone, item| record_of(ctx, zone, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([do-spec] resources/domains/models).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ZoneWire {
    #[serde(deserialize_with = "null_default")]
    name: String,
}

/// `POST /domains` ([do-spec] domains_create): the zone alone, no apex record.
#[derive(Debug, Serialize)]
struct CreateZone<'a> {
    name: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordWire {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(rename = "type", deserialize_with = "null_default")]
    record_type: String,
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    data: String,
    priority: Option<i64>,
    port: Option<i64>,
    ttl: Option<i64>,
    weight: Option<i64>,
    flags: Option<i64>,
    tag: Option<String>,
}

/// `POST …/records` and `PUT …/records/{id}` ([do-spec] domain_record_types.yml): every field
/// the record's type takes.
#[derive(Debug, Serialize)]
struct RecordBody<'a> {
    #[serde(rename = "type")]
    record_type: &'a str,
    name: String,
    data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
}

impl<'a> RecordBody<'a> {
    /// DigitalOcean's shape of `d`: `@` for the apex, host names with the trailing dot.
    fn of(d: &DesiredRecord<'a>) -> RecordBody<'a> {
        let name = match d.relative_name() {
            n if n.is_empty() => "@".to_owned(),
            n => n,
        };
        let data = if has_target(d.record_type) {
            format!("{}.", d.value)
        } else {
            d.wire_value()
        };
        RecordBody {
            record_type: d.record_type,
            name,
            data,
            ttl: d.ttl,
            priority: d.priority,
            port: d.port,
            weight: d.weight,
            flags: d.flags,
            tag: d.tag,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A zone object → the universal record (id and name: the zone's name).
fn zone_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: ZoneWire = decode_wire("a domain", &raw)?;
    if wire.name.is_empty() {
        return Err("a domain has no name".to_owned());
    }
    let mut record = base_record(ctx, Kind::Domains, &wire.name, &wire.name, raw);
    fill_zone(&mut record, &wire.name, &NAMESERVERS);
    Ok(record.with_hash())
}

/// A record object of `zone` → the universal record.
fn record_of(ctx: &DockContext, zone: &ZoneRef, raw: impl Listed) -> Result<Record, String> {
    let wire: RecordWire = decode_wire("a domain record", &raw)?;
    if wire.id.is_empty() {
        return Err("a domain record has no id".to_owned());
    }
    let id = record_id(&zone.id, &wire.id);
    let mut record = base_record(ctx, Kind::DomainRecords, &id, "", raw);
    let provider = ProviderRecord {
        zone: &zone.name,
        name: &wire.name,
        record_type: &wire.record_type,
        value: &wire.data,
        ttl: wire.ttl,
        priority: wire.priority,
        weight: wire.weight,
        port: wire.port,
        flags: wire.flags,
        tag: wire.tag.as_deref().filter(|t| !t.is_empty()),
    };
    fill_record(&mut record, &provider)?;
    Ok(record.with_hash())
}

fn without_zone<T>(_: &DockContext, _: T) -> Result<Record, String> {
    Err("a domain record is mapped with its zone, which this listing does not give".to_owned())
}

// ---------------------------------------------------------------------------------------------
// The kind adapters

/// Zones (`/domains`): ready once created; nothing changes in place.
#[derive(Debug)]
pub(super) struct Zones;

#[async_trait::async_trait]
impl KindAdapter<DigitalOcean> for Zones {
    fn kind(&self) -> Kind {
        Kind::Domains
    }

    fn collection(&self) -> &'static Collection {
        &ZONES
    }

    /// A zone is named by its entry: the one of that name, if it exists.
    async fn find_owned(
        &self,
        dock: &DigitalOcean,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(dock.get_of(&ZONES, &spec.name).await?.into_iter().collect())
    }

    async fn create(
        &self,
        dock: &DigitalOcean,
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let body = CreateZone {
            name: &request.spec.name,
        };
        dock.create_in(&ZONES, &body).await
    }

    async fn update(
        &self,
        dock: &DigitalOcean,
        update: Update<'_>,
    ) -> Result<Record, ProviderError> {
        let route = "PUT /domains/{name}";
        match update.changes.first() {
            Some(change) => Err(not_in_place(
                &dock.account.ctx,
                route,
                Kind::Domains,
                change,
            )),
            None => dock.existing(&ZONES, update.id, "does not exist").await,
        }
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

/// Records (`/domains/{name}/records`): ready once created; updated in place with `PUT`.
#[derive(Debug)]
pub(super) struct Records;

impl DigitalOcean {
    /// The zone and record ids of `id`, checked to be path segments of their kind.
    fn record_ids<'a>(
        &self,
        route: &str,
        id: &'a str,
    ) -> Result<(&'a str, &'a str), ProviderError> {
        let (zone, record) = split_record_id(&self.account.ctx, route, id)?;
        self.check_id(Kind::Domains, route, zone)?;
        self.check_id(Kind::DomainRecords, route, record)?;
        Ok((zone, record))
    }

    /// An answer holding one record of `zone`, as a record.
    fn answered_record(
        &self,
        route: &str,
        zone: &str,
        answer: Value,
    ) -> Result<Record, ProviderError> {
        let ctx = &self.account.ctx;
        let raw = unwrap_envelope(&ctx.dock, route, answer, RECORDS.one_key)?;
        let zone = ZoneRef::named(zone);
        record_of(ctx, &zone, raw).map_err(|m| self.err(ErrorClass::Transient, route, m))
    }
}

#[async_trait::async_trait]
impl KindAdapter<DigitalOcean> for Records {
    fn kind(&self) -> Kind {
        Kind::DomainRecords
    }

    fn collection(&self) -> &'static Collection {
        &RECORDS
    }

    /// Every zone's records: the zones, then each zone's listing.
    async fn list(&self, dock: &DigitalOcean) -> Result<Vec<Record>, ProviderError> {
        let zones = dock.list_of(&ZONES).await?;
        self.list_within(dock, &zones).await
    }

    /// The records of each zone listed.
    async fn list_within(
        &self,
        dock: &DigitalOcean,
        zones: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = zones.iter().map(ZoneRef::of).collect();
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        list_zone_records(client, ctx, zones, &ZONE_RECORDS).await
    }

    async fn get(&self, dock: &DigitalOcean, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {RECORD_ROUTE}");
        let (zone, record) = dock.record_ids(&route, id)?;
        let path = format!("/domains/{zone}/records/{record}");
        let answer = dock
            .account
            .client
            .get_json::<Value>(RECORD_ROUTE, &path, &[]);
        match found(answer.await)? {
            Some(answer) => dock.answered_record(&route, zone, answer).map(Some),
            None => Ok(None),
        }
    }

    /// The records of the entry's name and type in its zone (DigitalOcean filters by both),
    /// kept when their value is the entry's.
    async fn find_owned(
        &self,
        dock: &DigitalOcean,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(&dock.account.ctx, &route, spec)?;
        dock.check_id(Kind::Domains, &route, desired.zone)?;
        let zone = ZoneRef::named(desired.zone);
        let query = [("name", desired.fqdn), ("type", desired.record_type)];
        let (client, ctx) = (&dock.account.client, &dock.account.ctx);
        find_in_zone(client, ctx, &ZONE_RECORDS, &zone, &desired, &query).await
    }

    async fn create(
        &self,
        dock: &DigitalOcean,
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let route = format!("POST {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(&dock.account.ctx, &route, request.spec)?;
        dock.check_id(Kind::Domains, &route, desired.zone)?;
        let path = format!("/domains/{}/records", desired.zone);
        let body = RecordBody::of(&desired);
        let answer = dock
            .account
            .client
            .post_json(RECORDS_ROUTE, &path, &body, &[]);
        dock.answered_record(&route, desired.zone, answer.await?)
    }

    /// `PUT` of the whole record as the entry now declares it (the plan changes only fields
    /// that update in place).
    async fn update(
        &self,
        dock: &DigitalOcean,
        update: Update<'_>,
    ) -> Result<Record, ProviderError> {
        let route = format!("PUT {RECORD_ROUTE}");
        let (zone, record) = dock.record_ids(&route, update.id)?;
        let ctx = &dock.account.ctx;
        let desired = DesiredRecord::of(ctx, &route, update.request.spec)?;
        required_str(
            ctx,
            &route,
            Kind::DomainRecords,
            update.request.spec,
            "type",
        )?;
        let path = format!("/domains/{zone}/records/{record}");
        let body = RecordBody::of(&desired);
        let answer = dock
            .account
            .client
            .put_json(RECORD_ROUTE, &path, &body, &[]);
        dock.answered_record(&route, zone, answer.await?)
    }

    async fn delete(&self, dock: &DigitalOcean, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {RECORD_ROUTE}");
        let (zone, record) = dock.record_ids(&route, id)?;
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
    use crate::digitalocean::tests::ctx;

    fn zone() -> ZoneRef {
        ZoneRef::named("example.com")
    }

    #[test]
    fn zones_map_with_the_provider_nameservers() {
        let r = zone_record(
            &ctx(),
            json!({"name": "example.com", "ttl": 1800, "zone_file": ""}),
        )
        .expect("succeeds");
        assert_eq!(r.provider_resource_id, "example.com");
        assert_eq!(r.name, "example.com");
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        assert!(a.dns_hosted);
        assert_eq!(a.assigned_nameservers, NAMESERVERS);
    }

    #[test]
    fn records_map_to_their_identity_and_canonical_values() {
        let mx = json!({"id": 3_352_000_001_u64, "type": "MX", "name": "@", "data": "mail.example.com.",
            "priority": 10, "port": null, "ttl": 1800, "weight": null, "flags": null, "tag": null});
        let r = record_of(&ctx(), &zone(), mx).expect("succeeds");
        assert_eq!(r.provider_resource_id, "example.com/3352000001");
        assert_eq!(r.name, "example.com MX mail.example.com");
        assert_eq!(r.status, "active");
        let soa = json!({"id": 2, "type": "SOA", "name": "@", "data": "1800", "ttl": 1800});
        assert!(
            record_of(&ctx(), &zone(), soa)
                .expect("succeeds")
                .provider_managed()
        );
        let ns = json!({"id": 3, "type": "NS", "name": "@", "data": "ns1.digitalocean.com", "ttl": 1800});
        assert!(
            record_of(&ctx(), &zone(), ns)
                .expect("succeeds")
                .provider_managed()
        );
        let bad = json!({"id": 4, "type": "A", "name": "www", "data": "not-an-address"});
        assert!(
            record_of(&ctx(), &zone(), bad)
                .expect_err("fails")
                .contains("IPv4")
        );
    }

    #[test]
    fn bodies_put_the_apex_at_sign_and_the_dot_after_host_names() {
        let d = DesiredRecord {
            zone: "example.com",
            fqdn: "example.com",
            record_type: "MX",
            value: "mail.example.com",
            ttl: None,
            priority: Some(10),
            weight: None,
            port: None,
            flags: None,
            tag: None,
        };
        let body = serde_json::to_value(RecordBody::of(&d)).expect("succeeds");
        assert_eq!(
            body,
            json!({"type": "MX", "name": "@", "data": "mail.example.com.", "priority": 10})
        );
        let a = DesiredRecord {
            fqdn: "www.example.com",
            record_type: "A",
            value: "203.0.113.10",
            priority: None,
            ttl: Some(300),
            ..d
        };
        let body = serde_json::to_value(RecordBody::of(&a)).expect("succeeds");
        assert_eq!(
            body,
            json!({"type": "A", "name": "www", "data": "203.0.113.10", "ttl": 300})
        );
    }
}
