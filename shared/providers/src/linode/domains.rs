//! Linode DNS: zones (`/domains`) as `domains` records and their records
//! (`/domains/{id}/records`) as `domainRecords` ([linode-spec] Domains; provider-apis-2.md §11).
//!
//! A zone's id is Linode's numeric domain id, its name the `domain`; a record's id is
//! `<domain id>/<record id>`, its name its identity (`<fqdn> <TYPE> <value>`), the mapping going
//! through the one normalisation (`stackdock_core::dns::normalize`). Linode names records relative
//! to the zone with `""` for the apex, takes host names without the trailing dot, builds an SRV
//! record's name from its `service` and `protocol` (`_sip._tcp`), and gives a CAA record a `tag`
//! but no flags (the config validator refuses flags other than 0 for Linode).
//!
//! A zone is created `master` with the SOA email `hostmaster@<zone>` (Linode requires one; no key
//! of `stackdock.toml` sets it) and the ownership tag. Linode lists no SOA or NS records (they
//! are implicit), so nothing listed is provider-managed. Zone status: `active` → active,
//! `disabled` → stopped, `edit_mode` → pending, `has_errors` → error.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::dns::{ProviderRecord, key_applies};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{Kind, Record};

use super::Linode;
use super::client::{Collection, de, filtered, not_in_place, seal, skeleton, to_i64};
use crate::adapter::{Dock, KindAdapter, Readiness, Update};
use crate::dns::{
    DesiredRecord, ZoneRecords, ZoneRef, fill_record, fill_zone, list_zone_records, record_id,
    split_record_id,
};
use crate::error::{found, gone_ok};
use crate::http::{Item, ListOptions};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

/// Linode's nameservers, the same for every zone (provider-apis-2.md §11).
const NAMESERVERS: [&str; 5] = [
    "ns1.linode.com",
    "ns2.linode.com",
    "ns3.linode.com",
    "ns4.linode.com",
    "ns5.linode.com",
];

const ZONES_ROUTE: &str = "/domains";
const ZONE_ROUTE: &str = "/domains/{id}";
const RECORDS_ROUTE: &str = "/domains/{id}/records";
const RECORD_ROUTE: &str = "/domains/{id}/records/{record_id}";

const ZONES: Collection = Collection {
    list: ZONES_ROUTE,
    one: ZONE_ROUTE,
    map: zone_record,
};

/// Records have no listing of their own: each zone's is read with its zone
/// ([`ZONE_RECORDS`]), so this collection's mapping refuses an item without one.
const RECORDS: Collection = Collection {
    list: RECORDS_ROUTE,
    one: RECORD_ROUTE,
    map: |_, _| {
        Err("a domain record is mapped with its zone, which this listing does not give".to_owned())
    },
};

