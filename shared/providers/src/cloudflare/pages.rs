//! Cloudflare Pages projects (`web_services` with `subtype = "pages"`; the same listing then adds
//! the read-only Workers scripts of `workers.rs`): listed with
//! `GET /accounts/{account_id}/pages/projects` (whole: the operation declares no paging parameter
//! and [cf-go] reads it as a `SinglePage`), read, changed and removed at
//! `/accounts/{account_id}/pages/projects/{project_name}` and created with `POST …/pages/projects`
//! ([cf-spec] pages-project-get-projects, -create-project, -get-project, -update-project,
//! -delete-project; provider-apis-2.md §3.3–3.5). Custom domains are added and removed in
//! `pages_domains.rs`.
//!
//! A project is named in every URL by its name, unique in the account, which is therefore its id
//! here (its UUID stays in `fullApiData`); projects carry no tags, so a create whose answer was
//! lost is found again by name. Its status is its production deployment's latest stage
//! (`latest_stage {name, status}`: `deploy` + `success` is `running`), none yet `pending`.
//! Environment variables are `deployment_configs.{production,preview}.env_vars`, read by name and
//! environment only (`NAME@production`, `NAME@preview`); their values (plain or secret text)
//! never reach `fullApiData`, and a value is sent only from those the engine resolved for the
//! request, always as `secret_text`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use stackdock_core::env_values::{ENV_VALUES, resent_names};
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, WebServiceAttrs, WebServiceBuild, WebServiceRepo};
use stackdock_core::web_service::{env_entry, split_env_entry};
use stackdock_core::{FieldValue, Kind, Record};

use super::declaration::PAGES_ROUTE;
use super::{Cloudflare, Collection, pages_domains, seal, skeleton, workers};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::error::gone_ok;
use crate::http::ListOptions;
use crate::object::text;
use crate::spec::{not_in_place, spec_set, spec_str};
use crate::{DockContext, EnvValues, ErrorClass, Listed, ProviderError, Request};

/// One project ([cf-spec] pages-project-get-project, -update-project, -delete-project).
pub(super) const PROJECT_ROUTE: &str = "/accounts/{account_id}/pages/projects/{project_name}";

/// The subtype of a Pages project (`stackdock_core::web_service::SUBTYPES`).
const SUBTYPE: &str = "pages";

/// A project's deploy environments, the keys of `deployment_configs`.
const ENVIRONMENTS: [&str; 2] = ["production", "preview"];

/// The type variables are written with: encrypted, never shown again ([cf-spec]
/// `env_vars.*.type`: `plain_text` or `secret_text`).
const ENV_TYPE: &str = "secret_text";

/// The branch a project deploys to production when its entry names none: the create body needs
/// one ([cf-go] `ProjectNewParams.ProductionBranch`, required), and Cloudflare cannot know the
/// repository's default branch of a direct-upload project.
const DEFAULT_BRANCH: &str = "main";

pub(super) static PAGES: Collection = Collection {
    kind: Kind::WebServices,
    list: PAGES_ROUTE,
    one: PROJECT_ROUTE,
    key: super::RESULT,
    map: |ctx, item| project_record(ctx, item),
};

// ---------------------------------------------------------------------------------------------
// Wire types ([cf-spec] `pages_projects`, `pages_deployments`, `pages_stage`; [cf-go]
// pages/project.go `Project`, `Deployment`)

/// Every field is read leniently (a value of another type reads as absent), so one odd field
/// never fails a listing; a project without a name does, saying so.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProjectWire {
    name: Value,
    subdomain: Value,
    domains: Value,
    production_branch: Value,
    framework: Value,
    source: Value,
    build_config: Value,
    deployment_configs: Value,
    latest_deployment: Value,
    canonical_deployment: Value,
}

/// `POST /accounts/{account_id}/pages/projects` ([cf-spec] `pages_projects`; [cf-go]
/// `ProjectNewParams`: `name` and `production_branch` required).
#[derive(Debug, Serialize)]
struct CreateProject<'a> {
    name: &'a str,
    production_branch: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source<'a>>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    build_config: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    deployment_configs: Map<String, Value>,
}

