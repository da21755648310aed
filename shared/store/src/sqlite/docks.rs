//! The `docks` table: each dock's last complete sync, last attempt and last error.

use rusqlite::{Connection, Row};
use stackdock_core::ProviderKind;
use stackdock_core::record::DockStatus;

use super::error::sql;
use super::timestamp::{fixed, parse};
use crate::StoreError;

/// Inserts or replaces a dock's status.
pub(crate) fn put(conn: &Connection, status: &DockStatus) -> Result<(), StoreError> {
    let context = format!("docks: write the status of `{}`", status.dock_id);
    let fingerprints = (!status.env_fingerprints.is_empty())
        .then(|| serde_json::to_string(&status.env_fingerprints))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("{context}: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO docks (orgId, dockId, name, provider, lastSyncAt, lastAttemptAt, lastError,
             catalog, envFingerprints)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (dockId) DO UPDATE SET orgId = excluded.orgId, name = excluded.name,
             provider = excluded.provider, lastSyncAt = excluded.lastSyncAt,
             lastAttemptAt = excluded.lastAttemptAt, lastError = excluded.lastError,
             catalog = excluded.catalog, envFingerprints = excluded.envFingerprints",
    )
    .map_err(sql(&context))?
    .execute(rusqlite::params![
        status.org_id,
        status.dock_id,
        status.name,
        status.provider.as_str(),
        status.last_sync_at.map(fixed),
        status.last_attempt_at.map(fixed),
        status.last_error,
        status.catalog,
        fingerprints,
    ])
    .map_err(sql(&context))?;
    Ok(())
}

/// The statuses of an org's docks, sorted by dock id.
pub(crate) fn list(conn: &Connection, org: &str) -> Result<Vec<DockStatus>, StoreError> {
    let context = format!("docks: read the statuses of org `{org}`");
    let mut stmt = conn
        .prepare_cached(
            "SELECT orgId, dockId, name, provider, lastSyncAt, lastAttemptAt, lastError, catalog,
                 envFingerprints
             FROM docks WHERE orgId = ?1 ORDER BY dockId",
        )
        .map_err(sql(&context))?;
    let rows = stmt
        .query_map([org], |row| Ok(Raw::from_row(row)))
        .map_err(sql(&context))?;
    let mut statuses = Vec::new();
    for raw in rows {
        statuses.push(raw.map_err(sql(&context))??.into_status()?);
    }
    Ok(statuses)
}

/// A row before its texts are parsed (parsing errors are ours, not rusqlite's).
struct Raw {
    org_id: String,
    dock_id: String,
    name: String,
    provider: String,
    last_sync_at: Option<String>,
    last_attempt_at: Option<String>,
    last_error: Option<String>,
    catalog: Option<String>,
    env_fingerprints: Option<String>,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> Result<Raw, StoreError> {
        let get = || -> rusqlite::Result<Raw> {
            Ok(Raw {
                org_id: row.get(0)?,
                dock_id: row.get(1)?,
                name: row.get(2)?,
                provider: row.get(3)?,
                last_sync_at: row.get(4)?,
                last_attempt_at: row.get(5)?,
                last_error: row.get(6)?,
                catalog: row.get(7)?,
                env_fingerprints: row.get(8)?,
            })
        };
        get().map_err(sql("docks: read a row"))
    }

    fn into_status(self) -> Result<DockStatus, StoreError> {
        let context = format!("docks: dock `{}`", self.dock_id);
        let time = |text: Option<String>| text.map(|t| parse(&t, &context)).transpose();
        Ok(DockStatus {
            provider: ProviderKind::parse(&self.provider).ok_or_else(|| {
                StoreError::Corrupt(format!("{context}: unknown provider `{}`", self.provider))
            })?,
            last_sync_at: time(self.last_sync_at)?,
            last_attempt_at: time(self.last_attempt_at)?,
            org_id: self.org_id,
            dock_id: self.dock_id,
            name: self.name,
            last_error: self.last_error,
            catalog: self.catalog,
            env_fingerprints: match self.env_fingerprints {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("{context}: envFingerprints: {e}")))?,
                None => Default::default(),
            },
        })
    }
}
