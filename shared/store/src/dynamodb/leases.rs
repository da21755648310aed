//! The `locks` table: leases with an expiry, taken by a conditional write so that among any number
//! of concurrent takers exactly one wins (DynamoDB evaluates the condition and the write
//! atomically per item).
//!
//! Items: `name` (key), `owner`, `acquiredAt`, `expiresAt` (RFC 3339 with nine fractional digits,
//! so comparing the strings in a condition compares the times) and `ttl` (epoch seconds of
//! `expiresAt`, for DynamoDB's TTL to remove abandoned leases some time after they expire).

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use jiff::Timestamp;

use super::DynamoStore;
use super::codec::{Item, string_of};
use super::error::{Class, classify};
use super::tables::{LEASE_NAME, LOCKS, TTL};
use crate::{Lease, StoreError};

const OWNER: &str = "owner";
const ACQUIRED_AT: &str = "acquiredAt";
const EXPIRES_AT: &str = "expiresAt";

/// How often `acquire` starts over when the lease changed between its write and its read-back
/// (released or expired in between).
const ACQUIRE_ROUNDS: usize = 3;

/// Takes `name` for `owner` until `now + ttl` if it is free, expired, or already `owner`'s.
///
/// An unexpired lease of the same owner is extended in place (keeping `acquiredAt`, like
/// SQLite's). Otherwise one conditional put decides: `attribute_not_exists(name) OR expiresAt <=
/// now OR owner = owner`. A refusal reads the holder back to name it in `LeaseHeld`.
pub(crate) async fn acquire(
    store: &DynamoStore,
    name: &str,
    owner: &str,
    ttl: Duration,
    now: Timestamp,
) -> Result<Lease, StoreError> {
    let table = store.table(LOCKS);
    let context = format!("{table}: acquire `{name}` for {owner}");
    let expires_at = expiry(now, ttl, &context)?;
    for _ in 0..ACQUIRE_ROUNDS {
        if let Some(renewed) = extend(store, name, owner, Some(now), expires_at, &context).await? {
            return Ok(renewed);
        }
        let lease = Lease {
            name: name.to_owned(),
            owner: owner.to_owned(),
            acquired_at: now,
            expires_at,
        };
        store.count_write();
        let put = store
            .client()
            .put_item()
            .table_name(&table)
            .set_item(Some(to_item(&lease)))
            .condition_expression("attribute_not_exists(#n) OR #exp <= :now OR #owner = :owner")
            .expression_attribute_names("#n", LEASE_NAME)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":now", AttributeValue::S(fixed(now)))
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(lease),
            Err(error) => {
                let failure = classify(context.as_str(), error);
                if failure.class != Class::ConditionFailed {
                    return Err(failure.into());
                }
            }
        }
        match current(store, name).await? {
            Some(held) if held.owner != owner && held.expires_at > now => {
                return Err(StoreError::LeaseHeld {
                    name: held.name,
                    owner: held.owner,
                    expires_at: held.expires_at,
                });
            }
            // Released, expired or ours since the refusal: try again.
            _ => {}
        }
    }
    Err(StoreError::Backend(format!(
        "{context}: the lease changed hands {ACQUIRE_ROUNDS} times while acquiring it; retry"
    )))
}

/// Extends `lease` to `now + ttl` if it is still its owner's (even if it expired meanwhile, as
/// long as nobody took it over); `LeaseLost` otherwise.
pub(crate) async fn renew(
    store: &DynamoStore,
    lease: &Lease,
    ttl: Duration,
    now: Timestamp,
) -> Result<Lease, StoreError> {
    let context = format!(
        "{}: renew `{}` for {}",
        store.table(LOCKS),
        lease.name,
        lease.owner
    );
    let expires_at = expiry(now, ttl, &context)?;
    extend(store, &lease.name, &lease.owner, None, expires_at, &context)
        .await?
        .ok_or_else(|| StoreError::LeaseLost {
            name: lease.name.clone(),
            owner: lease.owner.clone(),
        })
}

/// Sets the expiry of `name` if `owner` holds it (and, with `unexpired_at`, only if it has not
/// expired by then); `None` if the condition failed.
async fn extend(
    store: &DynamoStore,
    name: &str,
    owner: &str,
    unexpired_at: Option<Timestamp>,
    expires_at: Timestamp,
    context: &str,
) -> Result<Option<Lease>, StoreError> {
    let mut request = store
        .client()
        .update_item()
        .table_name(store.table(LOCKS))
        .key(LEASE_NAME, AttributeValue::S(name.to_owned()))
        .update_expression("SET #exp = :exp, #ttl = :ttl")
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_names("#exp", EXPIRES_AT)
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
        .expression_attribute_values(":exp", AttributeValue::S(fixed(expires_at)))
        .expression_attribute_values(":ttl", AttributeValue::N(epoch(expires_at)))
        .return_values(ReturnValue::AllNew);
    request = match unexpired_at {
        // Every value must be used: real DynamoDB rejects unused expression values.
        Some(now) => request
            .condition_expression("#owner = :owner AND #exp > :now")
            .expression_attribute_values(":now", AttributeValue::S(fixed(now))),
        None => request.condition_expression("#owner = :owner"),
    };
    store.count_write();
    match request.send().await {
        Ok(output) => output
            .attributes
            .map(|item| from_item(item, context))
            .transpose()?
            .map(Some)
            .ok_or_else(|| {
                StoreError::Backend(format!("{context}: DynamoDB returned no attributes"))
            }),
        Err(error) => {
            let failure = classify(context, error);
            if failure.class == Class::ConditionFailed {
                return Ok(None);
            }
            Err(failure.into())
        }
    }
}

