//! Cloudflare Pages projects ([cf-spec] pages-project-get-projects, -create-project,
//! -get-project, -update-project, -delete-project, pages-domains-add-domain, -delete-domain;
//! [cf-go] pages/project.go): named by their name (`^[a-z0-9][a-z0-9-]*$`, unique in the
//! account), listed whole (the operation declares no paging parameter; `result_info` counts the
//! projects), created at once.
//!
//! A project created with a git `source` starts a production deployment whose latest stage is
//! `queued`/`active` until it has been read a few times, then `deploy`/`success`; a direct-upload
//! project has none. A `PATCH` merges what it names: the production branch, `build_config` key by
//! key, and `deployment_configs.*.env_vars` variable by variable (`null` removes one). Variable
//! values and the Web Analytics token are rendered as the API renders them; those of generated
//! projects carry [`SECRET_MARKER`](crate::SECRET_MARKER), so a leak is found wherever it lands.
//! Bodies are checked against the document's keys (`pages_bodies.rs`): a key it does not name
//! is refused.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use super::pages_bodies::{
    BODY_KEYS, BUILD_KEYS, EnvChanges, build_config, deployment_configs, known_keys, source,
};
use super::{P, Store, bad, check_account, delete_in_account, error, get_in_account, ok, store};
use crate::Kind;
use crate::collection::{ListRequest, list_route, stored};
use crate::editable::{Editable, resource};
use crate::http::{Listing, body_object};
use crate::pagination;
use crate::server::App;
use crate::state::{self, Slot, time_do};

pub(super) const ENVIRONMENTS: [&str; 2] = ["production", "preview"];

#[derive(Debug, Hash)]
pub(crate) struct EnvVar {
    pub(super) kind: String,
    pub(super) value: String,
}

#[derive(Debug, Hash)]
pub(crate) struct Deployment {
    id: String,
    stage: String,
    status: String,
    /// Reads left before the deploy stage succeeds.
    pending: u32,
    created: i64,
    sha: String,
}

#[derive(Debug, Hash)]
pub(crate) struct PagesProject {
    id: String,
    name: String,
    production_branch: String,
    /// Git host, owner and repository name.
    source: Option<(String, String, String)>,
    build: BTreeMap<String, Value>,
    /// Variables by environment (`production`, `preview`), then by name.
    env: BTreeMap<String, BTreeMap<String, EnvVar>>,
    domains: Vec<String>,
    latest: Option<Deployment>,
    created: i64,
}

resource!(
    PagesProject,
    key: |p| p.name.clone(),
    label: name,
    summary: |p| (p.status(), "", "pages", &[] as &[String]),
    edit: |p| Editable::default().plan(&mut p.production_branch),
    observe: |p| {
        if let Some(d) = &mut p.latest
            && state::countdown(&mut d.pending)
        {
            d.stage = "deploy".to_owned();
            d.status = "success".to_owned();
        }
    },
);

