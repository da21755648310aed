//! Projects (`web_services` with `subtype = "project"`): listed through `GET /v10/projects`
//! (paged with the `from` continuation, a number or a string token), read with
//! `GET /v9/projects/{idOrName}`, created with `POST /v11/projects`, changed with
//! `PATCH /v9/projects/{idOrName}` and removed with `DELETE /v9/projects/{idOrName}` ([vercel-sdk]
//! getProjects, getProject, createProject, updateProject, deleteProject; provider-apis-2.md §1.3).
//! Custom domains are listed, added and removed in `project_domains.rs`; environment variables
//! are created with `POST /v10/projects/{idOrName}/env` and removed with
//! `DELETE /v9/projects/{idOrName}/env/{id}`.
//!
//! A project's id is Vercel's (`prj_…`); projects carry no tags, so a create whose answer was
//! lost is found again by name (unique per team). Its status is its production deployment's
//! (`targets.production.readyState`, research §1.4): none yet is `pending`, a paused project is
//! `stopped`. Its custom domains are the production deployment's aliases that are not Vercel's own
//! (`*.vercel.app`); a project never deployed has no aliases, so its custom domains are read from
//! its domain listing (`project_domains.rs`, one request per such project). Environment
//! variables are read by name and environment only (`NAME@target`): the values the listing
//! carries (`env[].value` and its stored variants), deploy-hook URLs and protection-bypass keys never reach `fullApiData`.
//! A variable's value is sent to Vercel only from the values the engine resolved for the request.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stackdock_core::env_values::{ENV_VALUES, resent_names};
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, WebServiceAttrs, WebServiceBuild, WebServiceRepo};
use stackdock_core::web_service::{env_entry, split_env_entry};
use stackdock_core::{FieldValue, Kind, Record};

use super::{Collection, Vercel, fill, invalid, project_domains};
use crate::adapter::{Dock, KindAdapter, Readiness, Update};
use crate::error::gone_ok;
use crate::object::{decode_object, rfc3339_from_millis, text};
use crate::redact::secret_keys;
use crate::spec::{not_in_place, spec_set, spec_str};
use crate::{DockContext, EnvValues, ErrorClass, Listed, ProviderError, Request};

const LIST_ROUTE: &str = "/v10/projects";
const CREATE_ROUTE: &str = "/v11/projects";
const ONE_ROUTE: &str = "/v9/projects/{idOrName}";
const ENV_ROUTE: &str = "/v10/projects/{idOrName}/env";
const ENV_ONE_ROUTE: &str = "/v9/projects/{idOrName}/env/{id}";

/// The subtype of a Vercel project (`stackdock_core::web_service::SUBTYPES`).
const SUBTYPE: &str = "project";

/// The type environment variables are created with: encrypted at rest, readable by the team
/// ([vercel-sdk] createProjectEnv `type`; `sensitive` would hide them from the dashboard).
const ENV_TYPE: &str = "encrypted";

pub(super) const PROJECTS: Collection = Collection {
    route: LIST_ROUTE,
    get_route: ONE_ROUTE,
    delete_route: ONE_ROUTE,
    list_key: "projects",
    one_key: "",
    check: check_project,
    item: project_record,
    value: project_record,
};

// ---------------------------------------------------------------------------------------------
// Wire types ([vercel-sdk] getProjects `projects[]`, getProject, createProject, updateProject).

/// Every field is read leniently (a value of another type reads as absent), so one odd field
/// never fails a listing; a project without an id or a name does, naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ProjectWire {
    id: Value,
    name: Value,
    framework: Value,
    root_directory: Value,
    build_command: Value,
    install_command: Value,
    output_directory: Value,
    resource_config: Value,
    link: Value,
    targets: Value,
    env: Value,
    paused: Value,
}

/// A whole number (`number` in the document, so `1.0` too).
fn millis(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// One environment variable of a project: its id, name and environments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnvVar {
    id: String,
    key: String,
    targets: Vec<String>,
}

/// `env[]`: `target` is one environment or a list of them ([vercel-sdk] `ResponseBodyTarget`).
fn env_vars(env: &Value) -> Vec<EnvVar> {
    let Some(items) = env.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let key = text(item.get("key")?)?;
            let targets = match item.get("target") {
                Some(Value::String(t)) => vec![t.clone()],
                Some(Value::Array(ts)) => ts.iter().filter_map(text).collect(),
                _ => Vec::new(),
            };
            let id = item.get("id").and_then(text).unwrap_or_default();
            Some(EnvVar { id, key, targets })
        })
        .collect()
}

