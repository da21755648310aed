//! Linode API v4 under `/linode/v4`: profile, account, Linode instances (+ resize,
//! boot, shutdown, reboot), volumes (+ attach, detach, resize) and Object Storage
//! buckets, with page/page_size pagination (25–500), `X-Filter` header filtering,
//! `{"errors": [{"reason": "...", "field": "..."}]}` errors and
//! `X-RateLimit-*` headers. `root_pass` is validated and never echoed back.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::catalog::{self, LINODE_REGIONS, LINODE_TYPES};
use crate::emulation::{Emulation, RateHeaders};
use crate::http::{body_object, error, json, list_json, not_found};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{
    self, Change, Mutation, ResourceSummary, State as AppState, Table, apply_tag_change, fields,
    time_linode,
};
use crate::{Kind, Provider, SandboxError};

const P: Provider = Provider::Linode;

#[derive(Debug, Hash)]
pub(crate) struct Instance {
    id: u64,
    label: String,
    region: String,
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

impl Instance {
    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 {
                self.status = std::mem::take(&mut self.target);
                self.updated = state::now().max(self.created);
            }
        }
    }

    fn render(&self) -> Value {
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.ltype.clone(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Hash)]
pub(crate) struct Volume {
    id: u64,
    label: String,
    region: String,
    size: u64,
    linode_id: Option<u64>,
    tags: Vec<String>,
    status: String,
    created: i64,
    updated: i64,
    hardware_type: String,
    encryption: String,
    pending: u32,
}

impl Volume {
    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 {
                self.status = "active".to_owned();
            }
        }
    }

    /// The instance this volume is attached to (its rendering reads the instance's label).
    fn attached_instance<'t>(&self, instances: &'t Table<Instance>) -> Option<&'t Instance> {
        self.linode_id.and_then(|id| instances.get(&id.to_string()))
    }

    fn render(&self, instances: &Table<Instance>) -> Value {
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.size.to_string(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Hash)]
pub(crate) struct Bucket {
    label: String,
    region: String,
    created: i64,
    objects: u64,
    size: u64,
    endpoint_type: String,
}

impl Bucket {
    fn key(&self) -> String {
        format!("{}/{}", self.region, self.label)
    }

    fn render(&self) -> Value {
        let cluster = catalog::linode_cluster(&self.region);
        json!({
            "label": self.label,
            "region": self.region,
            "cluster": cluster,
            "created": time_linode(self.created),
            "hostname": format!("{}.{cluster}.linodeobjects.com", self.label),
            "objects": self.objects,
            "size": self.size,
            "s3_endpoint": format!("{cluster}.linodeobjects.com"),
            "endpoint_type": self.endpoint_type,
        })
    }

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.key(),
            label: self.label.clone(),
            status: "active".to_owned(),
            region: self.region.clone(),
            plan: self.endpoint_type.clone(),
            tags: Vec::new(),
        }
    }
}

/// Linode state.
#[derive(Debug)]
pub(crate) struct Store {
    instances: Table<Instance>,
    volumes: Table<Volume>,
    buckets: Table<Bucket>,
    next_instance: u64,
    next_volume: u64,
    bulk: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            instances: Table::default(),
            volumes: Table::default(),
            buckets: Table::default(),
            next_instance: 53_000_000,
            next_volume: 940_000,
            bulk: 0,
        }
    }
}

impl state::Store for Store {
    fn clear(&mut self) {
        *self = Store::default();
    }
}

pub(crate) fn seed_fixtures(st: &mut AppState) {
    let store = store(st);
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
        store.instances.insert(i.id.to_string(), i);
    }
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
        store.volumes.insert(vol.id.to_string(), vol);
    }
    for v in catalog::items(catalog::LINODE_BUCKETS, "data") {
        let b = Bucket {
            label: fields::string(&v, "label"),
            region: fields::string(&v, "region"),
            created: state::parse_time(&fields::string(&v, "created")),
            objects: fields::uint(&v, "objects"),
            size: fields::uint(&v, "size"),
            endpoint_type: fields::string(&v, "endpoint_type"),
        };
        store.buckets.insert(b.key(), b);
    }
}

