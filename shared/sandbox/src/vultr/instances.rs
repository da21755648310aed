//! Vultr instances (`/instances`): the stored instance and its JSON, its fixtures and bulk
//! generation, out-of-band changes, and the list / create / get / update / delete handlers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{P, SALT, Store, bad, parse_uuid, present, region_field, secret_seq, store};
use crate::catalog::{self, VULTR_PLANS};
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, error, json, no_content, wrap};
use crate::pagination::{self};
use crate::server::App;
use crate::state::{self, Slot, State as AppState, fields, time_vultr};
use crate::{Kind, SECRET_MARKER};
use axum::routing::{MethodFilter, post};

#[derive(Debug, Hash)]
pub(crate) struct Instance {
    pub(super) id: Uuid,
    pub(super) label: String,
    hostname: String,
    pub(super) region: String,
    plan: String,
    os_id: u32,
    app_id: u32,
    image_id: String,
    snapshot_id: String,
    pub(super) main_ip: u32,
    internal_ip: u32,
    created: i64,
    status: String,
    power_status: String,
    server_status: String,
    tags: Vec<String>,
    features: Vec<String>,
    firewall_group_id: String,
    user_scheme: String,
    seq: u64,
    pending: u32,
    /// Polls until a power action lands: `power_status` turns to `power_target` then.
    power_pending: u32,
    power_target: String,
}

resource!(
    Instance,
    key: |i| i.id.to_string(),
    label: label,
    summary: |i| (&i.status, &i.region, &i.plan, &i.tags),
    edit: |i| Editable::default()
        .label(&mut i.label)
        .status(&mut i.status)
        .plan(&mut i.plan)
        .tags(&mut i.tags)
        .power(&mut i.power_status, ["stopped", "running"]),
    observe: |i| {
        if state::countdown(&mut i.pending) {
            i.status = "active".to_owned();
            i.power_status = "running".to_owned();
            i.server_status = "ok".to_owned();
        }
        if state::countdown(&mut i.power_pending) {
            i.power_status = std::mem::take(&mut i.power_target);
        }
    },
);

