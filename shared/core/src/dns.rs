//! DNS: what each provider's DNS hosting accepts (record types, TTL floor) and the one
//! normalisation from a provider's record shape to the canonical `domainRecords` form.
//!
//! Pure string work: it reads no zone and calls no provider. The config validator and the
//! adapters (issue 17, step 2) both read these facts, so a record the file accepts is one the
//! provider accepts, and a synced record compares equal to the entry that declared it.
//!
//! Sources of the facts: `provider-apis-2.md` §9.2 (DigitalOcean), §10 (Vultr), §11 (Linode), §1
//! (Vercel).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::ProviderKind;

/// Every record type a `stackdock.toml` entry may declare on some provider. SOA is
/// provider-managed everywhere and never declared.
pub const RECORD_TYPES: [&str; 9] = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "PTR"];

/// The record types `provider` hosts and StackDock can declare.
///
/// - DigitalOcean: `A, AAAA, CAA, CNAME, MX, NS, SOA, SRV, TXT` (§9.2; SOA is provider-managed).
/// - Linode: `A, AAAA, NS, MX, CNAME, TXT, SRV, PTR, CAA` (§11).
/// - Vultr: `A, AAAA, CNAME, NS, MX, SRV, TXT, CAA, SSHFP` ([vultr-spec] create-dns-domain-record
///   `type`, `fixtures/specs/vultr/operations.json`); SSHFP is not a type StackDock declares.
/// - Vercel: `A, AAAA, ALIAS, CAA, CNAME, HTTPS, MX, SRV, TXT, NS` ([vercel-sdk] createRecord
///   `type`, `fixtures/specs/vercel/operations.json`); ALIAS and HTTPS are not types StackDock
///   declares, and Vercel has no PTR.
/// - Cloudflare: every declarable type ([cf-spec] `dns-records_type`: A, AAAA, CAA, CERT, CNAME,
///   DNSKEY, DS, HTTPS, LOC, MX, NAPTR, NS, PTR, SMIMEA, SRV, SSHFP, SVCB, TLSA, TXT, URI,
///   `fixtures/specs/cloudflare/operations.json`); the others are synced as listed, never declared.
pub fn record_types(provider: ProviderKind) -> &'static [&'static str] {
    match provider {
        ProviderKind::Cloudflare => &RECORD_TYPES,
        ProviderKind::DigitalOcean | ProviderKind::Vultr | ProviderKind::Vercel => {
            &["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"]
        }
        ProviderKind::Linode => &["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "PTR"],
    }
}

/// The lowest TTL in seconds `provider` keeps as given (a TTL absent or 0 means the provider's
/// default and is always accepted).
///
/// `provider-apis-2.md` §§9–11 state no TTL floor, so these numbers carry their own sources and
/// are to be confirmed by the adapters' spec check (issue 17, step 2):
/// - Linode: 30 — `linode/linode-api-docs` PR #927 "Add 30 and 120 as Acceptable Domain TTL"
///   (`ttl_sec` is rounded up to the next accepted value above that).
/// - DigitalOcean: 30 — DigitalOcean's DNS documentation (secondary; the §9.2 spec extract has
///   no `minimum`).
/// - Vultr: 1 — [vultr-spec] create-dns-domain-record types `ttl` as an integer with no
///   `minimum` (`fixtures/specs/vultr/operations.json`), so any positive TTL is accepted.
/// - Vercel: 60 — [vercel-sdk] createRecord and updateRecord type `ttl` with `minimum: 60`
///   (`fixtures/specs/vercel/operations.json`; "Default value is 60").
/// - Cloudflare: 60 — [cf-spec] `dns-records_ttl`: "Value must be between 60 and 86400, with
///   the minimum reduced to 30 for Enterprise zones" (1 means automatic, see [`AUTOMATIC_TTL`]).
///   StackDock cannot tell an Enterprise zone from the file, so it holds every zone to 60.
pub fn ttl_minimum(provider: ProviderKind) -> i64 {
    match provider {
        ProviderKind::Cloudflare => 60,
        ProviderKind::DigitalOcean | ProviderKind::Linode => 30,
        ProviderKind::Vultr => 1,
        ProviderKind::Vercel => 60,
    }
}

/// The TTLs `provider` keeps exactly as given, when it keeps only some; `None` when every TTL
/// from [`ttl_minimum`] up is kept.
///
/// - Linode: the API reference's `ttl_sec` lists the valid values (300 … 2419200, with 30 and
///   120 added by `linode/linode-api-docs` PR #927) and rounds any other value to one of them, so
///   another TTL would read back changed and drift forever: the config validator refuses it.
pub fn ttl_values(provider: ProviderKind) -> Option<&'static [i64]> {
    match provider {
        ProviderKind::Linode => Some(&[
            30, 120, 300, 3600, 7200, 14_400, 28_800, 57_600, 86_400, 172_800, 345_600, 604_800,
            1_209_600, 2_419_200,
        ]),
        ProviderKind::DigitalOcean
        | ProviderKind::Vultr
        | ProviderKind::Vercel
        | ProviderKind::Cloudflare => None,
    }
}

