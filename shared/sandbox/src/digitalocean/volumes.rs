//! DigitalOcean block storage volumes (`/volumes`, `/volumes/{id}/actions`): the stored volume
//! and its JSON, its fixtures and bulk generation, out-of-band changes, and the handlers (list,
//! create, get, delete, attach / detach / resize actions).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{P, SALT, Store, nf, paged, region_object, store, str_list, unprocessable};
use crate::Kind;
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, error, json, no_content, wrap};
use crate::server::App;
use crate::state::{self, Resource, Slot, fields, time_do};
use axum::routing::MethodFilter;

#[derive(Debug, Hash)]
pub(crate) struct Volume {
    id: Uuid,
    pub(super) name: String,
    description: String,
    region: String,
    size_gb: u64,
    pub(super) droplet: Option<u64>,
    created: i64,
    fs_type: String,
    fs_label: String,
    pub(super) tags: Vec<String>,
}

resource!(
    Volume,
    key: |v| v.id.to_string(),
    label: name,
    summary: |v| (v.status(), &v.region, v.size_gb, &v.tags),
    edit: |v| Editable::default()
        .label(&mut v.name)
        .size_gb(&mut v.size_gb)
        .tags(&mut v.tags),
);

impl Volume {
    /// What the summary says of it: whether it is attached.
    fn status(&self) -> &'static str {
        if self.droplet.is_some() {
            "attached"
        } else {
            "available"
        }
    }

    pub(super) fn render(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "region": region_object(&self.region),
            "droplet_ids": self.droplet.map(|d| vec![d]).unwrap_or_default(),
            "name": self.name,
            "description": self.description,
            "size_gigabytes": self.size_gb,
            "created_at": time_do(self.created),
            "filesystem_type": self.fs_type,
            "filesystem_label": self.fs_label,
            "tags": self.tags,
        })
    }
}

impl Store {
    /// Attach the free volumes among `ids` that are in `region` to a new droplet; their ids.
    pub(super) fn attach_new(&mut self, ids: &[String], region: &str, droplet: u64) -> Vec<Uuid> {
        let mut attached = Vec::new();
        for vid in ids {
            if let Some(v) = self.volumes.get_mut(vid)
                && v.droplet.is_none()
                && v.region == region
            {
                v.droplet = Some(droplet);
                attached.push(v.id);
            }
        }
        attached
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(store: &mut Store) {
    for v in catalog::items(catalog::DO_VOLUMES, "volumes") {
        let vol = Volume {
            id: Uuid::parse_str(&fields::string(&v, "id")).unwrap_or_else(|_| Uuid::new_v4()),
            name: fields::string(&v, "name"),
            description: fields::string(&v, "description"),
            region: v
                .get("region")
                .map(|r| fields::string(r, "slug"))
                .unwrap_or_default(),
            size_gb: fields::uint(&v, "size_gigabytes"),
            droplet: v
                .get("droplet_ids")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_u64),
            created: state::parse_time(&fields::string(&v, "created_at")),
            fs_type: fields::string(&v, "filesystem_type"),
            fs_label: fields::string(&v, "filesystem_label"),
            tags: fields::strings(&v, "tags"),
        };
        store.tags.extend(vol.tags.iter().cloned());
        store.volumes.insert(vol.key(), vol);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> Volume {
    let b = slot.n;
    Volume {
        id: state::det_uuid(SALT + 1, b),
        name: format!("bulk-volume-{b:06}"),
        description: String::new(),
        region: slot.region,
        size_gb: 10 + (b % 20) * 10,
        droplet: None,
        created: slot.created,
        fs_type: "ext4".to_owned(),
        fs_label: String::new(),
        tags: vec!["bulk".to_owned()],
    }
}

stored!(Volume: Kind::Volume, in Store.volumes, render: |v, _s| v.render(), bulk: bulk,
    deleted: leave_droplet, changed: Store::account_tags::<Volume>);

/// A deleted volume leaves its droplet.
fn leave_droplet(store: &mut Store, volume: Volume) {
    for d in store.droplets.values_mut() {
        d.volume_ids.retain(|id| *id != volume.id);
    }
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/digitalocean/v2/volumes",
            list_route("volumes", list_volumes).post(create_volume),
        )
        .route(
            "/digitalocean/v2/volumes/{id}",
            get_one::<Volume>(Some("volume"), nf).merge(delete_one::<Volume>(
                refuse_delete,
                no_content,
                nf,
            )),
        )
        .route(
            "/digitalocean/v2/volumes/{id}/actions",
            with_body(P, MethodFilter::POST, volume_action),
        )
}

fn list_volumes(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let (name, region) = (req.query.get("name"), req.query.get("region"));
    let seqs = store
        .volumes
        .select(|v| name.is_none_or(|n| &v.name == n) && region.is_none_or(|r| &v.region == r));
    let page = paged(
        req.app,
        "/volumes",
        req.query,
        &["name", "region"],
        seqs.len(),
        req.mode,
    )?;
    Ok(store
        .volumes
        .listing(&seqs, page, state::fingerprint, Volume::render))
}

/// DigitalOcean volume names: a lowercase letter, then lowercase letters, digits and `-`; at most
/// 64 characters.
fn valid_volume_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A create's name, size and region, checked.
fn volume_basics(body: &JsonBody) -> Result<(String, u64, String), Response> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("name is required"))?
        .to_owned();
    if !valid_volume_name(&name) {
        return Err(unprocessable(
            "name must be lowercase and be composed only of numbers, letters and \"-\", up to a limit of 64 characters, and must begin with a letter",
        ));
    }
    let size = body
        .get("size_gigabytes")
        .and_then(Value::as_u64)
        .ok_or_else(|| unprocessable("size_gigabytes is required"))?;
    if !(1..=16_384).contains(&size) {
        return Err(unprocessable("size_gigabytes must be between 1 and 16384"));
    }
    let region = body
        .get("region")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("region is required"))?
        .to_owned();
    if catalog::digitalocean().region(&region).is_none() {
        return Err(unprocessable("invalid region"));
    }
    Ok((name, size, region))
}

