//! The rules of a sync, decided once for every backend: which listed records are unchanged, which
//! are written (new, changed, back from missing) with their bookkeeping kept, which stored ones
//! are newly missing, and which syncs are refused outright. Backends only read and write.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use stackdock_core::Record;

use crate::{DockSync, KindListing, StoreError, SyncStats};

/// What one listing changes. `stored` (the dock's stored records of the listing's kind, by
/// provider id) is brought up to date: new, changed and returning records moved in with their
/// bookkeeping kept, newly missing ones marked. Returns the ids whose `stored` version must be
/// written, and counts `stats`. Pure: no I/O, `now` passed in; the listed records are moved, never
/// copied (a 10,000-record sync would otherwise clone every `fullApiData`).
pub(crate) fn decide(
    stored: &mut BTreeMap<String, Record>,
    listing: KindListing,
    now: Timestamp,
    stats: &mut SyncStats,
) -> Vec<String> {
    let KindListing {
        records,
        complete,
        regions,
        started_at,
        ..
    } = listing;
    let mut writes = Vec::new();
    let mut listed = HashSet::with_capacity(records.len());
    for mut record in records {
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
        writes.push(record.provider_resource_id.clone());
        stored.insert(record.provider_resource_id.clone(), record);
    }
    if !complete {
        // Safety rule 2: a partial listing marks nothing missing.
        return writes;
    }
    for (id, old) in stored.iter_mut() {
        if listed.contains(id) || old.missing_since.is_some() {
            continue;
        }
        if let (Some(started), Some(updated)) = (started_at, old.updated_at)
            && updated >= started
        {
            continue;
        }
        if let Some(regions) = &regions {
            let covered = old.region.as_ref().is_some_and(|r| regions.contains(r));
            if !covered {
                continue;
            }
        }
        old.missing_since = Some(now);
        stats.marked_missing += 1;
        writes.push(id.clone());
    }
    writes
}

/// Refuses a sync whose records would land on another dock, org or table than it claims: such a
/// listing could otherwise mark the wrong records missing.
pub(crate) fn validate(sync: &DockSync) -> Result<(), StoreError> {
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
