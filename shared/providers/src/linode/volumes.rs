//! Linode Block Storage volumes (`/volumes`) as `blockVolumes` records: the wire type, the mapping,
//! and create (attached at creation when asked) / update (rename, grow, detach and attach) /
//! delete / readiness.
//!
//! It never shrinks a volume (Linode refuses, and the plan reports it as an error first) and
//! detaches a volume only for an `attach_to` change or right before deleting it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::record::{Attrs, VolumeAttrs};
use stackdock_core::{FieldValue, Kind, Record};

use super::Linode;
use super::client::{Collection, Relabel, de, not_in_place, required_str, seal, skeleton, to_i64};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::wait::{Poll, poll_until};
use crate::{DockContext, Listed, ProviderError, Request};

const LIST: &str = "/volumes";
const ONE: &str = "/volumes/{id}";
const CREATE: &str = "POST /volumes";
const UPDATE: &str = "PUT /volumes/{id}";
const RESIZE: &str = "POST /volumes/{id}/resize";
const ATTACH: &str = "POST /volumes/{id}/attach";
const DETACH: &str = "POST /volumes/{id}/detach";
const COLLECTION: Collection = Collection {
    list: LIST,
    one: ONE,
    map: record,
};

/// How long a re-attach waits for a detach to finish (Linode detaches asynchronously).
const DETACH_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// Wire types ([linodego] volumes.go `Volume`; provider-apis.md §3.6)

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
    #[serde(deserialize_with = "de::opt_string")]
    region: Option<String>,
    #[serde(deserialize_with = "de::opt_u64")]
    size: Option<u64>,
    /// `null` when detached.
    #[serde(deserialize_with = "de::opt_string")]
    linode_id: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    linode_label: Option<String>,
    #[serde(deserialize_with = "de::opt_string")]
    hardware_type: Option<String>,
}

/// `POST /volumes` ([linodego] `VolumeCreateOptions`).
#[derive(Debug, Serialize)]
struct CreateBody<'a> {
    label: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Attach at creation ([linode-docs]: the volume is created in the Linode's region).
    #[serde(skip_serializing_if = "Option::is_none")]
    linode_id: Option<u64>,
    tags: Vec<&'a str>,
}

/// `POST /volumes/{id}/resize` ([linodego] `ResizeVolume`): the new size in GB.
#[derive(Debug, Serialize)]
struct ResizeBody {
    size: u64,
}

/// `POST /volumes/{id}/attach` ([linodego] `VolumeAttachOptions`).
#[derive(Debug, Serialize)]
struct AttachBody {
    linode_id: u64,
}

/// `POST /volumes/{id}/detach` takes an empty object.
#[derive(Debug, Serialize)]
struct DetachBody {}

// ---------------------------------------------------------------------------------------------
// Mapping

/// Volume status, lower-cased (`creating`, `active`, `resizing`, `contact_support`); `unknown`
/// when the provider gave none.
pub(super) fn status(raw: Option<&str>) -> String {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| "unknown".to_owned(), str::to_ascii_lowercase)
}

/// One volume object → a `blockVolumes` record.
pub(super) fn record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let w: Wire = raw.decode().map_err(|e| format!("a volume: {e}"))?;
    let id = w.id.ok_or("a volume without an `id`")?;
    let name = w.label.clone().unwrap_or_else(|| id.clone());
    let mut r = skeleton(ctx, Kind::BlockVolumes, &id, &name);
    r.status = status(w.status.as_deref()).into();
    r.region = w.region.map(Into::into);
    // The label is only meaningful while attached (Linode may keep a stale one otherwise).
    let label = w.linode_id.as_ref().and(w.linode_label);
    r.attrs = Attrs::BlockVolumes(VolumeAttrs {
        size_gb: to_i64(w.size),
        attached_to_instance: w.linode_id,
        attached_to_instance_label: label,
        mount_id: None,
        // The storage class (`nvme`, `hdd`): Linode's counterpart of Vultr's block type.
        block_type: w.hardware_type,
        // `filesystem_path` is a device path, not a filesystem type: Linode does not report one.
        filesystem_type: None,
    });
    Ok(seal(r, raw))
}

