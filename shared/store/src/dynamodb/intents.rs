//! The `intents` table: creates about to be attempted (safety rule 3), one per org and address,
//! recorded by a conditional put so a second intent for the same address is a `Conflict`.

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::codec::{Item, from_item, to_item};
use super::error::{Class, classify};
use super::query::query_eq;
use super::tables::{ADDRESS, INTENTS, ORG_ID};
use crate::{Intent, StoreError};

/// Records an intent; `Conflict` if the address already has one.
pub(crate) async fn put(store: &DynamoStore, intent: &Intent) -> Result<(), StoreError> {
    let table = store.table(INTENTS);
    let context = format!(
        "{table}: record the create of `{}` in org `{}`",
        intent.address, intent.org_id
    );
    let item = to_item(intent, &context)?;
    store.count_write();
    let result = store
        .client()
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#org)")
        .expression_attribute_names("#org", ORG_ID)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error) => {
            let failure = classify(context, error);
            if failure.class == Class::ConditionFailed {
                return Err(StoreError::Conflict(format!(
                    "a create intent for `{}` in org `{}`",
                    intent.address, intent.org_id
                )));
            }
            Err(failure.into())
        }
    }
}

/// The intents of an org, sorted by address.
pub(crate) async fn list(store: &DynamoStore, org: &str) -> Result<Vec<Intent>, StoreError> {
    let table = store.table(INTENTS);
    let context = format!("{table}: an intent of org `{org}`");
    let mut intents = query_eq(store, &table, None, ORG_ID, org)
        .await?
        .into_iter()
        .map(|item| from_item(item, &context))
        .collect::<Result<Vec<Intent>, _>>()?;
    intents.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(intents)
}

/// Removes the intent of an address (no error if absent).
pub(crate) async fn clear(store: &DynamoStore, org: &str, address: &str) -> Result<(), StoreError> {
    let table = store.table(INTENTS);
    let context = format!("{table}: clear `{address}` in org `{org}`");
    let key = Item::from([
        (ORG_ID.to_owned(), AttributeValue::S(org.to_owned())),
        (ADDRESS.to_owned(), AttributeValue::S(address.to_owned())),
    ]);
    store.count_write();
    store
        .client()
        .delete_item()
        .table_name(&table)
        .set_key(Some(key))
        .send()
        .await
        .map_err(|e| classify(context, e))?;
    Ok(())
}
