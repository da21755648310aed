//! The DNS part of `stackdock.toml`: `[domains."<zone>"]` and its `[[domains."<zone>".records]]`,
//! read with spans and checked against the zone's provider (record types, TTL floor) and the rest
//! of the file (`value = { server = "…" }` naming a `[servers.*]` entry).
//!
//! It extends the parser's walker and reads the key tables of [`super::keys`] (`ZONE_KEYS`,
//! `RECORD_KEYS`, `RECORD_TYPE_KEYS`); it decides nothing the planner decides, and reads no zone.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::keys::{CAA_TAGS, RECORD_INT_RANGES, RECORD_KEYS, RECORD_TYPE_KEYS, ZONE_KEYS, names};
use super::parse::{At, DockDraft, Item, ResourceDraft, Walker, found, table_specs};
use super::validate::did_you_mean;
use super::{DesiredResource, address};
use crate::dns::{
    AUTOMATIC_TTL, RECORD_TYPES, TXT_STRING_MAX, automatic_ttl, caa_flags, has_target, identity,
    proxies, record_types, srv_name_kept, target, ttl_maximum, ttl_minimum, ttl_values,
    txt_strings, zone_name_error,
};
use crate::schema::FieldType;
use crate::{FieldValue, Kind, ProviderKind};

/// A zone as far as it could be read.
#[derive(Debug)]
pub(super) struct ZoneDraft {
    name: String,
    dock: Option<At<String>>,
    protect: bool,
    records: Vec<RecordDraft>,
}

/// A record's `value` as written.
#[derive(Debug)]
enum ValueDraft {
    Text(String),
    /// TXT split into strings.
    Strings(Vec<At<String>>),
    /// `{ server = "<name>" }`.
    Server(At<String>),
}

/// One record as far as it could be read.
#[derive(Debug)]
struct RecordDraft {
    /// 1-based position in the zone, for messages.
    number: usize,
    span: Range<usize>,
    name: Option<At<String>>,
    record_type: Option<At<String>>,
    value: Option<At<ValueDraft>>,
    /// `ttl`, `priority`, `weight`, `port`, `flags`.
    ints: BTreeMap<&'static str, At<i64>>,
    tag: Option<At<String>>,
    proxied: Option<At<bool>>,
}

impl RecordDraft {
    fn what(&self, zone: &str) -> String {
        format!("record {} of zone `{zone}`", self.number)
    }
}

impl Walker<'_, '_> {
    /// Reads the `[domains]` table: one zone per key.
    pub(super) fn zones(&mut self, t: &DeTable<'_>) -> Vec<ZoneDraft> {
        let mut out = Vec::new();
        for (key, item) in t {
            let name = key.get_ref().as_ref();
            if self.is_named_entry_credential(key, item, "`[domains]`") {
                continue;
            }
            if let Some(e) = zone_name_error(name) {
                self.report.error(
                    key.span(),
                    format!("zone name `{name}` is not a valid lowercase domain"),
                    format!("{e}, e.g. `[domains.\"example.com\"]`"),
                );
            }
            let what = format!("zone `{name}`");
            let Some(table) =
                self.table(item, &what, &format!("`[domains.\"{name}\"]` with `dock`"))
            else {
                continue;
            };
            let present = self.known_keys(table, &what, &names(ZONE_KEYS));
            self.required(&present, table_specs(ZONE_KEYS), &what, item.span());
            let dock = self.string(&present, "dock", &what);
            let protect = self.boolean(&present, "protect", &what).unwrap_or(false);
            let records = match present.get("records") {
                Some((_, records)) => self.records(name, records),
                None => Vec::new(),
            };
            out.push(ZoneDraft {
                name: name.to_owned(),
                dock,
                protect,
                records,
            });
        }
        out
    }

