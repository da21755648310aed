//! The JSON Schema (draft-07) of `stackdock.toml`, generated from the same key tables the validator
//! reads ([`crate::schema`] for resources, `keys` for settings, docks and credentials), so editors
//! (Taplo, Even Better TOML) complete and check exactly what `stackdock` accepts.
//!
//! The schema is a subset of the validator: rules that span entries (a dock's provider, attachments,
//! labels, inline credentials) are only checked by `stackdock` itself.

use serde_json::{Map, Value, json};

use super::keys::{
    CREDENTIAL_KEYS, DOCK_KEYS, DOCK_NAME_PATTERN, KeyDefault, KeyType, NOTIFY_KEYS,
    RECORD_INT_RANGES, RECORD_KEYS, SETTINGS_KEYS, TableKey, ZONE_KEYS, ZONE_NAME_PATTERN,
    allowed_values, exactly_one_of, names, positive,
};
use crate::dock_settings::{Declarations, DockSettingSpec};
use crate::schema::{COMMON_KEYS, FieldType, KeySpec, kind_keys};
use crate::{Kind, ProviderKind};

/// The JSON Schema of `stackdock.toml`. Object keys are sorted, so the text is the same whatever
/// serde_json features the build unifies.
pub fn json_schema() -> Value {
    json_schema_declared(ProviderKind::dock_settings)
}

/// [`json_schema`] with the providers' dock settings taken from `declarations`.
pub(crate) fn json_schema_declared(declarations: Declarations) -> Value {
    let mut definitions = Map::new();
    definitions.insert(
        "settings".into(),
        object(
            "Global settings.",
            SETTINGS_KEYS.iter().map(table_key_schema),
            required(SETTINGS_KEYS.iter().map(|k| (k.key, k.required))),
        ),
    );
    definitions.insert("dock".into(), dock_schema(declarations));
    let mut credentials = object(
        "Where the dock's API token comes from, by reference: never the token itself.",
        CREDENTIAL_KEYS.iter().map(table_key_schema),
        Vec::new(),
    );
    credentials["oneOf"] = one_of_required(&names(CREDENTIAL_KEYS));
    definitions.insert("credentials".into(), credentials);

    let mut notify = object(
        "Where new occurrences are sent: a webhook, the stack's SNS topic, or both.",
        NOTIFY_KEYS.iter().map(table_key_schema),
        Vec::new(),
    );
    notify["anyOf"] = json!([
        { "required": ["webhook"] },
        { "required": ["sns"], "properties": { "sns": { "const": true } } },
    ]);
    notify["properties"]["on"]["minItems"] = 1.into();
    definitions.insert("notify".into(), notify);

    let mut properties = Map::new();
    properties.insert(
        "notify".into(),
        json!({ "$ref": "#/definitions/notify", "description": "Notifications." }),
    );
    properties.insert(
        "stackdock".into(),
        json!({ "$ref": "#/definitions/settings", "description": "Global settings." }),
    );
    properties.insert(
        "docks".into(),
        json!({
            "type": "object",
            "description": "Provider accounts by dock name (lowercase letters, digits and `-`).",
            "propertyNames": { "pattern": DOCK_NAME_PATTERN },
            "additionalProperties": { "$ref": "#/definitions/dock" },
        }),
    );
    definitions.insert(
        "domain".into(),
        object(
            "One DNS zone; its name is the table's key.",
            ZONE_KEYS.iter().map(table_key_schema),
            required(ZONE_KEYS.iter().map(|k| (k.key, k.required))),
        ),
    );
    definitions.insert(
        "domain_record".into(),
        object(
            "One DNS record of the zone.",
            RECORD_KEYS.iter().map(table_key_schema),
            required(RECORD_KEYS.iter().map(|k| (k.key, k.required))),
        ),
    );
    for kind in Kind::ALL {
        let key = kind.config_key();
        // DNS records are declared inside their zone (`domain_record` above).
        if !kind.is_declared_at_top() {
            continue;
        }
        if kind == Kind::Domains {
            properties.insert(
                key.into(),
                json!({
                    "type": "object",
                    "description": "DNS zones by name (a lowercase domain without the trailing dot), each on a dock whose provider hosts it.",
                    "propertyNames": { "pattern": ZONE_NAME_PATTERN },
                    "additionalProperties": { "$ref": "#/definitions/domain" },
                }),
            );
            continue;
        }
        definitions.insert(key.into(), resource_schema(kind));
        let providers: Vec<&str> = ProviderKind::ALL
            .into_iter()
            .filter(|p| p.supports(kind))
            .map(ProviderKind::as_str)
            .collect();
        properties.insert(
            key.into(),
            json!({
                "type": "object",
                "description": if providers.is_empty() {
                    format!(
                        "Desired {}s by name. No provider supports them yet: entries are checked, then refused.",
                        kind.noun()
                    )
                } else {
                    format!(
                        "Desired {}s by name (the label at the provider). Supported by: {}.",
                        kind.noun(),
                        providers.join(", ")
                    )
                },
                "additionalProperties": { "$ref": format!("#/definitions/{key}") },
            }),
        );
    }

    sorted(json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "stackdock.toml",
        "description": "StackDock configuration: docks (provider accounts) and the resources desired on them. Generated by `stackdock schema`; do not edit by hand.",
        "type": "object",
        "required": ["stackdock"],
        "additionalProperties": false,
        "properties": properties,
        "definitions": definitions,
    }))
}

