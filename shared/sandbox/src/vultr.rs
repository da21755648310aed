//! Vultr API v2 under `/vultr/v2`: account, instances, block storage and managed
//! databases, with cursor pagination (`per_page` ≤ 500, `cursor`, `meta.links`),
//! `{"error": "...", "status": N}` errors and 202-accepted asynchronous creates.
//!
//! Secrets are returned exactly where Vultr returns them: instance
//! `default_password` and `kvm` URL, database `password` / `access_key` /
//! `access_cert` — in LIST responses too.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::catalog::{self, VULTR_PLANS, VULTR_REGIONS};
use crate::emulation::{Emulation, RateHeaders};
use crate::http::{body_object, empty, error, json, list_json};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{
    self, Change, Mutation, ResourceSummary, State as AppState, Table, apply_tag_change, fields,
    time_vultr,
};
use crate::{Kind, Provider, SECRET_MARKER, SandboxError};

const P: Provider = Provider::Vultr;
const SALT: u64 = 0x5655_4c54;

#[derive(Debug, Hash)]
pub(crate) struct Instance {
    id: Uuid,
    label: String,
    hostname: String,
    region: String,
    plan: String,
    os_id: u32,
    app_id: u32,
    image_id: String,
    snapshot_id: String,
    main_ip: u32,
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
}

impl Instance {
    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 {
                self.status = "active".to_owned();
                self.power_status = "running".to_owned();
                self.server_status = "ok".to_owned();
            }
        }
    }

    fn render(&self) -> Value {
        let plan = catalog::vultr_plan(&self.plan);
        let (vcpus, ram, disk, bw) = plan.map_or((1, 1024, 25, 1024), |p| {
            (p.vcpus, p.ram_mb, p.disk_gb, p.bandwidth_gb)
        });
        let os = if self.app_id != 0 {
            "Application"
        } else if !self.snapshot_id.is_empty() {
            "Snapshot"
        } else if !self.image_id.is_empty() {
            "Custom"
        } else {
            catalog::vultr_os_name(self.os_id)
        };
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
            "os": os,
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.plan.clone(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Hash)]
pub(crate) struct Block {
    id: Uuid,
    label: String,
    region: String,
    size_gb: u64,
    block_type: String,
    attached: Option<Uuid>,
    created: i64,
    status: String,
    pending: u32,
}

impl Block {
    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 {
                self.status = "active".to_owned();
            }
        }
    }

    /// The instance this block is attached to (its rendering reads the instance's id, IP, label).
    fn attached_instance<'t>(&self, instances: &'t Table<Instance>) -> Option<&'t Instance> {
        self.attached.and_then(|id| instances.get(&id.to_string()))
    }

    fn render(&self, instances: &Table<Instance>) -> Value {
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

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.size_gb.to_string(),
            tags: Vec::new(),
        }
    }
}

#[derive(Debug, Hash)]
pub(crate) struct Database {
    id: Uuid,
    label: String,
    tag: String,
    region: String,
    plan: String,
    engine: String,
    version: String,
    status: String,
    created: i64,
    seq: u64,
    pending: u32,
    trusted_ips: Vec<String>,
    maintenance_dow: String,
    maintenance_time: String,
    vpc_id: String,
}

/// `vultr-dbaas-startup-cc-1-55-2` → (vcpus 1, disk 55, ram 2048, brokers/replicas).
fn db_plan_specs(plan: &str) -> (u64, u64, u64, u64) {
    let nums: Vec<u64> = plan
        .split('-')
        .filter_map(|p| p.parse::<u64>().ok())
        .collect();
    let brokers = if plan.contains("-3x-") { 3 } else { 0 };
    match nums.as_slice() {
        [.., vcpus, disk, ram_gb] => (*vcpus, *disk, ram_gb * 1024, brokers),
        _ => (1, 55, 2048, brokers),
    }
}

const DB_ENGINES: &[(&str, &str)] = &[
    ("mysql", "8"),
    ("pg", "16"),
    ("ferretpg", "1"),
    ("redis", "7"),
    ("valkey", "7"),
    ("kafka", "3.7"),
];

impl Database {
    fn observe(&mut self) {
        if self.pending > 0 {
            self.pending -= 1;
            if self.pending == 0 {
                self.status = "Running".to_owned();
            }
        }
    }