/// The TTL that means "automatic" at providers that have one (Cloudflare: `ttl = 1`, [cf-spec]
/// `dns-records_ttl` "Setting to 1 means 'automatic'"): written `ttl = 1` in `stackdock.toml`
/// or left out (Cloudflare's default is automatic), and stored as no TTL (`null`,
/// provider-apis-2.md §12.3), like every provider's default.
pub const AUTOMATIC_TTL: i64 = 1;

/// Whether `provider` has an automatic TTL written [`AUTOMATIC_TTL`].
pub fn automatic_ttl(provider: ProviderKind) -> bool {
    provider == ProviderKind::Cloudflare
}

/// The largest TTL `provider` takes, when it has a limit below RFC 2181's (Cloudflare: 86400,
/// [cf-spec] `dns-records_ttl` `maximum`).
pub fn ttl_maximum(provider: ProviderKind) -> Option<i64> {
    (provider == ProviderKind::Cloudflare).then_some(86_400)
}

/// Whether `provider` can proxy records through its network (the `proxied` record key:
/// Cloudflare only, [cf-spec] `dns-records_proxied`), and the types it proxies.
pub fn proxies(provider: ProviderKind) -> bool {
    provider == ProviderKind::Cloudflare
}

/// Whether `provider` keeps a CAA record's flags; Linode has no flags field (provider-apis-2.md
/// §11: `tag` and `target` only), so its CAA records read back with flags 0.
pub fn caa_flags(provider: ProviderKind) -> bool {
    !matches!(provider, ProviderKind::Linode)
}

/// Whether `provider` can name an SRV record `fqdn` in `zone`: Linode builds an SRV record's name
/// from its `service` and `protocol` alone (`_sip._tcp`), so nothing may follow them.
pub fn srv_name_kept(provider: ProviderKind, zone: &str, fqdn: &str) -> bool {
    if provider != ProviderKind::Linode {
        return true;
    }
    let relative = fqdn.strip_suffix(&format!(".{zone}")).unwrap_or_default();
    let labels: Vec<&str> = relative.split('.').collect();
    labels.len() == 2
        && labels
            .iter()
            .all(|l| l.len() > 1 && l.starts_with('_') && !l[1..].contains('_'))
}

/// Whether the record key `key` (`priority`, `weight`, `port`, `flags`, `tag`; `value` and `ttl`
/// apply to every type) is one a `record_type` record has.
pub fn key_applies(key: &str, record_type: &str) -> bool {
    crate::config::keys::RECORD_TYPE_KEYS
        .iter()
        .find(|(k, _, _)| *k == key)
        .is_none_or(|(_, types, _)| types.contains(&record_type))
}

/// Types whose value is a host name (compared lowercase, without the trailing dot).
pub fn has_target(record_type: &str) -> bool {
    matches!(record_type, "CNAME" | "MX" | "NS" | "SRV" | "PTR")
}

/// A record's identity, `<fqdn> <TYPE> <value>`: the name of its `stackdock.toml` entry and of
/// its `domainRecords` row, so the planner matches a declared record to a listed one by
/// (fqdn, type, value) through the same look-up as every other kind's names. A value that follows
/// a server is written `servers.<name>` in the entry and the address itself in the row.
pub fn identity(fqdn: &str, record_type: &str, value: &str) -> String {
    format!("{fqdn} {record_type} {value}")
}

/// The longest character-string of one TXT string (RFC 1035 §3.3: a length octet).
pub const TXT_STRING_MAX: usize = 255;

/// Why `zone` is not a valid lowercase domain name, or `None` if it is.
pub fn zone_name_error(zone: &str) -> Option<&'static str> {
    if zone.ends_with('.') {
        return Some("write the zone without the trailing dot");
    }
    if zone.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("write the zone in lowercase");
    }
    let labels: Vec<&str> = zone.split('.').collect();
    if zone.len() > 253 || labels.len() < 2 {
        return Some("a zone is a domain of at least two labels");
    }
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return Some(
            "each label is 1 to 63 characters among `a-z`, `0-9` and `-`, not starting or ending with `-`",
        );
    }
    None
}

