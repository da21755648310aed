//! Cloudflare zones (`/zones`) as `domains` records ([cf-spec] zones-get, zones-post,
//! zones-0-get, zones-0-delete; provider-apis-2.md §3.3–3.4).
//!
//! A zone's id is Cloudflare's 32-hex zone id, its name the domain. A zone is created `full`
//! (Cloudflare serves its DNS) in the dock's `account_id`, and listed in that account only when
//! the dock sets one (else every zone the token can see). Zones carry no tags: a create whose
//! answer was lost is found again by the zone's name, which is unique in an account.
//!
//! Status: `initializing` and `pending` → pending (Cloudflare waits for the registrar to
//! delegate to the zone's `name_servers`), `active` → active (`paused` → stopped), `moved` →
//! error, anything else unknown. A pending zone is ready for StackDock: its records can be
//! created at once, and activation needs the user to set the nameservers at the registrar,
//! which the record's `assignedNameservers` (and the plan's output) name.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::Attrs;
use stackdock_core::{Kind, Record};

use super::{Cloudflare, Collection, check_id, seal, skeleton};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::dns::{ZoneRef, fill_zone};
use crate::http::ListOptions;
use crate::spec::not_in_place;
use crate::{DockContext, Listed, ProviderError, Request};

const ZONES_ROUTE: &str = "/zones";
const ZONE_ROUTE: &str = "/zones/{zone_id}";

pub(super) static ZONES: Collection = Collection {
    kind: Kind::Domains,
    list: ZONES_ROUTE,
    one: ZONE_ROUTE,
    key: super::RESULT,
    map: |ctx, item| zone_record(ctx, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([cf-spec] `zones_zone`; [cf-go] zones/zone.go `Zone`)

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ZoneWire {
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    paused: Option<bool>,
    #[serde(rename = "type")]
    zone_type: Option<String>,
    name_servers: Option<Vec<String>>,
    original_registrar: Option<String>,
}

/// `POST /zones` ([cf-spec] zones-post): `name` and `account` required; `type` full.
#[derive(Debug, Serialize)]
struct CreateZone<'a> {
    name: &'a str,
    account: AccountRef<'a>,
    #[serde(rename = "type")]
    zone_type: &'static str,
}

#[derive(Debug, Serialize)]
struct AccountRef<'a> {
    id: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A zone's universal status: see the module's documentation.
pub(super) fn zone_status(status: Option<&str>, paused: bool) -> &'static str {
    match status {
        Some("initializing" | "pending") => "pending",
        Some("active") if paused => "stopped",
        Some("active") => crate::dns::ACTIVE,
        Some("moved") => "error",
        _ => "unknown",
    }
}

