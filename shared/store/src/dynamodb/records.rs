//! Universal records in their per-kind tables: keys, reads and the item form of a `Record`
//! (its JSON attributes without the `kind` tag, which the table already says).
//!
//! It never decides whether a record should be written; `sync` does.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use stackdock_core::record::RecordKey;
use stackdock_core::{Kind, Record};

use super::DynamoStore;
use jiff::Timestamp;

use super::codec::{Item, item_to_json, string_of, to_attribute, to_item};
use super::error::classify;
use super::query::{query_eq, query_projected};
use super::tables::{DOCK_ID, ORG_ID, ORG_INDEX, PROVIDER_RESOURCE_ID};
use crate::StoreError;
use crate::rules::Seen;

/// The serde tag of `Attrs`: implied by the table, so not stored (as in SQLite).
const KIND_ATTRIBUTE: &str = "kind";

/// The primary key item of a record.
pub(crate) fn key_item(dock_id: &str, provider_resource_id: &str) -> Item {
    Item::from([
        (DOCK_ID.to_owned(), AttributeValue::S(dock_id.to_owned())),
        (
            PROVIDER_RESOURCE_ID.to_owned(),
            AttributeValue::S(provider_resource_id.to_owned()),
        ),
    ])
}

/// A record as an item of its kind's table.
pub(crate) fn to_record_item(record: &Record) -> Result<Item, StoreError> {
    let context = format!(
        "{}: record `{}` on dock `{}`",
        record.kind().table(),
        record.provider_resource_id,
        record.dock_id
    );
    let mut item = to_item(record, &context)?;
    item.remove(KIND_ATTRIBUTE);
    Ok(item)
}

/// Attributes to set, and attribute names to remove, in one update.
pub(crate) type Changes = (Vec<(String, AttributeValue)>, Vec<String>);

/// The observed half of a record as an update: its non-null observed attributes to set, and its
/// null ones to remove (a field the provider no longer reports). Apply-owned attributes and the
/// key are not named, so the stored ones stay as they are.
pub(crate) fn observed_update(record: &Record) -> Result<Changes, StoreError> {
    let context = format!(
        "{}: record `{}` on dock `{}`",
        record.kind().table(),
        record.provider_resource_id,
        record.dock_id
    );
    let json = serde_json::to_value(record)
        .map_err(|e| StoreError::Backend(format!("{context}: cannot serialize: {e}")))?;
    let Value::Object(fields) = json else {
        return Err(StoreError::Backend(format!(
            "{context}: does not serialize to a JSON object"
        )));
    };
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for (name, value) in fields {
        if name == KIND_ATTRIBUTE
            || name == DOCK_ID
            || name == PROVIDER_RESOURCE_ID
            || !crate::rules::is_observed(&name)
        {
            continue;
        }
        if value.is_null() {
            remove.push(name);
        } else {
            set.push((name, to_attribute(value)));
        }
    }
    Ok((set, remove))
}