pub(crate) fn seed_bulk(st: &mut AppState, kind: Kind, n: usize) -> Result<(), SandboxError> {
    let first_seq = st.reserve_seq(n as u64);
    let store = store(st);
    for k in 0..n as u64 {
        store.bulk += 1;
        let b = store.bulk;
        let seq = first_seq + k;
        let region = LINODE_REGIONS[(b as usize) % LINODE_REGIONS.len()].to_owned();
        let created = state::BULK_EPOCH + (b as i64) * 43;
        match kind {
            Kind::Instance => {
                store.next_instance += 1;
                let i = Instance {
                    id: store.next_instance,
                    label: format!("bulk-linode-{b:06}"),
                    region,
                    ltype: LINODE_TYPES[(b as usize) % 3].id.to_owned(),
                    disk_mb: u64::from(LINODE_TYPES[(b as usize) % 3].disk_mb),
                    image: Some("linode/ubuntu24.04".to_owned()),
                    status: "running".to_owned(),
                    target: String::new(),
                    tags: vec!["bulk".to_owned(), format!("team:t{}", b % 10)],
                    created,
                    updated: created,
                    public_ip: state::public_ip(seq),
                    private_ip: state::private_ip(seq),
                    backups: false,
                    pending: 0,
                };
                store.instances.insert(i.id.to_string(), i);
            }
            Kind::Volume => {
                store.next_volume += 1;
                let v = Volume {
                    id: store.next_volume,
                    label: format!("bulk-vol-{b:06}"),
                    region,
                    size: 10 + (b % 20) * 10,
                    linode_id: None,
                    tags: vec!["bulk".to_owned()],
                    status: "active".to_owned(),
                    created,
                    updated: created,
                    hardware_type: "nvme".to_owned(),
                    encryption: "enabled".to_owned(),
                    pending: 0,
                };
                store.volumes.insert(v.id.to_string(), v);
            }
            Kind::Bucket => {
                let bucket = Bucket {
                    label: format!("bulk-bucket-{b:06}"),
                    region,
                    created,
                    objects: if b.is_multiple_of(3) { 0 } else { b * 7 },
                    size: if b.is_multiple_of(3) { 0 } else { b * 7 * 4096 },
                    endpoint_type: "E1".to_owned(),
                };
                store.buckets.insert(bucket.key(), bucket);
            }
            Kind::Database => return Err(state::unsupported(P, kind)),
        }
    }
    Ok(())
}

pub(crate) fn summaries(store: &Store, kind: Kind) -> Result<Vec<ResourceSummary>, SandboxError> {
    Ok(match kind {
        Kind::Instance => store.instances.values().map(Instance::summary).collect(),
        Kind::Volume => store.volumes.values().map(Volume::summary).collect(),
        Kind::Bucket => store.buckets.values().map(Bucket::summary).collect(),
        Kind::Database => return Err(state::unsupported(P, kind)),
    })
}

pub(crate) fn peek(store: &Store, kind: Kind, target: &str) -> Option<Value> {
    match kind {
        Kind::Instance => {
            let key = store
                .instances
                .resolve(target, |i| &i.label, |i| i.id.to_string())?;
            store.instances.get(&key).map(Instance::render)
        }
        Kind::Volume => {
            let key = store
                .volumes
                .resolve(target, |v| &v.label, |v| v.id.to_string())?;
            store.volumes.get(&key).map(|v| v.render(&store.instances))
        }
        Kind::Bucket => {
            let key = store.buckets.resolve(target, |b| &b.label, Bucket::key)?;
            store.buckets.get(&key).map(Bucket::render)
        }
        Kind::Database => None,
    }
}

fn delete_instance_state(store: &mut Store, key: &str) {
    if let Some(i) = store.instances.remove(key) {
        for v in store.volumes.values_mut() {
            if v.linode_id == Some(i.id) {
                v.linode_id = None;
            }
        }
    }
}

