//! DigitalOcean droplets (`/droplets`, `/droplets/{id}/actions`): the stored droplet and its
//! JSON (size, region and image objects from the catalog), its fixtures and bulk generation,
//! out-of-band changes, and the handlers (list, create, get, delete, droplet actions).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{PREFIX, SALT, Store, bad, nf, paged, region_object, store, str_list, unprocessable};
use crate::Kind;
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, json, no_content, wrap};
use crate::server::App;
use crate::state::{self, Resource, Slot, fields, time_do};
use axum::routing::MethodFilter;

#[derive(Debug, Hash)]
pub(crate) struct Droplet {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) region: String,
    size: String,
    image: String,
    pub(super) tags: Vec<String>,
    status: String,
    created: i64,
    public_ip: u32,
    private_ip: u32,
    pub(super) volume_ids: Vec<Uuid>,
    features: Vec<String>,
    vpc: Uuid,
    pending: u32,
}

resource!(
    Droplet,
    key: |d| d.id.to_string(),
    label: name,
    summary: |d| (&d.status, &d.region, &d.size, &d.tags),
    edit: |d| Editable::default()
        .label(&mut d.name)
        .status(&mut d.status)
        .plan(&mut d.size)
        .tags(&mut d.tags)
        .power_status(["off", "active"]),
    observe: |d| if state::countdown(&mut d.pending) && d.status == "new" {
        d.status = "active".to_owned();
    },
);

impl Droplet {
    fn is_gpu(&self) -> bool {
        self.size.starts_with("gpu-")
    }

    /// `networks`: none while the droplet is new and pending.
    fn networks(&self) -> Value {
        let h = self.id & 0xffff;
        if self.pending > 0 && self.status == "new" {
            return json!({"v4": [], "v6": []});
        }
        json!({
            "v4": [
                {"ip_address": state::ip_string(self.private_ip), "netmask": "255.255.240.0",
                 "gateway": "10.116.0.1", "type": "private"},
                {"ip_address": state::ip_string(self.public_ip), "netmask": "255.255.240.0",
                 "gateway": state::ip_string((self.public_ip & !0xff) | 1), "type": "public"}
            ],
            "v6": [
                {"ip_address": format!("2001:db8:4:d0::{h:x}:1"), "netmask": 64,
                 "gateway": "2001:db8:4:d0::1", "type": "public"}
            ]
        })
    }

