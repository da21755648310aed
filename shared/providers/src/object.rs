//! One provider object as the adapters map it: a parsed `Value` (an answer to a single GET or a
//! create) or the JSON text of one item of a listed page (`Box<RawValue>`).
//!
//! Listings are the hot path: a 10,000-resource sync used to parse every page into trees of
//! `Value`, copy fields out of them and serialize them again for `fullApiData`. An item kept as
//! text is decoded straight into the adapter's wire type, checked for secrets without building
//! a tree, and becomes `fullApiData` as it is when it holds none.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use stackdock_core::ApiData;

use crate::redact::{redact, redact_url, removes_key};
use crate::{ErrorClass, ProviderError};

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
        // A `RawValue` is valid JSON: the one-pass text rewrite applies.
        match strip_valid(self.get(), provider_keys) {
            // Nothing to remove: kept exactly as the provider sent it.
            Stripped::Clean => ApiData::from_raw(self),
            // Checked to be JSON once more (cheap, no tree): a bug in the rewrite falls back to
            // the tree below instead of storing broken text.
            Stripped::Text(text) => ApiData::from_json(text)
                .unwrap_or_else(|_| self.to_value().into_api_data(provider_keys)),
            // Not JSON after all (a parsed page never gives this): the way of a `Value`.
            Stripped::NotJson => self.to_value().into_api_data(provider_keys),
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

/// Decodes one provider object into its wire type. Wire types accept missing, extra, `""` and
/// null fields, so this fails only on a shape they cannot read: a transient failure of `route`
/// on `dock` (a listing is then an error, never a list missing that object).
pub(crate) fn decode_object<T: DeserializeOwned>(
    dock: &str,
    route: &str,
    value: &impl Listed,
) -> Result<T, ProviderError> {
    value.decode::<T>().map_err(|e| {
        ProviderError::new(
            ErrorClass::Transient,
            dock,
            route,
            format!("the response has an unexpected shape: {e}"),
        )
    })
}

/// The object under `key` in a single-object answer (`{"droplet": {...}}`); an answer without
/// it is a transient failure of `route` on `dock`.
pub(crate) fn unwrap_envelope(
    dock: &str,
    route: &str,
    mut body: Value,
    key: &str,
) -> Result<Value, ProviderError> {
    match body.get_mut(key).map(Value::take) {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(ProviderError::new(
            ErrorClass::Transient,
            dock,
            route,
            format!("the response has no `{key}` object"),
        )),
    }
}

/// Whether a record's provider object lists `tag` among its `tags` (exactly as written).
pub(crate) fn carries_tag(record: &stackdock_core::Record, tag: &str) -> bool {
    record
        .full_api_data
        .get("tags")
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag)))
}

/// What [`strip_valid`] made of a text.
#[derive(Debug, PartialEq, Eq)]
enum Stripped {
    /// Nothing [`redact`] would remove: keep the text as it is.
    Clean,
    /// The text without its secrets.
    Text(String),
    /// Not valid JSON after all: let a parser decide.
    NotJson,
}

