//! The rules of a sync, decided once for every backend: which listed records are unchanged, which
//! are written (new, changed, back from missing) with their bookkeeping kept, which stored ones
//! are newly missing, and which syncs are refused outright. Backends only read and write.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use stackdock_core::Record;

use crate::{DockSync, KindListing, StoreError, SyncStats};

/// What the rules read of a stored record: whether a listed one is unchanged, and whether an
/// unlisted one is newly missing. A backend can read this much of a dock without reading its
/// records: at 10,000 unchanged resources, turning every stored row back into a `Record` cost a
/// re-sync more than all its listing (perf), only to compare hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) content_hash: String,
    pub(crate) missing_since: Option<Timestamp>,
    pub(crate) updated_at: Option<Timestamp>,
    pub(crate) region: Option<String>,
}

impl Seen {
    pub(crate) fn of(record: &Record) -> Seen {
        Seen {
            content_hash: record.content_hash.clone(),
            missing_since: record.missing_since,
            updated_at: record.updated_at,
            region: record.region.clone(),
        }
    }
}

/// One write a listing decided.
#[derive(Debug)]
// Nearly every write is `Listed`; boxing its record would add an allocation to each of them to
// save space on the rare missing marks.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Write {
    /// A listed record, new (`stored: false`) or changed or back from missing (`stored: true`:
    /// it keeps the stored version's bookkeeping).
    Listed { record: Record, stored: bool },
    /// A stored record the complete listing did not hold: marked missing since the sync's time.
    Missing(String),
}

impl Write {
    /// The provider id whose stored version this write needs (`None`: a new record).
    pub(crate) fn stored_id(&self) -> Option<&str> {
        match self {
            Write::Listed { stored: false, .. } => None,
            Write::Listed { record, .. } => Some(&record.provider_resource_id),
            Write::Missing(id) => Some(id),
        }
    }

    /// The record to write, given the stored version of [`Write::stored_id`]. `None` when a
    /// missing mark finds no stored record (nothing to mark); a listed record whose stored version
    /// has gone is written as listed.
    pub(crate) fn into_record(self, stored: Option<&Record>, now: Timestamp) -> Option<Record> {
        match self {
            Write::Listed { mut record, .. } => {
                if let Some(old) = stored {
                    record.keep_bookkeeping_of(old);
                }
                Some(record)
            }
            Write::Missing(_) => stored.map(|old| {
                let mut old = old.clone();
                old.missing_since = Some(now);
                old
            }),
        }
    }
}

/// What one listing changes, from what is `seen` of the dock's stored records of the listing's
/// kind (by provider id). `seen` is brought up to date (new, changed and returning records, newly
/// missing marks), so a second listing of the same kind in one sync sees the first one's result.
/// Returns the writes, and counts `stats`. Pure: no I/O, `now` passed in; the listed records are
/// moved, never copied (a 10,000-record sync would otherwise clone every `fullApiData`).
pub(crate) fn decide(
    seen: &mut BTreeMap<String, Seen>,
    listing: KindListing,
    now: Timestamp,
    stats: &mut SyncStats,
) -> Vec<Write> {
    let KindListing {
        records,
        complete,
        regions,
        started_at,
        ..
    } = listing;
    // A first sync writes every listed record, an unchanged re-sync none: reserve for the first
    // up to a cap, not a slot of ~480 bytes per record that is then left unused.
    let mut writes = Vec::with_capacity(records.len().min(1024));
    let mut listed = HashSet::with_capacity(records.len());
    for mut record in records {
        if record.content_hash.is_empty() {
            // Listings should carry the hash; computing it here keeps a forgetful caller from
            // rewriting every record on every sync.
            record.content_hash = record.observed_hash();
        }
        listed.insert(record.provider_resource_id.clone());
        let old = seen.get(&record.provider_resource_id);
        if let Some(old) = old
            && old.content_hash == record.content_hash
            && old.missing_since.is_none()
        {
            stats.unchanged += 1;
            continue;
        }
        let stored = old.is_some();
        record.missing_since = None;
        record.updated_at = Some(now);
        stats.written += 1;
        seen.insert(record.provider_resource_id.clone(), Seen::of(&record));
        writes.push(Write::Listed { record, stored });
    }
    if !complete {
        // Safety rule 2: a partial listing marks nothing missing.
        return writes;
    }
    for (id, old) in seen.iter_mut() {
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
        writes.push(Write::Missing(id.clone()));
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