pub(crate) fn mutate(store: &mut Store, m: &Mutation) -> Result<(), SandboxError> {
    match m.kind {
        Kind::Instance => {
            let key = store
                .instances
                .resolve(&m.target, |i| &i.label, |i| i.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                delete_instance_state(store, &key);
                return Ok(());
            }
            let i = store
                .instances
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            if apply_tag_change(&mut i.tags, &m.change) {
                return Ok(());
            }
            match &m.change {
                Change::SetLabel { label } => i.label = label.clone(),
                Change::SetPlan { plan } => i.ltype = plan.clone(),
                Change::PowerOff => i.status = "offline".to_owned(),
                Change::PowerOn => i.status = "running".to_owned(),
                Change::SetStatus { status } => i.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
            i.updated = state::now();
        }
        Kind::Volume => {
            let key = store
                .volumes
                .resolve(&m.target, |v| &v.label, |v| v.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                store.volumes.remove(&key);
                return Ok(());
            }
            let v = store
                .volumes
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            if apply_tag_change(&mut v.tags, &m.change) {
                return Ok(());
            }
            match &m.change {
                Change::SetLabel { label } => v.label = label.clone(),
                Change::SetSize { size_gb } => v.size = *size_gb,
                Change::SetStatus { status } => v.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Bucket => {
            let key = store
                .buckets
                .resolve(&m.target, |b| &b.label, Bucket::key)
                .ok_or_else(|| state::not_found(m))?;
            match &m.change {
                Change::Delete => {
                    store.buckets.remove(&key);
                }
                Change::SetObjects {
                    objects,
                    size_bytes,
                } => {
                    let b = store
                        .buckets
                        .get_mut(&key)
                        .ok_or_else(|| state::not_found(m))?;
                    b.objects = *objects;
                    b.size = *size_bytes;
                }
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Database => return Err(state::unsupported(P, m.kind)),
    }
    Ok(())
}

/// The Linode emulation.
#[derive(Debug)]
pub(crate) struct Linode;

/// Forwards the [`Emulation`] calls to this module's functions.
impl Emulation for Linode {
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
        let _ = status;
        json!({"errors": [{"reason": message}]})
    }

    fn not_found_message(&self, _what: &str) -> String {
        "Not found".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Invalid JSON"
    }

    fn unauthorized_message(&self) -> &'static str {
        "Invalid Token"
    }

    fn too_many_message(&self) -> &'static str {
        "Too Many Requests"
    }

    fn internal_error_message(&self) -> &'static str {
        "Please try again"
    }

    /// Linode's 502 comes from its nginx front, as an HTML page.
    fn server_error(&self, code: u16) -> Response {
        if code != 502 {
            return crate::http::server_error(self, code);
        }
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        (
            StatusCode::BAD_GATEWAY,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/html"),
            )],
            html,
        )
            .into_response()
    }

    /// `X-RateLimit-*`, nominally 1,600 requests per 2 minutes.
    fn rate_headers(&self) -> Option<RateHeaders> {
        Some(RateHeaders {
            names: [
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
            ],
            limit: 1600,
            window: Duration::from_secs(120),
        })
    }
}

fn store(st: &mut AppState) -> &mut Store {
    st.store_mut()
}

// ---------------------------------------------------------------------------
// X-Filter

/// A field value as seen by the X-Filter evaluator.
enum Field<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    Num(u64),
    Tags(&'a [String]),
}

trait Filterable {
    fn field(&self, name: &str) -> Option<Field<'_>>;
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

impl Filterable for Bucket {
    fn field(&self, name: &str) -> Option<Field<'_>> {
        Some(match name {
            "label" => Field::Str(&self.label),
            "region" => Field::Str(&self.region),
            "cluster" => return None,
            "created" => Field::Num(u64::try_from(self.created).unwrap_or(0)),
            _ => return None,
        })
    }
}

/// A parsed `X-Filter` header.
#[derive(Debug, Default)]
struct XFilter {
    conditions: Map<String, Value>,
    order_by: Option<String>,
    descending: bool,
}

fn parse_filter(headers: &HeaderMap) -> Result<XFilter, Response> {
    let Some(raw) = headers.get("x-filter") else {
        return Ok(XFilter::default());
    };
    let invalid = || {
        error(
            P,
            StatusCode::BAD_REQUEST,
            "Invalid JSON in X-Filter header",
        )
    };
    let text = raw.to_str().map_err(|_| invalid())?;
    let Ok(Value::Object(mut conditions)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid());
    };
    let order_by = conditions
        .remove("+order_by")
        .and_then(|v| v.as_str().map(str::to_owned));
    let descending = conditions
        .remove("+order")
        .is_some_and(|v| v.as_str() == Some("desc"));
    Ok(XFilter {
        conditions,
        order_by,
        descending,
    })
}

