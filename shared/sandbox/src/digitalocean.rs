//! DigitalOcean API v2 under `/digitalocean/v2`: account, droplets (+ actions),
//! actions, tags, volumes (+ actions) and the region/size/image catalogs, with
//! page/per_page pagination (≤ 200) and absolute `links.pages` URLs pointing back
//! at the sandbox, `{"id": "...", "message": "..."}` errors, `ratelimit-*` headers
//! on every response, and GPU droplets omitted from the default listing.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::catalog;
use crate::emulation::{Emulation, RateHeaders};
use crate::http::{body_object, empty, error, json, list_json, not_found};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{
    self, Change, Lifecycle, Mutation, ResourceSummary, State as AppState, Table, apply_tag_change,
    fields, time_do,
};
use crate::{Kind, Provider, SandboxError};

const P: Provider = Provider::Digitalocean;
const SALT: u64 = 0x444f_5631;
const PREFIX: &str = "/digitalocean/v2";

#[derive(Debug, Hash)]
pub(crate) struct Droplet {
    id: u64,
    name: String,
    region: String,
    size: String,
    image: String,
    tags: Vec<String>,
    status: String,
    created: i64,
    public_ip: u32,
    private_ip: u32,
    volume_ids: Vec<Uuid>,
    features: Vec<String>,
    vpc: Uuid,
    pending: u32,
}

impl Droplet {
    fn is_gpu(&self) -> bool {
        self.size.starts_with("gpu-")
    }

    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 && self.status == "new" {
                self.status = "active".to_owned();
            }
        }
    }

    fn render(&self) -> Value {
        let cat = catalog::digitalocean();
        let size = cat.size(&self.size).cloned().unwrap_or_else(|| {
            json!({"slug": self.size, "memory": 1024, "vcpus": 1, "disk": 25, "transfer": 1.0,
                   "price_monthly": 6.0, "price_hourly": 0.00893, "regions": [], "available": false,
                   "description": "Basic", "disk_info": []})
        });
        let region = cat.region(&self.region).cloned().unwrap_or_else(|| {
            json!({"name": self.region, "slug": self.region, "features": [], "available": true, "sizes": []})
        });
        let image = cat.image(&self.image).cloned().unwrap_or_else(|| {
            json!({"id": 0, "name": self.image, "distribution": "Unknown", "slug": self.image,
                   "public": false, "regions": [], "created_at": "2025-01-01T00:00:00Z", "type": "custom",
                   "min_disk_size": 0, "size_gigabytes": 0.0, "description": "", "tags": [],
                   "status": "available", "error_message": ""})
        });
        let h = self.id & 0xffff;
        let networks = if self.pending > 0 && self.status == "new" {
            json!({"v4": [], "v6": []})
        } else {
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
        };
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
            "networks": networks,
            "region": region,
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.name.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.size.clone(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Hash)]
pub(crate) struct Volume {
    id: Uuid,
    name: String,
    description: String,
    region: String,
    size_gb: u64,
    droplet: Option<u64>,
    created: i64,
    fs_type: String,
    fs_label: String,
    tags: Vec<String>,
}

