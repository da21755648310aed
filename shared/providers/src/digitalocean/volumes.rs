//! Volumes (`block_volumes`): wire types, mapping to the universal record, and list / get /
//! create (+ attach) / update (grow, attach, detach) / delete through `/volumes` and
//! `/volumes/{id}/actions` ([do-spec] volumes, [tf-do] volume/resource_volume.go).
//!
//! Volumes have no status and no rename at DigitalOcean; this file says so rather than guessing.
//! It decides nothing: what to change comes from the plan.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::record::Attrs;
use stackdock_core::{FieldValue, Kind, Record};

use super::DigitalOcean;
use super::client::{
    Collection, base_record, decode_wire, id_string, non_empty, null_default, region_slug, slug_of,
    value_id,
};
use crate::adapter::{Dock, KindAdapter, Readiness, Update};
use crate::error::gone_ok;
use crate::spec::{missing, not_in_place, required_str};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const LIST: &str = "/volumes";
const ONE: &str = "/volumes/{id}";
const COLLECTION: Collection = Collection {
    kind: Kind::BlockVolumes,
    list: LIST,
    one: ONE,
    list_key: "volumes",
    one_key: "volume",
    noun: "volume",
    item: volume_record,
    value: volume_record,
};

// ---------------------------------------------------------------------------------------------
// Wire types ([do-spec] volumes/models/volume_full.yml).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct VolumeWire {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "slug_of")]
    pub region: Option<String>,
    pub size_gigabytes: Option<i64>,
    #[serde(deserialize_with = "null_default")]
    pub droplet_ids: Vec<Value>,
    #[serde(deserialize_with = "null_default")]
    pub filesystem_type: String,
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

/// `POST /volumes` ([do-spec] volumes_create.yml, ext4/xfs schemas).
#[derive(Debug, Serialize)]
pub(super) struct CreateVolume<'a> {
    pub name: &'a str,
    pub size_gigabytes: i64,
    pub region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystem_type: Option<&'a str>,
    pub tags: Vec<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A volume object → the universal record. Volumes have no status field: `active`.
pub(super) fn volume_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: VolumeWire = decode_wire("a volume", &raw)?;
    if wire.id.is_empty() {
        return Err("a volume has no id".to_owned());
    }
    let mut record = base_record(ctx, Kind::BlockVolumes, &wire.id, &wire.name, raw);
    record.status = "active".into();
    record.region = wire.region.map(Into::into);
    if let Attrs::BlockVolumes(a) = &mut record.attrs {
        a.size_gb = wire.size_gigabytes;
        a.attached_to_instance = wire.droplet_ids.first().and_then(value_id);
        // The engine fills the label from the servers listing.
        a.attached_to_instance_label = None;
        a.filesystem_type = non_empty(&wire.filesystem_type);
    }
    Ok(record.with_hash())
}

/// The droplet ids a raw volume is attached to.
fn attached_ids(raw: &Value) -> Vec<String> {
    raw.get("droplet_ids")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(value_id).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Operations

/// `POST /volumes/{id}/actions` ([do-spec] volumeActions_post_byId; [godo]
/// `StorageActionsService`): attach, detach or grow, in the volume's region.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VolumeAction<'a> {
    Attach {
        droplet_id: u64,
        region: Option<&'a str>,
    },
    Detach {
        droplet_id: u64,
        region: Option<&'a str>,
    },
    Resize {
        size_gigabytes: i64,
        region: Option<&'a str>,
    },
}

impl DigitalOcean {
    fn droplet_number(&self, route: &str, id: &str) -> Result<u64, ProviderError> {
        id.parse::<u64>().map_err(|_| {
            self.err(
                ErrorClass::Invalid,
                route,
                format!(
                    "`{id}` is not a DigitalOcean droplet id, so the volume cannot attach to it"
                ),
            )
        })
    }

