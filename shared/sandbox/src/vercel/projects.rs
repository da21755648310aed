//! Vercel projects ([vercel-sdk] getProjects `GET /v10/projects`, createProject
//! `POST /v11/projects`, getProject / updateProject / deleteProject `/v9/projects/{idOrName}`,
//! createProjectEnv `POST /v10/projects/{idOrName}/env`, removeProjectEnv
//! `DELETE /v9/projects/{idOrName}/env/{id}`; a project's domains are in `project_domains.rs`).
//!
//! A project is named by its id (`prj_…`) or its name (unique). The listing is newest first,
//! paged with `limit` and the Base32 `from` continuation ([`crate::pagination::vercel_from`]).
//! A project created with a `gitRepository` starts a production deployment, `BUILDING` for two
//! reads and then `READY`; its aliases are `<name>.vercel.app` and the project's custom domains,
//! which is where a listing shows them. Environment variable values, deploy-hook URLs and
//! protection-bypass keys are rendered as the API renders them, each marked with
//! [`SECRET_MARKER`](crate::SECRET_MARKER), so a leak is found wherever it lands. Bodies are
//! checked as the document declares them: a field it does not name is refused, and so are a
//! framework, git host or environment outside its enums.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use super::project_domains::ProjectDomain;
use super::{P, SALT, Store, bad, store};
use crate::Kind;
use crate::collection::{ListRequest, list_route, stored};
use crate::editable::{Editable, resource};
use crate::http::{Listing, body_object, error, json, no_content};
use crate::pagination;
use crate::server::App;
use crate::state::{self, Resource, Slot};

/// Frameworks the sandbox accepts: a part of the document's `framework` enum.
const FRAMEWORKS: [&str; 14] = [
    "nextjs",
    "astro",
    "remix",
    "gatsby",
    "vite",
    "nuxtjs",
    "sveltekit",
    "sveltekit-1",
    "hugo",
    "eleventy",
    "docusaurus-2",
    "create-react-app",
    "angular",
    "vue",
];

/// `gitRepository.type` ([vercel-sdk] createProject).
const GIT_HOSTS: [&str; 4] = ["github", "github-limited", "gitlab", "bitbucket"];

/// `target` of an environment variable.
const TARGETS: [&str; 3] = ["production", "preview", "development"];

/// `type` of an environment variable.
const ENV_TYPES: [&str; 5] = ["system", "secret", "encrypted", "plain", "sensitive"];

/// The body keys createProject declares.
const CREATE_KEYS: [&str; 21] = [
    "buildCommand",
    "commandForIgnoringBuildStep",
    "devCommand",
    "enableAffectedProjectsDeployments",
    "enablePreviewFeedback",
    "enableProductionFeedback",
    "environmentVariables",
    "framework",
    "gitRepository",
    "installCommand",
    "name",
    "oidcTokenConfig",
    "outputDirectory",
    "previewDeploymentsDisabled",
    "publicSource",
    "resourceConfig",
    "rootDirectory",
    "serverlessFunctionRegion",
    "serverlessFunctionZeroConfigFailover",
    "skipGitConnectDuringLink",
    "ssoProtection",
];

/// The settings updateProject changes here (the document declares more; those are refused as
/// not emulated rather than silently dropped).
const PATCH_KEYS: [&str; 7] = [
    "buildCommand",
    "framework",
    "installCommand",
    "name",
    "outputDirectory",
    "rootDirectory",
    "serverlessFunctionRegion",
];

/// Reads of a new production deployment before it is `READY`.
const BUILDING_READS: u32 = 2;

/// The region functions run in when none is asked for.
const DEFAULT_REGION: &str = "iad1";

#[derive(Debug, Hash)]
pub(crate) struct EnvVar {
    id: String,
    key: String,
    value: String,
    kind: String,
    targets: Vec<String>,
    created: i64,
}

#[derive(Debug, Hash)]
pub(crate) struct Deployment {
    id: String,
    url: String,
    state: String,
    /// Reads left before it is `READY`.
    pending: u32,
    created: i64,
    sha: String,
}

