//! Vultr block storage (`/blocks`) as `blockVolumes`: the wire type, the mapping to the universal
//! record, and create (then attach) / update (rename, grow, detach and attach) / delete.
//!
//! Blocks have no tags: ownership is the label. This module translates decided changes into
//! requests and never decides whether to make them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, VolumeAttrs};
use stackdock_core::{FieldValue, Kind, Record};

use super::Vultr;
use super::client::{
    self, Collection, Write, decode_object, get_existing, invalid, lenient, non_empty,
    not_in_place, poll_object, required_str, send_changes, spec_str, update_route,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::wait::Poll;
use crate::{DockContext, Listed, ProviderError, Request};

const ROUTE: &str = "/blocks";
/// The block type a create sends when the entry sets none (docs/config.md says so).
const DEFAULT_BLOCK_TYPE: &str = "high_perf";
const ROUTE_ID: &str = "/blocks/{id}";
const COLLECTION: Collection = Collection {
    kind: Kind::BlockVolumes,
    route: ROUTE,
    route_id: ROUTE_ID,
    list_key: "blocks",
    one_key: "block",
    item: to_record,
    value: to_record,
    write: Write::Patch,
};
const ROUTE_ATTACH: &str = "/blocks/{id}/attach";
const ROUTE_DETACH: &str = "/blocks/{id}/detach";

/// How long a new block may stay pending before it can be attached ([tf-vultr] polls for
/// `active` before attaching; new blocks turn active within seconds).
const ACTIVE_BEFORE_ATTACH: Duration = Duration::from_secs(5 * 60);

// ---------------------------------------------------------------------------------------------
// Wire type

/// The fields of a block object this adapter reads ([govultr] block_storage.go `BlockStorage`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct Block {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub label: String,
    #[serde(deserialize_with = "lenient::string")]
    pub region: String,
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(deserialize_with = "lenient::uint")]
    pub size_gb: u64,
    #[serde(deserialize_with = "lenient::string")]
    pub attached_to_instance: String,
    #[serde(deserialize_with = "lenient::string")]
    pub attached_to_instance_label: String,
    #[serde(deserialize_with = "lenient::string")]
    pub mount_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub block_type: String,
}

/// `POST /blocks` ([vultr-spec] create_block). Fields in alphabetical order, as serde_json's map
/// wrote them before this type existed.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(super) struct CreateBody<'a> {
    block_type: &'a str,
    label: &'a str,
    region: &'a str,
    size_gb: i64,
}

/// `PATCH /blocks/{id}` ([vultr-spec] update_block): only the fields that change.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct UpdateBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_gb: Option<i64>,
}

/// `POST /blocks/{id}/attach` and (without `instance_id`) `/detach` ([vultr-spec] attach_block,
/// detach_block). `live`: without restarting the server.
#[derive(Debug, Serialize)]
struct Attachment<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    live: bool,
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// The block's status lower-cased (`active`, `pending`); a block without one is `active`.
pub(super) fn status(b: &Block) -> String {
    if b.status.is_empty() {
        "active".to_owned()
    } else {
        b.status.to_ascii_lowercase()
    }
}

/// The block-volume record of one block object.
pub(super) fn to_record(
    ctx: &DockContext,
    route: &str,
    value: impl Listed,
) -> Result<Record, ProviderError> {
    let b: Block = decode_object(&ctx.dock, route, &value)?;
    client::require_id(ctx, route, Kind::BlockVolumes, &b.id)?;
    let attrs = Attrs::BlockVolumes(VolumeAttrs {
        size_gb: i64::try_from(b.size_gb).ok(),
        attached_to_instance: non_empty(&b.attached_to_instance),
        attached_to_instance_label: non_empty(&b.attached_to_instance_label),
        mount_id: non_empty(&b.mount_id),
        block_type: non_empty(&b.block_type),
        filesystem_type: None,
    });
    Ok(client::record(
        ctx,
        &b.id,
        &b.label,
        status(&b),
        &b.region,
        attrs,
        value,
    ))
}

/// Whether `wait_ready` is done with a block.
pub(super) fn is_ready(record: &Record) -> bool {
    record.status == "active"
}

fn attached_to(record: &Record) -> Option<&str> {
    match &record.attrs {
        Attrs::BlockVolumes(a) => a.attached_to_instance.as_deref(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

/// The create request body ([vultr-spec] create_block).
pub(super) fn create_body<'a>(
    ctx: &DockContext,
    spec: &'a ResourceSpec,
) -> Result<CreateBody<'a>, ProviderError> {
    let route = format!("POST {ROUTE}");
    let region = required_str(ctx, &route, Kind::BlockVolumes, spec, "region")?;
    let size = spec
        .fields
        .get("size_gb")
        .and_then(FieldValue::as_int)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            invalid(
                ctx,
                &route,
                format!(
                    "block_volumes.{} needs a positive `size_gb`: set it in stackdock.toml",
                    spec.name
                ),
            )
        })?;
    // The spec marks `block_type` "soon to become required": always send it, `high_perf` (Vultr's
    // current default) unless the entry says otherwise.
    let block_type = spec_str(spec, "block_type")
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_BLOCK_TYPE);
    Ok(CreateBody {
        block_type,
        label: &spec.name,
        region,
        size_gb: size,
    })
}

