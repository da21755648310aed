//! Cloudflare D1 databases (`/accounts/{account_id}/d1/database`) as `databases` records with
//! `engine = "d1"` ([cf-spec] cloudflare-d1-list-databases, -create-database, -get-database,
//! -delete-database; [cf-go] d1/database.go; provider-apis-2.md §3.3–3.4).
//!
//! A database's id is its `uuid`, its name unique in the account. Listed by `page`/`per_page`
//! (10 to 10,000) with `result_info`. D1 reports no status: a listed database is `active`. The
//! `region` of an entry is sent as `primary_location_hint` at creation and never reported back.
//! D1 databases carry no tags: a create whose answer was lost is found again by its name
//! (the list's `name` filter, matched exactly here).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{Attrs, DatabaseAttrs};
use stackdock_core::{Kind, Record};

use super::declaration::DATABASES_ROUTE;
use super::{Cloudflare, Collection, seal, skeleton};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::error::gone_ok;
use crate::http::ListOptions;
use crate::spec::{not_in_place, spec_str};
use crate::{DockContext, ErrorClass, Listed, ProviderError, Request};

const DATABASE_ROUTE: &str = "/accounts/{account_id}/d1/database/{database_id}";

pub(super) static DATABASES: Collection = Collection {
    kind: Kind::Databases,
    list: DATABASES_ROUTE,
    one: DATABASE_ROUTE,
    key: super::RESULT,
    map: |ctx, item| database_record(ctx, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([cf-go] d1/database.go `DatabaseListResponse`, `D1`)

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DatabaseWire {
    uuid: Option<String>,
    name: Option<String>,
    /// `alpha`, `beta` or `production` ([cf-spec] `d1_database-version`).
    version: Option<String>,
}

/// `POST /accounts/{account_id}/d1/database` ([cf-spec]): `name` required.
#[derive(Debug, Serialize)]
struct CreateDatabase<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_location_hint: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// A D1 database object → a `databases` record (id: its uuid; engine `d1`).
fn database_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: DatabaseWire = raw.decode().map_err(|e| format!("a D1 database: {e}"))?;
    let id = wire
        .uuid
        .filter(|s| !s.trim().is_empty())
        .ok_or("a D1 database without a `uuid`")?;
    let name = wire
        .name
        .filter(|s| !s.trim().is_empty())
        .ok_or("a D1 database without a `name`")?;
    let mut record = skeleton(ctx, Kind::Databases, &id, &name);
    // D1 reports no status: a listed database exists and serves queries.
    record.status = "active".into();
    record.attrs = Attrs::Databases(DatabaseAttrs {
        engine: Some("d1".to_owned()),
        version: wire.version,
        ..DatabaseAttrs::default()
    });
    Ok(seal(record, raw))
}

/// A D1 database id is a UUID (`8-4-4-4-12` hex digits): checked before it reaches a path.
fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Cloudflare {
    /// The dock's account, which D1 needs (the parser requires it on a dock that declares
    /// databases).
    fn d1_account(&self, route: &str) -> Result<&str, ProviderError> {
        self.account_id().ok_or_else(|| {
            self.invalid(
                route,
                format!(
                    "D1 databases live in a Cloudflare account: set `account_id` on dock `{}` (32 hex digits, on the dashboard's overview)",
                    self.ctx().dock
                ),
            )
        })
    }

    /// The path of database `id` in `account`, its id checked first.
    fn database_path(&self, route: &str, account: &str, id: &str) -> Result<String, ProviderError> {
        if !is_uuid(id) {
            return Err(self.invalid(route, format!("`{id}` is not a D1 database id (a UUID)")));
        }
        Ok(format!("/accounts/{account}/d1/database/{id}"))
    }

    /// The account's databases narrowed by `options`; none without an account.
    async fn databases(&self, options: ListOptions) -> Result<Vec<Record>, ProviderError> {
        let Some(account) = self.account_id() else {
            return Ok(Vec::new());
        };
        let options = options.path(format!("/accounts/{account}/d1/database"));
        self.list_with(&DATABASES, &options).await
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// D1 databases: ready once created (creation is synchronous); nothing changes in place.
#[derive(Debug)]
pub(super) struct Databases;

#[async_trait::async_trait]
impl KindAdapter<Cloudflare> for Databases {
    fn kind(&self) -> Kind {
        Kind::Databases
    }

    fn collection(&self) -> &'static Collection {
        &DATABASES
    }

    /// A dock without `account_id` holds no databases (the parser refuses one declared there),
    /// so its listing is complete and empty.
    async fn list(&self, cf: &Cloudflare) -> Result<Vec<Record>, ProviderError> {
        cf.databases(ListOptions::new()).await
    }

    async fn get(&self, cf: &Cloudflare, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {DATABASE_ROUTE}");
        let account = cf.d1_account(&route)?;
        let path = cf.database_path(&route, account, id)?;
        cf.read(DATABASE_ROUTE, &path, DATABASES.map).await
    }

    /// The database of the entry's name, if it exists: names are unique in an account.
    async fn find_owned(
        &self,
        cf: &Cloudflare,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let named = cf
            .databases(ListOptions::new().query("name", &spec.name))
            .await?;
        Ok(named.into_iter().filter(|d| d.name == spec.name).collect())
    }

    async fn create(&self, cf: &Cloudflare, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {DATABASES_ROUTE}");
        let account = cf.d1_account(&route)?;
        let body = CreateDatabase {
            name: &request.spec.name,
            primary_location_hint: spec_str(request.spec, "region"),
        };
        let path = format!("/accounts/{account}/d1/database");
        let answer: Value = cf
            .account
            .client
            .post_json(DATABASES_ROUTE, &path, &body, &[])
            .await?;
        cf.map_answer(&route, answer, DATABASES.map)
    }

    async fn update(&self, cf: &Cloudflare, u: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {DATABASE_ROUTE}");
        if let Some(change) = u.changes.first() {
            return Err(not_in_place(cf.ctx(), &route, Kind::Databases, change));
        }
        self.get(cf, u.id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &cf.ctx().dock,
                &route,
                format!(
                    "database {} no longer exists; run `stackdock sync` to refresh the inventory",
                    u.id
                ),
            )
        })
    }

    async fn delete(&self, cf: &Cloudflare, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {DATABASE_ROUTE}");
        let account = cf.d1_account(&route)?;
        let path = cf.database_path(&route, account, id)?;
        gone_ok(cf.account.client.delete(DATABASE_ROUTE, &path, &[]).await)
    }

    fn readiness(&self, _record: &Record) -> Readiness {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stackdock_core::FieldValue;

    use super::*;
    use crate::cloudflare::tests::ctx;

    const UUID: &str = "6b2a8d51-4c7e-4f3a-9e21-0d5c8b7a6f43";

    #[test]
    fn databases_map_as_d1_with_their_uuid() {
        let raw = json!({"uuid": UUID, "name": "acme-sessions", "version": "production",
            "created_at": "2026-01-02T03:04:05.000Z", "num_tables": 3, "file_size": 12288});
        let r = database_record(&ctx(), raw.clone()).expect("maps");
        assert_eq!(
            (
                r.provider_resource_id.as_str(),
                r.name.as_str(),
                r.status.as_str()
            ),
            (UUID, "acme-sessions", "active")
        );
        assert_eq!(r.field("engine"), Some(FieldValue::from("d1")));
        assert_eq!(r.field("version"), Some(FieldValue::from("production")));
        assert_eq!(r.full_api_data, raw);
        assert!(database_record(&ctx(), json!({"name": "x"})).is_err());
        assert!(database_record(&ctx(), json!({"uuid": UUID})).is_err());
    }

    #[test]
    fn ids_are_uuids_before_they_reach_a_path() {
        assert!(is_uuid(UUID));
        for bad in [
            "",
            "acme-sessions",
            "../d1",
            &format!("{UUID}0"),
            "6b2a8d51-4c7e-4f3a-9e21",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn the_create_body_is_the_documented_one() {
        let body = CreateDatabase {
            name: "acme-sessions",
            primary_location_hint: Some("weur"),
        };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            json!({"name": "acme-sessions", "primary_location_hint": "weur"})
        );
    }
}