/// The fully qualified name (lowercase, no trailing dot) of `name` in `zone`.
///
/// Accepts every shape the providers document: `@`, `""` and the zone name itself for the apex;
/// relative names (`www`); absolute names with or without the trailing dot (`www.example.com.`,
/// `www.example.com`). A name without the trailing dot that already ends in the zone is taken as
/// absolute: no provider returns the zone repeated (`www.example.com.example.com`).
pub fn fqdn(zone: &str, name: &str) -> String {
    let zone = zone.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || name == "@" {
        return zone;
    }
    if let Some(absolute) = name.strip_suffix('.') {
        return absolute.to_owned();
    }
    if name == zone || name.ends_with(&format!(".{zone}")) {
        return name;
    }
    format!("{name}.{zone}")
}

/// A host name target (CNAME, MX, NS, SRV, PTR) in canonical form: lowercase, no trailing dot,
/// `@` as the zone. Targets are absolute with or without the dot (Vultr and Linode return them
/// without; DigitalOcean takes `@` for the apex).
pub fn target(zone: &str, value: &str) -> String {
    let value = value.trim();
    if value == "@" {
        return zone.trim_end_matches('.').to_ascii_lowercase();
    }
    value.trim_end_matches('.').to_ascii_lowercase()
}

/// The strings of a TXT value: `"a" "b"` (quoted, as zone files and some APIs show it) or a bare
/// value (one string). Escaped quotes and backslashes inside quotes are unescaped.
pub fn txt_strings(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    if !trimmed.starts_with('"') {
        return vec![value.to_owned()];
    }
    let mut strings = Vec::new();
    let mut chars = trimmed.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        s.push(escaped);
                    }
                }
                '"' => break,
                other => s.push(other),
            }
        }
        strings.push(s);
    }
    strings
}

/// One record as a provider lists it, field by field, before normalisation. The adapter fills
/// it from its wire struct (DigitalOcean `name`/`data`/`ttl`, Vultr `name`/`data`/`ttl`, Linode
/// `name`/`target`/`ttl_sec`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderRecord<'a> {
    /// The zone's name as the provider gives it.
    pub zone: &'a str,
    pub name: &'a str,
    pub record_type: &'a str,
    /// `data` / `target` / `content`.
    pub value: &'a str,
    pub ttl: Option<i64>,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub port: Option<i64>,
    pub flags: Option<i64>,
    pub tag: Option<&'a str>,
}

/// A record in canonical form: what `domainRecords` stores and what the planner compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalRecord {
    /// The zone, lowercase without the trailing dot.
    pub zone: String,
    /// Lowercase, without the trailing dot.
    pub fqdn: String,
    /// Upper case.
    #[serde(rename = "type")]
    pub record_type: String,
    /// Addresses in `std::net` form; host names lowercase without the dot; TXT strings joined
    /// (providers split long values at different places, the resolver joins them).
    pub value: String,
    /// `None`: the provider's default (absent or 0 at the provider).
    pub ttl: Option<i64>,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub port: Option<i64>,
    pub flags: Option<i64>,
    pub tag: Option<String>,
}

