//! Writing a dock's sync (`commit_sync`) and explicit record writes (`put_records`), each in one
//! SQLite transaction: after a failure or a crash the previous consistent state remains.
//!
//! The rules (what is unchanged, what is missing, what bookkeeping survives) are the trait's and
//! the conformance suite's; this module only applies them to SQLite.

use jiff::Timestamp;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use stackdock_core::Record;

use super::error::sql;
use super::schema::Layout;
use super::{docks, records};
use crate::rules::Write;
use crate::{DockSync, KindListing, StoreError, SyncStats};

/// Writes changed records, missing marks and the dock status of one sync, all or nothing.
///
/// # Errors
/// A listed record of another org, dock or kind than its listing is refused before anything is
/// written; any SQLite failure rolls the whole sync back.
pub(crate) fn commit_sync(
    conn: &mut Connection,
    layout: &Layout,
    sync: DockSync,
) -> Result<SyncStats, StoreError> {
    crate::rules::validate(&sync)?;
    let context = format!("commit sync of dock `{}`", sync.dock_id);
    // Immediate: take the write lock up front, so a concurrent writer makes us wait (busy
    // timeout) instead of failing when a read transaction tries to upgrade.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(&context))?;
    let mut stats = SyncStats::default();
    for listing in sync.listings {
        write_listing(&tx, layout, &sync.dock_id, sync.now, listing, &mut stats)?;
    }
    docks::put(&tx, &sync.status)?;
    // Dropping `tx` on any early return above rolls back: nothing of this sync is visible.
    tx.commit().map_err(sql(&context))?;
    Ok(stats)
}

fn write_listing(
    tx: &Transaction<'_>,
    layout: &Layout,
    dock_id: &str,
    now: Timestamp,
    listing: KindListing,
    stats: &mut SyncStats,
) -> Result<(), StoreError> {
    let kind = listing.kind;
    let mut seen = records::load_seen(tx, kind, dock_id)?;
    let decided = crate::rules::decide(&mut seen, listing, now, stats);
    // Nothing is read whole: a listed record's observed half is upserted (its apply-owned
    // columns left alone), a missing one gets its mark. An unchanged re-sync writes nothing.
    let mut listed = Vec::with_capacity(decided.len());
    for write in decided {
        match write {
            Write::Listed(record) => listed.push(record),
            Write::Missing(id) => records::mark_missing(tx, kind, dock_id, &id, now)?,
        }
    }
    records::upsert_all(tx, layout, listed)
}

/// Writes records as `rules::merge_put` decides (bookkeeping as given; the observed half only when
/// newer than the stored one), skipping those that change nothing; one transaction.
pub(crate) fn put_records(
    conn: &mut Connection,
    layout: &Layout,
    records: Vec<Record>,
) -> Result<usize, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("put records"))?;
    let mut written = 0;
    for record in records {
        let stored = records::get(&tx, layout, &record.key())?;
        let Some(merged) = crate::rules::merge_put(&record, stored.as_ref()) else {
            continue;
        };
        records::upsert(&tx, layout, merged)?;
        written += 1;
    }
    tx.commit().map_err(sql("put records: commit"))?;
    Ok(written)
}
