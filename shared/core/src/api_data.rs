//! `fullApiData`: the provider's whole object, secret fields removed, kept as JSON *text*.
//!
//! A listing stores every object it sees, and most are never read again: a tree of
//! `serde_json::Value` per object cost a 10,000-resource sync most of its memory and a fifth of
//! its CPU (built, hashed by serializing it, then serialized again for the store). As text the
//! object is serialized at most once, hashed and stored as it is, and parsed only by the few who
//! read a field of it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// The provider's object as JSON text; `null` when there is none.
#[derive(Clone, Default)]
pub struct ApiData(Option<Box<RawValue>>);

impl ApiData {
    /// No object (`null`).
    pub const fn null() -> ApiData {
        ApiData(None)
    }

    /// The text of `value`.
    pub fn from_value(value: &Value) -> ApiData {
        match value {
            Value::Null => ApiData(None),
            // Serializing a `Value` cannot fail: its keys are strings and its numbers finite.
            value => ApiData(serde_json::value::to_raw_value(value).ok()),
        }
    }

    /// Already validated JSON text (an item of a parsed page), kept as it is.
    pub fn from_raw(raw: Box<RawValue>) -> ApiData {
        if raw.get() == "null" {
            ApiData(None)
        } else {
            ApiData(Some(raw))
        }
    }

    /// JSON text read back from a store.
    ///
    /// # Errors
    /// The text is not one JSON value.
    pub fn from_json(text: String) -> Result<ApiData, serde_json::Error> {
        RawValue::from_string(text).map(ApiData::from_raw)
    }

    pub fn is_null(&self) -> bool {
        self.0.is_none()
    }

    /// The JSON text (`null` when there is no object).
    pub fn as_str(&self) -> &str {
        self.0.as_deref().map_or("null", RawValue::get)
    }

    /// The JSON text, moved out; `None` when there is no object.
    pub fn into_json(self) -> Option<String> {
        self.0.map(|raw| String::from(Box::<str>::from(raw)))
    }

    /// The object parsed, for the few readers of its fields.
    pub fn to_value(&self) -> Value {
        // The text was validated when it was made; `Null` cannot be reached but is the honest
        // answer if it ever were.
        serde_json::from_str(self.as_str()).unwrap_or(Value::Null)
    }

    /// A top-level field of the object, parsed.
    pub fn get(&self, key: &str) -> Option<Value> {
        match self.to_value() {
            Value::Object(mut fields) => fields.remove(key),
            _ => None,
        }
    }

    /// A top-level string field of the object.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl PartialEq for ApiData {
    fn eq(&self, other: &ApiData) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Equal when the text parses to the same JSON (key order and spacing aside).
impl PartialEq<Value> for ApiData {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for ApiData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Value> for ApiData {
    fn from(value: Value) -> ApiData {
        ApiData::from_value(&value)
    }
}

impl Serialize for ApiData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            // serde_json writes the text as it is (and `to_value` parses it).
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_unit(),
        }
    }
}

impl<'de> Deserialize<'de> for ApiData {
    /// Through a `Value`: a record is read with `#[serde(flatten)]` attributes, whose buffered
    /// content cannot hand out raw text. Stores read the column's text directly instead.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ApiData, D::Error> {
        Value::deserialize(deserializer).map(|v| ApiData::from_value(&v))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_round_trips_through_serde_json_and_value() {
        let data = ApiData::from_value(&json!({"b": 1, "a": [true, null, "x"]}));
        assert_eq!(data.as_str(), r#"{"a":[true,null,"x"],"b":1}"#);
        let text = serde_json::to_string(&data).expect("serializes");
        assert_eq!(text, data.as_str());
        assert_eq!(
            serde_json::to_value(&data).expect("to value"),
            json!({"a": [true, null, "x"], "b": 1})
        );
        let back: ApiData = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, data);
        assert_eq!(data, json!({"b": 1, "a": [true, null, "x"]}));
        assert_eq!(data.get("b"), Some(json!(1)));
        assert_eq!(data.get_str("b"), None);
        assert_eq!(data.get("zz"), None);
    }

    #[test]
    fn null_is_no_object() {
        assert!(ApiData::from_value(&Value::Null).is_null());
        assert!(ApiData::from_json("null".into()).expect("json").is_null());
        assert_eq!(ApiData::null().as_str(), "null");
        assert_eq!(ApiData::null().into_json(), None);
        assert_eq!(
            serde_json::to_value(ApiData::null()).expect("null"),
            Value::Null
        );
        assert!(ApiData::from_json("{not json".into()).is_err());
    }

    #[test]
    fn provider_text_is_kept_as_sent() {
        let raw: Box<RawValue> = serde_json::from_str(r#"{"z": 1, "a": "é"}"#).expect("raw");
        let data = ApiData::from_raw(raw);
        assert_eq!(data.as_str(), r#"{"z": 1, "a": "é"}"#);
        assert_eq!(data.get_str("a").as_deref(), Some("é"));
        assert_eq!(data.into_json().as_deref(), Some(r#"{"z": 1, "a": "é"}"#));
    }
}
