//! Placeholder replaced by the JSON Schema generator (issue #2, in progress).
/// The JSON Schema of `stackdock.toml`.
pub fn json_schema() -> serde_json::Value {
    serde_json::Value::Null
}