impl Volume {
    fn render(&self) -> Value {
        let region = catalog::digitalocean()
            .region(&self.region)
            .cloned()
            .unwrap_or_else(|| json!({"name": self.region, "slug": self.region, "features": [], "available": true, "sizes": []}));
        json!({
            "id": self.id.to_string(),
            "region": region,
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.name.clone(),
            status: if self.droplet.is_some() {
                "attached"
            } else {
                "available"
            }
            .to_owned(),
            region: self.region.clone(),
            plan: self.size_gb.to_string(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Action {
    id: u64,
    kind: String,
    resource_id: Option<u64>,
    resource_type: &'static str,
    region: String,
    started: i64,
    polls_left: u32,
    completed_at: Option<i64>,
}

impl Action {
    fn render(&self) -> Value {
        let region = catalog::digitalocean()
            .region(&self.region)
            .cloned()
            .unwrap_or(Value::Null);
        json!({
            "id": self.id,
            "status": if self.completed_at.is_some() { "completed" } else { "in-progress" },
            "type": self.kind,
            "started_at": time_do(self.started),
            "completed_at": self.completed_at.map(time_do),
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "region": region,
            "region_slug": self.region,
        })
    }

    fn observe(&mut self) {
        if self.completed_at.is_some() {
            return;
        }
        if self.polls_left > 0 {
            self.polls_left -= 1;
        } else {
            self.completed_at = Some(state::now().max(self.started));
        }
    }
}

/// DigitalOcean state.
#[derive(Debug)]
pub(crate) struct Store {
    droplets: Table<Droplet>,
    volumes: Table<Volume>,
    actions: Table<Action>,
    tags: BTreeSet<String>,
    next_droplet: u64,
    next_action: u64,
    bulk: u64,
}

impl Store {
    /// The existing tag that `name` names: DigitalOcean tag names are case-insensitive, and a tag
    /// keeps the capitalisation it was first created with.
    fn find_tag(&self, name: &str) -> Option<String> {
        self.tags
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// `name` as the tag it is or becomes (created with this capitalisation if new).
    fn canonical_tag(&mut self, name: &str) -> String {
        self.find_tag(name).unwrap_or_else(|| {
            self.tags.insert(name.to_owned());
            name.to_owned()
        })
    }

    /// Tags sent inline with a create: each checked like `POST /tags`, then canonicalised.
    fn inline_tags(&mut self, tags: Vec<String>) -> Result<Vec<String>, Response> {
        if let Some(bad_tag) = tags.iter().find(|t| !valid_tag(t)) {
            return Err(unprocessable(&format!("{TAG_RULE}: {bad_tag}")));
        }
        let mut out: Vec<String> = Vec::with_capacity(tags.len());
        for t in tags {
            let t = self.canonical_tag(&t);
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }
}

/// DigitalOcean's message for a tag name it refuses.
/// DigitalOcean's error `id` for a status.
fn do_slug(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        503 => "service_unavailable",
        _ => "server_error",
    }
}

const TAG_RULE: &str = "Name must only contain letters, numbers, colons, dashes and underscores, and be at most 255 characters";

impl Default for Store {
    fn default() -> Self {
        Store {
            droplets: Table::default(),
            volumes: Table::default(),
            actions: Table::default(),
            tags: BTreeSet::new(),
            next_droplet: 402_000_000,
            next_action: 2_100_000_000,
            bulk: 0,
        }
    }
}

impl state::Store for Store {
    fn clear(&mut self) {
        *self = Store::default();
    }
}

impl Store {
    fn new_action(
        &mut self,
        kind: &str,
        resource: Option<u64>,
        resource_type: &'static str,
        region: &str,
        lc: Lifecycle,
    ) -> Value {
        self.next_action += 1;
        let a = Action {
            id: self.next_action,
            kind: kind.to_owned(),
            resource_id: resource,
            resource_type,
            region: region.to_owned(),
            started: state::now(),
            polls_left: lc.action_polls,
            completed_at: None,
        };
        let v = a.render();
        self.actions.insert(a.id.to_string(), a);
        v
    }
}

pub(crate) fn seed_fixtures(st: &mut AppState) {
    let store = store(st);
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
        store.droplets.insert(d.id.to_string(), d);
    }
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
        store.volumes.insert(vol.id.to_string(), vol);
    }
}

const BULK_SIZES: &[&str] = &["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb"];
const BULK_REGIONS: &[&str] = &[
    "nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1",
];

pub(crate) fn seed_bulk(st: &mut AppState, kind: Kind, n: usize) -> Result<(), SandboxError> {
    let first_seq = st.reserve_seq(n as u64);
    let store = store(st);
    if matches!(kind, Kind::Instance | Kind::Volume) {
        store.tags.insert("bulk".to_owned());
    }
    for k in 0..n as u64 {
        store.bulk += 1;
        let b = store.bulk;
        let seq = first_seq + k;
        let region = BULK_REGIONS[(b as usize) % BULK_REGIONS.len()].to_owned();
        let created = state::BULK_EPOCH + (b as i64) * 41;
        match kind {
            Kind::Instance => {
                store.next_droplet += 1;
                let d = Droplet {
                    id: store.next_droplet,
                    name: format!("bulk-droplet-{b:06}"),
                    region,
                    size: BULK_SIZES[(b as usize) % BULK_SIZES.len()].to_owned(),
                    image: "ubuntu-24-04-x64".to_owned(),
                    tags: vec!["bulk".to_owned(), format!("team-t{}", b % 10)],
                    status: "active".to_owned(),
                    created,
                    public_ip: state::public_ip(seq),
                    private_ip: state::private_ip(seq),
                    volume_ids: Vec::new(),
                    features: vec!["droplet_agent".to_owned(), "private_networking".to_owned()],
                    vpc: state::det_uuid(SALT, (b % 10) + 1),
                    pending: 0,
                };
                store.droplets.insert(d.id.to_string(), d);
            }
            Kind::Volume => {
                let v = Volume {
                    id: state::det_uuid(SALT + 1, b),
                    name: format!("bulk-volume-{b:06}"),
                    description: String::new(),
                    region,
                    size_gb: 10 + (b % 20) * 10,
                    droplet: None,
                    created,
                    fs_type: "ext4".to_owned(),
                    fs_label: String::new(),
                    tags: vec!["bulk".to_owned()],
                };
                store.volumes.insert(v.id.to_string(), v);
            }
            Kind::Database | Kind::Bucket => return Err(state::unsupported(P, kind)),
        }
    }
    Ok(())
}

pub(crate) fn summaries(store: &Store, kind: Kind) -> Result<Vec<ResourceSummary>, SandboxError> {
    Ok(match kind {
        Kind::Instance => store.droplets.values().map(Droplet::summary).collect(),
        Kind::Volume => store.volumes.values().map(Volume::summary).collect(),
        _ => return Err(state::unsupported(P, kind)),
    })
}

pub(crate) fn peek(store: &Store, kind: Kind, target: &str) -> Option<Value> {
    match kind {
        Kind::Instance => {
            let key = store
                .droplets
                .resolve(target, |d| &d.name, |d| d.id.to_string())?;
            store.droplets.get(&key).map(Droplet::render)
        }
        Kind::Volume => {
            let key = store
                .volumes
                .resolve(target, |v| &v.name, |v| v.id.to_string())?;
            store.volumes.get(&key).map(Volume::render)
        }
        _ => None,
    }
}

fn delete_droplet_state(store: &mut Store, key: &str) {
    if let Some(d) = store.droplets.remove(key) {
        for v in store.volumes.values_mut() {
            if v.droplet == Some(d.id) {
                v.droplet = None;
            }
        }
    }
}

pub(crate) fn mutate(store: &mut Store, m: &Mutation) -> Result<(), SandboxError> {
    match m.kind {
        Kind::Instance => {
            let key = store
                .droplets
                .resolve(&m.target, |d| &d.name, |d| d.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                delete_droplet_state(store, &key);
                return Ok(());
            }
            let d = store
                .droplets
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            if apply_tag_change(&mut d.tags, &m.change) {
                store.tags.extend(d.tags.iter().cloned());
                return Ok(());
            }
            match &m.change {
                Change::SetLabel { label } => d.name = label.clone(),
                Change::SetPlan { plan } => d.size = plan.clone(),
                Change::PowerOff => d.status = "off".to_owned(),
                Change::PowerOn => d.status = "active".to_owned(),
                Change::SetStatus { status } => d.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Volume => {
            let key = store
                .volumes
                .resolve(&m.target, |v| &v.name, |v| v.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                if let Some(v) = store.volumes.remove(&key) {
                    for d in store.droplets.values_mut() {
                        d.volume_ids.retain(|id| *id != v.id);
                    }
                }
                return Ok(());
            }
            let v = store
                .volumes
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            if apply_tag_change(&mut v.tags, &m.change) {
                store.tags.extend(v.tags.iter().cloned());
                return Ok(());
            }
            match &m.change {
                Change::SetLabel { label } => v.name = label.clone(),
                Change::SetSize { size_gb } => v.size_gb = *size_gb,
                _ => return Err(state::bad_change(m)),
            }
        }
        _ => return Err(state::unsupported(P, m.kind)),
    }
    Ok(())
}

/// The Digitalocean emulation.
#[derive(Debug)]
pub(crate) struct Digitalocean;

/// Forwards the [`Emulation`] calls to this module's functions.
impl Emulation for Digitalocean {
    fn provider(&self) -> Provider {
        P
    }

    fn routes(&self) -> Router<App> {
        routes()
    }

    fn seed_fixtures(&self, st: &mut AppState) {
        seed_fixtures(st);
    }

    fn seed_bulk(&self, st: &mut AppState, kind: Kind, n: usize) -> Result<(), SandboxError> {
        seed_bulk(st, kind, n)
    }

    fn summaries(&self, st: &AppState, kind: Kind) -> Result<Vec<ResourceSummary>, SandboxError> {
        summaries(st.store().unwrap_or(&Store::default()), kind)
    }

    fn peek(&self, st: &AppState, kind: Kind, target: &str) -> Option<Value> {
        peek(st.store()?, kind, target)
    }

    fn mutate(&self, st: &mut AppState, m: &Mutation) -> Result<(), SandboxError> {
        mutate(store(st), m)
    }

    fn error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({
            "id": do_slug(status),
            "message": message,
            "request_id": Uuid::new_v4().to_string(),
        })
    }

    /// DigitalOcean answers these without a `request_id`.
    fn edge_error_body(&self, status: StatusCode, message: &str) -> Value {
        json!({"id": do_slug(status), "message": message})
    }

    fn not_found_message(&self, _what: &str) -> String {
        "The resource you were accessing could not be found.".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "unable to parse request body: invalid JSON"
    }

    fn unauthorized_message(&self) -> &'static str {
        "Unable to authenticate you"
    }

    fn too_many_message(&self) -> &'static str {
        "API rate limit exceeded."
    }

    fn internal_error_message(&self) -> &'static str {
        "Server was unable to give you a response."
    }

    /// `ratelimit-*`, nominally 5,000 requests an hour.
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            names: ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
            limit: 5000,
            window: Duration::from_secs(3600),
        })
    }
}