    fn render(&self) -> Value {
        let (vcpus, disk, ram, brokers) = db_plan_specs(&self.plan);
        let short = &self.id.simple().to_string()[..8];
        let host = format!("vultr-prod-{short}-{:04}.vultrdb.com", self.seq % 10_000);
        let kafka = self.engine == "kafka";
        let mut v = json!({
            "id": self.id.to_string(),
            "date_created": time_vultr(self.created),
            "plan": self.plan,
            "plan_disk": disk,
            "plan_ram": ram,
            "plan_vcpus": vcpus,
            "plan_replicas": 0,
            "plan_brokers": brokers,
            "region": self.region,
            "database_engine": self.engine,
            "database_engine_version": self.version,
            "vpc_id": self.vpc_id,
            "status": self.status,
            "label": self.label,
            "tag": self.tag,
            "dbname": if kafka || self.engine == "redis" || self.engine == "valkey" { "" } else { "defaultdb" },
            "host": host,
            "public_host": format!("public-{host}"),
            "port": (16000 + self.seq % 1000).to_string(),
            "sasl_port": if kafka { (17000 + self.seq % 1000).to_string() } else { String::new() },
            "user": if self.engine == "redis" || self.engine == "valkey" { "default" } else { "vultradmin" },
            "password": format!("{SECRET_MARKER}dbpw-{}", self.seq),
            "access_key": if kafka { format!("{SECRET_MARKER}dbkey-{}", self.seq) } else { String::new() },
            "access_cert": if kafka { format!("{SECRET_MARKER}dbcert-{}", self.seq) } else { String::new() },
            "maintenance_dow": self.maintenance_dow,
            "maintenance_time": self.maintenance_time,
            "backup_hour": if kafka { "" } else { "4" },
            "backup_minute": if kafka { "" } else { "30" },
            "latest_backup": "",
            "trusted_ips": self.trusted_ips,
            "eviction_policy": if self.engine == "redis" || self.engine == "valkey" { "allkeys-lru" } else { "" },
            "cluster_time_zone": if self.engine == "pg" || self.engine == "mysql" { "UTC" } else { "" },
            "ca_certificate": format!("-----BEGIN CERTIFICATE-----\nMIIBsandboxCA{short}\n-----END CERTIFICATE-----"),
            "read_replicas": [],
        });
        if let Some(obj) = v.as_object_mut() {
            match self.engine.as_str() {
                "mysql" => {
                    obj.insert(
                        "mysql_sql_modes".to_owned(),
                        json!([
                            "ERROR_FOR_DIVISION_BY_ZERO",
                            "NO_ZERO_DATE",
                            "STRICT_ALL_TABLES"
                        ]),
                    );
                    obj.insert("mysql_require_primary_key".to_owned(), json!(true));
                    obj.insert("mysql_slow_query_log".to_owned(), json!(false));
                    obj.insert("mysql_long_query_time".to_owned(), json!(10));
                }
                "pg" => {
                    obj.insert(
                        "pg_available_extensions".to_owned(),
                        json!([{"name": "pg_stat_statements", "versions": ["1.10"]}, {"name": "postgis", "versions": ["3.4.2"]}]),
                    );
                }
                "ferretpg" => {
                    obj.insert(
                        "ferretdb_credentials".to_owned(),
                        json!({
                            "host": format!("ferret-{host}"),
                            "port": 27017,
                            "user": "vultradmin",
                            "password": format!("{SECRET_MARKER}ferretpw-{}", self.seq),
                            "public_ip": "",
                            "private_ip": "",
                        }),
                    );
                }
                _ => {}
            }
        }
        v
    }

    fn summary(&self) -> ResourceSummary {
        ResourceSummary {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: self.status.clone(),
            region: self.region.clone(),
            plan: self.plan.clone(),
            tags: if self.tag.is_empty() {
                Vec::new()
            } else {
                vec![self.tag.clone()]
            },
        }
    }
}

/// Vultr state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    instances: Table<Instance>,
    blocks: Table<Block>,
    databases: Table<Database>,
    bulk: u64,
}

impl state::Store for Store {
    fn clear(&mut self) {
        self.instances.clear();
        self.blocks.clear();
        self.databases.clear();
    }
}

fn secret_seq(text: &str) -> Option<u64> {
    text.rsplit('-').next()?.parse().ok()
}

fn parse_uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or_else(|_| Uuid::new_v4())
}

