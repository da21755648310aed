//! Vultr managed databases (`/databases`) as `databases`: the wire type, the mapping to the
//! universal record, and create / update (plan, label) / delete.
//!
//! Vultr returns the default user's password and other credentials in every database object,
//! listings included: they are removed before a record exists (`client::record` redacts). This
//! module must never log a database object.

use serde::{Deserialize, Serialize};
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, DatabaseAttrs};
use stackdock_core::{FieldValue, Kind, Record};

use super::Vultr;
use super::client::{
    self, Collection, Write, decode_object, get_existing, lenient, non_empty, not_in_place,
    required_str, send_changes, update_route,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::http::ListOptions;
use crate::{DockContext, Listed, ProviderError, Request};

const ROUTE: &str = "/databases";
const ROUTE_ID: &str = "/databases/{id}";
const COLLECTION: Collection = Collection {
    kind: Kind::Databases,
    route: ROUTE,
    route_id: ROUTE_ID,
    list_key: "databases",
    one_key: "database",
    item: to_record,
    value: to_record,
    write: Write::Put,
};

// ---------------------------------------------------------------------------------------------
// Wire type

/// The fields of a database object this adapter reads ([govultr] database.go `Database`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct Database {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub label: String,
    #[serde(deserialize_with = "lenient::string")]
    pub tag: String,
    #[serde(deserialize_with = "lenient::string")]
    pub region: String,
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(deserialize_with = "lenient::string")]
    pub plan: String,
    #[serde(deserialize_with = "lenient::string")]
    pub database_engine: String,
    #[serde(deserialize_with = "lenient::string")]
    pub database_engine_version: String,
    #[serde(deserialize_with = "lenient::string")]
    pub host: String,
    /// A string in the API (`"16751"`), sometimes empty.
    #[serde(deserialize_with = "lenient::string")]
    pub port: String,
}

/// `POST /databases` ([vultr-spec] create_database): the owner tag goes into `tag`. Fields in
/// alphabetical order, as serde_json's map wrote them before this type existed.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(super) struct CreateBody<'a> {
    database_engine: &'a str,
    database_engine_version: &'a str,
    label: &'a str,
    plan: &'a str,
    region: &'a str,
    tag: &'a str,
}

/// `PUT /databases/{id}` ([vultr-spec] update_database): only the fields that change.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct UpdateBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// The database's status lower-cased (`running`, `rebuilding`, `rebalancing`, `configuring`,
/// `error`); one without a status is `active`.
pub(super) fn status(d: &Database) -> String {
    if d.status.is_empty() {
        "active".to_owned()
    } else {
        d.status.to_ascii_lowercase()
    }
}

/// The database record of one database object.
pub(super) fn to_record(
    ctx: &DockContext,
    route: &str,
    value: impl Listed,
) -> Result<Record, ProviderError> {
    let d: Database = decode_object(&ctx.dock, route, &value)?;
    client::require_id(ctx, route, Kind::Databases, &d.id)?;
    let attrs = Attrs::Databases(DatabaseAttrs {
        engine: non_empty(&d.database_engine),
        version: non_empty(&d.database_engine_version),
        instance_type: non_empty(&d.plan),
        host: non_empty(&d.host),
        port: d.port.trim().parse::<i64>().ok(),
    });
    Ok(client::record(
        ctx,
        &d.id,
        &d.label,
        status(&d),
        &d.region,
        attrs,
        value,
    ))
}

/// Whether `wait_ready` is done with a database ([tf-vultr] waits for `Running`).
pub(super) fn is_ready(record: &Record) -> bool {
    record.status == "running"
}

// ---------------------------------------------------------------------------------------------
// Operations

/// The listing `options` ask for, in one request: the spec's `GET /databases` takes only `label`,
/// `tag` and `region`, no pages.
async fn list_with(v: &Vultr, options: ListOptions) -> Result<Vec<Record>, ProviderError> {
    client::list(v, &COLLECTION, &options.whole()).await
}