fn cmp_value(field: &Field<'_>, want: &Value) -> Option<Ordering> {
    match (field, want) {
        (Field::Num(n), Value::Number(w)) => w.as_u64().map(|w| n.cmp(&w)),
        (Field::Num(n), Value::String(w)) => w.parse::<u64>().ok().map(|w| n.cmp(&w)),
        (Field::Str(s), Value::String(w)) => Some((*s).cmp(w.as_str())),
        (Field::OptStr(Some(s)), Value::String(w)) => Some((*s).cmp(w.as_str())),
        _ => None,
    }
}

fn eval_cond(field: &Field<'_>, want: &Value) -> Result<bool, String> {
    match want {
        Value::Object(ops) => {
            for (op, arg) in ops {
                let ok = match op.as_str() {
                    "+contains" => {
                        let needle = arg.as_str().unwrap_or_default();
                        match field {
                            Field::Str(s) => s.contains(needle),
                            Field::OptStr(s) => s.is_some_and(|s| s.contains(needle)),
                            Field::Tags(t) => t.iter().any(|t| t.contains(needle)),
                            Field::Num(_) => false,
                        }
                    }
                    "+neq" => !eval_cond(field, arg)?,
                    "+gt" => cmp_value(field, arg) == Some(Ordering::Greater),
                    "+gte" => matches!(
                        cmp_value(field, arg),
                        Some(Ordering::Greater | Ordering::Equal)
                    ),
                    "+lt" => cmp_value(field, arg) == Some(Ordering::Less),
                    "+lte" => matches!(
                        cmp_value(field, arg),
                        Some(Ordering::Less | Ordering::Equal)
                    ),
                    other => return Err(format!("Unknown filter operator {other}")),
                };
                if !ok {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Null => Ok(matches!(field, Field::OptStr(None))),
        _ => Ok(match field {
            Field::Tags(tags) => want.as_str().is_some_and(|w| tags.iter().any(|t| t == w)),
            _ => cmp_value(field, want) == Some(Ordering::Equal),
        }),
    }
}

fn eval<T: Filterable>(row: &T, conditions: &Map<String, Value>) -> Result<bool, String> {
    for (key, want) in conditions {
        let ok = match key.as_str() {
            "+and" | "+or" => {
                let list = want
                    .as_array()
                    .ok_or_else(|| format!("{key} must be an array"))?;
                let mut results = Vec::with_capacity(list.len());
                for item in list {
                    let obj = item
                        .as_object()
                        .ok_or_else(|| format!("{key} items must be objects"))?;
                    results.push(eval(row, obj)?);
                }
                if key == "+and" {
                    results.iter().all(|r| *r)
                } else {
                    results.iter().any(|r| *r)
                }
            }
            field => {
                let value = row
                    .field(field)
                    .ok_or_else(|| format!("Cannot filter on {field}"))?;
                eval_cond(&value, want)?
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Select rows matching the filter, ordered as requested.
fn select<T: Filterable>(table: &Table<T>, filter: &XFilter) -> Result<Vec<u64>, Response> {
    let mut failure: Option<String> = None;
    let mut seqs = table.select(|row| match eval(row, &filter.conditions) {
        Ok(ok) => ok,
        Err(e) => {
            failure.get_or_insert(e);
            false
        }
    });
    if let Some(reason) = failure {
        return Err(error(P, StatusCode::BAD_REQUEST, &reason));
    }
    if let Some(order_by) = &filter.order_by {
        let key = |seq: &u64| table.by_seq(*seq).and_then(|r| r.field(order_by));
        let mut invalid = false;
        seqs.sort_by(|a, b| match (key(a), key(b)) {
            (Some(Field::Num(x)), Some(Field::Num(y))) => x.cmp(&y),
            (Some(Field::Str(x)), Some(Field::Str(y))) => x.cmp(y),
            _ => {
                invalid = true;
                Ordering::Equal
            }
        });
        if invalid && !seqs.is_empty() {
            return Err(error(
                P,
                StatusCode::BAD_REQUEST,
                &format!("Cannot order by {order_by}"),
            ));
        }
        if filter.descending {
            seqs.reverse();
        }
    }
    Ok(seqs)
}

// ---------------------------------------------------------------------------
// HTTP

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/linode/v4/profile", get(profile))
        .route("/linode/v4/account", get(account))
        .route(
            "/linode/v4/linode/instances",
            get(list_instances).post(create_instance),
        )
        .route(
            "/linode/v4/linode/instances/{id}",
            get(get_instance)
                .put(update_instance)
                .delete(delete_instance),
        )
        .route(
            "/linode/v4/linode/instances/{id}/resize",
            post(resize_instance),
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
        .route("/linode/v4/volumes", get(list_volumes).post(create_volume))
        .route(
            "/linode/v4/volumes/{id}",
            get(get_volume).put(update_volume).delete(delete_volume),
        )
        .route("/linode/v4/volumes/{id}/attach", post(attach_volume))
        .route("/linode/v4/volumes/{id}/detach", post(detach_volume))
        .route("/linode/v4/volumes/{id}/resize", post(resize_volume))
        .route(
            "/linode/v4/object-storage/buckets",
            get(list_buckets).post(create_bucket),
        )
        .route(
            "/linode/v4/object-storage/buckets/{region}",
            get(list_region_buckets),
        )
        .route(
            "/linode/v4/object-storage/buckets/{region}/{label}",
            get(get_bucket).delete(delete_bucket),
        )
}

type Q = Query<HashMap<String, String>>;

fn nf() -> Response {
    not_found(P, "")
}

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

/// A 400 naming the offending field.
fn field_err(field: &str, reason: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"errors": [{"reason": reason, "field": field}]}),
    )
}

fn ok_empty() -> Response {
    json(StatusCode::OK, &json!({}))
}

fn page_of(
    total: usize,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<pagination::Page, Response> {
    pagination::linode(total, q, mode).map_err(|reason| field_err("page_size", &reason))
}

fn str_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(field_err(key, "Must be a string")),
    }
}

fn tags_field(body: &Map<String, Value>) -> Result<Option<Vec<String>>, Response> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| field_err("tags", "Must be a list of strings")),
        Some(_) => Err(field_err("tags", "Must be a list of strings")),
    }
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

async fn profile() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::LINODE_PROFILE))
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::LINODE_ACCOUNT))
}

