//! Writing a dock's sync (`commit_sync`) and explicit record writes (`put_records`) to DynamoDB.
//!
//! The rules (what is unchanged, what is missing, what bookkeeping survives) are the trait's and
//! the conformance suite's, decided by `crate::rules` (shared with SQLite); this module only reads and writes.
//! DynamoDB has no transaction large enough for a sync, so the order carries the safety instead:
//! changed records first (batched), the dock status last. A crash in between leaves some records
//! written and `lastSyncAt` unchanged, so the dock counts as not synced and the next sync
//! finishes the job.

use std::collections::{BTreeMap, BTreeSet};

use stackdock_core::record::RecordKey;
use stackdock_core::{Kind, Record};

use super::DynamoStore;
use super::batch::put_items;
use super::docks;
use super::records::{get_many, load_dock, to_record_item};
use crate::rules::{Seen, decide};
use crate::{DockSync, StoreError, SyncStats};

/// A kind's stored records on the dock being synced, and what the rules read of them.
struct Known {
    records: BTreeMap<String, Record>,
    seen: BTreeMap<String, Seen>,
}

/// Writes changed records, missing marks and, last, the dock status of one sync.
///
/// # Errors
/// A listed record of another org, dock or kind than its listing is refused before anything is
/// read or written. A failed write leaves the dock status unwritten.
pub(crate) async fn commit_sync(
    store: &DynamoStore,
    sync: DockSync,
) -> Result<SyncStats, StoreError> {
    crate::rules::validate(&sync)?;
    let mut stats = SyncStats::default();
    // The stored records per kind (whole: a query reads whole items, and DynamoDB charges for
    // them whatever the projection), updated with this sync's writes, so a second listing of the
    // same kind sees the first one's result (as it would inside one SQLite transaction).
    let mut stored: BTreeMap<Kind, Known> = BTreeMap::new();
    let mut writes: BTreeSet<(Kind, String)> = BTreeSet::new();
    for listing in sync.listings {
        let kind = listing.kind;
        let known = match stored.entry(kind) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let records = load_dock(store, kind, &sync.dock_id).await?;
                let seen = records
                    .iter()
                    .map(|(id, r)| (id.clone(), Seen::of(r)))
                    .collect();
                entry.insert(Known { records, seen })
            }
        };
        for write in decide(&mut known.seen, listing, sync.now, &mut stats) {
            let old = write.stored_id().and_then(|id| known.records.get(id));
            if let Some(record) = write.into_record(old, sync.now) {
                writes.insert((kind, record.provider_resource_id.clone()));
                known
                    .records
                    .insert(record.provider_resource_id.clone(), record);
            }
        }
    }
    let items = writes
        .iter()
        .filter_map(|(kind, id)| stored.get(kind).and_then(|known| known.records.get(id)))
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
