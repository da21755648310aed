//! Writing a dock's sync (`commit_sync`) and explicit record writes (`put_records`) to DynamoDB.
//!
//! The rules (what is unchanged, what is missing, what bookkeeping survives) are the trait's and
//! the conformance suite's, decided here by the pure [`decide`]; the rest only reads and writes.
//! DynamoDB has no transaction large enough for a sync, so the order carries the safety instead:
//! changed records first (batched), the dock status last. A crash in between leaves some records
//! written and `lastSyncAt` unchanged, so the dock counts as not synced and the next sync
//! finishes the job.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use stackdock_core::record::RecordKey;
use stackdock_core::{Kind, Record};

use super::DynamoStore;
use super::batch::put_items;
use super::docks;
use super::records::{get_many, load_dock, to_record_item};
use crate::{DockSync, KindListing, StoreError, SyncStats};

/// Writes changed records, missing marks and, last, the dock status of one sync.
///
/// # Errors
/// A listed record of another org, dock or kind than its listing is refused before anything is
/// read or written. A failed write leaves the dock status unwritten.
pub(crate) async fn commit_sync(
    store: &DynamoStore,
    sync: &DockSync,
) -> Result<SyncStats, StoreError> {
    validate(sync)?;
    let mut stats = SyncStats::default();
    // The stored records per kind, updated with this sync's writes, so a second listing of the
    // same kind sees the first one's result (as it would inside one SQLite transaction).
    let mut stored: BTreeMap<Kind, BTreeMap<String, Record>> = BTreeMap::new();
    let mut writes: BTreeMap<RecordKey, Record> = BTreeMap::new();
    for listing in &sync.listings {
        let kind_stored = match stored.entry(listing.kind) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(load_dock(store, listing.kind, &sync.dock_id).await?)
            }
        };
        for record in decide(kind_stored, listing, sync.now, &mut stats) {
            writes.insert(record.key(), record);
        }
    }
    let items = writes
        .values()
        .map(|record| Ok((store.table(record.kind().table()), to_record_item(record)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    put_items(
        store,
        items,
        &format!("commit the sync of dock `{}`", sync.dock_id),
    )
    .await?;
    docks::put(store, &sync.status).await?;
    Ok(stats)
}

/// What one listing changes: the records to write (new, changed, back from missing, newly
/// missing), with `stored` updated to match and `stats` counted. Pure: no I/O, `now` passed in.
pub(crate) fn decide(
    stored: &mut BTreeMap<String, Record>,
    listing: &KindListing,
    now: Timestamp,
    stats: &mut SyncStats,
) -> Vec<Record> {
    let mut writes = Vec::new();
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
        record.updated_at = Some(now);
        stats.written += 1;
        stored.insert(record.provider_resource_id.clone(), record.clone());
        writes.push(record);
    }
    if !listing.complete {
        // Safety rule 2: a partial listing marks nothing missing.
        return writes;
    }
    for (id, old) in stored.iter_mut() {
        if listed.contains(id) || old.missing_since.is_some() {
            continue;
        }
        if let Some(regions) = &listing.regions {
            let covered = old.region.as_ref().is_some_and(|r| regions.contains(r));
            if !covered {
                continue;
            }
        }
        old.missing_since = Some(now);
        stats.marked_missing += 1;
        writes.push(old.clone());
    }
    writes
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

/// Writes records exactly as given, skipping those equal to the stored version (read in batches,
/// strongly consistent); changed ones are written in batches. Returns how many were written.
pub(crate) async fn put_records(
    store: &DynamoStore,
    records: &[Record],
) -> Result<usize, StoreError> {
    let mut keys: Vec<RecordKey> = records.iter().map(Record::key).collect();
    keys.sort();
    keys.dedup();
    let mut stored = get_many(store, &keys).await?;
    let mut writes: BTreeMap<RecordKey, &Record> = BTreeMap::new();
    let mut written = 0;
    for record in records {
        let key = record.key();
        if stored.get(&key) == Some(record) {
            continue;
        }
        stored.insert(key.clone(), record.clone());
        // A key given twice: the last version is the one stored, as with sequential upserts.
        writes.insert(key, record);
        written += 1;
    }
    let items = writes
        .values()
        .map(|record| Ok((store.table(record.kind().table()), to_record_item(record)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    put_items(store, items, "put records").await?;
    Ok(written)
}