pub(crate) fn seed_fixtures(st: &mut AppState) {
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
        };
        store(st).instances.insert(i.id.to_string(), i);
    }
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
        store(st).blocks.insert(b.id.to_string(), b);
    }
    for v in catalog::items(catalog::VULTR_DATABASES, "databases") {
        let seq = secret_seq(&fields::string(&v, "password")).unwrap_or_else(|| st.next_seq());
        let d = Database {
            id: parse_uuid(&fields::string(&v, "id")),
            label: fields::string(&v, "label"),
            tag: fields::string(&v, "tag"),
            region: fields::string(&v, "region"),
            plan: fields::string(&v, "plan"),
            engine: fields::string(&v, "database_engine"),
            version: fields::string(&v, "database_engine_version"),
            status: fields::string(&v, "status"),
            created: state::parse_time(&fields::string(&v, "date_created")),
            seq,
            pending: 0,
            trusted_ips: fields::strings(&v, "trusted_ips"),
            maintenance_dow: fields::string(&v, "maintenance_dow"),
            maintenance_time: fields::string(&v, "maintenance_time"),
            vpc_id: fields::string(&v, "vpc_id"),
        };
        store(st).databases.insert(d.id.to_string(), d);
    }
}

pub(crate) fn seed_bulk(st: &mut AppState, kind: Kind, n: usize) -> Result<(), SandboxError> {
    let first_seq = st.reserve_seq(n as u64);
    let store = store(st);
    for k in 0..n as u64 {
        store.bulk += 1;
        let b = store.bulk;
        let seq = first_seq + k;
        let region = VULTR_REGIONS[(b as usize) % VULTR_REGIONS.len()].to_owned();
        let created = state::BULK_EPOCH + (b as i64) * 37;
        match kind {
            Kind::Instance => {
                let label = format!("bulk-vm-{b:06}");
                let i = Instance {
                    id: state::det_uuid(SALT, b),
                    hostname: label.clone(),
                    label,
                    region,
                    plan: VULTR_PLANS[(b as usize) % 6].id.to_owned(),
                    os_id: 2284,
                    app_id: 0,
                    image_id: String::new(),
                    snapshot_id: String::new(),
                    main_ip: state::public_ip(seq),
                    internal_ip: state::private_ip(seq),
                    created,
                    status: "active".to_owned(),
                    power_status: "running".to_owned(),
                    server_status: "ok".to_owned(),
                    tags: vec!["bulk".to_owned(), format!("team:t{}", b % 10)],
                    features: Vec::new(),
                    firewall_group_id: String::new(),
                    user_scheme: "root".to_owned(),
                    seq,
                    pending: 0,
                };
                store.instances.insert(i.id.to_string(), i);
            }
            Kind::Volume => {
                let blk = Block {
                    id: state::det_uuid(SALT + 1, b),
                    label: format!("bulk-block-{b:06}"),
                    region,
                    size_gb: 10 + (b % 20) * 10,
                    block_type: "high_perf".to_owned(),
                    attached: None,
                    created,
                    status: "active".to_owned(),
                    pending: 0,
                };
                store.blocks.insert(blk.id.to_string(), blk);
            }
            Kind::Database => {
                let d = Database {
                    id: state::det_uuid(SALT + 2, b),
                    label: format!("bulk-db-{b:06}"),
                    tag: "bulk".to_owned(),
                    region,
                    plan: "vultr-dbaas-startup-cc-1-55-2".to_owned(),
                    engine: "pg".to_owned(),
                    version: "16".to_owned(),
                    status: "Running".to_owned(),
                    created,
                    seq,
                    pending: 0,
                    trusted_ips: Vec::new(),
                    maintenance_dow: "sunday".to_owned(),
                    maintenance_time: "01:00".to_owned(),
                    vpc_id: String::new(),
                };
                store.databases.insert(d.id.to_string(), d);
            }
            Kind::Bucket => return Err(state::unsupported(P, kind)),
        }
    }
    Ok(())
}

