//! The checks of the DNS part of `stackdock.toml` ([`super`] reads it): every zone against its
//! dock's provider (record types, TTL floor and ceiling, the keys each type takes) and the rest of
//! the file (`value = { server = "…" }` naming a `[servers.*]` entry), each valid zone and record
//! turned into a desired resource.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::config::keys::{CAA_TAGS, RECORD_INT_RANGES, RECORD_KEYS, RECORD_TYPE_KEYS};
use crate::config::parse::{At, DockDraft, ResourceDraft, Walker};
use crate::config::validate::did_you_mean;
use crate::config::{DesiredResource, address};
use crate::dns::{
    AUTOMATIC_TTL, RECORD_TYPES, TXT_STRING_MAX, automatic_ttl, caa_flags, has_target, identity,
    proxies, record_types, srv_name_kept, target, ttl_maximum, ttl_minimum, ttl_values,
    txt_strings,
};
use crate::{FieldValue, Kind, ProviderKind};

use super::{RecordDraft, ValueDraft, ZoneDraft};

impl Walker<'_, '_> {
    /// Checks every zone against its dock and the file's servers, and turns the valid ones into
    /// desired resources: the zone (`domains.<zone>`) and one `domain_records` entry per record.
    pub(in crate::config) fn dns_check(
        &mut self,
        docks: &BTreeMap<String, DockDraft>,
        resources: &[ResourceDraft],
        zones: &[ZoneDraft],
    ) -> Vec<DesiredResource> {
        let servers: BTreeSet<&str> = resources
            .iter()
            .filter(|r| r.kind == Kind::Servers)
            .map(|r| r.name.as_str())
            .collect();
        let mut out = Vec::new();
        for zone in zones {
            let Some(dock_at) = &zone.dock else { continue };
            let provider = match docks.get(&dock_at.value) {
                Some(d) => d.provider,
                None => {
                    self.report.error(
                        dock_at.span.clone(),
                        format!(
                            "`{}` names unknown dock `{}`",
                            address(Kind::Domains, &zone.name),
                            dock_at.value
                        ),
                        did_you_mean(
                            &dock_at.value,
                            docks.keys().map(String::as_str),
                            "declared docks",
                        ),
                    );
                    None
                }
            };
            let zone_name = &zone.name;
            out.push(DesiredResource {
                kind: Kind::Domains,
                name: zone_name.as_str().into(),
                dock: dock_at.value.as_str().into(),
                protect: zone.protect,
                id: None,
                ignore_changes: BTreeSet::new(),
                allow_replace: false,
                fields: crate::VecMap::new(),
            });
            // Each record checked so far: its record number by (fqdn, type, value key), and the
            // (type, number) of the records of each name. Maps, not scans: a zone may hold
            // thousands of records.
            let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
            let mut by_name: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
            for record in &zone.records {
                let Some(checked) = self.record(zone_name, provider, &servers, record) else {
                    continue;
                };
                let key = (
                    checked.fqdn.clone(),
                    checked.record_type.clone(),
                    checked.key.clone(),
                );
                if let Some(first) = seen.get(&key) {
                    self.report.error(
                        record.span.clone(),
                        format!(
                            "{} repeats record {first}: `{} {} {}`",
                            record.what(zone_name),
                            checked.fqdn,
                            checked.record_type,
                            checked.key
                        ),
                        "a record is its name, type and value together: remove one of them",
                    );
                    continue;
                }
                seen.insert(key, record.number);
                by_name
                    .entry(checked.fqdn.clone())
                    .or_default()
                    .push((checked.record_type.clone(), record.number));
                out.push(DesiredResource {
                    kind: Kind::DomainRecords,
                    name: identity(&checked.fqdn, &checked.record_type, &checked.key).into(),
                    dock: dock_at.value.as_str().into(),
                    protect: zone.protect,
                    id: None,
                    ignore_changes: BTreeSet::new(),
                    allow_replace: false,
                    fields: checked.fields,
                });
            }
            self.cname_alone(zone, &by_name);
        }
        out
    }