/// The create request body ([vultr-spec] create_database): the owner tag goes into `tag`.
pub(super) fn create_body<'a>(
    ctx: &DockContext,
    spec: &'a ResourceSpec,
) -> Result<CreateBody<'a>, ProviderError> {
    let route = format!("POST {ROUTE}");
    let required = |key| required_str(ctx, &route, Kind::Databases, spec, key);
    Ok(CreateBody {
        database_engine: required("engine")?,
        database_engine_version: required("version")?,
        region: required("region")?,
        plan: required("plan")?,
        label: &spec.name,
        tag: &spec.owner_tag,
    })
}

/// The PUT body for in-place changes (plan, label).
pub(super) fn update_body(
    ctx: &DockContext,
    changes: &[FieldChange],
) -> Result<UpdateBody, ProviderError> {
    let route = update_route(&COLLECTION);
    let mut body = UpdateBody::default();
    for c in changes {
        match (c.field.as_str(), &c.after) {
            ("name", Some(FieldValue::Str(name))) => body.label = Some(name.to_string()),
            ("plan", Some(FieldValue::Str(plan))) => body.plan = Some(plan.to_string()),
            _ => return Err(not_in_place(ctx, &route, COLLECTION.kind, c)),
        }
    }
    Ok(body)
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Databases are Vultr managed databases (`/databases`).
#[derive(Debug)]
pub(super) struct Databases;

#[async_trait::async_trait]
impl KindAdapter<Vultr> for Databases {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    fn kind(&self) -> Kind {
        Kind::Databases
    }

    async fn list(&self, v: &Vultr) -> Result<Vec<Record>, ProviderError> {
        list_with(v, ListOptions::new()).await
    }

    /// Databases whose single `tag` is the owner tag (filtered server-side, checked again here).
    async fn find_owned(
        &self,
        v: &Vultr,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let options = ListOptions::new().query("tag", &spec.owner_tag);
        Ok(list_with(v, options)
            .await?
            .into_iter()
            .filter(|r| r.full_api_data.get_str("tag").as_ref() == Some(&spec.owner_tag))
            .collect())
    }

    async fn create(&self, v: &Vultr, request: Request<'_>) -> Result<Record, ProviderError> {
        let body = create_body(&v.account.ctx, request.spec)?;
        client::create(v, &COLLECTION, &body).await
    }

    /// One PUT with every change; returns the database as Vultr answered.
    async fn update(&self, v: &Vultr, u: Update<'_>) -> Result<Record, ProviderError> {
        let id = u.id;
        let body = update_body(&v.account.ctx, u.changes)?;
        if body == UpdateBody::default() {
            return get_existing(v, &COLLECTION, id).await;
        }
        let answer = send_changes(v, &COLLECTION, id, &body).await?;
        client::updated(v, &COLLECTION, &update_route(&COLLECTION), id, answer).await
    }

    fn readiness(&self, record: &Record) -> Readiness {
        Readiness::when(is_ready(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use crate::provider::assert_no_secret;
    use crate::vultr::client::testing::{ctx, fixture, fixture_records};
    use crate::vultr::declaration::SECRET_KEYS as VULTR_SECRET_KEYS;
    use serde_json::json;

    const FIXTURE: &str = include_str!("../../../../fixtures/vultr/databases.json");

    fn db(r: &Record) -> &DatabaseAttrs {
        match &r.attrs {
            Attrs::Databases(a) => a,
            other => panic!("not a database: {other:?}"),
        }
    }

    #[test]
    fn fixture_databases_map_to_database_records() {
        let records = fixture_records(&COLLECTION, FIXTURE);
        assert_eq!(records.len(), 2);
        let pg = &records[0];
        assert_eq!(
            (pg.name.as_str(), pg.status.as_str(), pg.region.as_deref()),
            ("reporting-pg", "running", Some("ewr"))
        );
        assert_eq!(
            db(pg),
            &DatabaseAttrs {
                engine: Some("pg".into()),
                version: Some("16".into()),
                instance_type: Some("vultr-dbaas-startup-cc-1-55-2".into()),
                host: Some("vultr-prod-a4d1c9e2-0001.vultrdb.com".into()),
                port: Some(16751),
            }
        );
        assert_eq!(
            pg.field("plan"),
            Some(FieldValue::Str("vultr-dbaas-startup-cc-1-55-2".into()))
        );
        let kafka = &records[1];
        assert_eq!(
            (
                kafka.name.as_str(),
                db(kafka).engine.as_deref(),
                db(kafka).port
            ),
            ("events-kafka", Some("kafka"), Some(16752))
        );
    }

    #[test]
    fn every_secret_field_in_the_fixture_is_redacted() {
        let mut seen = std::collections::BTreeSet::new();
        for v in fixture(&COLLECTION, FIXTURE) {
            let secrets: Vec<String> = v
                .as_object()
                .expect("object")
                .keys()
                .filter(|k| VULTR_SECRET_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            let r = to_record(&ctx(), "GET /databases", v).expect("maps");
            for k in &secrets {
                assert!(r.full_api_data.get(k).is_none(), "{k} kept");
            }
            seen.extend(secrets);
            assert_no_secret(&r);
            // What is not secret stays: the host and the CA certificate are inventory.
            assert!(
                r.full_api_data.get("host").is_some()
                    && r.full_api_data.get("ca_certificate").is_some()
            );
        }
        assert_eq!(
            seen,
            ["access_cert", "access_key", "password"]
                .map(String::from)
                .into()
        );
        // FerretDB credentials (not in the fixture; the sandbox serves them) go as a whole.
        let r = to_record(
            &ctx(),
            "GET /databases",
            json!({"id": "f", "ferretdb_credentials": {"host": "h", "password": "SANDBOX-SECRET-x"}, "read_replicas": [{"id": "r", "password": "SANDBOX-SECRET-y"}]}),
        )
        .expect("maps");
        assert_eq!(
            r.full_api_data,
            json!({"id": "f", "read_replicas": [{"id": "r"}]})
        );
    }

    #[test]
    fn status_mapping_table() {
        let cases = [
            ("Running", "running"),
            ("Rebuilding", "rebuilding"),
            ("Rebalancing", "rebalancing"),
            ("Configuring", "configuring"),
            ("Error", "error"),
            ("", "active"),
        ];
        for (raw, want) in cases {
            let d = Database {
                status: raw.into(),
                ..Database::default()
            };
            assert_eq!(status(&d), want, "{raw:?}");
        }
    }

    #[test]
    fn port_is_parsed_from_a_string_or_left_out() {
        for (port, want) in [
            (json!("16751"), Some(16751)),
            (json!(5432), Some(5432)),
            (json!(""), None),
            (json!(null), None),
            (json!("x"), None),
        ] {
            let r = to_record(&ctx(), "GET /databases", json!({"id": "d", "port": port}))
                .expect("maps");
            assert_eq!(db(&r).port, want, "{port}");
        }
    }

    #[test]
    fn create_body_tags_with_the_owner_tag_and_update_body_takes_plan_and_label() {
        let s = ResourceSpec {
            name: "main-db".into(),
            owner_tag: "stackdock-0123456789abcdef".into(),
            fields: [
                ("engine", "pg"),
                ("version", "16"),
                ("plan", "vultr-dbaas-startup-cc-1-55-2"),
                ("region", "ewr"),
            ]
            .into_iter()
            .map(|(k, v)| (k.into(), FieldValue::from(v)))
            .collect(),
            protect: false,
        };
        assert_eq!(
            serde_json::to_value(create_body(&ctx(), &s).expect("valid")).expect("json"),
            json!({"database_engine": "pg", "database_engine_version": "16", "region": "ewr",
                   "plan": "vultr-dbaas-startup-cc-1-55-2", "label": "main-db", "tag": "stackdock-0123456789abcdef"})
        );
        let change = |field: &str, after: &str| FieldChange {
            field: field.into(),
            before: None,
            after: Some(after.into()),
        };
        assert_eq!(
            serde_json::to_value(
                update_body(
                    &ctx(),
                    &[
                        change("plan", "vultr-dbaas-business-cc-2-80-4"),
                        change("name", "db-2")
                    ]
                )
                .expect("in place")
            )
            .expect("json"),
            json!({"plan": "vultr-dbaas-business-cc-2-80-4", "label": "db-2"})
        );
        assert_eq!(
            update_body(&ctx(), &[change("engine", "mysql")])
                .expect_err("replace")
                .class,
            ErrorClass::Invalid
        );
    }
}