pub(crate) fn summaries(store: &Store, kind: Kind) -> Result<Vec<ResourceSummary>, SandboxError> {
    Ok(match kind {
        Kind::Instance => store.instances.values().map(Instance::summary).collect(),
        Kind::Volume => store.blocks.values().map(Block::summary).collect(),
        Kind::Database => store.databases.values().map(Database::summary).collect(),
        Kind::Bucket => return Err(state::unsupported(P, kind)),
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
                .blocks
                .resolve(target, |b| &b.label, |b| b.id.to_string())?;
            store.blocks.get(&key).map(|b| b.render(&store.instances))
        }
        Kind::Database => {
            let key = store
                .databases
                .resolve(target, |d| &d.label, |d| d.id.to_string())?;
            store.databases.get(&key).map(Database::render)
        }
        Kind::Bucket => None,
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
                Change::SetPlan { plan } => i.plan = plan.clone(),
                Change::PowerOff => i.power_status = "stopped".to_owned(),
                Change::PowerOn => i.power_status = "running".to_owned(),
                Change::SetStatus { status } => i.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Volume => {
            let key = store
                .blocks
                .resolve(&m.target, |b| &b.label, |b| b.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                store.blocks.remove(&key);
                return Ok(());
            }
            let b = store
                .blocks
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            match &m.change {
                Change::SetLabel { label } => b.label = label.clone(),
                Change::SetSize { size_gb } => b.size_gb = *size_gb,
                Change::SetStatus { status } => b.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Database => {
            let key = store
                .databases
                .resolve(&m.target, |d| &d.label, |d| d.id.to_string())
                .ok_or_else(|| state::not_found(m))?;
            if m.change == Change::Delete {
                store.databases.remove(&key);
                return Ok(());
            }
            let d = store
                .databases
                .get_mut(&key)
                .ok_or_else(|| state::not_found(m))?;
            match &m.change {
                Change::SetLabel { label } => d.label = label.clone(),
                Change::SetPlan { plan } => d.plan = plan.clone(),
                Change::SetTags { tags } => d.tag = tags.first().cloned().unwrap_or_default(),
                Change::AddTag { tag } => d.tag = tag.clone(),
                Change::RemoveTag { tag } if &d.tag == tag => d.tag.clear(),
                Change::RemoveTag { .. } => {}
                Change::SetStatus { status } => d.status = status.clone(),
                _ => return Err(state::bad_change(m)),
            }
        }
        Kind::Bucket => return Err(state::unsupported(P, m.kind)),
    }
    Ok(())
}

fn delete_instance_state(store: &mut Store, key: &str) {
    if let Some(i) = store.instances.remove(key) {
        for b in store.blocks.values_mut() {
            if b.attached == Some(i.id) {
                b.attached = None;
            }
        }
    }
}

/// The Vultr emulation.
#[derive(Debug)]
pub(crate) struct Vultr;

/// Forwards the [`Emulation`] calls to this module's functions.
impl Emulation for Vultr {
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
        json!({"error": message, "status": status.as_u16()})
    }

    fn not_found_message(&self, what: &str) -> String {
        format!("{what} not found")
    }

    fn unknown_endpoint_message(&self) -> String {
        "Invalid API endpoint.".to_owned()
    }

    fn invalid_json_message(&self) -> &'static str {
        "Invalid JSON body."
    }

    fn unauthorized_message(&self) -> &'static str {
        "Invalid API token."
    }

    fn too_many_message(&self) -> &'static str {
        "Rate limit reached - please try your request again later."
    }

    fn rate_headers(&self) -> Option<RateHeaders> {
        None
    }
}

fn store(st: &mut AppState) -> &mut Store {
    st.store_mut()
}

// ---------------------------------------------------------------------------
// HTTP

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/vultr/v2/account", get(account))
        .route(
            "/vultr/v2/instances",
            get(list_instances).post(create_instance),
        )
        .route(
            "/vultr/v2/instances/{id}",
            get(get_instance)
                .patch(update_instance)
                .delete(delete_instance),
        )
        .route("/vultr/v2/blocks", get(list_blocks).post(create_block))
        .route(
            "/vultr/v2/blocks/{id}",
            get(get_block).patch(update_block).delete(delete_block),
        )
        .route("/vultr/v2/blocks/{id}/attach", post(attach_block))
        .route("/vultr/v2/blocks/{id}/detach", post(detach_block))
        .route(
            "/vultr/v2/databases",
            get(list_databases).post(create_database),
        )
        .route(
            "/vultr/v2/databases/{id}",
            get(get_database)
                .put(update_database)
                .delete(delete_database),
        )
}

type Q = Query<HashMap<String, String>>;

fn bad(msg: &str) -> Response {
    error(P, StatusCode::BAD_REQUEST, msg)
}