/// Releases `lease` if it is still its owner's (no error otherwise, or if it is gone).
pub(crate) async fn release(store: &DynamoStore, lease: &Lease) -> Result<(), StoreError> {
    let table = store.table(LOCKS);
    let context = format!("{table}: release `{}` for {}", lease.name, lease.owner);
    store.count_write();
    let result = store
        .client()
        .delete_item()
        .table_name(&table)
        .key(LEASE_NAME, AttributeValue::S(lease.name.clone()))
        .condition_expression("#owner = :owner")
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_values(":owner", AttributeValue::S(lease.owner.clone()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error) => {
            let failure = classify(context, error);
            if failure.class == Class::ConditionFailed {
                // Someone else's now, or already gone: nothing of ours to release.
                return Ok(());
            }
            Err(failure.into())
        }
    }
}

/// Removes the lease whoever holds it, returning what was removed (in the same request).
pub(crate) async fn force_release(
    store: &DynamoStore,
    name: &str,
) -> Result<Option<Lease>, StoreError> {
    let table = store.table(LOCKS);
    let context = format!("{table}: force-release `{name}`");
    store.count_write();
    let output = store
        .client()
        .delete_item()
        .table_name(&table)
        .key(LEASE_NAME, AttributeValue::S(name.to_owned()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    output
        .attributes
        .filter(|item| !item.is_empty())
        .map(|item| from_item(item, &context))
        .transpose()
}

/// The stored lease of `name`, expired or not (strongly consistent).
pub(crate) async fn current(store: &DynamoStore, name: &str) -> Result<Option<Lease>, StoreError> {
    let table = store.table(LOCKS);
    let context = format!("{table}: read `{name}`");
    let output = store
        .client()
        .get_item()
        .table_name(&table)
        .key(LEASE_NAME, AttributeValue::S(name.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify(context.as_str(), e))?;
    output
        .item
        .map(|item| from_item(item, &context))
        .transpose()
}

fn to_item(lease: &Lease) -> Item {
    Item::from([
        (LEASE_NAME.to_owned(), AttributeValue::S(lease.name.clone())),
        (OWNER.to_owned(), AttributeValue::S(lease.owner.clone())),
        (
            ACQUIRED_AT.to_owned(),
            AttributeValue::S(fixed(lease.acquired_at)),
        ),
        (
            EXPIRES_AT.to_owned(),
            AttributeValue::S(fixed(lease.expires_at)),
        ),
        (TTL.to_owned(), AttributeValue::N(epoch(lease.expires_at))),
    ])
}

fn from_item(item: Item, context: &str) -> Result<Lease, StoreError> {
    let text = |attribute: &str| {
        string_of(&item, attribute).ok_or_else(|| {
            StoreError::Corrupt(format!("{context}: attribute `{attribute}` is missing"))
        })
    };
    let time = |attribute: &str| {
        let value = text(attribute)?;
        value.parse::<Timestamp>().map_err(|e| {
            StoreError::Corrupt(format!(
                "{context}: `{attribute}` = `{value}` is not a timestamp: {e}"
            ))
        })
    };
    Ok(Lease {
        name: text(LEASE_NAME)?.to_owned(),
        owner: text(OWNER)?.to_owned(),
        acquired_at: time(ACQUIRED_AT)?,
        expires_at: time(EXPIRES_AT)?,
    })
}

/// Fixed-width RFC 3339 (`2024-06-19T15:22:45.000000000Z`): string order is time order.
fn fixed(ts: Timestamp) -> String {
    format!("{ts:.9}")
}

fn epoch(ts: Timestamp) -> String {
    ts.as_second().to_string()
}

fn expiry(now: Timestamp, ttl: Duration, context: &str) -> Result<Timestamp, StoreError> {
    now.checked_add(ttl).map_err(|e| {
        StoreError::Backend(format!(
            "{context}: a lease of {ttl:?} from {now} overflows: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_items_round_trip_and_times_compare_as_strings() {
        let t = |s: i64| Timestamp::from_second(1_700_000_000 + s).expect("valid");
        let lease = Lease {
            name: "apply/acme".into(),
            owner: "alice".into(),
            acquired_at: t(0),
            expires_at: t(60),
        };
        assert_eq!(from_item(to_item(&lease), "test").expect("readable"), lease);
        let half = t(5).checked_add(Duration::from_millis(500)).expect("valid");
        assert!(fixed(t(5)) < fixed(half));
    }
}