fn store(st: &mut AppState) -> &mut Store {
    st.store_mut()
}

// ---------------------------------------------------------------------------
// HTTP

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/digitalocean/v2/account", get(account))
        .route(
            "/digitalocean/v2/droplets",
            get(list_droplets).post(create_droplet),
        )
        .route(
            "/digitalocean/v2/droplets/{id}",
            get(get_droplet).delete(delete_droplet),
        )
        .route(
            "/digitalocean/v2/droplets/{id}/actions",
            post(droplet_action),
        )
        .route("/digitalocean/v2/actions/{id}", get(get_action))
        .route("/digitalocean/v2/tags", post(create_tag))
        .route(
            "/digitalocean/v2/tags/{tag}",
            get(get_tag).delete(delete_tag),
        )
        .route(
            "/digitalocean/v2/tags/{tag}/resources",
            post(tag_resources).delete(untag_resources),
        )
        .route(
            "/digitalocean/v2/volumes",
            get(list_volumes).post(create_volume),
        )
        .route(
            "/digitalocean/v2/volumes/{id}",
            get(get_volume).delete(delete_volume),
        )
        .route("/digitalocean/v2/volumes/{id}/actions", post(volume_action))
        .route("/digitalocean/v2/regions", get(list_regions))
        .route("/digitalocean/v2/sizes", get(list_sizes))
        .route("/digitalocean/v2/images", get(list_images))
}

