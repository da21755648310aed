//! `stackdock import`: resources that already run, written as `stackdock.toml` entries.
//!
//! Each imported resource becomes one entry pinned with `id`, on its dock, with every managed
//! field the provider reports set to its current value, so the next plan adopts it with no field
//! change. Pure: the caller chooses the records (the plan's unmanaged ones) and writes the text.
//!
//! # Guarantees
//! - Only fields of the kind's documented keys that the provider manages in place or by replace
//!   are written: nothing create-only (`ssh_keys`, `user_data_file`), no credential, no secret.
//! - Entry names are valid labels on the provider and unique per kind across the file; a name
//!   that had to change is said in a comment above its entry (the plan then renames the resource,
//!   an update shown as such).
//! - A resource missing a required field (a server whose image the provider does not report) is
//!   skipped with the reason, never written with a made-up value.
//! - A volume's `attach_to` names the entry of the server it is attached to, existing or
//!   imported in the same run.
//! - DNS zones and their records are written as `[domains."<zone>"]` and its records
//!   (`import_dns.rs`); an A record at a server's address follows that server.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::config::keys::exactly_one_of;
use crate::config::{Config, address};
use crate::record::{Attrs, Record};
use crate::schema::{Change, field_rule, is_default, kind_keys, label_error};
use crate::{FieldValue, Kind};

#[path = "import_dns.rs"]
mod dns;

/// One imported entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `servers.web-9`.
    pub address: String,
    pub dock: String,
    /// The provider id it is pinned to.
    pub id: String,
    /// The provider's label, when the entry's name had to differ from it.
    pub renamed_from: Option<String>,
}

/// A resource that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub dock: String,
    pub kind: Kind,
    pub id: String,
    pub name: String,
    pub reason: String,
}

