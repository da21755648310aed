//! One provider object as the adapters map it: a parsed `Value` (an answer to a single GET or a
//! create) or the JSON text of one item of a listed page (`Box<RawValue>`).
//!
//! Listings are the hot path: a 10,000-resource sync used to parse every page into trees of
//! `Value`, copy fields out of them and serialize them again for `fullApiData`. An item kept as
//! text is decoded straight into the adapter's wire type, checked for secrets without building
//! a tree, and becomes `fullApiData` as it is when it holds none.

use serde::Deserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;
use serde_json::value::RawValue;
use stackdock_core::ApiData;

use crate::redact::{is_secret_key, needs_url_redaction, redact, redact_url};

/// A provider object the mappings read.
pub trait Listed: Sized {
    /// The object decoded as a wire type.
    ///
    /// # Errors
    /// serde's message when the object does not have the wire type's shape.
    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error>;

    /// The object as a `Value` (error messages that name a field, tests).
    fn to_value(&self) -> Value;

    /// The object without its secrets (`provider_keys`, and every key and URL the generic rules
    /// of [`redact`] remove), as `fullApiData`.
    fn into_api_data(self, provider_keys: &[&str]) -> ApiData;
}

impl Listed for Value {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self)
    }

    fn to_value(&self) -> Value {
        self.clone()
    }

    fn into_api_data(mut self, provider_keys: &[&str]) -> ApiData {
        redact(&mut self, provider_keys);
        ApiData::from_value(&self)
    }
}

impl Listed for Box<RawValue> {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    fn to_value(&self) -> Value {
        // Items of a page were parsed once already: the text is JSON.
        serde_json::from_str(self.get()).unwrap_or(Value::Null)
    }

    fn into_api_data(self, provider_keys: &[&str]) -> ApiData {
        // A `RawValue` is valid JSON: the fast scan applies.
        if holds_secret_valid(self.get(), provider_keys) {
            // Rewritten in one pass over the text, without a tree; text that is not JSON (which
            // a parsed page never gives) goes the way of a `Value`, which is `null`.
            strip_secrets(self.get(), provider_keys).map_or_else(
                || self.to_value().into_api_data(provider_keys),
                ApiData::from_raw,
            )
        } else {
            // Nothing to remove: kept exactly as the provider sent it.
            ApiData::from_raw(self)
        }
    }
}

/// The top-level `id` and `tags` of an object, for filters that run before mapping (dedup by
/// id, ownership tag); each as sent (`Null` when absent or the object is not an object).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Probe {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub tags: Value,
}

impl Probe {
    pub(crate) fn of(item: &impl Listed) -> Probe {
        item.decode().unwrap_or_default()
    }

    /// Whether `tags` is a list holding `tag`.
    pub(crate) fn has_tag(&self, tag: &str) -> bool {
        self.tags
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(tag)))
    }
}

/// Whether `json` has anything [`redact`] would remove: a key it removes (anywhere in the
/// tree) or a string holding a URL with credentials. Walks the text once without building a
/// tree; text that is not JSON counts as holding a secret (the caller then parses and fails).
pub fn holds_secret(json: &str, provider_keys: &[&str]) -> bool {
    let mut de = serde_json::Deserializer::from_str(json);
    Scan { provider_keys }
        .deserialize(&mut de)
        .map_or(true, |found| found)
}

/// [`holds_secret`] for text known to be valid JSON (a `RawValue`), without parsing it: a pass
/// over its strings only (`memchr` to each quote or backslash). A string followed by `:` is a
/// key, checked as a secret key; any other is a value, checked for a URL with credentials. A
/// string with escapes is decoded first, so `pass\u0077ord` is `password` and `https:\/\/` a URL.
fn holds_secret_valid(json: &str, provider_keys: &[&str]) -> bool {
    let bytes = json.as_bytes();
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]) {
        let start = at + open + 1;
        // The closing quote: the first one not escaped.
        let mut end = start;
        let mut escaped = false;
        loop {
            let Some(next) = memchr::memchr2(b'"', b'\\', &bytes[end..]) else {
                // Unterminated: not valid JSON after all; let the parser decide.
                return holds_secret(json, provider_keys);
            };
            end += next;
            if bytes[end] == b'\\' {
                escaped = true;
                end += 2;
                if end >= bytes.len() {
                    return holds_secret(json, provider_keys);
                }
                continue;
            }
            break;
        }
        let raw = &json[start..end];
        at = end + 1;
        let is_key = bytes[at..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b':');
        let text = if escaped {
            match serde_json::from_str::<String>(&json[start - 1..=end]) {
                Ok(s) => std::borrow::Cow::Owned(s),
                Err(_) => return holds_secret(json, provider_keys),
            }
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        let secret = if is_key {
            provider_keys.contains(&text.as_ref()) || is_secret_key(&text)
        } else {
            needs_url_redaction(&text)
        };
        if secret {
            return true;
        }
    }
    false
}