type Q = Query<HashMap<String, String>>;

fn unprocessable(msg: &str) -> Response {
    error(P, StatusCode::UNPROCESSABLE_ENTITY, msg)
}

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

fn nf() -> Response {
    not_found(P, "")
}

fn wrap(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), v);
    Value::Object(m)
}

fn paged(
    app: &App,
    path: &str,
    q: &HashMap<String, String>,
    keep: &[&str],
    total: usize,
    mode: PageMode,
) -> Result<pagination::Page, Response> {
    let keep: Vec<(&str, &str)> = keep
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    let url = format!("{}{PREFIX}{path}", app.base);
    pagination::digitalocean(total, q, &url, &keep, mode).map_err(|m| bad(&m))
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::DO_ACCOUNT))
}

async fn list_droplets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    let gpus = match q.get("type").map(String::as_str) {
        None | Some("") | Some("droplets") => false,
        Some("gpus") => true,
        Some(_) => return Err(bad("type must be one of: droplets, gpus")),
    };
    let tag = q.get("tag_name");
    let name = q.get("name");
    if tag.is_some() && (name.is_some() || q.contains_key("type")) {
        return Err(bad("tag_name cannot be combined with name or type"));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let seqs = store.droplets.select(|d| {
        d.is_gpu() == gpus
            && tag.is_none_or(|t| d.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
            && name.is_none_or(|n| d.name.eq_ignore_ascii_case(n))
    });
    let page = paged(
        &app,
        "/droplets",
        &q,
        &["tag_name", "name", "type"],
        seqs.len(),
        mode,
    )?;
    let items = store.droplets.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Droplet::render,
        Droplet::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(list_json(page, "droplets", &items))
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

fn str_list(body: &Map<String, Value>, key: &str) -> Result<Vec<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unprocessable(&format!("{key} must be an array of strings"))),
        Some(_) => Err(unprocessable(&format!("{key} must be an array"))),
    }
}

