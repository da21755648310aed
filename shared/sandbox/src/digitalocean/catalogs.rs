//! DigitalOcean's read-only catalogs (`/regions`, `/sizes`, `/images`), paginated like every
//! other listing, and its 1-Click apps (`/1-clicks`), served whole.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::Value;

use super::paged;
use crate::catalog;
use crate::http::{Q, json};
use crate::pagination::{self, Page, PageMode};
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
        .route(
            "/digitalocean/v2/1-clicks",
            catalog::static_list("1_clicks", one_clicks, whole),
        )
}

/// [do-spec] oneClicks_list.yml: one response, no paging parameters and nothing beside the list.
fn whole(total: usize, _: &HashMap<String, String>, mode: PageMode) -> Result<Page, Response> {
    let mut page = pagination::whole(total, mode);
    page.envelope.clear();
    Ok(page)
}

/// `type=droplet` / `type=kubernetes` pick one kind of 1-Click; without it, every one.
fn one_clicks(q: &HashMap<String, String>, _: &HeaderMap) -> Result<Vec<Value>, Response> {
    let wanted = q.get("type");
    Ok(catalog::items(catalog::DO_ONE_CLICKS, "1_clicks")
        .into_iter()
        .filter(|a| wanted.is_none_or(|w| a.get("type").and_then(Value::as_str) == Some(w)))
        .collect())
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
