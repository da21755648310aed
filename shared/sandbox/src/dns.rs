//! What the providers' DNS emulations check the same way: a zone name, a record's value for its
//! type, a record name relative to its zone. Each provider answers a failed check with its own
//! status and error body; these only say what is wrong.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `name` is a domain a provider would host: two or more labels of `a-z`, `0-9` and `-`
/// (not at either end of a label), 1 to 63 characters each, 253 in all, no trailing dot.
pub(crate) fn valid_zone(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Why `data` is not a value of a `record_type` record, or `None` when it is. Host-name values
/// (CNAME, MX, NS, SRV) are checked by each provider, whose rules about the trailing dot differ.
pub(crate) fn value_error(record_type: &str, data: &str) -> Option<&'static str> {
    match record_type {
        "A" if data.parse::<Ipv4Addr>().is_err() => {
            Some("IP address did not match IPv4 format (e.g. 127.0.0.1).")
        }
        "AAAA" if data.parse::<Ipv6Addr>().is_err() => {
            Some("IP address did not match IPv6 format (e.g. 2001:db8::1).")
        }
        _ if data.is_empty() => Some("Data can't be blank."),
        _ => None,
    }
}

/// The rows generated for a bulk-seeded record `n`: the label `bulk-<n>` and an address in
/// TEST-NET-2 (RFC 5737), different for each of the first 65,536.
pub(crate) fn bulk_record(n: u64) -> (String, String) {
    let (hi, lo) = ((n >> 8) & 0xff, n & 0xff);
    (format!("bulk-{n:06}"), format!("198.51.{hi}.{lo}"))
}

/// The FQDN a provider that names records absolutely (Cloudflare) keeps for `name` in `zone`:
/// `@` and `""` are the apex, a name already ending in the zone (or with a trailing dot) is
/// absolute, anything else is completed with the zone; lowercase, without the trailing dot.
pub(crate) fn fqdn_in(zone: &str, name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || name == "@" {
        return zone.to_owned();
    }
    if let Some(absolute) = name.strip_suffix('.') {
        return absolute.to_owned();
    }
    if name == zone || name.ends_with(&format!(".{zone}")) {
        return name;
    }
    format!("{name}.{zone}")
}

/// The zone every bulk-seeded record goes in.
pub(crate) const BULK_ZONE: &str = "bulk.example";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_lowercase_domains_of_two_labels_or_more() {
        for ok in ["example.com", "a-b.example.co.uk", "xn--bcher-kva.example"] {
            assert!(valid_zone(ok), "{ok}");
        }
        for bad in [
            "com",
            "Example.com",
            "example.com.",
            "-a.example",
            "a..example",
            "",
        ] {
            assert!(!valid_zone(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_completed_with_their_zone() {
        assert_eq!(fqdn_in("example.com", "@"), "example.com");
        assert_eq!(fqdn_in("example.com", "WWW"), "www.example.com");
        assert_eq!(fqdn_in("example.com", "www.example.com"), "www.example.com");
        assert_eq!(fqdn_in("example.com", "mail.other.net."), "mail.other.net");
    }

    #[test]
    fn addresses_are_checked_for_their_family() {
        assert_eq!(value_error("A", "203.0.113.10"), None);
        assert!(value_error("A", "2001:db8::1").is_some());
        assert_eq!(value_error("AAAA", "2001:db8::1"), None);
        assert!(value_error("AAAA", "203.0.113.10").is_some());
        assert!(value_error("TXT", "").is_some());
        assert_eq!(value_error("CNAME", "www.example.com."), None);
    }
}
