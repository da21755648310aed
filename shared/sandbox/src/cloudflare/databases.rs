//! Cloudflare D1 databases ([cf-spec] cloudflare-d1-list-databases, -create-database,
//! -get-database, -delete-database; [cf-go] d1/database.go): uuid ids, names unique in the
//! account (`^[a-z0-9][a-z0-9-_]*$`), listed by `page`/`per_page` (10 to 10,000, default
//! 1,000) with `result_info` and the `name` filter; created at once with an optional
//! `primary_location_hint`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{P, Store, bad, check_account, delete_in_account, error, get_in_account, ok, store};
use crate::Kind;
use crate::collection::stored;
use crate::editable::{Editable, resource};
use crate::http::{Q, body_object};
use crate::pagination::{self, PageMode, PerPage};
use crate::server::App;
use crate::state::{self, Slot, fields, time_do};

/// [cf-spec] cloudflare-d1-list-databases `per_page`.
const PER_PAGE: PerPage = PerPage {
    default: 1000,
    min: 10,
    max: 10_000,
};

/// [cf-spec] `primary_location_hint`.
const LOCATIONS: [&str; 6] = ["wnam", "enam", "weur", "eeur", "apac", "oc"];

#[derive(Debug, Hash)]
pub(crate) struct D1Database {
    uuid: String,
    name: String,
    location: String,
    created: i64,
}

resource!(
    D1Database,
    key: |d| d.uuid.clone(),
    label: name,
    summary: |d| ("active", &d.location, "d1", &[] as &[String]),
    edit: |_d| Editable::default(),
);

impl D1Database {
    fn render(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "name": self.name,
            "version": "production",
            "created_at": time_do(self.created),
            "num_tables": 0,
            "file_size": 0,
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

/// `fixtures/cloudflare/databases.json`: a listing page as the API answers it.
pub(super) fn seed_fixtures(store: &mut Store) {
    for v in crate::catalog::items(crate::catalog::CLOUDFLARE_DATABASES, "result") {
        let db = D1Database {
            uuid: fields::string(&v, "uuid"),
            name: fields::string(&v, "name"),
            location: "enam".to_owned(),
            created: state::parse_time(&fields::string(&v, "created_at")),
        };
        store.databases.insert(db.uuid.clone(), db);
    }
}

fn bulk(store: &mut Store, slot: Slot) -> D1Database {
    D1Database {
        uuid: store.new_uuid(),
        name: format!("bulk-db-{:06}", slot.n),
        location: "enam".to_owned(),
        created: slot.created,
    }
}

stored!(D1Database: Kind::Database, in Store.databases, render: |d, _s| d.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/cloudflare/client/v4/accounts/{account_id}/d1/database",
            get(list_databases).post(create_database),
        )
        .route(
            "/cloudflare/client/v4/accounts/{account_id}/d1/database/{database_id}",
            get(get_database).delete(delete_database),
        )
}

/// [cf-spec] `d1_database-name`: `^[a-z0-9][a-z0-9-_]*$`.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn no_such_database() -> Response {
    error(
        StatusCode::NOT_FOUND,
        7404,
        "The database could not be found",
    )
}

/// `GET …/d1/database` with the `name` filter (an exact match).
async fn list_databases(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(account): Path<String>,
    Query(q): Q,
) -> Result<Response, Response> {
    check_account(&account)?;
    let mut st = app.state();
    let store = store(&mut st);
    let name = q.get("name").filter(|n| !n.is_empty());
    let seqs = store
        .databases
        .select(|d| name.is_none_or(|n| *n == d.name));
    let page =
        pagination::result_info(seqs.len(), &q, PER_PAGE, mode).map_err(|m| bad(7400, &m))?;
    let listing = store
        .databases
        .listing(&seqs, page, state::fingerprint, D1Database::render);
    drop(st);
    Ok(listing.json("result"))
}

/// `POST …/d1/database` `{name, primary_location_hint?}`.
async fn create_database(
    State(app): State<App>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    check_account(&account)?;
    let body = body_object(P, &body)?;
    let name = body
        .str("name")?
        .filter(|n| valid_name(n))
        .ok_or_else(|| bad(7400, "The database name is not valid"))?;
    let location = match body.str("primary_location_hint")? {
        Some(hint) if LOCATIONS.contains(&hint.as_str()) => hint,
        Some(hint) => return Err(bad(7400, &format!("Invalid location hint: {hint}"))),
        None => "enam".to_owned(),
    };
    let mut st = app.state();
    let store = store(&mut st);
    if store.databases.values().any(|d| d.name == name) {
        return Err(bad(7502, "A database with that name already exists"));
    }
    let db = D1Database {
        uuid: store.new_uuid(),
        name,
        location,
        created: state::now(),
    };
    let rendered = db.render();
    store.databases.insert(db.uuid.clone(), db);
    Ok(ok(rendered))
}

async fn get_database(
    State(app): State<App>,
    Path((account, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    get_in_account::<D1Database>(&app, &account, &id, no_such_database)
}

/// `DELETE …/d1/database/{database_id}` → `result: null`.
async fn delete_database(
    State(app): State<App>,
    Path((account, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    delete_in_account::<D1Database>(&app, &account, &id, no_such_database)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_document() {
        for ok in ["a", "acme-sessions", "acme_sessions_2", "1db"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-db", "_db", "Db", "a.b", "a b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