async fn create_droplet(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
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
    let region = match body.get("region") {
        None | Some(Value::Null) => "nyc3".to_owned(),
        Some(Value::String(r)) => r.clone(),
        Some(_) => return Err(unprocessable("region must be a string")),
    };
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
    let tags = str_list(&body, "tags")?;
    let _ssh_keys = str_list(&body, "ssh_keys")?;
    if body
        .get("user_data")
        .is_some_and(|u| !u.is_string() && !u.is_null())
    {
        return Err(unprocessable("user_data must be a string"));
    }
    let volumes = str_list(&body, "volumes")?;
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
    let lc = app.lifecycle;
    let mut st = app.state();
    let tags = store(&mut st).inline_tags(tags)?;
    let mut droplets = Vec::new();
    let mut actions = Vec::new();
    for name in names {
        let seq = st.next_seq();
        let store = store(&mut st);
        store.next_droplet += 1;
        let mut volume_ids = Vec::new();
        for vid in &volumes {
            if let Some(v) = store.volumes.get_mut(vid)
                && v.droplet.is_none()
                && v.region == region
            {
                v.droplet = Some(store.next_droplet);
                volume_ids.push(v.id);
            }
        }
        let mut d = Droplet {
            id: store.next_droplet,
            name,
            region: region.clone(),
            size: size.clone(),
            image: image_slug.clone(),
            tags: tags.clone(),
            status: "new".to_owned(),
            created: state::now(),
            public_ip: state::public_ip(seq),
            private_ip: state::private_ip(seq),
            volume_ids,
            features: features.clone(),
            vpc,
            pending: lc.pending_polls.max(1),
        };
        droplets.push(d.render());
        if lc.pending_polls == 0 {
            d.observe();
        }
        let action = store.new_action("create", Some(d.id), "droplet", &region, lc);
        let action_id = action.get("id").cloned().unwrap_or(Value::Null);
        actions.push(json!({
            "id": action_id,
            "rel": "create",
            "href": format!("{}{PREFIX}/actions/{}", app.base, action_id),
        }));
        store.droplets.insert(d.id.to_string(), d);
    }
    let body = if droplets.len() == 1 && body.get("names").is_none() {
        json!({"droplet": droplets.pop(), "links": {"actions": actions}})
    } else {
        json!({"droplets": droplets, "links": {"actions": actions}})
    };
    Ok(json(StatusCode::ACCEPTED, &body))
}

async fn get_droplet(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).droplets.get_mut(&id) {
        Some(d) => {
            let v = d.render();
            d.observe();
            json(StatusCode::OK, &wrap("droplet", v))
        }
        None => nf(),
    }
}

async fn delete_droplet(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    if !store(&mut st).droplets.contains(&id) {
        return nf();
    }
    delete_droplet_state(store(&mut st), &id);
    empty(StatusCode::NO_CONTENT)
}

async fn droplet_action(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("Action type is required"))?
        .to_owned();
    let lc = app.lifecycle;
    let mut st = app.state();
    let store = store(&mut st);
    let d = store.droplets.get_mut(&id).ok_or_else(nf)?;
    if d.pending > 0 && d.status == "new" {
        return Err(unprocessable("Droplet already has a pending event."));
    }
    match kind.as_str() {
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
        "resize" => {
            let size = body
                .get("size")
                .and_then(Value::as_str)
                .ok_or_else(|| unprocessable("Size is required"))?;
            let cat = catalog::digitalocean();
            let new = cat.size(size).ok_or_else(|| {
                unprocessable("You specified an invalid size for Droplet resize.")
            })?;
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
        }
        "enable_backups" => {
            if !d.features.iter().any(|f| f == "backups") {
                d.features.push("backups".to_owned());
            }
        }
        "disable_backups" => d.features.retain(|f| f != "backups"),
        "enable_ipv6" => {
            if !d.features.iter().any(|f| f == "ipv6") {
                d.features.push("ipv6".to_owned());
            }
        }
        _ => return Err(unprocessable(&format!("{kind} is not a valid action type"))),
    }
    let (droplet_id, region) = (d.id, d.region.clone());
    let action = store.new_action(&kind, Some(droplet_id), "droplet", &region, lc);
    Ok(json(StatusCode::CREATED, &wrap("action", action)))
}