/// `source`: the git host and the repository whose pushes deploy.
#[derive(Debug, Serialize)]
struct Source<'a> {
    #[serde(rename = "type")]
    host: &'a str,
    config: SourceConfig<'a>,
}

#[derive(Debug, Serialize)]
struct SourceConfig<'a> {
    owner: &'a str,
    repo_name: &'a str,
    production_branch: &'a str,
}

/// The build settings, by config key: the wire name of each in `build_config`.
const BUILD: [(&str, &str); 3] = [
    ("build_command", "build_command"),
    ("output_directory", "destination_dir"),
    ("root_directory", "root_dir"),
];

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// The universal status of a deployment's latest stage ([cf-spec] `pages_stage`: `name` is
/// `queued|initialize|clone_repo|build|deploy`, `status` `success|idle|active|failure|canceled`;
/// provider-apis-2.md §3.4): only a deploy stage that succeeded serves the site.
fn status_of(stage: Option<&str>, status: Option<&str>) -> &'static str {
    const STAGES: [&str; 5] = ["queued", "initialize", "clone_repo", "build", "deploy"];
    match (stage, status) {
        (None, None) => "pending",
        (_, Some("failure")) => "error",
        (_, Some("canceled")) => "stopped",
        (Some("deploy"), Some("success")) => "running",
        (Some(s), Some("success" | "active" | "idle")) if STAGES.contains(&s) => "pending",
        _ => "unknown",
    }
}

/// The production deployment: the latest when it is a production one, else the canonical (the
/// one production serves), else the latest; `None` for a project never deployed.
fn production(wire: &ProjectWire) -> Option<&Value> {
    let is_object = |v: &&Value| v.is_object();
    let latest = Some(&wire.latest_deployment).filter(is_object);
    let canonical = Some(&wire.canonical_deployment).filter(is_object);
    let preview = |d: &Value| d.get("environment").and_then(Value::as_str) == Some("preview");
    match latest {
        Some(l) if !preview(l) => Some(l),
        _ => canonical.or(latest),
    }
}

/// `source` → the repository: `type` (`github`, `gitlab`), `config.owner` / `config.repo_name`;
/// the branch is the project's `production_branch`.
fn repo_of(source: &Value, branch: Option<String>) -> WebServiceRepo {
    let config = source.get("config");
    let field = |k: &str| config.and_then(|c| c.get(k)).and_then(text);
    WebServiceRepo {
        provider: source.get("type").and_then(text),
        full_name: field("owner")
            .zip(field("repo_name"))
            .map(|(owner, name)| format!("{owner}/{name}")),
        branch: branch.or_else(|| field("production_branch")),
    }
}

/// The `NAME@environment` entries of `deployment_configs` (a variable set to `null` is none).
fn env_names(configs: &Value) -> BTreeSet<String> {
    ENVIRONMENTS
        .iter()
        .filter_map(|env| {
            let vars = configs.get(env)?.get("env_vars")?.as_object()?;
            Some(
                vars.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(name, _)| env_entry(name, env)),
            )
        })
        .flatten()
        .collect()
}

/// Removes every `value` of the variables of `deployment_configs` and of the deployments'
/// `env_vars` (plain and secret text alike, [cf-spec]; provider-apis-2.md §3.5).
fn strip_env_values(project: &mut Value) {
    let strip = |vars: Option<&mut Value>| {
        if let Some(vars) = vars.and_then(Value::as_object_mut) {
            for var in vars.values_mut().filter_map(Value::as_object_mut) {
                var.remove("value");
            }
        }
    };
    for env in ENVIRONMENTS {
        strip(project.pointer_mut(&format!("/deployment_configs/{env}/env_vars")));
    }
    for deployment in ["latest_deployment", "canonical_deployment"] {
        strip(project.pointer_mut(&format!("/{deployment}/env_vars")));
    }
}

