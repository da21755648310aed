//! Linode block storage volumes (`/volumes`): the stored volume and its JSON (which reads the
//! Linode it is attached to), its `X-Filter` fields, its fixtures and bulk generation,
//! out-of-band changes, and the handlers (list, create, get, update, delete, attach, detach,
//! resize).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use super::filter::{self, Field, Filterable};
use super::instances::Instance;
use super::{P, Store, bad, check_region, field_err, nf, ok_empty, store};
use crate::Kind;
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, json};
use crate::server::App;
use crate::state::{self, Resource, Slot, Table, fields, time_linode};
use axum::routing::MethodFilter;

#[derive(Debug, Hash)]
pub(crate) struct Volume {
    id: u64,
    label: String,
    region: String,
    size: u64,
    pub(super) linode_id: Option<u64>,
    tags: Vec<String>,
    status: String,
    created: i64,
    updated: i64,
    hardware_type: String,
    encryption: String,
    pending: u32,
}

resource!(
    Volume,
    key: |v| v.id.to_string(),
    label: label,
    summary: |v| (&v.status, &v.region, v.size, &v.tags),
    edit: |v| Editable::default()
        .label(&mut v.label)
        .status(&mut v.status)
        .size_gb(&mut v.size)
        .tags(&mut v.tags),
    observe: |v| if state::countdown(&mut v.pending) {
        v.status = "active".to_owned();
    },
);

impl Volume {
    /// The instance this volume is attached to (its rendering reads the instance's label).
    fn attached_instance<'t>(&self, instances: &'t Table<Instance>) -> Option<&'t Instance> {
        self.linode_id.and_then(|id| instances.get(&id.to_string()))
    }

    pub(super) fn render(&self, instances: &Table<Instance>) -> Value {
        let linode_label = self.attached_instance(instances).map(|i| i.label.clone());
        json!({
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "region": self.region,
            "size": self.size,
            "linode_id": self.linode_id,
            "linode_label": linode_label,
            "filesystem_path": format!("/dev/disk/by-id/scsi-0Linode_Volume_{}", self.label),
            "tags": self.tags,
            "hardware_type": self.hardware_type,
            "io_ready": self.linode_id.is_some() && self.status == "active",
            "encryption": self.encryption,
            "created": time_linode(self.created),
            "updated": time_linode(self.updated),
        })
    }
}

impl Filterable for Volume {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "id" => Field::Num(self.id),
            "label" => Field::Str(&self.label),
            "region" => Field::Str(&self.region),
            "status" => Field::Str(&self.status),
            "size" => Field::Num(self.size),
            "linode_id" => Field::Num(self.linode_id.unwrap_or(0)),
            "tags" => Field::Tags(&self.tags),
            "created" => Field::Num(u64::try_from(self.created).unwrap_or(0)),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(store: &mut Store) {
    for v in catalog::items(catalog::LINODE_VOLUMES, "data") {
        let vol = Volume {
            id: fields::uint(&v, "id"),
            label: fields::string(&v, "label"),
            region: fields::string(&v, "region"),
            size: fields::uint(&v, "size"),
            linode_id: v.get("linode_id").and_then(Value::as_u64),
            tags: fields::strings(&v, "tags"),
            status: fields::string(&v, "status"),
            created: state::parse_time(&fields::string(&v, "created")),
            updated: state::parse_time(&fields::string(&v, "updated")),
            hardware_type: fields::string(&v, "hardware_type"),
            encryption: fields::string(&v, "encryption"),
            pending: 0,
        };
        store.volumes.insert(vol.key(), vol);
    }
}

fn bulk(store: &mut Store, slot: Slot) -> Volume {
    let b = slot.n;
    store.next_volume += 1;
    Volume {
        id: store.next_volume,
        label: format!("bulk-vol-{b:06}"),
        region: slot.region,
        size: 10 + (b % 20) * 10,
        linode_id: None,
        tags: vec!["bulk".to_owned()],
        status: "active".to_owned(),
        created: slot.created,
        updated: slot.created,
        hardware_type: "nvme".to_owned(),
        encryption: "enabled".to_owned(),
        pending: 0,
    }
}

stored!(Volume: Kind::Volume, in Store.volumes, render: |v, s| v.render(&s.instances), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/linode/v4/volumes",
            list_route("data", list_volumes).post(create_volume),
        )
        .route(
            "/linode/v4/volumes/{id}",
            get_one::<Volume>(None, nf)
                .merge(with_body(P, MethodFilter::PUT, update_volume))
                .merge(delete_one::<Volume>(refuse_delete, ok_empty, nf)),
        )
        .route(
            "/linode/v4/volumes/{id}/attach",
            with_body(P, MethodFilter::POST, attach_volume),
        )
        .route("/linode/v4/volumes/{id}/detach", post(detach_volume))
        .route(
            "/linode/v4/volumes/{id}/resize",
            with_body(P, MethodFilter::POST, resize_volume),
        )
}

fn list_volumes(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let filter = filter::parse_filter(req.headers)?;
    let instances = &store.instances;
    filter::list(
        &mut store.volumes,
        &filter,
        (req.query, req.mode),
        |v| state::fingerprint(&(v, v.attached_instance(instances))),
        |v| v.render(instances),
    )
}