#[derive(Debug, Hash)]
pub(crate) struct Project {
    pub(super) id: String,
    pub(super) name: String,
    framework: Option<String>,
    root_directory: Option<String>,
    build_command: Option<String>,
    install_command: Option<String>,
    output_directory: Option<String>,
    region: String,
    /// Git host and `owner/name`.
    repo: Option<(String, String)>,
    env: Vec<EnvVar>,
    /// Custom domains, in the order they were added.
    pub(super) domains: Vec<ProjectDomain>,
    production: Option<Deployment>,
    pub(super) created: i64,
    updated: i64,
}

resource!(
    Project,
    key: |p| p.id.clone(),
    label: name,
    summary: |p| (p.status(), p.region.as_str(), "project", &[] as &[String]),
    edit: |p| Editable::default().label(&mut p.name).plan(p.framework.get_or_insert_with(String::new)),
    observe: |p| {
        if let Some(d) = &mut p.production
            && state::countdown(&mut d.pending)
        {
            d.state = "READY".to_owned();
        }
    },
);

impl Project {
    fn status(&self) -> &'static str {
        match self.production.as_ref().map(|d| d.state.as_str()) {
            Some("READY") => "running",
            Some("ERROR") => "error",
            _ => "pending",
        }
    }

    /// As getProjects and getProject render it: the document's required fields, the settings,
    /// the link, the production target and the variables (their values as the API returns them).
    fn render(&self) -> Value {
        let secret = crate::SECRET_MARKER;
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "accountId": OWNER,
            "directoryListing": false,
            "nodeVersion": "22.x",
            "framework": self.framework,
            "rootDirectory": self.root_directory,
            "buildCommand": self.build_command,
            "installCommand": self.install_command,
            "outputDirectory": self.output_directory,
            "resourceConfig": {"functionDefaultRegions": [self.region]},
            "defaultResourceConfig": {"functionDefaultRegions": [DEFAULT_REGION]},
            "createdAt": self.created,
            "updatedAt": self.updated,
            "live": false,
            "env": self.env.iter().map(|e| json!({
                "id": e.id, "key": e.key, "value": e.value, "type": e.kind,
                "target": e.targets, "createdAt": e.created, "updatedAt": e.created,
                "vsmValue": format!("{secret}vsm-{}", e.id),
            })).collect::<Vec<_>>(),
            "protectionBypass": {
                format!("{secret}{}", &self.id[4..]): {
                    "createdAt": self.created, "createdBy": OWNER, "scope": "automation-bypass"
                }
            },
            "latestDeployments": self.production.iter().map(|d| self.target(d)).collect::<Vec<_>>(),
        });
        if let Some((host, repo)) = &self.repo {
            let (org, name) = repo.split_once('/').unwrap_or((repo.as_str(), ""));
            v["link"] = json!({
                "type": host, "org": org, "repo": name, "repoId": 1000 + self.created % 1000,
                "productionBranch": "main", "createdAt": self.created, "updatedAt": self.updated,
                "gitCredentialId": "", "sourceless": false,
                "deployHooks": [{"id": "hook1", "name": "cms", "ref": "main",
                    "createdAt": self.created,
                    "url": format!("https://api.vercel.com/v1/integrations/deploy/{}/{secret}hook", self.id)}],
            });
        }
        if let Some(d) = &self.production {
            v["targets"] = json!({ "production": self.target(d) });
        }
        v
    }

    /// A deployment as `targets.production` and `latestDeployments[]` carry it.
    fn target(&self, d: &Deployment) -> Value {
        let mut alias = vec![format!("{}.vercel.app", self.name)];
        alias.extend(self.domains.iter().map(|d| d.name.clone()));
        json!({
            "id": d.id, "createdAt": d.created, "createdIn": "iad1",
            "creator": {"uid": OWNER, "username": "acme-ops", "email": "ops@example.com"},
            "deploymentHostname": d.url.trim_end_matches(".vercel.app"), "name": self.name,
            "plan": "pro", "private": true, "readyState": d.state, "target": "production",
            "type": "LAMBDAS", "url": d.url, "userId": OWNER, "alias": alias,
            "meta": {"githubCommitSha": d.sha, "githubCommitRef": "main"},
        })
    }

    /// A production deployment of the project's repository, being built.
    fn deploy(&mut self, created: i64) {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        self.production = Some(Deployment {
            id: format!("dpl_{}", &hex[..24]),
            url: format!("{}-{}.vercel.app", self.name, &hex[..9]),
            state: "BUILDING".to_owned(),
            pending: BUILDING_READS,
            created,
            sha: hex[..40.min(hex.len())].to_owned(),
        });
    }
}

