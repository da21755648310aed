//! DigitalOcean's read-only catalogs (`/regions`, `/sizes`, `/images`), paginated like every
//! other listing.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::Value;

use super::paged;
use crate::catalog;
use crate::http::{Q, json};
use crate::pagination::PageMode;
use crate::server::App;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/digitalocean/v2/regions",
            catalog_route("regions", |_| catalog::digitalocean().regions.clone()),
        )
        .route(
            "/digitalocean/v2/sizes",
            catalog_route("sizes", |_| catalog::digitalocean().sizes.clone()),
        )
        .route("/digitalocean/v2/images", catalog_route("images", images))
}

/// The `GET` of the catalog `/{key}`: the page of what `items` picks for the query, under `key`.
fn catalog_route(
    key: &'static str,
    items: fn(&HashMap<String, String>) -> Vec<Value>,
) -> MethodRouter<App> {
    get(
        move |State(app): State<App>, Extension(mode): Extension<PageMode>, Query(q): Q| async move {
            let items = items(&q);
            let path = format!("/{key}");
            let page = paged(&app, &path, &q, &["type", "private"], items.len(), mode)?;
            let mut body = page.envelope;
            body.insert(key.to_owned(), Value::Array(items[page.range].to_vec()));
            Ok::<_, Response>(json(StatusCode::OK, &Value::Object(body)))
        },
    )
}

/// `type=application` / `type=distribution` split the public images; `private=true` lists the
/// account's own images (there are none).
fn images(q: &HashMap<String, String>) -> Vec<Value> {
    let all = &catalog::digitalocean().images;
    let is_app = |i: &Value| {
        i.get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| d.contains("application"))
    };
    match (
        q.get("type").map(String::as_str),
        q.get("private").map(String::as_str),
    ) {
        (_, Some("true")) => Vec::new(),
        (Some("application"), _) => all.iter().filter(|i| is_app(i)).cloned().collect(),
        (Some("distribution"), _) => all.iter().filter(|i| !is_app(i)).cloned().collect(),
        _ => all.clone(),
    }
}
