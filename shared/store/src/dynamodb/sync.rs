//! Writing a dock's sync (`commit_sync`) and explicit record writes (`put_records`) to DynamoDB.
//!
//! The rules (what is unchanged, what is missing, what each writer owns) are the trait's and the
//! conformance suite's, decided by `crate::rules` (shared with SQLite); this module only reads
//! and writes.
//!
//! # No lost updates between a sync and an apply
//! A sync does not take the apply lease, so it may run while an apply writes ownership. Each
//! writer therefore writes only its own half of a record, with UpdateItem (never a whole-item
//! put): the sync the observed half (`SET` of the listed attributes, `REMOVE` of those now null),
//! `put_records` only the attributes its caller changed, and the observed ones only when it brings
//! a newer observation, conditionally on the `updatedAt` it read. BatchWriteItem cannot do either
//! (it replaces whole items, without conditions), so a changed record costs one request instead
//! of 1/25th of one. DynamoDB bills write units per item written either way; the requests of one
//! sync go out [`WRITE_CONCURRENCY`] at a time. An unchanged re-sync still writes no record.
//!
//! DynamoDB has no transaction large enough for a sync, so the order carries the safety instead:
//! changed records first, the dock status last. A crash in between leaves some records written
//! and `lastSyncAt` unchanged, so the dock counts as not synced and the next sync finishes the job.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use stackdock_core::record::RecordKey;
use stackdock_core::{Kind, Record};

use super::DynamoStore;
use super::codec::to_attribute;
use super::docks;
use super::records::{get, get_many, item_diff, load_seen, observed_update, to_record_item};
use super::update::{Condition, update_record};
use crate::rules::{Seen, Write, decide, merge_put};
use crate::{DockSync, StoreError, SyncStats};

/// Record writes of one sync or `put_records` in flight at once.
pub const WRITE_CONCURRENCY: usize = 16;

/// How often `put_records` re-reads a record whose `updatedAt` changed between its read and its
/// write (a sync wrote meanwhile) before giving up.
const PUT_ATTEMPTS: usize = 5;

/// Writes changed records' observed halves, missing marks and, last, the dock status of one sync.
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
    // What the rules read of the stored records per kind, updated with this sync's writes, so a
    // second listing of the same kind sees the first one's result.
    let mut seen: BTreeMap<Kind, BTreeMap<String, Seen>> = BTreeMap::new();
    let mut writes: BTreeMap<(Kind, String), Write> = BTreeMap::new();
    for listing in sync.listings {
        let kind = listing.kind;
        let known = match seen.entry(kind) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(load_seen(store, kind, &sync.dock_id).await?)
            }
        };
        for write in decide(known, listing, sync.now, &mut stats) {
            match write {
                Write::Listed(record) => {
                    writes.insert(
                        (kind, record.provider_resource_id.to_string()),
                        Write::Listed(record),
                    );
                }
                Write::Missing(id) => match writes.get_mut(&(kind, id.clone())) {
                    // Listed by an earlier listing of this sync, absent from a later one.
                    Some(Write::Listed(record)) => record.missing_since = Some(sync.now),
                    _ => {
                        writes.insert((kind, id.clone()), Write::Missing(id));
                    }
                },
            }
        }
    }
    let dock = sync.dock_id.as_str();
    let now = to_attribute(serde_json::Value::String(sync.now.to_string()));
    futures::stream::iter(writes)
        .map(|((kind, id), write)| {
            let table = store.table(kind.table());
            let now = now.clone();
            async move {
                match write {
                    Write::Listed(record) => {
                        let (set, remove) = observed_update(&record)?;
                        update_record(
                            store,
                            &table,
                            (dock, &id),
                            set,
                            remove,
                            Condition::None,
                            "sync: write the observed half of",
                        )
                        .await
                    }
                    // Records are never deleted, so the condition only keeps a stub from being
                    // created if one ever were.
                    Write::Missing(id) => {
                        update_record(
                            store,
                            &table,
                            (dock, &id),
                            vec![("missingSince".to_owned(), now)],
                            Vec::new(),
                            Condition::Exists,
                            "sync: mark missing",
                        )
                        .await
                    }
                }
            }
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .try_collect::<Vec<bool>>()
        .await?;
    docks::put(store, &sync.status).await?;
    Ok(stats)
}

/// Writes records as `rules::merge_put` decides (bookkeeping as given; the observed half only
/// when newer), skipping those that change nothing. Stored versions are read in batches (strongly
/// consistent); each changed record is one UpdateItem of the attributes that differ. Returns how
/// many records were written.
pub(crate) async fn put_records(
    store: &DynamoStore,
    records: &[Record],
) -> Result<usize, StoreError> {
    let mut keys: Vec<RecordKey> = records.iter().map(Record::key).collect();
    keys.sort();
    keys.dedup();
    let read = get_many(store, &keys).await?;
    // A key given twice: merged in order, as with sequential writes; the last result is written.
    let mut latest: BTreeMap<RecordKey, Record> = read.clone();
    let mut given: BTreeMap<RecordKey, Record> = BTreeMap::new();
    let mut written = 0;
    for record in records {
        let key = record.key();
        if let Some(merged) = merge_put(record, latest.get(&key)) {
            latest.insert(key.clone(), merged);
            given.insert(key, record.clone());
            written += 1;
        }
    }
    futures::stream::iter(given)
        .map(|(key, record)| {
            let stored = read.get(&key).cloned();
            async move { put_one(store, &key, &record, stored).await }
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(written)
}

/// Writes one given record over the version read, re-reading and merging again when a sync
/// wrote the record in between (its `updatedAt` moved).
async fn put_one(
    store: &DynamoStore,
    key: &RecordKey,
    given: &Record,
    mut stored: Option<Record>,
) -> Result<(), StoreError> {
    let table = store.table(key.kind.table());
    for _ in 0..PUT_ATTEMPTS {
        let Some(merged) = merge_put(given, stored.as_ref()) else {
            return Ok(());
        };
        let new = to_record_item(&merged)?;
        let (set, remove, condition) = match &stored {
            None => (new.into_iter().collect(), Vec::new(), Condition::Absent),
            Some(old) => {
                let (set, remove) = item_diff(&new, &to_record_item(old)?);
                let updated_at = old
                    .updated_at
                    .map(|t| to_attribute(serde_json::Value::String(t.to_string())));
                (set, remove, Condition::UpdatedAt(updated_at))
            }
        };
        let done = update_record(
            store,
            &table,
            (&key.dock_id, &key.provider_resource_id),
            set,
            remove,
            condition,
            "put record",
        )
        .await?;
        if done {
            return Ok(());
        }
        stored = get(store, key).await?;
    }
    Err(StoreError::Backend(format!(
        "{table}: put record `{}` on dock `{}`: it kept changing under {PUT_ATTEMPTS} attempts \
         (syncs writing it); retry",
        key.provider_resource_id, key.dock_id
    )))
}
