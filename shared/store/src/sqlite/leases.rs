//! The `locks` table: leases with an expiry, taken by one conditional upsert so that among any
//! number of concurrent takers (threads or processes on the same file) exactly one wins.

use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Row, TransactionBehavior};

use super::error::sql;
use super::timestamp::{fixed, parse};
use crate::{Lease, StoreError};

/// Takes `name` for `owner` until `now + ttl` if it is free, expired, or already `owner`'s.
///
/// One statement decides: the insert either creates the row, or updates it only where the
/// stored lease has expired or belongs to `owner`. SQLite serialises writers, so two takers can
/// never both see a free lease. A renewal by the same owner keeps the original `acquiredAt`. The
/// refusal reads the holder in the same transaction, so it always names who won.
pub(crate) fn acquire(
    conn: &mut Connection,
    name: &str,
    owner: &str,
    ttl: Duration,
    now: Timestamp,
) -> Result<Lease, StoreError> {
    let context = format!("locks: acquire `{name}` for {owner}");
    let expires_at = expiry(now, ttl, &context)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(&context))?;
    let taken = tx
        .prepare_cached(
            "INSERT INTO locks (name, owner, acquiredAt, expiresAt) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET
                 acquiredAt = CASE WHEN locks.owner = excluded.owner AND locks.expiresAt > ?3
                                   THEN locks.acquiredAt ELSE excluded.acquiredAt END,
                 owner = excluded.owner,
                 expiresAt = excluded.expiresAt
             WHERE locks.expiresAt <= ?3 OR locks.owner = excluded.owner
             RETURNING name, owner, acquiredAt, expiresAt",
        )
        .map_err(sql(&context))?
        .query_row([name, owner, &fixed(now), &fixed(expires_at)], |row| {
            Ok(Raw::from_row(row))
        })
        .optional()
        .map_err(sql(&context))?;
    let outcome = match taken {
        Some(raw) => raw.map_err(sql(&context))?.into_lease(),
        None => match current(&tx, name)? {
            Some(held) => Err(StoreError::LeaseHeld {
                name: held.name,
                owner: held.owner,
                expires_at: held.expires_at,
            }),
            None => Err(StoreError::Backend(format!(
                "{context}: refused, yet no holder is stored (invariant of the upsert broken)"
            ))),
        },
    };
    tx.commit().map_err(sql(&context))?;
    outcome
}

/// Extends `lease` to `now + ttl` if the row is still its owner's (even if it expired meanwhile,
/// as long as nobody took it over); `LeaseLost` otherwise.
pub(crate) fn renew(
    conn: &Connection,
    lease: &Lease,
    ttl: Duration,
    now: Timestamp,
) -> Result<Lease, StoreError> {
    let context = format!("locks: renew `{}` for {}", lease.name, lease.owner);
    let expires_at = expiry(now, ttl, &context)?;
    let renewed = conn
        .prepare_cached(
            "UPDATE locks SET expiresAt = ?3 WHERE name = ?1 AND owner = ?2
             RETURNING name, owner, acquiredAt, expiresAt",
        )
        .map_err(sql(&context))?
        .query_row([&lease.name, &lease.owner, &fixed(expires_at)], |row| {
            Ok(Raw::from_row(row))
        })
        .optional()
        .map_err(sql(&context))?;
    match renewed {
        Some(raw) => raw.map_err(sql(&context))?.into_lease(),
        None => Err(StoreError::LeaseLost {
            name: lease.name.clone(),
            owner: lease.owner.clone(),
        }),
    }
}

/// Releases `lease` if it is still its owner's.
pub(crate) fn release(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    let context = format!("locks: release `{}` for {}", lease.name, lease.owner);
    conn.prepare_cached("DELETE FROM locks WHERE name = ?1 AND owner = ?2")
        .map_err(sql(&context))?
        .execute([&lease.name, &lease.owner])
        .map_err(sql(&context))?;
    Ok(())
}

/// Removes the lease whoever holds it, returning what was removed (in the same statement).
pub(crate) fn force_release(conn: &Connection, name: &str) -> Result<Option<Lease>, StoreError> {
    let context = format!("locks: force-release `{name}`");
    conn.prepare_cached(
        "DELETE FROM locks WHERE name = ?1 RETURNING name, owner, acquiredAt, expiresAt",
    )
    .map_err(sql(&context))?
    .query_row([name], |row| Ok(Raw::from_row(row)))
    .optional()
    .map_err(sql(&context))?
    .map(|raw| raw.map_err(sql(&context))?.into_lease())
    .transpose()
}

/// The stored lease of `name`, expired or not (the caller compares `expires_at` with its clock).
pub(crate) fn current(conn: &Connection, name: &str) -> Result<Option<Lease>, StoreError> {
    let context = format!("locks: read `{name}`");
    conn.prepare_cached("SELECT name, owner, acquiredAt, expiresAt FROM locks WHERE name = ?1")
        .map_err(sql(&context))?
        .query_row([name], |row| Ok(Raw::from_row(row)))
        .optional()
        .map_err(sql(&context))?
        .map(|raw| raw.map_err(sql(&context))?.into_lease())
        .transpose()
}

fn expiry(now: Timestamp, ttl: Duration, context: &str) -> Result<Timestamp, StoreError> {
    now.checked_add(ttl).map_err(|e| {
        StoreError::Backend(format!(
            "{context}: a lease of {ttl:?} from {now} overflows: {e}"
        ))
    })
}

/// A row before its times are parsed.
struct Raw {
    name: String,
    owner: String,
    acquired_at: String,
    expires_at: String,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            name: row.get(0)?,
            owner: row.get(1)?,
            acquired_at: row.get(2)?,
            expires_at: row.get(3)?,
        })
    }

    fn into_lease(self) -> Result<Lease, StoreError> {
        let context = format!("locks: lease `{}`", self.name);
        Ok(Lease {
            acquired_at: parse(&self.acquired_at, &context)?,
            expires_at: parse(&self.expires_at, &context)?,
            name: self.name,
            owner: self.owner,
        })
    }
}
