//! Removing secrets from provider JSON before anything is stored (design §6.4): each provider's
//! known secret fields, any key that names a password, secret, token, private key, credential or
//! API key, and credentials carried inside URLs (user-info passwords, signed or token query
//! parameters).
//!
//! Redaction deletes: a removed key is gone, not replaced by a placeholder, so stored records and
//! their content hashes do not change when only a secret rotates. It must not remove anything
//! else: the rest of the record is the inventory.

use serde_json::Value;
use stackdock_core::ProviderKind;

/// Key fragments that mark a value as secret whatever the provider
/// (`/pass(word)?|secret|token|private_key|credential|api_key/i`).
const SECRET_KEY_FRAGMENTS: &[&str] = &[
    "pass",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "credential",
    "api_key",
    "apikey",
];

/// The first two bytes of every fragment of `SECRET_KEY_FRAGMENTS` (all lower-case ASCII), as a
/// set of 65,536 bits indexed by `first * 256 + second`: a key position whose two bytes are not a
/// fragment's beginning (nearly all of them: keys are full of `s`, `t`, `p`, `c` and `a`) is passed
/// over without comparing any fragment.
const FRAGMENT_STARTS: [u64; 1024] = {
    let mut starts = [0u64; 1024];
    let mut i = 0;
    while i < SECRET_KEY_FRAGMENTS.len() {
        let f = SECRET_KEY_FRAGMENTS[i].as_bytes();
        let pair = (f[0] as usize) << 8 | f[1] as usize;
        starts[pair / 64] |= 1 << (pair % 64);
        i += 1;
    }
    starts
};

/// Query parameters that authorise whoever holds the URL (pre-signed URLs, console links).
const SECRET_QUERY_KEYS: &[&str] = &[
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "key",
    "auth",
    "authorization",
];

/// The secret fields of one provider (its declaration's `secret_keys`).
pub fn secret_keys(provider: ProviderKind) -> &'static [&'static str] {
    crate::declaration(provider).secret_keys
}