fn wrap(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), v);
    Value::Object(m)
}

async fn account() -> Response {
    json(StatusCode::OK, &catalog::parse(catalog::VULTR_ACCOUNT))
}

fn str_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(&format!("Invalid {key}: must be a string."))),
    }
}

fn str_list(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| bad(&format!("Invalid {key}: must be an array of strings."))),
        Some(_) => Err(bad(&format!("Invalid {key}: must be an array of strings."))),
    }
}

fn present(body: &Map<String, Value>, key: &str) -> bool {
    match body.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_u64() != Some(0),
        Some(_) => true,
    }
}

async fn list_instances(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    let (label, tag, region, ip) = (
        q.get("label"),
        q.get("tag"),
        q.get("region"),
        q.get("main_ip"),
    );
    let seqs = store.instances.select(|i| {
        label.is_none_or(|l| &i.label == l)
            && tag.is_none_or(|t| i.tags.contains(t))
            && region.is_none_or(|r| &i.region == r)
            && ip.is_none_or(|a| state::ip_string(i.main_ip) == *a)
    });
    let page = match pagination::vultr(seqs.len(), &q, mode) {
        Ok(p) => p,
        Err(msg) => return bad(&msg),
    };
    let items = store.instances.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Instance::render,
        Instance::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    list_json(page, "instances", &items)
}

async fn create_instance(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let region =
        str_field(&body, "region")?.ok_or_else(|| bad("Missing required parameter: region"))?;
    if !VULTR_REGIONS.contains(&region.as_str()) {
        return Err(bad("Invalid region."));
    }
    let plan = str_field(&body, "plan")?.ok_or_else(|| bad("Missing required parameter: plan"))?;
    if catalog::vultr_plan(&plan).is_none() {
        return Err(bad("Invalid plan."));
    }
    let sources = ["os_id", "iso_id", "snapshot_id", "app_id", "image_id"]
        .iter()
        .filter(|k| present(&body, k))
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
    if present(&body, "os_id")
        && !catalog::VULTR_OS
            .iter()
            .any(|(id, _)| u64::from(*id) == os_id)
    {
        return Err(bad("Invalid operating system."));
    }
    if let Some(data) = str_field(&body, "user_data")?
        && base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .is_err()
    {
        return Err(bad("Invalid user_data: must be base64 encoded."));
    }
    // `sshkey_id` takes the ids of the account's SSH keys (UUIDs), not names or fingerprints.
    if let Some(keys) = str_list(&body, "sshkey_id")?
        && keys.iter().any(|k| uuid::Uuid::parse_str(k).is_err())
    {
        return Err(bad("Invalid SSH key ID."));
    }
    let label = str_field(&body, "label")?.unwrap_or_default();
    let hostname = str_field(&body, "hostname")?.unwrap_or_else(|| {
        if label.is_empty() {
            "vultr-guest".to_owned()
        } else {
            label.clone()
        }
    });
    let tags = str_list(&body, "tags")?.unwrap_or_default();
    let mut features = Vec::new();
    if body.get("enable_ipv6").and_then(Value::as_bool) == Some(true) {
        features.push("ipv6".to_owned());
    }
    if str_field(&body, "backups")?.as_deref() == Some("enabled") {
        features.push("auto_backups".to_owned());
    }
    if body.get("ddos_protection").and_then(Value::as_bool) == Some(true) {
        features.push("ddos_protection".to_owned());
    }
    let mut st = app.state();
    let seq = st.next_seq();
    let pending = app.lifecycle.pending_polls;
    let mut inst = Instance {
        id: Uuid::new_v4(),
        label,
        hostname,
        region,
        plan,
        os_id: u32::try_from(os_id).unwrap_or(0),
        app_id: u32::try_from(body.get("app_id").and_then(Value::as_u64).unwrap_or(0)).unwrap_or(0),
        image_id: str_field(&body, "image_id")?.unwrap_or_default(),
        snapshot_id: str_field(&body, "snapshot_id")?.unwrap_or_default(),
        main_ip: state::public_ip(seq),
        internal_ip: state::private_ip(seq),
        created: state::now(),
        status: "pending".to_owned(),
        power_status: "stopped".to_owned(),
        server_status: "installingbooting".to_owned(),
        tags,
        features,
        firewall_group_id: str_field(&body, "firewall_group_id")?.unwrap_or_default(),
        user_scheme: str_field(&body, "user_scheme")?.unwrap_or_else(|| "root".to_owned()),
        seq,
        pending: pending.max(1),
    };
    let rendered = inst.render();
    if pending == 0 {
        inst.observe();
    }
    store(&mut st).instances.insert(inst.id.to_string(), inst);
    Ok(json(StatusCode::ACCEPTED, &wrap("instance", rendered)))
}