    /// A CNAME owns its name: no other record (another CNAME included) may share it.
    fn cname_alone(&mut self, zone: &ZoneDraft, by_name: &BTreeMap<String, Vec<(String, usize)>>) {
        for (fqdn, records) in by_name {
            if records.len() < 2 {
                continue;
            }
            for (t, number) in records {
                if t != "CNAME" {
                    continue;
                }
                let others: Vec<String> = records
                    .iter()
                    .filter(|(_, n)| n != number)
                    .map(|(t, n)| format!("record {n} ({t})"))
                    .collect();
                let Some(record) = zone.records.iter().find(|r| r.number == *number) else {
                    continue;
                };
                let span = record
                    .record_type
                    .as_ref()
                    .map_or(record.span.clone(), |t| t.span.clone());
                self.report.error(
                    span,
                    format!(
                        "the CNAME of {} at `{fqdn}` has other records beside it: {}",
                        record.what(&zone.name),
                        others.join(", ")
                    ),
                    "a name with a CNAME holds no other record (RFC 1034 §3.6.2): give the CNAME its own name, or replace it by the records it points to",
                );
            }
        }
    }

    /// Checks one record; `None` when it has a mistake (reported) or is incomplete.
    fn record(
        &mut self,
        zone: &str,
        provider: Option<ProviderKind>,
        servers: &BTreeSet<&str>,
        record: &RecordDraft,
    ) -> Option<CheckedRecord> {
        let what = record.what(zone);
        let type_at = record.record_type.as_ref()?;
        let record_type = type_at.value.as_str();
        if !RECORD_TYPES.contains(&record_type) {
            let upper = record_type.to_ascii_uppercase();
            let help = if upper == "SOA" {
                "the provider keeps the zone's SOA record itself: remove it".to_owned()
            } else if RECORD_TYPES.contains(&upper.as_str()) {
                format!("record types are written in upper case: `type = \"{upper}\"`")
            } else {
                format!(
                    "record types StackDock declares: {}",
                    RECORD_TYPES.map(|t| format!("`{t}`")).join(", ")
                )
            };
            self.report.error(
                type_at.span.clone(),
                format!("unknown record type `{record_type}` in {what}"),
                help,
            );
            return None;
        }
        let mut ok = true;
        if let Some(p) = provider
            && !record_types(p).contains(&record_type)
        {
            let hosts: Vec<String> = ProviderKind::ALL
                .into_iter()
                .filter(|o| record_types(*o).contains(&record_type))
                .map(|o| format!("`{o}`"))
                .collect();
            self.report.error(
                type_at.span.clone(),
                format!("{p} DNS does not host {record_type} records ({what})"),
                format!(
                    "{p} hosts {}; remove the record or put the zone on a dock of {}",
                    record_types(p).join(", "),
                    hosts.join(" or ")
                ),
            );
            ok = false;
        }
        let fqdn = record
            .name
            .as_ref()
            .and_then(|n| self.record_name(zone, n, &what));
        if let (Some(fqdn), Some(n)) = (&fqdn, &record.name)
            && fqdn == zone
        {
            match record_type {
                "CNAME" => {
                    self.report.error(
                        n.span.clone(),
                        format!("{what} puts a CNAME at the zone's apex `{zone}`"),
                        "the apex holds the zone's SOA and NS records, which a CNAME may not share: use A/AAAA records here (`value = { server = \"web-1\" }`), or put the CNAME on a name such as `www`",
                    );
                    ok = false;
                }
                "NS" => {
                    self.report.error(
                        n.span.clone(),
                        format!("{what} declares an NS record at the zone's apex `{zone}`"),
                        "the provider manages the apex NS records: remove it; NS records here delegate a subdomain (`name = \"sub\"`)",
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        ok &= self.type_keys(record, record_type, &what);
        let ttl = record.ints.get("ttl");
        if let (Some(ttl), Some(p)) = (ttl, provider)
            && !(automatic_ttl(p) && ttl.value == AUTOMATIC_TTL)
        {
            let min = ttl_minimum(p);
            let auto = if automatic_ttl(p) {
                format!(", `ttl = {AUTOMATIC_TTL}` for automatic")
            } else {
                String::new()
            };
            if ttl.value < min {
                self.report.error(
                    ttl.span.clone(),
                    format!(
                        "`ttl` of {what} is {}, below {p}'s minimum of {min} seconds",
                        ttl.value
                    ),
                    format!("use `ttl = {min}` or more{auto}, or remove `ttl` for {p}'s default"),
                );
                ok = false;
            } else if let Some(max) = ttl_maximum(p).filter(|max| ttl.value > *max) {
                self.report.error(
                    ttl.span.clone(),
                    format!(
                        "`ttl` of {what} is {}, above {p}'s maximum of {max} seconds",
                        ttl.value
                    ),
                    format!("use `ttl = {max}` or less{auto}"),
                );
                ok = false;
            }
        }
        if let Some(p) = provider {
            ok &= self.provider_keys(record, p, &what);
            if let (Some(fqdn), Some(name)) = (&fqdn, &record.name)
                && record_type == "SRV"
                && !srv_name_kept(p, zone, fqdn)
            {
                self.report.error(
                    name.span.clone(),
                    format!("name `{}` of {what} is not one {p} gives an SRV record", name.value),
                    format!("{p} names an SRV record by its service and protocol only: write `name = \"_<service>._<protocol>\"` (`_sip._tcp`)"),
                );
                ok = false;
            }
        }
        let (key, value_field) =
            self.record_value_check(zone, record, record_type, servers, &what)?;
        let fqdn = fqdn?;
        if !ok {
            return None;
        }
        let mut fields = crate::VecMap::new();
        fields.insert("zone".into(), FieldValue::Str(zone.into()));
        fields.insert("fqdn".into(), FieldValue::Str(fqdn.as_str().into()));
        fields.insert("type".into(), FieldValue::Str(record_type.into()));
        fields.insert(value_field.0.into(), FieldValue::Str(value_field.1.into()));
        for (k, at) in &record.ints {
            // An automatic TTL is stored as none, as the provider's default is.
            let automatic =
                *k == "ttl" && at.value == AUTOMATIC_TTL && provider.is_some_and(automatic_ttl);
            if !automatic {
                fields.insert((*k).into(), FieldValue::Int(at.value));
            }
        }
        if let Some(proxied) = &record.proxied {
            fields.insert("proxied".into(), FieldValue::Bool(proxied.value));
        }
        if let Some(tag) = &record.tag {
            fields.insert("tag".into(), FieldValue::Str(tag.value.as_str().into()));
        }
        Some(CheckedRecord {
            fqdn,
            record_type: record_type.to_owned(),
            key,
            fields,
        })
    }

    /// What `provider` keeps of the record's numbers: a TTL it would round (Linode), CAA flags it
    /// has no field for (Linode). Returns whether all is well.
    fn provider_keys(&mut self, record: &RecordDraft, p: ProviderKind, what: &str) -> bool {
        let mut ok = true;
        if let (Some(ttl), Some(kept)) = (record.ints.get("ttl"), ttl_values(p))
            && ttl.value >= ttl_minimum(p)
            && !kept.contains(&ttl.value)
        {
            let up = kept
                .iter()
                .find(|t| **t >= ttl.value)
                .unwrap_or(&kept[kept.len() - 1]);
            let list: Vec<String> = kept.iter().map(ToString::to_string).collect();
            self.report.error(
                ttl.span.clone(),
                format!(
                    "`ttl` of {what} is {}, which {p} does not keep: it would round it up to {up}",
                    ttl.value
                ),
                format!(
                    "use one of {}, or remove `ttl` for {p}'s default",
                    list.join(", ")
                ),
            );
            ok = false;
        }
        if let Some(flags) = record.ints.get("flags")
            && flags.value != 0
            && !caa_flags(p)
        {
            self.report.error(
                flags.span.clone(),
                format!(
                    "`flags` of {what} is {}, but {p} keeps no CAA flags",
                    flags.value
                ),
                format!("remove `flags` (or set `flags = 0`): {p} CAA records always have flags 0"),
            );
            ok = false;
        }
        if let Some(proxied) = &record.proxied {
            if !proxies(p) {
                let hosts: Vec<String> = ProviderKind::ALL
                    .into_iter()
                    .filter(|o| proxies(*o))
                    .map(|o| format!("`{o}`"))
                    .collect();
                self.report.error(
                    proxied.key.clone(),
                    format!("`proxied` of {what} is a Cloudflare key, but {p} proxies no records"),
                    format!(
                        "remove `proxied`, or put the zone on a dock of {}",
                        hosts.join(" or ")
                    ),
                );
                ok = false;
            } else if let Some(ttl) = record.ints.get("ttl")
                && proxied.value
                && !(automatic_ttl(p) && ttl.value == AUTOMATIC_TTL)
            {
                self.report.error(
                    ttl.span.clone(),
                    format!(
                        "`ttl` of {what} is {}, but the record is proxied, whose TTL {p} keeps automatic",
                        ttl.value
                    ),
                    "remove `ttl` (or set `proxied = false` to keep the TTL)",
                );
                ok = false;
            }
        }
        ok
    }

    /// The record's fully qualified name, or `None` with the mistake reported.
    fn record_name(&mut self, zone: &str, name: &At<String>, what: &str) -> Option<String> {
        let n = name.value.as_str();
        if n == "@" {
            return Some(zone.to_owned());
        }
        let suffix = format!(".{zone}");
        let fqdn = if let Some(absolute) = n.strip_suffix('.') {
            if absolute != zone && !absolute.ends_with(&suffix) {
                self.report.error(
                    name.span.clone(),
                    format!("name `{n}` of {what} is outside the zone `{zone}`"),
                    format!(
                        "a record belongs to its zone: write a name relative to it (`www`), an absolute name ending in `.{zone}.`, or declare the zone of `{absolute}`"
                    ),
                );
                return None;
            }
            absolute.to_owned()
        } else if n == zone || n.ends_with(&suffix) {
            let relative = n.strip_suffix(&suffix).unwrap_or("@");
            self.report.error(
                name.span.clone(),
                format!(
                    "name `{n}` of {what} repeats the zone: names are relative, so this is `{n}.{zone}`, outside the zone you meant"
                ),
                format!("write `name = \"{relative}\"`, or the absolute `name = \"{n}.\"` with its trailing dot"),
            );
            return None;
        } else {
            format!("{n}.{zone}")
        };
        let relative = fqdn.strip_suffix(&suffix).unwrap_or_default();
        let labels: Vec<&str> = if relative.is_empty() {
            Vec::new()
        } else {
            relative.split('.').collect()
        };
        let label_ok = |(i, l): (usize, &&str)| {
            (*l == "*" && i == 0)
                || ((1..=63).contains(&l.len())
                    && l.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    }))
        };
        if n.is_empty() || !labels.iter().enumerate().all(label_ok) {
            self.report.error(
                name.span.clone(),
                format!("name `{n}` of {what} is not a valid record name"),
                "write `@` for the apex, or lowercase labels of 1 to 63 characters among `a-z`, `0-9`, `-` and `_` (`*` only as the first label)",
            );
            return None;
        }
        Some(fqdn)
    }

    /// The keys that belong to some types only: present where they do not apply, or missing
    /// where they are required; and their ranges. Returns whether all is well.
    fn type_keys(&mut self, record: &RecordDraft, record_type: &str, what: &str) -> bool {
        let mut ok = true;
        for (key, types, required) in RECORD_TYPE_KEYS {
            let applies = types.contains(&record_type);
            let given = if *key == "tag" {
                record.tag.as_ref().map(|t| t.key.clone())
            } else if *key == "proxied" {
                record.proxied.as_ref().map(|t| t.key.clone())
            } else {
                record.ints.get(key).map(|t| t.key.clone())
            };
            match given {
                Some(span) if !applies => {
                    self.report.error(
                        span,
                        format!(
                            "`{key}` of {what} applies to {} records only",
                            types.join(" and ")
                        ),
                        format!("remove `{key}`: {record_type} records have none"),
                    );
                    ok = false;
                }
                None if applies && *required => {
                    let doc = RECORD_KEYS
                        .iter()
                        .find(|k| k.key == *key)
                        .map_or("", |k| k.doc);
                    let example = match *key {
                        "tag" => "\"issue\"",
                        "weight" => "5",
                        "port" => "5060",
                        _ => "10",
                    };
                    self.report.error(
                        record.span.clone(),
                        format!("{what} ({record_type}) has no `{key}`"),
                        format!("add `{key} = {example}`: {doc}"),
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        for (key, min, max) in RECORD_INT_RANGES {
            // A TTL under the provider's minimum gets the provider's message instead.
            if let Some(at) = record.ints.get(key)
                && !(*min..=*max).contains(&at.value)
                && !(*key == "ttl" && at.value < *min)
            {
                self.report.error(
                    at.span.clone(),
                    format!("`{key}` of {what} is {}, outside {min} to {max}", at.value),
                    format!("use a whole number from {min} to {max}"),
                );
                ok = false;
            }
        }
        if let Some(tag) = &record.tag
            && record_type == "CAA"
            && !CAA_TAGS.contains(&tag.value.as_str())
        {
            self.report.error(
                tag.span.clone(),
                format!("unknown CAA tag `{}` in {what}", tag.value),
                did_you_mean(&tag.value, CAA_TAGS, "CAA tags"),
            );
            ok = false;
        }
        ok
    }

    /// Checks the value against the type; returns the value's identity key (for duplicates and
    /// the entry's name) and the field it is stored under (`value`, or `server` for a reference).
    fn record_value_check(
        &mut self,
        zone: &str,
        record: &RecordDraft,
        record_type: &str,
        servers: &BTreeSet<&str>,
        what: &str,
    ) -> Option<(String, (&'static str, String))> {
        let value = record.value.as_ref()?;
        match &value.value {
            ValueDraft::Server(server) => {
                if !matches!(record_type, "A" | "AAAA") {
                    self.report.error(
                        value.span.clone(),
                        format!("{what} is a {record_type} record: only A and AAAA values may follow a server"),
                        "write the value itself as a string",
                    );
                    return None;
                }
                if !servers.contains(server.value.as_str()) {
                    self.report.error(
                        server.span.clone(),
                        format!(
                            "`value.server` of {what} names `{}`, but there is no `servers.{}`",
                            server.value, server.value
                        ),
                        did_you_mean(&server.value, servers.iter().copied(), "declared servers"),
                    );
                    return None;
                }
                Some((
                    format!("servers.{}", server.value),
                    ("server", server.value.clone()),
                ))
            }
            ValueDraft::Strings(strings) => {
                if record_type != "TXT" {
                    self.report.error(
                        value.span.clone(),
                        format!("`value` of {what} is an array, but only TXT values are split into strings"),
                        "write the value as one string",
                    );
                    return None;
                }
                let mut ok = !strings.is_empty();
                if strings.is_empty() {
                    self.report.error(
                        value.span.clone(),
                        format!("`value` of {what} is an empty array"),
                        "give at least one string",
                    );
                }
                for s in strings {
                    ok &= self.txt_string(s, what);
                }
                let joined: String = strings.iter().map(|s| s.value.as_str()).collect();
                ok.then(|| (joined.clone(), ("value", joined)))
            }
            ValueDraft::Text(text) => {
                let canonical = match record_type {
                    "A" => match text.parse::<Ipv4Addr>() {
                        Ok(a) => a.to_string(),
                        Err(_) => {
                            self.report.error(
                                value.span.clone(),
                                format!("`{text}` in {what} is not an IPv4 address, as an A record needs"),
                                "write an IPv4 address such as `203.0.113.10` (an IPv6 address goes in an AAAA record), or `value = { server = \"<name>\" }` to follow a server",
                            );
                            return None;
                        }
                    },
                    "AAAA" => match text.parse::<Ipv6Addr>() {
                        Ok(a) => a.to_string(),
                        Err(_) => {
                            self.report.error(
                                value.span.clone(),
                                format!("`{text}` in {what} is not an IPv6 address, as an AAAA record needs"),
                                "write an IPv6 address such as `2001:db8::10` (an IPv4 address goes in an A record), or `value = { server = \"<name>\" }` to follow a server",
                            );
                            return None;
                        }
                    },
                    "TXT" => {
                        // Quoted strings (`"a" "b"`) are split as a provider shows them.
                        let strings = txt_strings(text);
                        let mut fits = true;
                        for string in &strings {
                            let at = At {
                                value: string.clone(),
                                key: value.key.clone(),
                                span: value.span.clone(),
                            };
                            fits &= self.txt_string(&at, what);
                        }
                        if !fits {
                            return None;
                        }
                        strings.concat()
                    }
                    t if has_target(t) => {
                        if text.trim().is_empty() {
                            self.report.error(
                                value.span.clone(),
                                format!("`value` of {what} is empty"),
                                "give the host name the record points to",
                            );
                            return None;
                        }
                        target(zone, text)
                    }
                    _ => text.clone(),
                };
                Some((canonical.clone(), ("value", canonical)))
            }
        }
    }

    /// One TXT string: at most 255 characters. Returns whether it fits.
    fn txt_string(&mut self, s: &At<String>, what: &str) -> bool {
        let len = s.value.len();
        if len <= TXT_STRING_MAX {
            return true;
        }
        self.report.error(
            s.span.clone(),
            format!("a TXT string of {what} is {len} characters; one string holds at most {TXT_STRING_MAX}"),
            format!("split it into strings of at most {TXT_STRING_MAX} characters, `value = [\"…\", \"…\"]`: resolvers join them into one value"),
        );
        false
    }
}

/// A record that passed every check.
struct CheckedRecord {
    fqdn: String,
    record_type: String,
    /// The value's identity: canonical value, or `servers.<name>` for a reference.
    key: String,
    fields: crate::VecMap<crate::CompactString, FieldValue>,
}