static ZONE_RECORDS: ZoneRecords = ZoneRecords {
    route: RECORDS_ROUTE,
    path: |zone| format!("/domains/{}/records", zone.id),
    list_key: "data",
    map: |ctx, zone, item| record_of(ctx, zone, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([linode-spec] `Domain`, `DomainRecord`; [linodego] domains.go, domain_records.go)

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ZoneWire {
    #[serde(deserialize_with = "de::opt_string")]
    id: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    domain: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    status: Option<String>,
}

/// `POST /domains` ([linodego] `DomainCreateOptions`): a primary zone.
#[derive(Debug, Serialize)]
struct CreateZone<'a> {
    domain: &'a str,
    #[serde(rename = "type")]
    zone_type: &'static str,
    soa_email: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordWire {
    #[serde(deserialize_with = "de::opt_string")]
    id: Option<String>,
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    record_type: Option<String>,
    /// Relative, absent or `""` at the apex.
    #[serde(deserialize_with = "de::opt_string")]
    name: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    target: Option<String>,
    #[serde(deserialize_with = "de::opt_u64")]
    priority: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64")]
    weight: Option<u64>,
    #[serde(deserialize_with = "de::opt_u64")]
    port: Option<u64>,
    #[serde(deserialize_with = "de::opt_string")]
    service: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    protocol: Option<String>,
    /// 0: the zone's default.
    #[serde(deserialize_with = "de::opt_u64")]
    ttl_sec: Option<u64>,
    #[serde(deserialize_with = "de::opt_string")]
    tag: Option<String>,
}

/// `POST …/records` and `PUT …/records/{record_id}` ([linodego] `DomainRecordCreateOptions`,
/// `DomainRecordUpdateOptions`): `type` on a create only (a record's type never changes).
#[derive(Debug, Serialize)]
struct RecordBody<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    record_type: Option<&'a str>,
    /// Unused for SRV records, whose name is their service and protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    /// Always sent: 0 (the zone's default) when the entry sets none, so removing `ttl` resets it.
    ttl_sec: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
}

impl<'a> RecordBody<'a> {
    /// Linode's shape of `d` (`create`: with its type), or why Linode cannot hold it.
    fn of(d: &DesiredRecord<'a>, create: bool) -> Result<RecordBody<'a>, String> {
        if d.flags.is_some_and(|f| f != 0) {
            return Err(format!(
                "CAA record `{}` has flags {}: Linode keeps no CAA flags (0 only)",
                d.fqdn,
                d.flags.unwrap_or_default()
            ));
        }
        let relative = d.relative_name();
        let (name, service, protocol) = if d.record_type == "SRV" {
            let (service, protocol) = srv_parts(&relative).ok_or_else(|| {
                format!(
                    "SRV record `{}` is not named `_<service>._<protocol>.{}`, the only SRV name Linode builds",
                    d.fqdn, d.zone
                )
            })?;
            (None, Some(service.to_owned()), Some(protocol.to_owned()))
        } else {
            (Some(relative), None, None)
        };
        Ok(RecordBody {
            record_type: create.then_some(d.record_type),
            name,
            target: d.wire_value(),
            priority: d.priority,
            weight: d.weight,
            port: d.port,
            service,
            protocol,
            ttl_sec: d.ttl.unwrap_or(0),
            tag: d.tag,
        })
    }
}

/// The service and protocol of an SRV record's relative name `_sip._tcp` (`sip`, `tcp`).
fn srv_parts(relative: &str) -> Option<(&str, &str)> {
    let (service, protocol) = relative.split_once('.')?;
    let service = service.strip_prefix('_')?;
    let protocol = protocol.strip_prefix('_')?;
    let label = |s: &str| !s.is_empty() && !s.contains('.');
    (label(service) && label(protocol)).then_some((service, protocol))
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A zone's universal status: see the module's documentation.
fn zone_status(raw: Option<&str>) -> &'static str {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("active") => crate::dns::ACTIVE,
        Some("disabled") => "stopped",
        Some("edit_mode") => "pending",
        Some("has_errors") => "error",
        Some(_) => "unknown",
    }
}

/// A domain object → a `domains` record (id: the domain id; name: the domain).
fn zone_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: ZoneWire = raw.decode().map_err(|e| format!("a domain: {e}"))?;
    let id = wire.id.ok_or("a domain without an `id`")?;
    let domain = wire.domain.ok_or("a domain without a `domain`")?;
    let mut record = skeleton(ctx, Kind::Domains, &id, &domain);
    fill_zone(&mut record, &domain, &NAMESERVERS);
    record.status = zone_status(wire.status.as_deref()).into();
    Ok(seal(record, raw))
}

/// The relative name of a listed record: an SRV record's from its service and protocol when
/// Linode gives no `_`-name.
fn listed_name(wire: &RecordWire) -> String {
    let name = wire.name.clone().unwrap_or_default();
    if wire.record_type.as_deref() != Some("SRV") || name.starts_with('_') {
        return name;
    }
    match (&wire.service, &wire.protocol) {
        (Some(s), Some(p)) => {
            // Linode prepends `_` (and appends `.` to the service) itself: either form reads.
            let bare = |v: &str| v.trim_matches(|c| c == '_' || c == '.').to_owned();
            let built = format!("_{}._{}", bare(s), bare(p));
            if name.is_empty() {
                built
            } else {
                format!("{built}.{name}")
            }
        }
        _ => name,
    }
}