/// `json` without what [`redact`] removes, as text, in the order it came: each value is copied
/// from the parser to the output as it is read, secret keys (with their values) are skipped and
/// URL strings lose their credentials. `None` when `json` is not JSON.
fn strip_secrets(json: &str, provider_keys: &[&str]) -> Option<Box<RawValue>> {
    let mut out = Vec::with_capacity(json.len());
    let mut de = serde_json::Deserializer::from_str(json);
    Strip {
        provider_keys,
        out: &mut out,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    RawValue::from_string(String::from_utf8(out).ok()?).ok()
}

/// Copies one JSON value to `out`, leaving out secrets (see [`strip_secrets`]).
struct Strip<'k, 'o> {
    provider_keys: &'k [&'k str],
    out: &'o mut Vec<u8>,
}

impl Strip<'_, '_> {
    fn write<T: serde::Serialize + ?Sized>(self, value: &T) {
        // Writing a string, number or bool into a Vec cannot fail.
        let _ = serde_json::to_writer(self.out, value);
    }
}

impl<'de> DeserializeSeed<'de> for Strip<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strip<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.write(&v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.write(&v);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.write(&v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // As a `Value` holds it: a float that did not fit an integer.
        self.write(&v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        match redact_url(v) {
            Some(clean) => self.write(&clean),
            None => self.write(v),
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            let at = self.out.len();
            if !first {
                self.out.push(b',');
            }
            let item = Strip {
                provider_keys: self.provider_keys,
                out: &mut *self.out,
            };
            if seq.next_element_seed(item)?.is_none() {
                self.out.truncate(at);
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.out.push(b'{');
        let mut first = true;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.provider_keys.contains(&key.as_ref()) || is_secret_key(&key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            let _ = serde_json::to_writer(&mut *self.out, key.as_ref());
            self.out.push(b':');
            map.next_value_seed(Strip {
                provider_keys: self.provider_keys,
                out: &mut *self.out,
            })?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// A visitor over any JSON value answering "does redaction have anything to do here".
#[derive(Clone, Copy)]
struct Scan<'k> {
    provider_keys: &'k [&'k str],
}

impl Scan<'_> {
    fn secret_key(&self, key: &str) -> bool {
        self.provider_keys.contains(&key) || is_secret_key(key)
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A map key, borrowed when the text has no escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(needs_url_redaction(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(found) = seq.next_element_seed(self)? {
            if found {
                // The answer is known; the rest is skipped (the parser wants the list finished).
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let found = if self.secret_key(&key) {
                map.next_value::<IgnoredAny>()?;
                true
            } else {
                map.next_value_seed(self)?
            };
            if found {
                // The answer is known; the rest is skipped (the parser wants the map finished).
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::redact::{DIGITALOCEAN_SECRET_KEYS, LINODE_SECRET_KEYS, VULTR_SECRET_KEYS};

    fn raw(v: &Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(v).expect("raw")
    }

    /// The scan agrees with redaction itself: it says "secret" exactly when redacting changes
    /// the object, so text kept as sent is text redaction would have kept.
    #[test]
    fn the_scan_agrees_with_redaction() {
        let cases = [
            json!({"id": 1, "label": "web", "tags": ["a"], "nested": {"x": [1, 2, {"y": null}]}}),
            json!({"id": 1, "default_password": "p"}),
            json!({"id": 1, "deep": [{"ok": 1}, {"apiToken": "t"}]}),
            json!({"id": 1, "url": "https://user:pw@example.com/x"}),
            json!({"id": 1, "url": "https://example.com/x?X-Amz-Signature=abc"}),
            json!({"id": 1, "url": "https://example.com/x?page=2"}),
            json!({"id": 1, "kvm": "https://console"}),
            json!({"id": 1, "root_pass": null}),
            json!({"id": 1, "secret_key": "s", "access_key": "a"}),
            json!({"pass\u{0077}ord": "escaped key"}),
            json!([{"a": 1}, {"token": 2}]),
            json!("https://a:b@c.d"),
            json!(42),
        ];
        for keys in [
            VULTR_SECRET_KEYS,
            DIGITALOCEAN_SECRET_KEYS,
            LINODE_SECRET_KEYS,
        ] {
            for case in &cases {
                let mut redacted = case.clone();
                redact(&mut redacted, keys);
                assert_eq!(
                    holds_secret(raw(case).get(), keys),
                    redacted != *case,
                    "{case} with {keys:?}"
                );
                // And both paths give the same fullApiData content.
                assert_eq!(raw(case).into_api_data(keys), redacted);
                assert_eq!(case.clone().into_api_data(keys), redacted);
            }
        }
    }

    #[test]
    fn secrets_are_stripped_from_the_text_in_one_pass_keeping_its_order() {
        let text = r#"{"z": [1, {"password": "p", "x": []}, null], "kvm": "k", "a": {"b": 1.5}}"#;
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(
            item.into_api_data(VULTR_SECRET_KEYS).as_str(),
            r#"{"z":[1,{"x":[]},null],"a":{"b":1.5}}"#
        );
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let strings = prop::sample::select(vec![
            "web",
            "https://user:pw@db.example.com:5432/x",
            "https://example.com/x?X-Amz-Signature=abc",
            "https://example.com/x?page=2",
            "say \"hi\"",
            "C:\\path",
            "tab\there",
            "ünï",
        ]);
        let keys = prop::sample::select(vec![
            "id",
            "name",
            "password",
            "Api_Token",
            "kvm",
            "user_data",
            "root_pass",
            "quote\"key",
            "back\\slash",
            "tags",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            strings.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|entries| {
                    Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        /// The fast scan of valid text answers as the parsing scan does, for any JSON.
        #[test]
        fn the_fast_scan_agrees_with_the_parsing_scan(value in json_value()) {
            let text = serde_json::to_string(&value).expect("json");
            for keys in [VULTR_SECRET_KEYS, DIGITALOCEAN_SECRET_KEYS, LINODE_SECRET_KEYS] {
                proptest::prop_assert_eq!(
                    holds_secret_valid(&text, keys),
                    holds_secret(&text, keys),
                    "{}", text
                );
            }
        }
    }

    #[test]
    fn the_fast_scan_reads_escapes_and_spacing() {
        for text in [
            r#"{"pass\u0077ord": 1}"#,
            r#"{"u": "https:\/\/a:b@c.example\/x"}"#,
            r#"{"a" : {"kvm"  :  null}}"#,
            r#"{"x": "\"", "token": 1}"#,
        ] {
            assert!(holds_secret_valid(text, VULTR_SECRET_KEYS), "{text}");
            assert!(holds_secret(text, VULTR_SECRET_KEYS), "{text}");
        }
        for text in [
            r#"{"x": "a:b", "y": ["token"]}"#,
            r#"{"\\": "\\"}"#,
            "[]",
            "1",
        ] {
            assert!(!holds_secret_valid(text, VULTR_SECRET_KEYS), "{text}");
            assert!(!holds_secret(text, VULTR_SECRET_KEYS), "{text}");
        }
    }

    #[test]
    fn escaped_keys_are_read_as_their_text() {
        // `pass\u0077ord` is `password`: a text search for "password" would miss it.
        let text = r#"{"id": 1, "pass\u0077ord": "hunter2"}"#;
        assert!(holds_secret(text, &[]));
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(item.into_api_data(&[]), json!({"id": 1}));
    }

    #[test]
    fn clean_items_are_kept_as_sent_and_not_json_counts_as_secret() {
        let text = r#"{"z": 1,  "a": [true]}"#;
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(item.into_api_data(&[]).as_str(), text);
        assert!(holds_secret("{not json", &[]));
    }
}