/// Removes secrets from `value`, recursively through objects and arrays: every key in
/// `provider_specific_keys` (exact match), every key naming a secret, and credentials inside URL
/// strings.
pub fn redact(value: &mut Value, provider_specific_keys: &[&str]) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !removes_key(provider_specific_keys, k));
            for v in map.values_mut() {
                redact(v, provider_specific_keys);
            }
        }
        Value::Array(items) => {
            for v in items {
                redact(v, provider_specific_keys);
            }
        }
        Value::String(s) => {
            if let Some(clean) = redact_url(s) {
                *s = clean;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Whether redaction removes the member `key`: one of the provider's secret fields (exact match)
/// or a key naming a secret. The one rule for the tree ([`redact`]) and the text
/// (`object::strip_valid`).
pub(crate) fn removes_key(provider_specific_keys: &[&str], key: &str) -> bool {
    provider_specific_keys.contains(&key) || is_secret_key(key)
}

/// Whether a key names a secret.
pub fn is_secret_key(key: &str) -> bool {
    // Case-insensitive substring test without allocating: every key of every listed object comes
    // through here (about half a million per 10,000-resource sync). One pass over the key; the
    // fragments are compared only where the first two letters of one are (a bit lookup).
    let key = key.as_bytes();
    key.windows(2).enumerate().any(|(start, pair)| {
        let (first, second) = (pair[0].to_ascii_lowercase(), pair[1].to_ascii_lowercase());
        let bits = usize::from(first) << 8 | usize::from(second);
        FRAGMENT_STARTS[bits / 64] & (1 << (bits % 64)) != 0
            && SECRET_KEY_FRAGMENTS.iter().any(|fragment| {
                let (fragment, rest) = (fragment.as_bytes(), &key[start..]);
                rest.len() >= fragment.len()
                    && rest[..fragment.len()].eq_ignore_ascii_case(fragment)
            })
    })
}

/// A URL without its user-info password and secret query parameters; `None` when `s` is not a
/// URL or carries nothing to remove.
pub(crate) fn redact_url(s: &str) -> Option<String> {
    if !s.contains("://") || s.contains(char::is_whitespace) {
        return None;
    }
    let mut url = reqwest::Url::parse(s).ok()?;
    let mut changed = false;
    if url.password().is_some() {
        // A URL that cannot carry a password would not have parsed with one.
        changed |= url.set_password(None).is_ok();
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let kept: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(k, _)| {
                !is_secret_key(k) && !SECRET_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str())
            })
            .collect();
        if kept.len() != pairs.len() {
            changed = true;
            if kept.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
    }
    changed.then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digitalocean::declaration::SECRET_KEYS as DIGITALOCEAN_SECRET_KEYS;
    use crate::linode::declaration::SECRET_KEYS as LINODE_SECRET_KEYS;
    use crate::vultr::declaration::SECRET_KEYS as VULTR_SECRET_KEYS;
    use serde_json::json;

    #[test]
    fn vultr_instance_and_database_secrets() {
        let mut v = json!({
            "instance": {
                "id": "cb676a46",
                "label": "web-1",
                "default_password": "v5{Fkvb#2ycPGwHs",
                "kvm": "https://my.vultr.com/subs/vps/novnc/api.php?data=djJ8Q2",
                "user_data": "I2Nsb3VkLWNvbmZpZw==",
                "tags": ["stackdock:owner=abc"]
            },
            "databases": [{
                "id": "db-1",
                "user": "vultradmin",
                "password": "hunter2",
                "access_key": "ak",
                "access_cert": "-----BEGIN CERTIFICATE-----",
                "ferretdb_credentials": {"host": "h", "port": 27017, "user": "u", "password": "p"},
                "read_replicas": [{"id": "db-2", "password": "also"}]
            }]
        });
        redact(&mut v, VULTR_SECRET_KEYS);
        assert_eq!(
            v,
            json!({
                "instance": {"id": "cb676a46", "label": "web-1", "tags": ["stackdock:owner=abc"]},
                "databases": [{"id": "db-1", "user": "vultradmin", "read_replicas": [{"id": "db-2"}]}]
            })
        );
    }

    #[test]
    fn linode_secrets() {
        let mut v = json!({
            "data": [
                {"id": 1, "label": "a", "root_pass": "x", "ipv4": ["192.0.2.1"]},
                {"id": 2, "access_key": "KEYID", "secret_key": "s3cr3t", "bucket_access": [{"bucket_name": "b"}]}
            ],
            "page": 1
        });
        redact(&mut v, LINODE_SECRET_KEYS);
        assert_eq!(
            v,
            json!({
                "data": [
                    {"id": 1, "label": "a", "ipv4": ["192.0.2.1"]},
                    {"id": 2, "access_key": "KEYID", "bucket_access": [{"bucket_name": "b"}]}
                ],
                "page": 1
            })
        );
    }

    #[test]
    fn generic_key_rule() {
        let cases = [
            ("password", true),
            ("db_pass", true),
            ("Client_Secret", true),
            ("token", true),
            ("refresh_token", true),
            ("ssh_private_key", true),
            ("credentials", true),
            ("API_KEY", true),
            ("label", false),
            ("ssh_keys", false),
            ("private_networking", false),
            ("id", false),
        ];
        for (key, secret) in cases {
            assert_eq!(is_secret_key(key), secret, "{key}");
        }
        // The one-pass test agrees with the plain definition (lower-case, then substring), also
        // for fragments at the very end, overlapping starts and non-ASCII keys.
        let naive = |k: &str| {
            let k = k.to_ascii_lowercase();
            SECRET_KEY_FRAGMENTS.iter().any(|f| k.contains(f))
        };
        for key in [
            "",
            "p",
            "pas",
            "xpass",
            "ppass",
            "sssecret",
            "tokenx",
            "xtoke",
            "PrivateKey",
            "private-key",
            "api-key",
            "apikey",
            "credentia",
            "ünïcødé_token",
            "pässword",
            "ccredential",
        ] {
            assert_eq!(is_secret_key(key), naive(key), "{key}");
        }
        let mut v = json!({"a": {"b": [{"apiToken": "t", "keep": 1}]}, "private_key": "k"});
        redact(&mut v, &[]);
        assert_eq!(v, json!({"a": {"b": [{"keep": 1}]}}));
    }

    proptest::proptest! {
        /// The bit-filtered test agrees with the plain definition for any key, including keys
        /// built around the fragments in any case.
        #[test]
        fn secret_keys_match_the_plain_definition(
            head in "[a-zA-Z_ä-]{0,8}",
            fragment in proptest::sample::select(SECRET_KEY_FRAGMENTS),
            cut in 0usize..12,
            upper in proptest::bool::ANY,
            tail in "[a-zA-Z_]{0,8}",
        ) {
            let middle = &fragment[..cut.min(fragment.len())];
            let middle = if upper { middle.to_ascii_uppercase() } else { middle.to_owned() };
            let key = format!("{head}{middle}{tail}");
            let naive = SECRET_KEY_FRAGMENTS.iter().any(|f| key.to_ascii_lowercase().contains(f));
            proptest::prop_assert_eq!(is_secret_key(&key), naive, "{}", key);
        }
    }

    #[test]
    fn urls_lose_passwords_and_secret_query_parameters() {
        let mut v = json!({
            "connection": {
                "uri": "postgresql://doadmin:s3cr3t@db.example.com:25060/defaultdb?sslmode=require",
                "host": "db.example.com"
            },
            "console": "https://console.example.com/vnc?token=abc&lang=en",
            "presigned": "https://bucket.example.com/obj?X-Amz-Credential=AKIA&X-Amz-Signature=ff",
            "plain": "https://api.example.com/v2/things?page=2",
            "text": "see https://example.com?token=abc for details"
        });
        redact(&mut v, DIGITALOCEAN_SECRET_KEYS);
        assert_eq!(
            v,
            json!({
                "connection": {
                    "uri": "postgresql://doadmin@db.example.com:25060/defaultdb?sslmode=require",
                    "host": "db.example.com"
                },
                "console": "https://console.example.com/vnc?lang=en",
                "presigned": "https://bucket.example.com/obj",
                "plain": "https://api.example.com/v2/things?page=2",
                // Free text is not a URL: left alone (keys and URL values are what providers use).
                "text": "see https://example.com?token=abc for details"
            })
        );
    }

    #[test]
    fn per_provider_lists() {
        assert_eq!(secret_keys(ProviderKind::Vultr), VULTR_SECRET_KEYS);
        assert_eq!(secret_keys(ProviderKind::Linode), LINODE_SECRET_KEYS);
        assert_eq!(
            secret_keys(ProviderKind::DigitalOcean),
            DIGITALOCEAN_SECRET_KEYS
        );
    }
}