    pub(super) fn render(&self) -> Value {
        let cat = catalog::digitalocean();
        let size = cat.size(&self.size).cloned().unwrap_or_else(|| {
            json!({"slug": self.size, "memory": 1024, "vcpus": 1, "disk": 25, "transfer": 1.0,
                   "price_monthly": 6.0, "price_hourly": 0.00893, "regions": [], "available": false,
                   "description": "Basic", "disk_info": []})
        });
        let image = cat.image(&self.image).cloned().unwrap_or_else(|| {
            json!({"id": 0, "name": self.image, "distribution": "Unknown", "slug": self.image,
                   "public": false, "regions": [], "created_at": "2025-01-01T00:00:00Z", "type": "custom",
                   "min_disk_size": 0, "size_gigabytes": 0.0, "description": "", "tags": [],
                   "status": "available", "error_message": ""})
        });
        let backups = self.features.iter().any(|f| f == "backups");
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "memory": size.get("memory").cloned().unwrap_or(Value::Null),
            "vcpus": size.get("vcpus").cloned().unwrap_or(Value::Null),
            "disk": size.get("disk").cloned().unwrap_or(Value::Null),
            "disk_info": size.get("disk_info").cloned().unwrap_or_else(|| json!([])),
            "locked": self.pending > 0 && self.status == "new",
            "status": self.status,
            "kernel": null,
            "created_at": time_do(self.created),
            "features": self.features,
            "backup_ids": [],
            "next_backup_window": if backups {
                json!({"start": time_do(self.created + 86_400 * 7), "end": time_do(self.created + 86_400 * 7 + 82_800)})
            } else { Value::Null },
            "snapshot_ids": [],
            "image": image,
            "volume_ids": self.volume_ids.iter().map(Uuid::to_string).collect::<Vec<_>>(),
            "size_slug": self.size,
            "networks": self.networks(),
            "region": region_object(&self.region),
            "tags": self.tags,
            "vpc_uuid": self.vpc.to_string(),
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(gpu) = size.get("gpu_info") {
                obj.insert("gpu_info".to_owned(), gpu.clone());
            }
            obj.insert("size".to_owned(), size);
        }
        v
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(store: &mut Store) {
    for v in catalog::items(catalog::DO_DROPLETS, "droplets") {
        let networks = v
            .get("networks")
            .and_then(|n| n.get("v4"))
            .and_then(Value::as_array);
        let ip_of = |kind: &str| {
            networks
                .and_then(|list| {
                    list.iter()
                        .find(|n| n.get("type").and_then(Value::as_str) == Some(kind))
                })
                .map_or(0, |n| state::parse_ip(&fields::string(n, "ip_address")))
        };
        let image = v.get("image").map(|i| {
            fields::opt_string(i, "slug").unwrap_or_else(|| fields::uint(i, "id").to_string())
        });
        let d = Droplet {
            id: fields::uint(&v, "id"),
            name: fields::string(&v, "name"),
            region: v
                .get("region")
                .map(|r| fields::string(r, "slug"))
                .unwrap_or_default(),
            size: fields::string(&v, "size_slug"),
            image: image.unwrap_or_default(),
            tags: fields::strings(&v, "tags"),
            status: fields::string(&v, "status"),
            created: state::parse_time(&fields::string(&v, "created_at")),
            public_ip: ip_of("public"),
            private_ip: ip_of("private"),
            volume_ids: fields::strings(&v, "volume_ids")
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect(),
            features: fields::strings(&v, "features"),
            vpc: Uuid::parse_str(&fields::string(&v, "vpc_uuid"))
                .unwrap_or_else(|_| Uuid::new_v4()),
            pending: 0,
        };
        store.tags.extend(d.tags.iter().cloned());
        store.droplets.insert(d.key(), d);
    }
}

const BULK_SIZES: &[&str] = &["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb"];

fn bulk(store: &mut Store, slot: Slot) -> Droplet {
    let b = slot.n;
    store.next_droplet += 1;
    Droplet {
        id: store.next_droplet,
        name: format!("bulk-droplet-{b:06}"),
        region: slot.region,
        size: BULK_SIZES[(b as usize) % BULK_SIZES.len()].to_owned(),
        image: "ubuntu-24-04-x64".to_owned(),
        tags: vec!["bulk".to_owned(), format!("team-t{}", b % 10)],
        status: "active".to_owned(),
        created: slot.created,
        public_ip: state::public_ip(slot.seq),
        private_ip: state::private_ip(slot.seq),
        volume_ids: Vec::new(),
        features: vec!["droplet_agent".to_owned(), "private_networking".to_owned()],
        vpc: state::det_uuid(SALT, (b % 10) + 1),
        pending: 0,
    }
}

stored!(Droplet: Kind::Instance, in Store.droplets, render: |d, _s| d.render(), bulk: bulk,
    deleted: detach_volumes, changed: Store::account_tags::<Droplet>);

/// The volumes attached to a removed droplet become detached.
fn detach_volumes(store: &mut Store, droplet: Droplet) {
    state::detach(store.volumes.values_mut(), |v| &mut v.droplet, &droplet.id);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/digitalocean/v2/droplets",
            list_route("droplets", list_droplets).post(create_droplet),
        )
        .route(
            "/digitalocean/v2/droplets/{id}",
            get_one::<Droplet>(Some("droplet"), nf).merge(delete_one::<Droplet>(
                |_| None,
                no_content,
                nf,
            )),
        )
        .route(
            "/digitalocean/v2/droplets/{id}/actions",
            with_body(super::P, MethodFilter::POST, droplet_action),
        )
}