/// Polls until the block is `active`.
pub(super) async fn wait_active(
    v: &Vultr,
    id: &str,
    timeout: Duration,
) -> Result<Record, ProviderError> {
    let what = format!("block volume {id}");
    poll_object(v, &COLLECTION, id, &what, timeout, |r| {
        if is_ready(&r) {
            Poll::Ready(r)
        } else {
            Poll::Pending(r.status.to_string())
        }
    })
    .await
}

/// Attaches block `id` to `server` (`POST /blocks/{id}/attach`), or detaches it from its server
/// for `None` (`/detach`), live in both cases.
async fn attachment(v: &Vultr, id: &str, server: Option<&str>) -> Result<(), ProviderError> {
    let (route, action) = match server {
        Some(_) => (ROUTE_ATTACH, "attach"),
        None => (ROUTE_DETACH, "detach"),
    };
    let body = Attachment {
        instance_id: server,
        live: true,
    };
    let path = format!("{ROUTE}/{id}/{action}");
    let _: Value = v.account.client.post_json(route, &path, &body, &[]).await?;
    Ok(())
}

/// What an update does: the PATCH body (label, size) and whether the attachment changes.
pub(super) fn update_plan(
    ctx: &DockContext,
    changes: &[FieldChange],
) -> Result<(UpdateBody, bool), ProviderError> {
    let route = update_route(&COLLECTION);
    let mut body = UpdateBody::default();
    let mut reattach = false;
    for c in changes {
        match (c.field.as_str(), &c.after) {
            ("name", Some(FieldValue::Str(name))) => body.label = Some(name.to_string()),
            ("size_gb", Some(FieldValue::Int(size))) => body.size_gb = Some(*size),
            ("attach_to", _) => reattach = true,
            _ => return Err(not_in_place(ctx, &route, COLLECTION.kind, c)),
        }
    }
    Ok((body, reattach))
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Block volumes are Vultr block storage (`/blocks`).
#[derive(Debug)]
pub(super) struct Blocks;

#[async_trait::async_trait]
impl KindAdapter<Vultr> for Blocks {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    /// Blocks labelled `spec.name` (blocks have no tags, and the list has no label filter).
    async fn find_owned(
        &self,
        v: &Vultr,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(Blocks
            .list(v)
            .await?
            .into_iter()
            .filter(|r| r.full_api_data.get_str("label").as_ref() == Some(&spec.name))
            .collect())
    }

    /// Sends the create once; with `attach_to_id`, waits for the block to be active and attaches it.
    async fn create(&self, v: &Vultr, request: Request<'_>) -> Result<Record, ProviderError> {
        let body = create_body(&v.account.ctx, request.spec)?;
        let created = client::create(v, &COLLECTION, &body).await?;
        let Some(server) = request.attach_to_id else {
            return Ok(created);
        };
        let id = created.provider_resource_id.clone();
        // Vultr refuses to attach a block that is still pending ([tf-vultr] waits for active first).
        let attached = async {
            if !is_ready(&created) {
                wait_active(v, &id, ACTIVE_BEFORE_ATTACH).await?;
            }
            attachment(v, &id, Some(server)).await
        };
        attached.await.map_err(|mut e| {
        // The block exists: say so, so nobody creates a second one by hand.
        e.message.push_str(&format!(
            "; block volume {id} (`{}`) was created but is not attached to {server}: run `stackdock plan` to see the attachment as a change",
            request.spec.name
        ));
        e
    })?;
        get_existing(v, &COLLECTION, &id).await
    }

    /// Rename and grow with one PATCH; then detach from another server and attach to
    /// `request.attach_to_id` (None = detach only). Returns the block as it is afterwards.
    async fn update(&self, v: &Vultr, u: Update<'_>) -> Result<Record, ProviderError> {
        let id = u.id;
        let (body, reattach) = update_plan(&v.account.ctx, u.changes)?;
        if body != UpdateBody::default() {
            let _: Value = send_changes(v, &COLLECTION, id, &body).await?;
        }
        if reattach {
            let current = get_existing(v, &COLLECTION, id).await?;
            let attached = attached_to(&current).map(str::to_owned);
            let target = u.request.attach_to_id;
            if attached.is_some() && attached.as_deref() != target {
                attachment(v, id, None).await?;
            }
            if let Some(server) = target
                && attached.as_deref() != Some(server)
            {
                attachment(v, id, Some(server)).await?;
            }
        }
        // PATCH answers 204 without the block: read it back to return what is there now.
        get_existing(v, &COLLECTION, id).await
    }

    fn kind(&self) -> Kind {
        Kind::BlockVolumes
    }

    fn readiness(&self, record: &Record) -> Readiness {
        Readiness::when(is_ready(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use crate::vultr::client::testing::{ctx, fixture, fixture_records};
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../../../fixtures/vultr/blocks.json");

    fn volume(r: &Record) -> &VolumeAttrs {
        match &r.attrs {
            Attrs::BlockVolumes(a) => a,
            other => panic!("not a volume: {other:?}"),
        }
    }

    #[test]
    fn fixture_blocks_map_to_volume_records() {
        let records = fixture_records(&COLLECTION, FIXTURE);
        assert_eq!(records.len(), 2);
        let a = &records[0];
        assert_eq!(
            (a.name.as_str(), a.status.as_str(), a.region.as_deref()),
            ("legacy-mail-spool", "active", Some("ewr"))
        );
        assert_eq!(
            volume(a),
            &VolumeAttrs {
                size_gb: Some(50),
                attached_to_instance: Some("3b8f1d2a-6c4e-4f7a-9b1c-0d2e3f4a5b01".into()),
                attached_to_instance_label: Some("legacy-mail".into()),
                mount_id: Some("ewr-7c1e5a902d3b4e".into()),
                block_type: Some("high_perf".into()),
                filesystem_type: None,
            }
        );
        assert_eq!(
            a.field("attach_to"),
            Some(FieldValue::Str("legacy-mail".into()))
        );
        assert_eq!(a.field("size_gb"), Some(FieldValue::Int(50)));
        let b = &records[1];
        assert_eq!((b.name.as_str(), b.status.as_str()), ("ci-cache", "active"));
        assert_eq!(volume(b).attached_to_instance, None);
        assert_eq!(volume(b).attached_to_instance_label, None);
        assert_eq!(volume(b).block_type.as_deref(), Some("storage_opt"));
        assert_eq!(b.full_api_data.to_value()["cost"], json!(1));
    }

    #[test]
    fn nothing_secret_survives_and_nothing_else_is_removed() {
        for v in fixture(&COLLECTION, FIXTURE) {
            let keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
            let r = to_record(&ctx(), "GET /blocks", v).expect("maps");
            // Blocks carry no secret field: redaction must keep every key.
            let kept: Vec<String> = r
                .full_api_data
                .to_value()
                .as_object()
                .expect("object")
                .keys()
                .cloned()
                .collect();
            assert_eq!(kept, keys);
            assert!(
                !serde_json::to_string(&r)
                    .expect("json")
                    .contains("SANDBOX-SECRET-")
            );
        }
    }

    #[test]
    fn status_mapping_table() {
        for (raw, want) in [
            ("active", "active"),
            ("pending", "pending"),
            ("Active", "active"),
            ("", "active"),
        ] {
            let b = Block {
                status: raw.into(),
                ..Block::default()
            };
            assert_eq!(status(&b), want, "{raw:?}");
        }
        let r = to_record(
            &ctx(),
            "GET /blocks",
            json!({"id": "b", "status": null, "size_gb": null}),
        )
        .expect("maps");
        assert_eq!(
            (r.name.as_str(), r.status.as_str(), volume(&r).size_gb),
            ("b", "active", Some(0))
        );
    }

    fn spec(fields: &[(&str, FieldValue)]) -> ResourceSpec {
        ResourceSpec {
            name: "data".into(),
            owner_tag: "stackdock-0123456789abcdef".into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
            protect: false,
        }
    }

    #[test]
    fn create_body_uses_the_label_as_ownership() {
        let s = spec(&[
            ("region", "ewr".into()),
            ("size_gb", 40.into()),
            ("block_type", "storage_opt".into()),
            ("attach_to", "web-1".into()),
        ]);
        assert_eq!(
            serde_json::to_value(create_body(&ctx(), &s).expect("valid")).expect("json"),
            json!({"region": "ewr", "size_gb": 40, "label": "data", "block_type": "storage_opt"})
        );
        // Without `block_type` the default is sent all the same.
        let s = spec(&[("region", "ewr".into()), ("size_gb", 10.into())]);
        assert_eq!(
            serde_json::to_value(create_body(&ctx(), &s).expect("valid")).expect("json"),
            json!({"region": "ewr", "size_gb": 10, "label": "data", "block_type": "high_perf"})
        );
        let s = spec(&[("region", "ewr".into())]);
        let e = create_body(&ctx(), &s).expect_err("no size");
        assert_eq!(e.class, ErrorClass::Invalid);
        assert!(
            e.to_string().contains("size_gb") && e.to_string().contains("vultr-main"),
            "{e}"
        );
    }

    #[test]
    fn update_plan_splits_patch_fields_from_the_attachment() {
        let change = |field: &str, after: Option<FieldValue>| FieldChange {
            field: field.into(),
            before: None,
            after,
        };
        let (body, reattach) = update_plan(
            &ctx(),
            &[
                change("name", Some("data-2".into())),
                change("size_gb", Some(80.into())),
                change("attach_to", None),
            ],
        )
        .expect("in place");
        assert_eq!(
            serde_json::to_value(body).expect("json"),
            json!({"label": "data-2", "size_gb": 80})
        );
        assert!(reattach);
        let e = update_plan(&ctx(), &[change("block_type", Some("high_perf".into()))])
            .expect_err("replace field");
        assert_eq!(e.class, ErrorClass::Invalid);
    }
}