async fn list_instances(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    let filter = parse_filter(&headers)?;
    let mut st = app.state();
    let store = store(&mut st);
    let seqs = select(&store.instances, &filter)?;
    let page = page_of(seqs.len(), &q, mode)?;
    let items = store.instances.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Instance::render,
        Instance::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(list_json(page, "data", &items))
}

async fn create_instance(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let region =
        str_field(&body, "region")?.ok_or_else(|| field_err("region", "region is required"))?;
    if !LINODE_REGIONS.contains(&region.as_str()) {
        return Err(field_err("region", "region is not valid"));
    }
    let ltype = str_field(&body, "type")?.ok_or_else(|| field_err("type", "type is required"))?;
    if catalog::linode_type(&ltype).is_none() {
        return Err(field_err(
            "type",
            "A valid plan type by that ID was not found",
        ));
    }
    let image = str_field(&body, "image")?;
    if let Some(image) = &image {
        if !(image.starts_with("linode/") || image.starts_with("private/")) {
            return Err(field_err("image", "image is not valid"));
        }
        let pass = str_field(&body, "root_pass")?.ok_or_else(|| {
            field_err(
                "root_pass",
                "root_pass is required when creating a Linode from an image",
            )
        })?;
        if !(11..=128).contains(&pass.chars().count()) {
            return Err(field_err("root_pass", "Length must be 11-128 characters"));
        }
    }
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
    let tags = tags_field(&body)?.unwrap_or_default();
    let label = str_field(&body, "label")?;
    if let Some(l) = &label
        && !valid_label(l)
    {
        return Err(field_err(
            "label",
            "Label must be 3-64 characters, start with a letter or number, and contain only letters, numbers, dashes, underscores and periods",
        ));
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
        return Err(field_err(
            "label",
            "Label must be unique among your linodes",
        ));
    }
    store.next_instance += 1;
    let id = store.next_instance;
    let pending = app.lifecycle.pending_polls;
    let now = state::now();
    let disk_mb = type_disk_mb(&ltype);
    let mut inst = Instance {
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
    let rendered = inst.render();
    if pending == 0 {
        inst.observe();
    }
    store.instances.insert(id.to_string(), inst);
    Ok(json(StatusCode::OK, &rendered))
}

async fn get_instance(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).instances.get_mut(&id) {
        Some(i) => {
            let v = i.render();
            i.observe();
            json(StatusCode::OK, &v)
        }
        None => nf(),
    }
}