/// Normalises one provider record.
///
/// # Errors
/// An A or AAAA value that is not an address of that family: the provider sent something its
/// type does not allow, and the adapter reports it rather than store a value nothing matches.
pub fn normalize(raw: &ProviderRecord<'_>) -> Result<CanonicalRecord, String> {
    let zone = raw.zone.trim_end_matches('.').to_ascii_lowercase();
    let record_type = raw.record_type.trim().to_ascii_uppercase();
    let mut flags = raw.flags;
    let mut tag = raw.tag.map(|t| t.to_ascii_lowercase());
    let value = match record_type.as_str() {
        "A" => raw
            .value
            .trim()
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("A record value `{}` is not an IPv4 address", raw.value))?,
        "AAAA" => raw
            .value
            .trim()
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("AAAA record value `{}` is not an IPv6 address", raw.value))?,
        "TXT" => txt_strings(raw.value).concat(),
        "CAA" => {
            // Linode and DigitalOcean give `tag` (and DigitalOcean `flags`) beside the value;
            // a zone-file shape puts all three in the value: `0 issue "letsencrypt.org"`.
            let parts: Vec<&str> = raw.value.trim().splitn(3, ' ').collect();
            match (tag.as_deref(), parts.as_slice()) {
                (None, [f, t, v]) if f.parse::<i64>().is_ok() => {
                    flags = f.parse().ok();
                    tag = Some(t.to_ascii_lowercase());
                    v.trim_matches('"').to_owned()
                }
                _ => raw.value.trim().trim_matches('"').to_owned(),
            }
        }
        t if has_target(t) => target(&zone, raw.value),
        _ => raw.value.trim().to_owned(),
    };
    if record_type == "CAA" && flags.is_none() {
        // CAA flags default to 0 (RFC 8659); Linode has no flags field.
        flags = Some(0);
    }
    Ok(CanonicalRecord {
        fqdn: fqdn(&zone, raw.name),
        zone,
        record_type,
        value,
        ttl: raw.ttl.filter(|t| *t > 0),
        priority: raw.priority,
        weight: raw.weight,
        port: raw.port,
        flags,
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec<'a>(zone: &'a str, name: &'a str, t: &'a str, value: &'a str) -> ProviderRecord<'a> {
        ProviderRecord {
            zone,
            name,
            record_type: t,
            value,
            ..ProviderRecord::default()
        }
    }

    /// (input, fqdn, type, value, ttl).
    type Case<'a> = (ProviderRecord<'a>, &'a str, &'a str, &'a str, Option<i64>);

    #[test]
    fn provider_shapes_normalise_to_one_form() {
        let ttl = |mut r: ProviderRecord<'static>, t: Option<i64>| {
            r.ttl = t;
            r
        };
        let long = format!("\"{}\" \"{}\"", "a".repeat(255), "b".repeat(10));
        let joined = format!("{}{}", "a".repeat(255), "b".repeat(10));
        let long: &'static str = Box::leak(long.into_boxed_str());
        let joined: &'static str = Box::leak(joined.into_boxed_str());
        let cases: Vec<Case<'static>> = vec![
            // DigitalOcean (§9.2): relative names, `@` = apex, `data`, `ttl` in seconds.
            (
                rec("example.com", "@", "A", "203.0.113.10"),
                "example.com",
                "A",
                "203.0.113.10",
                None,
            ),
            (
                rec("example.com", "www", "A", "203.0.113.10"),
                "www.example.com",
                "A",
                "203.0.113.10",
                None,
            ),
            (
                ttl(rec("example.com", "@", "A", "203.0.113.10"), Some(1800)),
                "example.com",
                "A",
                "203.0.113.10",
                Some(1800),
            ),
            (
                rec("example.com", "www", "CNAME", "@"),
                "www.example.com",
                "CNAME",
                "example.com",
                None,
            ),
            (
                rec("example.com", "www", "CNAME", "Web.Example.NET."),
                "www.example.com",
                "CNAME",
                "web.example.net",
                None,
            ),
            (
                rec("example.com", "@", "MX", "mail.example.com."),
                "example.com",
                "MX",
                "mail.example.com",
                None,
            ),
            (
                rec("example.com", "@", "NS", "ns1.digitalocean.com"),
                "example.com",
                "NS",
                "ns1.digitalocean.com",
                None,
            ),
            (
                rec("example.com", "_sip._tcp", "SRV", "sip.example.com."),
                "_sip._tcp.example.com",
                "SRV",
                "sip.example.com",
                None,
            ),
            (
                rec("example.com", "@", "TXT", "v=spf1 -all"),
                "example.com",
                "TXT",
                "v=spf1 -all",
                None,
            ),
            (
                rec("Example.COM.", "WWW", "a", "203.0.113.10"),
                "www.example.com",
                "A",
                "203.0.113.10",
                None,
            ),
            // Vultr (§10): relative names, `""` = apex, `data`, optional `ttl`.
            (
                rec("example.com", "", "A", "203.0.113.11"),
                "example.com",
                "A",
                "203.0.113.11",
                None,
            ),
            (
                rec("example.com", "api", "AAAA", "2001:DB8:0:0:0:0:0:1"),
                "api.example.com",
                "AAAA",
                "2001:db8::1",
                None,
            ),
            (
                ttl(rec("example.com", "", "MX", "mail.example.com"), Some(300)),
                "example.com",
                "MX",
                "mail.example.com",
                Some(300),
            ),
            (
                rec("example.com", "*.api", "CNAME", "lb.example.net"),
                "*.api.example.com",
                "CNAME",
                "lb.example.net",
                None,
            ),
            (
                rec("example.com", "_dmarc", "TXT", "\"v=DMARC1; p=none\""),
                "_dmarc.example.com",
                "TXT",
                "v=DMARC1; p=none",
                None,
            ),
            (
                rec("example.com", "", "caa", "0 issue \"letsencrypt.org\""),
                "example.com",
                "CAA",
                "letsencrypt.org",
                None,
            ),
            (
                ttl(rec("example.com", "www", "A", "203.0.113.11"), None),
                "www.example.com",
                "A",
                "203.0.113.11",
                None,
            ),
            // Linode (§11): relative names, `""` = apex, `target`, `ttl_sec` 0 = default.
            (
                ttl(rec("example.com", "", "A", "203.0.113.12"), Some(0)),
                "example.com",
                "A",
                "203.0.113.12",
                None,
            ),
            (
                ttl(
                    rec("example.com", "www", "CNAME", "example.com"),
                    Some(3600),
                ),
                "www.example.com",
                "CNAME",
                "example.com",
                Some(3600),
            ),
            (
                rec("example.com", "mail", "MX", "MX1.Example.com"),
                "mail.example.com",
                "MX",
                "mx1.example.com",
                None,
            ),
            (
                rec("example.com", "sub", "NS", "ns1.linode.com"),
                "sub.example.com",
                "NS",
                "ns1.linode.com",
                None,
            ),
            (
                rec("example.com", "", "TXT", long),
                "example.com",
                "TXT",
                joined,
                None,
            ),
            (
                rec("example.com", "x", "TXT", "\"say \\\"hi\\\"\""),
                "x.example.com",
                "TXT",
                "say \"hi\"",
                None,
            ),
            (
                rec("example.com", "10", "PTR", "host.example.com"),
                "10.example.com",
                "PTR",
                "host.example.com",
                None,
            ),
            // Absolute names (Cloudflare-style FQDN, with or without the dot) and the zone name
            // as the apex, as design.md §12.3 lists for the providers that follow.
            (
                rec("example.com", "www.example.com", "A", "203.0.113.13"),
                "www.example.com",
                "A",
                "203.0.113.13",
                None,
            ),
            (
                rec("example.com", "www.example.com.", "A", "203.0.113.13"),
                "www.example.com",
                "A",
                "203.0.113.13",
                None,
            ),
            (
                rec("example.com", "example.com", "A", "203.0.113.13"),
                "example.com",
                "A",
                "203.0.113.13",
                None,
            ),
            (
                rec("example.com", "EXAMPLE.com.", "txt", "x"),
                "example.com",
                "TXT",
                "x",
                None,
            ),
        ];
        assert!(cases.len() >= 25);
        for (raw, fqdn, t, value, ttl) in &cases {
            let got = normalize(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(
                (
                    got.fqdn.as_str(),
                    got.record_type.as_str(),
                    got.value.as_str(),
                    got.ttl
                ),
                (*fqdn, *t, *value, *ttl),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn structured_fields_survive_and_caa_gets_its_parts() {
        let digitalocean = ProviderRecord {
            tag: Some("issue"),
            flags: Some(0),
            ..rec("example.com", "@", "CAA", "letsencrypt.org")
        };
        let linode = ProviderRecord {
            tag: Some("issue"),
            ..rec("example.com", "", "CAA", "letsencrypt.org")
        };
        let vultr = rec("example.com", "", "CAA", "0 issue \"letsencrypt.org\"");
        let [d, l, v] = [digitalocean, linode, vultr].map(|r| normalize(&r).expect("caa"));
        assert_eq!(d, l);
        assert_eq!(l, v);
        assert_eq!((v.flags, v.tag.as_deref()), (Some(0), Some("issue")));

        let srv = ProviderRecord {
            priority: Some(10),
            weight: Some(5),
            port: Some(5060),
            ..rec("example.com", "_sip._tcp", "SRV", "sip.example.com.")
        };
        let n = normalize(&srv).expect("srv");
        assert_eq!(
            (n.priority, n.weight, n.port),
            (Some(10), Some(5), Some(5060))
        );
    }

    #[test]
    fn addresses_of_the_wrong_family_are_refused() {
        assert!(normalize(&rec("example.com", "@", "A", "2001:db8::1")).is_err());
        assert!(normalize(&rec("example.com", "@", "AAAA", "203.0.113.1")).is_err());
        assert!(normalize(&rec("example.com", "@", "A", "web-1")).is_err());
    }

    #[test]
    fn zone_names_are_lowercase_domains() {
        for ok in ["example.com", "a-b.example.co.uk", "xn--bcher-kva.example"] {
            assert_eq!(zone_name_error(ok), None, "{ok}");
        }
        for bad in [
            "Example.com",
            "example.com.",
            "localhost",
            "-a.com",
            "a_b.com",
            "a..com",
        ] {
            assert!(zone_name_error(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn every_provider_type_is_a_declarable_type() {
        for p in ProviderKind::ALL {
            for t in record_types(p) {
                assert!(RECORD_TYPES.contains(t), "{p} {t}");
            }
            assert!(ttl_minimum(p) >= 1);
        }
    }
}