impl PagesProject {
    fn status(&self) -> &'static str {
        match self
            .latest
            .as_ref()
            .map(|d| (d.stage.as_str(), d.status.as_str()))
        {
            Some(("deploy", "success")) => "running",
            Some((_, "failure")) => "error",
            _ => "pending",
        }
    }

    fn subdomain(&self) -> String {
        format!("{}.pages.dev", self.name)
    }

    fn env_vars(&self, env: &str) -> Value {
        match self.env.get(env) {
            Some(vars) if !vars.is_empty() => vars
                .iter()
                .map(|(k, v)| (k.clone(), json!({"type": v.kind, "value": v.value})))
                .collect::<Map<String, Value>>()
                .into(),
            _ => Value::Null,
        }
    }

    fn source_json(&self) -> Value {
        match &self.source {
            Some((host, owner, repo)) => json!({"type": host, "config": {
                "owner": owner, "repo_name": repo, "production_branch": self.production_branch,
                "deployments_enabled": true, "production_deployments_enabled": true,
                "pr_comments_enabled": true, "preview_deployment_setting": "all",
                "preview_branch_includes": ["*"], "preview_branch_excludes": [],
                "path_includes": ["*"], "path_excludes": []}}),
            None => Value::Null,
        }
    }

    fn build_json(&self) -> Value {
        let mut b: Map<String, Value> = BUILD_KEYS
            .iter()
            .map(|k| ((*k).to_owned(), Value::Null))
            .collect();
        b.insert("build_caching".to_owned(), json!(false));
        b.extend(self.build.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(b)
    }

    /// A deployment as `latest_deployment` and `canonical_deployment` carry it.
    fn deployment(&self, d: &Deployment) -> Value {
        let short = &d.id[..8];
        let stages: Vec<Value> = ["queued", "initialize", "clone_repo", "build", "deploy"]
            .iter()
            .map(|s| {
                json!({"name": s, "status": if *s == d.stage { d.status.as_str() } else { "idle" },
                "started_on": null, "ended_on": null})
            })
            .collect();
        json!({
            "id": d.id, "short_id": short, "project_id": self.id, "project_name": self.name,
            "environment": "production", "url": format!("https://{short}.{}", self.subdomain()),
            "created_on": time_do(d.created), "modified_on": time_do(d.created),
            "aliases": null, "is_skipped": false,
            "latest_stage": {"name": d.stage, "status": d.status,
                "started_on": time_do(d.created), "ended_on": null},
            "stages": stages,
            "deployment_trigger": {"type": "push", "metadata": {"branch": self.production_branch,
                "commit_hash": d.sha, "commit_message": "Deploy"}},
            "build_config": self.build_json(),
            "source": self.source_json(),
            "env_vars": self.env_vars("production"),
        })
    }

    /// As the project read and listing render it.
    fn render(&self) -> Value {
        let config = |env: &str| {
            json!({"env_vars": self.env_vars(env), "compatibility_date": "2024-01-01",
                "compatibility_flags": []})
        };
        let latest = self.latest.as_ref().map(|d| self.deployment(d));
        let canonical = self
            .latest
            .as_ref()
            .filter(|d| d.status == "success")
            .map(|d| self.deployment(d));
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "subdomain": self.subdomain(),
            "domains": self.domains,
            "production_branch": self.production_branch,
            "created_on": time_do(self.created),
            "build_config": self.build_json(),
            "deployment_configs": {"production": config("production"), "preview": config("preview")},
            "latest_deployment": latest,
            "canonical_deployment": canonical,
        });
        if self.source.is_some() {
            v["source"] = self.source_json();
        }
        v
    }

    /// A production deployment of the project's repository, queued.
    fn deploy(&mut self, created: i64, pending: u32) {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        self.latest = Some(Deployment {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            stage: "queued".to_owned(),
            status: "active".to_owned(),
            pending: pending.max(1),
            created,
            sha: format!("{hex}{}", &hex[..8]),
        });
    }
}

// ---------------------------------------------------------------------------
// seeding

