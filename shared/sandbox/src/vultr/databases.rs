//! Vultr managed databases (`/databases`): the stored database and its JSON (engine-specific
//! fields and credentials), its fixtures and bulk generation, out-of-band changes, and the
//! handlers (list, create, get, update, delete).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{P, SALT, Store, bad, parse_uuid, region_field, secret_seq, store};
use crate::catalog;
use crate::collection::{ListRequest, delete_one, get_one, list_route, stored, with_body};
use crate::editable::{Editable, resource};
use crate::http::Listing;
use crate::http::{JsonBody, body_object, error, json, no_content, wrap};
use crate::pagination::{self};
use crate::server::App;
use crate::state::{self, Change, Resource, Slot, State as AppState, fields, time_vultr};
use crate::{Kind, SECRET_MARKER};
use axum::routing::MethodFilter;

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

resource!(
    Database,
    key: |d| d.id.to_string(),
    label: label,
    summary: |d| (&d.status, &d.region, &d.plan, &d.tags()),
    edit: |d| Editable::default()
        .label(&mut d.label)
        .status(&mut d.status)
        .plan(&mut d.plan),
    change: |d, change| d.change_tag(change),
    observe: |d| if state::countdown(&mut d.pending) {
        d.status = "Running".to_owned();
    },
);

impl Database {
    /// Its tags: the one `tag`, if set.
    fn tags(&self) -> Vec<String> {
        if self.tag.is_empty() {
            Vec::new()
        } else {
            vec![self.tag.clone()]
        }
    }

    /// A database has one `tag`: tag changes set, replace or clear it.
    fn change_tag(&mut self, change: &Change) -> bool {
        match change {
            Change::SetTags { tags } => self.tag = tags.first().cloned().unwrap_or_default(),
            Change::AddTag { tag } => self.tag = tag.clone(),
            Change::RemoveTag { tag } if &self.tag == tag => self.tag.clear(),
            Change::RemoveTag { .. } => {}
            _ => return false,
        }
        true
    }

    pub(super) fn render(&self) -> Value {
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
}

// ---------------------------------------------------------------------------
// seeding

pub(super) fn seed_fixtures(st: &mut AppState) {
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
        store(st).databases.insert(d.key(), d);
    }
}

fn bulk(_store: &mut Store, slot: Slot) -> Database {
    let b = slot.n;
    Database {
        id: state::det_uuid(SALT + 2, b),
        label: format!("bulk-db-{b:06}"),
        tag: "bulk".to_owned(),
        region: slot.region,
        plan: "vultr-dbaas-startup-cc-1-55-2".to_owned(),
        engine: "pg".to_owned(),
        version: "16".to_owned(),
        status: "Running".to_owned(),
        created: slot.created,
        seq: slot.seq,
        pending: 0,
        trusted_ips: Vec::new(),
        maintenance_dow: "sunday".to_owned(),
        maintenance_time: "01:00".to_owned(),
        vpc_id: String::new(),
    }
}

stored!(Database: Kind::Database, in Store.databases, render: |d, _s| d.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/vultr/v2/databases",
            list_route("databases", list_databases).post(create_database),
        )
        .route(
            "/vultr/v2/databases/{id}",
            get_one::<Database>(Some("database"), database_404)
                .merge(with_body(P, MethodFilter::PUT, update_database))
                .merge(delete_one::<Database>(|_| None, no_content, database_404)),
        )
}

fn database_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "database not found")
}

fn list_databases(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let (label, tag, region) = (
        req.query.get("label"),
        req.query.get("tag"),
        req.query.get("region"),
    );
    let seqs = store.databases.select(|d| {
        label.is_none_or(|l| &d.label == l)
            && tag.is_none_or(|t| &d.tag == t)
            && region.is_none_or(|r| &d.region == r)
    });
    // Not paginated ([vultr-spec] `GET /databases` declares only `label`, `tag` and `region`;
    // its `meta` is `{total}`): every database in one response.
    let page = pagination::whole(seqs.len(), req.mode);
    Ok(store
        .databases
        .listing(&seqs, page, state::fingerprint, Database::render))
}

async fn create_database(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let engine = body
        .str("database_engine")?
        .ok_or_else(|| bad("Missing required parameter: database_engine"))?;
    if !DB_ENGINES.iter().any(|(e, _)| *e == engine) {
        return Err(bad("Invalid database_engine."));
    }
    let version = body
        .str("database_engine_version")?
        .ok_or_else(|| bad("Missing required parameter: database_engine_version"))?;
    let region = region_field(&body)?;
    let plan = body
        .str("plan")?
        .ok_or_else(|| bad("Missing required parameter: plan"))?;
    if !plan.starts_with("vultr-dbaas-") {
        return Err(bad("Invalid plan."));
    }
    let label = body
        .str("label")?
        .ok_or_else(|| bad("Missing required parameter: label"))?;
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let seq = st.next_seq();
    let d = Database {
        id: Uuid::new_v4(),
        label,
        tag: body.str("tag")?.unwrap_or_default(),
        region,
        plan,
        engine,
        version,
        status: "Rebuilding".to_owned(),
        created: state::now(),
        seq,
        pending: pending.max(1),
        trusted_ips: body.strings("trusted_ips")?.unwrap_or_default(),
        maintenance_dow: body
            .str("maintenance_dow")?
            .unwrap_or_else(|| "sunday".to_owned()),
        maintenance_time: body
            .str("maintenance_time")?
            .unwrap_or_else(|| "06:00".to_owned()),
        vpc_id: body.str("vpc_id")?.unwrap_or_default(),
    };
    let rendered = store(&mut st)
        .databases
        .create(d, pending, Database::render);
    Ok(json(StatusCode::ACCEPTED, &wrap("database", rendered)))
}

fn update_database(app: &App, id: &str, body: &JsonBody) -> Result<Response, Response> {
    let label = body.str("label")?;
    let tag = body.str("tag")?;
    let plan = body.str("plan")?;
    let dow = body.str("maintenance_dow")?;
    let time = body.str("maintenance_time")?;
    let ips = body.strings("trusted_ips")?;
    let mut st = app.state();
    let d = store(&mut st)
        .databases
        .get_mut(id)
        .ok_or_else(database_404)?;
    for (field, value) in [
        (&mut d.label, label),
        (&mut d.tag, tag),
        (&mut d.plan, plan),
        (&mut d.maintenance_dow, dow),
        (&mut d.maintenance_time, time),
    ] {
        if let Some(value) = value {
            *field = value;
        }
    }
    if let Some(v) = ips {
        d.trusted_ips = v;
    }
    Ok(json(StatusCode::ACCEPTED, &wrap("database", d.render())))
}
