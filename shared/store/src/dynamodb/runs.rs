//! The `runs` table: the audit log of syncs, plans, applies and force-unlocks, keyed by org and
//! run id. A run's attributes are its JSON attributes, plus `ttl` (epoch seconds of `expiresAt`)
//! so DynamoDB expires it.

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::codec::{Item, from_item, to_item};
use super::error::classify;
use super::query::query_eq;
use super::tables::{ORG_ID, RUN_ID, RUNS, TTL};
use crate::{RunRecord, StoreError};

/// Inserts or replaces a run.
pub(crate) async fn put(store: &DynamoStore, run: &RunRecord) -> Result<(), StoreError> {
    // Every run expires (issue 19): one written without an expiry gets the default for its kind.
    let filled;
    let run = if run.expires_at.is_none() {
        filled = RunRecord {
            expires_at: run.default_expiry(),
            ..run.clone()
        };
        &filled
    } else {
        run
    };
    let table = store.table(RUNS);
    let context = format!("{table}: write run `{}`", run.run_id);
    let mut item = to_item(run, &context)?;
    if let Some(expires_at) = run.expires_at {
        item.insert(
            TTL.to_owned(),
            AttributeValue::N(expires_at.as_second().to_string()),
        );
    }
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

pub(crate) async fn get(
    store: &DynamoStore,
    org: &str,
    run_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: read run `{run_id}` of org `{org}`");
    let key = Item::from([
        (ORG_ID.to_owned(), AttributeValue::S(org.to_owned())),
        (RUN_ID.to_owned(), AttributeValue::S(run_id.to_owned())),
    ]);
    let output = store
        .client()
        .get_item()
        .table_name(&table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    output.item.map(|item| decode(item, &context)).transpose()
}

/// The most recent runs of an org first (ties: run id, descending). Reads the org's partition,
/// which TTL keeps bounded.
pub(crate) async fn list(
    store: &DynamoStore,
    org: &str,
    limit: usize,
) -> Result<Vec<RunRecord>, StoreError> {
    let table = store.table(RUNS);
    let context = format!("{table}: list the runs of org `{org}`");
    let mut runs = query_eq(store, &table, None, ORG_ID, org)
        .await?
        .into_iter()
        .map(|item| decode(item, &context))
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
    runs.truncate(limit);
    Ok(runs)
}

fn decode(mut item: Item, context: &str) -> Result<RunRecord, StoreError> {
    // Derived from `expiresAt`; not a field of the record.
    item.remove(TTL);
    from_item(item, context)
}
