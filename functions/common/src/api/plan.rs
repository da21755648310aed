//! `GET /v1/plan` (the deployed config's plan) and `POST /v1/plan` (a proposed config's plan
//! against the current inventory). Neither writes anything.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use stackdock_core::config::{self, Config, Diagnostic};
use stackdock_core::plan::{Plan, dock_changes};
use stackdock_core::render;
use stackdock_engine::{Docks, plan_current};

use super::{ApiError, ApiOptions, body};
use crate::Deps;

/// `?format=`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Format {
    #[default]
    Json,
    Markdown,
    Text,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PlanQuery {
    #[serde(default)]
    format: Format,
}

fn format(query: Result<Query<PlanQuery>, QueryRejection>) -> Result<Format, ApiError> {
    query.map(|Query(q)| q.format).map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "format must be one of json, markdown, text",
        )
    })
}

/// The plan in the asked format, with its content type.
fn respond(plan: &Plan, format: Format) -> Response {
    let (content_type, body) = match format {
        Format::Json => ("application/json", render::json::render(plan)),
        Format::Markdown => (
            "text/markdown; charset=utf-8",
            render::markdown::render(plan),
        ),
        Format::Text => (
            "text/plain; charset=utf-8",
            render::text::render(plan, &render::text::TextOptions::default()),
        ),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub(super) async fn current(
    State(deps): State<Arc<Deps>>,
    query: Result<Query<PlanQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let format = format(query)?;
    let plan = deps.plan_deployed().await?;
    deps.remember(&plan);
    Ok(respond(&plan, format))
}

pub(super) async fn proposed(
    State(deps): State<Arc<Deps>>,
    Extension(options): Extension<Arc<ApiOptions>>,
    query: Result<Query<PlanQuery>, QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let format = format(query)?;
    let bytes = body(bytes)?;
    let source = std::str::from_utf8(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_config",
            format!(
                "the proposed stackdock.toml is not UTF-8 (first invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let proposal = config::parse("stackdock.toml", source).map_err(invalid)?;
    if proposal.settings.org != deps.config.settings.org {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_org",
            format!(
                "the proposal is for org `{}`, but this deployment serves org `{}`: propose changes to that org's stackdock.toml, or call the deployment of org `{}`",
                proposal.settings.org,
                deps.org(),
                proposal.settings.org
            ),
        )
        .with("org", deps.org().to_owned()));
    }
    if let Some(target) = &options.lambda_target {
        config::check_lambda("stackdock.toml", source, target).map_err(invalid)?;
    }
    let docks = same_docks(&deps, &proposal);
    let mut plan = plan_current(&proposal, &docks, deps.store.as_ref(), deps.plan_options).await?;
    plan.dock_changes = dock_changes(&deps.config.docks, &proposal.docks);
    Ok(respond(&plan, format))
}

/// A proposal's diagnostics as a 400 `invalid_config`.
fn invalid(diags: config::Diagnostics) -> ApiError {
    ApiError::bad_request(
        "invalid_config",
        format!(
            "the proposed stackdock.toml has {} error{}",
            diags.0.len(),
            if diags.0.len() == 1 { "" } else { "s" }
        ),
    )
    .with(
        "diagnostics",
        diags.0.iter().map(diagnostic).collect::<Vec<_>>(),
    )
}

/// A diagnostic as the API shows it: the place and the explanation, not the source line (the
/// body is the caller's own, and echoing it back gains nothing).
fn diagnostic(d: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "message": d.message,
        "help": d.help,
    })
}

/// The deployed adapters of the proposal's docks that are configured exactly as deployed (same
/// provider, endpoint, credential reference and regions), for the catalog checks. A proposal
/// never gets adapters of its own: its endpoints and credential references are not trusted, so no
/// credential is ever sent where a proposal points. Docks it adds have no stored sync and are
/// planned as blocked; docks it changes are planned against their stored inventory, unchecked
/// against the provider's catalogs.
fn same_docks(deps: &Deps, proposal: &Config) -> Docks {
    let mut docks = Docks::default();
    for (name, dock) in &proposal.docks {
        if deps.config.docks.get(name) == Some(dock)
            && let Some(provider) = deps.docks.get(name)
        {
            docks.providers.insert(name.clone(), provider.clone());
        }
    }
    docks
}