/// A project object → the universal record (id: its name).
fn project_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: ProjectWire = raw.decode().map_err(|e| format!("a Pages project: {e}"))?;
    let name = text(&wire.name).ok_or("a Pages project without a `name`")?;
    let mut record = skeleton(ctx, Kind::WebServices, &name, &name);
    let deployment = production(&wire);
    let at = |pointer: &str| deployment.and_then(|d| d.pointer(pointer)).and_then(text);
    let (stage, status) = (at("/latest_stage/name"), at("/latest_stage/status"));
    record.status = status_of(stage.as_deref(), status.as_deref()).into();
    let subdomain = text(&wire.subdomain).map(|s| s.to_ascii_lowercase());
    let custom_domains: BTreeSet<String> = wire
        .domains
        .as_array()
        .map(|ds| {
            ds.iter()
                .filter_map(text)
                .map(|d| d.to_ascii_lowercase())
                .filter(|d| Some(d) != subdomain.as_ref() && !d.ends_with(".pages.dev"))
                .collect()
        })
        .unwrap_or_default();
    let default_url = subdomain.map(|s| format!("https://{s}"));
    let production_url = custom_domains
        .iter()
        .next()
        .map(|d| format!("https://{d}"))
        .or_else(|| default_url.clone());
    let build = |k: &str| wire.build_config.get(k).and_then(text);
    record.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
        subtype: Some(SUBTYPE.to_owned()),
        production_url,
        default_url,
        custom_domains,
        repo: repo_of(&wire.source, text(&wire.production_branch)),
        framework: text(&wire.framework),
        provider_status: stage.zip(status).map(|(n, s)| format!("{n}/{s}")),
        last_deploy_at: at("/created_on"),
        last_deploy_id: at("/id"),
        last_commit_sha: at("/deployment_trigger/metadata/commit_hash"),
        env_var_names: env_names(&wire.deployment_configs),
        build: WebServiceBuild {
            root_directory: build("root_dir"),
            build_command: build("build_command"),
            install_command: None,
            output_directory: build("destination_dir"),
        },
    }));
    let mut full = raw.to_value();
    strip_env_values(&mut full);
    Ok(seal(record, full))
}

/// Whether `name` can be a project's name in a URL path ([cf-spec] `pages_project_name`:
/// `^[a-z0-9][a-z0-9-]*$`; the `<name>.pages.dev` label is at most 58 characters).
fn is_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 58
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `deployment_configs` setting the variables of `added` (each with its resolved value, as
/// `secret_text`) and removing those of `removed` (`null`, [cf-go] `ProjectService.Edit`: "To
/// delete an environment variable, set the key to null"); the two sets are disjoint.
fn env_configs(
    sent: &BTreeSet<String>,
    removed: &BTreeSet<String>,
    values: Option<&EnvValues>,
) -> Result<Map<String, Value>, String> {
    let mut configs = Map::new();
    let mut put = |entry: &str, value: Value| -> Result<(), String> {
        let Some((name, env)) = split_env_entry(entry).filter(|(_, e)| ENVIRONMENTS.contains(e))
        else {
            return Err(format!(
                "`{entry}` is not `NAME@production` or `NAME@preview`"
            ));
        };
        let vars = configs
            .entry(env)
            .or_insert_with(|| json!({"env_vars": {}}))
            .get_mut("env_vars")
            .and_then(Value::as_object_mut)
            .ok_or("env_vars is an object")?;
        vars.insert(name.to_owned(), value);
        Ok(())
    };
    for entry in removed {
        put(entry, Value::Null)?;
    }
    for entry in sent {
        let Some(value) = values.and_then(|v| v.get(entry)) else {
            return Err(format!(
                "the value of environment variable {entry} was not resolved; apply reads it from the entry's `env` source"
            ));
        };
        put(entry, json!({"type": ENV_TYPE, "value": value}))?;
    }
    Ok(configs)
}

// ---------------------------------------------------------------------------------------------
// Calls

impl Cloudflare {
    /// The dock's account, which Pages needs (the parser requires it on a dock that declares
    /// web services).
    fn pages_account(&self, route: &str) -> Result<&str, ProviderError> {
        self.account_id().ok_or_else(|| {
            self.invalid(
                route,
                format!(
                    "Pages projects live in a Cloudflare account: set `account_id` on dock `{}` (32 hex digits, on the dashboard's overview)",
                    self.ctx().dock
                ),
            )
        })
    }

    /// The path of project `name`, its name checked first: a Workers script's id (the same
    /// kind's other listing) is refused as read-only.
    pub(super) fn project_path(&self, route: &str, name: &str) -> Result<String, ProviderError> {
        if workers::is_worker(name) {
            return Err(self.read_only(route, name));
        }
        let account = self.pages_account(route)?;
        if !is_project_name(name) {
            return Err(self.invalid(route, format!("`{name}` is not a Pages project name")));
        }
        Ok(format!("/accounts/{account}/pages/projects/{name}"))
    }

    /// The project as it is now; gone is `NotFound`.
    async fn project(&self, name: &str, route: &str) -> Result<Record, ProviderError> {
        let path = self.project_path(route, name)?;
        self.read(PROJECT_ROUTE, &path, PAGES.map)
            .await?
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorClass::NotFound,
                    &self.ctx().dock,
                    route,
                    format!(
                        "Pages project {name} no longer exists; run `stackdock sync` to refresh the inventory"
                    ),
                )
            })
    }
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Cloudflare Pages projects.
#[derive(Debug)]
pub(super) struct Pages;

