//! Domains (`domains`): the account's (or team's) domains through `/v5/domains` ([vercel-sdk]
//! getDomains, getDomain, createOrTransferDomain `POST /v7/domains`, deleteDomain
//! `DELETE /v6/domains/{domain}`; provider-apis-2.md §1.3, §12.3).
//!
//! Every domain call takes the domain's name, so a zone's id is its name (Vercel's own `id` stays
//! in `fullApiData`). Vercel serves the records of a domain only when its DNS is Vercel's
//! (`serviceType == "zeit.world"`): that is `dnsHosted`, and a domain whose DNS is elsewhere has
//! no records here. `intendedNameservers` are the ones Vercel assigned (what the registrar must
//! name), `nameservers` the ones the registry names today; a domain is `pending` until Vercel has
//! `verified` it. Domains carry no tags: a create whose answer was lost is found again by name.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{Kind, Record};

use super::{Collection, Vercel, invalid};
use crate::adapter::{Dock, KindAdapter, Readiness, Update};
use crate::dns::fill_zone;
use crate::object::{decode_object, rfc3339_from_millis, unwrap_envelope};
use crate::redact::secret_keys;
use crate::spec::not_in_place;
use crate::{DockContext, Listed, ProviderError, Request};

/// `serviceType` of a domain whose DNS Vercel serves ([vercel-sdk] getDomains `serviceType`
/// enum `zeit.world | external | na`).
pub(super) const VERCEL_DNS: &str = "zeit.world";

/// The status of a domain Vercel has verified; one it has not is `pending`.
const VERIFIED: &str = "active";
const UNVERIFIED: &str = "pending";

pub(super) const ZONES: Collection = Collection {
    route: "/v5/domains",
    get_route: "/v5/domains/{domain}",
    delete_route: "/v6/domains/{domain}",
    list_key: "domains",
    one_key: "domain",
    check: check_zone,
    item: zone_record,
    value: zone_record,
};

/// `POST /v7/domains`: adds a domain to the account.
const CREATE_ROUTE: &str = "/v7/domains";

// ---------------------------------------------------------------------------------------------
// Wire types ([vercel-sdk] getDomains `domains[]`, getDomain and createOrTransferDomain `domain`).

/// Every field is read leniently (a value of another type reads as absent), so one odd field
/// never fails a listing; a domain without a name does, naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct DomainWire {
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub service_type: String,
    #[serde(deserialize_with = "flag")]
    pub verified: bool,
    #[serde(deserialize_with = "texts")]
    pub intended_nameservers: Vec<String>,
    #[serde(deserialize_with = "integer")]
    pub expires_at: Option<i64>,
    #[serde(deserialize_with = "integer")]
    pub bought_at: Option<i64>,
}

/// A string; anything else is `""`.
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        _ => String::new(),
    })
}

/// A boolean; anything else is `false`.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)?.as_bool().unwrap_or(false))
}

/// The strings of an array; anything else is empty.
fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

/// A whole `number` (the document types timestamps, TTLs and priorities as `number`, so `60.0`
/// is allowed); null or anything else is `None`.
pub(super) fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    })
}

/// `POST /v7/domains`, adding a domain (the first form of the request: `name` alone, `method`
/// left to its default `add`, which a `method` would make ambiguous with the transfer form).
#[derive(Debug, Serialize)]
struct AddDomain<'a> {
    name: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A domain object → the universal record: id and name the domain, nameservers, registrar and
/// expiry (milliseconds → RFC 3339) when Vercel sold it.
pub(super) fn zone_record(
    ctx: &DockContext,
    route: &str,
    raw: impl Listed,
) -> Result<Record, ProviderError> {
    let wire: DomainWire = decode_object(&ctx.dock, route, &raw)?;
    let name = wire.name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(ProviderError::new(
            crate::ErrorClass::Transient,
            &ctx.dock,
            route,
            "the response has an unexpected shape: a domain without a `name`".to_owned(),
        ));
    }
    let mut record = Record::new(
        &ctx.org,
        &ctx.dock_id,
        ctx.provider,
        Kind::Domains,
        &name,
        &name,
    );
    record.full_api_data = raw.into_api_data(secret_keys(ctx.provider));
    let assigned: Vec<&str> = wire
        .intended_nameservers
        .iter()
        .map(String::as_str)
        .collect();
    fill_zone(&mut record, &name, &assigned);
    record.status = if wire.verified { VERIFIED } else { UNVERIFIED }.into();
    if let Attrs::Domains(a) = &mut record.attrs {
        a.dns_hosted = wire.service_type == VERCEL_DNS;
        a.registrar = wire.bought_at.map(|_| "Vercel".to_owned());
        a.expires_at = wire.expires_at.and_then(rfc3339_from_millis);
    }
    Ok(record.with_hash())
}