/// The entries as `stackdock.toml` text, and what each is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Entries in TOML, one table each, separated by blank lines; empty when nothing was imported.
    pub toml: String,
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// Writes `records` (of `config`'s docks, by dock name) as entries of `config`.
///
/// Records are taken in (dock, kind rank, name, id) order, so the same inventory always gives the
/// same text; servers come before the volumes that attach to them.
pub fn entries(config: &Config, records: &[(&str, &Record)]) -> Imported {
    let mut records: Vec<(&str, &Record)> = records.to_vec();
    records.sort_by(|(da, a), (db, b)| {
        (da, a.kind().rank(), &a.name, &a.provider_resource_id).cmp(&(
            db,
            b.kind().rank(),
            &b.name,
            &b.provider_resource_id,
        ))
    });
    let mut taken: BTreeSet<String> = config.resources.iter().map(|r| r.address()).collect();
    // Entry names of servers by provider id (per dock), for `attach_to`: the file's managed
    // servers are known by their records' owners; imported ones are added as they are named.
    let mut server_entries: BTreeMap<(String, String), String> = BTreeMap::new();
    for (dock, r) in &records {
        if let (Kind::Servers, Some(owner)) = (r.kind(), &r.managed_by)
            && let Some(name) = owner.strip_prefix("servers.")
        {
            server_entries.insert(
                ((*dock).to_owned(), r.provider_resource_id.to_string()),
                name.to_owned(),
            );
        }
    }
    let mut dns = dns::DnsImport::new(config);
    for (_, r) in &records {
        if let (Kind::Servers, Some(owner)) = (r.kind(), &r.managed_by)
            && let Some(name) = owner.strip_prefix("servers.")
        {
            dns.server(name, r);
        }
    }
    let mut out = Imported::default();
    for (dock, record) in records {
        if record.managed_by.is_some() {
            continue;
        }
        let kind = record.kind();
        let skip = |reason: String| Skipped {
            dock: dock.to_owned(),
            kind,
            id: record.provider_resource_id.to_string(),
            name: record.name.to_string(),
            reason,
        };
        if let Some(why) = record.read_only() {
            out.skipped
                .push(skip(format!("{why}: a file cannot declare it")));
            continue;
        }
        let Some(provider) = config.docks.get(dock).map(|d| d.provider) else {
            out.skipped
                .push(skip(format!("dock `{dock}` is not in stackdock.toml")));
            continue;
        };
        match kind {
            Kind::Domains => {
                let entry = dns.zone(&mut out.toml, dock, record);
                out.entries.push(entry);
                continue;
            }
            Kind::DomainRecords => {
                match dns.record(&mut out.toml, dock, record) {
                    Ok(entry) => out.entries.push(entry),
                    Err(reason) => out.skipped.push(skip(reason)),
                }
                continue;
            }
            _ => {}
        }
        if !kind.is_declared_at_top() {
            out.skipped.push(skip(format!(
                "{} are not imported yet: write their entries by hand",
                kind.config_key()
            )));
            continue;
        }
        let mut fields: Vec<(&'static str, FieldValue)> = Vec::new();
        let mut missing = Vec::new();
        for key in kind_keys(kind) {
            let Some(rule) = field_rule(provider, kind, key.key) else {
                continue;
            };
            // A web service's variables are written by hand: where each value comes from is
            // not the provider's to tell (the entry keeps them as they are until it names them).
            if rule.change == Change::CreateOnly || key.ty == crate::schema::FieldType::Env {
                continue;
            }
            let value = if key.key == "attach_to" {
                attached_server(record).map(|id| {
                    server_entries
                        .get(&(dock.to_owned(), id.to_owned()))
                        .map_or_else(
                            || Err(id.to_owned()),
                            |n| Ok(FieldValue::Str(n.as_str().into())),
                        )
                })
            } else {
                record.field(key.key).map(Ok)
            };
            match value {
                Some(Ok(FieldValue::Set(s))) if s.is_empty() => {}
                // A running server is `power = "on"`, the default: written only when off.
                Some(Ok(v)) if is_default(kind, key.key, &v) => {}
                Some(Ok(v)) => fields.push((key.key, v)),
                Some(Err(server)) => missing.push(format!(
                    "it is attached to server {server}, which is neither in stackdock.toml nor imported (import it too, or with `--kind block_volumes` leave it)"
                )),
                None if key.required
                    || crate::schema::provider_required(provider, kind).contains(&key.key) =>
                {
                    missing.push(format!("the provider does not report its `{}`", key.key));
                }
                None => {}
            }
        }
        // Of keys the file takes exactly one of (a bucket's `region` or legacy `cluster`), the
        // first the provider reports.
        if let Some(keys) = exactly_one_of(kind)
            && let Some(first) = keys.iter().find(|k| fields.iter().any(|(f, _)| f == *k))
        {
            fields.retain(|(f, _)| f == first || !keys.contains(f));
        }
        if !missing.is_empty() {
            out.skipped.push(skip(format!(
                "{}; write its entry by hand",
                missing.join("; ")
            )));
            continue;
        }
        let name = entry_name(record, provider, kind, &taken);
        let entry_address = address(kind, &name);
        taken.insert(entry_address.clone());
        if kind == Kind::Servers {
            server_entries.insert(
                (dock.to_owned(), record.provider_resource_id.to_string()),
                name.clone(),
            );
            dns.server(&name, record);
        }
        let renamed_from = (name != record.name).then(|| record.name.clone());
        write_entry(
            &mut out.toml,
            kind,
            &name,
            dock,
            record,
            renamed_from.as_deref(),
            &fields,
        );
        out.entries.push(Entry {
            address: entry_address,
            dock: dock.to_owned(),
            id: record.provider_resource_id.to_string(),
            renamed_from: renamed_from.map(String::from),
        });
    }
    out
}

/// The provider id of the server a volume is attached to.
fn attached_server(record: &Record) -> Option<&str> {
    match &record.attrs {
        Attrs::BlockVolumes(v) => v.attached_to_instance.as_deref(),
        _ => None,
    }
}

/// The resource's label when it is a valid, free entry name; else a valid one made from it (or
/// from the kind and id), suffixed until it is free.
fn entry_name(
    record: &Record,
    provider: crate::ProviderKind,
    kind: Kind,
    taken: &BTreeSet<String>,
) -> String {
    let valid = |n: &str| label_error(provider, kind, n).is_none();
    let free = |n: &str| !taken.contains(&address(kind, n));
    if valid(&record.name) && free(&record.name) {
        return record.name.to_string();
    }
    let mut base: String = record
        .name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base = base.trim_matches('-').to_owned();
    while base.contains("--") {
        base = base.replace("--", "-");
    }
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) || !valid(&base) {
        let id: String = record
            .provider_resource_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect::<String>()
            .to_ascii_lowercase();
        base = format!("{}-{id}", kind.noun().replace(' ', "-"));
    }
    base.truncate(48);
    if free(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| free(n))
        .unwrap_or(base)
}

