//! Linodes (`/linode/instances`): the stored instance and its JSON, its `X-Filter` fields, its
//! fixtures and bulk generation, out-of-band changes, and the handlers (list, create, get,
//! update, delete, resize, boot, reboot, shutdown).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use super::filter::{self, Field, Filterable};
use super::{P, Store, bad, check_region, field_err, nf, ok_empty, store};
use crate::Kind;
use crate::catalog::{self, LINODE_TYPES};
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, json};
use crate::server::App;
use crate::state::{self, Change, Resource, Slot, fields, time_linode};
use axum::routing::MethodFilter;

#[derive(Debug, Hash)]
pub(crate) struct Instance {
    id: u64,
    pub(super) label: String,
    pub(super) region: String,
    ltype: String,
    image: Option<String>,
    status: String,
    /// Status reached once `pending` observations have passed.
    target: String,
    tags: Vec<String>,
    created: i64,
    updated: i64,
    public_ip: u32,
    private_ip: u32,
    backups: bool,
    /// Disk space allocated to the Linode's disks (MB): the plan's at creation; it follows a
    /// resize only when the resize allows `allow_auto_disk_resize` (Linode's default).
    disk_mb: u64,
    pending: u32,
}

/// The disk (MB) of a Linode type; unknown types have the smallest plan's.
fn type_disk_mb(ltype: &str) -> u64 {
    catalog::linode_type(ltype).map_or(25600, |t| u64::from(t.disk_mb))
}

resource!(
    Instance,
    key: |i| i.id.to_string(),
    label: label,
    summary: |i| (&i.status, &i.region, &i.ltype, &i.tags),
    edit: |i| Editable::default()
        .label(&mut i.label)
        .status(&mut i.status)
        .plan(&mut i.ltype)
        .tags(&mut i.tags)
        .power_status(["offline", "running"]),
    observe: |i| if state::countdown(&mut i.pending) {
        i.status = std::mem::take(&mut i.target);
        i.updated = state::now().max(i.created);
    },
);

impl Instance {
    pub(super) fn render(&self) -> Value {
        let t = catalog::linode_type(&self.ltype);
        let (disk, memory, vcpus, gpus, transfer) = t.map_or((25600, 1024, 1, 0, 1000), |t| {
            (t.disk_mb, t.memory_mb, t.vcpus, t.gpus, t.transfer_gb)
        });
        let h = self.id & 0xffff;
        json!({
            "id": self.id,
            "label": self.label,
            "group": "",
            "status": self.status,
            "created": time_linode(self.created),
            "updated": time_linode(self.updated),
            "type": self.ltype,
            "image": self.image,
            "region": self.region,
            "site_type": "core",
            "ipv4": [state::ip_string(self.public_ip), state::ip_string(self.private_ip)],
            "ipv6": format!("2600:3c03::f03c:95ff:fe{:02x}:{h:04x}/128", self.id & 0xff),
            "specs": {"disk": disk, "memory": memory, "vcpus": vcpus, "gpus": gpus,
                      "transfer": transfer, "accelerated_devices": 0},
            "alerts": {"cpu": vcpus * 90, "io": 10000, "network_in": 10, "network_out": 10,
                       "transfer_quota": 80},
            "backups": {
                "enabled": self.backups,
                "available": self.backups,
                "schedule": {"day": if self.backups { json!("Saturday") } else { Value::Null },
                             "window": if self.backups { json!("W22") } else { Value::Null }},
                "last_successful": Value::Null,
            },
            "hypervisor": "kvm",
            "watchdog_enabled": true,
            "tags": self.tags,
            "host_uuid": format!("3a3ddd59d9a78bb8de041391075df44de62b{h:04x}"),
            "has_user_data": false,
            "placement_group": null,
            "disk_encryption": "enabled",
            "lke_cluster_id": null,
            "capabilities": ["Block Storage Encryption"],
            "interface_generation": "legacy_config",
            "maintenance_policy": "linode/migrate",
        })
    }
}