/// A string field that may be absent (empty), read leniently.
fn text(body: &JsonBody, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn create_volume(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let (name, size, region) = volume_basics(&body)?;
    let fs_type = match body.get("filesystem_type").and_then(Value::as_str) {
        None => String::new(),
        Some(t @ ("ext4" | "xfs")) => t.to_owned(),
        Some(_) => return Err(unprocessable("filesystem_type must be ext4 or xfs")),
    };
    let tags = str_list(&body, "tags")?;
    let mut st = app.state();
    let store = store(&mut st);
    let tags = store.inline_tags(tags)?;
    if store
        .volumes
        .values()
        .any(|v| v.name == name && v.region == region)
    {
        return Err(error(
            P,
            StatusCode::CONFLICT,
            &format!("a volume with the name \"{name}\" already exists in {region}"),
        ));
    }
    let v = Volume {
        id: Uuid::new_v4(),
        name,
        description: text(&body, "description"),
        region,
        size_gb: size,
        droplet: None,
        created: state::now(),
        fs_type,
        fs_label: text(&body, "filesystem_label"),
        tags,
    };
    let rendered = v.render();
    store.volumes.insert(v.key(), v);
    Ok(json(StatusCode::CREATED, &wrap("volume", rendered)))
}

/// An attached volume is not deleted.
fn refuse_delete(v: &Volume) -> Option<Response> {
    v.droplet.map(|_| {
        error(
            P,
            StatusCode::CONFLICT,
            "Volume is currently attached to a Droplet. Detach it before deleting.",
        )
    })
}

/// `attach` / `detach` of volume `id` (in `region`, attached to `attached`) to `droplet_id`;
/// the action type it records.
fn attach_or_detach(
    store: &mut Store,
    id: &str,
    (vol_id, vol_region, attached): (Uuid, &str, Option<u64>),
    attach: bool,
    body: &JsonBody,
) -> Result<&'static str, Response> {
    let droplet_id = body
        .get("droplet_id")
        .and_then(Value::as_u64)
        .ok_or_else(|| unprocessable("droplet_id is required"))?;
    let d = store
        .droplets
        .get_mut(&droplet_id.to_string())
        .ok_or_else(nf)?;
    if attach {
        if attached.is_some() {
            return Err(unprocessable("Volume is already attached to a Droplet."));
        }
        if d.region != vol_region {
            return Err(unprocessable(
                "The Droplet and the volume must be in the same region.",
            ));
        }
        if d.volume_ids.len() >= 15 {
            return Err(unprocessable(
                "A Droplet can have at most 15 volumes attached.",
            ));
        }
        d.volume_ids.push(vol_id);
    } else {
        if attached != Some(droplet_id) {
            return Err(unprocessable("Volume is not attached to this Droplet."));
        }
        d.volume_ids.retain(|v| *v != vol_id);
    }
    if let Some(v) = store.volumes.get_mut(id) {
        v.droplet = attach.then_some(droplet_id);
    }
    Ok(if attach {
        "attach_volume"
    } else {
        "detach_volume"
    })
}

/// `resize`: upwards only, to at most 16 TiB.
fn resize(store: &mut Store, id: &str, body: &JsonBody) -> Result<(), Response> {
    let size = body
        .get("size_gigabytes")
        .and_then(Value::as_u64)
        .ok_or_else(|| unprocessable("size_gigabytes is required"))?;
    let v = store.volumes.get_mut(id).ok_or_else(nf)?;
    if size <= v.size_gb {
        return Err(unprocessable("Volumes may only be resized upwards."));
    }
    if size > 16_384 {
        return Err(unprocessable("The maximum size for a volume is 16TiB."));
    }
    v.size_gb = size;
    Ok(())
}

fn volume_action(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("type is required"))?
        .to_owned();
    let region_arg = body
        .get("region")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let lc = app.lifecycle;
    let mut st = app.state();
    let store = store(&mut st);
    let (vol_id, vol_region, attached) = {
        let v = store.volumes.get(id).ok_or_else(nf)?;
        (v.id, v.region.clone(), v.droplet)
    };
    if region_arg.as_ref().is_some_and(|r| *r != vol_region) {
        return Err(unprocessable("The volume and the region do not match."));
    }
    let volume = (vol_id, vol_region.as_str(), attached);
    let action_type = match kind.as_str() {
        "attach" => attach_or_detach(store, id, volume, true, body)?,
        "detach" => attach_or_detach(store, id, volume, false, body)?,
        "resize" => {
            resize(store, id, body)?;
            "resize"
        }
        _ => {
            return Err(unprocessable(&format!(
                "{kind} is not a valid volume action type"
            )));
        }
    };
    let action = store.new_action(action_type, None, "volume", &vol_region, lc);
    Ok(json(StatusCode::ACCEPTED, &wrap("action", action)))
}