/// `POST /v11/projects` ([vercel-sdk] createProject request body).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateProject<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    framework: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git_repository: Option<GitRepository<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_directory: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    install_command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_directory: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serverless_function_region: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    environment_variables: Vec<NewEnv<'a>>,
}

/// `gitRepository`: `repo` is `owner/name`, `type` the git host.
#[derive(Debug, Serialize)]
struct GitRepository<'a> {
    repo: &'a str,
    #[serde(rename = "type")]
    host: &'a str,
}

/// One environment variable, as createProject's `environmentVariables[]` and createProjectEnv's
/// body both take it.
#[derive(Debug, Serialize)]
struct NewEnv<'a> {
    key: &'a str,
    value: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    target: Vec<&'a str>,
}

/// The build settings a `PATCH` sets, by config key: the wire name of each.
const SETTINGS: [(&str, &str); 6] = [
    ("framework", "framework"),
    ("root_directory", "rootDirectory"),
    ("build_command", "buildCommand"),
    ("install_command", "installCommand"),
    ("output_directory", "outputDirectory"),
    ("serverless_function_region", "serverlessFunctionRegion"),
];

// ---------------------------------------------------------------------------------------------
// Mapping (pure)

/// The universal status of a production deployment's `readyState` ([vercel-sdk] `readyState`
/// enum; provider-apis-2.md §1.4); none yet is `pending`.
fn status_of(ready_state: Option<&str>, paused: bool) -> &'static str {
    if paused {
        return "stopped";
    }
    match ready_state {
        None | Some("QUEUED" | "INITIALIZING" | "BUILDING" | "BLOCKED") => "pending",
        Some("READY") => "running",
        Some("ERROR") => "error",
        Some("CANCELED") => "stopped",
        Some("DELETED") => "deleting",
        Some(_) => "unknown",
    }
}

/// `link` → the repository: GitHub `org`/`repo`, GitLab `projectNamespace`/`projectName`,
/// Bitbucket `owner`/`slug` ([vercel-sdk] the three `link` variants), and `productionBranch`.
fn repo_of(link: &Value) -> WebServiceRepo {
    let field = |k: &str| link.get(k).and_then(text);
    let host = field("type");
    let full_name = match host.as_deref() {
        Some("gitlab") => field("projectNamespace").zip(field("projectName")),
        Some("bitbucket") => field("owner").zip(field("slug")),
        _ => field("org").zip(field("repo")),
    }
    .map(|(owner, name)| format!("{owner}/{name}"));
    WebServiceRepo {
        provider: host.map(|h| {
            if h == "github-limited" {
                "github".to_owned()
            } else {
                h
            }
        }),
        full_name,
        branch: field("productionBranch"),
    }
}

/// Whether a host name is one Vercel gives every deployment (not a custom domain).
pub(super) fn vercel_host(host: &str) -> bool {
    host.ends_with(".vercel.app")
}