impl Filterable for Instance {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "id" => Field::Num(self.id),
            "label" => Field::Str(&self.label),
            "region" => Field::Str(&self.region),
            "type" => Field::Str(&self.ltype),
            "status" => Field::Str(&self.status),
            "image" => Field::OptStr(self.image.as_deref()),
            "tags" => Field::Tags(&self.tags),
            "group" => Field::Str(""),
            "created" => Field::Num(u64::try_from(self.created).unwrap_or(0)),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(store: &mut Store) {
    for v in catalog::items(catalog::LINODE_INSTANCES, "data") {
        let ips = fields::strings(&v, "ipv4");
        let i = Instance {
            id: fields::uint(&v, "id"),
            label: fields::string(&v, "label"),
            region: fields::string(&v, "region"),
            ltype: fields::string(&v, "type"),
            image: fields::opt_string(&v, "image"),
            status: fields::string(&v, "status"),
            target: String::new(),
            tags: fields::strings(&v, "tags"),
            created: state::parse_time(&fields::string(&v, "created")),
            updated: state::parse_time(&fields::string(&v, "updated")),
            public_ip: ips.first().map_or(0, |s| state::parse_ip(s)),
            private_ip: ips.get(1).map_or(0, |s| state::parse_ip(s)),
            backups: v
                .get("backups")
                .and_then(|b| b.get("enabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            disk_mb: type_disk_mb(&fields::string(&v, "type")),
            pending: 0,
        };
        store.instances.insert(i.key(), i);
    }
}

fn bulk(store: &mut Store, slot: Slot) -> Instance {
    let b = slot.n;
    store.next_instance += 1;
    Instance {
        id: store.next_instance,
        label: format!("bulk-linode-{b:06}"),
        region: slot.region,
        ltype: LINODE_TYPES[(b as usize) % 3].id.to_owned(),
        disk_mb: u64::from(LINODE_TYPES[(b as usize) % 3].disk_mb),
        image: Some("linode/ubuntu24.04".to_owned()),
        status: "running".to_owned(),
        target: String::new(),
        tags: vec!["bulk".to_owned(), format!("team:t{}", b % 10)],
        created: slot.created,
        updated: slot.created,
        public_ip: state::public_ip(slot.seq),
        private_ip: state::private_ip(slot.seq),
        backups: false,
        pending: 0,
    }
}

stored!(Instance: Kind::Instance, in Store.instances, render: |i, _s| i.render(), bulk: bulk,
    deleted: detach_volumes, changed: touch);

/// The volumes attached to a removed Linode become detached.
fn detach_volumes(store: &mut Store, linode: Instance) {
    state::detach(store.volumes.values_mut(), |v| &mut v.linode_id, &linode.id);
}

/// Every out-of-band change but a tag change moves `updated`.
fn touch(store: &mut Store, key: &str, change: &Change) {
    if let Some(i) = store.instances.get_mut(key)
        && !change.is_tag_change()
    {
        i.updated = state::now();
    }
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/linode/v4/linode/instances",
            list_route("data", list_instances).post(create_instance),
        )
        .route(
            "/linode/v4/linode/instances/{id}",
            get_one::<Instance>(None, nf)
                .merge(with_body(P, MethodFilter::PUT, update_instance))
                .merge(delete_one::<Instance>(|_| None, ok_empty, nf)),
        )
        .route(
            "/linode/v4/linode/instances/{id}/resize",
            with_body(P, MethodFilter::POST, resize_instance),
        )
        .route("/linode/v4/linode/instances/{id}/boot", post(boot_instance))
        .route(
            "/linode/v4/linode/instances/{id}/reboot",
            post(reboot_instance),
        )
        .route(
            "/linode/v4/linode/instances/{id}/shutdown",
            post(shutdown_instance),
        )
}

/// One OpenSSH public key line (`<type> <base64> [comment]`), as `authorized_keys` takes them.
fn public_key(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
        return false;
    };
    !line.contains(['\n', '\r'])
        && (kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-"))
        && base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .is_ok_and(|raw| raw.len() > 4)
}

/// [linode-spec] `Linode.label`: `^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$`, 3 to 64.
fn valid_label(label: &str) -> bool {
    (3..=64).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && !label.contains("--")
        && !label.contains("__")
        && !label.contains("..")
}

fn label_err() -> Response {
    field_err(
        "label",
        "Label must be 3-64 characters, start with a letter or number, and contain only letters, numbers, dashes, underscores and periods",
    )
}

fn unique_label_err() -> Response {
    field_err("label", "Label must be unique among your linodes")
}

fn type_field(body: &JsonBody) -> Result<String, Response> {
    let ltype = body
        .str("type")?
        .ok_or_else(|| field_err("type", "type is required"))?;
    if catalog::linode_type(&ltype).is_none() {
        return Err(field_err(
            "type",
            "A valid plan type by that ID was not found",
        ));
    }
    Ok(ltype)
}

fn list_instances(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let filter = filter::parse_filter(req.headers)?;
    filter::list(
        &mut store.instances,
        &filter,
        (req.query, req.mode),
        state::fingerprint,
        Instance::render,
    )
}

/// `stackscript_id`, if given: an existing StackScript that runs on the image deployed, which it
/// needs ([linode-spec] CreateLinode: "an image is required" with a StackScript).
fn check_stackscript(body: &JsonBody, image: Option<&str>) -> Result<(), Response> {
    let Some(raw) = body.get("stackscript_id").filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let id = raw
        .as_u64()
        .ok_or_else(|| field_err("stackscript_id", "stackscript_id must be an integer"))?;
    let images = super::catalogs::stackscript_images(id)
        .ok_or_else(|| field_err("stackscript_id", "StackScript not found"))?;
    let Some(image) = image else {
        return Err(field_err(
            "image",
            "image is required when deploying from a StackScript",
        ));
    };
    if !images.iter().any(|i| *i == "any/all" || *i == image) {
        return Err(field_err(
            "image",
            "image is not compatible with this StackScript",
        ));
    }
    Ok(())
}

/// The image a create deploys, if any: a Linode or private image, which needs a `root_pass`.
fn image_field(body: &JsonBody) -> Result<Option<String>, Response> {
    let image = body.str("image")?;
    if let Some(image) = &image {
        if !(image.starts_with("linode/") || image.starts_with("private/")) {
            return Err(field_err("image", "image is not valid"));
        }
        let pass = body.str("root_pass")?.ok_or_else(|| {
            field_err(
                "root_pass",
                "root_pass is required when creating a Linode from an image",
            )
        })?;
        if !(11..=128).contains(&pass.chars().count()) {
            return Err(field_err("root_pass", "Length must be 11-128 characters"));
        }
    }
    Ok(image)
}

/// `metadata.user_data` must be base64; `authorized_keys` must be public key lines.
fn check_boot_inputs(body: &JsonBody) -> Result<(), Response> {
    if let Some(meta) = body.get("metadata")
        && let Some(data) = meta.get("user_data").and_then(Value::as_str)
        && base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .is_err()
    {
        return Err(field_err(
            "metadata.user_data",
            "user_data must be base64-encoded",
        ));
    }
    if let Some(keys) = body.get("authorized_keys") {
        let lines = keys.as_array().ok_or_else(|| {
            field_err(
                "authorized_keys",
                "authorized_keys must be an array of public keys",
            )
        })?;
        if !lines.iter().all(|k| k.as_str().is_some_and(public_key)) {
            return Err(field_err(
                "authorized_keys",
                "Invalid SSH key: expected a public key such as \"ssh-ed25519 AAAA... comment\"",
            ));
        }
    }
    Ok(())
}

async fn create_instance(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let region = body
        .str("region")?
        .ok_or_else(|| field_err("region", "region is required"))?;
    check_region(&region)?;
    let ltype = type_field(&body)?;
    let image = image_field(&body)?;
    check_stackscript(&body, image.as_deref())?;
    check_boot_inputs(&body)?;
    let tags = body.strings("tags")?.unwrap_or_default();
    let label = body.str("label")?;
    if label.as_ref().is_some_and(|l| !valid_label(l)) {
        return Err(label_err());
    }
    let booted = body.get("booted").and_then(Value::as_bool).unwrap_or(true);
    let backups = body
        .get("backups_enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut st = app.state();
    let seq = st.next_seq();
    let store = store(&mut st);
    if let Some(l) = &label
        && store.instances.values().any(|i| &i.label == l)
    {
        return Err(unique_label_err());
    }
    store.next_instance += 1;
    let id = store.next_instance;
    let pending = app.lifecycle.pending_polls;
    let now = state::now();
    let disk_mb = type_disk_mb(&ltype);
    let inst = Instance {
        id,
        label: label.unwrap_or_else(|| format!("linode{id}")),
        region,
        ltype,
        target: if image.is_some() && booted {
            "running"
        } else {
            "offline"
        }
        .to_owned(),
        image,
        status: "provisioning".to_owned(),
        tags,
        created: now,
        updated: now,
        public_ip: state::public_ip(seq),
        private_ip: state::private_ip(seq),
        backups,
        disk_mb,
        pending: pending.max(1),
    };
    let rendered = store.instances.create(inst, pending, Instance::render);
    Ok(json(StatusCode::OK, &rendered))
}

fn update_instance(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let label = body.str("label")?;
    let tags = body.strings("tags")?;
    let mut st = app.state();
    let store = store(&mut st);
    if !store.instances.contains(id) {
        return Err(nf());
    }
    if let Some(l) = &label {
        if !valid_label(l) {
            return Err(label_err());
        }
        if store
            .instances
            .values()
            .any(|i| &i.label == l && i.id.to_string() != id)
        {
            return Err(unique_label_err());
        }
    }
    let i = store.instances.get_mut(id).ok_or_else(nf)?;
    if let Some(l) = label {
        i.label = l;
    }
    if let Some(t) = tags {
        i.tags = t;
    }
    i.updated = state::now();
    Ok(json(StatusCode::OK, &i.render()))
}

fn busy(i: &Instance) -> bool {
    i.pending > 0
}

/// `allow_auto_disk_resize` (default true), and a `migration_type` of `cold` or `warm`.
fn resize_options(body: &JsonBody) -> Result<bool, Response> {
    let auto_disk = match body.get("allow_auto_disk_resize") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(field_err("allow_auto_disk_resize", "Must be a boolean"));
        }
    };
    if let Some(m) = body.get("migration_type")
        && !matches!(m.as_str(), Some("cold" | "warm"))
    {
        return Err(field_err("migration_type", "Must be one of cold, warm"));
    }
    Ok(auto_disk)
}

fn resize_instance(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let ltype = type_field(body)?;
    let auto_disk = resize_options(body)?;
    let new_disk = type_disk_mb(&ltype);
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let i = store(&mut st).instances.get_mut(id).ok_or_else(nf)?;
    if busy(i) {
        return Err(bad("Linode busy."));
    }
    if i.ltype == ltype {
        return Err(field_err(
            "type",
            "Linode is already running this service plan.",
        ));
    }
    if i.disk_mb > new_disk {
        return Err(field_err(
            "type",
            "Linode has allocated more disk than the new service plan allows. Delete or resize disks smaller.",
        ));
    }
    if auto_disk {
        i.disk_mb = new_disk;
    }
    i.ltype = ltype;
    // Linode reports a resize as a migration: `migrating` until the Linode is back.
    if pending > 0 {
        i.target = std::mem::replace(&mut i.status, "migrating".to_owned());
        i.pending = pending;
    }
    i.updated = state::now();
    Ok(ok_empty())
}

/// A power action: `transit` for the configured polls, then `target`.
fn power(app: &App, id: &str, transit: &str, target: &str) -> Result<Response, Response> {
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let i = store(&mut st).instances.get_mut(id).ok_or_else(nf)?;
    if busy(i) {
        return Err(bad("Linode busy."));
    }
    if pending > 0 {
        i.status = transit.to_owned();
        i.target = target.to_owned();
        i.pending = pending;
    } else {
        i.status = target.to_owned();
    }
    i.updated = state::now();
    Ok(ok_empty())
}

async fn boot_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "booting", "running")
}

async fn reboot_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "rebooting", "running")
}

async fn shutdown_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "shutting_down", "offline")
}
