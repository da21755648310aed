//! The request bodies of the Pages routes (`pages.rs`), checked against the document's keys
//! ([cf-spec] `pages_projects`, `pages_build_config`, `pages_deployment_configs_values`; [cf-go]
//! `DeploymentSourceConfig`): a key it does not name is refused with a 400, and so is a value of
//! the wrong type or outside its enum.

use std::collections::BTreeMap;

use axum::response::Response;
use serde_json::{Map, Value};

use super::bad;
use super::pages::{ENVIRONMENTS, EnvVar};

/// The keys of a create or update body ([cf-spec] `pages_projects`, its writable part).
pub(super) const BODY_KEYS: [&str; 5] = [
    "name",
    "production_branch",
    "build_config",
    "deployment_configs",
    "source",
];

/// [cf-spec] `pages_build_config`.
pub(super) const BUILD_KEYS: [&str; 6] = [
    "build_caching",
    "build_command",
    "destination_dir",
    "root_dir",
    "web_analytics_tag",
    "web_analytics_token",
];

/// [cf-spec] `pages_deployment_configs_values`: the keys of one environment's configuration.
/// Only `env_vars`, `compatibility_date` and `compatibility_flags` are kept; a binding is
/// refused as not emulated.
const CONFIG_KEYS: [&str; 3] = ["env_vars", "compatibility_date", "compatibility_flags"];

/// [cf-go] `DeploymentSourceConfig`.
const SOURCE_CONFIG_KEYS: [&str; 11] = [
    "deployments_enabled",
    "owner",
    "path_excludes",
    "path_includes",
    "pr_comments_enabled",
    "preview_branch_excludes",
    "preview_branch_includes",
    "preview_deployment_setting",
    "production_branch",
    "production_deployments_enabled",
    "repo_name",
];

/// Refuses a key the document does not name in `allowed`.
pub(super) fn known_keys(
    what: &str,
    o: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), Response> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(8_000_000, &format!("Unknown field `{k}` in {what}"))),
        None => Ok(()),
    }
}

/// `build_config`: strings or `null` (`build_caching` a boolean).
pub(super) fn build_config(v: &Value) -> Result<BTreeMap<String, Value>, Response> {
    let Some(o) = v.as_object() else {
        return Err(bad(8_000_000, "`build_config` must be an object"));
    };
    known_keys("build_config", o, &BUILD_KEYS)?;
    for (k, v) in o {
        let ok = match k.as_str() {
            "build_caching" => v.is_boolean() || v.is_null(),
            _ => v.is_string() || v.is_null(),
        };
        if !ok {
            return Err(bad(
                8_000_000,
                &format!("`build_config.{k}` has the wrong type"),
            ));
        }
    }
    Ok(o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// `deployment_configs`: per environment, the variables to set (`Some`) or remove (`None`).
pub(super) type EnvChanges = Vec<(String, String, Option<EnvVar>)>;

pub(super) fn deployment_configs(v: &Value) -> Result<EnvChanges, Response> {
    let Some(o) = v.as_object() else {
        return Err(bad(8_000_000, "`deployment_configs` must be an object"));
    };
    known_keys("deployment_configs", o, &ENVIRONMENTS)?;
    let mut changes = Vec::new();
    for (env, config) in o {
        let Some(config) = config.as_object() else {
            return Err(bad(
                8_000_000,
                &format!("`deployment_configs.{env}` must be an object"),
            ));
        };
        known_keys(&format!("deployment_configs.{env}"), config, &CONFIG_KEYS)?;
        let vars = match config.get("env_vars") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(vars)) => vars,
            Some(_) => return Err(bad(8_000_000, "`env_vars` must be an object")),
        };
        for (name, var) in vars {
            let var = match var {
                Value::Null => None,
                Value::Object(o) => {
                    known_keys(&format!("env_vars.{name}"), o, &["type", "value"])?;
                    let kind = o
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("plain_text");
                    let Some(value) = o.get("value").and_then(Value::as_str) else {
                        return Err(bad(
                            8_000_000,
                            &format!("`env_vars.{name}.value` must be a string"),
                        ));
                    };
                    if !["plain_text", "secret_text"].contains(&kind) {
                        return Err(bad(
                            8_000_000,
                            &format!(
                                "`env_vars.{name}.type` must be `plain_text` or `secret_text`"
                            ),
                        ));
                    }
                    Some(EnvVar {
                        kind: kind.to_owned(),
                        value: value.to_owned(),
                    })
                }
                _ => {
                    return Err(bad(
                        8_000_000,
                        &format!("`env_vars.{name}` must be an object or null"),
                    ));
                }
            };
            changes.push((env.clone(), name.clone(), var));
        }
    }
    Ok(changes)
}

/// `source`: `{type: github|gitlab, config: {owner, repo_name, …}}`.
pub(super) fn source(v: &Value) -> Result<(String, String, String, Option<String>), Response> {
    let wrong = || {
        bad(
            8_000_000,
            "`source` must be `{type: github|gitlab, config: {owner, repo_name, …}}`",
        )
    };
    let o = v.as_object().ok_or_else(wrong)?;
    known_keys("source", o, &["type", "config"])?;
    let host = o
        .get("type")
        .and_then(Value::as_str)
        .filter(|h| ["github", "gitlab"].contains(h));
    let config = o
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(wrong)?;
    known_keys("source.config", config, &SOURCE_CONFIG_KEYS)?;
    let text = |k: &str| {
        config
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (host, text("owner"), text("repo_name")) {
        (Some(h), Some(owner), Some(repo)) => Ok((
            h.to_owned(),
            owner.to_owned(),
            repo.to_owned(),
            text("production_branch").map(str::to_owned),
        )),
        _ => Err(wrong()),
    }
}
