//! Cloudflare DNS records (`/zones/{zone_id}/dns_records`) as `domain_records`
//! ([cf-spec] dns-records-for-a-zone-list-dns-records … -delete-dns-record; provider-apis-2.md
//! §3.3–3.4, §12.3).
//!
//! A record's id is `<zone id>/<record id>`, its name its identity (`<fqdn> <TYPE> <value>`)
//! through the one normalisation (`stackdock_core::dns::normalize`). Cloudflare names records
//! by their FQDN; most types keep their value in `content`, SRV and CAA in a structured `data`
//! (`{priority, weight, port, target}`, `{flags, tag, value}`), MX its `priority` beside
//! `content`. `ttl: 1` is automatic, stored as no TTL like every provider's default, and sent
//! when the entry sets no TTL (so removing `ttl` resets it). `proxied` (A, AAAA and CNAME) is
//! kept on the row and changed in place. Records carry no StackDock tag: a create whose answer
//! was lost is found again by its identity, from the zone's listing filtered by name and type.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::dns::{AUTOMATIC_TTL, ProviderRecord, key_applies};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, Record};

use super::declaration::RECORDS_ROUTE;
use super::{Cloudflare, Collection, RESULT, check_id, seal, skeleton};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::dns::{
    DesiredRecord, ZoneRecords, ZoneRef, fill_record, find_in_zone, list_zone_records, record_id,
    split_record_id,
};
use crate::error::gone_ok;
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const RECORD_ROUTE: &str = "/zones/{zone_id}/dns_records/{dns_record_id}";

/// Records have no listing of their own: each zone's is read with its zone
/// ([`ZONE_RECORDS`]), so this collection's mapping refuses an item without one.
pub(super) static RECORDS: Collection = Collection {
    kind: Kind::DomainRecords,
    list: RECORDS_ROUTE,
    one: RECORD_ROUTE,
    key: super::RESULT,
    map: |_, _| {
        Err("a DNS record is mapped with its zone, which this listing does not give".to_owned())
    },
};

static ZONE_RECORDS: ZoneRecords = ZoneRecords {
    route: RECORDS_ROUTE,
    path: |zone| format!("/zones/{}/dns_records", zone.id),
    list_key: RESULT,
    map: |ctx, zone, item| record_of(ctx, zone, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([cf-spec] `dns-records_dns-record` and its per-type schemas; [cf-go] dns/record.go)

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordWire {
    id: Option<String>,
    #[serde(rename = "type")]
    record_type: Option<String>,
    /// The FQDN.
    name: Option<String>,
    content: Option<String>,
    data: Option<DataWire>,
    /// 1: automatic.
    ttl: Option<f64>,
    priority: Option<f64>,
    proxied: Option<bool>,
}

/// The structured value of SRV and CAA records.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DataWire {
    priority: Option<f64>,
    weight: Option<f64>,
    port: Option<f64>,
    target: Option<String>,
    flags: Option<f64>,
    tag: Option<String>,
    value: Option<String>,
}

/// `POST …/dns_records` and `PATCH …/dns_records/{id}` ([cf-spec] `dns-records_<TYPE>Record`):
/// the whole record each time, so a `PATCH` also resets what the entry no longer sets.
#[derive(Debug, Serialize, PartialEq)]
struct RecordBody<'a> {
    #[serde(rename = "type")]
    record_type: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Data<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    ttl: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxied: Option<bool>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
enum Data<'a> {
    Srv {
        priority: i64,
        weight: i64,
        port: i64,
        target: &'a str,
    },
    Caa {
        flags: i64,
        tag: &'a str,
        value: &'a str,
    },
}