/// The user every sandbox object belongs to (`fixtures/vercel/user.json`).
const OWNER: &str = "AEIIDYVk59zbFF2Sxfyxxmua";

/// A fresh Vercel-style id.
fn fresh_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &hex[..24])
}

/// Generated projects: `bulk-<n>`, deployed, with one variable.
fn bulk_project(store: &mut Store, slot: Slot) -> Project {
    let created = slot.created * 1000;
    store.saw(created);
    let hex = state::det_uuid(SALT, slot.seq).simple().to_string();
    let name = format!("bulk-{:06}", slot.n);
    Project {
        id: format!("prj_{}", &hex[..24]),
        name: name.clone(),
        framework: Some("nextjs".to_owned()),
        root_directory: None,
        build_command: None,
        install_command: None,
        output_directory: None,
        region: DEFAULT_REGION.to_owned(),
        repo: Some(("github".to_owned(), format!("acme/{name}"))),
        env: vec![EnvVar {
            id: format!("env_{}", &hex[..16]),
            key: "API_URL".to_owned(),
            value: format!("{}{}", crate::SECRET_MARKER, slot.seq),
            kind: "encrypted".to_owned(),
            targets: vec!["production".to_owned()],
            created,
        }],
        domains: Vec::new(),
        production: Some(Deployment {
            id: format!("dpl_{}", &hex[..24]),
            url: format!("{name}-{}.vercel.app", &hex[..9]),
            state: "READY".to_owned(),
            pending: 0,
            created,
            sha: hex.clone(),
        }),
        created,
        updated: created,
    }
}

stored!(Project: Kind::WebService, in Store.projects, render: |p, _s| p.render(),
    bulk: bulk_project);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/vercel/v10/projects",
            list_route("projects", list_projects),
        )
        .route("/vercel/v11/projects", post(create_project))
        .route(
            "/vercel/v9/projects/{idOrName}",
            get(get_project)
                .patch(update_project)
                .delete(delete_project),
        )
        .route("/vercel/v10/projects/{idOrName}/env", post(create_env))
        .route(
            "/vercel/v9/projects/{idOrName}/env/{id}",
            delete(remove_env),
        )
}

pub(super) fn project_404() -> Response {
    error(P, StatusCode::NOT_FOUND, "Project not found.")
}

/// The key of the project `target` names (its id or its name).
pub(super) fn key_of(store: &Store, target: &str) -> Option<String> {
    store.projects.find(target).map(Resource::key)
}

fn list_projects(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    let mut rows: Vec<(i64, u64)> = store
        .projects
        .select(|_| true)
        .into_iter()
        .filter_map(|s| store.projects.by_seq(s).map(|p| (p.updated, s)))
        .collect();
    rows.sort_by(|a, b| b.cmp(a));
    let seqs: Vec<u64> = rows.into_iter().map(|(_, s)| s).collect();
    let page = pagination::vercel_from(seqs.len(), req.query, req.mode).map_err(|m| bad(&m))?;
    Ok(store
        .projects
        .listing(&seqs, page, state::fingerprint, Project::render))
}

/// `GET /v9/projects/{idOrName}`, a poll.
async fn get_project(
    State(app): State<App>,
    Path(target): Path<String>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    let v = p.render();
    p.observe();
    Ok(json(StatusCode::OK, &v))
}

/// A string field that must be absent, `null` or at most `max` characters.
fn setting(body: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(bad(&format!(
            "Invalid request: `{key}` should be a string of at most {max} characters."
        ))),
    }
}

