//! Provider-specific dock settings (Cloudflare `account_id`, Vercel `team_id`, …): the declaration
//! a provider makes once, beside its other pure facts in [`crate::kind`], and the typed values a
//! parsed dock carries.
//!
//! A provider declares each setting as a `pub const` [`DockSetting`] (its key, type, whether it is
//! required, an optional pattern and its documentation) and lists their [`DockSettingSpec`]s in
//! [`crate::ProviderKind::dock_settings`]. From that one list the parser checks the keys of a dock
//! of that provider (unknown, missing, wrong type, pattern), the config reference and the JSON
//! Schema document them, and an adapter reads a value back through the same const, typed:
//! `dock.setting(&ACCOUNT_ID)` is an `Option<&str>`. This module owns no I/O and knows no provider.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::FieldValue;
use crate::schema::FieldType;

/// One provider-specific setting of a dock, untyped: what the parser, the config reference and the
/// JSON Schema read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DockSettingSpec {
    /// The key in `[docks.<name>]`, e.g. `account_id`.
    pub key: &'static str,
    pub ty: FieldType,
    /// A dock of this provider without it is an error.
    pub required: bool,
    /// Kinds a dock must give it for, when it is otherwise optional (Cloudflare's `account_id`
    /// for buckets and databases, which live under `/accounts/{account_id}`): a resource of one
    /// of them on a dock without it is an error at the resource's `dock`.
    pub required_for: &'static [crate::Kind],
    /// An anchored regular expression every string value (every element of an array) must match:
    /// the JSON Schema `pattern` and the validator's check, in the common subset of both dialects.
    /// A value that matches it is never taken for an inline credential: declare a pattern only for
    /// identifiers that are not secrets.
    pub pattern: Option<&'static str>,
    pub doc: &'static str,
}

impl DockSettingSpec {
    /// Whether `value` matches [`Self::pattern`] (always, without one). A pattern that does not
    /// compile matches nothing, so the declaration's own test fails at once.
    pub fn matches(&self, value: &str) -> bool {
        self.pattern
            .is_none_or(|p| regex_lite::Regex::new(p).is_ok_and(|re| re.is_match(value)))
    }
}

/// The Rust type a setting of a given [`FieldType`] reads back as.
pub trait SettingType {
    const TYPE: FieldType;
    type Value<'a>;
    fn read(value: &FieldValue) -> Option<Self::Value<'_>>;
}

/// A string setting, read as `&str`.
#[derive(Debug)]
pub enum Text {}
/// A boolean setting, read as `bool`.
#[derive(Debug)]
pub enum Flag {}
/// An integer setting, read as `i64`.
#[derive(Debug)]
pub enum Number {}
/// An array of strings, read as a set.
#[derive(Debug)]
pub enum TextSet {}

impl SettingType for Text {
    const TYPE: FieldType = FieldType::Str;
    type Value<'a> = &'a str;
    fn read(value: &FieldValue) -> Option<&str> {
        value.as_str()
    }
}

impl SettingType for Flag {
    const TYPE: FieldType = FieldType::Bool;
    type Value<'a> = bool;
    fn read(value: &FieldValue) -> Option<bool> {
        value.as_bool()
    }
}

