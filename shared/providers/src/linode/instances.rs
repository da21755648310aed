//! Linodes (`/linode/instances`) as `servers` records: the wire type, the mapping (status table,
//! public IPv4), and create / update (rename, retag, resize) / delete / readiness.
//!
//! The generated root password lives only in the create request: it is never stored, logged,
//! returned or put in an error, and the record is built from the provider's answer, not the request.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::record::{Attrs, ServerAttrs, is_owner_tag};
use stackdock_core::{FieldValue, Kind, Record};

use super::Linode;
use super::client::{
    Collection, Relabel, de, not_in_place, required_str, seal, skeleton, spec_set, spec_str,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::{DockContext, Listed, PowerAction, ProviderError, Request};

const LIST: &str = "/linode/instances";
const ONE: &str = "/linode/instances/{id}";
const CREATE: &str = "POST /linode/instances";
const UPDATE: &str = "PUT /linode/instances/{id}";
const RESIZE: &str = "POST /linode/instances/{id}/resize";
const BOOT: &str = "POST /linode/instances/{id}/boot";
const SHUTDOWN: &str = "POST /linode/instances/{id}/shutdown";
const REBOOT: &str = "POST /linode/instances/{id}/reboot";

/// The body of `boot`, `shutdown` and `reboot` ([linode-spec] post-boot-linode-instance…): every
/// field is optional (`config_id` picks a config other than the last booted one), so an empty
/// object.
#[derive(Debug, Serialize)]
struct PowerBody {}
const COLLECTION: Collection = Collection {
    list: LIST,
    one: ONE,
    map: record,
};

/// How long an update waits for a Linode to finish its current operation before resizing it
/// (Linode answers "Linode busy." to a resize while one is under way).
const BUSY_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------------------
// Wire types ([linodego] instances.go `Instance`; provider-apis.md §3.4)

/// The fields the mapping reads; the whole object is kept as JSON for `fullApiData`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Wire {
    #[serde(deserialize_with = "de::opt_string")]
    id: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    label: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    status: Option<String>,
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    plan: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    image: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    region: Option<String>,
    #[serde(deserialize_with = "de::strings")]
    ipv4: Vec<String>,
    #[serde(deserialize_with = "de::strings")]
    tags: Vec<String>,
}

/// `POST /linode/instances` ([linodego] `InstanceCreateOptions`). Deliberately not `Debug`: it
/// carries the root password and the user data.
#[derive(Serialize)]
struct CreateBody<'a> {
    label: &'a str,
    region: &'a str,
    #[serde(rename = "type")]
    plan: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_pass: Option<String>,
    /// The config's `app`: a StackScript run at first boot ([linode-spec] CreateLinode).
    #[serde(skip_serializing_if = "Option::is_none")]
    stackscript_id: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorized_keys: Vec<String>,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
}

/// `POST /linode/instances/{id}/resize` ([linodego] `InstanceResizeOptions`).
#[derive(Debug, Serialize)]
struct ResizeBody<'a> {
    allow_auto_disk_resize: bool,
    #[serde(rename = "type")]
    plan: &'a str,
}

#[derive(Serialize)]
struct Metadata {
    /// Base64 of the cloud-init user data ([linodego] `InstanceMetadataOptions`).
    user_data: String,
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// Linode status → the servers vocabulary (running, stopped, pending, error, unknown).
///
/// Every value of the spec's `Linode.status` enum (`fixtures/specs/linode`) is mapped:
/// `shutting_down`, `deleting` and `busy` (an operation under way, e.g. a disk resize) are
/// transitions, so `pending` like the others; `billing_suspension` keeps the Linode powered off, so
/// `stopped`. A status the spec does not list is `unknown` (the raw value stays in `fullApiData`).
pub(super) fn status(raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return "unknown".to_owned();
    };
    let lower = raw.to_ascii_lowercase();
    match lower.as_str() {
        "running" => "running",
        "offline" | "stopped" | "billing_suspension" => "stopped",
        "booting" | "provisioning" | "rebooting" | "migrating" | "resizing" | "rebuilding"
        | "cloning" | "restoring" | "shutting_down" | "deleting" | "busy" => "pending",
        _ => "unknown",
    }
    .to_owned()
}

/// The first IPv4 address that is routable from the internet (Linode lists private
/// `192.168.128.0/17` addresses beside the public one).
pub(super) fn public_ipv4(ips: &[String]) -> Option<String> {
    ips.iter()
        .find(|ip| {
            let addr = ip.split('/').next().unwrap_or_default();
            addr.parse::<Ipv4Addr>()
                .is_ok_and(|a| !(a.is_private() || a.is_loopback() || a.is_link_local()))
        })
        .cloned()
}

