//! Writing a dock's sync (`commit_sync`) and explicit record writes (`put_records`), each in one
//! SQLite transaction: after a failure or a crash the previous consistent state remains.
//!
//! The rules (what is unchanged, what is missing, what bookkeeping survives) are the trait's and
//! the conformance suite's; this module only applies them to SQLite.

use std::collections::BTreeSet;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use stackdock_core::Record;

use super::error::sql;
use super::schema::Layout;
use super::{docks, records};
use crate::{DockSync, KindListing, StoreError, SyncStats};

/// Writes changed records, missing marks and the dock status of one sync, all or nothing.
///
/// # Errors
/// A listed record of another org, dock or kind than its listing is refused before anything is
/// written; any SQLite failure rolls the whole sync back.
pub(crate) fn commit_sync(
    conn: &mut Connection,
    layout: &Layout,
    sync: &DockSync,
) -> Result<SyncStats, StoreError> {
    validate(sync)?;
    let context = format!("commit sync of dock `{}`", sync.dock_id);
    // Immediate: take the write lock up front, so a concurrent writer makes us wait (busy
    // timeout) instead of failing when a read transaction tries to upgrade.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(&context))?;
    let mut stats = SyncStats::default();
    for listing in &sync.listings {
        write_listing(&tx, layout, sync, listing, &mut stats)?;
    }
    docks::put(&tx, &sync.status)?;
    // Dropping `tx` on any early return above rolls back: nothing of this sync is visible.
    tx.commit().map_err(sql(&context))?;
    Ok(stats)
}

fn write_listing(
    tx: &Transaction<'_>,
    layout: &Layout,
    sync: &DockSync,
    listing: &KindListing,
    stats: &mut SyncStats,
) -> Result<(), StoreError> {
    let mut stored = records::load_dock(tx, layout, listing.kind, &sync.dock_id)?;
    let mut listed = BTreeSet::new();
    for record in &listing.records {
        let mut record = record.clone();
        if record.content_hash.is_empty() {
            // Listings should carry the hash; computing it here keeps a forgetful caller from
            // rewriting every record on every sync.
            record.content_hash = record.observed_hash();
        }
        listed.insert(record.provider_resource_id.clone());
        if let Some(old) = stored.get(&record.provider_resource_id) {
            if old.content_hash == record.content_hash && old.missing_since.is_none() {
                stats.unchanged += 1;
                continue;
            }
            record.keep_bookkeeping_of(old);
        }
        record.missing_since = None;
        record.updated_at = Some(sync.now);
        records::upsert(tx, layout, &record)?;
        stats.written += 1;
        stored.insert(record.provider_resource_id.clone(), record);
    }
    if !listing.complete {
        // Safety rule 2: a partial listing marks nothing missing.
        return Ok(());
    }
    for (id, old) in &stored {
        if listed.contains(id) || old.missing_since.is_some() {
            continue;
        }
        if let Some(regions) = &listing.regions {
            let covered = old.region.as_ref().is_some_and(|r| regions.contains(r));
            if !covered {
                continue;
            }
        }
        let mut gone = old.clone();
        gone.missing_since = Some(sync.now);
        records::upsert(tx, layout, &gone)?;
        stats.marked_missing += 1;
    }
    Ok(())
}

/// Refuses a sync whose records would land on another dock, org or table than it claims: such a
/// listing could otherwise mark the wrong records missing.
fn validate(sync: &DockSync) -> Result<(), StoreError> {
    let invalid = |what: String| {
        Err(StoreError::Backend(format!(
            "refusing the sync of dock `{}`: {what} (a bug in the caller)",
            sync.dock_id
        )))
    };
    if sync.status.dock_id != sync.dock_id || sync.status.org_id != sync.org_id {
        return invalid(format!(
            "its status is for dock `{}` of org `{}`",
            sync.status.dock_id, sync.status.org_id
        ));
    }
    for listing in &sync.listings {
        for record in &listing.records {
            if record.dock_id != sync.dock_id
                || record.org_id != sync.org_id
                || record.kind() != listing.kind
            {
                return invalid(format!(
                    "the {} listing holds {} `{}` of dock `{}`, org `{}`",
                    listing.kind,
                    record.kind().noun(),
                    record.provider_resource_id,
                    record.dock_id,
                    record.org_id
                ));
            }
        }
    }
    Ok(())
}

/// Writes records exactly as given, skipping those equal to the stored version; one transaction.
pub(crate) fn put_records(
    conn: &mut Connection,
    layout: &Layout,
    records: &[Record],
) -> Result<usize, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("put records"))?;
    let mut written = 0;
    for record in records {
        if records::get(&tx, layout, &record.key())?.as_ref() == Some(record) {
            continue;
        }
        records::upsert(&tx, layout, record)?;
        written += 1;
    }
    tx.commit().map_err(sql("put records: commit"))?;
    Ok(written)
}