fn attached_to(r: &Record) -> Option<&str> {
    match &r.attrs {
        Attrs::BlockVolumes(a) => a.attached_to_instance.as_deref(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

/// Asks Linode to detach the volume at `path` (it detaches asynchronously).
async fn detach(l: &Linode, path: &str) -> Result<(), ProviderError> {
    l.post_action(DETACH, path, "detach", &DetachBody {}).await
}

/// Waits until a detach has taken effect, so the following attach is not refused.
async fn wait_detached(l: &Linode, n: u64, path: &str) -> Result<Record, ProviderError> {
    let what = format!("volume {n} to detach");
    poll_until(
        l.account.tuning.poll,
        DETACH_TIMEOUT,
        &l.account.ctx.dock,
        &what,
        || async {
            let r = l.require_record(ONE, path, record).await?;
            Ok(match attached_to(&r) {
                None => Poll::Ready(r),
                Some(_) => Poll::Pending("attached".to_owned()),
            })
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Block volumes are Linode Block Storage volumes (`/volumes`): ready when `active`; `contact_support` needs a person.
#[derive(Debug)]
pub(super) struct Volumes;

#[async_trait::async_trait]
impl KindAdapter<Linode> for Volumes {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    async fn create(&self, l: &Linode, request: Request<'_>) -> Result<Record, ProviderError> {
        let spec = request.spec;
        let region = required_str(&l.account.ctx, CREATE, Kind::BlockVolumes, spec, "region")?;
        let size = match spec.fields.get("size_gb") {
            None => None,
            Some(FieldValue::Int(n)) if *n > 0 => Some(n.unsigned_abs()),
            Some(other) => {
                return Err(l.invalid(
                    CREATE,
                    format!(
                        "block_volumes.{}: size_gb must be a positive number of GB, not {other}",
                        spec.name
                    ),
                ));
            }
        };
        let linode_id = request
            .attach_to_id
            .map(|id| l.numeric_id(CREATE, id))
            .transpose()?;
        let body = CreateBody {
            label: &spec.name,
            region,
            size,
            linode_id,
            tags: vec![spec.owner_tag.as_str()],
        };
        let answer: Value = l.account.client.post_json(CREATE, LIST, &body, &[]).await?;
        l.map_one(CREATE, answer, record)
    }

    /// Rename, grow, then detach / attach; returns the volume as it is after the changes.
    async fn update(&self, l: &Linode, u: Update<'_>) -> Result<Record, ProviderError> {
        let (n, path) = l.object_path(&COLLECTION, UPDATE, u.id)?;
        let mut label = None;
        let mut size = None;
        let mut attach = false;
        // Every change is checked before anything is sent, so a refused change applies nothing.
        for c in u.changes {
            match (c.field.as_str(), &c.after) {
                ("name", Some(FieldValue::Str(s))) => label = Some(s.to_string()),
                ("size_gb", Some(FieldValue::Int(gb))) if *gb > 0 => size = Some(gb.unsigned_abs()),
                ("attach_to", _) => attach = true,
                _ => return Err(not_in_place(&l.account.ctx, UPDATE, Kind::BlockVolumes, c)),
            }
        }
        let target = if attach {
            u.request
                .attach_to_id
                .map(|id| l.numeric_id(ATTACH, id))
                .transpose()?
        } else {
            None
        };
        let body = Relabel { label, tags: None };
        l.relabel(UPDATE, &path, &body).await?;
        if let Some(size) = size {
            l.post_action(RESIZE, &path, "resize", &ResizeBody { size })
                .await?;
        }
        if attach {
            let current = l.require_record(ONE, &path, record).await?;
            let now = attached_to(&current).map(str::to_owned);
            let wanted = target.map(|t| t.to_string());
            if now != wanted {
                if now.is_some() {
                    detach(l, &path).await?;
                }
                if let Some(linode_id) = target {
                    if now.is_some() {
                        wait_detached(l, n, &path).await?;
                    }
                    let body = AttachBody { linode_id };
                    l.post_action(ATTACH, &path, "attach", &body).await?;
                }
            }
        }
        l.require_record(ONE, &path, record).await
    }

    /// Deletes the volume, detaching it first: Linode refuses to delete an attached volume, and the
    /// plan deleting it already means it is not wanted on its server.
    async fn delete(&self, l: &Linode, id: &str) -> Result<(), ProviderError> {
        let (n, path) = l.object_path(&COLLECTION, &format!("DELETE {ONE}"), id)?;
        let Some(current) = l.get_record(ONE, &path, record).await? else {
            return Ok(());
        };
        if attached_to(&current).is_some() {
            detach(l, &path).await?;
            wait_detached(l, n, &path).await?;
        }
        l.delete_path(ONE, &path).await
    }

    fn kind(&self) -> Kind {
        Kind::BlockVolumes
    }

    fn readiness(&self, record: &Record) -> Readiness {
        match record.status.as_str() {
            "active" => Readiness::Ready,
            "contact_support" => Readiness::Failed(format!(
                "volume {} is in status `contact_support`: open a Linode support ticket",
                record.provider_resource_id
            )),
            _ => Readiness::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linode::tests::{ctx, fixture_items};
    use crate::provider::assert_no_secret;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../../../fixtures/linode/volumes.json");

    #[test]
    fn fixtures_map_to_records() {
        // (id, name, status, region, size, attached id, attached label, hardware)
        let want = [
            (
                "930001",
                "vpn-logs",
                "active",
                "eu-central",
                20,
                Some("52000002"),
                Some("vpn-gateway"),
                "nvme",
            ),
            (
                "930002",
                "orphan-vol",
                "active",
                "us-east",
                50,
                None,
                None,
                "hdd",
            ),
        ];
        let items = fixture_items(FIXTURE);
        assert_eq!(items.len(), want.len());
        for (raw, (id, name, st, region, size, on, on_label, hw)) in items.into_iter().zip(want) {
            let r = record(&ctx(), raw.clone()).expect("maps");
            assert_eq!(r.provider_resource_id, id);
            assert_eq!(r.name, name);
            assert_eq!(r.status, st);
            assert_eq!(r.region.as_deref(), Some(region));
            assert_eq!(
                r.attrs,
                Attrs::BlockVolumes(VolumeAttrs {
                    size_gb: Some(size),
                    attached_to_instance: on.map(str::to_owned),
                    attached_to_instance_label: on_label.map(str::to_owned),
                    mount_id: None,
                    block_type: Some(hw.to_owned()),
                    filesystem_type: None,
                })
            );
            assert_eq!(r.field("size_gb"), Some(FieldValue::Int(size)));
            assert_eq!(r.field("attach_to"), on_label.map(FieldValue::from));
            assert_eq!(r.full_api_data, raw);
            assert_eq!(r.content_hash, r.observed_hash());
        }
    }

    #[test]
    fn every_status_is_lower_cased() {
        let table = [
            (Some("active"), "active"),
            (Some("creating"), "creating"),
            (Some("resizing"), "resizing"),
            (Some("contact_support"), "contact_support"),
            (Some("Active"), "active"),
            (Some(" "), "unknown"),
            (None, "unknown"),
        ];
        for (raw, want) in table {
            assert_eq!(status(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn tolerates_missing_null_and_empty_fields() {
        let r = record(
            &ctx(),
            json!({"id": "12", "size": "30", "linode_id": null, "linode_label": "stale", "extra": []}),
        )
        .expect("maps");
        assert_eq!(r.name, "12");
        let Attrs::BlockVolumes(a) = &r.attrs else {
            panic!("volume attrs")
        };
        assert_eq!(a.size_gb, Some(30));
        assert_eq!(a.attached_to_instance, None);
        assert_eq!(
            a.attached_to_instance_label, None,
            "a detached volume's label is stale"
        );
        assert!(record(&ctx(), json!({"label": "no-id"})).is_err());
    }

    #[test]
    fn secrets_are_removed_from_full_api_data() {
        let mut raw = fixture_items(FIXTURE).remove(0);
        raw["secret_key"] = json!("SANDBOX-SECRET-key");
        raw["encryption_password"] = json!("SANDBOX-SECRET-pw");
        let r = record(&ctx(), raw).expect("maps");
        assert_no_secret(&r);
        assert_eq!(
            r.full_api_data.to_value()["filesystem_path"],
            "/dev/disk/by-id/scsi-0Linode_Volume_vpn-logs"
        );
    }

    #[test]
    fn create_body_shape() {
        let body = CreateBody {
            label: "data",
            region: "us-east",
            size: Some(40),
            linode_id: Some(52000001),
            tags: vec!["stackdock-00112233aabbccdd"],
        };
        assert_eq!(
            serde_json::to_value(&body).expect("serialises"),
            json!({"label": "data", "region": "us-east", "size": 40, "linode_id": 52000001, "tags": ["stackdock-00112233aabbccdd"]})
        );
    }
}