/// One Linode object → a `servers` record.
pub(super) fn record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let w: Wire = raw.decode().map_err(|e| format!("a Linode: {e}"))?;
    let id = w.id.ok_or("a Linode without an `id`")?;
    let name = w.label.clone().unwrap_or_else(|| id.clone());
    let mut r = skeleton(ctx, Kind::Servers, &id, &name);
    r.status = status(w.status.as_deref()).into();
    r.region = w.region.map(Into::into);
    r.attrs = Attrs::Servers(ServerAttrs {
        instance_type: w.plan,
        ip_address: public_ipv4(&w.ipv4),
        image: w.image,
        tags: w.tags.into_iter().collect(),
    });
    Ok(seal(r, raw))
}

/// Whether a Linode has settled: `running`, or powered off (`stopped`) — an offline Linode stays
/// offline after a rename or resize, and one created without an image never boots, so waiting
/// for `running` there would only time out.
fn settled(status: &str) -> bool {
    matches!(status, "running" | "stopped")
}

/// The tags a Linode carries after a tag change: the desired user tags, every ownership tag it
/// already has, and this entry's ownership tag.
pub(super) fn merged_tags(
    desired: &BTreeSet<String>,
    current: &BTreeSet<String>,
    owner_tag: &str,
) -> Vec<String> {
    desired
        .iter()
        .filter(|t| !is_owner_tag(t))
        .chain(current.iter().filter(|t| is_owner_tag(t)))
        .cloned()
        .chain(std::iter::once(owner_tag.to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A strong random root password (Linode requires one when deploying an image): 32 characters
/// drawn from the operating system's randomness through two v4 UUIDs (about 186 random bits),
/// plus a fixed tail that guarantees upper and lower case, a digit and a symbol.
fn root_password() -> String {
    // 64 symbols, so `byte % 64` is uniform; look-alikes (I, O, l, 0, 1) are left out.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=_";
    let bytes = uuid::Uuid::new_v4()
        .into_bytes()
        .into_iter()
        .chain(uuid::Uuid::new_v4().into_bytes());
    let mut pass: String = bytes
        .map(|b| char::from(ALPHABET[usize::from(b % 64)]))
        .collect();
    pass.push_str("Sd7#");
    pass
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Servers are Linodes (`/linode/instances`): ready once running or offline.
#[derive(Debug)]
pub(super) struct Instances;

#[async_trait::async_trait]
impl KindAdapter<Linode> for Instances {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    async fn create(&self, l: &Linode, request: Request<'_>) -> Result<Record, ProviderError> {
        let spec = request.spec;
        let need = |key| required_str(&l.account.ctx, CREATE, Kind::Servers, spec, key);
        let region = need("region")?;
        let plan = need("plan")?;
        let image = spec_str(spec, "image");
        // The parser admits digits only (`schema::value_error`).
        let stackscript_id = spec_str(spec, "app").and_then(|a| a.parse::<u64>().ok());
        let user_tags = spec_set(spec, "tags");
        let body = CreateBody {
            label: &spec.name,
            region,
            plan,
            image,
            root_pass: image.map(|_| root_password()),
            stackscript_id,
            authorized_keys: spec_set(spec, "ssh_keys").into_iter().collect(),
            tags: merged_tags(&user_tags, &BTreeSet::new(), &spec.owner_tag),
            metadata: request.user_data.map(|data| Metadata {
                user_data: base64::engine::general_purpose::STANDARD.encode(data),
            }),
        };
        let answer: Value = l.account.client.post_json(CREATE, LIST, &body, &[]).await?;
        drop(body);
        l.map_one(CREATE, answer, record)
    }

    /// Rename and retag in one `PUT`, then resize (after the Linode has settled); returns the Linode
    /// as it is after the changes.
    async fn update(&self, l: &Linode, u: Update<'_>) -> Result<Record, ProviderError> {
        let (_, path) = l.object_path(&COLLECTION, UPDATE, u.id)?;
        let mut label = None;
        let mut tags = None;
        let mut plan = None;
        // Every change is checked before anything is sent, so a refused change applies nothing.
        for c in u.changes {
            match (c.field.as_str(), &c.after) {
                ("name", Some(FieldValue::Str(s))) => label = Some(s.to_string()),
                ("tags", Some(FieldValue::Set(s))) => tags = Some(s.iter().cloned().collect()),
                ("tags", None) => tags = Some(BTreeSet::new()),
                ("plan", Some(FieldValue::Str(s))) => plan = Some(s.clone()),
                _ => return Err(not_in_place(&l.account.ctx, UPDATE, Kind::Servers, c)),
            }
        }
        let mut body = Relabel { label, tags: None };
        if let Some(desired) = tags {
            let current = l.require_record(ONE, &path, record).await?;
            let current = match &current.attrs {
                Attrs::Servers(a) => a.tags.iter().cloned().collect(),
                _ => BTreeSet::new(),
            };
            body.tags = Some(merged_tags(&desired, &current, &u.request.spec.owner_tag));
        }
        let mut latest = match l.relabel(UPDATE, &path, &body).await? {
            Some(answer) => Some(l.map_one(UPDATE, answer, record)?),
            None => None,
        };
        if let Some(plan) = plan {
            crate::adapter::wait_for(l, &Instances, u.id, BUSY_TIMEOUT).await?;
            // `allow_auto_disk_resize` defaults to true: the disk would grow with the plan, and a
            // later move to a smaller plan would then fail because the disk no longer fits. StackDock
            // resizes the plan only (docs/config.md says so); grow the disk by hand if wanted.
            let body = ResizeBody {
                allow_auto_disk_resize: false,
                plan: &plan,
            };
            l.post_action(RESIZE, &path, "resize", &body).await?;
            latest = None;
        }
        match latest {
            Some(r) => Ok(r),
            None => l.require_record(ONE, &path, record).await,
        }
    }

    fn kind(&self) -> Kind {
        Kind::Servers
    }

    /// `POST /linode/instances/{id}/boot`, `/shutdown` or `/reboot`; Linode then reports
    /// `booting`, `shutting_down` or `rebooting` until it is `running` or `offline`.
    async fn power(&self, l: &Linode, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        let (route, verb) = match action {
            PowerAction::On => (BOOT, "boot"),
            PowerAction::Off => (SHUTDOWN, "shutdown"),
            PowerAction::Reboot => (REBOOT, "reboot"),
        };
        let (_, path) = l.object_path(&COLLECTION, route, id)?;
        l.post_action(route, &path, verb, &PowerBody {}).await
    }

    fn readiness(&self, record: &Record) -> Readiness {
        Readiness::when(settled(&record.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linode::tests::{ctx, fixture_items};
    use crate::provider::assert_no_secret;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../../../fixtures/linode/instances.json");

    #[test]
    fn fixtures_map_to_records() {
        // (id, name, status, region, plan, ip, image, tags)
        let want = [
            (
                "52000001",
                "minecraft-old",
                "running",
                "us-east",
                "g6-standard-2",
                "192.0.2.41",
                "linode/debian11",
                vec!["games"],
            ),
            (
                "52000002",
                "vpn-gateway",
                "running",
                "eu-central",
                "g6-nanode-1",
                "192.0.2.42",
                "linode/ubuntu24.04",
                vec!["network", "owner:ops"],
            ),
            (
                "52000003",
                "build-cache",
                "stopped",
                "us-west",
                "g6-standard-1",
                "192.0.2.43",
                "linode/ubuntu22.04",
                vec![],
            ),
        ];
        let items = fixture_items(FIXTURE);
        assert_eq!(items.len(), want.len());
        for (raw, (id, name, st, region, plan, ip, image, tags)) in items.into_iter().zip(want) {
            let r = record(&ctx(), raw.clone()).expect("maps");
            assert_eq!(r.provider_resource_id, id);
            assert_eq!(r.name, name);
            assert_eq!(r.status, st);
            assert_eq!(r.region.as_deref(), Some(region));
            assert_eq!(r.org_id, "acme");
            assert_eq!(r.dock_id, "acme/linode-main");
            let Attrs::Servers(a) = &r.attrs else {
                panic!("server attrs")
            };
            assert_eq!(a.instance_type.as_deref(), Some(plan));
            assert_eq!(a.ip_address.as_deref(), Some(ip));
            assert_eq!(a.image.as_deref(), Some(image));
            assert_eq!(a.tags, tags.iter().map(|t| t.to_string()).collect());
            assert_eq!(r.full_api_data, raw, "nothing secret to remove");
            assert_eq!(r.content_hash, r.observed_hash());
            assert_eq!(r.field("plan"), Some(FieldValue::from(plan)));
            assert_eq!(r.field("image"), Some(FieldValue::from(image)));
        }
    }

    #[test]
    fn every_status_is_normalised() {
        let table = [
            (Some("running"), "running"),
            (Some("offline"), "stopped"),
            (Some("stopped"), "stopped"),
            (Some("billing_suspension"), "stopped"),
            (Some("booting"), "pending"),
            (Some("provisioning"), "pending"),
            (Some("rebooting"), "pending"),
            (Some("migrating"), "pending"),
            (Some("resizing"), "pending"),
            (Some("rebuilding"), "pending"),
            (Some("cloning"), "pending"),
            (Some("restoring"), "pending"),
            (Some("shutting_down"), "pending"),
            (Some("RUNNING"), "running"),
            (Some("deleting"), "pending"),
            (Some("busy"), "pending"),
            (Some("Something_New"), "unknown"),
            (Some(""), "unknown"),
            (None, "unknown"),
        ];
        for (raw, want) in table {
            assert_eq!(status(raw), want, "{raw:?}");
        }
        // Through the wire type: missing and null statuses are unknown.
        for raw in [json!({"id": 1}), json!({"id": 1, "status": null})] {
            assert_eq!(record(&ctx(), raw).expect("maps").status, "unknown");
        }
    }

    #[test]
    fn readiness_follows_the_status_table() {
        for (st, ready) in [
            ("running", true),
            ("stopped", true),
            ("pending", false),
            ("unknown", false),
            ("deleting", false),
        ] {
            assert_eq!(settled(st), ready, "{st}");
        }
    }

    #[test]
    fn public_address_is_the_first_routable_one() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let table = [
            (s(&["192.168.139.12", "203.0.113.77"]), Some("203.0.113.77")),
            (
                s(&["10.0.0.1", "172.16.4.4", "172.31.0.9", "45.79.1.2"]),
                Some("45.79.1.2"),
            ),
            (s(&["172.15.0.1"]), Some("172.15.0.1")),
            (s(&["172.32.0.1"]), Some("172.32.0.1")),
            (s(&["192.168.0.1"]), None),
            (s(&["not-an-ip", "2600::1"]), None),
            (s(&[]), None),
        ];
        for (ips, want) in table {
            assert_eq!(public_ipv4(&ips).as_deref(), want, "{ips:?}");
        }
    }

    #[test]
    fn tolerates_missing_null_and_empty_fields() {
        let r = record(
            &ctx(),
            json!({"id": 7, "label": "", "type": null, "image": "", "ipv4": null, "tags": null, "new_field": {"x": 1}}),
        )
        .expect("maps");
        assert_eq!(r.name, "7");
        assert_eq!(r.region, None);
        assert_eq!(r.attrs, Attrs::Servers(ServerAttrs::default()));
        assert!(record(&ctx(), json!({"label": "no-id"})).is_err());
        assert!(record(&ctx(), json!("not an object")).is_err());
    }

    #[test]
    fn secrets_are_removed_from_full_api_data() {
        let mut raw = fixture_items(FIXTURE).remove(0);
        raw["root_pass"] = json!("SANDBOX-SECRET-pw-1");
        raw["metadata"] = json!({"user_data": "I2Nsb3VkLWNvbmZpZw=="});
        raw["alerts"]["api_token"] = json!("SANDBOX-SECRET-tok");
        let r = record(&ctx(), raw).expect("maps");
        assert_no_secret(&r);
        let text = serde_json::to_string(&r).expect("serialises");
        assert!(!text.contains("I2Nsb3Vk"), "{text}");
        assert!(r.full_api_data.get("root_pass").is_none());
        assert_eq!(r.full_api_data.to_value()["metadata"], json!({}));
        assert_eq!(r.full_api_data.to_value()["label"], "minecraft-old");
    }

    #[test]
    fn tags_keep_ownership() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let owner = "stackdock-00112233aabbccdd";
        let table = [
            (
                set(&["web"]),
                set(&[]),
                vec!["stackdock-00112233aabbccdd", "web"],
            ),
            (
                set(&[]),
                set(&["old", "stackdock-ffffffffffffffff"]),
                vec!["stackdock-00112233aabbccdd", "stackdock-ffffffffffffffff"],
            ),
            (
                set(&["b", "a", "stackdock-1111111111111111"]),
                set(&["stackdock-00112233aabbccdd"]),
                vec!["a", "b", "stackdock-00112233aabbccdd"],
            ),
        ];
        for (desired, current, want) in table {
            assert_eq!(merged_tags(&desired, &current, owner), want);
        }
    }

    #[test]
    fn root_passwords_are_strong_and_fresh() {
        let a = root_password();
        let b = root_password();
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 36);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(a.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert!(a.is_ascii() && !a.contains(char::is_whitespace));
    }

    #[test]
    fn create_body_shape() {
        let body = CreateBody {
            label: "web-1",
            region: "us-east",
            plan: "g6-nanode-1",
            image: None,
            root_pass: None,
            stackscript_id: None,
            authorized_keys: Vec::new(),
            tags: vec!["stackdock-00112233aabbccdd".into()],
            metadata: None,
        };
        assert_eq!(
            serde_json::to_value(&body).expect("serialises"),
            json!({"label": "web-1", "region": "us-east", "type": "g6-nanode-1", "tags": ["stackdock-00112233aabbccdd"]})
        );
    }
}