    fn records(&mut self, zone: &str, item: &Item<'_>) -> Vec<RecordDraft> {
        let help = format!(
            "write each record as its own `[[domains.\"{zone}\".records]]` table with `name`, `type` and `value`"
        );
        let DeValue::Array(items) = item.get_ref() else {
            self.report.error(
                item.span(),
                format!(
                    "`records` of zone `{zone}` must be an array of tables, found {}",
                    found(item.get_ref())
                ),
                help,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, entry) in items.iter().enumerate() {
            let number = i + 1;
            let what = format!("record {number} of zone `{zone}`");
            let DeValue::Table(t) = entry.get_ref() else {
                self.report.error(
                    entry.span(),
                    format!("{what} must be a table, found {}", found(entry.get_ref())),
                    help.clone(),
                );
                continue;
            };
            let present = self.known_keys(t, &what, &names(RECORD_KEYS));
            self.required(&present, table_specs(RECORD_KEYS), &what, entry.span());
            let mut ints = BTreeMap::new();
            for key in ["ttl", "priority", "weight", "port", "flags"] {
                if let Some((k, v)) = present.get(key)
                    && let Some(at) = self.typed(k, v, FieldType::Int, &what)
                    && let FieldValue::Int(n) = at.value
                {
                    ints.insert(
                        key,
                        At {
                            value: n,
                            key: at.key,
                            span: at.span,
                        },
                    );
                }
            }
            let value = present
                .get("value")
                .and_then(|(k, v)| self.record_value(k.span(), v, &what));
            out.push(RecordDraft {
                number,
                span: entry.span(),
                name: self.string(&present, "name", &what),
                record_type: self.string(&present, "type", &what),
                value,
                ints,
                tag: self.string(&present, "tag", &what),
                proxied: present.get("proxied").and_then(|(k, v)| {
                    let at = self.typed(k, v, FieldType::Bool, &what)?;
                    match at.value {
                        FieldValue::Bool(b) => Some(At {
                            value: b,
                            key: at.key,
                            span: at.span,
                        }),
                        _ => None,
                    }
                }),
            });
        }
        out
    }

    /// `value`: a string, an array of strings, or `{ server = "<name>" }`.
    fn record_value(
        &mut self,
        key: Range<usize>,
        item: &Item<'_>,
        what: &str,
    ) -> Option<At<ValueDraft>> {
        let at = |value| At {
            value,
            key: key.clone(),
            span: item.span(),
        };
        let expected = "write a string (`value = \"203.0.113.10\"`), an array of strings for a long TXT value, or `value = { server = \"<name>\" }`";
        match item.get_ref() {
            DeValue::String(s) => Some(at(ValueDraft::Text(s.to_string()))),
            DeValue::Array(items) => {
                let mut strings = Vec::new();
                for i in items.iter() {
                    match i.get_ref() {
                        DeValue::String(s) => strings.push(At {
                            value: s.to_string(),
                            key: key.clone(),
                            span: i.span(),
                        }),
                        other => {
                            self.report.error(
                                i.span(),
                                format!(
                                    "`value` of {what} must be an array of strings, found {} in it",
                                    found(other)
                                ),
                                "quote every element: `value = [\"…\", \"…\"]`",
                            );
                            return None;
                        }
                    }
                }
                Some(at(ValueDraft::Strings(strings)))
            }
            DeValue::Table(t) => {
                let server_key = t.iter().find(|(k, _)| k.get_ref().as_ref() == "server");
                let others: Vec<&str> = t
                    .iter()
                    .map(|(k, _)| k.get_ref().as_ref())
                    .filter(|k| *k != "server")
                    .collect();
                match (server_key, others.as_slice()) {
                    (Some((_, v)), []) => match v.get_ref() {
                        DeValue::String(s) => Some(at(ValueDraft::Server(At {
                            value: s.to_string(),
                            key: key.clone(),
                            span: v.span(),
                        }))),
                        other => {
                            self.report.error(
                                v.span(),
                                format!(
                                    "`value.server` of {what} must be a string, found {}",
                                    found(other)
                                ),
                                "name a server entry: `value = { server = \"web-1\" }`",
                            );
                            None
                        }
                    },
                    _ => {
                        self.report.error(
                            item.span(),
                            format!("`value` of {what} must be `{{ server = \"<name>\" }}` when it is a table"),
                            expected,
                        );
                        None
                    }
                }
            }
            other => {
                self.report.error(
                    item.span(),
                    format!(
                        "`value` of {what} must be a string, an array of strings or a table, found {}",
                        found(other)
                    ),
                    expected,
                );
                None
            }
        }
    }

    /// Checks every zone against its dock and the file's servers, and turns the valid ones into
    /// desired resources: the zone (`domains.<zone>`) and one `domain_records` entry per record.
    pub(super) fn dns_check(
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
                name: zone_name.clone(),
                dock: dock_at.value.clone(),
                protect: zone.protect,
                id: None,
                ignore_changes: BTreeSet::new(),
                allow_replace: false,
                fields: BTreeMap::new(),
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
                    name: identity(&checked.fqdn, &checked.record_type, &checked.key),
                    dock: dock_at.value.clone(),
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
        let mut fields = BTreeMap::new();
        fields.insert("zone".to_owned(), FieldValue::Str(zone.to_owned()));
        fields.insert("fqdn".to_owned(), FieldValue::Str(fqdn.clone()));
        fields.insert("type".to_owned(), FieldValue::Str(record_type.to_owned()));
        fields.insert(value_field.0.to_owned(), FieldValue::Str(value_field.1));
        for (k, at) in &record.ints {
            // An automatic TTL is stored as none, as the provider's default is.
            let automatic =
                *k == "ttl" && at.value == AUTOMATIC_TTL && provider.is_some_and(automatic_ttl);
            if !automatic {
                fields.insert((*k).to_owned(), FieldValue::Int(at.value));
            }
        }
        if let Some(proxied) = &record.proxied {
            fields.insert("proxied".to_owned(), FieldValue::Bool(proxied.value));
        }
        if let Some(tag) = &record.tag {
            fields.insert("tag".to_owned(), FieldValue::Str(tag.value.clone()));
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
    fields: BTreeMap<String, FieldValue>,
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use crate::{FieldValue, Kind};

    const ZONES: &str = include_str!("../../../../fixtures/config/valid/dns-zones.toml");

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
}
