//! The DNS part of the file, read and checked end to end.

use crate::config::parse;
use crate::{FieldValue, Kind};

const ZONES: &str = include_str!("../../../../../fixtures/config/valid/dns-zones.toml");

#[test]
fn zones_and_records_become_entries_in_canonical_form() {
    let config = parse("dns-zones.toml", ZONES).unwrap_or_else(|d| panic!("{d}"));
    let zones: Vec<(&str, &str, bool)> = config
        .resources
        .iter()
        .filter(|r| r.kind == Kind::Domains)
        .map(|r| (r.name.as_str(), r.dock.as_str(), r.protect))
        .collect();
    assert_eq!(
        zones,
        [
            ("example.com", "do-main", true),
            ("example.net", "vultr-main", false),
            ("example.org", "linode-main", false),
        ]
    );
    let records: Vec<&str> = config
        .resources
        .iter()
        .filter(|r| r.kind == Kind::DomainRecords)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(records.len(), 11, "{records:?}");
    for name in [
        "example.com A servers.web-1",
        "www.example.com A servers.web-1",
        "example.com MX mail.example.com",
        "api.example.net AAAA 2001:db8::10",
        "api.example.net AAAA 2001:db8::11",
        "www.example.org CNAME example.org",
        "10.example.org PTR host.example.org",
    ] {
        assert!(records.contains(&name), "{name} in {records:?}");
    }
    let apex = config
        .resource("domain_records.example.com A servers.web-1")
        .expect("apex A");
    assert_eq!(apex.str_field("server"), Some("web-1"));
    assert_eq!(
        apex.field("value"),
        None,
        "resolved when applied, not written"
    );
    assert_eq!(apex.field("ttl"), Some(&FieldValue::Int(300)));
    assert!(apex.protect, "records share their zone's protection");
    let dkim = config
        .resources
        .iter()
        .find(|r| r.str_field("fqdn") == Some("mail._domainkey.example.com"))
        .expect("dkim");
    let value = dkim.str_field("value").unwrap_or_default();
    assert!(value.len() > 255 && value.starts_with("v=DKIM1;") && value.ends_with("IDAQAB"));
    let srv = config
        .resources
        .iter()
        .find(|r| r.str_field("type") == Some("SRV"))
        .expect("srv");
    assert_eq!(
        ["priority", "weight", "port"].map(|k| srv.field(k).and_then(FieldValue::as_int)),
        [Some(10), Some(5), Some(5060)]
    );
}

#[test]
fn a_zone_of_five_thousand_records_parses_and_a_repeat_is_found_among_them() {
    let mut source = String::from(
        "[stackdock]\norg = \"acme\"\n[docks.d]\nprovider = \"linode\"\ncredentials = { env = \"T\" }\n[domains.\"example.com\"]\ndock = \"d\"\n",
    );
    for i in 0..5_000 {
        source.push_str(&format!(
            "[[domains.\"example.com\".records]]\nname = \"h{i}\"\ntype = \"A\"\nvalue = \"10.0.{}.{}\"\n",
            i / 256,
            i % 256
        ));
    }
    let config = parse("t.toml", &source).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(config.resources.len(), 5_001);
    source.push_str(
        "[[domains.\"example.com\".records]]\nname = \"h42.example.com.\"\ntype = \"A\"\nvalue = \"10.0.0.42\"\n",
    );
    let Err(d) = parse("t.toml", &source) else {
        panic!("a repeated record parsed");
    };
    assert_eq!(d.len(), 1, "{d}");
    assert!(
        d.to_string()
            .contains("record 5001 of zone `example.com` repeats record 43"),
        "{d}"
    );
}

#[test]
fn records_are_checked_against_the_zones_provider() {
    let file = |dock: &str, record: &str| {
        format!(
            "[stackdock]\norg = \"acme\"\n[docks.d]\nprovider = \"{dock}\"\ncredentials = {{ env = \"T\" }}\n[domains.\"example.com\"]\ndock = \"d\"\n[[domains.\"example.com\".records]]\n{record}\n"
        )
    };
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "linode",
            "name = \"1\"\ntype = \"PTR\"\nvalue = \"h.example.com.\"",
            None,
        ),
        (
            "vultr",
            "name = \"1\"\ntype = \"PTR\"\nvalue = \"h.example.com.\"",
            Some("vultr DNS does not host PTR records"),
        ),
        (
            "vultr",
            "name = \"a\"\ntype = \"A\"\nvalue = \"203.0.113.1\"\nttl = 1",
            None,
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"A\"\nvalue = \"203.0.113.1\"\nttl = 29",
            Some("below linode's minimum of 30 seconds"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"TXT\"\nvalue = [\"x\", 1]",
            Some("must be an array of strings"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"A\"\nvalue = { host = \"web\" }",
            Some("must be `{ server = \"<name>\" }`"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"CNAME\"\nvalue = { server = \"web\" }",
            Some("only A and AAAA values may follow a server"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"MX\"\nvalue = \"m.example.com\"\npriority = 70000",
            Some("outside 0 to 65535"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"MX\"\nvalue = \"m.example.com\"\npriority = 0",
            None,
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"A\"\nvalue = \"203.0.113.1\"\nttl = 3000000000",
            Some("outside 1 to 2147483647"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"TXT\"\nvalue = '\"abc\" \"def\"'",
            None,
        ),
        (
            "linode",
            "name = \"@\"\ntype = \"CAA\"\nvalue = \"ca.example\"\ntag = \"issues\"",
            Some("unknown CAA tag `issues`"),
        ),
        (
            "linode",
            "name = \"*.api\"\ntype = \"A\"\nvalue = \"203.0.113.1\"",
            None,
        ),
        (
            "linode",
            "name = \"api.*\"\ntype = \"A\"\nvalue = \"203.0.113.1\"",
            Some("is not a valid record name"),
        ),
        (
            "linode",
            "type = \"A\"\nvalue = \"203.0.113.1\"",
            Some("missing the required key `name`"),
        ),
        (
            "linode",
            "name = \"a\"\ntype = \"A\"\nvalue = \"203.0.113.1\"\ncolour = 1",
            Some("unknown key `colour`"),
        ),
    ];
    for (dock, record, expected) in cases {
        let source = file(dock, record);
        let found = match parse("t.toml", &source) {
            Ok(_) => None,
            Err(d) => Some(d.to_string()),
        };
        match (expected, &found) {
            (None, None) => {}
            (Some(e), Some(f)) if f.contains(e) => {}
            _ => panic!("{dock} {record:?}: expected {expected:?}, got {found:?}"),
        }
    }
}