/// The difference between two item forms of one record: what to set and what to remove so the
/// stored item becomes the new one.
pub(crate) fn item_diff(new: &Item, stored: &Item) -> Changes {
    let mut set: Vec<(String, AttributeValue)> = new
        .iter()
        .filter(|(name, value)| stored.get(*name) != Some(value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    set.sort_by(|a, b| a.0.cmp(&b.0));
    let mut remove: Vec<String> = stored
        .keys()
        .filter(|name| !new.contains_key(*name))
        .cloned()
        .collect();
    remove.sort();
    (set, remove)
}

/// What the sync rules read of the stored records of one kind on one dock, by provider id: five
/// attributes per item (strongly consistent), no record decoded.
pub(crate) async fn load_seen(
    store: &DynamoStore,
    kind: Kind,
    dock_id: &str,
) -> Result<BTreeMap<String, Seen>, StoreError> {
    let table = store.table(kind.table());
    let items = query_projected(
        store,
        &table,
        None,
        DOCK_ID,
        dock_id,
        Some(&[
            PROVIDER_RESOURCE_ID,
            "contentHash",
            "missingSince",
            "updatedAt",
            "region",
        ]),
    )
    .await?;
    let mut seen = BTreeMap::new();
    for item in items {
        let id = string_of(&item, PROVIDER_RESOURCE_ID)
            .unwrap_or_default()
            .to_owned();
        let time = |name: &str| -> Result<Option<Timestamp>, StoreError> {
            string_of(&item, name)
                .map(|text| {
                    text.parse::<Timestamp>().map_err(|e| {
                        StoreError::Corrupt(format!("{table}: `{id}`: `{name}` = `{text}`: {e}"))
                    })
                })
                .transpose()
        };
        let entry = Seen {
            content_hash: string_of(&item, "contentHash")
                .unwrap_or_default()
                .to_owned(),
            missing_since: time("missingSince")?,
            updated_at: time("updatedAt")?,
            region: string_of(&item, "region").map(str::to_owned),
        };
        seen.insert(id, entry);
    }
    Ok(seen)
}

/// A record from an item of `kind`'s table.
pub(crate) fn from_record_item(kind: Kind, item: Item) -> Result<Record, StoreError> {
    let table = kind.table();
    let id = string_of(&item, PROVIDER_RESOURCE_ID)
        .unwrap_or_default()
        .to_owned();
    let context = format!("{table}: record `{id}`");
    let mut json = item_to_json(item, &context)?;
    if let Value::Object(fields) = &mut json {
        fields.insert(KIND_ATTRIBUTE.to_owned(), Value::from(table));
    }
    serde_json::from_value(json).map_err(|e| StoreError::Corrupt(format!("{context}: {e}")))
}

/// One record by key (strongly consistent).
pub(crate) async fn get(
    store: &DynamoStore,
    key: &RecordKey,
) -> Result<Option<Record>, StoreError> {
    let table = store.table(key.kind.table());
    let context = format!(
        "{table}: get `{}` on dock `{}`",
        key.provider_resource_id, key.dock_id
    );
    let output = store
        .client()
        .get_item()
        .table_name(&table)
        .set_key(Some(key_item(&key.dock_id, &key.provider_resource_id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify(context, e))?;
    output
        .item
        .map(|item| from_record_item(key.kind, item))
        .transpose()
}

/// The stored records of one kind on one dock (strongly consistent), by provider id.
pub(crate) async fn load_dock(
    store: &DynamoStore,
    kind: Kind,
    dock_id: &str,
) -> Result<BTreeMap<String, Record>, StoreError> {
    let table = store.table(kind.table());
    let items = query_eq(store, &table, None, DOCK_ID, dock_id).await?;
    items
        .into_iter()
        .map(|item| {
            let record = from_record_item(kind, item)?;
            Ok((record.provider_resource_id.to_string(), record))
        })
        .collect()
}

/// At most `limit` records of `org` of `kind` on a dock, with ids above `after`, in id order
/// (strongly consistent): the read of one step of an inventory page. DynamoDB's `Limit` caps the
/// items read per request, so the read stops as soon as `limit` are in hand.
pub(crate) async fn after(
    store: &DynamoStore,
    org: &str,
    kind: Kind,
    dock_id: String,
    after: Option<String>,
    limit: usize,
) -> Result<Vec<Record>, StoreError> {
    let table = store.table(kind.table());
    let context = format!("{table}: query a page of dock `{dock_id}`");
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let want = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
        let mut query = store
            .client()
            .query()
            .table_name(&table)
            .consistent_read(true)
            .limit(want)
            .expression_attribute_names("#d", DOCK_ID)
            .expression_attribute_values(":d", AttributeValue::S(dock_id.clone()))
            .set_exclusive_start_key(start);
        query = match &after {
            Some(id) => query
                .key_condition_expression("#d = :d AND #p > :p")
                .expression_attribute_names("#p", PROVIDER_RESOURCE_ID)
                .expression_attribute_values(":p", AttributeValue::S(id.clone())),
            None => query.key_condition_expression("#d = :d"),
        };
        let page = query
            .send()
            .await
            .map_err(|e| classify(context.as_str(), e))?;
        for item in page.items.unwrap_or_default() {
            let record = from_record_item(kind, item)?;
            // A dock id is unique across orgs, yet never reveal another org's records.
            if record.org_id == org {
                out.push(record);
            }
        }
        start = page.last_evaluated_key.filter(|key| !key.is_empty());
        if start.is_none() || out.len() >= limit {
            out.truncate(limit);
            return Ok(out);
        }
    }
}

/// Every record of `org` (or of one of its docks), sorted by (dock, kind, provider id).
///
/// Per dock: one strongly consistent query per kind. For the whole org: every dock with a status
/// in `docks` is read the same way (so a plan right after a sync sees every record that sync
/// wrote), and the `orgId-index` adds the records of docks without a status. The index is
/// eventually consistent, so only those records may lag by a moment; it does not project
/// `fullApiData`, so those records are then read whole by key (BatchGetItem, 100 keys a request).
pub(crate) async fn inventory(
    store: &DynamoStore,
    org: &str,
    dock_id: Option<&str>,
    docks: &[String],
) -> Result<Vec<Record>, StoreError> {
    let mut found: BTreeMap<RecordKey, Record> = BTreeMap::new();
    let mut from_index: Vec<RecordKey> = Vec::new();
    for kind in Kind::ALL {
        match dock_id {
            Some(dock) => {
                for record in load_dock(store, kind, dock).await?.into_values() {
                    // A dock id is unique across orgs, yet a query by dock must never reveal
                    // another org's records: filter on the org as well.
                    if record.org_id == org {
                        found.insert(record.key(), record);
                    }
                }
            }
            None => {
                let table = store.table(kind.table());
                for item in query_eq(store, &table, Some(ORG_INDEX), ORG_ID, org).await? {
                    let record = from_record_item(kind, item)?;
                    if !docks.iter().any(|d| record.dock_id == *d) {
                        from_index.push(record.key());
                    }
                }
                for dock in docks {
                    for record in load_dock(store, kind, dock).await?.into_values() {
                        if record.org_id == org {
                            found.insert(record.key(), record);
                        }
                    }
                }
            }
        }
    }
    for (key, record) in get_many(store, &from_index).await? {
        if record.org_id == org {
            found.insert(key, record);
        }
    }
    Ok(found.into_values().collect())
}

/// Reads records by key in batches; returns the stored version of each key found.
pub(crate) async fn get_many(
    store: &DynamoStore,
    keys: &[RecordKey],
) -> Result<BTreeMap<RecordKey, Record>, StoreError> {
    let mut by_table = BTreeMap::new();
    for key in keys {
        by_table.insert(store.table(key.kind.table()), key.kind);
    }
    let requests = keys
        .iter()
        .map(|key| {
            (
                store.table(key.kind.table()),
                key_item(&key.dock_id, &key.provider_resource_id),
            )
        })
        .collect();
    let found = super::batch::get_items(store, requests, "read records by key").await?;
    let mut stored = BTreeMap::new();
    for (table, items) in found {
        let Some(kind) = by_table.get(&table).copied() else {
            return Err(StoreError::Backend(format!(
                "put records: DynamoDB answered for table `{table}`, which was not asked for"
            )));
        };
        for item in items {
            let record = from_record_item(kind, item)?;
            stored.insert(record.key(), record);
        }
    }
    Ok(stored)
}
