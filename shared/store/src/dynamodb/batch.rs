//! Batched reads: BatchGetItem in chunks of at most [`MAX_BATCH_GET`] keys, retrying what DynamoDB
//! left unprocessed with a bounded exponential backoff; and the chunking helper with DynamoDB's
//! batch limits. (Records are not written in batches: BatchWriteItem replaces whole items, and a
//! sync must write only a record's observed half; see `sync`.)

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::DynamoStore;
use super::codec::Item;
use super::error::{build_failed, classify};
use crate::StoreError;

/// DynamoDB's limit on the items of one BatchWriteItem. moto accepts 26; real DynamoDB rejects
/// the whole request, so the limit is enforced here and checked at compile time.
pub const MAX_BATCH_WRITE: usize = 25;
const _: () = assert!(MAX_BATCH_WRITE > 0 && MAX_BATCH_WRITE <= 25);

/// DynamoDB's limit on the keys of one BatchGetItem.
pub const MAX_BATCH_GET: usize = 100;
const _: () = assert!(MAX_BATCH_GET > 0 && MAX_BATCH_GET <= 100);

/// Attempts per batch (the first included) before unprocessed items are an error.
const MAX_ATTEMPTS: u32 = 8;
/// Backoff before the second attempt; doubled for each further one, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Splits `items` into consecutive chunks of at most `size` (the last one may be shorter).
pub(crate) fn chunks<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let size = size.max(1);
    let mut chunks = Vec::with_capacity(items.len().div_ceil(size));
    let mut current = Vec::with_capacity(size.min(items.len()));
    for item in items {
        current.push(item);
        if current.len() == size {
            chunks.push(std::mem::replace(&mut current, Vec::with_capacity(size)));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// The wait before attempt `attempt + 1` (attempt 0 is the first retry).
fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2_u32.saturating_pow(attempt))
        .min(MAX_BACKOFF)
}

/// Gets items by key: `keys` are `(table name, key item)` pairs without duplicates. Returns the
/// found items per table (strongly consistent reads); absent keys are simply not returned.
pub(crate) async fn get_items(
    store: &DynamoStore,
    keys: Vec<(String, Item)>,
    what: &str,
) -> Result<HashMap<String, Vec<Item>>, StoreError> {
    let mut found: HashMap<String, Vec<Item>> = HashMap::new();
    for chunk in chunks(keys, MAX_BATCH_GET) {
        let mut by_table: HashMap<String, Vec<Item>> = HashMap::new();
        for (table, key) in chunk {
            by_table.entry(table).or_default().push(key);
        }
        let mut pending = HashMap::new();
        for (table, keys) in by_table {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| build_failed(what, e))?;
            pending.insert(table, request);
        }
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt == MAX_ATTEMPTS {
                return Err(StoreError::Backend(format!(
                    "{what}: reads still unprocessed after {MAX_ATTEMPTS} attempts (DynamoDB \
                     is throttling); retry later"
                )));
            }
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt - 1)).await;
            }
            attempt += 1;
            let output = store
                .client()
                .batch_get_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(|e| classify(format!("{what}: batch get"), e))?;
            for (table, items) in output.responses.unwrap_or_default() {
                found.entry(table).or_default().extend(items);
            }
            pending = output
                .unprocessed_keys
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, keys)| !keys.keys().is_empty())
                .collect();
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_six_items_are_two_batches_of_25_and_1() {
        let sizes: Vec<usize> = chunks((0..26).collect(), MAX_BATCH_WRITE)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [25, 1]);
    }

    #[test]
    fn chunks_keep_order_and_never_exceed_the_limit() {
        for n in [0, 1, 24, 25, 50, 60, 101] {
            let all: Vec<usize> = (0..n).collect();
            let split = chunks(all.clone(), MAX_BATCH_WRITE);
            assert!(split.iter().all(|c| !c.is_empty() && c.len() <= 25), "{n}");
            assert_eq!(split.len(), n.div_ceil(25), "{n}");
            assert_eq!(split.concat(), all, "{n}");
        }
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(50));
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
