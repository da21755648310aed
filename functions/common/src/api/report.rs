//! `GET /v1/report`: the fleet report page `stackdock report` writes, served by the plan API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use stackdock_core::render::html::{ReportInput, report};

use super::{ApiError, MAX_RESPONSE_BYTES};
use crate::Deps;

/// Rows per kind the served page lists at first; the page says how many it left out.
const MAX_ROWS: usize = 2000;

pub(super) async fn page(State(deps): State<Arc<Deps>>) -> Result<Response, ApiError> {
    let org = deps.org();
    let records = deps.store.inventory(org, None).await?;
    let statuses = deps
        .store
        .dock_statuses(org)
        .await
        .map_err(|e| ApiError::store_unavailable(&e))?;
    let generated_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_err(|e| ApiError::internal(&e))?
        .to_string();
    let mut input = ReportInput::new(&deps.config, &generated_at, &statuses, &records);
    input.max_rows = Some(MAX_ROWS);
    // Under the Function URL's 6 MB whatever the fleet: fewer rows until the page fits.
    let mut html = report(&input);
    while html.len() > MAX_RESPONSE_BYTES {
        let rows = input.max_rows.unwrap_or(MAX_ROWS) / 2;
        input.max_rows = Some(rows.max(1));
        html = report(&input);
        if rows <= 1 {
            break;
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