async fn update_instance(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = str_field(&body, "label")?;
    let tags = tags_field(&body)?;
    let mut st = app.state();
    let store = store(&mut st);
    if !store.instances.contains(&id) {
        return Err(nf());
    }
    if let Some(l) = &label {
        if !valid_label(l) {
            return Err(field_err(
                "label",
                "Label must be 3-64 characters, start with a letter or number, and contain only letters, numbers, dashes, underscores and periods",
            ));
        }
        if store
            .instances
            .values()
            .any(|i| &i.label == l && i.id.to_string() != id)
        {
            return Err(field_err(
                "label",
                "Label must be unique among your linodes",
            ));
        }
    }
    let i = store.instances.get_mut(&id).ok_or_else(nf)?;
    if let Some(l) = label {
        i.label = l;
    }
    if let Some(t) = tags {
        i.tags = t;
    }
    i.updated = state::now();
    Ok(json(StatusCode::OK, &i.render()))
}

async fn delete_instance(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    if !store(&mut st).instances.contains(&id) {
        return nf();
    }
    delete_instance_state(store(&mut st), &id);
    ok_empty()
}

fn busy(i: &Instance) -> bool {
    i.pending > 0
}

async fn resize_instance(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let ltype = str_field(&body, "type")?.ok_or_else(|| field_err("type", "type is required"))?;
    if catalog::linode_type(&ltype).is_none() {
        return Err(field_err(
            "type",
            "A valid plan type by that ID was not found",
        ));
    }
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
    let new_disk = type_disk_mb(&ltype);
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let i = store(&mut st).instances.get_mut(&id).ok_or_else(nf)?;
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

async fn list_volumes(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    let filter = parse_filter(&headers)?;
    let mut st = app.state();
    let store = store(&mut st);
    let seqs = select(&store.volumes, &filter)?;
    let page = page_of(seqs.len(), &q, mode)?;
    let instances = &store.instances;
    let items = store.volumes.render_page(
        &seqs[page.range.clone()],
        |v| state::fingerprint(&(v, v.attached_instance(instances))),
        |v| v.render(instances),
        Volume::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(list_json(page, "data", &items))
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

async fn create_volume(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label =
        str_field(&body, "label")?.ok_or_else(|| field_err("label", "label is required"))?;
    if !valid_volume_label(&label) {
        return Err(field_err(
            "label",
            "Label must be 1-32 characters, start with a letter, and contain only letters, numbers, dashes and underscores",
        ));
    }
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
    let region = str_field(&body, "region")?;
    let tags = tags_field(&body)?.unwrap_or_default();
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let store = store(&mut st);
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
    if !LINODE_REGIONS.contains(&region.as_str()) {
        return Err(field_err("region", "region is not valid"));
    }
    store.next_volume += 1;
    let now = state::now();
    let mut v = Volume {
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
        encryption: str_field(&body, "encryption")?.unwrap_or_else(|| "enabled".to_owned()),
        pending: pending.max(1),
    };
    let rendered = v.render(&store.instances);
    if pending == 0 {
        v.observe();
    }
    store.volumes.insert(v.id.to_string(), v);
    Ok(json(StatusCode::OK, &rendered))
}

async fn get_volume(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    match store.volumes.get_mut(&id) {
        Some(v) => {
            let r = v.render(&store.instances);
            v.observe();
            json(StatusCode::OK, &r)
        }
        None => nf(),
    }
}

async fn update_volume(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = str_field(&body, "label")?;
    let tags = tags_field(&body)?;
    if let Some(l) = &label
        && !valid_volume_label(l)
    {
        return Err(field_err(
            "label",
            "Label must be 1-32 characters, start with a letter, and contain only letters, numbers, dashes and underscores",
        ));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let v = store.volumes.get_mut(&id).ok_or_else(nf)?;
    if let Some(l) = label {
        v.label = l;
    }
    if let Some(t) = tags {
        v.tags = t;
    }
    v.updated = state::now();
    Ok(json(StatusCode::OK, &v.render(&store.instances)))
}

async fn delete_volume(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).volumes.get(&id) {
        None => nf(),
        Some(v) if v.linode_id.is_some() => {
            bad("Volume must be detached before it can be deleted.")
        }
        Some(_) => {
            store(&mut st).volumes.remove(&id);
            ok_empty()
        }
    }
}

async fn attach_volume(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
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
    let v = store.volumes.get_mut(&id).ok_or_else(nf)?;
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

async fn resize_volume(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let size = body
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| field_err("size", "size is required"))?;
    let mut st = app.state();
    let store = store(&mut st);
    let v = store.volumes.get_mut(&id).ok_or_else(nf)?;
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

fn list_buckets_in(
    app: &App,
    region: Option<&str>,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Response, Response> {
    let mut filter = parse_filter(headers)?;
    if let Some(r) = region {
        if !LINODE_REGIONS.contains(&r) {
            return Err(nf());
        }
        filter
            .conditions
            .insert("region".to_owned(), Value::String(r.to_owned()));
    }
    let mut st = app.state();
    let seqs = select(&store(&mut st).buckets, &filter)?;
    let page = page_of(seqs.len(), q, mode)?;
    let items = store(&mut st).buckets.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Bucket::render,
        |_| {},
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    Ok(list_json(page, "data", &items))
}

async fn list_buckets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    list_buckets_in(&app, None, &headers, &q, mode)
}

async fn list_region_buckets(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(region): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Result<Response, Response> {
    list_buckets_in(&app, Some(&region), &headers, &q, mode)
}

fn valid_bucket_label(label: &str) -> bool {
    (3..=63).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && label.starts_with(|c: char| c.is_ascii_alphanumeric())
        && label.ends_with(|c: char| c.is_ascii_alphanumeric())
}

async fn create_bucket(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label =
        str_field(&body, "label")?.ok_or_else(|| field_err("label", "label is required"))?;
    if !valid_bucket_label(&label) {
        return Err(field_err(
            "label",
            "Label must be 3-63 characters of lowercase letters, numbers, dashes and periods, and start and end with a letter or number",
        ));
    }
    let region = match (str_field(&body, "region")?, str_field(&body, "cluster")?) {
        (Some(r), _) => r,
        (None, Some(c)) => c.strip_suffix("-1").unwrap_or(&c).to_owned(),
        (None, None) => return Err(field_err("region", "region is required")),
    };
    if !LINODE_REGIONS.contains(&region.as_str()) {
        return Err(field_err("region", "region is not valid"));
    }
    let endpoint_type = str_field(&body, "endpoint_type")?.unwrap_or_else(|| "E1".to_owned());
    let mut st = app.state();
    let store = store(&mut st);
    let b = Bucket {
        label,
        region,
        created: state::now(),
        objects: 0,
        size: 0,
        endpoint_type,
    };
    // Bucket labels are S3 bucket names: creating one this account already owns answers 200 with
    // that bucket, unchanged (the caller cannot tell a new bucket from an old one by the answer).
    if let Some(existing) = store.buckets.get(&b.key()) {
        return Ok(json(StatusCode::OK, &existing.render()));
    }
    let rendered = b.render();
    store.buckets.insert(b.key(), b);
    Ok(json(StatusCode::OK, &rendered))
}

async fn get_bucket(
    State(app): State<App>,
    Path((region, label)): Path<(String, String)>,
) -> Response {
    let mut st = app.state();
    match store(&mut st).buckets.get(&format!("{region}/{label}")) {
        Some(b) => json(StatusCode::OK, &b.render()),
        None => nf(),
    }
}

async fn delete_bucket(
    State(app): State<App>,
    Path((region, label)): Path<(String, String)>,
) -> Response {
    let key = format!("{region}/{label}");
    let mut st = app.state();
    match store(&mut st).buckets.get(&key) {
        None => nf(),
        Some(b) if b.objects > 0 => bad(
            "Bucket is not empty. You need to remove all objects from a bucket before you can delete it.",
        ),
        Some(_) => {
            store(&mut st).buckets.remove(&key);
            ok_empty()
        }
    }
}
