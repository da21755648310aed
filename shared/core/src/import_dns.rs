//! `stackdock import` for DNS: a zone becomes `[domains."<zone>"]` on its dock, and each record of
//! a zone in the file (declared, or imported in the same run) one `[[domains."<zone>".records]]`
//! with its name relative to the zone, type, value and the keys its provider reports. An A record
//! whose address is a server's in the file (or imported before it) follows that server
//! (`value = { server = "…" }`), so it moves with it; any other value is written as it is.
//!
//! Zones are adopted by name and records by identity (name, type, value): neither takes `id`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Entry, toml_key, toml_string};
use crate::Kind;
use crate::config::{Config, address};
use crate::dns::{TXT_STRING_MAX, has_target, identity};
use crate::record::{Attrs, Record};

/// What DNS import knows beyond the record at hand: the zones of the file and of this run (by
/// name: their dock), and the servers records may follow (by IPv4: their entry's name).
#[derive(Debug, Default)]
pub(super) struct DnsImport {
    zones: BTreeMap<String, String>,
    servers: BTreeMap<String, String>,
}

impl DnsImport {
    /// The zones `config` declares.
    pub(super) fn new(config: &Config) -> DnsImport {
        let zones = config
            .resources
            .iter()
            .filter(|r| r.kind == Kind::Domains)
            .map(|r| (r.name.to_string(), r.dock.to_string()))
            .collect();
        DnsImport {
            zones,
            servers: BTreeMap::new(),
        }
    }

    /// A server records may follow: the entry `name`, at the address `record` reports.
    pub(super) fn server(&mut self, name: &str, record: &Record) {
        if let Attrs::Servers(s) = &record.attrs
            && let Some(ip) = s.ip_address.as_ref().filter(|ip| !ip.is_empty())
        {
            self.servers
                .entry(ip.clone())
                .or_insert_with(|| name.to_owned());
        }
    }

    /// Writes the zone `record` on `dock`; its entry.
    pub(super) fn zone(&mut self, out: &mut String, dock: &str, record: &Record) -> Entry {
        let zone = record.name.clone();
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[domains.{}]", toml_key(&zone));
        let _ = writeln!(out, "dock = {}", toml_string(dock));
        if record.protect {
            out.push_str("protect = true\n");
        }
        self.zones.insert(zone.to_string(), dock.to_owned());
        Entry {
            address: address(Kind::Domains, &zone),
            dock: dock.to_owned(),
            id: record.provider_resource_id.to_string(),
            renamed_from: None,
        }
    }

    /// Writes the DNS record `record` of `dock` in its zone's entry; its entry, or why not.
    pub(super) fn record(
        &self,
        out: &mut String,
        dock: &str,
        record: &Record,
    ) -> Result<Entry, String> {
        let Attrs::DomainRecords(a) = &record.attrs else {
            return Err("not a DNS record".to_owned());
        };
        let (Some(zone), Some(fqdn), Some(record_type), Some(value)) =
            (&a.zone, &a.fqdn, &a.record_type, &a.value)
        else {
            return Err(
                "the provider does not report its zone, name, type and value; write its entry by hand"
                    .to_owned(),
            );
        };
        match self.zones.get(zone) {
            Some(d) if d == dock => {}
            Some(d) => {
                return Err(format!(
                    "its zone `{zone}` is declared on dock `{d}`, not `{dock}`; write its entry by hand"
                ));
            }
            None => {
                return Err(format!(
                    "its zone `{zone}` is neither in stackdock.toml nor imported: import the zone too (`--kind domains`), or write its entry by hand"
                ));
            }
        }
        let follows = (record_type == "A")
            .then(|| self.servers.get(value))
            .flatten();
        let (key, value_toml) = match follows {
            Some(server) => (
                format!("servers.{server}"),
                format!("{{ server = {} }}", toml_string(server)),
            ),
            None => (value.clone(), value_text(record_type, value)),
        };
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[[domains.{}.records]]", toml_key(zone));
        let _ = writeln!(out, "name = {}", toml_string(&relative(zone, fqdn)));
        let _ = writeln!(out, "type = {}", toml_string(record_type));
        let _ = writeln!(out, "value = {value_toml}");
        let flags = a.flags.filter(|f| *f != 0);
        for (k, v) in [
            ("ttl", a.ttl),
            ("priority", a.priority),
            ("weight", a.weight),
            ("port", a.port),
            ("flags", flags),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "{k} = {v}");
            }
        }
        if let Some(tag) = &a.tag {
            let _ = writeln!(out, "tag = {}", toml_string(tag));
        }
        Ok(Entry {
            address: address(Kind::DomainRecords, &identity(fqdn, record_type, &key)),
            dock: dock.to_owned(),
            id: record.provider_resource_id.to_string(),
            renamed_from: None,
        })
    }
}

/// `fqdn` as a record's `name` in `zone`: `@` at the apex, relative below it, absolute (with the
/// trailing dot) anywhere else.
fn relative(zone: &str, fqdn: &str) -> String {
    if fqdn == zone {
        return "@".to_owned();
    }
    fqdn.strip_suffix(&format!(".{zone}"))
        .map_or_else(|| format!("{fqdn}."), str::to_owned)
}

/// A record's value in TOML: host names absolute with the trailing dot, a TXT value longer than
/// one string as an array of strings, anything else as it is.
fn value_text(record_type: &str, value: &str) -> String {
    if has_target(record_type) {
        return toml_string(&format!("{value}."));
    }
    if record_type == "TXT" && value.chars().count() > TXT_STRING_MAX {
        let chars: Vec<char> = value.chars().collect();
        let strings: Vec<String> = chars
            .chunks(TXT_STRING_MAX)
            .map(|c| toml_string(&c.iter().collect::<String>()))
            .collect();
        return format!("[{}]", strings.join(", "));
    }
    toml_string(value)
}