/// `json`, known to be valid JSON (a `RawValue`), without what [`redact`] removes, in one pass
/// over its strings (`memchr` to each quote or backslash) and without building a tree. A string
/// followed by `:` is a key: a secret key is removed with its value and one adjoining comma. Any
/// other string is a value: a URL with credentials is replaced by its redacted form. Everything
/// else is copied as it came, spacing included. A string with escapes is decoded before it is
/// judged, so `pass\u0077ord` is `password` and `https:\/\/` a URL.
fn strip_valid(json: &str, provider_keys: &[&str]) -> Stripped {
    let bytes = json.as_bytes();
    // Built only from the first secret on: a clean text (most items) is never copied.
    let mut out: Option<String> = None;
    // `json[..copied]` is accounted for in `out`.
    let mut copied = 0;
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]) {
        let open = at + open;
        let Some((end, escaped)) = string_end(bytes, open) else {
            return Stripped::NotJson;
        };
        at = end + 1;
        let colon = skip_space(bytes, at);
        let is_key = bytes.get(colon) == Some(&b':');
        let text = if escaped {
            match serde_json::from_str::<String>(&json[open..=end]) {
                Ok(s) => std::borrow::Cow::Owned(s),
                Err(_) => return Stripped::NotJson,
            }
        } else {
            std::borrow::Cow::Borrowed(&json[open + 1..end])
        };
        if is_key {
            if !removes_key(provider_keys, &text) {
                continue;
            }
            let value = skip_space(bytes, colon + 1);
            let Some(value_end) = value_end(bytes, value) else {
                return Stripped::NotJson;
            };
            // The member goes with the comma before it, or (first member, or every member
            // before it removed too) with the comma after it.
            let before = bytes[..open].iter().rposition(|b| !b.is_ascii_whitespace());
            let (cut, resume) = match before {
                Some(comma) if bytes[comma] == b',' && comma >= copied => (comma, value_end),
                _ => {
                    let next = skip_space(bytes, value_end);
                    if bytes.get(next) == Some(&b',') {
                        (open, skip_space(bytes, next + 1))
                    } else {
                        (open, value_end)
                    }
                }
            };
            let o = out.get_or_insert_with(|| String::with_capacity(json.len()));
            o.push_str(&json[copied..cut]);
            copied = resume;
            at = resume;
        } else if let Some(clean) = redact_url(&text) {
            let o = out.get_or_insert_with(|| String::with_capacity(json.len()));
            o.push_str(&json[copied..open]);
            // Writing a string into a String cannot fail.
            o.push_str(&serde_json::to_string(&clean).unwrap_or_default());
            copied = end + 1;
        }
    }
    match out {
        None => Stripped::Clean,
        Some(mut o) => {
            o.push_str(&json[copied..]);
            Stripped::Text(o)
        }
    }
}

/// The index of the quote closing the string opened at `open`, and whether it holds escapes;
/// `None` when it is not closed.
fn string_end(bytes: &[u8], open: usize) -> Option<(usize, bool)> {
    let mut end = open + 1;
    let mut escaped = false;
    loop {
        end += memchr::memchr2(b'"', b'\\', bytes.get(end..)?)?;
        if bytes[end] == b'"' {
            return Some((end, escaped));
        }
        escaped = true;
        end += 2;
    }
}

/// The first index from `at` that is not JSON whitespace (`bytes.len()` if none).
fn skip_space(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| !b.is_ascii_whitespace()))
        .map_or(bytes.len(), |n| at + n)
}

