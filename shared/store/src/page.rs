//! Paging the inventory: one walk over (dock, kind, provider id) that every backend shares, over
//! the one read each backend supplies (a dock's records of a kind after an id, in id order).
//!
//! A page never holds the whole inventory in memory: it reads at most `limit` records (and the
//! org's dock statuses), whatever the fleet.

use std::future::Future;

use stackdock_core::record::RecordKey;
use stackdock_core::{Kind, Record};

use crate::StoreError;
use crate::model::{InventoryPage, PageRequest};

/// Walks the docks of `docks` (sorted dock ids of the org) and the kinds in order from
/// `request.after`, reading with `read(kind, dock, after_id, n)` (at most `n` records of `org`,
/// ids above `after_id`, in id order) until `request.limit` records are collected, and one more
/// to know whether another page follows.
pub(crate) async fn walk<F, Fut>(
    mut docks: Vec<String>,
    request: &PageRequest,
    mut read: F,
) -> Result<InventoryPage, StoreError>
where
    F: FnMut(Kind, String, Option<String>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<Record>, StoreError>>,
{
    let limit = request.limit.max(1);
    docks.sort();
    docks.dedup();
    if let Some(only) = &request.dock_id {
        docks.retain(|d| d == only);
    }
    // In `RecordKey`'s order (the kinds' declaration order), which the cursor is compared in:
    // not `Kind::ALL`'s dependency order.
    let mut kinds: Vec<Kind> = match request.kind {
        Some(k) => vec![k],
        None => Kind::ALL.to_vec(),
    };
    kinds.sort();
    let mut records: Vec<Record> = Vec::with_capacity(limit.min(1024));
    // Once the page is full, whether anything follows: one record is read past it, so the last
    // page says so and no caller asks for an empty one.
    let mut full = false;
    for dock in docks {
        for &kind in &kinds {
            // Where this (dock, kind) starts: wholly before the cursor is skipped; at the cursor,
            // after its id.
            let after_id = match &request.after {
                Some(after) => {
                    match (dock.as_str(), kind).cmp(&(after.dock_id.as_str(), after.kind)) {
                        std::cmp::Ordering::Less => continue,
                        std::cmp::Ordering::Equal => Some(after.provider_resource_id.clone()),
                        std::cmp::Ordering::Greater => None,
                    }
                }
                None => None,
            };
            if full {
                if read(kind, dock.clone(), after_id, 1).await?.is_empty() {
                    continue;
                }
                return Ok(more(records));
            }
            let want = limit - records.len();
            let mut got = read(kind, dock.clone(), after_id, want + 1).await?;
            let beyond = got.len() > want;
            got.truncate(want);
            records.extend(got);
            if beyond {
                return Ok(more(records));
            }
            full = records.len() == limit;
        }
    }
    Ok(InventoryPage {
        records,
        next: None,
    })
}

/// A full page with more after it: it continues after its last record.
fn more(records: Vec<Record>) -> InventoryPage {
    let next = records.last().map(Record::key);
    InventoryPage { records, next }
}

/// The key a page continues after, for tests and cursors: `(dock, kind, id)`.
pub fn key(dock_id: &str, kind: Kind, provider_resource_id: &str) -> RecordKey {
    RecordKey {
        dock_id: dock_id.to_owned(),
        kind,
        provider_resource_id: provider_resource_id.to_owned(),
    }
}