impl SettingType for Number {
    const TYPE: FieldType = FieldType::Int;
    type Value<'a> = i64;
    fn read(value: &FieldValue) -> Option<i64> {
        match value {
            FieldValue::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl SettingType for TextSet {
    const TYPE: FieldType = FieldType::StrList;
    type Value<'a> = &'a crate::VecSet<String>;
    fn read(value: &FieldValue) -> Option<&crate::VecSet<String>> {
        match value {
            FieldValue::Set(s) => Some(s),
            _ => None,
        }
    }
}

/// A typed dock setting: the declaration and the key an adapter reads the value with.
///
/// ```
/// use stackdock_core::dock_settings::{DockSetting, Text};
/// const ACCOUNT_ID: DockSetting<Text> =
///     DockSetting::required("account_id", "The account's id.").pattern("^[0-9a-f]{32}$");
/// assert!(ACCOUNT_ID.spec.required);
/// ```
#[derive(Debug)]
pub struct DockSetting<T: SettingType> {
    pub spec: DockSettingSpec,
    ty: PhantomData<fn() -> T>,
}

impl<T: SettingType> DockSetting<T> {
    const fn new(key: &'static str, required: bool, doc: &'static str) -> Self {
        DockSetting {
            spec: DockSettingSpec {
                key,
                ty: T::TYPE,
                required,
                required_for: &[],
                pattern: None,
                doc,
            },
            ty: PhantomData,
        }
    }

    /// A setting every dock of the provider must give.
    pub const fn required(key: &'static str, doc: &'static str) -> Self {
        Self::new(key, true, doc)
    }

    /// A setting a dock of the provider may give.
    pub const fn optional(key: &'static str, doc: &'static str) -> Self {
        Self::new(key, false, doc)
    }

    /// Makes an optional setting required on a dock that holds any of `kinds`.
    pub const fn required_for(mut self, kinds: &'static [crate::Kind]) -> Self {
        self.spec.required_for = kinds;
        self
    }

    /// Adds the pattern string values must match (see [`DockSettingSpec::pattern`]).
    pub const fn pattern(mut self, pattern: &'static str) -> Self {
        self.spec.pattern = Some(pattern);
        self
    }
}

/// A dock's provider-specific settings as parsed: only keys its provider declares, each with its
/// declared type. Serialized as a plain table and omitted when empty, so docks without settings
/// (and the digest of their config) are what they were before settings existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DockSettings(BTreeMap<String, FieldValue>);

impl DockSettings {
    /// The value of `setting`, typed; `None` when the dock does not give it.
    pub fn get<T: SettingType>(&self, setting: &DockSetting<T>) -> Option<T::Value<'_>> {
        self.0.get(setting.spec.key).and_then(T::read)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The settings given, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value written for `key`, untyped (for renderers; adapters use [`Self::get`]).
    pub fn raw(&self, key: &str) -> Option<&FieldValue> {
        self.0.get(key)
    }
}

impl FromIterator<(String, FieldValue)> for DockSettings {
    fn from_iter<I: IntoIterator<Item = (String, FieldValue)>>(iter: I) -> Self {
        DockSettings(iter.into_iter().collect())
    }
}

/// Which settings each provider's docks take: [`crate::ProviderKind::dock_settings`] in
/// production; a test passes its own to exercise the same parser, reference and schema.
pub type Declarations = fn(crate::ProviderKind) -> &'static [DockSettingSpec];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderKind;

    #[test]
    fn every_declared_pattern_compiles_and_types_agree() {
        for p in ProviderKind::ALL {
            for s in p.dock_settings() {
                if let Some(pattern) = s.pattern {
                    assert!(regex_lite::Regex::new(pattern).is_ok(), "{p}.{}", s.key);
                    assert_eq!(
                        s.ty,
                        FieldType::Str,
                        "{p}.{}: patterns are for strings",
                        s.key
                    );
                }
            }
        }
    }

    #[test]
    fn values_read_back_typed() {
        const ACCOUNT_ID: DockSetting<Text> = DockSetting::required("account_id", "id");
        const STRICT: DockSetting<Flag> = DockSetting::optional("strict", "flag");
        const PAGE: DockSetting<Number> = DockSetting::optional("page", "n");
        let s: DockSettings = [
            ("account_id".to_owned(), FieldValue::Str("abc".into())),
            ("strict".to_owned(), FieldValue::Bool(true)),
        ]
        .into_iter()
        .collect();
        assert_eq!(s.get(&ACCOUNT_ID), Some("abc"));
        assert_eq!(s.get(&STRICT), Some(true));
        assert_eq!(s.get(&PAGE), None);
        assert_eq!(ACCOUNT_ID.spec.ty, FieldType::Str);
        assert_eq!(
            [ACCOUNT_ID.spec.required, STRICT.spec.required],
            [true, false]
        );
    }

    #[test]
    fn a_pattern_is_anchored_as_written() {
        let spec = DockSetting::<Text>::required("account_id", "id")
            .pattern("^[0-9a-f]{32}$")
            .spec;
        assert!(spec.matches("023e105f4ecef8ad9ca31a8372d0c353"));
        assert!(!spec.matches("023e105f4ecef8ad9ca31a8372d0c35"));
        assert!(!spec.matches("023E105F4ECEF8AD9CA31A8372D0C353"));
    }
}