fn instance_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "instance not found")
}

async fn get_instance(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).instances.get_mut(&id) {
        Some(i) => {
            let v = i.render();
            i.observe();
            json(StatusCode::OK, &wrap("instance", v))
        }
        None => instance_404(),
    }
}

async fn update_instance(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let plan = str_field(&body, "plan")?;
    let label = str_field(&body, "label")?;
    let tags = str_list(&body, "tags")?;
    let mut st = app.state();
    let i = store(&mut st)
        .instances
        .get_mut(&id)
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

async fn delete_instance(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    if !store(&mut st).instances.contains(&id) {
        return instance_404();
    }
    delete_instance_state(store(&mut st), &id);
    empty(StatusCode::NO_CONTENT)
}

fn block_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "Invalid block storage ID")
}

async fn list_blocks(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    let seqs = store.blocks.select(|_| true);
    let page = match pagination::vultr(seqs.len(), &q, mode) {
        Ok(p) => p,
        Err(msg) => return bad(&msg),
    };
    let instances = &store.instances;
    let items = store.blocks.render_page(
        &seqs[page.range.clone()],
        |b| state::fingerprint(&(b, b.attached_instance(instances))),
        |b| b.render(instances),
        Block::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    list_json(page, "blocks", &items)
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
    let region =
        str_field(&body, "region")?.ok_or_else(|| bad("Missing required parameter: region"))?;
    if !VULTR_REGIONS.contains(&region.as_str()) {
        return Err(bad("Invalid region."));
    }
    let size = body
        .get("size_gb")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("Missing required parameter: size_gb"))?;
    let block_type = str_field(&body, "block_type")?.unwrap_or_else(|| "high_perf".to_owned());
    let (min, max) = block_limits(&block_type)
        .ok_or_else(|| bad("Invalid block_type. Must be high_perf or storage_opt."))?;
    if !(min..=max).contains(&size) {
        return Err(bad(&format!(
            "Invalid size_gb: {block_type} block storage must be between {min} and {max} GB."
        )));
    }
    let pending = app.lifecycle.pending_polls;
    let mut b = Block {
        id: Uuid::new_v4(),
        label: str_field(&body, "label")?.unwrap_or_default(),
        region,
        size_gb: size,
        block_type,
        attached: None,
        created: state::now(),
        status: "pending".to_owned(),
        pending: pending.max(1),
    };
    let mut st = app.state();
    let rendered = b.render(&store(&mut st).instances);
    if pending == 0 {
        b.observe();
    }
    store(&mut st).blocks.insert(b.id.to_string(), b);
    Ok(json(StatusCode::ACCEPTED, &wrap("block", rendered)))
}

async fn get_block(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    match store.blocks.get_mut(&id) {
        Some(b) => {
            let v = b.render(&store.instances);
            b.observe();
            json(StatusCode::OK, &wrap("block", v))
        }
        None => block_404(),
    }
}

async fn update_block(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = str_field(&body, "label")?;
    let size = match body.get("size_gb") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| bad("Invalid size_gb."))?),
    };
    let mut st = app.state();
    let b = store(&mut st).blocks.get_mut(&id).ok_or_else(block_404)?;
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

async fn delete_block(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).blocks.remove(&id) {
        Some(_) => empty(StatusCode::NO_CONTENT),
        None => block_404(),
    }
}

