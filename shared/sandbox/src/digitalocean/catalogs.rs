//! DigitalOcean's read-only catalogs (`/regions`, `/sizes`, `/images`), paginated like every
//! other listing.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::paged;
use crate::catalog;
use crate::http::{Q, json};
use crate::pagination::PageMode;
use crate::server::App;

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/digitalocean/v2/regions", get(list_regions))
        .route("/digitalocean/v2/sizes", get(list_sizes))
        .route("/digitalocean/v2/images", get(list_images))
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
    let regions = &catalog::digitalocean().regions;
    catalog_list(&app, "/regions", "regions", regions, &q, mode)
}

async fn list_sizes(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Query(q): Q,
) -> Result<Response, Response> {
    let sizes = &catalog::digitalocean().sizes;
    catalog_list(&app, "/sizes", "sizes", sizes, &q, mode)
}

/// `type=application` / `type=distribution` split the public images; `private=true` lists the
/// account's own images (there are none).
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
