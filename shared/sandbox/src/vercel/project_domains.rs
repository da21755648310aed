//! A Vercel project's domains ([vercel-sdk] getProjectDomains
//! `GET /v9/projects/{idOrName}/domains`, addProjectDomain `POST /v10/projects/{idOrName}/domains`,
//! removeProjectDomain `DELETE /v9/projects/{idOrName}/domains/{domain}`).
//!
//! A project has its `<name>.vercel.app` domain from its creation and the custom domains added
//! to it; the listing serves both, newest first, paged with `limit` and `until`
//! ([`crate::pagination::vercel_until`]), whether or not the project was ever deployed. Adding a
//! domain the project already has is a `400` ("If the domain already exists on the project, the
//! request will fail with a `400` status code", addProjectDomain's description); a domain on
//! another project is a `409` ("The domain is already assigned to another Vercel project").

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Extension, Router};
use serde_json::{Value, json};

use super::projects::{Project, key_of, project_404};
use super::{P, Store, bad, store};
use crate::http::{Q, body_object, error, json};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::Resource;

/// One custom domain of a project.
#[derive(Debug, Hash)]
pub(crate) struct ProjectDomain {
    pub(super) name: String,
    pub(super) created: i64,
}

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/vercel/v9/projects/{idOrName}/domains", get(list_domains))
        .route(
            "/vercel/v10/projects/{idOrName}/domains",
            axum::routing::post(add_domain),
        )
        .route(
            "/vercel/v9/projects/{idOrName}/domains/{domain}",
            delete(remove_domain),
        )
}

/// `apex` of a host name: its last two labels.
fn apex(name: &str) -> String {
    let mut labels: Vec<&str> = name.rsplitn(3, '.').take(2).collect();
    labels.reverse();
    labels.join(".")
}

/// A project domain as getProjectDomains and addProjectDomain render it.
fn render(p: &Project, name: &str, created: i64) -> Value {
    json!({"name": name, "apexName": apex(name), "projectId": p.id, "verified": true,
        "gitBranch": null, "redirect": null, "redirectStatusCode": null,
        "customEnvironmentId": null, "createdAt": created, "updatedAt": created})
}

/// `GET /v9/projects/{idOrName}/domains` → `200 {domains, pagination}`.
async fn list_domains(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(target): Path<String>,
    Query(query): Q,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store: &mut Store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    let mut rows: Vec<(i64, String)> = p
        .domains
        .iter()
        .map(|d| (d.created, d.name.clone()))
        .collect();
    rows.push((p.created, format!("{}.vercel.app", p.name)));
    rows.sort_by(|a, b| b.cmp(a));
    let stamps: Vec<i64> = rows.iter().map(|(at, _)| *at).collect();
    let page = pagination::vercel_until(&stamps, &query, mode).map_err(|m| bad(&m))?;
    let domains: Vec<Value> = rows[page.range.clone()]
        .iter()
        .map(|(at, name)| render(p, name, *at))
        .collect();
    let mut body = page.envelope;
    body.insert("domains".to_owned(), Value::Array(domains));
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `POST /v10/projects/{idOrName}/domains` `{name, gitBranch?, redirect?, redirectStatusCode?,
/// customEnvironmentId?}` → `200` the project domain.
async fn add_domain(
    State(app): State<App>,
    Path(target): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    let allowed = [
        "name",
        "gitBranch",
        "redirect",
        "redirectStatusCode",
        "customEnvironmentId",
    ];
    if let Some(key) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Invalid request: should NOT have additional property `{key}`."
        )));
    }
    let name = body
        .str("name")?
        .ok_or_else(|| bad("Invalid request: missing required property `name`."))?
        .to_ascii_lowercase();
    if !crate::dns::valid_zone(&name) || !name.contains('.') {
        return Err(bad(&format!("The domain \"{name}\" is not valid.")));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    if store
        .projects
        .values()
        .any(|p| p.key() != key && p.domains.iter().any(|d| d.name == name))
    {
        return Err(error(
            P,
            StatusCode::CONFLICT,
            &format!("The domain \"{name}\" is already assigned to another Vercel project."),
        ));
    }
    let now = store.stamp();
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    if p.domains.iter().any(|d| d.name == name) {
        return Err(bad(&format!(
            "The domain \"{name}\" already exists on this project."
        )));
    }
    p.domains.push(ProjectDomain {
        name: name.clone(),
        created: now,
    });
    Ok(json(StatusCode::OK, &render(p, &name, now)))
}

/// `DELETE /v9/projects/{idOrName}/domains/{domain}` → `200 {}`.
async fn remove_domain(
    State(app): State<App>,
    Path((target, domain)): Path<(String, String)>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    let before = p.domains.len();
    p.domains.retain(|d| d.name != domain);
    if p.domains.len() == before {
        return Err(error(
            P,
            StatusCode::NOT_FOUND,
            "The project domain was not found.",
        ));
    }
    Ok(json(StatusCode::OK, &json!({})))
}
