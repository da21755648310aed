//! Recognising a credential written inline in `stackdock.toml`: by its key (`token = …`) or by the
//! shape of its value (a known token prefix, a long random-looking string, a 64-hex token).
//!
//! The file is checked into a repository, so anything that looks like a credential is an error,
//! and the diagnostic masks it. The heuristics err on the side of flagging, but must stay quiet on
//! the legitimate values of the language: region/plan slugs, image ids, Secrets Manager ARNs and
//! UUID-shaped provider ids.

use std::ops::Range;

/// Prefixes of provider tokens (DigitalOcean personal/OAuth/refresh tokens, GitHub, AWS key ids).
const TOKEN_PREFIXES: &[&str] = &[
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "dsc_v1_",
    "ghp_",
    "gho_",
    "github_pat_",
    "AKIA",
    "ASIA",
];

/// Key fragments that name a credential, compared after lowercasing and removing `_` and `-`.
const KEY_FRAGMENTS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "clientsecret",
    "auth",
    "bearer",
];

/// Whole keys that name a credential.
const KEY_EXACT: &[&str] = &["key", "secret", "pass", "pwd", "pat", "credential"];

/// Whether a key (one that is not a known key of its table) names a credential.
pub fn is_credential_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    KEY_EXACT.contains(&norm.as_str()) || KEY_FRAGMENTS.iter().any(|f| norm.contains(f))
}

/// Whether a string value looks like an API token or secret key.
pub fn looks_like_token(value: &str) -> bool {
    if TOKEN_PREFIXES
        .iter()
        .any(|p| value.len() >= p.len() + 12 && value.starts_with(p) && is_token_charset(value))
    {
        return true;
    }
    if value.len() >= 40 && value.chars().all(|c| c.is_ascii_hexdigit()) {
        // Linode personal access tokens and most hex secrets are 64 hex digits.
        return true;
    }
    if is_uuid(value) {
        // Vultr ids are UUIDs: pinning one with `id = "…"` is legitimate.
        return false;
    }
    value.len() >= 32
        && is_token_charset(value)
        && value.chars().any(|c| c.is_ascii_alphabetic())
        && value.chars().any(|c| c.is_ascii_digit())
        && longest_segment(value) >= 16
        && class_changes(value) >= 4
        && entropy(value) >= 3.5
}

/// Byte ranges of every word in `source` that looks like a token, wherever it is (also inside
/// comments or a line the TOML parser rejected): shown lines are masked over these too.
pub fn token_runs(source: &str) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in source
        .char_indices()
        .chain(std::iter::once((source.len(), ' ')))
    {
        let word = c.is_ascii_alphanumeric() || c == '_' || c == '-';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if looks_like_token(&source[s..i]) {
                    runs.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// The help line of every inline-credential diagnostic.
pub const REFERENCE_HELP: &str = "credentials go by reference: `credentials = { env = \"VAR\" }` or `credentials = { secret = \"<Secrets Manager name or ARN>\" }`; remove the value from the file (and rotate it if it was ever committed)";

fn is_token_charset(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Length of the longest run without a `-` or `_` separator: slugs are many short words.
fn longest_segment(s: &str) -> usize {
    s.split(['-', '_']).map(str::len).max().unwrap_or(0)
}

/// How often the text switches between letters and digits: words with a year in them switch
/// once or twice, random strings many times.
fn class_changes(s: &str) -> usize {
    let classes: Vec<bool> = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.is_ascii_digit())
        .collect();
    classes.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 128];
    let mut n = 0usize;
    for b in s.bytes().filter(u8::is_ascii) {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let total = n as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_are_tokens() {
        let cases = [
            "dop_v1_4f9a1c2e8b7d6f5a4e3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e",
            "doo_v1_0123456789abcdef0123456789abcdef",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "Q2ZKX7M3HVN4BRT8WPLE6YC5SDJ9GA1FUKNA",
            "9fK2xLq8Zr3mWv7Tn1Bc5Hd4Jy6Pg0Qs",
            "AKIAIOSFODNN7EXAMPLE1234",
        ];
        for v in cases {
            assert!(looks_like_token(v), "{v} should look like a token");
        }
    }

    #[test]
    fn legitimate_values_are_not_tokens() {
        let cases = [
            "ewr",
            "vc2-1c-1gb",
            "os:2284",
            "ubuntu-24-04-x64",
            "linode/ubuntu24.04",
            "g6-nanode-1",
            "vultr-dbaas-hobbyist-cc-1-25-1",
            "vultr-dbaas-business-cc-hp-intel-8-320-8",
            "cb676a46-66fd-4dfb-b839-443f2e6c0b60",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:stackdock/vultr-AbC123",
            "stackdock/digitalocean-token",
            "VULTR_API_KEY",
            "acme-production-assets-2024-backups",
            "myverylongbucketnamefor2024backups",
            "rate(15 minutes)",
        ];
        for v in cases {
            assert!(!looks_like_token(v), "{v} should not look like a token");
        }
    }

    #[test]
    fn credential_keys() {
        for k in [
            "token",
            "api_key",
            "apikey",
            "API-Key",
            "password",
            "secret_key",
            "access_key",
            "key",
            "auth",
            "auth_token",
            "secret",
            "private_key",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "env", "region", "plan", "ssh_keys", "tags", "keys_dir", "monkey",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn token_runs_find_unquoted_tokens() {
        let src = "x = dop_v1_0123456789abcdef0123456789abcdef # note\nregion = \"ewr\"\n";
        let runs = token_runs(src);
        assert_eq!(runs.len(), 1);
        assert!(src[runs[0].clone()].starts_with("dop_v1_"));
    }
}