fn list_droplets(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let gpus = match req.query.get("type").map(String::as_str) {
        None | Some("") | Some("droplets") => false,
        Some("gpus") => true,
        Some(_) => return Err(bad("type must be one of: droplets, gpus")),
    };
    let tag = req.query.get("tag_name");
    let name = req.query.get("name");
    if tag.is_some() && (name.is_some() || req.query.contains_key("type")) {
        return Err(bad("tag_name cannot be combined with name or type"));
    }
    let seqs = store.droplets.select(|d| {
        d.is_gpu() == gpus
            && tag.is_none_or(|t| d.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
            && name.is_none_or(|n| d.name.eq_ignore_ascii_case(n))
    });
    let page = paged(
        req.app,
        "/droplets",
        req.query,
        &["tag_name", "name", "type"],
        seqs.len(),
        req.mode,
    )?;
    Ok(store
        .droplets
        .listing(&seqs, page, state::fingerprint, Droplet::render))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
}

/// The droplet names a create asks for: `name`, or `names` (1 to 10).
fn droplet_names(body: &JsonBody) -> Result<Vec<String>, Response> {
    let names: Vec<String> = match (body.get("name"), body.get("names")) {
        (Some(Value::String(n)), None) => vec![n.clone()],
        (None, Some(Value::Array(list))) if !list.is_empty() && list.len() <= 10 => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unprocessable("names must be an array of strings"))?,
        (None, Some(_)) => return Err(unprocessable("names must contain between 1 and 10 names")),
        (Some(_), Some(_)) => return Err(unprocessable("Specify either name or names, not both")),
        _ => return Err(unprocessable("Name is required")),
    };
    if let Some(bad_name) = names.iter().find(|n| !valid_name(n)) {
        return Err(unprocessable(&format!(
            "Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -): {bad_name}"
        )));
    }
    Ok(names)
}

/// What every droplet of one create shares.
struct Spec {
    size: String,
    image: String,
    region: String,
    tags: Vec<String>,
    volumes: Vec<String>,
    features: Vec<String>,
    vpc: Uuid,
}

/// A create's size, image slug and region, checked against the catalog and each other.
fn placement(body: &JsonBody) -> Result<(String, String, String), Response> {
    let cat = catalog::digitalocean();
    let size = body
        .get("size")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("Size is required"))?
        .to_owned();
    let size_obj = cat
        .size(&size)
        .ok_or_else(|| unprocessable("You specified an invalid size for Droplet creation."))?;
    let image = match body.get("image") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(unprocessable("Image is required")),
    };
    let image_slug = cat
        .image(&image)
        .and_then(|i| i.get("slug").and_then(Value::as_str))
        .ok_or_else(|| unprocessable("You specified an invalid image for Droplet creation."))?
        .to_owned();
    let region = body.str("region")?.unwrap_or_else(|| "nyc3".to_owned());
    if cat.region(&region).is_none() {
        return Err(unprocessable(
            "You specified an invalid region for Droplet creation.",
        ));
    }
    let in_region = size_obj
        .get("regions")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(region.as_str())));
    if !in_region {
        return Err(unprocessable("Size is not available in this region."));
    }
    Ok((size, image_slug, region))
}

fn droplet_spec(body: &JsonBody) -> Result<Spec, Response> {
    let (size, image, region) = placement(body)?;
    let tags = str_list(body, "tags")?;
    let _ssh_keys = str_list(body, "ssh_keys")?;
    if body
        .get("user_data")
        .is_some_and(|u| !u.is_string() && !u.is_null())
    {
        return Err(unprocessable("user_data must be a string"));
    }
    let volumes = str_list(body, "volumes")?;
    let mut features = vec!["droplet_agent".to_owned(), "private_networking".to_owned()];
    for (flag, feature) in [
        ("backups", "backups"),
        ("ipv6", "ipv6"),
        ("monitoring", "monitoring"),
    ] {
        if body.get(flag).and_then(Value::as_bool) == Some(true) {
            features.push(feature.to_owned());
        }
    }
    let vpc = match body.get("vpc_uuid").and_then(Value::as_str) {
        Some(v) => Uuid::parse_str(v).map_err(|_| unprocessable("vpc_uuid is not a valid UUID"))?,
        None => state::det_uuid(SALT, region.len() as u64 + u64::from(region.as_bytes()[0])),
    };
    Ok(Spec {
        size,
        image,
        region,
        tags,
        volumes,
        features,
        vpc,
    })
}