/// One environment variable of a create body (`environmentVariables[]`: `target` one or a
/// list) or of createProjectEnv (`target` a list).
fn env_var(v: &Value, created: i64) -> Result<EnvVar, Response> {
    let Some(o) = v.as_object() else {
        return Err(bad(
            "Invalid request: an environment variable should be an object.",
        ));
    };
    let allowed = ["key", "value", "type", "target", "gitBranch", "comment"];
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Invalid request: should NOT have additional property `{k}`."
        )));
    }
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(key), Some(value)) = (text("key"), text("value")) else {
        return Err(bad(
            "Invalid request: missing required property `key` or `value`.",
        ));
    };
    let kind = text("type").unwrap_or_else(|| "encrypted".to_owned());
    if !ENV_TYPES.contains(&kind.as_str()) {
        return Err(bad(&format!(
            "Invalid request: `type` `{kind}` is not allowed."
        )));
    }
    let targets: Vec<String> = match o.get("target") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("Invalid request: `target` should be an array of strings."))?,
        _ => return Err(bad("Invalid request: missing required property `target`.")),
    };
    if targets.is_empty() || targets.iter().any(|t| !TARGETS.contains(&t.as_str())) {
        return Err(bad(
            "Invalid request: `target` should be `production`, `preview` or `development`.",
        ));
    }
    Ok(EnvVar {
        id: fresh_id(""),
        key,
        value,
        kind,
        targets,
        created,
    })
}

/// Refuses a variable of a name already set in one of the environments it names (Vercel's
/// `ENV_CONFLICT`).
fn check_env_conflict(p: &Project, var: &EnvVar) -> Result<(), Response> {
    let taken = p
        .env
        .iter()
        .any(|e| e.key == var.key && e.targets.iter().any(|t| var.targets.contains(t)));
    if taken {
        return Err(bad(&format!(
            "A variable with the name `{}` already exists for the target. Use a different name or remove the existing variable first.",
            var.key
        )));
    }
    Ok(())
}

/// `POST /v11/projects` → `200` the project.
async fn create_project(State(app): State<App>, body: Bytes) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    if let Some(key) = body.keys().find(|k| !CREATE_KEYS.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Invalid request: should NOT have additional property `{key}`."
        )));
    }
    let name = body
        .str("name")?
        .ok_or_else(|| bad("Invalid request: missing required property `name`."))?;
    if name.is_empty()
        || name.len() > 100
        || name.contains("---")
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(bad(&format!(
            "The name `{name}` is invalid: up to 100 lowercase characters among letters, digits, `.`, `_` and `-`, without `---`."
        )));
    }
    let framework = body.str("framework")?;
    if let Some(f) = &framework
        && !FRAMEWORKS.contains(&f.as_str())
    {
        return Err(bad(&format!(
            "Invalid request: `framework` should be equal to one of the allowed values, not `{f}`."
        )));
    }
    let repo = match body.get("gitRepository") {
        None | Some(Value::Null) => None,
        Some(Value::Object(g)) => {
            let host = g.get("type").and_then(Value::as_str).unwrap_or_default();
            let repo = g.get("repo").and_then(Value::as_str).unwrap_or_default();
            if g.keys().any(|k| k != "type" && k != "repo")
                || !GIT_HOSTS.contains(&host)
                || repo.split('/').filter(|p| !p.is_empty()).count() < 2
            {
                return Err(bad(
                    "Invalid request: `gitRepository` should be `{type, repo}` with a known git host and an `owner/name` repository.",
                ));
            }
            let host = if host == "github-limited" {
                "github"
            } else {
                host
            };
            Some((host.to_owned(), repo.to_owned()))
        }
        Some(_) => return Err(bad("Invalid request: `gitRepository` should be an object.")),
    };
    let mut st = app.state();
    let store = store(&mut st);
    if key_of(store, &name).is_some() {
        return Err(error(
            P,
            StatusCode::CONFLICT,
            &format!("A project with the name \"{name}\" already exists."),
        ));
    }
    let created = store.stamp();
    let mut project = Project {
        id: fresh_id("prj_"),
        name,
        framework,
        root_directory: setting(&body, "rootDirectory", 256)?,
        build_command: setting(&body, "buildCommand", 256)?,
        install_command: setting(&body, "installCommand", 256)?,
        output_directory: setting(&body, "outputDirectory", 256)?,
        region: setting(&body, "serverlessFunctionRegion", 4)?
            .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
        repo,
        env: Vec::new(),
        domains: Vec::new(),
        production: None,
        created,
        updated: created,
    };
    match body.get("environmentVariables") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let var = env_var(item, created)?;
                check_env_conflict(&project, &var)?;
                project.env.push(var);
            }
        }
        Some(_) => {
            return Err(bad(
                "Invalid request: `environmentVariables` should be an array.",
            ));
        }
    }
    if project.repo.is_some() {
        project.deploy(created);
    }
    let rendered = project.render();
    store.projects.insert(project.key(), project);
    Ok(json(StatusCode::OK, &rendered))
}