#[async_trait::async_trait]
impl KindAdapter<Cloudflare> for Pages {
    fn kind(&self) -> Kind {
        Kind::WebServices
    }

    fn collection(&self) -> &'static Collection {
        &PAGES
    }

    /// Every project in one request and, beside it, every Workers script (read-only,
    /// `workers.rs`) in another: a web-service listing is complete only with both. A dock
    /// without `account_id` holds none (the parser refuses a web service declared there), so its
    /// listing is complete and empty.
    async fn list(&self, cf: &Cloudflare) -> Result<Vec<Record>, ProviderError> {
        let Some(account) = cf.account_id() else {
            return Ok(Vec::new());
        };
        let options = ListOptions::new()
            .whole()
            .path(format!("/accounts/{account}/pages/projects"));
        let (mut records, workers) =
            futures::try_join!(cf.list_with(&PAGES, &options), cf.workers())?;
        records.extend(workers);
        Ok(records)
    }

    async fn get(&self, cf: &Cloudflare, id: &str) -> Result<Option<Record>, ProviderError> {
        if workers::is_worker(id) {
            return cf.worker(id).await;
        }
        let path = cf.project_path(&format!("GET {PROJECT_ROUTE}"), id)?;
        cf.read(PROJECT_ROUTE, &path, PAGES.map).await
    }

    /// The project of the entry's name, if it exists: names are unique in an account.
    async fn find_owned(
        &self,
        cf: &Cloudflare,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(self.get(cf, &spec.name).await?.into_iter().collect())
    }

    async fn create(&self, cf: &Cloudflare, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {PAGES_ROUTE}");
        let spec = request.spec;
        let account = cf.pages_account(&route)?;
        if !is_project_name(&spec.name) {
            return Err(cf.invalid(
                &route,
                format!("`{}` is not a Pages project name", spec.name),
            ));
        }
        let branch = spec_str(spec, "production_branch").unwrap_or(DEFAULT_BRANCH);
        let source = match spec_str(spec, "repo") {
            Some(repo) => {
                let Some((owner, repo_name)) = repo.rsplit_once('/') else {
                    return Err(cf.invalid(&route, format!("`{repo}` is not `owner/name`")));
                };
                Some(Source {
                    host: spec_str(spec, "repo_provider").unwrap_or("github"),
                    config: SourceConfig {
                        owner,
                        repo_name,
                        production_branch: branch,
                    },
                })
            }
            None => None,
        };
        let build_config = BUILD
            .iter()
            .filter_map(|(key, wire)| {
                spec_str(spec, key).map(|v| ((*wire).to_owned(), Value::from(v)))
            })
            .collect();
        let entries = spec_set(spec, "env");
        let deployment_configs = env_configs(&entries, &BTreeSet::new(), request.env)
            .map_err(|e| cf.invalid(&route, e))?;
        let body = CreateProject {
            name: &spec.name,
            production_branch: branch,
            source,
            build_config,
            deployment_configs,
        };
        let path = format!("/accounts/{account}/pages/projects");
        let answer: Value = cf
            .account
            .client
            .post_json(PAGES_ROUTE, &path, &body, &[])
            .await?;
        let record = cf.map_answer(&route, answer, PAGES.map)?;
        let domains = spec_set(spec, "domains");
        if domains.is_empty() {
            return Ok(record);
        }
        pages_domains::converge(cf, &spec.name, &BTreeSet::new(), &domains).await?;
        cf.project(&spec.name, &route).await
    }

    /// The production branch, build settings and variables in one `PATCH` (a build setting
    /// removed from the file is set back to `null`, Cloudflare's default), then the custom domains
    /// one by one.
    async fn update(&self, cf: &Cloudflare, update: Update<'_>) -> Result<Record, ProviderError> {
        let route = format!("PATCH {PROJECT_ROUTE}");
        let path = cf.project_path(&route, update.id)?;
        let mut body = Map::new();
        let mut build = Map::new();
        let mut domains: Option<&FieldChange> = None;
        // Each `NAME@environment` is a variable of its own. The gone ones are set to `null`;
        // every entry of a variable the update sends again (its environments or its value
        // changed: `resent_names`, whose fingerprints the executor records) gets its value; the
        // others are left as they are.
        let resent = resent_names(update.changes);
        let mut removed = BTreeSet::new();
        let mut desired = match update.request.spec.fields.get("env") {
            Some(FieldValue::Set(s)) => s.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        for change in update.changes {
            match change.field.as_str() {
                "domains" => domains = Some(change),
                "env" => {
                    let (before, after) = (set(&change.before), set(&change.after));
                    removed = before.difference(&after).cloned().collect();
                    desired = after;
                }
                ENV_VALUES => {}
                "production_branch" => {
                    let branch = change
                        .after
                        .as_ref()
                        .and_then(FieldValue::as_str)
                        .unwrap_or(DEFAULT_BRANCH);
                    body.insert("production_branch".to_owned(), Value::from(branch));
                }
                field => match BUILD.iter().find(|(key, _)| *key == field) {
                    Some((_, wire)) => {
                        let value = change
                            .after
                            .as_ref()
                            .and_then(FieldValue::as_str)
                            .map_or(Value::Null, Value::from);
                        build.insert((*wire).to_owned(), value);
                    }
                    None => return Err(not_in_place(cf.ctx(), &route, Kind::WebServices, change)),
                },
            }
        }
        if !build.is_empty() {
            body.insert("build_config".to_owned(), Value::Object(build));
        }
        if !resent.is_empty() {
            let sent: BTreeSet<String> = desired
                .into_iter()
                .filter(|e| split_env_entry(e).is_some_and(|(name, _)| resent.contains(name)))
                .collect();
            let configs = env_configs(&sent, &removed, update.request.env)
                .map_err(|e| cf.invalid(&route, e))?;
            body.insert("deployment_configs".to_owned(), Value::Object(configs));
        }
        if !body.is_empty() {
            let _: Value = cf
                .account
                .client
                .patch_json(PROJECT_ROUTE, &path, &Value::Object(body), &[])
                .await?;
        }
        if let Some(change) = domains {
            pages_domains::converge(cf, update.id, &set(&change.before), &set(&change.after))
                .await?;
        }
        cf.project(update.id, &route).await
    }

    async fn delete(&self, cf: &Cloudflare, id: &str) -> Result<(), ProviderError> {
        let path = cf.project_path(&format!("DELETE {PROJECT_ROUTE}"), id)?;
        gone_ok(cf.account.client.delete(PROJECT_ROUTE, &path, &[]).await)
    }

    /// Ready unless its production deployment is still going through its stages; one that
    /// failed needs a person (its build log says why). A project never deployed (direct upload)
    /// is ready: nothing is being built.
    fn readiness(&self, record: &Record) -> Readiness {
        let state = match &record.attrs {
            Attrs::WebServices(a) => a.provider_status.as_deref(),
            _ => None,
        };
        match (state, record.status.as_str()) {
            (None, _) | (_, "running" | "stopped" | "unknown") => Readiness::Ready,
            (Some(_), "error") => Readiness::Failed(format!(
                "the production deployment of Pages project {} failed; read its build log in the Cloudflare dashboard, fix the build and push again",
                record.name
            )),
            _ => Readiness::Pending,
        }
    }
}