/// A record object of `zone` → a `domainRecords` record.
fn record_of(ctx: &DockContext, zone: &ZoneRef, raw: impl Listed) -> Result<Record, String> {
    let wire: RecordWire = raw.decode().map_err(|e| format!("a domain record: {e}"))?;
    let id = wire
        .id
        .as_deref()
        .ok_or("a domain record without an `id`")?;
    let record_type = wire.record_type.as_deref().unwrap_or_default();
    let name = listed_name(&wire);
    // Linode answers 0 for the numbers a type does not have.
    let applies = |key, n| to_i64(n).filter(|_| key_applies(key, record_type));
    let provider = ProviderRecord {
        zone: &zone.name,
        name: &name,
        record_type,
        value: wire.target.as_deref().unwrap_or_default(),
        ttl: to_i64(wire.ttl_sec),
        priority: applies("priority", wire.priority),
        weight: applies("weight", wire.weight),
        port: applies("port", wire.port),
        flags: None,
        tag: wire.tag.as_deref(),
    };
    let mut record = skeleton(ctx, Kind::DomainRecords, &record_id(&zone.id, id), "");
    fill_record(&mut record, &provider)?;
    Ok(seal(record, raw))
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Linode {
    /// The zone named `name` (`X-Filter` on `domain`, checked exactly here), if it exists.
    async fn zone_named(&self, name: &str) -> Result<Option<ZoneRef>, ProviderError> {
        let zones = self
            .list_records(ZONES_ROUTE, &filtered("domain", name), zone_record)
            .await?;
        Ok(zones.iter().find(|z| z.name == name).map(ZoneRef::of))
    }

    /// The zone an entry's record goes in; a zone that does not exist is `NotFound`.
    async fn zone_of(&self, route: &str, d: &DesiredRecord<'_>) -> Result<ZoneRef, ProviderError> {
        self.zone_named(d.zone).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &self.account.ctx.dock,
                route,
                format!(
                    "zone `{}` does not exist on this Linode account; declare it under `[domains.\"{}\"]` so the plan creates it first",
                    d.zone, d.zone
                ),
            )
        })
    }

    /// The domain and record numbers of a record id, refused before reaching a URL path unless
    /// both are Linode ids.
    fn record_ids(&self, route: &str, id: &str) -> Result<(u64, u64), ProviderError> {
        let (zone, record) = split_record_id(&self.account.ctx, route, id)?;
        Ok((
            self.numeric_id(route, zone)?,
            self.numeric_id(route, record)?,
        ))
    }

    /// An answer (or a listed item) holding one record of `zone`, as a record.
    fn answered_record(
        &self,
        route: &str,
        zone: &ZoneRef,
        answer: impl Listed,
    ) -> Result<Record, ProviderError> {
        record_of(&self.account.ctx, zone, answer).map_err(|m| {
            ProviderError::new(
                ErrorClass::Transient,
                &self.account.ctx.dock,
                route,
                format!("the response has an unexpected shape: {m}"),
            )
        })
    }

    /// The body of `spec`'s record, or the request refused before it is sent.
    fn record_body<'a>(
        &self,
        route: &str,
        d: &DesiredRecord<'a>,
        create: bool,
    ) -> Result<RecordBody<'a>, ProviderError> {
        RecordBody::of(d, create).map_err(|m| self.invalid(route, m))
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapters

/// Zones (`/domains`): ready while active or disabled; nothing changes in place.
#[derive(Debug)]
pub(super) struct Zones;

#[async_trait::async_trait]
impl KindAdapter<Linode> for Zones {
    fn kind(&self) -> Kind {
        Kind::Domains
    }

    fn collection(&self) -> &'static Collection {
        &ZONES
    }

    /// A zone is named by its entry: the one of that name, if it exists.
    async fn find_owned(
        &self,
        l: &Linode,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = l
            .list_records(ZONES_ROUTE, &filtered("domain", &spec.name), zone_record)
            .await?;
        Ok(zones.into_iter().filter(|z| z.name == spec.name).collect())
    }

    async fn create(&self, l: &Linode, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {ZONES_ROUTE}");
        let spec = request.spec;
        let body = CreateZone {
            domain: &spec.name,
            zone_type: "master",
            soa_email: format!("hostmaster@{}", spec.name),
            tags: Some(spec.owner_tag.as_str())
                .filter(|t| !t.is_empty())
                .into_iter()
                .collect(),
        };
        let answer: Value = l
            .account
            .client
            .post_json(&route, ZONES_ROUTE, &body, &[])
            .await?;
        l.map_one(&route, answer, zone_record)
    }

    async fn update(&self, l: &Linode, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PUT {ZONE_ROUTE}");
        let (_, path) = l.object_path(&ZONES, &route, u.id)?;
        match u.changes.first() {
            Some(change) => Err(not_in_place(&l.account.ctx, &route, Kind::Domains, change)),
            None => l.require_record(ZONE_ROUTE, &path, zone_record).await,
        }
    }

    fn readiness(&self, record: &Record) -> Readiness {
        match record.status.as_str() {
            "pending" => Readiness::Pending,
            "error" => Readiness::Failed(format!(
                "Linode reports errors in zone `{}`: open it in Cloud Manager, fix the records it flags, and apply again",
                record.name
            )),
            _ => Readiness::Ready,
        }
    }
}