impl<'a> RecordBody<'a> {
    /// Cloudflare's shape of `d`, proxied as the entry says (`None`: not said), or why it
    /// cannot be sent.
    fn of(d: &DesiredRecord<'a>, proxied: Option<bool>) -> Result<RecordBody<'a>, String> {
        let need = |v: Option<i64>, key: &str| {
            v.ok_or_else(|| format!("{} record `{}` needs `{key}`", d.record_type, d.fqdn))
        };
        let (content, data, priority) = match d.record_type {
            "SRV" => (
                None,
                Some(Data::Srv {
                    priority: need(d.priority, "priority")?,
                    weight: need(d.weight, "weight")?,
                    port: need(d.port, "port")?,
                    target: d.value,
                }),
                None,
            ),
            "CAA" => (
                None,
                Some(Data::Caa {
                    flags: d.flags.unwrap_or(0),
                    tag: d
                        .tag
                        .ok_or_else(|| format!("CAA record `{}` needs `tag`", d.fqdn))?,
                    value: d.value,
                }),
                None,
            ),
            "MX" => (
                Some(d.wire_value()),
                None,
                Some(need(d.priority, "priority")?),
            ),
            _ => (Some(d.wire_value()), None, None),
        };
        Ok(RecordBody {
            record_type: d.record_type,
            name: d.fqdn,
            content,
            data,
            priority,
            ttl: d.ttl.unwrap_or(AUTOMATIC_TTL),
            proxied: proxied.filter(|_| key_applies("proxied", d.record_type)),
        })
    }
}

/// `proxied` as the entry sets it.
fn proxied_of(spec: &ResourceSpec) -> Option<bool> {
    match spec.fields.get("proxied") {
        Some(FieldValue::Bool(b)) => Some(*b),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A whole number of the wire (Cloudflare types them `number`).
fn int(n: Option<f64>) -> Option<i64> {
    n.filter(|n| n.is_finite() && n.fract() == 0.0)
        .map(|n| n as i64)
}

/// A record object of `zone` → a `domainRecords` record.
fn record_of(ctx: &DockContext, zone: &ZoneRef, raw: impl Listed) -> Result<Record, String> {
    let wire: RecordWire = raw.decode().map_err(|e| format!("a DNS record: {e}"))?;
    let id = wire
        .id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or("a DNS record without an `id`")?;
    let record_type = wire.record_type.as_deref().unwrap_or_default();
    let data = wire.data.unwrap_or_default();
    let upper = record_type.to_ascii_uppercase();
    let content = wire.content.as_deref().unwrap_or_default();
    let value = match upper.as_str() {
        "SRV" => data.target.as_deref().unwrap_or(content),
        "CAA" => data.value.as_deref().unwrap_or(content),
        _ => content,
    };
    let priority = match upper.as_str() {
        "SRV" => int(data.priority).or(int(wire.priority)),
        _ => int(wire.priority),
    };
    let provider = ProviderRecord {
        zone: &zone.name,
        name: wire.name.as_deref().unwrap_or_default(),
        record_type,
        value,
        // 1 is automatic: stored as no TTL (provider-apis-2.md §12.3).
        ttl: int(wire.ttl).filter(|t| *t != AUTOMATIC_TTL),
        priority: priority.filter(|_| key_applies("priority", &upper)),
        weight: int(data.weight).filter(|_| upper == "SRV"),
        port: int(data.port).filter(|_| upper == "SRV"),
        flags: int(data.flags).filter(|_| upper == "CAA"),
        tag: data.tag.as_deref().filter(|_| upper == "CAA"),
    };
    let mut record = skeleton(ctx, Kind::DomainRecords, &record_id(&zone.id, id), "");
    fill_record(&mut record, &provider)?;
    if let Attrs::DomainRecords(a) = &mut record.attrs {
        a.proxied = wire.proxied.unwrap_or(false);
    }
    Ok(seal(record, raw))
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Cloudflare {
    /// The zone and record ids of a record id, both checked to be Cloudflare ids.
    fn record_ids<'a>(
        &self,
        route: &str,
        id: &'a str,
    ) -> Result<(&'a str, &'a str), ProviderError> {
        let (zone, record) = split_record_id(self.ctx(), route, id)?;
        check_id(self.ctx(), route, Kind::Domains, zone)?;
        check_id(self.ctx(), route, Kind::DomainRecords, record)?;
        Ok((zone, record))
    }

    /// The zone an entry's record goes in; a zone that does not exist is `NotFound`.
    async fn zone_of(&self, route: &str, d: &DesiredRecord<'_>) -> Result<ZoneRef, ProviderError> {
        self.zone_named(d.zone).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &self.ctx().dock,
                route,
                format!(
                    "zone `{}` does not exist in this Cloudflare account; declare it under `[domains.\"{}\"]` so the plan creates it first",
                    d.zone, d.zone
                ),
            )
        })
    }

    /// An answer holding one record of `zone`, as a record.
    fn answered(
        &self,
        route: &str,
        zone: &ZoneRef,
        answer: Value,
    ) -> Result<Record, ProviderError> {
        let raw = crate::object::unwrap_envelope(&self.ctx().dock, route, answer, RESULT)?;
        record_of(self.ctx(), zone, raw).map_err(|m| self.unexpected(route, m))
    }