/// A zone object → a `domains` record (id: the zone id; name: the domain).
fn zone_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: ZoneWire = raw.decode().map_err(|e| format!("a zone: {e}"))?;
    let id = wire
        .id
        .filter(|s| !s.trim().is_empty())
        .ok_or("a zone without an `id`")?;
    let name = wire
        .name
        .filter(|s| !s.trim().is_empty())
        .ok_or("a zone without a `name`")?;
    let mut record = skeleton(ctx, Kind::Domains, &id, &name);
    let nameservers = wire.name_servers.unwrap_or_default();
    let nameservers: Vec<&str> = nameservers.iter().map(String::as_str).collect();
    fill_zone(&mut record, &name, &nameservers);
    record.status = zone_status(wire.status.as_deref(), wire.paused.unwrap_or(false)).into();
    if let Attrs::Domains(a) = &mut record.attrs {
        // provider-apis-2.md §12.3: Cloudflare serves the records of a `full` zone only.
        a.dns_hosted = wire.zone_type.as_deref().is_none_or(|t| t == "full");
        a.registrar = wire.original_registrar.filter(|r| !r.trim().is_empty());
    }
    Ok(seal(record, raw))
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Cloudflare {
    /// Listing options of zones: in the dock's account when it sets one.
    fn zone_options(&self) -> ListOptions {
        match self.account_id() {
            Some(account) => ListOptions::new().query("account.id", account),
            None => ListOptions::new(),
        }
    }

    /// Every zone of the dock.
    pub(super) async fn zones(&self) -> Result<Vec<Record>, ProviderError> {
        self.list_with(&ZONES, &self.zone_options()).await
    }

    /// The zones named `name` (Cloudflare's `name` filter, checked exactly here).
    pub(super) async fn zones_named(&self, name: &str) -> Result<Vec<Record>, ProviderError> {
        let options = self.zone_options().query("name", name);
        let zones = self.list_with(&ZONES, &options).await?;
        Ok(zones.into_iter().filter(|z| z.name == name).collect())
    }

    /// The zone named `name`, if it exists.
    pub(super) async fn zone_named(&self, name: &str) -> Result<Option<ZoneRef>, ProviderError> {
        Ok(self.zones_named(name).await?.first().map(ZoneRef::of))
    }

    /// The zone `id` (its name is what its records' names are relative to); `None` when gone.
    pub(super) async fn zone(
        &self,
        route: &str,
        id: &str,
    ) -> Result<Option<ZoneRef>, ProviderError> {
        check_id(self.ctx(), route, Kind::Domains, id)?;
        let zone = self
            .read(ZONE_ROUTE, &format!("/zones/{id}"), ZONES.map)
            .await?;
        Ok(zone.as_ref().map(ZoneRef::of))
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Zones (`/zones`): ready once created, whether or not Cloudflare has activated them yet;
/// nothing changes in place (a zone is its name).
#[derive(Debug)]
pub(super) struct Zones;

#[async_trait::async_trait]
impl KindAdapter<Cloudflare> for Zones {
    fn kind(&self) -> Kind {
        Kind::Domains
    }

    fn collection(&self) -> &'static Collection {
        &ZONES
    }

    async fn list(&self, cf: &Cloudflare) -> Result<Vec<Record>, ProviderError> {
        cf.zones().await
    }

    /// A zone is named by its entry: the one of that name, if it exists.
    async fn find_owned(
        &self,
        cf: &Cloudflare,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        cf.zones_named(&spec.name).await
    }

    async fn create(&self, cf: &Cloudflare, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {ZONES_ROUTE}");
        let Some(account) = cf.account_id() else {
            return Err(cf.invalid(
                &route,
                format!(
                    "creating zone `{}` needs the Cloudflare account it goes in: set `account_id` on dock `{}` (32 hex digits, on the dashboard's overview)",
                    request.spec.name,
                    cf.ctx().dock
                ),
            ));
        };
        let body = CreateZone {
            name: &request.spec.name,
            account: AccountRef { id: account },
            zone_type: "full",
        };
        let answer: Value = cf
            .account
            .client
            .post_json(ZONES_ROUTE, ZONES_ROUTE, &body, &[])
            .await?;
        cf.map_answer(&route, answer, ZONES.map)
    }

    async fn update(&self, cf: &Cloudflare, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {ZONE_ROUTE}");
        if let Some(change) = u.changes.first() {
            return Err(not_in_place(cf.ctx(), &route, Kind::Domains, change));
        }
        check_id(cf.ctx(), &route, Kind::Domains, u.id)?;
        let path = format!("/zones/{}", u.id);
        let zone = cf.read(ZONE_ROUTE, &path, ZONES.map);
        zone.await?.ok_or_else(|| {
            ProviderError::new(
                crate::ErrorClass::NotFound,
                &cf.ctx().dock,
                &route,
                format!(
                    "zone {} no longer exists; run `stackdock sync` to refresh the inventory",
                    u.id
                ),
            )
        })
    }

    /// Ready while pending too: activation waits for the registrar, not for StackDock.
    fn readiness(&self, record: &Record) -> Readiness {
        match record.status.as_str() {
            "error" => Readiness::Failed(format!(
                "Cloudflare reports zone `{}` as moved: its nameservers no longer point to Cloudflare; set them at the registrar to the zone's assigned nameservers (`stackdock inventory --kind domains`)",
                record.name
            )),
            _ => Readiness::Ready,
        }
    }
}

/// The zone of a listed item, in the tests' dock.
#[cfg(test)]
fn zone_of(item: crate::http::Item) -> Result<Record, String> {
    zone_record(&super::tests::ctx(), item)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::Item;

    const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";

    fn item(v: Value) -> Item {
        serde_json::value::to_raw_value(&v).expect("raw")
    }

    #[test]
    fn every_status_of_the_spec_maps_into_the_vocabulary() {
        let cases = [
            ("initializing", false, "pending"),
            ("pending", false, "pending"),
            ("active", false, "active"),
            ("active", true, "stopped"),
            ("moved", false, "error"),
            ("deleted", false, "unknown"),
        ];
        for (status, paused, want) in cases {
            assert_eq!(zone_status(Some(status), paused), want, "{status} {paused}");
        }
        assert_eq!(zone_status(None, false), "unknown");
    }

    #[test]
    fn zones_map_with_their_assigned_nameservers() {
        let raw = json!({
            "id": ZONE, "name": "Example.com", "status": "pending", "paused": false, "type": "full",
            "name_servers": ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"],
            "original_registrar": "GoDaddy", "verification_key": "SANDBOX-SECRET-zone-1",
            "account": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "name": "Example"}
        });
        let r = zone_of(item(raw)).expect("maps");
        assert_eq!(
            (r.provider_resource_id.as_str(), r.name.as_str()),
            (ZONE, "example.com")
        );
        assert_eq!(r.status, "pending");
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        assert!(a.dns_hosted);
        assert_eq!(
            a.assigned_nameservers,
            ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"]
        );
        assert_eq!(a.registrar.as_deref(), Some("GoDaddy"));
        crate::provider::assert_no_secret(&r);
        let partial =
            json!({"id": ZONE, "name": "example.com", "status": "active", "type": "partial"});
        let r = zone_of(item(partial)).expect("maps");
        let Attrs::Domains(a) = &r.attrs else {
            panic!("not a zone")
        };
        assert!(!a.dns_hosted);
        assert!(zone_of(item(json!({"name": "example.com"}))).is_err());
        assert!(zone_of(item(json!({"id": ZONE}))).is_err());
    }

    #[test]
    fn a_pending_zone_is_ready_and_a_moved_one_failed() {
        let mut r = zone_of(item(
            json!({"id": ZONE, "name": "example.com", "status": "pending"}),
        ))
        .expect("maps");
        assert_eq!(Zones.readiness(&r), Readiness::Ready);
        r.status = "error".into();
        assert!(matches!(Zones.readiness(&r), Readiness::Failed(_)));
    }
}