/// The index just past the JSON value starting at `start`; `None` when the text ends first.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match *bytes.get(start)? {
        b'"' => string_end(bytes, start).map(|(end, _)| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            loop {
                at += bytes
                    .get(at..)?
                    .iter()
                    .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                match bytes[at] {
                    b'"' => at = string_end(bytes, at)?.0 + 1,
                    b'{' | b'[' => {
                        depth += 1;
                        at += 1;
                    }
                    _ => {
                        depth -= 1;
                        at += 1;
                        if depth == 0 {
                            return Some(at);
                        }
                    }
                }
            }
        }
        // A number, `true`, `false` or `null`: up to the next delimiter.
        _ => Some(
            bytes[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .map_or(bytes.len(), |n| start + n),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::digitalocean::declaration::SECRET_KEYS as DIGITALOCEAN_SECRET_KEYS;
    use crate::linode::declaration::SECRET_KEYS as LINODE_SECRET_KEYS;
    use crate::vultr::declaration::SECRET_KEYS as VULTR_SECRET_KEYS;

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
                    holds_secret_valid(raw(case).get(), keys),
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
    fn secrets_are_cut_from_the_text_in_one_pass_keeping_the_rest_as_sent() {
        let text = r#"{"z": [1, {"password": "p", "x": []}, null], "kvm": "k", "a": {"b": 1.5}}"#;
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(
            item.into_api_data(VULTR_SECRET_KEYS).as_str(),
            r#"{"z": [1, {"x": []}, null], "a": {"b": 1.5}}"#
        );
        // Members removed first, last, in a row and alone, each with one adjoining comma.
        for (text, kept) in [
            (r#"{"password":1,"token":2,"a":3}"#, r#"{"a":3}"#),
            (r#"{"a":1,"password":2,"token":[{"x":"}"}]}"#, r#"{"a":1}"#),
            (r#"{ "kvm" : "k" }"#, r#"{  }"#),
            (
                r#"{"a":{"secret":"]"},"b":[{"token":null},2]}"#,
                r#"{"a":{},"b":[{},2]}"#,
            ),
            (
                r#"{"u":"https://a:b@c.example/x","n":1}"#,
                r#"{"u":"https://a@c.example/x","n":1}"#,
            ),
        ] {
            assert_eq!(
                strip_valid(text, VULTR_SECRET_KEYS),
                Stripped::Text(kept.to_owned()),
                "{text}"
            );
        }
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

    /// Whether the one-pass rewrite finds anything to remove.
    fn holds_secret_valid(json: &str, keys: &[&str]) -> bool {
        strip_valid(json, keys) != Stripped::Clean
    }

    proptest::proptest! {
        /// The one-pass rewrite removes exactly what redaction of the parsed tree removes, for
        /// any JSON, compact or pretty-printed.
        #[test]
        fn the_text_rewrite_agrees_with_redaction(value in json_value()) {
            for keys in [VULTR_SECRET_KEYS, DIGITALOCEAN_SECRET_KEYS, LINODE_SECRET_KEYS] {
                for text in [
                    serde_json::to_string(&value).expect("json"),
                    serde_json::to_string_pretty(&value).expect("json"),
                ] {
                    // Redaction of the text as parsed (floats read back as the parser reads them).
                    let mut redacted: Value = serde_json::from_str(&text).expect("json");
                    redact(&mut redacted, keys);
                    let kept: Value = match strip_valid(&text, keys) {
                        Stripped::Clean => serde_json::from_str(&text).expect("json"),
                        Stripped::Text(out) => serde_json::from_str(&out)
                            .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}: {out}")))?,
                        Stripped::NotJson => return Err(proptest::test_runner::TestCaseError::fail("not json")),
                    };
                    proptest::prop_assert_eq!(&kept, &redacted, "{}", text);
                }
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
        }
        for text in [
            r#"{"x": "a:b", "y": ["token"]}"#,
            r#"{"\\": "\\"}"#,
            "[]",
            "1",
        ] {
            assert!(!holds_secret_valid(text, VULTR_SECRET_KEYS), "{text}");
        }
    }

    #[test]
    fn escaped_keys_are_read_as_their_text() {
        // `pass\u0077ord` is `password`: a text search for "password" would miss it.
        let text = r#"{"id": 1, "pass\u0077ord": "hunter2"}"#;
        assert!(holds_secret_valid(text, &[]));
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(item.into_api_data(&[]), json!({"id": 1}));
    }

    #[test]
    fn clean_items_are_kept_as_sent_and_broken_text_is_left_to_a_parser() {
        let text = r#"{"z": 1,  "a": [true]}"#;
        let item: Box<RawValue> = serde_json::from_str(text).expect("raw");
        assert_eq!(item.into_api_data(&[]).as_str(), text);
        assert_eq!(strip_valid(r#"{"open"#, &[]), Stripped::NotJson);
    }
}

/// A string value of a leniently read wire field; anything else (null, a number, an object) is
/// `None`, and so is `""` (the web-service adapters read every optional field so).
pub(crate) fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An epoch-milliseconds timestamp (Vercel, Convex) as RFC 3339 in UTC
/// (`1609499532000` → `2021-01-01T11:12:12Z`); `None` for a value outside jiff's range.
pub(crate) fn rfc3339_from_millis(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod millis_tests {
    use super::rfc3339_from_millis;

    #[test]
    fn epoch_milliseconds_read_as_rfc3339_utc() {
        assert_eq!(
            rfc3339_from_millis(1_609_499_532_000).as_deref(),
            Some("2021-01-01T11:12:12Z")
        );
        assert_eq!(
            rfc3339_from_millis(1_609_499_532_250).as_deref(),
            Some("2021-01-01T11:12:12.25Z")
        );
        assert_eq!(rfc3339_from_millis(i64::MAX), None);
    }
}