impl Instance {
    /// What `os` says: the source the instance was deployed from, or its OS's name.
    fn os(&self) -> &'static str {
        if self.app_id != 0 {
            "Application"
        } else if !self.snapshot_id.is_empty() {
            "Snapshot"
        } else if !self.image_id.is_empty() {
            "Custom"
        } else {
            catalog::vultr_os_name(self.os_id)
        }
    }

    pub(super) fn render(&self) -> Value {
        let plan = catalog::vultr_plan(&self.plan);
        let (vcpus, ram, disk, bw) = plan.map_or((1, 1024, 25, 1024), |p| {
            (p.vcpus, p.ram_mb, p.disk_gb, p.bandwidth_gb)
        });
        let installing = self.pending > 0;
        let (main_ip, gateway, netmask, internal, v6net, v6ip) = if installing {
            (
                "0.0.0.0".to_owned(),
                "0.0.0.0".to_owned(),
                "",
                String::new(),
                String::new(),
                String::new(),
            )
        } else {
            let h = self.seq & 0xffff;
            (
                state::ip_string(self.main_ip),
                state::ip_string((self.main_ip & !0xff) | 1),
                "255.255.254.0",
                state::ip_string(self.internal_ip),
                format!("2001:db8:5400:{h:x}::"),
                format!("2001:db8:5400:{h:x}:5400:4ff:fe00:{h:x}"),
            )
        };
        json!({
            "id": self.id.to_string(),
            "os": self.os(),
            "ram": ram,
            "disk": disk,
            "plan": self.plan,
            "main_ip": main_ip,
            "vpc_only": false,
            "vcpu_count": vcpus,
            "region": self.region,
            "default_password": format!("{SECRET_MARKER}pw-{}", self.seq),
            "date_created": time_vultr(self.created),
            "status": self.status,
            "allowed_bandwidth": bw,
            "netmask_v4": netmask,
            "gateway_v4": gateway,
            "power_status": self.power_status,
            "server_status": self.server_status,
            "v6_network": v6net,
            "v6_main_ip": v6ip,
            "v6_network_size": if installing { 0 } else { 64 },
            "label": self.label,
            "internal_ip": internal,
            "kvm": format!("https://my.vultr.com/subs/vps/novnc/api.php?data={SECRET_MARKER}kvm-{}", self.seq),
            "hostname": self.hostname,
            "os_id": self.os_id,
            "app_id": self.app_id,
            "image_id": self.image_id,
            "snapshot_id": self.snapshot_id,
            "firewall_group_id": self.firewall_group_id,
            "features": self.features,
            "tags": self.tags,
            "user_scheme": self.user_scheme,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(st: &mut AppState) {
    for v in catalog::items(catalog::VULTR_INSTANCES, "instances") {
        let seq =
            secret_seq(&fields::string(&v, "default_password")).unwrap_or_else(|| st.next_seq());
        let i = Instance {
            id: parse_uuid(&fields::string(&v, "id")),
            label: fields::string(&v, "label"),
            hostname: fields::string(&v, "hostname"),
            region: fields::string(&v, "region"),
            plan: fields::string(&v, "plan"),
            os_id: u32::try_from(fields::uint(&v, "os_id")).unwrap_or(0),
            app_id: u32::try_from(fields::uint(&v, "app_id")).unwrap_or(0),
            image_id: fields::string(&v, "image_id"),
            snapshot_id: fields::string(&v, "snapshot_id"),
            main_ip: state::parse_ip(&fields::string(&v, "main_ip")),
            internal_ip: state::parse_ip(&fields::string(&v, "internal_ip")),
            created: state::parse_time(&fields::string(&v, "date_created")),
            status: fields::string(&v, "status"),
            power_status: fields::string(&v, "power_status"),
            server_status: fields::string(&v, "server_status"),
            tags: fields::strings(&v, "tags"),
            features: fields::strings(&v, "features"),
            firewall_group_id: fields::string(&v, "firewall_group_id"),
            user_scheme: fields::string(&v, "user_scheme"),
            seq,
            pending: 0,
            power_pending: 0,
            power_target: String::new(),
        };
        store(st).instances.insert(i.id.to_string(), i);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> Instance {
    let b = slot.n;
    let label = format!("bulk-vm-{b:06}");
    Instance {
        id: state::det_uuid(SALT, b),
        hostname: label.clone(),
        label,
        region: slot.region,
        plan: VULTR_PLANS[(b as usize) % 6].id.to_owned(),
        os_id: 2284,
        app_id: 0,
        image_id: String::new(),
        snapshot_id: String::new(),
        main_ip: state::public_ip(slot.seq),
        internal_ip: state::private_ip(slot.seq),
        created: slot.created,
        status: "active".to_owned(),
        power_status: "running".to_owned(),
        server_status: "ok".to_owned(),
        tags: vec!["bulk".to_owned(), format!("team:t{}", b % 10)],
        features: Vec::new(),
        firewall_group_id: String::new(),
        user_scheme: "root".to_owned(),
        seq: slot.seq,
        pending: 0,
        power_pending: 0,
        power_target: String::new(),
    }
}

stored!(Instance: Kind::Instance, in Store.instances, render: |i, _s| i.render(), bulk: bulk,
    deleted: detach_blocks);

/// The blocks attached to a removed instance become detached.
fn detach_blocks(store: &mut Store, instance: Instance) {
    state::detach(store.blocks.values_mut(), |b| &mut b.attached, &instance.id);
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/vultr/v2/instances",
            list_route("instances", list_instances).post(create_instance),
        )
        .route(
            "/vultr/v2/instances/{id}",
            get_one::<Instance>(Some("instance"), instance_404)
                .merge(with_body(P, MethodFilter::PATCH, update_instance))
                .merge(delete_one::<Instance>(|_| None, no_content, instance_404)),
        )
        .route("/vultr/v2/instances/{id}/start", post(start_instance))
        .route("/vultr/v2/instances/{id}/halt", post(halt_instance))
        .route("/vultr/v2/instances/{id}/reboot", post(reboot_instance))
}

fn instance_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "instance not found")
}

fn list_instances(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let (label, tag, region, ip) = (
        req.query.get("label"),
        req.query.get("tag"),
        req.query.get("region"),
        req.query.get("main_ip"),
    );
    let seqs = store.instances.select(|i| {
        label.is_none_or(|l| &i.label == l)
            && tag.is_none_or(|t| i.tags.contains(t))
            && region.is_none_or(|r| &i.region == r)
            && ip.is_none_or(|a| state::ip_string(i.main_ip) == *a)
    });
    let page = pagination::vultr(seqs.len(), req.query, req.mode).map_err(|msg| bad(&msg))?;
    Ok(store
        .instances
        .listing(&seqs, page, state::fingerprint, Instance::render))
}

/// The one deploy source a create names (`os_id`, `iso_id`, `snapshot_id`, `app_id` or
/// `image_id`), checked; returns the `os_id` (0 when the source is another).
fn deploy_source(body: &JsonBody) -> Result<u64, Response> {
    let sources = ["os_id", "iso_id", "snapshot_id", "app_id", "image_id"]
        .iter()
        .filter(|k| present(body, k))
        .count();
    if sources == 0 {
        return Err(bad(
            "You must provide one of os_id, iso_id, snapshot_id, app_id, or image_id.",
        ));
    }
    if sources > 1 {
        return Err(bad(
            "Too many deploy options have been selected. Choose only one of os_id, iso_id, snapshot_id, app_id, or image_id.",
        ));
    }
    let os_id = body.get("os_id").and_then(Value::as_u64).unwrap_or(0);
    if present(body, "os_id")
        && !catalog::VULTR_OS
            .iter()
            .any(|(id, _)| u64::from(*id) == os_id)
    {
        return Err(bad("Invalid operating system."));
    }
    Ok(os_id)
}

/// `user_data` must be base64; `sshkey_id` takes the ids of the account's SSH keys (UUIDs), not
/// names or fingerprints.
fn check_boot_inputs(body: &JsonBody) -> Result<(), Response> {
    if let Some(data) = body.str("user_data")?
        && base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .is_err()
    {
        return Err(bad("Invalid user_data: must be base64 encoded."));
    }
    if let Some(keys) = body.strings("sshkey_id")?
        && keys.iter().any(|k| uuid::Uuid::parse_str(k).is_err())
    {
        return Err(bad("Invalid SSH key ID."));
    }
    Ok(())
}

/// The `features` a create's flags turn on.
fn requested_features(body: &JsonBody) -> Result<Vec<String>, Response> {
    let mut features = Vec::new();
    if body.get("enable_ipv6").and_then(Value::as_bool) == Some(true) {
        features.push("ipv6".to_owned());
    }
    if body.str("backups")?.as_deref() == Some("enabled") {
        features.push("auto_backups".to_owned());
    }
    if body.get("ddos_protection").and_then(Value::as_bool) == Some(true) {
        features.push("ddos_protection".to_owned());
    }
    Ok(features)
}

async fn create_instance(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let region = region_field(&body)?;
    let plan = body
        .str("plan")?
        .ok_or_else(|| bad("Missing required parameter: plan"))?;
    if catalog::vultr_plan(&plan).is_none() {
        return Err(bad("Invalid plan."));
    }
    let os_id = deploy_source(&body)?;
    check_boot_inputs(&body)?;
    let label = body.str("label")?.unwrap_or_default();
    let hostname = body.str("hostname")?.unwrap_or_else(|| {
        if label.is_empty() {
            "vultr-guest".to_owned()
        } else {
            label.clone()
        }
    });
    let tags = body.strings("tags")?.unwrap_or_default();
    let features = requested_features(&body)?;
    let mut st = app.state();
    let seq = st.next_seq();
    let pending = app.lifecycle.pending_polls;
    let inst = Instance {
        id: Uuid::new_v4(),
        label,
        hostname,
        region,
        plan,
        os_id: u32::try_from(os_id).unwrap_or(0),
        app_id: u32::try_from(body.get("app_id").and_then(Value::as_u64).unwrap_or(0)).unwrap_or(0),
        image_id: body.str("image_id")?.unwrap_or_default(),
        snapshot_id: body.str("snapshot_id")?.unwrap_or_default(),
        main_ip: state::public_ip(seq),
        internal_ip: state::private_ip(seq),
        created: state::now(),
        status: "pending".to_owned(),
        power_status: "stopped".to_owned(),
        server_status: "installingbooting".to_owned(),
        tags,
        features,
        firewall_group_id: body.str("firewall_group_id")?.unwrap_or_default(),
        user_scheme: body
            .str("user_scheme")?
            .unwrap_or_else(|| "root".to_owned()),
        seq,
        pending: pending.max(1),
        power_pending: 0,
        power_target: String::new(),
    };
    let rendered = store(&mut st)
        .instances
        .create(inst, pending, Instance::render);
    Ok(json(StatusCode::ACCEPTED, &wrap("instance", rendered)))
}

fn update_instance(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let plan = body.str("plan")?;
    let label = body.str("label")?;
    let tags = body.strings("tags")?;
    let mut st = app.state();
    let i = store(&mut st)
        .instances
        .get_mut(id)
        .ok_or_else(instance_404)?;
    if let Some(plan) = plan {
        let new = catalog::vultr_plan(&plan).ok_or_else(|| bad("Invalid plan."))?;
        if let Some(old) = catalog::vultr_plan(&i.plan)
            && new.disk_gb < old.disk_gb
        {
            return Err(bad(
                "Unable to downgrade: the new plan's disk is smaller than the current plan's.",
            ));
        }
        i.plan = plan;
    }
    if let Some(label) = label {
        i.label = label;
    }
    if let Some(tags) = tags {
        i.tags = tags;
    }
    Ok(json(StatusCode::ACCEPTED, &wrap("instance", i.render())))
}

/// A power action ([vultr-spec] start-instance, halt-instance, reboot-instance: no body, 204):
/// `power_status` becomes `target` after the configured polls, like a build. An instance still
/// installing, or with another power action under way, is refused with a 400 as Vultr refuses a
/// locked server.
fn power(app: &App, id: &str, target: &str) -> Result<Response, Response> {
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let i = store(&mut st)
        .instances
        .get_mut(id)
        .ok_or_else(instance_404)?;
    if i.pending > 0 || i.power_pending > 0 {
        return Err(bad(
            "Unable to change the power state: the server is locked while an operation is in progress.",
        ));
    }
    if pending > 0 {
        i.power_pending = pending;
        // Vultr has no transitional power status: the old one shows until the action lands.
        target.clone_into(&mut i.power_target);
    } else {
        target.clone_into(&mut i.power_status);
    }
    Ok(no_content())
}

async fn start_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "running")
}

async fn halt_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "stopped")
}

async fn reboot_instance(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    power(&app, &id, "running")
}