    /// The body of `spec`'s record, or the request refused before it is sent.
    fn record_body<'a>(
        &self,
        route: &str,
        d: &DesiredRecord<'a>,
        spec: &ResourceSpec,
    ) -> Result<RecordBody<'a>, ProviderError> {
        RecordBody::of(d, proxied_of(spec)).map_err(|m| self.invalid(route, m))
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Records (`/zones/{zone_id}/dns_records`): ready once created; updated in place with `PATCH`.
#[derive(Debug)]
pub(super) struct Records;

#[async_trait::async_trait]
impl KindAdapter<Cloudflare> for Records {
    fn kind(&self) -> Kind {
        Kind::DomainRecords
    }

    fn collection(&self) -> &'static Collection {
        &RECORDS
    }

    /// Every zone's records: the zones, then each zone's listing.
    async fn list(&self, cf: &Cloudflare) -> Result<Vec<Record>, ProviderError> {
        let zones = cf.zones().await?;
        self.list_within(cf, &zones).await
    }

    /// The records of each zone listed.
    async fn list_within(
        &self,
        cf: &Cloudflare,
        zones: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let zones = zones.iter().map(ZoneRef::of).collect();
        list_zone_records(&cf.account.client, cf.ctx(), zones, &ZONE_RECORDS).await
    }

    /// The record, then its zone (whose name the record's row names); a 404 of either is gone.
    async fn get(&self, cf: &Cloudflare, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {RECORD_ROUTE}");
        let (zone, record) = cf.record_ids(&route, id)?;
        let path = format!("/zones/{zone}/dns_records/{record}");
        let answer = cf
            .account
            .client
            .get_json::<Value>(RECORD_ROUTE, &path, &[]);
        let Some(answer) = crate::error::found(answer.await)? else {
            return Ok(None);
        };
        match cf.zone(&route, zone).await? {
            Some(zone) => cf.answered(&route, &zone, answer).map(Some),
            None => Ok(None),
        }
    }

    /// The records of the entry's zone with its name and type (Cloudflare filters by both),
    /// kept when their identity is the entry's; none when the zone does not exist.
    async fn find_owned(
        &self,
        cf: &Cloudflare,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(cf.ctx(), &route, spec)?;
        let Some(zone) = cf.zone_named(desired.zone).await? else {
            return Ok(Vec::new());
        };
        let query = [("name", desired.fqdn), ("type", desired.record_type)];
        find_in_zone(
            &cf.account.client,
            cf.ctx(),
            &ZONE_RECORDS,
            &zone,
            &desired,
            &query,
        )
        .await
    }

    async fn create(&self, cf: &Cloudflare, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {RECORDS_ROUTE}");
        let desired = DesiredRecord::of(cf.ctx(), &route, request.spec)?;
        let body = cf.record_body(&route, &desired, request.spec)?;
        let zone = cf.zone_of(&route, &desired).await?;
        let path = (ZONE_RECORDS.path)(&zone);
        let answer: Value = cf
            .account
            .client
            .post_json(RECORDS_ROUTE, &path, &body, &[])
            .await?;
        cf.answered(&route, &zone, answer)
    }

    /// `PATCH` of the whole record as the entry now declares it (the plan changes only fields
    /// that update in place).
    async fn update(&self, cf: &Cloudflare, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {RECORD_ROUTE}");
        let (zone, record) = cf.record_ids(&route, u.id)?;
        let desired = DesiredRecord::of(cf.ctx(), &route, u.request.spec)?;
        let body = cf.record_body(&route, &desired, u.request.spec)?;
        let zone = ZoneRef {
            id: zone.to_owned(),
            name: desired.zone.to_owned(),
        };
        let path = format!("/zones/{}/dns_records/{record}", zone.id);
        let answer: Value = cf
            .account
            .client
            .patch_json(RECORD_ROUTE, &path, &body, &[])
            .await?;
        cf.answered(&route, &zone, answer)
    }

    async fn delete(&self, cf: &Cloudflare, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {RECORD_ROUTE}");
        let (zone, record) = cf.record_ids(&route, id)?;
        let path = format!("/zones/{zone}/dns_records/{record}");
        gone_ok(cf.account.client.delete(RECORD_ROUTE, &path, &[]).await)
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cloudflare::tests::ctx;

    const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";
    const ID: &str = "372e67954025e0ba6aaa6d586b9e0b59";

    fn zone() -> ZoneRef {
        ZoneRef {
            id: ZONE.to_owned(),
            name: "example.com".to_owned(),
        }
    }

    fn attrs(r: &Record) -> &stackdock_core::record::DomainRecordAttrs {
        let Attrs::DomainRecords(a) = &r.attrs else {
            panic!("not a record")
        };
        a
    }

    #[test]
    fn records_map_content_data_automatic_ttl_and_proxied() {
        let a = json!({"id": ID, "type": "A", "name": "www.example.com", "content": "203.0.113.10", "ttl": 1, "proxied": true, "proxiable": true});
        let r = record_of(&ctx(), &zone(), a).expect("maps");
        assert_eq!(r.provider_resource_id, format!("{ZONE}/{ID}"));
        assert_eq!(r.name, "www.example.com A 203.0.113.10");
        assert_eq!((attrs(&r).ttl, attrs(&r).proxied), (None, true));
        assert_eq!(r.field("proxied"), Some(FieldValue::Bool(true)));
        let mx = json!({"id": ID, "type": "MX", "name": "example.com", "content": "mail.example.com", "priority": 10, "ttl": 3600, "proxied": false});
        let r = record_of(&ctx(), &zone(), mx).expect("maps");
        assert_eq!(r.name, "example.com MX mail.example.com");
        assert_eq!((attrs(&r).priority, attrs(&r).ttl), (Some(10), Some(3600)));
        let srv = json!({"id": ID, "type": "SRV", "name": "_sip._tcp.example.com", "content": "5 5060 sip.example.com", "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}, "ttl": 300});
        let r = record_of(&ctx(), &zone(), srv).expect("maps");
        assert_eq!(r.name, "_sip._tcp.example.com SRV sip.example.com");
        let a_ = attrs(&r);
        assert_eq!(
            (a_.priority, a_.weight, a_.port),
            (Some(10), Some(5), Some(5060))
        );
        let caa = json!({"id": ID, "type": "CAA", "name": "example.com", "content": "0 issue \"letsencrypt.org\"", "data": {"flags": 128, "tag": "issue", "value": "letsencrypt.org"}, "ttl": 1});
        let r = record_of(&ctx(), &zone(), caa).expect("maps");
        let a_ = attrs(&r);
        assert_eq!(
            (a_.flags, a_.tag.as_deref(), a_.value.as_deref()),
            (Some(128), Some("issue"), Some("letsencrypt.org"))
        );
        let ns = json!({"id": ID, "type": "NS", "name": "example.com", "content": "lola.ns.cloudflare.com", "ttl": 86400});
        assert!(
            record_of(&ctx(), &zone(), ns)
                .expect("maps")
                .provider_managed()
        );
        let bad =
            json!({"id": ID, "type": "A", "name": "www.example.com", "content": "not-an-address"});
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
            fqdn: "www.example.com",
            record_type,
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
    fn bodies_name_the_fqdn_and_put_srv_and_caa_in_data() {
        let a = RecordBody::of(&desired("A", "203.0.113.10"), Some(true)).expect("body");
        assert_eq!(
            serde_json::to_value(&a).expect("json"),
            json!({"type": "A", "name": "www.example.com", "content": "203.0.113.10", "ttl": 1, "proxied": true})
        );
        let txt = RecordBody::of(&desired("TXT", "v=spf1 -all"), Some(true)).expect("body");
        assert_eq!(txt.proxied, None, "TXT records are never proxied");
        let srv = DesiredRecord {
            fqdn: "_sip._tcp.example.com",
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            ttl: Some(600),
            ..desired("SRV", "sip.example.com")
        };
        assert_eq!(
            serde_json::to_value(RecordBody::of(&srv, None).expect("body")).expect("json"),
            json!({"type": "SRV", "name": "_sip._tcp.example.com", "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}, "ttl": 600})
        );
        assert!(
            RecordBody::of(
                &DesiredRecord {
                    weight: None,
                    ..srv.clone()
                },
                None
            )
            .is_err()
        );
        let caa = DesiredRecord {
            fqdn: "example.com",
            tag: Some("issue"),
            ..desired("CAA", "letsencrypt.org")
        };
        assert_eq!(
            serde_json::to_value(RecordBody::of(&caa, None).expect("body")).expect("json"),
            json!({"type": "CAA", "name": "example.com", "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}, "ttl": 1})
        );
        let mx = DesiredRecord {
            priority: Some(10),
            ..desired("MX", "mail.example.com")
        };
        assert_eq!(
            serde_json::to_value(RecordBody::of(&mx, None).expect("body")).expect("json"),
            json!({"type": "MX", "name": "www.example.com", "content": "mail.example.com", "priority": 10, "ttl": 1})
        );
    }
}