async fn create_droplet(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(super::P, &body)?;
    let names = droplet_names(&body)?;
    let spec = droplet_spec(&body)?;
    let lc = app.lifecycle;
    let mut st = app.state();
    let tags = store(&mut st).inline_tags(spec.tags.clone())?;
    let mut droplets = Vec::new();
    let mut actions = Vec::new();
    for name in names {
        let seq = st.next_seq();
        let store = store(&mut st);
        store.next_droplet += 1;
        let volume_ids = store.attach_new(&spec.volumes, &spec.region, store.next_droplet);
        let mut d = Droplet {
            id: store.next_droplet,
            name,
            region: spec.region.clone(),
            size: spec.size.clone(),
            image: spec.image.clone(),
            tags: tags.clone(),
            status: "new".to_owned(),
            created: state::now(),
            public_ip: state::public_ip(seq),
            private_ip: state::private_ip(seq),
            volume_ids,
            features: spec.features.clone(),
            vpc: spec.vpc,
            pending: lc.pending_polls.max(1),
        };
        droplets.push(d.render());
        if lc.pending_polls == 0 {
            d.observe();
        }
        let action = store.new_action("create", Some(d.id), "droplet", &spec.region, lc);
        let action_id = action.get("id").cloned().unwrap_or(Value::Null);
        actions.push(json!({
            "id": action_id,
            "rel": "create",
            "href": format!("{}{PREFIX}/actions/{}", app.base, action_id),
        }));
        store.droplets.insert(d.key(), d);
    }
    let body = if droplets.len() == 1 && body.get("names").is_none() {
        json!({"droplet": droplets.pop(), "links": {"actions": actions}})
    } else {
        json!({"droplets": droplets, "links": {"actions": actions}})
    };
    Ok(json(StatusCode::ACCEPTED, &body))
}

/// `resize`: only while off; with `disk: true` the new size's disk may not be smaller.
fn resize(d: &mut Droplet, body: &JsonBody) -> Result<(), Response> {
    let size = body
        .get("size")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("Size is required"))?;
    let cat = catalog::digitalocean();
    let new = cat
        .size(size)
        .ok_or_else(|| unprocessable("You specified an invalid size for Droplet resize."))?;
    if d.status != "off" {
        return Err(unprocessable(
            "Droplet is currently on. Please power it off to run this event.",
        ));
    }
    let disk_of = |v: &Value| v.get("disk").and_then(Value::as_u64).unwrap_or(0);
    let old_disk = cat.size(&d.size).map_or(0, disk_of);
    let resize_disk = body.get("disk").and_then(Value::as_bool) == Some(true);
    if resize_disk && disk_of(new) < old_disk {
        return Err(unprocessable(
            "This size is not available because it has a smaller disk.",
        ));
    }
    d.size = size.to_owned();
    Ok(())
}

/// Turn a feature on (once).
fn enable(d: &mut Droplet, feature: &str) {
    if !d.features.iter().any(|f| f == feature) {
        d.features.push(feature.to_owned());
    }
}

fn droplet_action(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("Action type is required"))?
        .to_owned();
    let lc = app.lifecycle;
    let mut st = app.state();
    let store = store(&mut st);
    let d = store.droplets.get_mut(id).ok_or_else(nf)?;
    if d.pending > 0 && d.status == "new" {
        return Err(unprocessable("Droplet already has a pending event."));
    }
    match kind.as_str() {
        // DigitalOcean refuses a power action that would not change the state (422).
        "power_off" | "shutdown" if d.status == "off" => {
            return Err(unprocessable("Droplet is already powered off."));
        }
        "power_on" if d.status == "active" => {
            return Err(unprocessable("Droplet is already powered on."));
        }
        "power_off" | "shutdown" => d.status = "off".to_owned(),
        "power_on" => d.status = "active".to_owned(),
        "reboot" | "power_cycle" | "password_reset" => {}
        "rename" => {
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| unprocessable("Name is required"))?;
            if !valid_name(name) {
                return Err(unprocessable(
                    "Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)",
                ));
            }
            d.name = name.to_owned();
        }
        "resize" => resize(d, body)?,
        "enable_backups" => enable(d, "backups"),
        "disable_backups" => d.features.retain(|f| f != "backups"),
        "enable_ipv6" => enable(d, "ipv6"),
        _ => return Err(unprocessable(&format!("{kind} is not a valid action type"))),
    }
    let (droplet_id, region) = (d.id, d.region.clone());
    let action = store.new_action(&kind, Some(droplet_id), "droplet", &region, lc);
    Ok(json(StatusCode::CREATED, &wrap("action", action)))
}
