//! DigitalOcean tags (`/tags`, `/tags/{tag}/resources`): the account's tag set with
//! DigitalOcean's case-insensitive names, inline tags on creates, and the handlers (create, get,
//! delete, tag and untag resources).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{P, Store, bad, nf, store, unprocessable};
use crate::http::{body_object, empty, json, wrap};
use crate::server::App;

/// DigitalOcean's message for a tag name it refuses.
const TAG_RULE: &str = "Name must only contain letters, numbers, colons, dashes and underscores, and be at most 255 characters";

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
    pub(super) fn inline_tags(&mut self, tags: Vec<String>) -> Result<Vec<String>, Response> {
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

    fn render_tag(&self, name: &str) -> Value {
        let droplets = self
            .droplets
            .values()
            .filter(|d| d.tags.iter().any(|t| t == name))
            .count();
        let volumes = self
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
}

fn valid_tag(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/digitalocean/v2/tags", post(create_tag))
        .route(
            "/digitalocean/v2/tags/{tag}",
            get(get_tag).delete(delete_tag),
        )
        .route(
            "/digitalocean/v2/tags/{tag}/resources",
            post(tag_resources).delete(untag_resources),
        )
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
    let store = store(&mut st);
    let name = store.canonical_tag(name);
    Ok(json(
        StatusCode::CREATED,
        &wrap("tag", store.render_tag(&name)),
    ))
}

async fn get_tag(State(app): State<App>, Path(tag): Path<String>) -> Response {
    let mut st = app.state();
    let store = store(&mut st);
    let Some(tag) = store.find_tag(&tag) else {
        return nf();
    };
    json(StatusCode::OK, &wrap("tag", store.render_tag(&tag)))
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
