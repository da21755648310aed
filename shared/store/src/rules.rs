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
            region: record.region.as_deref().map(str::to_owned),
        }
    }
}

/// The attributes of a record that StackDock's apply (and the plan's drift flags) own: the
/// bookkeeping half that `Record::keep_bookkeeping_of` carries over. A sync never writes them on a
/// stored record; `put_records` writes them as given. Everything else (the observed half,
/// `contentHash`, `updatedAt`, `missingSince`) is the sync's, and the identity is the key.
pub const APPLY_OWNED: [&str; 8] = [
    "managedBy",
    "provisioningSource",
    "provisioningState",
    "provisionedAt",
    "provisioningError",
    "protect",
    "drift",
    "applied",
];

/// Whether a record attribute belongs to the observed half (written by a sync).
pub(crate) fn is_observed(attribute: &str) -> bool {
    !APPLY_OWNED.contains(&attribute)
}

/// One write a listing decided.
#[derive(Debug)]
// Nearly every write is `Listed`; boxing its record would add an allocation to each of them to
// save space on the rare missing marks.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Write {
    /// A listed record, new, changed or back from missing: its observed half is written, and
    /// only that half (a stored record's bookkeeping is left as it is in the store, whatever an
    /// apply wrote since this sync read it).
    Listed(Record),
    /// A stored record the complete listing did not hold: its `missingSince` is set to the sync's
    /// time (nothing else is written).
    Missing(String),
}

/// What `put_records` writes for `given` over the `stored` version (`None`: nothing changes).
///
/// The bookkeeping half is the caller's (apply, adoption, drift flags): written as given. The
/// observed half is written only when the caller brings a newer observation than the store holds
/// (a later `updatedAt`: a create, an update's answer, a delete); otherwise it is a copy the caller
/// read earlier, and a sync may have written a newer one since, which must not be undone.
pub(crate) fn merge_put(given: &Record, stored: Option<&Record>) -> Option<Record> {
    let mut given = given.clone();
    cap_full_api_data(&mut given);
    let Some(stored) = stored else {
        return Some(given);
    };
    let newer = match (given.updated_at, stored.updated_at) {
        (Some(g), Some(s)) => g > s,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let merged = if newer {
        given
    } else {
        let mut merged = stored.clone();
        merged.keep_bookkeeping_of(&given);
        merged
    };
    (merged != *stored).then_some(merged)
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
        let old = seen.get(record.provider_resource_id.as_str());
        if let Some(old) = old
            && old.content_hash == record.content_hash
            && old.missing_since.is_none()
        {
            stats.unchanged += 1;
            continue;
        }
        if old.is_none() {
            stats
                .appeared
                .push((record.kind(), record.provider_resource_id.to_string()));
        }
        record.missing_since = None;
        record.updated_at = Some(now);
        cap_full_api_data(&mut record);
        stats.written += 1;
        seen.insert(record.provider_resource_id.to_string(), Seen::of(&record));
        writes.push(Write::Listed(record));
    }
    if !complete {
        // Safety rule 2: a partial listing marks nothing missing.
        return writes;
    }
    for (id, old) in seen.iter_mut() {
        if listed.contains(id.as_str()) || old.missing_since.is_some() {
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

/// The largest `fullApiData` a store keeps, in bytes of JSON text: well below DynamoDB's 400 KB
/// item limit (the record's other attributes are a few hundred bytes), so one provider's huge
/// object can never make a dock's writes fail. Larger objects are cut down by
/// [`cap_full_api_data`] and the record says so (`fullApiDataTruncated`).
pub const MAX_FULL_API_DATA_BYTES: usize = 64 * 1024;

/// Cuts a record's `fullApiData` down to [`MAX_FULL_API_DATA_BYTES`]: the top-level fields of an
/// object are kept in order while they fit (so `id`, `label` and the like survive), the rest are
/// dropped; anything else that does not fit is dropped whole. Marks the record truncated. The one
/// place both stores apply the limit (every record a sync or `put_records` writes passes here).
pub(crate) fn cap_full_api_data(record: &mut Record) {
    if record.full_api_data.as_str().len() <= MAX_FULL_API_DATA_BYTES {
        return;
    }
    let kept = match record.full_api_data.to_value() {
        serde_json::Value::Object(fields) => {
            let mut kept = serde_json::Map::new();
            // `{}` plus, per field, its key, value, quotes, colon and comma.
            let mut size: usize = 2;
            for (key, value) in fields {
                let entry =
                    key.len() + 4 + serde_json::to_string(&value).map_or(usize::MAX, |v| v.len());
                if size.saturating_add(entry) > MAX_FULL_API_DATA_BYTES {
                    continue;
                }
                size += entry;
                kept.insert(key, value);
            }
            serde_json::Value::Object(kept)
        }
        _ => serde_json::Value::Null,
    };
    record.full_api_data = stackdock_core::ApiData::from_value(&kept);
    record.full_api_data_truncated = true;
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