/// Records (`/domains/{id}/records`): ready once created; updated in place with `PUT`.
#[derive(Debug)]
pub(super) struct Records;

#[async_trait::async_trait]
impl KindAdapter<Linode> for Records {
    fn kind(&self) -> Kind {
        Kind::DomainRecords
    }

    fn collection(&self) -> &'static Collection {
        &RECORDS
    }

    /// Every zone's records: the zones, then each zone's listing.
    async fn list(&self, l: &Linode) -> Result<Vec<Record>, ProviderError> {
        let zones = l.list_of(&ZONES).await?;
        self.list_within(l, &zones).await
    }

    /// The records of each zone listed.
    async fn list_within(
        &self,
        l: &Linode,
        zones: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = zones.iter().map(ZoneRef::of).collect();
        list_zone_records(&l.account.client, &l.account.ctx, zones, &ZONE_RECORDS).await
    }

    /// The record, then its zone (whose name the record's name is relative to); a 404 of
    /// either is gone.
    async fn get(&self, l: &Linode, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {RECORD_ROUTE}");
        let (zone, record) = l.record_ids(&route, id)?;
        let path = format!("/domains/{zone}/records/{record}");
        let Some(answer) = l.get_value(RECORD_ROUTE, &path).await? else {
            return Ok(None);
        };
        match l.get_of(&ZONES, &zone.to_string()).await? {
            Some(zone) => l
                .answered_record(&route, &ZoneRef::of(&zone), answer)
                .map(Some),
            None => Ok(None),
        }
    }

    /// The records of the entry's zone whose identity is the entry's.
    async fn find_owned(
        &self,
        l: &Linode,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(&l.account.ctx, &route, spec)?;
        let Some(zone) = l.zone_named(desired.zone).await? else {
            return Ok(Vec::new());
        };
        let options = ListOptions::new().path((ZONE_RECORDS.path)(&zone));
        let map = |item: Item| l.answered_record(&route, &zone, item);
        let listed = l
            .account
            .client
            .list_mapped(RECORDS_ROUTE, "data", &options, &map);
        let records = found(listed.await)?.unwrap_or_default();
        Ok(records.into_iter().filter(|r| desired.is(r)).collect())
    }

    async fn create(&self, l: &Linode, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(&l.account.ctx, &route, request.spec)?;
        let body = l.record_body(&route, &desired, true)?;
        let zone = l.zone_of(&route, &desired).await?;
        let path = (ZONE_RECORDS.path)(&zone);
        let answer: Value = l
            .account
            .client
            .post_json(&route, &path, &body, &[])
            .await?;
        l.answered_record(&route, &zone, answer)
    }

    /// `PUT` of the whole record as the entry now declares it (the plan changes only fields
    /// that update in place).
    async fn update(&self, l: &Linode, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PUT {RECORD_ROUTE}");
        let (zone, record) = l.record_ids(&route, u.id)?;
        let desired = DesiredRecord::of(&l.account.ctx, &route, u.request.spec)?;
        let body = l.record_body(&route, &desired, false)?;
        let zone = ZoneRef {
            id: zone.to_string(),
            name: desired.zone.to_owned(),
        };
        let path = format!("/domains/{}/records/{record}", zone.id);
        let answer: Value = l.account.client.put_json(&route, &path, &body, &[]).await?;
        l.answered_record(&route, &zone, answer)
    }

    async fn delete(&self, l: &Linode, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {RECORD_ROUTE}");
        let (zone, record) = l.record_ids(&route, id)?;
        let path = format!("/domains/{zone}/records/{record}");
        gone_ok(l.account.client.delete(&route, &path, &[]).await)
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
    use crate::linode::tests::ctx;

    fn zone() -> ZoneRef {
        ZoneRef {
            id: "2760001".to_owned(),
            name: "example.com".to_owned(),
        }
    }

    #[test]
    fn zones_map_their_id_name_status_and_the_linode_nameservers() {
        let raw = json!({"id": 2_760_001, "domain": "example.com", "type": "master",
            "status": "active", "soa_email": "hostmaster@example.com", "tags": []});
        let r = zone_record(&ctx(), raw).expect("succeeds");
        assert_eq!(r.provider_resource_id, "2760001");
        assert_eq!(r.name, "example.com");
        assert_eq!(r.status, "active");
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        assert!(a.dns_hosted);
        assert_eq!(a.assigned_nameservers, NAMESERVERS);
        for (status, universal) in [
            ("disabled", "stopped"),
            ("edit_mode", "pending"),
            ("has_errors", "error"),
            ("something_new", "unknown"),
        ] {
            assert_eq!(zone_status(Some(status)), universal, "{status}");
        }
        assert!(Zones.readiness(&r) == Readiness::Ready);
    }

    #[test]
    fn records_map_to_their_identity_without_the_numbers_their_type_lacks() {
        let a = json!({"id": 28_400_001, "type": "A", "name": "", "target": "203.0.113.10",
            "priority": 0, "weight": 0, "port": 0, "service": null, "protocol": null,
            "ttl_sec": 0, "tag": null});
        let r = record_of(&ctx(), &zone(), a).expect("succeeds");
        assert_eq!(r.provider_resource_id, "2760001/28400001");
        assert_eq!(r.name, "example.com A 203.0.113.10");
        let Attrs::DomainRecords(attrs) = &r.attrs else {
            panic!("not a record")
        };
        assert_eq!((attrs.priority, attrs.ttl), (None, None));
        let srv = json!({"id": 2, "type": "SRV", "name": "", "target": "sip.example.com",
            "priority": 10, "weight": 5, "port": 5060, "service": "sip", "protocol": "tcp",
            "ttl_sec": 300});
        let r = record_of(&ctx(), &zone(), srv).expect("succeeds");
        assert_eq!(r.name, "_sip._tcp.example.com SRV sip.example.com");
        let decorated = json!({"id": 4, "type": "SRV", "name": null, "target": "sip.example.com.",
            "priority": 10, "weight": 5, "port": 5060, "service": "_sip.", "protocol": "_tcp"});
        let r = record_of(&ctx(), &zone(), decorated).expect("succeeds");
        assert_eq!(r.name, "_sip._tcp.example.com SRV sip.example.com");
        let caa = json!({"id": 3, "type": "CAA", "name": "", "target": "letsencrypt.org",
            "tag": "issue"});
        let r = record_of(&ctx(), &zone(), caa).expect("succeeds");
        assert!(!r.provider_managed());
        let Attrs::DomainRecords(attrs) = &r.attrs else {
            panic!("not a record")
        };
        assert_eq!(attrs.flags, Some(0));
    }

    fn desired(fqdn: &'static str, t: &'static str, value: &'static str) -> DesiredRecord<'static> {
        DesiredRecord {
            zone: "example.com",
            fqdn,
            record_type: t,
            value,
            ttl: None,
            priority: None,
            weight: None,
            port: None,
            flags: None,
            tag: None,
        }
    }

    #[test]
    fn bodies_name_the_apex_empty_and_srv_records_by_service_and_protocol() {
        let mx = DesiredRecord {
            priority: Some(10),
            ..desired("example.com", "MX", "mail.example.com")
        };
        let body = serde_json::to_value(RecordBody::of(&mx, true).expect("fits")).expect("json");
        assert_eq!(
            body,
            json!({"type": "MX", "name": "", "target": "mail.example.com", "priority": 10, "ttl_sec": 0})
        );
        let srv = DesiredRecord {
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            ttl: Some(300),
            ..desired("_sip._tcp.example.com", "SRV", "sip.example.com")
        };
        let body = serde_json::to_value(RecordBody::of(&srv, false).expect("fits")).expect("json");
        assert_eq!(
            body,
            json!({"target": "sip.example.com", "priority": 10, "weight": 5, "port": 5060,
                "service": "sip", "protocol": "tcp", "ttl_sec": 300})
        );
        let unnamed = desired("sip.example.com", "SRV", "sip.example.com");
        assert!(
            RecordBody::of(&unnamed, true)
                .expect_err("refused")
                .contains("_<service>")
        );
        let flagged = DesiredRecord {
            flags: Some(128),
            tag: Some("issue"),
            ..desired("example.com", "CAA", "letsencrypt.org")
        };
        assert!(
            RecordBody::of(&flagged, true)
                .expect_err("refused")
                .contains("flags")
        );
    }
}
