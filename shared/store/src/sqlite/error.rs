//! The one place rusqlite failures become `StoreError`s, each with the table and operation it
//! failed on.

use crate::StoreError;

/// Maps a rusqlite error to `StoreError::Backend`, prefixed with `context` (`servers: upsert …`).
pub(crate) fn sql(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |error| {
        let hint = match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                " (another process holds the database; retry when it is done)"
            }
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => {
                " (check the permissions of the database file and its directory)"
            }
            Some(rusqlite::ErrorCode::DiskFull) => " (free some disk space)",
            _ => "",
        };
        StoreError::Backend(format!("{context}: {error}{hint}"))
    }
}

/// Maps a failure to read back stored JSON to `StoreError::Corrupt`.
pub(crate) fn unreadable(context: &str) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
    move |error| StoreError::Corrupt(format!("{context}: {error}"))
}

/// Maps a failure to serialize a value for storage to `StoreError::Backend`.
pub(crate) fn unwritable(context: &str) -> impl FnOnce(serde_json::Error) -> StoreError + '_ {
    move |error| StoreError::Backend(format!("{context}: cannot serialize: {error}"))
}
