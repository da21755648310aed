//! The one mapping between JSON values and DynamoDB attribute values, used for every item this
//! backend writes (all six record kinds, dock statuses, runs, intents): an item's attributes are
//! exactly the value's JSON attributes, so the SQLite columns and the DynamoDB attributes agree.
//!
//! Numbers are `N`, strings `S`, booleans `BOOL`, arrays `L`, objects `M`. A `null` top-level
//! attribute is left out (an absent attribute reads back as the field's default); a `null` nested
//! in a list or map is kept as `NULL`, so `fullApiData` round-trips exactly and its hash stays put.
//!
//! It never decides what is written; the callers do.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::StoreError;

/// A DynamoDB item: attribute name → value.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A JSON value as an attribute value (nested `null` kept as `NULL`).
pub(crate) fn to_attribute(value: Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(values) => AttributeValue::L(values.into_iter().map(to_attribute).collect()),
        Value::Object(fields) => AttributeValue::M(
            fields
                .into_iter()
                .map(|(name, value)| (name, to_attribute(value)))
                .collect(),
        ),
    }
}

/// An attribute value as JSON; `context` names the table and attribute for errors.
pub(crate) fn from_attribute(value: AttributeValue, context: &str) -> Result<Value, StoreError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(b),
        AttributeValue::N(text) => Value::Number(number(&text, context)?),
        AttributeValue::S(s) => Value::String(s),
        AttributeValue::L(values) => Value::Array(
            values
                .into_iter()
                .map(|v| from_attribute(v, context))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, v)| Ok((name, from_attribute(v, context)?)))
                .collect::<Result<Map<_, _>, StoreError>>()?,
        ),
        // Never written by StackDock, but a person editing an item in the console may use a set:
        // read it as the list it stands for rather than failing the whole table.
        AttributeValue::Ss(values) => Value::Array(values.into_iter().map(Value::String).collect()),
        AttributeValue::Ns(values) => Value::Array(
            values
                .iter()
                .map(|n| number(n, context).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(StoreError::Corrupt(format!(
                "{context}: holds a binary or unknown DynamoDB type ({}), expected JSON-like data",
                type_name(&other)
            )));
        }
    })
}

/// Serializes `value` (a JSON object) into an item, leaving out `null` attributes.
pub(crate) fn to_item<T: Serialize>(value: &T, context: &str) -> Result<Item, StoreError> {
    let json = serde_json::to_value(value)
        .map_err(|e| StoreError::Backend(format!("{context}: cannot serialize: {e}")))?;
    let Value::Object(fields) = json else {
        return Err(StoreError::Backend(format!(
            "{context}: does not serialize to a JSON object"
        )));
    };
    Ok(fields
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| (name, to_attribute(value)))
        .collect())
}

/// Reads an item back into `T`; `context` names the table and item for errors.
pub(crate) fn from_item<T: DeserializeOwned>(item: Item, context: &str) -> Result<T, StoreError> {
    serde_json::from_value(item_to_json(item, context)?)
        .map_err(|e| StoreError::Corrupt(format!("{context}: {e}")))
}

/// An item as a JSON object.
pub(crate) fn item_to_json(item: Item, context: &str) -> Result<Value, StoreError> {
    let mut fields = Map::new();
    for (name, value) in item {
        let value = from_attribute(value, &format!("{context}, attribute `{name}`"))?;
        fields.insert(name, value);
    }
    Ok(Value::Object(fields))
}

/// A string attribute of an item, if present and a string.
pub(crate) fn string_of<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn number(text: &str, context: &str) -> Result<Number, StoreError> {
    // DynamoDB may normalise `1.50` to `1.5`, never to something that is not a JSON number.
    text.parse::<Number>()
        .map_err(|e| StoreError::Corrupt(format!("{context}: `{text}` is not a number: {e}")))
}

fn type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::B(_) => "B",
        AttributeValue::Bs(_) => "BS",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_round_trips_with_nested_nulls_kept_and_top_level_nulls_dropped() {
        let value = json!({
            "s": "ünï ✓", "empty": "", "i": -3, "big": 5_000_000_000_000_i64, "f": 2.5,
            "t": true, "gone": null,
            "nested": { "list": [1, 2.5, "three", null, true], "empty": {}, "none": [] },
        });
        let item = to_item(&value, "test").expect("an object");
        assert!(!item.contains_key("gone"), "a top-level null is left out");
        assert_eq!(item["i"], AttributeValue::N("-3".into()), "numbers are N");
        assert_eq!(item["t"], AttributeValue::Bool(true), "booleans are BOOL");
        assert!(item["nested"].is_m(), "objects are M");
        let back = item_to_json(item, "test").expect("readable");
        let mut expected = value;
        expected.as_object_mut().expect("an object").remove("gone");
        assert_eq!(back, expected);
    }

    #[test]
    fn binary_attributes_are_corrupt_not_a_panic() {
        let item = Item::from([(
            "x".to_owned(),
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![1])),
        )]);
        assert!(matches!(
            item_to_json(item, "servers"),
            Err(StoreError::Corrupt(m)) if m.contains("attribute `x`")
        ));
    }
}