/// [linode-spec] `Volume.label`: `^[a-zA-Z]((?!--|__)[a-zA-Z0-9-_])+$`, at most 32.
fn valid_volume_label(label: &str) -> bool {
    (2..=32).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && !label.contains("--")
        && !label.contains("__")
}

fn label_err() -> Response {
    field_err(
        "label",
        "Label must be 1-32 characters, start with a letter, and contain only letters, numbers, dashes and underscores",
    )
}

/// A create's `size` (absent, `null` or 0: 20 GB) and `linode_id`.
fn size_and_linode(body: &JsonBody) -> Result<(u64, Option<u64>), Response> {
    let size = match body.get("size") {
        None | Some(Value::Null) => 20,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| field_err("size", "size must be an integer"))?,
    };
    let size = if size == 0 { 20 } else { size };
    if !(10..=10_240).contains(&size) {
        return Err(field_err("size", "Size must be between 10 and 10240"));
    }
    let linode_id = match body.get("linode_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| field_err("linode_id", "linode_id must be an integer"))?,
        ),
    };
    Ok((size, linode_id))
}

/// The region of a new volume: the Linode's, when it is created attached.
fn volume_region(
    store: &Store,
    linode_id: Option<u64>,
    region: Option<String>,
) -> Result<String, Response> {
    let region = match (linode_id, region) {
        (Some(lid), region) => {
            let i = store
                .instances
                .get(&lid.to_string())
                .ok_or_else(|| field_err("linode_id", "Linode not found"))?;
            if region.as_ref().is_some_and(|r| *r != i.region) {
                return Err(field_err(
                    "region",
                    "Volume and Linode must be in the same region",
                ));
            }
            i.region.clone()
        }
        (None, Some(r)) => r,
        (None, None) => {
            return Err(field_err(
                "region",
                "region is required when linode_id is not given",
            ));
        }
    };
    check_region(&region)?;
    Ok(region)
}

async fn create_volume(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = body
        .str("label")?
        .ok_or_else(|| field_err("label", "label is required"))?;
    if !valid_volume_label(&label) {
        return Err(label_err());
    }
    let (size, linode_id) = size_and_linode(&body)?;
    let region = body.str("region")?;
    let tags = body.strings("tags")?.unwrap_or_default();
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let store = store(&mut st);
    let region = volume_region(store, linode_id, region)?;
    store.next_volume += 1;
    let now = state::now();
    let v = Volume {
        id: store.next_volume,
        label,
        region,
        size,
        linode_id,
        tags,
        status: "creating".to_owned(),
        created: now,
        updated: now,
        hardware_type: "nvme".to_owned(),
        encryption: body
            .str("encryption")?
            .unwrap_or_else(|| "enabled".to_owned()),
        pending: pending.max(1),
    };
    let instances = &store.instances;
    let rendered = store.volumes.create(v, pending, |v| v.render(instances));
    Ok(json(StatusCode::OK, &rendered))
}

fn update_volume(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let label = body.str("label")?;
    let tags = body.strings("tags")?;
    if label.as_ref().is_some_and(|l| !valid_volume_label(l)) {
        return Err(label_err());
    }
    let mut st = app.state();
    let store = store(&mut st);
    let v = store.volumes.get_mut(id).ok_or_else(nf)?;
    if let Some(l) = label {
        v.label = l;
    }
    if let Some(t) = tags {
        v.tags = t;
    }
    v.updated = state::now();
    Ok(json(StatusCode::OK, &v.render(&store.instances)))
}

/// An attached volume is not deleted.
fn refuse_delete(v: &Volume) -> Option<Response> {
    v.linode_id
        .map(|_| bad("Volume must be detached before it can be deleted."))
}

fn attach_volume(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let linode_id = body
        .get("linode_id")
        .and_then(Value::as_u64)
        .ok_or_else(|| field_err("linode_id", "linode_id is required"))?;
    let mut st = app.state();
    let store = store(&mut st);
    let region = store
        .instances
        .get(&linode_id.to_string())
        .map(|i| i.region.clone())
        .ok_or_else(|| field_err("linode_id", "Linode not found"))?;
    let v = store.volumes.get_mut(id).ok_or_else(nf)?;
    if v.linode_id.is_some() {
        return Err(bad("Volume is already attached to a Linode"));
    }
    if v.region != region {
        return Err(field_err(
            "linode_id",
            "Volume and Linode must be in the same region",
        ));
    }
    v.linode_id = Some(linode_id);
    v.updated = state::now();
    Ok(json(StatusCode::OK, &v.render(&store.instances)))
}

async fn detach_volume(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let v = store(&mut st).volumes.get_mut(&id).ok_or_else(nf)?;
    if v.linode_id.take().is_none() {
        return Err(bad("Volume is not attached to a Linode"));
    }
    v.updated = state::now();
    Ok(ok_empty())
}

fn resize_volume(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let size = body
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| field_err("size", "size is required"))?;
    let mut st = app.state();
    let store = store(&mut st);
    let v = store.volumes.get_mut(id).ok_or_else(nf)?;
    if size <= v.size {
        return Err(field_err("size", "Volumes can only be resized up"));
    }
    if size > 10_240 {
        return Err(field_err("size", "Size must be between 10 and 10240"));
    }
    v.size = size;
    v.updated = state::now();
    Ok(json(StatusCode::OK, &v.render(&store.instances)))
}