fn write_entry(
    out: &mut String,
    kind: Kind,
    name: &str,
    dock: &str,
    record: &Record,
    renamed_from: Option<&str>,
    fields: &[(&str, FieldValue)],
) {
    if !out.is_empty() {
        out.push('\n');
    }
    if let Some(label) = renamed_from {
        let _ = writeln!(
            out,
            "# Labelled {} at the provider, not a valid or free entry name: the plan renames it.",
            toml_string(label)
        );
    }
    let _ = writeln!(out, "[{}.{}]", kind.config_key(), toml_key(name));
    let _ = writeln!(out, "dock = {}", toml_string(dock));
    let _ = writeln!(out, "id = {}", toml_string(&record.provider_resource_id));
    for (key, value) in fields {
        let _ = writeln!(out, "{key} = {}", toml_value(value));
    }
    if record.protect {
        out.push_str("protect = true\n");
    }
}

/// A bare key when TOML allows one, else a quoted key.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn toml_value(value: &FieldValue) -> String {
    match value {
        FieldValue::Str(s) => toml_string(s),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::Set(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|s| toml_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderKind;
    use crate::record::{ServerAttrs, VolumeAttrs, dock_id};

    const FILE: &str = r#"
[stackdock]
org = "acme"

[docks.do-main]
provider = "digitalocean"
credentials = { env = "DIGITALOCEAN_TOKEN" }

[servers.web]
dock = "do-main"
region = "nyc3"
plan = "s-1vcpu-1gb"
image = "ubuntu-24-04-x64"
"#;

    fn server(id: &str, name: &str, image: Option<&str>) -> Record {
        let mut r = Record::new(
            "acme",
            dock_id("acme", "do-main"),
            ProviderKind::DigitalOcean,
            Kind::Servers,
            id,
            name,
        );
        r.region = Some("nyc3".into());
        r.attrs = Attrs::Servers(ServerAttrs {
            instance_type: Some("s-1vcpu-1gb".to_owned()),
            image: image.map(str::to_owned),
            ..ServerAttrs::default()
        });
        r
    }

    fn volume(id: &str, name: &str, attached: &str) -> Record {
        let mut r = Record::new(
            "acme",
            dock_id("acme", "do-main"),
            ProviderKind::DigitalOcean,
            Kind::BlockVolumes,
            id,
            name,
        );
        r.region = Some("nyc3".into());
        r.attrs = Attrs::BlockVolumes(VolumeAttrs {
            size_gb: Some(10),
            attached_to_instance: Some(attached.to_owned()),
            ..VolumeAttrs::default()
        });
        r
    }

    /// A Vercel project is written with its subtype, repository and settings, without its
    /// variables (their values' sources are not the provider's to tell), and parses.
    #[test]
    fn a_vercel_project_is_written_without_its_variables() {
        use crate::record::{WebServiceAttrs, WebServiceBuild, WebServiceRepo};
        let file = format!(
            "{FILE}\n[docks.vercel-main]\nprovider = \"vercel\"\ncredentials = {{ env = \"VERCEL_TOKEN\" }}\n"
        );
        let config = crate::config::parse("stackdock.toml", &file).expect("valid");
        let mut r = Record::new(
            "acme",
            dock_id("acme", "vercel-main"),
            ProviderKind::Vercel,
            Kind::WebServices,
            "prj_1",
            "marketing",
        );
        r.region = Some("iad1".into());
        r.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
            subtype: Some("project".to_owned()),
            framework: Some("nextjs".to_owned()),
            custom_domains: ["www.example.com".to_owned()].into(),
            repo: WebServiceRepo {
                provider: Some("github".to_owned()),
                full_name: Some("acme/marketing".to_owned()),
                branch: Some("main".to_owned()),
            },
            env_var_names: ["API_URL@production".to_owned()].into(),
            build: WebServiceBuild {
                root_directory: Some("apps/web".to_owned()),
                ..WebServiceBuild::default()
            },
            ..WebServiceAttrs::default()
        }));
        let out = entries(&config, &[("vercel-main", &r)]);
        assert_eq!(out.skipped.len(), 0, "{:?}", out.skipped);
        for line in [
            "[web_services.marketing]",
            "subtype = \"project\"",
            "repo = \"acme/marketing\"",
            "domains = [\"www.example.com\"]",
            "serverless_function_region = \"iad1\"",
        ] {
            assert!(out.toml.contains(line), "{line} in {}", out.toml);
        }
        assert!(!out.toml.contains("API_URL"), "{}", out.toml);
        assert!(!out.toml.contains("production_branch"), "{}", out.toml);
        let joined = format!("{file}\n{}", out.toml);
        let parsed =
            crate::config::parse("stackdock.toml", &joined).unwrap_or_else(|d| panic!("{d}"));
        assert!(parsed.resource("web_services.marketing").is_some());
    }

    /// A Workers script is synced read-only: never written as an entry, always said why.
    #[test]
    fn a_workers_script_is_skipped_with_the_reason() {
        use crate::record::WebServiceAttrs;
        let file = format!(
            "{FILE}\n[docks.cf]\nprovider = \"cloudflare\"\ncredentials = {{ env = \"CLOUDFLARE_API_TOKEN\" }}\n"
        );
        let config = crate::config::parse("stackdock.toml", &file).expect("valid");
        let mut r = Record::new(
            "acme",
            dock_id("acme", "cf"),
            ProviderKind::Cloudflare,
            Kind::WebServices,
            "worker/edge-auth",
            "edge-auth",
        );
        r.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
            subtype: Some("worker".to_owned()),
            ..WebServiceAttrs::default()
        }));
        let out = entries(&config, &[("cf", &r)]);
        assert!(out.toml.is_empty(), "{}", out.toml);
        assert!(out.entries.is_empty());
        assert_eq!(out.skipped.len(), 1);
        assert!(
            out.skipped[0]
                .reason
                .contains("Workers scripts are synced read-only"),
            "{}",
            out.skipped[0].reason
        );
    }

    #[test]
    fn names_are_made_valid_and_unique_and_the_text_parses_with_the_file() {
        let config = crate::config::parse("stackdock.toml", FILE).expect("valid");
        let taken = server("1", "web", Some("debian-12-x64"));
        let spaced = server("2", "Web Server #2", Some("debian-12-x64"));
        let unlabelled = server("3", "", Some("debian-12-x64"));
        let data = volume("v1", "data", "2");
        let records = [
            ("do-main", &data),
            ("do-main", &taken),
            ("do-main", &spaced),
            ("do-main", &unlabelled),
        ];
        let out = entries(&config, &records);
        let names: Vec<(&str, Option<&str>)> = out
            .entries
            .iter()
            .map(|e| (e.address.as_str(), e.renamed_from.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("servers.server-3", Some("")),
                ("servers.web-server-2", Some("Web Server #2")),
                ("servers.web-2", Some("web")),
                ("block_volumes.data", None),
            ]
        );
        assert!(
            out.toml.contains("attach_to = \"web-server-2\""),
            "{}",
            out.toml
        );
        assert!(
            out.toml
                .contains("# Labelled \"Web Server #2\" at the provider")
        );
        let joined = format!("{FILE}\n{}", out.toml);
        let parsed =
            crate::config::parse("stackdock.toml", &joined).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(parsed.resources.len(), 5);
        assert_eq!(
            parsed
                .resource("servers.web-2")
                .and_then(|r| r.id.as_deref()),
            Some("1")
        );
    }

    #[test]
    fn a_stopped_server_is_written_power_off_and_a_running_or_settling_one_without_power() {
        let config = crate::config::parse("stackdock.toml", FILE).expect("valid");
        let mut records = Vec::new();
        for (id, name, status) in [
            ("11", "cold", "stopped"),
            ("12", "warm", "running"),
            ("13", "booting", "pending"),
        ] {
            let mut r = server(id, name, Some("debian-12-x64"));
            r.status = status.into();
            records.push(r);
        }
        let refs: Vec<(&str, &Record)> = records.iter().map(|r| ("do-main", r)).collect();
        let out = entries(&config, &refs);
        assert_eq!(out.entries.len(), 3, "{:?}", out.skipped);
        assert_eq!(out.toml.matches("power = ").count(), 1, "{}", out.toml);
        let cold = out.toml.split("[servers.").find(|t| t.starts_with("cold]"));
        assert!(
            cold.is_some_and(|t| t.contains("power = \"off\"\n")),
            "{}",
            out.toml
        );
        let joined = format!("{FILE}\n{}", out.toml);
        let parsed =
            crate::config::parse("stackdock.toml", &joined).unwrap_or_else(|d| panic!("{d}"));
        let power = |address: &str| parsed.resource(address).and_then(|r| r.str_field("power"));
        assert_eq!(power("servers.cold"), Some("off"));
        assert_eq!(power("servers.warm"), None);
    }

    #[test]
    fn a_resource_missing_a_required_field_or_attached_to_an_unknown_server_is_skipped() {
        let config = crate::config::parse("stackdock.toml", FILE).expect("valid");
        let imageless = server("7", "db-box", None);
        let stray = volume("v2", "logs", "999");
        let out = entries(&config, &[("do-main", &imageless), ("do-main", &stray)]);
        assert!(out.entries.is_empty(), "{:?}", out.entries);
        assert_eq!(out.toml, "");
        let reasons: Vec<&str> = out.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons[0].contains("does not report its `image`"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("attached to server 999"), "{reasons:?}");
    }

    fn dns(id: &str, zone: &str, fqdn: &str, t: &str, value: &str) -> Record {
        let canonical = crate::dns::normalize(&crate::dns::ProviderRecord {
            zone,
            name: fqdn,
            record_type: t,
            value,
            ttl: Some(1800),
            priority: (t == "MX").then_some(10),
            ..crate::dns::ProviderRecord::default()
        })
        .expect("a valid record");
        let mut r = Record::new(
            "acme",
            dock_id("acme", "do-main"),
            ProviderKind::DigitalOcean,
            Kind::DomainRecords,
            format!("{zone}/{id}"),
            crate::dns::identity(&canonical.fqdn, &canonical.record_type, &canonical.value),
        );
        r.attrs = Attrs::DomainRecords(canonical.into());
        r
    }

    #[test]
    fn zones_and_their_records_are_written_with_records_following_servers() {
        let config = crate::config::parse("stackdock.toml", FILE).expect("valid");
        let mut web = server("1", "web", Some("ubuntu-24-04-x64"));
        web.managed_by = Some("servers.web".into());
        if let Attrs::Servers(a) = &mut web.attrs {
            a.ip_address = Some("203.0.113.10".to_owned());
        }
        let mut zone = Record::new(
            "acme",
            dock_id("acme", "do-main"),
            ProviderKind::DigitalOcean,
            Kind::Domains,
            "example.com",
            "example.com",
        );
        zone.attrs = Attrs::Domains(crate::record::DomainAttrs::default());
        let long = "k".repeat(300);
        let apex = dns("1", "example.com", "@", "A", "203.0.113.10");
        let other = dns("2", "example.com", "api", "A", "198.51.100.7");
        let mx = dns("3", "example.com", "@", "MX", "mail.example.net.");
        let txt = dns("4", "example.com", "dkim._domainkey", "TXT", &long);
        let stray = dns("5", "example.org", "@", "A", "198.51.100.8");
        let records = [
            ("do-main", &web),
            ("do-main", &zone),
            ("do-main", &apex),
            ("do-main", &other),
            ("do-main", &mx),
            ("do-main", &txt),
            ("do-main", &stray),
        ];
        let out = entries(&config, &records);
        assert!(
            out.toml.contains("[domains.\"example.com\"]"),
            "{}",
            out.toml
        );
        assert!(
            out.toml.contains("value = { server = \"web\" }"),
            "{}",
            out.toml
        );
        assert!(
            out.toml.contains("value = \"198.51.100.7\""),
            "{}",
            out.toml
        );
        assert!(
            out.toml
                .contains("value = \"mail.example.net.\"\nttl = 1800\npriority = 10"),
            "{}",
            out.toml
        );
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert!(
            out.skipped[0]
                .reason
                .contains("`example.org` is neither in stackdock.toml nor imported")
        );
        // The text parses with the file, and names the entries the import reported.
        let joined = format!("{FILE}\n{}", out.toml);
        let parsed =
            crate::config::parse("stackdock.toml", &joined).unwrap_or_else(|d| panic!("{d}"));
        for entry in &out.entries {
            assert!(
                parsed.resource(&entry.address).is_some(),
                "{} is not an entry of {:?}",
                entry.address,
                parsed
                    .resources
                    .iter()
                    .map(|r| r.address())
                    .collect::<Vec<_>>()
            );
        }
        assert_eq!(out.entries.len(), 5, "the zone and its four records");
        let txt = parsed
            .resources
            .iter()
            .find(|r| r.kind == Kind::DomainRecords && r.name.contains("TXT"))
            .expect("the TXT record");
        assert_eq!(txt.field("value"), Some(&FieldValue::Str(long.into())));
    }
}