async fn get_action(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).actions.get_mut(&id) {
        Some(a) => {
            a.observe();
            json(StatusCode::OK, &wrap("action", a.render()))
        }
        None => nf(),
    }
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

fn valid_tag(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
}

fn render_tag(store: &Store, name: &str) -> Value {
    let droplets = store
        .droplets
        .values()
        .filter(|d| d.tags.iter().any(|t| t == name))
        .count();
    let volumes = store
        .volumes
        .values()
        .filter(|v| v.tags.iter().any(|t| t == name))
        .count();
    json!({
        "name": name,
        "resources": {
            "count": droplets + volumes,
            "last_tagged_uri": "",
            "droplets": {"count": droplets, "last_tagged_uri": ""},
            "images": {"count": 0},
            "volumes": {"count": volumes},
            "volume_snapshots": {"count": 0},
            "databases": {"count": 0},
        }
    })
}

async fn create_tag(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("Name is required"))?;
    if !valid_tag(name) {
        return Err(unprocessable(TAG_RULE));
    }
    let mut st = app.state();
    let name = store(&mut st).canonical_tag(name);
    Ok(json(
        StatusCode::CREATED,
        &wrap("tag", render_tag(store(&mut st), &name)),
    ))
}

async fn get_tag(State(app): State<App>, Path(tag): Path<String>) -> Response {
    let mut st = app.state();
    let Some(tag) = store(&mut st).find_tag(&tag) else {
        return nf();
    };
    json(
        StatusCode::OK,
        &wrap("tag", render_tag(store(&mut st), &tag)),
    )
}

async fn delete_tag(State(app): State<App>, Path(tag): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    let Some(tag) = store.find_tag(&tag) else {
        return nf();
    };
    store.tags.remove(&tag);
    for d in store.droplets.values_mut() {
        d.tags.retain(|t| *t != tag);
    }
    for v in store.volumes.values_mut() {
        v.tags.retain(|t| *t != tag);
    }
    empty(StatusCode::NO_CONTENT)
}

fn tag_targets(body: &Map<String, Value>) -> Result<Vec<(String, String)>, Response> {
    let list = body
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("resources is required"))?;
    list.iter()
        .map(|r| {
            let id = match r.get("resource_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(bad("resource_id is required")),
            };
            let kind = r
                .get("resource_type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("resource_type is required"))?;
            Ok((id, kind.to_owned()))
        })
        .collect()
}

async fn change_tag_resources(
    app: App,
    tag: String,
    body: Bytes,
    add: bool,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let targets = tag_targets(&body)?;
    let mut st = app.state();
    let store = store(&mut st);
    let tag = store.find_tag(&tag).ok_or_else(nf)?;
    for (id, kind) in &targets {
        let tags = match kind.as_str() {
            "droplet" => store.droplets.get_mut(id).map(|d| &mut d.tags),
            "volume" => store.volumes.get_mut(id).map(|v| &mut v.tags),
            _ => {
                return Err(unprocessable(&format!(
                    "resource_type {kind} is not supported"
                )));
            }
        };
        let tags = tags.ok_or_else(nf)?;
        if add {
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag.clone());
            }
        } else {
            tags.retain(|t| !t.eq_ignore_ascii_case(&tag));
        }
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn tag_resources(
    State(app): State<App>,
    Path(tag): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    change_tag_resources(app, tag, body, true).await
}

async fn untag_resources(
    State(app): State<App>,
    Path(tag): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    change_tag_resources(app, tag, body, false).await
}

