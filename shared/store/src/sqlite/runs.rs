//! The `runs` table: the audit log of syncs, plans, applies and force-unlocks. The whole record is
//! kept as JSON in `body` (as `crate::runlog::prepare` makes it, like every store); the other
//! columns exist to query and read it with plain SQL.

use rusqlite::{Connection, OptionalExtension as _};
use serde::Serialize;

use super::error::{sql, unreadable, unwritable};
use super::timestamp::fixed;
use crate::{RunCursor, RunKind, RunRecord, RunsPage, RunsRequest, StoreError};

/// Inserts or replaces a run; a run id already used by another org is a `Conflict`.
pub(crate) fn put(conn: &Connection, run: &RunRecord) -> Result<(), StoreError> {
    // What every store keeps of a run (`runlog::prepare`): its default expiry when it has none
    // (issue 19), messages cut to `MAX_MESSAGE_BYTES`. SQLite has no item limit, so the prepared
    // run stays whole in one row; DynamoDB splits it into chunks and reads back the same run.
    let run = &crate::runlog::prepare(run)?;
    let context = format!("runs: write run `{}`", run.run_id);
    let body = serde_json::to_string(run).map_err(unwritable(&context))?;
    let changed = conn
        .prepare_cached(
            "INSERT INTO runs (runId, orgId, kind, status, startedAt, finishedAt, body, expiresAt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (runId) DO UPDATE SET kind = excluded.kind, status = excluded.status,
                 startedAt = excluded.startedAt, finishedAt = excluded.finishedAt,
                 body = excluded.body, expiresAt = excluded.expiresAt
             WHERE runs.orgId = excluded.orgId",
        )
        .map_err(sql(&context))?
        .execute(rusqlite::params![
            run.run_id,
            run.org_id,
            label(&run.kind),
            label(&run.status),
            fixed(run.started_at),
            run.finished_at.map(fixed),
            body,
            run.expires_at.map(fixed),
        ])
        .map_err(sql(&context))?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "run `{}` (of another org)",
            run.run_id
        )));
    }
    Ok(())
}

pub(crate) fn get(
    conn: &Connection,
    org: &str,
    run_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    let context = format!("runs: read run `{run_id}` of org `{org}`");
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM runs WHERE runId = ?1 AND orgId = ?2")
        .map_err(sql(&context))?
        .query_row([run_id, org], |row| row.get(0))
        .optional()
        .map_err(sql(&context))?;
    body.map(|body| serde_json::from_str(&body).map_err(unreadable(&context)))
        .transpose()
}

/// The most recent runs of an org first (ties: run id, descending).
pub(crate) fn list(
    conn: &Connection,
    org: &str,
    limit: usize,
) -> Result<Vec<RunRecord>, StoreError> {
    let context = format!("runs: list the runs of org `{org}`");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM runs WHERE orgId = ?1
             ORDER BY startedAt DESC, runId DESC LIMIT ?2",
        )
        .map_err(sql(&context))?;
    let bodies = stmt
        .query_map(rusqlite::params![org, limit], |row| row.get::<_, String>(0))
        .map_err(sql(&context))?;
    let mut runs = Vec::new();
    for body in bodies {
        let body = body.map_err(sql(&context))?;
        runs.push(serde_json::from_str(&body).map_err(unreadable(&context))?);
    }
    Ok(runs)
}

/// One page of the audit log, newest first, as headers (`Store::runs_page`): keyset paging on
/// (`startedAt`, `runId`) through the `runs_orgId_startedAt` index; one row past the page says
/// whether more follow.
pub(crate) fn page(
    conn: &Connection,
    org: &str,
    request: &RunsRequest,
) -> Result<RunsPage, StoreError> {
    let context = format!("runs: list a page of the runs of org `{org}`");
    let limit = request.limit.max(1);
    let (after_at, after_id) = match &request.after {
        Some(c) => (Some(fixed(c.started_at)), Some(c.run_id.clone())),
        None => (None, None),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM runs WHERE orgId = ?1 AND (?2 IS NULL OR kind = ?2)
                 AND (?3 IS NULL OR startedAt < ?3 OR (startedAt = ?3 AND runId < ?4))
             ORDER BY startedAt DESC, runId DESC LIMIT ?5",
        )
        .map_err(sql(&context))?;
    let bodies = stmt
        .query_map(
            rusqlite::params![
                org,
                request.kind.map(RunKind::as_str),
                after_at,
                after_id,
                i64::try_from(limit + 1).unwrap_or(i64::MAX),
            ],
            |row| row.get::<_, String>(0),
        )
        .map_err(sql(&context))?;
    let mut runs = Vec::with_capacity(limit + 1);
    for body in bodies {
        let body = body.map_err(sql(&context))?;
        let mut run: RunRecord = serde_json::from_str(&body).map_err(unreadable(&context))?;
        run.actions = Vec::new();
        run.log = Vec::new();
        runs.push(run);
    }
    let next = if runs.len() > limit {
        runs.truncate(limit);
        runs.last().map(RunCursor::of)
    } else {
        None
    };
    Ok(RunsPage { runs, next })
}

/// The serialized name of a unit enum (`apply`, `succeeded`), as in the JSON body.
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
