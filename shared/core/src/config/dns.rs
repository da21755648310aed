//! The DNS part of `stackdock.toml`: `[domains."<zone>"]` and its `[[domains."<zone>".records]]`,
//! read with spans and checked against the zone's provider (record types, TTL floor) and the rest
//! of the file (`value = { server = "…" }` naming a `[servers.*]` entry).
//!
//! It extends the parser's walker and reads the key tables of [`super::keys`] (`ZONE_KEYS`,
//! `RECORD_KEYS`, `RECORD_TYPE_KEYS`); it decides nothing the planner decides, and reads no zone.
//! This file reads the tables into drafts; `dns/check.rs` checks them and makes the entries.

mod check;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::keys::{RECORD_KEYS, ZONE_KEYS, names};
use super::parse::{At, Item, Walker, found, table_specs};
use crate::FieldValue;
use crate::dns::zone_name_error;
use crate::schema::FieldType;

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
}