async fn list_volumes(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let (name, region) = (q.get("name"), q.get("region"));
    let seqs = store
        .volumes
        .select(|v| name.is_none_or(|n| &v.name == n) && region.is_none_or(|r| &v.region == r));
    let page = paged(&app, "/volumes", &q, &["name", "region"], seqs.len(), mode)?;
    let items = store.volumes.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Volume::render,
        |_| {},
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(list_json(page, "volumes", &items))
}

async fn create_volume(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
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
        description: body
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        region,
        size_gb: size,
        droplet: None,
        created: state::now(),
        fs_type,
        fs_label: body
            .get("filesystem_label")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        tags,
    };
    let rendered = v.render();
    store.volumes.insert(v.id.to_string(), v);
    Ok(json(StatusCode::CREATED, &wrap("volume", rendered)))
}

async fn get_volume(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).volumes.get(&id) {
        Some(v) => json(StatusCode::OK, &wrap("volume", v.render())),
        None => nf(),
    }
}

async fn delete_volume(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    match store.volumes.get(&id) {
        None => nf(),
        Some(v) if v.droplet.is_some() => error(
            P,
            StatusCode::CONFLICT,
            "Volume is currently attached to a Droplet. Detach it before deleting.",
        ),
        Some(_) => {
            store.volumes.remove(&id);
            empty(StatusCode::NO_CONTENT)
        }
    }
}

async fn volume_action(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
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
        let v = store.volumes.get(&id).ok_or_else(nf)?;
        (v.id, v.region.clone(), v.droplet)
    };
    if region_arg.as_ref().is_some_and(|r| *r != vol_region) {
        return Err(unprocessable("The volume and the region do not match."));
    }
    let (action_type, resource) = match kind.as_str() {
        "attach" | "detach" => {
            let droplet_id = body
                .get("droplet_id")
                .and_then(Value::as_u64)
                .ok_or_else(|| unprocessable("droplet_id is required"))?;
            let d = store
                .droplets
                .get_mut(&droplet_id.to_string())
                .ok_or_else(nf)?;
            if kind == "attach" {
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
            if let Some(v) = store.volumes.get_mut(&id) {
                v.droplet = if kind == "attach" {
                    Some(droplet_id)
                } else {
                    None
                };
            }
            (
                if kind == "attach" {
                    "attach_volume"
                } else {
                    "detach_volume"
                },
                None,
            )
        }
        "resize" => {
            let size = body
                .get("size_gigabytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| unprocessable("size_gigabytes is required"))?;
            let v = store.volumes.get_mut(&id).ok_or_else(nf)?;
            if size <= v.size_gb {
                return Err(unprocessable("Volumes may only be resized upwards."));
            }
            if size > 16_384 {
                return Err(unprocessable("The maximum size for a volume is 16TiB."));
            }
            v.size_gb = size;
            ("resize", None)
        }
        _ => {
            return Err(unprocessable(&format!(
                "{kind} is not a valid volume action type"
            )));
        }
    };
    let action = store.new_action(action_type, resource, "volume", &vol_region, lc);
    Ok(json(StatusCode::ACCEPTED, &wrap("action", action)))
}

fn catalog_list(
    app: &App,
    path: &str,
    key: &str,
    items: &[Value],
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Response, Response> {
    let page = paged(app, path, q, &["type", "private"], items.len(), mode)?;
    let mut body = page.envelope;
    body.insert(key.to_owned(), Value::Array(items[page.range].to_vec()));
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

async fn list_regions(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    catalog_list(
        &app,
        "/regions",
        "regions",
        &catalog::digitalocean().regions,
        &q,
        mode,
    )
}

async fn list_sizes(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    catalog_list(
        &app,
        "/sizes",
        "sizes",
        &catalog::digitalocean().sizes,
        &q,
        mode,
    )
}

async fn list_images(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    let all = &catalog::digitalocean().images;
    let is_app = |i: &Value| {
        i.get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| d.contains("application"))
    };
    let items: Vec<Value> = match (
        q.get("type").map(String::as_str),
        q.get("private").map(String::as_str),
    ) {
        (_, Some("true")) => Vec::new(),
        (Some("application"), _) => all.iter().filter(|i| is_app(i)).cloned().collect(),
        (Some("distribution"), _) => all.iter().filter(|i| !is_app(i)).cloned().collect(),
        _ => all.clone(),
    };
    catalog_list(&app, "/images", "images", &items, &q, mode)
}
