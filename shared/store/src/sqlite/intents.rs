//! The `intents` table: creates about to be attempted (safety rule 3), one per org and address.

use rusqlite::Connection;

use super::error::{sql, unreadable, unwritable};
use crate::{Intent, StoreError};

/// Records an intent; `Conflict` if the address already has one (a conditional insert).
pub(crate) fn put(conn: &Connection, intent: &Intent) -> Result<(), StoreError> {
    let context = format!(
        "intents: record the create of `{}` in org `{}`",
        intent.address, intent.org_id
    );
    let body = serde_json::to_string(intent).map_err(unwritable(&context))?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO intents (orgId, address, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (orgId, address) DO NOTHING",
        )
        .map_err(sql(&context))?
        .execute([&intent.org_id, &intent.address, &body])
        .map_err(sql(&context))?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a create intent for `{}` in org `{}`",
            intent.address, intent.org_id
        )));
    }
    Ok(())
}

/// The intents of an org, sorted by address.
pub(crate) fn list(conn: &Connection, org: &str) -> Result<Vec<Intent>, StoreError> {
    let context = format!("intents: list the intents of org `{org}`");
    let mut stmt = conn
        .prepare_cached("SELECT body FROM intents WHERE orgId = ?1 ORDER BY address")
        .map_err(sql(&context))?;
    let bodies = stmt
        .query_map([org], |row| row.get::<_, String>(0))
        .map_err(sql(&context))?;
    let mut intents = Vec::new();
    for body in bodies {
        let body = body.map_err(sql(&context))?;
        intents.push(serde_json::from_str(&body).map_err(unreadable(&context))?);
    }
    Ok(intents)
}

pub(crate) fn clear(conn: &Connection, org: &str, address: &str) -> Result<(), StoreError> {
    let context = format!("intents: clear `{address}` in org `{org}`");
    conn.prepare_cached("DELETE FROM intents WHERE orgId = ?1 AND address = ?2")
        .map_err(sql(&context))?
        .execute([org, address])
        .map_err(sql(&context))?;
    Ok(())
}