/// Refuses a zone id that is not a domain name: it becomes a path segment.
pub(super) fn check_zone(ctx: &DockContext, route: &str, zone: &str) -> Result<(), ProviderError> {
    let ok = !zone.is_empty()
        && !zone.starts_with('.')
        && !zone.contains("..")
        && zone
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if ok {
        return Ok(());
    }
    Err(invalid(
        ctx,
        route,
        format!("`{zone}` is not a domain; a Vercel domain is a lowercase domain name"),
    ))
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Domains: ready once added (a domain stays `pending` until its registrar names Vercel's
/// nameservers, which no wait here can bring about); nothing changes in place.
#[derive(Debug)]
pub(super) struct Zones;

#[async_trait::async_trait]
impl KindAdapter<Vercel> for Zones {
    fn kind(&self) -> Kind {
        Kind::Domains
    }

    fn collection(&self) -> &'static Collection {
        &ZONES
    }

    /// A domain is named by its entry: the one of that name, if the account has it.
    async fn find_owned(
        &self,
        dock: &Vercel,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(dock.get_of(&ZONES, &spec.name).await?.into_iter().collect())
    }

    async fn create(&self, dock: &Vercel, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {CREATE_ROUTE}");
        let ctx = &dock.account.ctx;
        check_zone(ctx, &route, &request.spec.name)?;
        let body = AddDomain {
            name: &request.spec.name,
        };
        let answer: Value = dock
            .account
            .client
            .post_json(CREATE_ROUTE, CREATE_ROUTE, &body, &[])
            .await?;
        let item = unwrap_envelope(&ctx.dock, &route, answer, ZONES.one_key)?;
        zone_record(ctx, &route, item)
    }

    async fn update(&self, dock: &Vercel, update: Update<'_>) -> Result<Record, ProviderError> {
        let ctx = &dock.account.ctx;
        let route = format!("PATCH {}", ZONES.get_route);
        if let Some(change) = update.changes.first() {
            return Err(not_in_place(ctx, &route, Kind::Domains, change));
        }
        dock.get_of(&ZONES, update.id).await?.ok_or_else(|| {
            ProviderError::new(
                crate::ErrorClass::NotFound,
                &ctx.dock,
                route,
                format!(
                    "domain {} no longer exists; run `stackdock sync` to refresh the inventory",
                    update.id
                ),
            )
        })
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

    fn attrs(r: &Record) -> &stackdock_core::record::DomainAttrs {
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        a
    }

    #[test]
    fn hosted_domains_map_with_the_assigned_nameservers() {
        let raw = json!({
            "id": "EmTbe5CEJyTk2yVAHBUWy4A3sRusca3GCwRjTC1bpeVnt1",
            "name": "Example.com", "serviceType": "zeit.world", "verified": true,
            "nameservers": ["ns1.registrar.test"],
            "intendedNameservers": ["ns1.vercel-dns.com", "ns2.vercel-dns.com"],
            "customNameservers": [], "createdAt": 1_609_499_532_000_i64,
            "boughtAt": 1_609_499_532_000_i64, "expiresAt": 1_640_995_200_000_i64,
            "renew": true, "teamId": null, "userId": "u1",
            "creator": {"id": "u1", "username": "a", "email": "a@example.com"}
        });
        let r = zone_record(&ctx(), "GET /v5/domains", raw).expect("maps");
        assert_eq!(
            (r.provider_resource_id.as_str(), r.name.as_str()),
            ("example.com", "example.com")
        );
        assert_eq!(r.status, "active");
        let a = attrs(&r);
        assert!(a.dns_hosted);
        assert_eq!(
            a.assigned_nameservers,
            ["ns1.vercel-dns.com", "ns2.vercel-dns.com"]
        );
        assert_eq!(a.registrar.as_deref(), Some("Vercel"));
        assert_eq!(a.expires_at.as_deref(), Some("2022-01-01T00:00:00Z"));
    }

    #[test]
    fn external_and_unverified_domains_are_not_hosted_and_pending() {
        let raw = json!({"name": "elsewhere.test", "serviceType": "external", "verified": false,
            "nameservers": null, "intendedNameservers": ["ns1.vercel-dns.com"],
            "boughtAt": null, "expiresAt": null});
        let r = zone_record(&ctx(), "GET /v5/domains", raw).expect("maps");
        assert_eq!(r.status, "pending");
        let a = attrs(&r);
        assert!(!a.dns_hosted);
        assert_eq!((a.registrar.as_ref(), a.expires_at.as_ref()), (None, None));
        assert!(zone_record(&ctx(), "GET /v5/domains", json!({"name": ""})).is_err());
        assert!(zone_record(&ctx(), "GET /v5/domains", json!([1])).is_err());
    }

    #[test]
    fn zone_ids_must_be_domain_names() {
        let c = ctx();
        assert!(check_zone(&c, "GET", "example.com").is_ok());
        for bad in [
            "",
            "Example.com",
            "../x",
            "a/b",
            "x?y=1",
            ".example.com",
            "a..b",
        ] {
            assert!(check_zone(&c, "GET", bad).is_err(), "{bad}");
        }
    }
}