/// A project object → the universal record; `env[].value` is removed before the rest of the
/// redaction (the key is matched exactly by the declaration elsewhere, where `value` is data).
pub(super) fn project_record(
    ctx: &DockContext,
    route: &str,
    raw: impl Listed,
) -> Result<Record, ProviderError> {
    let wire: ProjectWire = decode_object(&ctx.dock, route, &raw)?;
    let (Some(id), Some(name)) = (text(&wire.id), text(&wire.name)) else {
        return Err(ProviderError::new(
            ErrorClass::Transient,
            &ctx.dock,
            route,
            "the response has an unexpected shape: a project without an `id` or a `name`"
                .to_owned(),
        ));
    };
    let mut record = Record::new(
        &ctx.org,
        &ctx.dock_id,
        ctx.provider,
        Kind::WebServices,
        &id,
        &name,
    );
    let production = wire.targets.get("production").filter(|p| p.is_object());
    let target = |k: &str| production.and_then(|p| p.get(k));
    let ready_state = target("readyState").and_then(text);
    record.status = status_of(ready_state.as_deref(), wire.paused.as_bool() == Some(true)).into();
    record.region = wire
        .resource_config
        .get("functionDefaultRegions")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(text)
        .map(Into::into);
    let aliases: Vec<String> = target("alias")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(text)
                .map(|h| h.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let custom_domains: BTreeSet<String> = aliases
        .iter()
        .filter(|h| !vercel_host(h))
        .cloned()
        .collect();
    let default_url = target("url").and_then(text).map(|u| format!("https://{u}"));
    let production_url = custom_domains
        .iter()
        .next()
        .or(aliases.first())
        .map(|h| format!("https://{h}"))
        .or_else(|| default_url.clone());
    let commit = target("meta").and_then(Value::as_object).and_then(|meta| {
        ["githubCommitSha", "gitlabCommitSha", "bitbucketCommitSha"]
            .iter()
            .find_map(|k| meta.get(*k).and_then(text))
    });
    let env_var_names = env_vars(&wire.env)
        .iter()
        .flat_map(|v| v.targets.iter().map(|t| env_entry(&v.key, t)))
        .collect();
    record.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
        subtype: Some(SUBTYPE.to_owned()),
        production_url,
        default_url,
        custom_domains,
        repo: repo_of(&wire.link),
        framework: text(&wire.framework),
        provider_status: ready_state,
        last_deploy_at: target("createdAt")
            .and_then(millis)
            .and_then(rfc3339_from_millis),
        last_deploy_id: target("id").and_then(text),
        last_commit_sha: commit,
        env_var_names,
        build: WebServiceBuild {
            root_directory: text(&wire.root_directory),
            build_command: text(&wire.build_command),
            install_command: text(&wire.install_command),
            output_directory: text(&wire.output_directory),
        },
    }));
    let mut full = raw.to_value();
    if let Some(env) = full.get_mut("env").and_then(Value::as_array_mut) {
        for var in env.iter_mut().filter_map(Value::as_object_mut) {
            var.remove("value");
        }
    }
    record.full_api_data = full.into_api_data(secret_keys(ctx.provider));
    Ok(record.with_hash())
}

/// Refuses an id or name that cannot be a project's: it becomes a path segment.
fn check_project(ctx: &DockContext, route: &str, id: &str) -> Result<(), ProviderError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        return Ok(());
    }
    Err(invalid(
        ctx,
        route,
        format!("`{id}` is not a project id or name"),
    ))
}

