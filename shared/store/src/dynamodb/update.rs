//! Partial record writes: one UpdateItem that sets some attributes of a record and removes others,
//! leaving every attribute it does not name as it is in the table. That is how a sync writes only
//! a record's observed half and `put_records` only what its caller changed, so neither undoes what
//! the other wrote meanwhile (BatchWriteItem can only replace whole items).

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::error::{Class, classify};
use super::records::key_item;
use super::tables::{DOCK_ID, PROVIDER_RESOURCE_ID};
use crate::StoreError;

/// The condition an update is sent with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    None,
    /// The record exists (a missing mark never creates a stub).
    Exists,
    /// The record does not exist yet.
    Absent,
    /// The record exists with this `updatedAt` (`None`: without one): what the writer read.
    UpdatedAt(Option<AttributeValue>),
}

/// Sets `set`, removes `remove` on the record `(dock_id, id)` of `table`. Returns `false` when the
/// condition did not hold (nothing written).
pub(crate) async fn update_record(
    store: &DynamoStore,
    table: &str,
    (dock_id, id): (&str, &str),
    set: Vec<(String, AttributeValue)>,
    remove: Vec<String>,
    condition: Condition,
    what: &str,
) -> Result<bool, StoreError> {
    let context = format!("{table}: {what} `{id}` on dock `{dock_id}`");
    let mut names: Vec<(String, String)> = Vec::new();
    let mut expression = Vec::new();
    let mut request = store.client().update_item().table_name(table);
    let mut sets = Vec::new();
    for (i, (name, value)) in set.into_iter().enumerate() {
        if name == DOCK_ID || name == PROVIDER_RESOURCE_ID {
            continue;
        }
        sets.push(format!("#s{i} = :s{i}"));
        names.push((format!("#s{i}"), name));
        request = request.expression_attribute_values(format!(":s{i}"), value);
    }
    if !sets.is_empty() {
        expression.push(format!("SET {}", sets.join(", ")));
    }
    let removes: Vec<String> = remove
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            names.push((format!("#r{i}"), name));
            format!("#r{i}")
        })
        .collect();
    if !removes.is_empty() {
        expression.push(format!("REMOVE {}", removes.join(", ")));
    }
    if expression.is_empty() {
        return Ok(true);
    }
    let condition = match condition {
        Condition::None => None,
        Condition::Exists => Some("attribute_exists(#k)".to_owned()),
        Condition::Absent => Some("attribute_not_exists(#k)".to_owned()),
        Condition::UpdatedAt(None) => {
            Some("attribute_exists(#k) AND attribute_not_exists(#u)".to_owned())
        }
        Condition::UpdatedAt(Some(value)) => {
            request = request.expression_attribute_values(":u", value);
            Some("#u = :u".to_owned())
        }
    };
    if let Some(condition) = &condition {
        if condition.contains("#k") {
            names.push(("#k".to_owned(), DOCK_ID.to_owned()));
        }
        if condition.contains("#u") {
            names.push(("#u".to_owned(), "updatedAt".to_owned()));
        }
    }
    for (placeholder, name) in names {
        request = request.expression_attribute_names(placeholder, name);
    }
    store.count_record_write();
    let sent = request
        .set_key(Some(key_item(dock_id, id)))
        .update_expression(expression.join(" "))
        .set_condition_expression(condition)
        .send()
        .await;
    match sent {
        Ok(_) => Ok(true),
        Err(error) => {
            let failure = classify(context, error);
            if failure.class == Class::ConditionFailed {
                return Ok(false);
            }
            Err(failure.into())
        }
    }
}