/// A set field's value; absent is empty.
fn set(v: &Option<FieldValue>) -> BTreeSet<String> {
    match v {
        Some(FieldValue::Set(s)) => s.iter().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::tests::ctx;

    fn attrs(r: &Record) -> &WebServiceAttrs {
        let Attrs::WebServices(a) = &r.attrs else {
            panic!("not a web service")
        };
        a
    }

    fn deployment(stage: &str, status: &str, environment: &str) -> Value {
        json!({
            "id": "f64788e9-fccd-4d4a-a28a-cb84f88f6", "short_id": "f64788e9",
            "environment": environment, "created_on": "2021-03-09T00:55:03.923456Z",
            "url": "https://f64788e9.marketing.pages.dev",
            "latest_stage": {"name": stage, "status": status, "started_on": null, "ended_on": null},
            "deployment_trigger": {"type": "push", "metadata": {"branch": "main",
                "commit_hash": "ad9ccd918a81025731e10e40267e11273a263421",
                "commit_message": "Update index.html"}},
            "env_vars": {"API_URL": {"type": "secret_text", "value": "deployed-secret"}},
        })
    }

    fn project() -> Value {
        json!({
            "id": "7b162ea7-7367-4d67-bcde-1160995d5", "name": "marketing",
            "subdomain": "marketing.pages.dev",
            "domains": ["marketing.pages.dev", "WWW.Example.com"],
            "production_branch": "main", "created_on": "2017-01-01T00:00:00Z",
            "source": {"type": "github", "config": {"owner": "acme", "repo_name": "marketing",
                "production_branch": "main", "deployments_enabled": true}},
            "build_config": {"build_command": "npm run build", "destination_dir": "dist",
                "root_dir": "", "web_analytics_tag": "cee1c73f",
                "web_analytics_token": "analytics-secret"},
            "deployment_configs": {
                "production": {"env_vars": {
                    "API_URL": {"type": "secret_text", "value": "secret-text-value"},
                    "MODE": {"type": "plain_text", "value": "plain-text-value"},
                    "GONE": null}},
                "preview": {"env_vars": {"API_URL": {"type": "plain_text", "value": "preview-value"}}}
            },
            "latest_deployment": deployment("deploy", "success", "production"),
            "canonical_deployment": deployment("deploy", "success", "production"),
        })
    }

    #[test]
    fn a_project_maps_to_the_universal_record() {
        let r = project_record(&ctx(), project()).expect("maps");
        assert_eq!(
            (
                r.provider_resource_id.as_str(),
                r.name.as_str(),
                r.status.as_str()
            ),
            ("marketing", "marketing", "running")
        );
        let a = attrs(&r);
        assert_eq!(a.subtype.as_deref(), Some("pages"));
        assert_eq!(
            a.default_url.as_deref(),
            Some("https://marketing.pages.dev")
        );
        assert_eq!(a.production_url.as_deref(), Some("https://www.example.com"));
        assert_eq!(a.custom_domains, ["www.example.com".to_owned()].into());
        assert_eq!(a.repo.full_name.as_deref(), Some("acme/marketing"));
        assert_eq!(a.repo.provider.as_deref(), Some("github"));
        assert_eq!(a.repo.branch.as_deref(), Some("main"));
        assert_eq!(a.provider_status.as_deref(), Some("deploy/success"));
        assert_eq!(
            a.last_deploy_at.as_deref(),
            Some("2021-03-09T00:55:03.923456Z")
        );
        assert_eq!(
            a.last_deploy_id.as_deref(),
            Some("f64788e9-fccd-4d4a-a28a-cb84f88f6")
        );
        assert_eq!(
            a.last_commit_sha.as_deref(),
            Some("ad9ccd918a81025731e10e40267e11273a263421")
        );
        assert_eq!(
            a.env_var_names,
            ["API_URL@preview", "API_URL@production", "MODE@production"]
                .map(str::to_owned)
                .into()
        );
        assert_eq!(a.build.build_command.as_deref(), Some("npm run build"));
        assert_eq!(a.build.output_directory.as_deref(), Some("dist"));
        assert_eq!(a.build.root_directory, None, "`\"\"` is the default");
        assert_eq!(r.field("output_directory"), Some(FieldValue::from("dist")));
    }

    #[test]
    fn variable_values_and_the_analytics_token_never_reach_full_api_data() {
        let r = project_record(&ctx(), project()).expect("maps");
        let text = r.full_api_data.as_str().to_owned();
        for secret in [
            "secret-text-value",
            "plain-text-value",
            "preview-value",
            "deployed-secret",
            "analytics-secret",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("API_URL") && text.contains("secret_text"),
            "{text}"
        );
    }

    #[test]
    fn statuses_follow_the_production_deployments_latest_stage() {
        for (stage, status, universal) in [
            (None, None, "pending"),
            (Some("queued"), Some("active"), "pending"),
            (Some("initialize"), Some("idle"), "pending"),
            (Some("clone_repo"), Some("success"), "pending"),
            (Some("build"), Some("active"), "pending"),
            (Some("deploy"), Some("active"), "pending"),
            (Some("deploy"), Some("success"), "running"),
            (Some("build"), Some("failure"), "error"),
            (Some("build"), Some("canceled"), "stopped"),
            (Some("launch"), Some("success"), "unknown"),
            (Some("deploy"), Some("exploded"), "unknown"),
        ] {
            assert_eq!(status_of(stage, status), universal, "{stage:?} {status:?}");
        }
        // A failed preview does not hide the production deployment that serves.
        let mut p = project();
        p["latest_deployment"] = deployment("build", "failure", "preview");
        let r = project_record(&ctx(), p).expect("maps");
        assert_eq!(r.status, "running");
        // Direct upload, never deployed: pending, ready, no repository.
        let bare = json!({"name": "uploads", "subdomain": "uploads.pages.dev", "domains": [],
            "latest_deployment": null, "source": null});
        let r = project_record(&ctx(), bare).expect("maps");
        assert_eq!(r.status, "pending");
        assert_eq!(Pages.readiness(&r), Readiness::Ready);
        assert_eq!(attrs(&r).repo.full_name, None);
        assert_eq!(
            attrs(&r).production_url.as_deref(),
            Some("https://uploads.pages.dev")
        );
        assert!(project_record(&ctx(), json!({"id": "x"})).is_err());
        assert!(project_record(&ctx(), json!([1])).is_err());
    }

    #[test]
    fn variables_are_set_as_secret_text_and_removed_with_null() {
        let added: BTreeSet<String> = ["API_URL@production", "API_URL@preview"]
            .map(str::to_owned)
            .into();
        let removed: BTreeSet<String> = ["OLD@preview".to_owned()].into();
        let values = EnvValues::new(
            [
                ("API_URL@production", "https://api"),
                ("API_URL@preview", "https://preview"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        );
        let configs = env_configs(&added, &removed, Some(&values)).expect("resolved");
        assert_eq!(
            Value::Object(configs),
            json!({
                "production": {"env_vars": {"API_URL": {"type": "secret_text", "value": "https://api"}}},
                "preview": {"env_vars": {
                    "API_URL": {"type": "secret_text", "value": "https://preview"},
                    "OLD": null}}
            })
        );
        let e = env_configs(&added, &removed, None).expect_err("no values");
        assert!(e.contains("API_URL@") && !e.contains("https://"), "{e}");
        let dev: BTreeSet<String> = ["X@development".to_owned()].into();
        assert!(env_configs(&dev, &BTreeSet::new(), Some(&values)).is_err());
    }

    #[test]
    fn names_are_checked_before_they_reach_a_path() {
        for ok in ["marketing", "a", "site-2", &"a".repeat(58)] {
            assert!(is_project_name(ok), "{ok}");
        }
        for bad in ["", "-site", "Site", "a.b", "../x", "a/b", &"a".repeat(59)] {
            assert!(!is_project_name(bad), "{bad}");
        }
    }
}
