//! Vultr block storage (`/blocks`): the stored block and its JSON (which reads the instance it
//! is attached to), its fixtures and bulk generation, out-of-band changes, and the handlers
//! (list, create, get, update, delete, attach, detach).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::instances::Instance;
use super::{P, SALT, Store, bad, parse_uuid, region_field, store};
use crate::Kind;
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, empty, error, json, no_content, wrap};
use crate::pagination::{self};
use crate::server::App;
use crate::state::{self, Resource, Slot, State as AppState, Table, fields, time_vultr};
use axum::routing::MethodFilter;

#[derive(Debug, Hash)]
pub(crate) struct Block {
    id: Uuid,
    label: String,
    region: String,
    size_gb: u64,
    block_type: String,
    pub(super) attached: Option<Uuid>,
    created: i64,
    status: String,
    pending: u32,
}

resource!(
    Block,
    key: |b| b.id.to_string(),
    label: label,
    summary: |b| (&b.status, &b.region, b.size_gb, &[]),
    edit: |b| Editable::default()
        .label(&mut b.label)
        .status(&mut b.status)
        .size_gb(&mut b.size_gb),
    observe: |b| if state::countdown(&mut b.pending) {
        b.status = "active".to_owned();
    },
);

impl Block {
    /// The instance this block is attached to (its rendering reads the instance's id, IP, label).
    fn attached_instance<'t>(&self, instances: &'t Table<Instance>) -> Option<&'t Instance> {
        self.attached.and_then(|id| instances.get(&id.to_string()))
    }

    pub(super) fn render(&self, instances: &Table<Instance>) -> Value {
        let per_gb = if self.block_type == "storage_opt" {
            0.025
        } else {
            0.05
        };
        let cost = (self.size_gb as f64 * per_gb * 100.0).round() / 100.0;
        let attached = self.attached_instance(instances);
        let simple = self.id.simple().to_string();
        json!({
            "id": self.id.to_string(),
            "date_created": time_vultr(self.created),
            "cost": cost,
            "pending_charges": (cost * 45.0).round() / 100.0,
            "status": self.status,
            "size_gb": self.size_gb,
            "region": self.region,
            "attached_to_instance": attached.map(|i| i.id.to_string()).unwrap_or_default(),
            "attached_to_instance_ip": attached.map(|i| state::ip_string(i.main_ip)).unwrap_or_default(),
            "attached_to_instance_label": attached.map(|i| i.label.clone()).unwrap_or_default(),
            "label": self.label,
            "mount_id": format!("{}-{}", self.region, &simple[..14]),
            "block_type": self.block_type,
            "os_id": 0,
            "snapshot_id": "",
            "bootable": false,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(st: &mut AppState) {
    for v in catalog::items(catalog::VULTR_BLOCKS, "blocks") {
        let attached = fields::string(&v, "attached_to_instance");
        let b = Block {
            id: parse_uuid(&fields::string(&v, "id")),
            label: fields::string(&v, "label"),
            region: fields::string(&v, "region"),
            size_gb: fields::uint(&v, "size_gb"),
            block_type: fields::string(&v, "block_type"),
            attached: Uuid::parse_str(&attached).ok(),
            created: state::parse_time(&fields::string(&v, "date_created")),
            status: fields::string(&v, "status"),
            pending: 0,
        };
        store(st).blocks.insert(b.key(), b);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> Block {
    let b = slot.n;
    Block {
        id: state::det_uuid(SALT + 1, b),
        label: format!("bulk-block-{b:06}"),
        region: slot.region,
        size_gb: 10 + (b % 20) * 10,
        block_type: "high_perf".to_owned(),
        attached: None,
        created: slot.created,
        status: "active".to_owned(),
        pending: 0,
    }
}

stored!(Block: Kind::Volume, in Store.blocks, render: |b, s| b.render(&s.instances), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/vultr/v2/blocks",
            list_route("blocks", list_blocks).post(create_block),
        )
        .route(
            "/vultr/v2/blocks/{id}",
            get_one::<Block>(Some("block"), block_404)
                .merge(with_body(P, MethodFilter::PATCH, update_block))
                .merge(delete_one::<Block>(|_| None, no_content, block_404)),
        )
        .route(
            "/vultr/v2/blocks/{id}/attach",
            with_body(P, MethodFilter::POST, attach_block),
        )
        .route(
            "/vultr/v2/blocks/{id}/detach",
            with_body(P, MethodFilter::POST, detach_block),
        )
}

fn block_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "Invalid block storage ID")
}

fn list_blocks(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let seqs = store.blocks.select(|_| true);
    let page = pagination::vultr(seqs.len(), req.query, req.mode).map_err(|msg| bad(&msg))?;
    let instances = &store.instances;
    Ok(store.blocks.listing(
        &seqs,
        page,
        |b| state::fingerprint(&(b, b.attached_instance(instances))),
        |b| b.render(instances),
    ))
}

fn block_limits(block_type: &str) -> Option<(u64, u64)> {
    match block_type {
        "high_perf" => Some((10, 10_000)),
        "storage_opt" => Some((40, 40_000)),
        _ => None,
    }
}

async fn create_block(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let region = region_field(&body)?;
    let size = body
        .get("size_gb")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("Missing required parameter: size_gb"))?;
    let block_type = body
        .str("block_type")?
        .unwrap_or_else(|| "high_perf".to_owned());
    let (min, max) = block_limits(&block_type)
        .ok_or_else(|| bad("Invalid block_type. Must be high_perf or storage_opt."))?;
    if !(min..=max).contains(&size) {
        return Err(bad(&format!(
            "Invalid size_gb: {block_type} block storage must be between {min} and {max} GB."
        )));
    }
    let pending = app.lifecycle.pending_polls;
    let b = Block {
        id: Uuid::new_v4(),
        label: body.str("label")?.unwrap_or_default(),
        region,
        size_gb: size,
        block_type,
        attached: None,
        created: state::now(),
        status: "pending".to_owned(),
        pending: pending.max(1),
    };
    let mut st = app.state();
    let store = store(&mut st);
    let instances = &store.instances;
    let rendered = store.blocks.create(b, pending, |b| b.render(instances));
    Ok(json(StatusCode::ACCEPTED, &wrap("block", rendered)))
}

fn update_block(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let label = body.str("label")?;
    let size = match body.get("size_gb") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| bad("Invalid size_gb."))?),
    };
    let mut st = app.state();
    let b = store(&mut st).blocks.get_mut(id).ok_or_else(block_404)?;
    if let Some(size) = size {
        if size < b.size_gb {
            return Err(bad("Block storage size can only be increased."));
        }
        let (_, max) = block_limits(&b.block_type).unwrap_or((10, 10_000));
        if size > max {
            return Err(bad(&format!("Invalid size_gb: maximum is {max} GB.")));
        }
        b.size_gb = size;
    }
    if let Some(label) = label {
        b.label = label;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

fn attach_block(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let instance_id = body
        .str("instance_id")?
        .ok_or_else(|| bad("Missing required parameter: instance_id"))?;
    let mut st = app.state();
    let store = store(&mut st);
    let inst = store
        .instances
        .get(&instance_id)
        .ok_or_else(|| bad("Invalid instance_id."))?;
    let (inst_id, inst_region) = (inst.id, inst.region.clone());
    let b = store.blocks.get_mut(id).ok_or_else(block_404)?;
    if b.attached.is_some() {
        return Err(bad("Block storage is already attached to another server"));
    }
    if b.region != inst_region {
        return Err(bad(
            "Block storage and server must be in the same location.",
        ));
    }
    b.attached = Some(inst_id);
    Ok(empty(StatusCode::NO_CONTENT))
}

fn detach_block(app: &App, id: &str, _body: &JsonBody) -> Result<Response, Response> {
    let mut st = app.state();
    let b = store(&mut st).blocks.get_mut(id).ok_or_else(block_404)?;
    if b.attached.take().is_none() {
        return Err(bad("Block storage is not attached to a server."));
    }
    Ok(empty(StatusCode::NO_CONTENT))
}