/// `fixtures/cloudflare/pages-projects.json`: a listing as the API answers it (a deployed git
/// project with a custom domain and Web Analytics, and a direct-upload project never deployed).
pub(super) fn seed_fixtures(store: &mut Store) {
    for v in crate::catalog::items(crate::catalog::CLOUDFLARE_PAGES, "result") {
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let source = match (
            text("/source/type"),
            text("/source/config/owner"),
            text("/source/config/repo_name"),
        ) {
            (Some(h), Some(o), Some(r)) => Some((h, o, r)),
            _ => None,
        };
        let build = v
            .get("build_config")
            .and_then(Value::as_object)
            .map(|b| {
                b.iter()
                    .filter(|(k, v)| !v.is_null() && k.as_str() != "build_caching")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let env = ENVIRONMENTS
            .iter()
            .map(|env| {
                let vars = v
                    .pointer(&format!("/deployment_configs/{env}/env_vars"))
                    .and_then(Value::as_object)
                    .map(|vars| {
                        vars.iter()
                            .filter_map(|(name, var)| {
                                Some((
                                    name.clone(),
                                    EnvVar {
                                        kind: var.get("type")?.as_str()?.to_owned(),
                                        value: var.get("value")?.as_str()?.to_owned(),
                                    },
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ((*env).to_owned(), vars)
            })
            .collect();
        let latest = v
            .get("latest_deployment")
            .filter(|d| d.is_object())
            .map(|d| {
                let at = |p: &str| {
                    d.pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                Deployment {
                    id: at("/id"),
                    stage: at("/latest_stage/name"),
                    status: at("/latest_stage/status"),
                    pending: 0,
                    created: state::parse_time(&at("/created_on")),
                    sha: at("/deployment_trigger/metadata/commit_hash"),
                }
            });
        let project = PagesProject {
            id: text("/id").unwrap_or_default(),
            name: text("/name").unwrap_or_default(),
            production_branch: text("/production_branch").unwrap_or_else(|| "main".to_owned()),
            source,
            build,
            env,
            domains: crate::state::fields::strings(&v, "domains"),
            latest,
            created: state::parse_time(&text("/created_on").unwrap_or_default()),
        };
        store.pages.insert(project.name.clone(), project);
    }
}

/// Generated projects: `bulk-<n>`, deployed from a repository, with one variable per environment
/// and Web Analytics on.
fn bulk(store: &mut Store, slot: Slot) -> PagesProject {
    let name = format!("bulk-{:06}", slot.n);
    let secret = |what: &str| format!("{}{what}-{}", crate::SECRET_MARKER, slot.seq);
    let var = |what: &str, kind: &str| EnvVar {
        kind: kind.to_owned(),
        value: secret(what),
    };
    let hex = state::det_uuid(super::SALT, slot.seq).simple().to_string();
    let mut env = BTreeMap::new();
    env.insert(
        "production".to_owned(),
        BTreeMap::from([("API_URL".to_owned(), var("pages-env", "secret_text"))]),
    );
    env.insert(
        "preview".to_owned(),
        BTreeMap::from([("API_URL".to_owned(), var("pages-plain", "plain_text"))]),
    );
    PagesProject {
        id: store.new_uuid(),
        name: name.clone(),
        production_branch: "main".to_owned(),
        source: Some(("github".to_owned(), "acme".to_owned(), name)),
        build: BTreeMap::from([
            ("build_command".to_owned(), json!("npm run build")),
            ("destination_dir".to_owned(), json!("dist")),
            ("web_analytics_tag".to_owned(), json!(&hex[..16])),
            ("web_analytics_token".to_owned(), json!(secret("analytics"))),
        ]),
        env,
        domains: Vec::new(),
        latest: Some(Deployment {
            id: state::det_uuid(super::SALT, slot.seq)
                .hyphenated()
                .to_string(),
            stage: "deploy".to_owned(),
            status: "success".to_owned(),
            pending: 0,
            created: slot.created,
            sha: format!("{hex}{}", &hex[..8]),
        }),
        created: slot.created,
    }
}

stored!(PagesProject: Kind::WebService, in Store.pages, render: |p, _s| p.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

const PROJECTS: &str = "/cloudflare/client/v4/accounts/{account_id}/pages/projects";

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route(
            PROJECTS,
            list_route("result", list_projects).post(create_project),
        )
        .route(
            &format!("{PROJECTS}/{{project_name}}"),
            get(get_project)
                .patch(update_project)
                .delete(delete_project),
        )
        .route(
            &format!("{PROJECTS}/{{project_name}}/domains"),
            post(add_domain),
        )
        .route(
            &format!("{PROJECTS}/{{project_name}}/domains/{{domain_name}}"),
            delete(delete_domain),
        )
}

fn project_404() -> Response {
    error(
        StatusCode::NOT_FOUND,
        8_000_007,
        "Project not found. The specified project name does not match any of your existing projects.",
    )
}

/// [cf-spec] `pages_project_name`, and the 58 characters of a `<name>.pages.dev` label.
fn valid_name(name: &str) -> bool {
    name.len() <= 58
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `GET …/pages/projects`: every project in one answer, counted in `result_info`.
fn list_projects(store: &mut Store, req: &ListRequest<'_>) -> Result<Listing, Response> {
    if req.query.contains_key("page") || req.query.contains_key("per_page") {
        return Err(bad(
            8_000_000,
            "The project list takes no `page` or `per_page` parameter",
        ));
    }
    let seqs = store.pages.select(|_| true);
    let page = pagination::result_info_whole(seqs.len(), req.mode);
    Ok(store
        .pages
        .listing(&seqs, page, state::fingerprint, PagesProject::render))
}

/// Applies `changes` to the project's variables.
fn apply_env(p: &mut PagesProject, changes: EnvChanges) {
    for (env, name, var) in changes {
        let vars = p.env.entry(env).or_default();
        match var {
            Some(v) => {
                vars.insert(name, v);
            }
            None => {
                vars.remove(&name);
            }
        }
    }
}

/// `POST …/pages/projects` → the project.
async fn create_project(
    State(app): State<App>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    check_account(&account)?;
    let body = body_object(P, &body)?;
    known_keys("the project", &body, &BODY_KEYS)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !valid_name(&name) {
        return Err(bad(
            8_000_000,
            &format!(
                "The project name `{name}` is invalid: lowercase letters, digits and dashes, at most 58, not starting with a dash"
            ),
        ));
    }
    let Some(branch) = body
        .get("production_branch")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
    else {
        return Err(bad(8_000_000, "`production_branch` is required"));
    };
    let source = body
        .get("source")
        .filter(|v| !v.is_null())
        .map(source)
        .transpose()?;
    let build = match body.get("build_config") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => build_config(v)?,
    };
    let env = match body.get("deployment_configs") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => deployment_configs(v)?,
    };
    let pending = app.lifecycle.pending_polls;
    let mut st = app.state();
    let store = store(&mut st);
    if store.pages.get(&name).is_some() {
        return Err(error(
            StatusCode::CONFLICT,
            8_000_002,
            "A project with this name already exists. Choose a different project name.",
        ));
    }
    let created = state::now();
    let mut project = PagesProject {
        id: store.new_uuid(),
        name,
        production_branch: branch.to_owned(),
        source: source
            .as_ref()
            .map(|(h, o, r, _)| (h.clone(), o.clone(), r.clone())),
        build,
        env: BTreeMap::new(),
        domains: Vec::new(),
        latest: None,
        created,
    };
    apply_env(&mut project, env);
    if project.source.is_some() {
        project.deploy(created, pending);
    }
    let json = store.pages.create(project, pending, PagesProject::render);
    Ok(ok(json))
}

async fn get_project(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
) -> Result<Response, Response> {
    get_in_account::<PagesProject>(&app, &account, &name, project_404)
}

/// `PATCH …/pages/projects/{project_name}`: merges the production branch, the build settings
/// and the variables it names.
async fn update_project(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    check_account(&account)?;
    let body = body_object(P, &body)?;
    known_keys("the project", &body, &BODY_KEYS)?;
    if body
        .get("name")
        .is_some_and(|n| n.as_str() != Some(name.as_str()))
    {
        return Err(bad(8_000_000, "Renaming a project is not emulated"));
    }
    if body.get("source").is_some_and(|s| !s.is_null()) {
        return Err(bad(
            8_000_000,
            "A project's source is set when it is created",
        ));
    }
    let branch = match body.get("production_branch") {
        None | Some(Value::Null) => None,
        Some(Value::String(b)) if !b.is_empty() => Some(b.clone()),
        Some(_) => return Err(bad(8_000_000, "`production_branch` must be a branch name")),
    };
    let build = match body.get("build_config") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => build_config(v)?,
    };
    let env = match body.get("deployment_configs") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => deployment_configs(v)?,
    };
    let mut st = app.state();
    let p = store(&mut st)
        .pages
        .get_mut(&name)
        .ok_or_else(project_404)?;
    if let Some(b) = branch {
        p.production_branch = b;
    }
    p.build.extend(build);
    apply_env(p, env);
    Ok(ok(p.render()))
}

/// `DELETE …/pages/projects/{project_name}` → `result: null`.
async fn delete_project(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
) -> Result<Response, Response> {
    delete_in_account::<PagesProject>(&app, &account, &name, project_404)
}

/// `POST …/domains` `{name}` → the domain, `initializing` (its certificate is being issued).
async fn add_domain(
    State(app): State<App>,
    Path((account, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Response> {
    check_account(&account)?;
    let body = body_object(P, &body)?;
    known_keys("the domain", &body, &["name"])?;
    let domain = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !crate::dns::valid_zone(&domain) || domain.ends_with(".pages.dev") {
        return Err(bad(
            8_000_000,
            &format!("`{domain}` is not a domain name you can add"),
        ));
    }
    let mut st = app.state();
    let store = store(&mut st);
    if store.pages.values().any(|p| p.domains.contains(&domain)) {
        return Err(error(
            StatusCode::CONFLICT,
            8_000_018,
            "You have already added this custom domain.",
        ));
    }
    let created = state::now();
    let id = store.new_uuid();
    let p = store.pages.get_mut(&name).ok_or_else(project_404)?;
    p.domains.push(domain.clone());
    Ok(ok(json!({
        "id": id, "name": domain, "status": "initializing", "created_on": time_do(created),
        "certificate_authority": "google", "zone_tag": null,
        "verification_data": {"status": "pending"},
        "validation_data": {"status": "initializing", "method": "http"},
    })))
}

/// `DELETE …/domains/{domain_name}` → `result: null`.
async fn delete_domain(
    State(app): State<App>,
    Path((account, name, domain)): Path<(String, String, String)>,
) -> Result<Response, Response> {
    check_account(&account)?;
    let mut st = app.state();
    let p = store(&mut st)
        .pages
        .get_mut(&name)
        .ok_or_else(project_404)?;
    let at = p.domains.iter().position(|d| *d == domain).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            8_000_009,
            "The domain could not be found.",
        )
    })?;
    p.domains.remove(at);
    Ok(ok(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Resource;

    #[test]
    fn names_follow_the_document() {
        for ok in ["a", "marketing-site", "2fa"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-site", "Site", "a.b", "a_b", &"a".repeat(59)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_git_project_deploys_after_a_few_reads() {
        let mut store = Store::default();
        let mut p = bulk(
            &mut store,
            Slot {
                n: 1,
                seq: 1,
                region: String::new(),
                created: 0,
            },
        );
        p.deploy(0, 2);
        assert_eq!(
            p.render()["latest_deployment"]["latest_stage"]["status"],
            "active"
        );
        assert_eq!(p.render()["canonical_deployment"], Value::Null);
        p.observe();
        assert_eq!(p.status(), "pending");
        p.observe();
        assert_eq!(p.status(), "running");
        assert_eq!(
            p.render()["canonical_deployment"]["latest_stage"]["name"],
            "deploy"
        );
    }

    #[test]
    fn variables_merge_and_null_removes_one() {
        let changes = deployment_configs(&json!({"production": {"env_vars": {
            "A": {"type": "secret_text", "value": "1"}, "B": null}}}))
        .expect("valid");
        assert_eq!(changes.len(), 2);
        let mut store = Store::default();
        let mut p = bulk(
            &mut store,
            Slot {
                n: 1,
                seq: 1,
                region: String::new(),
                created: 0,
            },
        );
        p.env.get_mut("production").expect("production").insert(
            "B".to_owned(),
            EnvVar {
                kind: "plain_text".to_owned(),
                value: "2".to_owned(),
            },
        );
        apply_env(&mut p, changes);
        let names: Vec<&String> = p.env["production"].keys().collect();
        assert_eq!(names, ["A", "API_URL"]);
        assert!(deployment_configs(&json!({"staging": {}})).is_err());
        assert!(deployment_configs(&json!({"production": {"kv_namespaces": {}}})).is_err());
        assert!(
            deployment_configs(&json!({"production": {"env_vars": {"A": {"value": 1}}}})).is_err()
        );
    }
}
