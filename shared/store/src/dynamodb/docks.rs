//! The `docks` table: each dock's last complete sync, last attempt and last error, keyed by org
//! and dock id.

use stackdock_core::record::DockStatus;

use super::DynamoStore;
use super::codec::{from_item, to_item};
use super::error::classify;
use super::query::query_eq;
use super::tables::{DOCKS, ORG_ID};
use crate::StoreError;

/// Inserts or replaces a dock's status (absent times and error are absent attributes).
pub(crate) async fn put(store: &DynamoStore, status: &DockStatus) -> Result<(), StoreError> {
    let table = store.table(DOCKS);
    let context = format!("{table}: write the status of `{}`", status.dock_id);
    let item = to_item(status, &context)?;
    store.count_write();
    store
        .client()
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| classify(context, e))?;
    Ok(())
}

/// The statuses of an org's docks, sorted by dock id.
pub(crate) async fn list(store: &DynamoStore, org: &str) -> Result<Vec<DockStatus>, StoreError> {
    let table = store.table(DOCKS);
    let mut statuses = query_eq(store, &table, None, ORG_ID, org)
        .await?
        .into_iter()
        .map(|item| from_item(item, &format!("{table}: a dock of org `{org}`")))
        .collect::<Result<Vec<DockStatus>, StoreError>>()?;
    statuses.sort_by(|a, b| a.dock_id.cmp(&b.dock_id));
    Ok(statuses)
}
