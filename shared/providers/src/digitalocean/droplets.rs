//! Droplets (`servers`): wire types, mapping to the universal record, and list / get / create /
//! update (rename, resize, retag) / delete through `/droplets`, `/droplets/{id}/actions` and the
//! tags API ([do-spec] droplets, [tf-do] resource_droplet.go).
//!
//! It decides nothing: what to change comes from the plan. It never logs user data or a body.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{Attrs, is_owner_tag};
use stackdock_core::{FieldValue, Kind, Record};

use super::DigitalOcean;
use super::client::{
    Collection, base_record, decode_wire, id_string, non_empty, null_default, slug_of, value_id,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::http::{Item, ListOptions};
use crate::object::Probe;
use crate::spec::{not_in_place, required_str, spec_str};
use crate::{DockContext, Listed, PowerAction, ProviderError, Request};

const LIST: &str = "/droplets";
const ONE: &str = "/droplets/{id}";
const COLLECTION: Collection = Collection {
    kind: Kind::Servers,
    list: LIST,
    one: ONE,
    list_key: "droplets",
    one_key: "droplet",
    noun: "droplet",
    item: droplet_record,
    value: droplet_record,
};

// ---------------------------------------------------------------------------------------------
// Wire types ([do-spec] droplets/models/droplet.yml): every field optional, `null` and `""`
// tolerated; the whole object is kept as JSON for `fullApiData`.

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DropletWire {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub status: String,
    #[serde(deserialize_with = "null_default")]
    pub size_slug: String,
    #[serde(deserialize_with = "slug_of")]
    pub region: Option<String>,
    pub image: Option<ImageWire>,
    pub networks: Option<NetworksWire>,
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ImageWire {
    pub id: Value,
    pub slug: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NetworksWire {
    #[serde(deserialize_with = "null_default")]
    pub v4: Vec<NetworkWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NetworkWire {
    #[serde(deserialize_with = "null_default")]
    pub ip_address: String,
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub kind: String,
}

/// `image` in a create: a slug, or an image id when the file gives digits only ([do-spec]
/// droplet_create.yml: "slug string or int id").
#[derive(Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub(super) enum ImageRef<'a> {
    Id(u64),
    Slug(&'a str),
}

impl<'a> ImageRef<'a> {
    pub(super) fn parse(image: &'a str) -> ImageRef<'a> {
        match image.parse::<u64>() {
            Ok(id) if image.chars().all(|c| c.is_ascii_digit()) => ImageRef::Id(id),
            _ => ImageRef::Slug(image),
        }
    }
}

/// `POST /droplets` ([do-spec] droplet_single_create.yml).
#[derive(Debug, Serialize)]
pub(super) struct CreateDroplet<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    pub size: &'a str,
    pub image: ImageRef<'a>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_keys: Vec<SshKey>,
    /// Plain text cloud-init; a secret: never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// DigitalOcean droplet status → the universal server status ([do-spec] droplet.yml enum:
/// `new`, `active`, `off`, `archive`). A value outside the enum is `unknown`, never guessed (the
/// raw value stays in `fullApiData`).
pub(super) fn server_status(status: &str) -> String {
    match status {
        "" => "unknown".to_owned(),
        "new" => "pending".to_owned(),
        "active" => "running".to_owned(),
        "off" | "archive" => "stopped".to_owned(),
        _ => "unknown".to_owned(),
    }
}

/// The image as the file writes it: the slug, or the id for images without one (snapshots,
/// custom images).
fn image_of(image: Option<&ImageWire>) -> Option<String> {
    let image = image?;
    image
        .slug
        .as_deref()
        .and_then(non_empty)
        .or_else(|| value_id(&image.id))
}

/// The first public IPv4 address.
fn public_ipv4(networks: Option<&NetworksWire>) -> Option<String> {
    networks?
        .v4
        .iter()
        .find(|n| n.kind == "public")
        .and_then(|n| non_empty(&n.ip_address))
}

/// A droplet object → the universal record (`fullApiData` redacted).
pub(super) fn droplet_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: DropletWire = decode_wire("a droplet", &raw)?;
    if wire.id.is_empty() {
        return Err("a droplet has no id".to_owned());
    }
    let mut record = base_record(ctx, Kind::Servers, &wire.id, &wire.name, raw);
    record.status = server_status(&wire.status).into();
    record.region = wire.region.map(Into::into);
    if let Attrs::Servers(a) = &mut record.attrs {
        a.instance_type = non_empty(&wire.size_slug);
        a.ip_address = public_ipv4(wire.networks.as_ref());
        a.image = image_of(wire.image.as_ref());
        a.tags = wire
            .tags
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
    }
    Ok(record.with_hash())
}

/// Tags a create sends: the user's tags plus the ownership tag.
pub(super) fn create_tags(fields: Option<&FieldValue>, owner_tag: &str) -> Vec<String> {
    let mut tags: BTreeSet<String> = fields
        .and_then(FieldValue::as_set)
        .map(|s| s.iter().filter(|t| !is_owner_tag(t)).cloned().collect())
        .unwrap_or_default();
    tags.insert(owner_tag.to_owned());
    tags.into_iter().collect()
}

/// An SSH key as DigitalOcean's droplet create takes it: an integer id, or a fingerprint string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(super) enum SshKey {
    Id(u64),
    Fingerprint(String),
}

/// SSH keys as DigitalOcean takes them: an all-digit key is an id, anything else a fingerprint.
pub(super) fn ssh_keys(field: Option<&FieldValue>) -> Vec<SshKey> {
    let keys = match field {
        Some(FieldValue::Set(s)) => s.iter().cloned().collect(),
        Some(FieldValue::Str(s)) => vec![s.to_string()],
        _ => Vec::new(),
    };
    keys.into_iter()
        .map(|k| match k.parse::<u64>() {
            Ok(id) if k.chars().all(|c| c.is_ascii_digit()) => SshKey::Id(id),
            _ => SshKey::Fingerprint(k.to_string()),
        })
        .collect()
}

/// Which user tags to add and remove to reach `desired` from `current` (ownership tags are
/// never removed and never counted as user tags). DigitalOcean tag names are case-insensitive (a
/// tag keeps the capitalisation it was first created with), so `prod` wanted and `PROD` present is
/// no change: removing `PROD` would remove the tag the user asked for.
pub(super) fn tag_diff(
    current: &BTreeSet<String>,
    desired: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let has = |set: &BTreeSet<String>, tag: &str| set.iter().any(|t| t.eq_ignore_ascii_case(tag));
    let add = desired
        .iter()
        .filter(|t| !is_owner_tag(t) && !has(current, t))
        .cloned()
        .collect();
    let remove = current
        .iter()
        .filter(|t| !is_owner_tag(t) && !has(desired, t))
        .cloned()
        .collect();
    (add, remove)
}

// ---------------------------------------------------------------------------------------------
// Operations

/// `POST /droplets/{id}/actions` ([do-spec] dropletActions_post; [godo]
/// `DropletActionsService`).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DropletAction<'a> {
    Rename {
        name: &'a str,
    },
    PowerOff,
    PowerOn,
    Reboot,
    /// CPU and RAM only (`disk: false`): a disk resize cannot be undone.
    Resize {
        size: &'a str,
        disk: bool,
    },
}

impl DigitalOcean {
    /// [tf-do] resourceDigitalOceanDropletUpdate: power off (DigitalOcean refuses to resize a
    /// running droplet), resize (CPU and RAM only: a disk resize cannot be undone), power on.
    /// The droplet is powered on even if it was off before: the engine waits for `running` after
    /// every update.
    async fn resize_droplet(&self, id: &str, size: &str) -> Result<(), ProviderError> {
        let current = self.existing(&COLLECTION, id, "does not exist").await?;
        if current.status != "stopped" {
            self.act(&COLLECTION, id, &DropletAction::PowerOff, "power off")
                .await?;
        }
        self.act(
            &COLLECTION,
            id,
            &DropletAction::Resize { size, disk: false },
            "resize",
        )
        .await?;
        self.act(&COLLECTION, id, &DropletAction::PowerOn, "power on")
            .await
    }

    /// Brings the droplet's user tags to `desired` through the tags API, keeping (and restoring)
    /// the ownership tag.
    async fn retag_droplet(
        &self,
        id: &str,
        desired: &BTreeSet<String>,
        owner_tag: &str,
    ) -> Result<(), ProviderError> {
        let current = self.existing(&COLLECTION, id, "does not exist").await?;
        let current_tags = match &current.attrs {
            Attrs::Servers(a) => a.tags.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        let (mut add, remove) = tag_diff(&current_tags, desired);
        if !owner_tag.is_empty() && !current_tags.contains(owner_tag) {
            add.push(owner_tag.to_owned());
        }
        for tag in &add {
            self.tag_resource(tag, id, "droplet").await?;
        }
        for tag in &remove {
            self.untag_resource(tag, id, "droplet").await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Servers are droplets (`/droplets`).
#[derive(Debug)]
pub(super) struct Droplets;

#[async_trait::async_trait]
impl KindAdapter<DigitalOcean> for Droplets {
    fn kind(&self) -> Kind {
        Kind::Servers
    }

    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    /// Both listings (the default one omits GPU droplets, [do-spec] droplets_list.yml), each
    /// mapped page by page, merged by id in listing order; either failing fails the whole.
    async fn list(&self, dock: &DigitalOcean) -> Result<Vec<Record>, ProviderError> {
        let route = "GET /droplets";
        let map = |item| dock.item_record(&COLLECTION, route, item);
        let (all, gpus) = (ListOptions::new(), ListOptions::new().query("type", "gpus"));
        let (plain, gpu) = futures::try_join!(
            dock.account
                .client
                .list_mapped(LIST, "droplets", &all, &map),
            dock.account
                .client
                .list_mapped(LIST, "droplets", &gpus, &map),
        )?;
        let mut seen = HashSet::with_capacity(plain.len() + gpu.len());
        Ok(plain
            .into_iter()
            .chain(gpu)
            .filter(|r| seen.insert(r.provider_resource_id.clone()))
            .collect())
    }

    /// Droplets carrying the ownership tag: the server-side `tag_name` filter for regular
    /// droplets, and the GPU listing filtered here (`tag_name` cannot be combined with `type`).
    async fn find_owned(
        &self,
        dock: &DigitalOcean,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let tag = dock.owner_tag(Kind::Servers, spec)?;
        let tagged = ListOptions::new().query("tag_name", tag);
        let gpus = ListOptions::new().query("type", "gpus");
        let (plain, gpu) = futures::try_join!(
            dock.account.client.list_values(LIST, "droplets", &tagged),
            dock.account.client.list_values(LIST, "droplets", &gpus),
        )?;
        let mut seen = HashSet::new();
        let raw: Vec<Item> = plain
            .into_iter()
            .chain(gpu)
            .filter(|v| {
                let probe = Probe::of(v);
                probe.has_tag(tag) && value_id(&probe.id).is_none_or(|id| seen.insert(id))
            })
            .collect();
        raw.into_iter()
            .map(|item| dock.item_record(&COLLECTION, "GET /droplets", item))
            .collect()
    }

    /// `POST /droplets`, sent once; the record is the droplet as answered (usually `new`).
    async fn create(
        &self,
        dock: &DigitalOcean,
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let route = "POST /droplets";
        let spec = request.spec;
        let need = |key| required_str(&dock.account.ctx, route, Kind::Servers, spec, key);
        let size = need("plan")?;
        let image = need("image")?;
        let body = CreateDroplet {
            name: &spec.name,
            region: spec_str(spec, "region").filter(|s| !s.is_empty()),
            size,
            image: ImageRef::parse(image),
            tags: create_tags(spec.fields.get("tags"), &spec.owner_tag),
            ssh_keys: ssh_keys(spec.fields.get("ssh_keys")),
            user_data: request.user_data,
        };
        dock.create_in(&COLLECTION, &body).await
    }

    /// `POST /droplets/{id}/actions` with `power_on`, `power_off` or `reboot` ([do-spec]
    /// dropletActions_post), then the action polled until `completed`.
    async fn power(
        &self,
        dock: &DigitalOcean,
        id: &str,
        action: PowerAction,
    ) -> Result<(), ProviderError> {
        dock.check_id(Kind::Servers, "POST /droplets/{id}/actions", id)?;
        let (body, what) = match action {
            PowerAction::On => (DropletAction::PowerOn, "power on"),
            PowerAction::Off => (DropletAction::PowerOff, "power off"),
            PowerAction::Reboot => (DropletAction::Reboot, "reboot"),
        };
        dock.act(&COLLECTION, id, &body, what).await
    }

    /// Applies each change in order, waiting for every action, and returns the droplet after.
    async fn update(&self, dock: &DigitalOcean, u: Update<'_>) -> Result<Record, ProviderError> {
        let id = u.id;
        let route = "POST /droplets/{id}/actions";
        dock.check_id(Kind::Servers, route, id)?;
        for change in u.changes {
            match (change.field.as_str(), change.after.as_ref()) {
                ("name", Some(FieldValue::Str(name))) => {
                    dock.act(&COLLECTION, id, &DropletAction::Rename { name }, "rename")
                        .await?;
                }
                ("plan", Some(FieldValue::Str(size))) => dock.resize_droplet(id, size).await?,
                ("tags", after) => {
                    let desired: BTreeSet<String> = after
                        .and_then(FieldValue::as_set)
                        .map(|s| s.iter().cloned().collect())
                        .unwrap_or_default();
                    dock.retag_droplet(id, &desired, &u.request.spec.owner_tag)
                        .await?;
                }
                _ => {
                    let ctx = &dock.account.ctx;
                    return Err(not_in_place(ctx, route, Kind::Servers, change));
                }
            }
        }
        dock.existing(&COLLECTION, id, "disappeared during the update")
            .await
    }

    fn readiness(&self, record: &Record) -> Readiness {
        Readiness::when(record.status == "running")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digitalocean::tests::ctx;
    use crate::provider::assert_no_secret;
    use crate::provider::fixture_items;
    use serde_json::json;
    use stackdock_core::ProviderKind;

    const FIXTURE: &str = include_str!("../../../../fixtures/digitalocean/droplets.json");

    fn fixture() -> Vec<Value> {
        fixture_items(FIXTURE, COLLECTION.list_key)
    }

    #[test]
    fn fixture_droplets_map_to_records() {
        let records: Vec<Record> = fixture()
            .iter()
            .map(|v| droplet_record(&ctx(), v.clone()).expect("maps"))
            .collect();
        let cases = [
            // (id, name, status, region, size, image, tags)
            (
                "401000001",
                "grafana-legacy",
                "running",
                "fra1",
                "s-1vcpu-2gb",
                "ubuntu-22-04-x64",
                vec!["monitoring", "owner:ops"],
            ),
            (
                "401000002",
                "staging-scratch",
                "stopped",
                "nyc3",
                "s-2vcpu-4gb",
                "debian-12-x64",
                vec!["scratch"],
            ),
            (
                "401000003",
                "ml-trainer",
                "running",
                "tor1",
                "gpu-h100x1-80gb",
                "gpu-h100x1-base",
                vec!["gpu", "ml"],
            ),
        ];
        assert_eq!(records.len(), cases.len());
        for (r, (id, name, status, region, size, image, tags)) in records.iter().zip(cases) {
            assert_eq!(r.provider_resource_id, id);
            assert_eq!(r.name, name);
            assert_eq!(r.status, status, "{name}");
            assert_eq!(r.region.as_deref(), Some(region));
            assert_eq!(
                (r.org_id.as_str(), r.dock_id.as_str()),
                ("acme", "acme/do-main")
            );
            assert_eq!(r.provider, ProviderKind::DigitalOcean);
            assert!(!r.content_hash.is_empty());
            assert_eq!(r.managed_by, None);
            let Attrs::Servers(a) = &r.attrs else {
                panic!("server attrs")
            };
            assert_eq!(a.instance_type.as_deref(), Some(size));
            assert_eq!(a.image.as_deref(), Some(image));
            assert!(
                a.ip_address
                    .as_deref()
                    .is_some_and(|ip| !ip.starts_with("10."))
            );
            assert_eq!(a.tags, tags.into_iter().map(str::to_owned).collect());
            assert_eq!(r.field("plan"), Some(FieldValue::Str(size.into())));
        }
        // The public address, not the private one that comes first.
        let first = &fixture()[0];
        let public = first["networks"]["v4"]
            .as_array()
            .expect("v4")
            .iter()
            .find(|n| n["type"] == "public")
            .expect("a public network")["ip_address"]
            .clone();
        let Attrs::Servers(a) = &records[0].attrs else {
            panic!("server attrs")
        };
        assert_eq!(a.ip_address.as_deref(), public.as_str());
    }

    #[test]
    fn every_status_value() {
        let cases = [
            ("new", "pending"),
            ("active", "running"),
            ("off", "stopped"),
            ("archive", "stopped"),
            ("Migrating", "unknown"),
            ("", "unknown"),
        ];
        for (wire, status) in cases {
            assert_eq!(server_status(wire), status, "{wire}");
            let raw = json!({"id": 1, "name": "x", "status": wire});
            assert_eq!(
                droplet_record(&ctx(), raw.clone()).expect("maps").status,
                status
            );
        }
        let missing = droplet_record(&ctx(), json!({"id": 1, "name": "x"})).expect("maps");
        assert_eq!(missing.status, "unknown");
        let null = droplet_record(&ctx(), json!({"id": 1, "status": null})).expect("maps");
        assert_eq!(null.status, "unknown");
    }

    #[test]
    fn tolerant_of_missing_null_and_empty_fields() {
        let raw = json!({
            "id": "7", "name": null, "size_slug": "", "region": null, "image": null,
            "networks": {"v4": null}, "tags": null, "extra": {"anything": 1}
        });
        let r = droplet_record(&ctx(), raw.clone()).expect("maps");
        assert_eq!(r.provider_resource_id, "7");
        assert_eq!(r.region, None);
        let Attrs::Servers(a) = &r.attrs else {
            panic!("server attrs")
        };
        assert_eq!(
            (
                a.instance_type.clone(),
                a.image.clone(),
                a.ip_address.clone()
            ),
            (None, None, None)
        );
        assert!(a.tags.is_empty());
        assert!(droplet_record(&ctx(), json!({"name": "no-id"})).is_err());
        assert!(droplet_record(&ctx(), json!({"id": 1, "tags": "not-a-list"})).is_err());
    }

    #[test]
    fn image_slug_or_id() {
        let raw = json!({"id": 1, "image": {"id": 160000009, "slug": null}});
        let r = droplet_record(&ctx(), raw.clone()).expect("maps");
        assert_eq!(r.field("image"), Some(FieldValue::Str("160000009".into())));
        assert_eq!(ImageRef::parse("160000009"), ImageRef::Id(160_000_009));
        assert_eq!(
            ImageRef::parse("ubuntu-24-04-x64"),
            ImageRef::Slug("ubuntu-24-04-x64")
        );
        assert_eq!(
            serde_json::to_value(ImageRef::parse("12")).expect("json"),
            json!(12)
        );
    }

    #[test]
    fn secrets_are_removed_from_full_api_data() {
        for mut raw in fixture() {
            raw["user_data"] = json!("#cloud-config\npassword: SANDBOX-SECRET-1");
            raw["password"] = json!("SANDBOX-SECRET-2");
            raw["root_password"] = json!("SANDBOX-SECRET-3");
            let r = droplet_record(&ctx(), raw.clone()).expect("maps");
            assert_no_secret(&r);
            assert!(r.full_api_data.get("networks").is_some());
            assert_eq!(r.full_api_data.to_value()["name"], raw["name"]);
        }
    }

    #[test]
    fn create_tags_and_keys() {
        let user = FieldValue::set(["web", "stackdock-0000000000000000"]);
        assert_eq!(
            create_tags(Some(&user), "stackdock-abcdef0123456789"),
            vec!["stackdock-abcdef0123456789".to_owned(), "web".to_owned()]
        );
        assert_eq!(
            create_tags(None, "stackdock-x"),
            vec!["stackdock-x".to_owned()]
        );
        let keys = FieldValue::set(["12345", "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"]);
        let typed = ssh_keys(Some(&keys));
        assert_eq!(
            typed,
            vec![
                SshKey::Id(12345),
                SshKey::Fingerprint("3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa".to_owned())
            ]
        );
        // On the wire: a number and a string, as DigitalOcean's spec takes them.
        assert_eq!(
            serde_json::to_value(&typed).expect("serializes"),
            json!([12345, "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"])
        );
        assert!(ssh_keys(None).is_empty());
    }

    #[test]
    fn tag_diffs_keep_the_owner_tag() {
        let set = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let cases = [
            (
                set(&["a", "b", "stackdock-1"]),
                set(&["b", "c"]),
                (vec!["c"], vec!["a"]),
            ),
            (set(&["stackdock-1"]), set(&[]), (vec![], vec![])),
            (set(&["a"]), set(&["a"]), (vec![], vec![])),
            (set(&[]), set(&["stackdock-2", "x"]), (vec!["x"], vec![])),
            // DigitalOcean keeps a tag's first capitalisation: no change either way.
            (
                set(&["PROD", "web"]),
                set(&["prod", "web"]),
                (vec![], vec![]),
            ),
            (set(&["prod"]), set(&["Prod", "db"]), (vec!["db"], vec![])),
        ];
        for (current, desired, (add, remove)) in cases {
            let (a, r) = tag_diff(&current, &desired);
            assert_eq!(a, add, "{current:?} → {desired:?}");
            assert_eq!(r, remove, "{current:?} → {desired:?}");
        }
    }
}