/// `PATCH /v9/projects/{idOrName}` → `200` the project.
async fn update_project(
    State(app): State<App>,
    Path(target): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let body = body_object(P, &body)?;
    if let Some(key) = body.keys().find(|k| !PATCH_KEYS.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Invalid request: should NOT have additional property `{key}`."
        )));
    }
    let framework = body.str("framework")?;
    if let Some(f) = &framework
        && !FRAMEWORKS.contains(&f.as_str())
    {
        return Err(bad(&format!(
            "Invalid request: `framework` should be equal to one of the allowed values, not `{f}`."
        )));
    }
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let updated = store.stamp();
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    if body.contains_key("framework") {
        p.framework = framework;
    }
    for (wire, field, max) in [
        ("rootDirectory", &mut p.root_directory, 256),
        ("buildCommand", &mut p.build_command, 256),
        ("installCommand", &mut p.install_command, 256),
        ("outputDirectory", &mut p.output_directory, 256),
    ] {
        if body.contains_key(wire) {
            *field = setting(&body, wire, max)?;
        }
    }
    if body.contains_key("serverlessFunctionRegion") {
        p.region = setting(&body, "serverlessFunctionRegion", 4)?
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    }
    p.updated = updated;
    Ok(json(StatusCode::OK, &p.render()))
}

/// `DELETE /v9/projects/{idOrName}` → `204`.
async fn delete_project(
    State(app): State<App>,
    Path(target): Path<String>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    store.projects.remove(&key);
    Ok(no_content())
}

/// `POST /v10/projects/{idOrName}/env` (one variable or a list) → `201 {created, failed}`.
async fn create_env(
    State(app): State<App>,
    Path(target): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let items = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items,
        Ok(v @ Value::Object(_)) => vec![v],
        _ => return Err(bad("Invalid JSON.")),
    };
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let now = store.stamp();
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    let mut created = Vec::new();
    for item in &items {
        let mut var = env_var(item, now)?;
        var.id = fresh_id("");
        check_env_conflict(p, &var)?;
        created.push(json!({"id": var.id, "key": var.key, "value": var.value,
            "type": var.kind, "target": var.targets, "createdAt": now, "updatedAt": now}));
        p.env.push(var);
    }
    p.updated = now;
    let created = if created.len() == 1 {
        created.swap_remove(0)
    } else {
        Value::Array(created)
    };
    Ok(json(
        StatusCode::CREATED,
        &json!({"created": created, "failed": []}),
    ))
}

/// `DELETE /v9/projects/{idOrName}/env/{id}` → `200` the removed variable.
async fn remove_env(
    State(app): State<App>,
    Path((target, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let mut st = app.state();
    let store = store(&mut st);
    let key = key_of(store, &target).ok_or_else(project_404)?;
    let now = store.stamp();
    let p = store.projects.get_mut(&key).ok_or_else(project_404)?;
    let at = p.env.iter().position(|e| e.id == id).ok_or_else(|| {
        error(
            P,
            StatusCode::NOT_FOUND,
            "The environment variable was not found.",
        )
    })?;
    let var = p.env.remove(at);
    p.updated = now;
    Ok(json(
        StatusCode::OK,
        &json!({"id": var.id, "key": var.key, "value": var.value, "type": var.kind,
            "target": var.targets, "createdAt": var.created, "updatedAt": now}),
    ))
}