/// The schema of a dock: the common keys, and per provider (`if provider == X then …`) the settings
/// it declares, their types, patterns and which are required, with every other provider's settings
/// forbidden on its docks.
fn dock_schema(declarations: Declarations) -> Value {
    let every: Vec<(ProviderKind, &DockSettingSpec)> = ProviderKind::ALL
        .into_iter()
        .flat_map(|p| declarations(p).iter().map(move |s| (p, s)))
        .collect();
    let mut by_key: Map<String, Value> = Map::new();
    for (p, s) in &every {
        let line = format!("{p} docks: {}", s.doc);
        match by_key.get_mut(s.key) {
            Some(Value::String(d)) => {
                d.push('\n');
                d.push_str(&line);
            }
            _ => {
                by_key.insert(s.key.to_owned(), line.into());
            }
        }
    }
    let mut schema = object(
        "One provider account.",
        DOCK_KEYS
            .iter()
            .map(table_key_schema)
            .chain(by_key.iter().filter_map(|(k, d)| {
                let key = every.iter().find(|(_, s)| s.key == k)?.1.key;
                Some((key, json!({ "description": d })))
            })),
        required(DOCK_KEYS.iter().map(|k| (k.key, k.required))),
    );
    if every.is_empty() {
        return schema;
    }
    let cases: Vec<Value> = ProviderKind::ALL
        .into_iter()
        .map(|p| {
            let own = declarations(p);
            let foreign: std::collections::BTreeSet<&str> = every
                .iter()
                .map(|(_, s)| s.key)
                .filter(|k| !own.iter().any(|s| s.key == *k))
                .collect();
            let mut then = json!({
                "properties": own
                    .iter()
                    .map(|s| (s.key.to_owned(), setting_schema(s)))
                    .collect::<Map<String, Value>>(),
            });
            let required: Vec<&str> = own.iter().filter(|s| s.required).map(|s| s.key).collect();
            if !required.is_empty() {
                then["required"] = required.into();
            }
            if !foreign.is_empty() {
                then["propertyNames"] = json!({ "not": { "enum": foreign } });
            }
            json!({
                "if": { "required": ["provider"], "properties": { "provider": { "const": p.as_str() } } },
                "then": then,
            })
        })
        .collect();
    schema["allOf"] = cases.into();
    schema
}

/// The schema of one declared dock setting.
fn setting_schema(s: &DockSettingSpec) -> Value {
    let mut v = type_schema(s.ty);
    if let Some(pattern) = s.pattern {
        match s.ty {
            FieldType::StrList => v["items"]["pattern"] = pattern.into(),
            _ => v["pattern"] = pattern.into(),
        }
    }
    v["description"] = s.doc.into();
    v
}

/// The schema of one resource kind's entries.
fn resource_schema(kind: Kind) -> Value {
    let specs: Vec<&KeySpec> = COMMON_KEYS.iter().chain(kind_keys(kind)).collect();
    let mut schema = object(
        &format!("One {}.", kind.noun()),
        specs.iter().map(|s| {
            let mut v = field_schema(s.ty, s.key, s.doc);
            if s.key == "ignore_changes" {
                v["items"]["enum"] = kind_keys(kind).iter().map(|k| k.key).collect();
            }
            (s.key, v)
        }),
        required(specs.iter().map(|s| (s.key, s.required))),
    );
    if let Some(keys) = exactly_one_of(kind) {
        schema["oneOf"] = one_of_required(keys);
    }
    schema
}

fn table_key_schema(k: &TableKey) -> (&'static str, Value) {
    let mut v = match k.ty {
        KeyType::Field(ty) => field_schema(ty, k.key, k.doc),
        KeyType::Credentials => {
            json!({ "$ref": "#/definitions/credentials", "description": k.doc })
        }
        KeyType::Records => json!({
            "type": "array",
            "items": { "$ref": "#/definitions/domain_record" },
            "description": k.doc,
        }),
        KeyType::RecordValue => json!({
            "description": k.doc,
            "oneOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string", "maxLength": crate::dns::TXT_STRING_MAX }, "minItems": 1 },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["server"],
                    "properties": { "server": { "type": "string", "description": "Name of a `[servers.<name>]` entry." } },
                },
            ],
        }),
    };
    if let Some(pattern) = k.pattern {
        v["pattern"] = pattern.into();
    }
    if let Some((_, min, max)) = RECORD_INT_RANGES.iter().find(|(key, _, _)| *key == k.key) {
        v["minimum"] = (*min).into();
        v["maximum"] = (*max).into();
    }
    match k.default {
        KeyDefault::None => {}
        KeyDefault::Bool(b) => v["default"] = b.into(),
        KeyDefault::Str(s) => v["default"] = s.into(),
    }
    if k.key == "regions" {
        v["minItems"] = 1.into();
    }
    (k.key, v)
}