async fn attach_block(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let instance_id = str_field(&body, "instance_id")?
        .ok_or_else(|| bad("Missing required parameter: instance_id"))?;
    let mut st = app.state();
    let store = store(&mut st);
    let inst = store
        .instances
        .get(&instance_id)
        .ok_or_else(|| bad("Invalid instance_id."))?;
    let (inst_id, inst_region) = (inst.id, inst.region.clone());
    let b = store.blocks.get_mut(&id).ok_or_else(block_404)?;
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

async fn detach_block(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let _body = body_object(P, &body)?;
    let mut st = app.state();
    let b = store(&mut st).blocks.get_mut(&id).ok_or_else(block_404)?;
    if b.attached.take().is_none() {
        return Err(bad("Block storage is not attached to a server."));
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

fn database_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "database not found")
}

async fn list_databases(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    let (label, tag, region) = (q.get("label"), q.get("tag"), q.get("region"));
    let seqs = store.databases.select(|d| {
        label.is_none_or(|l| &d.label == l)
            && tag.is_none_or(|t| &d.tag == t)
            && region.is_none_or(|r| &d.region == r)
    });
    // Not paginated ([vultr-spec] `GET /databases` declares only `label`, `tag` and `region`;
    // its `meta` is `{total}`): every database in one response.
    let page = pagination::whole(seqs.len(), mode);
    let items = store.databases.render_page(
        &seqs[page.range.clone()],
        state::fingerprint,
        Database::render,
        Database::observe,
    );
    // Serialise outside the lock: other requests need not wait for it.
    drop(st);
    list_json(page, "databases", &items)
}

async fn create_database(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let engine = str_field(&body, "database_engine")?
        .ok_or_else(|| bad("Missing required parameter: database_engine"))?;
    if !DB_ENGINES.iter().any(|(e, _)| *e == engine) {
        return Err(bad("Invalid database_engine."));
    }
    let version = str_field(&body, "database_engine_version")?
        .ok_or_else(|| bad("Missing required parameter: database_engine_version"))?;
    let region =
        str_field(&body, "region")?.ok_or_else(|| bad("Missing required parameter: region"))?;
    if !VULTR_REGIONS.contains(&region.as_str()) {
        return Err(bad("Invalid region."));
    }
    let plan = str_field(&body, "plan")?.ok_or_else(|| bad("Missing required parameter: plan"))?;
    if !plan.starts_with("vultr-dbaas-") {
        return Err(bad("Invalid plan."));
    }
    let label =
        str_field(&body, "label")?.ok_or_else(|| bad("Missing required parameter: label"))?;
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let seq = st.next_seq();
    let mut d = Database {
        id: Uuid::new_v4(),
        label,
        tag: str_field(&body, "tag")?.unwrap_or_default(),
        region,
        plan,
        engine,
        version,
        status: "Rebuilding".to_owned(),
        created: state::now(),
        seq,
        pending: pending.max(1),
        trusted_ips: str_list(&body, "trusted_ips")?.unwrap_or_default(),
        maintenance_dow: str_field(&body, "maintenance_dow")?
            .unwrap_or_else(|| "sunday".to_owned()),
        maintenance_time: str_field(&body, "maintenance_time")?
            .unwrap_or_else(|| "06:00".to_owned()),
        vpc_id: str_field(&body, "vpc_id")?.unwrap_or_default(),
    };
    let rendered = d.render();
    if pending == 0 {
        d.observe();
    }
    store(&mut st).databases.insert(d.id.to_string(), d);
    Ok(json(StatusCode::ACCEPTED, &wrap("database", rendered)))
}

async fn get_database(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).databases.get_mut(&id) {
        Some(d) => {
            let v = d.render();
            d.observe();
            json(StatusCode::OK, &wrap("database", v))
        }
        None => database_404(),
    }
}

async fn update_database(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let label = str_field(&body, "label")?;
    let tag = str_field(&body, "tag")?;
    let plan = str_field(&body, "plan")?;
    let dow = str_field(&body, "maintenance_dow")?;
    let time = str_field(&body, "maintenance_time")?;
    let ips = str_list(&body, "trusted_ips")?;
    let mut st = app.state();
    let d = store(&mut st)
        .databases
        .get_mut(&id)
        .ok_or_else(database_404)?;
    if let Some(v) = label {
        d.label = v;
    }
    if let Some(v) = tag {
        d.tag = v;
    }
    if let Some(v) = plan {
        d.plan = v;
    }
    if let Some(v) = dow {
        d.maintenance_dow = v;
    }
    if let Some(v) = time {
        d.maintenance_time = v;
    }
    if let Some(v) = ips {
        d.trusted_ips = v;
    }
    Ok(json(StatusCode::ACCEPTED, &wrap("database", d.render())))
}

async fn delete_database(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).databases.remove(&id) {
        Some(_) => empty(StatusCode::NO_CONTENT),
        None => database_404(),
    }
}
