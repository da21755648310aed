//! Value checks beyond a key's type: the formats a provider accepts for a field, a list's items,
//! and resource labels.

use crate::{Kind, ProviderKind};

/// Why `provider` refuses `value` for the string key `key` of a `kind`, or `None`.
pub fn value_error(provider: ProviderKind, kind: Kind, key: &str, value: &str) -> Option<String> {
    match (provider, kind, key) {
        // Each subtype is one provider's (an unknown subtype is the parser's error).
        (_, Kind::WebServices, "subtype") => crate::web_service::subtype(value)
            .filter(|s| s.provider != provider.as_str())
            .map(|s| {
                let own: Vec<String> = crate::web_service::SUBTYPES
                    .iter()
                    .filter(|o| o.provider == provider.as_str())
                    .map(|o| format!("`subtype = \"{}\"` ({})", o.name, o.what))
                    .collect();
                format!(
                    "`{value}` is {}, hosted on {} docks; {}",
                    s.what,
                    s.provider,
                    if own.is_empty() {
                        format!("{provider} hosts no declarable web service")
                    } else {
                        format!("a {provider} dock takes {}", own.join(" or "))
                    }
                )
            }),
        (ProviderKind::Cloudflare, Kind::Databases, "engine") if value != "d1" => {
            Some("Cloudflare's databases are D1: write `engine = \"d1\"`".to_owned())
        }
        (ProviderKind::Cloudflare, Kind::Databases, "region")
            if !["wnam", "enam", "weur", "eeur", "apac", "oc"].contains(&value) =>
        {
            Some("D1 location hints are `wnam`, `enam`, `weur`, `eeur`, `apac` and `oc`".to_owned())
        }
        // [linode-spec] CreateLinode `stackscript_id`: an integer.
        (ProviderKind::Linode, Kind::Servers, "app")
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) =>
        {
            Some("a Linode app is a StackScript id, a number (`stackdock catalog DOCK apps` lists them)".to_owned())
        }
        _ => None,
    }
}

/// Why `value`, one element of the list `key` of a `kind` on `provider`, would be refused by the
/// provider, or `None` if it is accepted. Checked by the parser (with the element's position), so a
/// value the provider refuses never reaches a create.
pub fn list_item_error(provider: ProviderKind, key: &str, value: &str) -> Option<String> {
    match (provider, key) {
        (ProviderKind::DigitalOcean, "tags") => {
            let ok = !value.is_empty()
                && value.len() <= 255
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'));
            (!ok).then(|| "DigitalOcean tag names are 1 to 255 characters among letters, digits, `:`, `-` and `_`".to_owned())
        }
        (ProviderKind::Linode, "tags") => {
            let len = value.chars().count();
            (!(3..=50).contains(&len))
                .then(|| "Linode tags are 3 to 50 characters".to_owned())
        }
        (ProviderKind::Vultr, "ssh_keys") => (!is_uuid(value)).then(|| {
            "Vultr takes SSH key ids (a UUID such as `3b8066a7-b438-455a-9688-44afc9a3597f`, listed by `GET /v2/ssh-keys`), not names or fingerprints".to_owned()
        }),
        (ProviderKind::DigitalOcean, "ssh_keys") => {
            let id = !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit());
            let fingerprint = value.len() == 47
                && value.split(':').count() == 16
                && value.split(':').all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
            (!id && !fingerprint).then(|| {
                "DigitalOcean takes SSH key ids (digits) or MD5 fingerprints (16 hex pairs joined by `:`)".to_owned()
            })
        }
        (ProviderKind::Linode, "ssh_keys") => (!is_public_key(value)).then(|| {
            "Linode takes public key text (`ssh-ed25519 AAAA… comment`, one line), not key ids or fingerprints".to_owned()
        }),
        _ => None,
    }
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An OpenSSH public key line: a key type Linode accepts, base64 key data, an optional comment.
fn is_public_key(value: &str) -> bool {
    const TYPES: &[&str] = &[
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    if value.contains(['\n', '\r']) {
        return false;
    }
    let mut parts = value.split_whitespace();
    let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
        return false;
    };
    TYPES.contains(&kind)
        && data.len() >= 16
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// The S3-style bucket name rule R2 and Linode share: 3 to 63 characters among `a-z`, `0-9` and
/// `-`, starting and ending with a letter or digit; `what` names the provider's names in the
/// message ("R2 bucket names").
fn bucket_name_error(name: &str, what: &str) -> Option<String> {
    let len = name.chars().count();
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !(3..=63).contains(&len)
        || !name.chars().all(|c| alnum(c) || c == '-')
        || !name.chars().next().is_some_and(alnum)
        || !name.chars().last().is_some_and(alnum)
    {
        Some(format!(
            "{what} are 3 to 63 characters among `a-z`, `0-9` and `-`, starting and ending with a letter or digit"
        ))
    } else {
        None
    }
}

/// Why `name` is not a valid label for a `kind` on `provider`, or `None` if it is. Resource names in
/// `stackdock.toml` are the labels StackDock gives the resources, so they must be valid there.
pub fn label_error(provider: ProviderKind, kind: Kind, name: &str) -> Option<String> {
    let len = name.chars().count();
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let only = |ok: fn(char) -> bool| name.chars().all(ok);
    match (provider, kind) {
        (ProviderKind::Vultr, _) => {
            if len == 0 || len > 255 {
                Some("Vultr labels are 1 to 255 characters".to_owned())
            } else if name.chars().any(char::is_control) {
                Some("Vultr labels may not contain control characters".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::DigitalOcean, Kind::Servers) => {
            if len == 0 || len > 255 || !only(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                Some("DigitalOcean droplet names are hostnames: 1 to 255 characters among `a-z`, `A-Z`, `0-9`, `.` and `-`".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::DigitalOcean, Kind::BlockVolumes) => {
            let first_lower = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
            if len == 0
                || len > 64
                || !first_lower
                || !only(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                Some("DigitalOcean volume names are 1 to 64 characters: a lowercase letter, then lowercase letters, digits and `-`".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::Linode, Kind::Servers) => {
            if !(3..=64).contains(&len)
                || !starts_with_letter
                || !only(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                Some("Linode labels are 3 to 64 characters: a letter, then letters, digits, `-`, `_` and `.`".to_owned())
            } else if ["--", "__", ".."].iter().any(|d| name.contains(d)) {
                Some("Linode labels may not contain two `-`, `_` or `.` in a row".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::Linode, Kind::BlockVolumes) => {
            if !(2..=32).contains(&len)
                || !starts_with_letter
                || !only(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                Some("Linode volume labels are 2 to 32 characters: a letter, then letters, digits, `-` and `_`".to_owned())
            } else if ["--", "__"].iter().any(|d| name.contains(d)) {
                Some("Linode volume labels may not contain two `-` or `_` in a row".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::Cloudflare, Kind::Buckets) => bucket_name_error(name, "R2 bucket names"),
        (ProviderKind::Cloudflare, Kind::Databases) => {
            let first = name.chars().next();
            if len == 0
                || len > 64
                || !first.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                || !only(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
            {
                Some("D1 database names are up to 64 characters: a lowercase letter or digit, then lowercase letters, digits, `-` and `_`".to_owned())
            } else {
                None
            }
        }
        (ProviderKind::Linode, Kind::Buckets) => bucket_name_error(name, "Linode bucket labels"),
        _ => None,
    }
}