/// The desired variables grouped as Vercel holds them: one variable per name and value, with the
/// environments that share it. Every entry of `entries` must have a resolved value.
fn desired_vars<'a>(
    ctx: &DockContext,
    route: &str,
    entries: &'a BTreeSet<String>,
    values: Option<&'a EnvValues>,
) -> Result<Vec<NewEnv<'a>>, ProviderError> {
    let mut grouped: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for entry in entries {
        let Some((key, target)) = split_env_entry(entry) else {
            return Err(invalid(
                ctx,
                route,
                format!("`{entry}` is not `NAME@target`"),
            ));
        };
        let Some(value) = values.and_then(|v| v.get(entry)) else {
            return Err(invalid(
                ctx,
                route,
                format!(
                    "the value of environment variable {entry} was not resolved; apply reads it from the entry's `env` source"
                ),
            ));
        };
        grouped.entry((key, value)).or_default().push(target);
    }
    Ok(grouped
        .into_iter()
        .map(|((key, value), target)| NewEnv {
            key,
            value,
            kind: ENV_TYPE,
            target,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Vercel projects.
#[derive(Debug)]
pub(super) struct Projects;

impl Projects {
    /// The project as it is now; gone is `NotFound`.
    async fn fetch(&self, dock: &Vercel, id: &str, route: &str) -> Result<Record, ProviderError> {
        self.get(dock, id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                &dock.account.ctx.dock,
                route,
                format!(
                    "project {id} no longer exists; run `stackdock sync` to refresh the inventory"
                ),
            )
        })
    }

    /// Replaces the variables whose entries change: every variable of those names is removed,
    /// then the desired ones of those names are created with their values.
    async fn converge_env(
        &self,
        dock: &Vercel,
        id: &str,
        changed: &BTreeSet<String>,
        after: &BTreeSet<String>,
        values: Option<&EnvValues>,
    ) -> Result<(), ProviderError> {
        let ctx = &dock.account.ctx;
        let client = &dock.account.client;
        let route = format!("GET {ONE_ROUTE}");
        let project: Value = client
            .get_json(ONE_ROUTE, &fill(ONE_ROUTE, id), &[])
            .await?;
        for var in env_vars(project.get("env").unwrap_or(&Value::Null)) {
            if !changed.contains(&var.key) {
                continue;
            }
            if var.id.is_empty() {
                return Err(invalid(
                    ctx,
                    &route,
                    format!("environment variable {} has no id to remove it by", var.key),
                ));
            }
            let path = format!("{}/env/{}", fill(ONE_ROUTE, id), var.id);
            gone_ok(client.delete(ENV_ONE_ROUTE, &path, &[]).await)?;
        }
        let entries: BTreeSet<String> = after
            .iter()
            .filter(|e| split_env_entry(e).is_some_and(|(k, _)| changed.contains(k)))
            .cloned()
            .collect();
        let post = format!("POST {ENV_ROUTE}");
        for var in desired_vars(ctx, &post, &entries, values)? {
            let path = fill(ENV_ROUTE, id);
            let _: Value = client.post_json(ENV_ROUTE, &path, &var, &[]).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl KindAdapter<Vercel> for Projects {
    fn kind(&self) -> Kind {
        Kind::WebServices
    }

    fn collection(&self) -> &'static Collection {
        &PROJECTS
    }

    /// Every project; a project never deployed costs one more request, for its domains.
    async fn list(&self, dock: &Vercel) -> Result<Vec<Record>, ProviderError> {
        let mut projects = Vec::new();
        for record in dock.list_of(&PROJECTS).await? {
            projects.push(project_domains::with_domains(dock, record).await?);
        }
        Ok(projects)
    }

    async fn get(&self, dock: &Vercel, id: &str) -> Result<Option<Record>, ProviderError> {
        match dock.get_of(&PROJECTS, id).await? {
            Some(record) => project_domains::with_domains(dock, record).await.map(Some),
            None => Ok(None),
        }
    }

    /// A project is named by its entry (names are unique per team): the one of that name.
    async fn find_owned(
        &self,
        dock: &Vercel,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Ok(self.get(dock, &spec.name).await?.into_iter().collect())
    }

    async fn create(&self, dock: &Vercel, request: Request<'_>) -> Result<Record, ProviderError> {
        let route = format!("POST {CREATE_ROUTE}");
        let ctx = &dock.account.ctx;
        let spec = request.spec;
        check_project(ctx, &route, &spec.name)?;
        let entries = spec_set(spec, "env");
        let repo = spec_str(spec, "repo");
        let body = CreateProject {
            name: &spec.name,
            framework: spec_str(spec, "framework"),
            git_repository: repo.map(|repo| GitRepository {
                repo,
                host: spec_str(spec, "repo_provider").unwrap_or("github"),
            }),
            root_directory: spec_str(spec, "root_directory"),
            build_command: spec_str(spec, "build_command"),
            install_command: spec_str(spec, "install_command"),
            output_directory: spec_str(spec, "output_directory"),
            serverless_function_region: spec_str(spec, "serverless_function_region"),
            environment_variables: desired_vars(ctx, &route, &entries, request.env)?,
        };
        let created: Value = dock
            .account
            .client
            .post_json(CREATE_ROUTE, CREATE_ROUTE, &body, &[])
            .await?;
        let record = project_record(ctx, &route, created)?;
        let domains = spec_set(spec, "domains");
        if domains.is_empty() {
            return Ok(record);
        }
        let id = record.provider_resource_id.clone();
        project_domains::converge(dock, &id, &BTreeSet::new(), &domains).await?;
        self.fetch(dock, &id, &route).await
    }

    /// Settings in one `PATCH` (a setting removed from the file is set back to `null`, the
    /// framework's default), then domains and variables one by one.
    async fn update(&self, dock: &Vercel, update: Update<'_>) -> Result<Record, ProviderError> {
        let ctx = &dock.account.ctx;
        let route = format!("PATCH {ONE_ROUTE}");
        check_project(ctx, &route, update.id)?;
        let mut settings = Map::new();
        let mut domains: Option<&FieldChange> = None;
        let mut env: Option<&FieldChange> = None;
        for change in update.changes {
            match change.field.as_str() {
                "domains" => domains = Some(change),
                "env" => env = Some(change),
                ENV_VALUES => {}
                field => match SETTINGS.iter().find(|(key, _)| *key == field) {
                    Some((_, wire)) => {
                        let value = change
                            .after
                            .as_ref()
                            .and_then(FieldValue::as_str)
                            .map_or(Value::Null, |s| Value::String(s.to_owned()));
                        settings.insert((*wire).to_owned(), value);
                    }
                    None => return Err(not_in_place(ctx, &route, Kind::WebServices, change)),
                },
            }
        }
        let path = fill(ONE_ROUTE, update.id);
        if !settings.is_empty() {
            let _: Value = dock
                .account
                .client
                .patch_json(ONE_ROUTE, &path, &Value::Object(settings), &[])
                .await?;
        }
        let set = |v: &Option<FieldValue>| match v {
            Some(FieldValue::Set(s)) => s.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        if let Some(change) = domains {
            project_domains::converge(dock, update.id, &set(&change.before), &set(&change.after))
                .await?;
        }
        let resent = resent_names(update.changes);
        if !resent.is_empty() {
            let want = env.map_or_else(
                || match update.request.spec.fields.get("env") {
                    Some(FieldValue::Set(s)) => s.iter().cloned().collect(),
                    _ => BTreeSet::new(),
                },
                |change| set(&change.after),
            );
            self.converge_env(dock, update.id, &resent, &want, update.request.env)
                .await?;
        }
        self.fetch(dock, update.id, &route).await
    }

    /// Ready unless its production deployment is still being built; one that failed needs a
    /// person (its build log says why).
    fn readiness(&self, record: &Record) -> Readiness {
        let state = match &record.attrs {
            Attrs::WebServices(a) => a.provider_status.as_deref(),
            _ => None,
        };
        match state {
            Some("QUEUED" | "INITIALIZING" | "BUILDING") => Readiness::Pending,
            Some("ERROR") => Readiness::Failed(format!(
                "the production deployment of project {} failed; read its build log in Vercel, fix the build and push again",
                record.name
            )),
            _ => Readiness::Ready,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::vercel::testing::ctx;

    fn attrs(r: &Record) -> &WebServiceAttrs {
        let Attrs::WebServices(a) = &r.attrs else {
            panic!("not a web service")
        };
        a
    }

    fn project() -> Value {
        json!({
            "id": "prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB", "name": "marketing",
            "accountId": "team_1", "nodeVersion": "22.x", "directoryListing": false,
            "framework": "nextjs", "rootDirectory": "apps/web", "buildCommand": null,
            "installCommand": "npm ci", "outputDirectory": "",
            "resourceConfig": {"functionDefaultRegions": ["iad1"]},
            "defaultResourceConfig": {"functionDefaultRegions": ["iad1"]},
            "link": {"type": "github", "org": "acme", "repo": "marketing", "repoId": 1,
                "productionBranch": "main",
                "deployHooks": [{"id": "h1", "name": "cms", "ref": "main",
                    "url": "https://api.vercel.com/v1/integrations/deploy/prj_1/abcdef"}]},
            "targets": {"production": {"id": "dpl_89qyp1cskzkLrVicDaZoDbjyHuDJ",
                "url": "marketing-abc123.vercel.app", "readyState": "READY",
                "createdAt": 1_609_499_532_000_i64,
                "alias": ["marketing.vercel.app", "www.example.com"],
                "meta": {"githubCommitSha": "9f2c4e1b"}}},
            "env": [
                {"id": "env_1", "key": "API_URL", "type": "encrypted",
                    "target": ["production", "preview"], "value": "c2VjcmV0LXZhbHVl",
                    "vsmValue": "vsm-secret"},
                {"id": "env_2", "key": "DEBUG", "type": "plain", "target": "development",
                    "value": "plain-secret"}
            ],
            "protectionBypass": {"bypass-secret-key": {"createdAt": 1, "createdBy": "u",
                "scope": "automation-bypass"}}
        })
    }

    #[test]
    fn a_project_maps_to_the_universal_record() {
        let r = project_record(&ctx(), "GET /v10/projects", project()).expect("maps");
        assert_eq!(r.provider_resource_id, "prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB");
        assert_eq!(
            (r.name.as_str(), r.status.as_str()),
            ("marketing", "running")
        );
        assert_eq!(r.region.as_deref(), Some("iad1"));
        let a = attrs(&r);
        assert_eq!(a.subtype.as_deref(), Some("project"));
        assert_eq!(a.production_url.as_deref(), Some("https://www.example.com"));
        assert_eq!(
            a.default_url.as_deref(),
            Some("https://marketing-abc123.vercel.app")
        );
        assert_eq!(a.custom_domains, ["www.example.com".to_owned()].into());
        assert_eq!(a.repo.full_name.as_deref(), Some("acme/marketing"));
        assert_eq!(a.repo.provider.as_deref(), Some("github"));
        assert_eq!(a.repo.branch.as_deref(), Some("main"));
        assert_eq!(a.framework.as_deref(), Some("nextjs"));
        assert_eq!(a.provider_status.as_deref(), Some("READY"));
        assert_eq!(a.last_deploy_at.as_deref(), Some("2021-01-01T11:12:12Z"));
        assert_eq!(
            a.last_deploy_id.as_deref(),
            Some("dpl_89qyp1cskzkLrVicDaZoDbjyHuDJ")
        );
        assert_eq!(a.last_commit_sha.as_deref(), Some("9f2c4e1b"));
        assert_eq!(
            a.env_var_names,
            ["API_URL@preview", "API_URL@production", "DEBUG@development"]
                .map(str::to_owned)
                .into()
        );
        assert_eq!(a.build.root_directory.as_deref(), Some("apps/web"));
        assert_eq!(a.build.build_command, None);
        assert_eq!(a.build.output_directory, None, "`\"\"` is the default");
        assert_eq!(r.field("install_command"), Some(FieldValue::from("npm ci")));
    }

    #[test]
    fn env_values_deploy_hooks_and_bypass_keys_never_reach_full_api_data() {
        let r = project_record(&ctx(), "GET /v10/projects", project()).expect("maps");
        let text = r.full_api_data.as_str().to_owned();
        for secret in [
            "c2VjcmV0LXZhbHVl",
            "vsm-secret",
            "plain-secret",
            "abcdef",
            "bypass-secret-key",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("API_URL"), "names stay: {text}");
    }

    #[test]
    fn statuses_follow_the_production_deployment() {
        for (state, paused, status) in [
            (None, false, "pending"),
            (Some("BUILDING"), false, "pending"),
            (Some("QUEUED"), false, "pending"),
            (Some("INITIALIZING"), false, "pending"),
            (Some("BLOCKED"), false, "pending"),
            (Some("READY"), false, "running"),
            (Some("READY"), true, "stopped"),
            (Some("ERROR"), false, "error"),
            (Some("CANCELED"), false, "stopped"),
            (Some("DELETED"), false, "deleting"),
            (Some("SOMETHING"), false, "unknown"),
        ] {
            assert_eq!(status_of(state, paused), status, "{state:?}");
        }
        let bare = json!({"id": "prj_1", "name": "site", "link": {"type": "gitlab",
            "projectNamespace": "group/sub", "projectName": "site"}});
        let r = project_record(&ctx(), "GET", bare).expect("maps");
        assert_eq!(r.status, "pending");
        assert_eq!(attrs(&r).repo.full_name.as_deref(), Some("group/sub/site"));
        assert_eq!(attrs(&r).production_url, None);
        assert!(project_record(&ctx(), "GET", json!({"name": "x"})).is_err());
        assert!(project_record(&ctx(), "GET", json!([1])).is_err());
    }

    #[test]
    fn variables_group_by_value_and_need_every_value() {
        let c = ctx();
        let entries: BTreeSet<String> = ["API_URL@preview", "API_URL@production", "DB@production"]
            .map(str::to_owned)
            .into();
        let values = EnvValues::new(
            [
                ("API_URL@preview", "https://api"),
                ("API_URL@production", "https://api"),
                ("DB@production", "postgres://x"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        );
        let vars = desired_vars(&c, "POST", &entries, Some(&values)).expect("all resolved");
        assert_eq!(vars.len(), 2);
        assert_eq!(vars[0].key, "API_URL");
        assert_eq!(vars[0].target, ["preview", "production"]);
        let e = desired_vars(&c, "POST", &entries, None).expect_err("no values");
        assert!(!format!("{e}").contains("https://api"));
        assert!(format!("{values:?}").contains("API_URL@preview=***"));
        assert!(!format!("{values:?}").contains("https://api"));
    }
}