    /// Detaches the volume from every droplet but `target` and attaches it to `target` (if any
    /// and not attached yet), keeping `attached` current.
    async fn move_volume(
        &self,
        id: &str,
        region: &str,
        attached: &mut Vec<String>,
        target: Option<&str>,
    ) -> Result<(), ProviderError> {
        let route = "POST /volumes/{id}/actions";
        let target_number = match target {
            Some(t) => Some(self.droplet_number(route, t)?),
            None => None,
        };
        for current in attached.clone() {
            if Some(current.as_str()) == target {
                continue;
            }
            let droplet = self.droplet_number(route, &current)?;
            self.act(
                &COLLECTION,
                id,
                &VolumeAction::Detach {
                    droplet_id: droplet,
                    region: Some(region),
                },
                "detach",
            )
            .await?;
            attached.retain(|a| *a != current);
        }
        if let (Some(t), Some(number)) = (target, target_number)
            && !attached.iter().any(|a| a == t)
        {
            self.act(
                &COLLECTION,
                id,
                &VolumeAction::Attach {
                    droplet_id: number,
                    region: Some(region),
                },
                "attach",
            )
            .await?;
            attached.push(t.to_owned());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Block volumes are DigitalOcean volumes (`/volumes`): ready once they exist (a create returns them usable).
#[derive(Debug)]
pub(super) struct Volumes;

#[async_trait::async_trait]
impl KindAdapter<DigitalOcean> for Volumes {
    fn kind(&self) -> Kind {
        Kind::BlockVolumes
    }

    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    /// `POST /volumes` (sent once, with the ownership tag), then the attach action when the
    /// engine resolved `attach_to`.
    async fn create(
        &self,
        dock: &DigitalOcean,
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let route = "POST /volumes";
        let spec = request.spec;
        let ctx = &dock.account.ctx;
        let size = spec
            .fields
            .get("size_gb")
            .and_then(FieldValue::as_int)
            .ok_or_else(|| missing(ctx, route, Kind::BlockVolumes, spec, "size_gb"))?;
        let region = required_str(ctx, route, Kind::BlockVolumes, spec, "region")?;
        let droplet = match request.attach_to_id {
            Some(d) => Some(dock.droplet_number(route, d)?),
            None => None,
        };
        let body = CreateVolume {
            name: &spec.name,
            size_gigabytes: size,
            region,
            filesystem_type: spec
                .fields
                .get("filesystem_type")
                .and_then(FieldValue::as_str),
            tags: vec![spec.owner_tag.as_str()],
        };
        let created = dock.create_in(&COLLECTION, &body).await?;
        let Some(droplet) = droplet else {
            return Ok(created);
        };
        let id = created.provider_resource_id.clone();
        let attached = async {
            dock.act(
                &COLLECTION,
                &id,
                &VolumeAction::Attach {
                    droplet_id: droplet,
                    region: Some(region),
                },
                "attach",
            )
            .await?;
            dock.get_of(&COLLECTION, &id).await
        }
        .await;
        match attached {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(dock.err(
                ErrorClass::NotFound,
                "GET /volumes/{id}",
                format!("volume {id} disappeared right after it was created"),
            )),
            // The volume exists: a transient error sends the engine to find it by its ownership
            // tag and record it, and the next plan shows the missing attachment.
            Err(e) => Err(dock.err(
                ErrorClass::Transient,
                &e.route,
                format!(
                    "volume {id} was created but attaching it to droplet {droplet} failed ({}: {}); the next plan shows the attachment still to do",
                    e.class.as_str(),
                    e.message
                ),
            )),
        }
    }

    /// Grows, detaches and attaches (in the order given), waiting for each action.
    async fn update(&self, dock: &DigitalOcean, u: Update<'_>) -> Result<Record, ProviderError> {
        let id = u.id;
        let route = "POST /volumes/{id}/actions";
        // Refuse what cannot be done before doing any of it.
        for change in u.changes {
            match change.field.as_str() {
                "size_gb" | "attach_to" => {}
                "name" => {
                    return Err(dock.err(
                        ErrorClass::Invalid,
                        route,
                        "field `name`: DigitalOcean volumes cannot be renamed; create a new volume with the new name instead",
                    ));
                }
                _ => {
                    let ctx = &dock.account.ctx;
                    return Err(not_in_place(ctx, route, Kind::BlockVolumes, change));
                }
            }
        }
        let raw = dock.get_value(&COLLECTION, id).await?.ok_or_else(|| {
            dock.err(
                ErrorClass::NotFound,
                "GET /volumes/{id}",
                format!("volume {id} does not exist"),
            )
        })?;
        let region = raw.get("region").and_then(region_slug).ok_or_else(|| {
            dock.err(
                ErrorClass::Transient,
                "GET /volumes/{id}",
                format!("volume {id} has no region in the answer"),
            )
        })?;
        let mut attached = attached_ids(&raw);
        for change in u.changes {
            match change.field.as_str() {
                "size_gb" => {
                    let size = change
                        .after
                        .as_ref()
                        .and_then(FieldValue::as_int)
                        .ok_or_else(|| {
                            dock.err(
                                ErrorClass::Invalid,
                                route,
                                "field `size_gb`: no size to grow to",
                            )
                        })?;
                    dock.act(
                        &COLLECTION,
                        id,
                        &VolumeAction::Resize {
                            size_gigabytes: size,
                            region: Some(&region),
                        },
                        "resize",
                    )
                    .await?;
                }
                _ => {
                    dock.move_volume(id, &region, &mut attached, u.request.attach_to_id)
                        .await?;
                }
            }
        }
        dock.existing(&COLLECTION, id, "disappeared during the update")
            .await
    }

    /// Detaches the volume from its droplet first (DigitalOcean refuses to delete an attached
    /// volume, as [tf-do] does before destroy), then deletes it; gone already is success.
    async fn delete(&self, dock: &DigitalOcean, id: &str) -> Result<(), ProviderError> {
        let Some(raw) = dock.get_value(&COLLECTION, id).await? else {
            return Ok(());
        };
        let region = raw.get("region").and_then(region_slug);
        for droplet in attached_ids(&raw) {
            let number = dock.droplet_number("POST /volumes/{id}/actions", &droplet)?;
            dock.act(
                &COLLECTION,
                id,
                &VolumeAction::Detach {
                    droplet_id: number,
                    region: region.as_deref(),
                },
                "detach",
            )
            .await?;
        }
        gone_ok(
            dock.account
                .client
                .delete(ONE, &format!("/volumes/{id}"), &[])
                .await,
        )
    }

    fn readiness(&self, record: &Record) -> Readiness {
        let _ = record;
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digitalocean::tests::ctx;
    use crate::object::Probe;
    use crate::provider::assert_no_secret;
    use crate::provider::fixture_items;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../../../fixtures/digitalocean/volumes.json");

    fn fixture() -> Vec<Value> {
        fixture_items(FIXTURE, COLLECTION.list_key)
    }

    #[test]
    fn fixture_volumes_map_to_records() {
        let cases = [
            // (name, region, size, attached to, filesystem)
            ("grafana-data", "fra1", 20, Some("401000001"), Some("ext4")),
            ("scratch-vol", "nyc3", 100, None, Some("xfs")),
        ];
        let raw = fixture();
        assert_eq!(raw.len(), cases.len());
        for (v, (name, region, size, attached, fs)) in raw.iter().zip(cases) {
            let r = volume_record(&ctx(), v.clone()).expect("maps");
            assert_eq!(r.provider_resource_id, v["id"].as_str().expect("id"));
            assert_eq!(r.name, name);
            assert_eq!(r.status, "active");
            assert_eq!(r.region.as_deref(), Some(region));
            assert_eq!(r.field("size_gb"), Some(FieldValue::Int(size)));
            assert!(!r.content_hash.is_empty());
            let Attrs::BlockVolumes(a) = &r.attrs else {
                panic!("volume attrs")
            };
            assert_eq!(a.attached_to_instance.as_deref(), attached);
            assert_eq!(a.attached_to_instance_label, None);
            assert_eq!(a.filesystem_type.as_deref(), fs);
            assert_eq!(a.block_type, None);
        }
    }

    #[test]
    fn status_is_always_active_and_fields_are_lenient() {
        let r = volume_record(
            &ctx(),
            json!({"id": "b1a2", "name": null, "droplet_ids": null, "size_gigabytes": null,
                    "filesystem_type": "", "tags": null, "region": "nyc3"}),
        )
        .expect("maps");
        assert_eq!(r.status, "active");
        assert_eq!(r.region.as_deref(), Some("nyc3"));
        let Attrs::BlockVolumes(a) = &r.attrs else {
            panic!("volume attrs")
        };
        assert_eq!(
            (
                a.size_gb,
                a.attached_to_instance.clone(),
                a.filesystem_type.clone()
            ),
            (None, None, None)
        );
        assert!(volume_record(&ctx(), json!({"name": "x"})).is_err());
    }

    #[test]
    fn secrets_are_removed_from_full_api_data() {
        for mut raw in fixture() {
            raw["password"] = json!("SANDBOX-SECRET-1");
            raw["user_data"] = json!("SANDBOX-SECRET-2");
            raw["description"] = json!("postgres://admin:SANDBOX-SECRET-3@db.example.com:5432/x");
            let r = volume_record(&ctx(), raw.clone()).expect("maps");
            assert_no_secret(&r);
            assert_eq!(r.full_api_data.to_value()["name"], raw["name"]);
        }
    }

    #[test]
    fn tags_and_attachments_from_raw() {
        let raw = json!({"tags": ["a", "stackdock-1"], "droplet_ids": [5, 6]});
        assert!(Probe::of(&raw).has_tag("stackdock-1"));
        assert!(!Probe::of(&raw).has_tag("stackdock-2"));
        assert!(!Probe::of(&json!({})).has_tag("a"));
        assert_eq!(attached_ids(&raw), vec!["5".to_owned(), "6".to_owned()]);
        assert!(attached_ids(&json!({"droplet_ids": null})).is_empty());
    }
}