/// A web service's `env`: variable names to one source, or to several each with its `targets`.
fn env_schema() -> Value {
    let source = |targets_required: bool| {
        let mut v = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "secret": { "type": "string", "minLength": 1, "description": "Secrets Manager secret name or ARN holding the value." },
                "env": { "type": "string", "pattern": super::keys::ENV_VAR_PATTERN, "description": "Environment variable holding the value (local runs)." },
                "targets": { "type": "array", "minItems": 1, "items": { "type": "string", "enum": ["production", "preview", "development"] } },
            },
            "oneOf": [ { "required": ["secret"] }, { "required": ["env"] } ],
        });
        if targets_required {
            v["required"] = json!(["targets"]);
        }
        v
    };
    json!({
        "type": "object",
        "propertyNames": { "pattern": super::keys::ENV_VAR_PATTERN },
        "additionalProperties": {
            "oneOf": [
                source(false),
                { "type": "array", "minItems": 1, "items": source(true) },
            ],
        },
    })
}

/// The schema of a value of type `ty`.
fn type_schema(ty: FieldType) -> Value {
    match ty {
        FieldType::Str => json!({ "type": "string" }),
        FieldType::Int => json!({ "type": "integer" }),
        FieldType::Bool => json!({ "type": "boolean" }),
        FieldType::StrList => json!({ "type": "array", "items": { "type": "string" } }),
        FieldType::Env => env_schema(),
    }
}

fn field_schema(ty: FieldType, key: &str, doc: &str) -> Value {
    let mut v = type_schema(ty);
    if positive(ty) {
        v["minimum"] = 1.into();
    }
    if let Some(values) = allowed_values(key) {
        // A list's allowed values are its elements'.
        let slot = if ty == FieldType::StrList {
            &mut v["items"]
        } else {
            &mut v
        };
        slot["enum"] = values.into();
    }
    v["description"] = doc.into();
    v
}

fn object(
    description: &str,
    properties: impl Iterator<Item = (&'static str, Value)>,
    required: Vec<&'static str>,
) -> Value {
    let properties: Map<String, Value> = properties.map(|(k, v)| (k.to_owned(), v)).collect();
    let mut v = json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "properties": properties,
    });
    if !required.is_empty() {
        v["required"] = required.into();
    }
    v
}

fn required(keys: impl Iterator<Item = (&'static str, bool)>) -> Vec<&'static str> {
    keys.filter(|(_, r)| *r).map(|(k, _)| k).collect()
}

fn one_of_required(keys: &[&str]) -> Value {
    keys.iter().map(|k| json!({ "required": [k] })).collect()
}

/// Rebuilds every object with its keys in sorted order.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_table_reaches_the_schema() {
        let s = json_schema();
        let defs = &s["definitions"];
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("settings", SETTINGS_KEYS.iter().map(|k| k.key).collect()),
            ("dock", DOCK_KEYS.iter().map(|k| k.key).collect()),
            (
                "credentials",
                CREDENTIAL_KEYS.iter().map(|k| k.key).collect(),
            ),
            (
                "servers",
                COMMON_KEYS
                    .iter()
                    .chain(kind_keys(Kind::Servers))
                    .map(|k| k.key)
                    .collect(),
            ),
            (
                "block_volumes",
                COMMON_KEYS
                    .iter()
                    .chain(kind_keys(Kind::BlockVolumes))
                    .map(|k| k.key)
                    .collect(),
            ),
        ];
        for (def, keys) in cases {
            assert_eq!(defs[def]["additionalProperties"], false, "{def}");
            for key in keys {
                assert!(
                    defs[def]["properties"][key]["description"].is_string(),
                    "{def}.{key}"
                );
            }
        }
        assert_eq!(
            defs["dock"]["properties"]["provider"]["enum"],
            json!(["vultr", "digitalocean", "linode", "vercel", "cloudflare"])
        );
        assert_eq!(
            defs["settings"]["properties"]["drift"]["enum"],
            json!(["flag", "remediate"])
        );
        assert_eq!(s["additionalProperties"], false);
        let env = &defs["web_services"]["properties"]["env"];
        assert_eq!(
            env["propertyNames"]["pattern"],
            super::super::keys::ENV_VAR_PATTERN
        );
        assert_eq!(
            env["additionalProperties"]["oneOf"][0]["oneOf"],
            json!([{ "required": ["secret"] }, { "required": ["env"] }]),
            "a variable's value comes only by reference: {env}"
        );
        assert_eq!(defs["web_services"]["required"], json!(["dock", "subtype"]));
        for key in names(ZONE_KEYS) {
            assert!(
                defs["domain"]["properties"][key]["description"].is_string(),
                "{key}"
            );
        }
        for key in names(RECORD_KEYS) {
            assert!(
                defs["domain_record"]["properties"][key]["description"].is_string(),
                "{key}"
            );
        }
        assert_eq!(
            defs["domain_record"]["required"],
            json!(["name", "type", "value"])
        );
        assert_eq!(
            defs["domain_record"]["properties"]["type"]["enum"],
            json!(crate::dns::RECORD_TYPES)
        );
    }
}
