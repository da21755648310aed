//! What every provider's DNS adapter shares: the record id (`<zone id>/<record id>`), a desired
//! record read from its spec, the mapping of a provider's record to the canonical
//! `domainRecords` row (through [`stackdock_core::dns::normalize`], the one normalisation), and the
//! look-up of a record by its identity, which is how a create whose answer was lost is found again
//! (DNS records carry no tags at DigitalOcean, Vultr or Linode).

use stackdock_core::dns::{self, ProviderRecord, TXT_STRING_MAX};
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{Attrs, DomainRecordAttrs};
use stackdock_core::{FieldValue, Kind, Record};

use futures::{StreamExt, TryStreamExt};

use crate::http::{DockClient, Item, ListOptions};
use crate::spec::{required_str, spec_str};
use crate::{DockContext, ErrorClass, ProviderError};

/// The universal status of a zone or record that exists: neither has a lifecycle at these
/// providers (no status field), so one that is listed is in service.
pub(crate) const ACTIVE: &str = "active";

/// A record's `providerResourceId`: the zone's id and the record's, which every record call needs.
pub(crate) fn record_id(zone: &str, record: &str) -> String {
    format!("{zone}/{record}")
}

/// The zone and record ids of a record's `providerResourceId`.
///
/// # Errors
/// Not of the form `<zone>/<record>` (invalid: it names no record, and no URL is built from it).
pub(crate) fn split_record_id<'a>(
    ctx: &DockContext,
    route: &str,
    id: &'a str,
) -> Result<(&'a str, &'a str), ProviderError> {
    match id.rsplit_once('/') {
        Some((zone, record)) if !zone.is_empty() && !record.is_empty() && !zone.contains('/') => {
            Ok((zone, record))
        }
        _ => Err(ProviderError::new(
            ErrorClass::Invalid,
            &ctx.dock,
            route,
            format!(
                "`{id}` is not a DNS record id, which is `<zone>/<record id>`; pin the entry to the id shown by `stackdock inventory --kind domain_records`"
            ),
        )),
    }
}

/// A desired record, read from its spec (the config parser checked the shapes; these only guard
/// a request from a spec that slipped past it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredRecord<'a> {
    pub zone: &'a str,
    pub fqdn: &'a str,
    pub record_type: &'a str,
    /// Canonical: an address, a host name without the trailing dot, a TXT value joined.
    pub value: &'a str,
    pub ttl: Option<i64>,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub port: Option<i64>,
    pub flags: Option<i64>,
    pub tag: Option<&'a str>,
}

impl<'a> DesiredRecord<'a> {
    /// The record `spec` asks for.
    ///
    /// # Errors
    /// A field the record cannot do without is missing; `value` is missing because it follows a
    /// server whose address the engine did not resolve.
    pub(crate) fn of(
        ctx: &DockContext,
        route: &str,
        spec: &'a ResourceSpec,
    ) -> Result<DesiredRecord<'a>, ProviderError> {
        let required = |key| required_str(ctx, route, Kind::DomainRecords, spec, key);
        if spec_str(spec, "value").is_none()
            && let Some(server) = spec_str(spec, "server")
        {
            return Err(ProviderError::new(
                ErrorClass::Invalid,
                &ctx.dock,
                route,
                format!(
                    "record `{}` follows `servers.{server}`, whose address was not resolved before the request; run `stackdock sync` and apply again",
                    spec.name
                ),
            ));
        }
        let int = |key| spec.fields.get(key).and_then(FieldValue::as_int);
        Ok(DesiredRecord {
            zone: required("zone")?,
            fqdn: required("fqdn")?,
            record_type: required("type")?,
            value: required("value")?,
            ttl: int("ttl"),
            priority: int("priority"),
            weight: int("weight"),
            port: int("port"),
            flags: int("flags"),
            tag: spec_str(spec, "tag"),
        })
    }

    /// The name relative to the zone, `""` at the apex (Vultr and Linode; DigitalOcean writes the
    /// apex `@`).
    pub(crate) fn relative_name(&self) -> String {
        let zone = self.zone.trim_end_matches('.');
        if self.fqdn == zone {
            return String::new();
        }
        self.fqdn
            .strip_suffix(&format!(".{zone}"))
            .unwrap_or(self.fqdn)
            .to_owned()
    }

    /// The value as a provider's `data`/`target` takes it: a TXT value longer than one string is
    /// split into quoted strings of at most 255 characters (providers keep one string at most that
    /// long; the listing joins them again); anything else as it is.
    pub(crate) fn wire_value(&self) -> String {
        if self.record_type != "TXT" || self.value.chars().count() <= TXT_STRING_MAX {
            return self.value.to_owned();
        }
        let chars: Vec<char> = self.value.chars().collect();
        chars
            .chunks(TXT_STRING_MAX)
            .map(|c| {
                let s: String = c.iter().collect();
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The value in the zone-file shape of providers that keep SRV and CAA records in one field
    /// (Vultr's `data`): SRV `weight port target` (its priority has a field of its own), CAA
    /// `flags tag "value"` (flags 0 when the entry sets none, RFC 8659), anything else as
    /// [`Self::wire_value`] gives it. [`srv_data`] and [`stackdock_core::dns::normalize`] read
    /// these shapes back.
    ///
    /// # Errors
    /// An SRV record without `weight` or `port`, or a CAA record without `tag` (the config parser
    /// requires them; this guards a spec that slipped past it).
    pub(crate) fn zone_file_value(&self) -> Result<String, String> {
        match self.record_type {
            "SRV" => match (self.weight, self.port) {
                (Some(weight), Some(port)) => Ok(format!("{weight} {port} {}", self.value)),
                _ => Err(format!(
                    "SRV record `{}` needs `weight` and `port`",
                    self.fqdn
                )),
            },
            "CAA" => match self.tag {
                Some(tag) => Ok(format!(
                    "{} {tag} \"{}\"",
                    self.flags.unwrap_or(0),
                    self.value
                )),
                None => Err(format!("CAA record `{}` needs `tag`", self.fqdn)),
            },
            _ => Ok(self.wire_value()),
        }
    }

    /// Whether `record` is this record: the same (fqdn, type, value), the identity the planner
    /// matches by.
    pub(crate) fn is(&self, record: &Record) -> bool {
        record.name == dns::identity(self.fqdn, self.record_type, self.value)
    }
}

/// The weight, port and target of an SRV record's zone-file `data` (`5 5060 sip.example.com`),
/// or `None` when `data` is not of that shape (a provider that keeps them in fields of their
/// own).
pub(crate) fn srv_data(data: &str) -> Option<(i64, i64, &str)> {
    let mut parts = data.split_whitespace();
    let (weight, port, target) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((weight.parse().ok()?, port.parse().ok()?, target))
}

/// One zone whose records are listed: its id in the provider's paths and its name.
#[derive(Debug, Clone)]
pub(crate) struct ZoneRef {
    pub id: String,
    pub name: String,
}

impl ZoneRef {
    /// The zone of a `domains` record (its provider id and name).
    pub(crate) fn of(zone: &Record) -> ZoneRef {
        ZoneRef {
            id: zone.provider_resource_id.to_string(),
            name: zone.name.to_string(),
        }
    }

    /// A zone whose id is its name (DigitalOcean, Vultr).
    pub(crate) fn named(zone: &str) -> ZoneRef {
        ZoneRef {
            id: zone.to_owned(),
            name: zone.to_owned(),
        }
    }
}

/// How one provider lists a zone's records: the route template (`/domains/{name}/records`), the
/// path of one zone's listing, the array's key, and the record of one listed item.
pub(crate) struct ZoneRecords {
    pub route: &'static str,
    pub path: fn(&ZoneRef) -> String,
    pub list_key: &'static str,
    pub map: fn(&DockContext, &ZoneRef, Item) -> Result<Record, String>,
}

/// Every record of every zone in `zones`: each zone's listing paged as the provider pages (its
/// pages in parallel where the scheme allows), several zones at once, up to the client's page
/// concurrency. Complete or an error, as every listing.
pub(crate) async fn list_zone_records(
    client: &DockClient,
    ctx: &DockContext,
    zones: Vec<ZoneRef>,
    how: &ZoneRecords,
) -> Result<Vec<Record>, ProviderError> {
    let route = format!("GET {}", how.route);
    let concurrency = client.page_concurrency().max(1);
    let per_zone = futures::stream::iter(zones)
        .map(|zone| {
            let route = &route;
            async move {
                let options = ListOptions::new().path((how.path)(&zone));
                let map = |item| {
                    (how.map)(ctx, &zone, item)
                        .map_err(|m| ProviderError::new(ErrorClass::Transient, &ctx.dock, route, m))
                };
                client
                    .list_mapped(how.route, how.list_key, &options, &map)
                    .await
            }
        })
        .buffer_unordered(concurrency);
    let lists: Vec<Vec<Record>> = per_zone.try_collect().await?;
    Ok(lists.into_iter().flatten().collect())
}

/// The records of `zone` that are `desired` (its identity), from the zone's listing narrowed by
/// `query` where the provider filters (name, type); none when the zone does not exist. This is
/// how a record whose create answer was lost is found again.
pub(crate) async fn find_in_zone(
    client: &DockClient,
    ctx: &DockContext,
    how: &ZoneRecords,
    zone: &ZoneRef,
    desired: &DesiredRecord<'_>,
    query: &[(&str, &str)],
) -> Result<Vec<Record>, ProviderError> {
    let route = format!("GET {}", how.route);
    let options = query
        .iter()
        .fold(ListOptions::new().path((how.path)(zone)), |o, (k, v)| {
            o.query(*k, *v)
        });
    let map = |item| {
        (how.map)(ctx, zone, item)
            .map_err(|m| ProviderError::new(ErrorClass::Transient, &ctx.dock, &route, m))
    };
    let listed = client.list_mapped(how.route, how.list_key, &options, &map);
    let records = crate::error::found(listed.await)?.unwrap_or_default();
    Ok(records.into_iter().filter(|r| desired.is(r)).collect())
}

/// Fills `record` (of kind `domainRecords`, its ids and `fullApiData` set) from the provider's
/// fields: canonical attributes, its identity as its name, and the one status of a listed record.
///
/// # Errors
/// The provider sent a value its type does not allow (an A record that is not an IPv4 address).
pub(crate) fn fill_record(record: &mut Record, raw: &ProviderRecord<'_>) -> Result<(), String> {
    let canonical = dns::normalize(raw)?;
    record.name = dns::identity(&canonical.fqdn, &canonical.record_type, &canonical.value).into();
    record.status = ACTIVE.into();
    record.attrs = Attrs::DomainRecords(DomainRecordAttrs::from(canonical));
    Ok(())
}

/// Fills `record` (of kind `domains`, its ids and `fullApiData` set) for a zone the provider
/// hosts, with the provider's nameservers.
pub(crate) fn fill_zone(record: &mut Record, zone: &str, nameservers: &[&str]) {
    record.name = zone.trim_end_matches('.').to_ascii_lowercase().into();
    record.status = ACTIVE.into();
    if let Attrs::Domains(a) = &mut record.attrs {
        a.zone_name = Some(record.name.to_string());
        a.dns_hosted = true;
        a.assigned_nameservers = nameservers.iter().map(|s| (*s).to_owned()).collect();
    }
}

#[cfg(test)]
mod tests {

    use stackdock_core::ProviderKind;

    use super::*;

    fn spec(fields: &[(&str, FieldValue)]) -> ResourceSpec {
        ResourceSpec {
            name: "www.example.com A 203.0.113.10".to_owned(),
            owner_tag: String::new(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
            protect: false,
        }
    }

    fn s(v: &str) -> FieldValue {
        FieldValue::Str(v.into())
    }

    fn ctx() -> DockContext {
        crate::provider::test_context(ProviderKind::DigitalOcean)
    }

    #[test]
    fn record_ids_split_at_the_last_slash_and_refuse_other_shapes() {
        let c = ctx();
        assert_eq!(
            split_record_id(&c, "GET", &record_id("example.com", "42")).expect("succeeds"),
            ("example.com", "42")
        );
        for bad in ["42", "example.com/", "/42", "a/b/c", ""] {
            let e = split_record_id(&c, "GET", bad).expect_err("fails");
            assert!(e.is(ErrorClass::Invalid), "{bad}: {e}");
            assert!(e.message.contains("<zone>/<record id>"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_desired_record_reads_its_spec_and_names_itself_relative_to_the_zone() {
        let c = ctx();
        let apex = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("example.com")),
            ("type", s("MX")),
            ("value", s("mail.example.com")),
            ("priority", FieldValue::Int(10)),
        ]);
        let d = DesiredRecord::of(&c, "POST", &apex).expect("succeeds");
        assert_eq!(d.relative_name(), "");
        assert_eq!(d.priority, Some(10));
        let www = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("www.example.com")),
            ("type", s("A")),
            ("value", s("203.0.113.10")),
        ]);
        assert_eq!(
            DesiredRecord::of(&c, "POST", &www)
                .expect("succeeds")
                .relative_name(),
            "www"
        );
    }

    #[test]
    fn an_unresolved_server_value_is_refused_before_a_request() {
        let unresolved = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("example.com")),
            ("type", s("A")),
            ("server", s("web-1")),
        ]);
        let e = DesiredRecord::of(&ctx(), "POST", &unresolved).expect_err("fails");
        assert!(e.message.contains("servers.web-1"), "{e}");
        assert!(e.is(ErrorClass::Invalid));
    }

    #[test]
    fn srv_and_caa_values_take_the_zone_file_shape_and_read_back() {
        let c = ctx();
        let srv = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("_sip._tcp.example.com")),
            ("type", s("SRV")),
            ("value", s("sip.example.com")),
            ("priority", FieldValue::Int(10)),
            ("weight", FieldValue::Int(5)),
            ("port", FieldValue::Int(5060)),
        ]);
        let d = DesiredRecord::of(&c, "POST", &srv).expect("succeeds");
        let data = d.zone_file_value().expect("succeeds");
        assert_eq!(data, "5 5060 sip.example.com");
        assert_eq!(srv_data(&data), Some((5, 5060, "sip.example.com")));
        assert_eq!(srv_data("sip.example.com"), None);
        assert_eq!(srv_data("5 5060 sip.example.com extra"), None);
        assert_eq!(srv_data("five 5060 sip.example.com"), None);
        let no_port = DesiredRecord { port: None, ..d };
        assert!(
            no_port
                .zone_file_value()
                .expect_err("fails")
                .contains("port")
        );

        let caa = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("example.com")),
            ("type", s("CAA")),
            ("value", s("letsencrypt.org")),
            ("tag", s("issue")),
        ]);
        let d = DesiredRecord::of(&c, "POST", &caa).expect("succeeds");
        let data = d.zone_file_value().expect("succeeds");
        assert_eq!(data, "0 issue \"letsencrypt.org\"");
        let raw = ProviderRecord {
            zone: "example.com",
            name: "",
            record_type: "CAA",
            value: &data,
            ..ProviderRecord::default()
        };
        let back = dns::normalize(&raw).expect("succeeds");
        assert_eq!(
            (back.flags, back.tag.as_deref(), back.value.as_str()),
            (Some(0), Some("issue"), "letsencrypt.org")
        );
        let untagged = DesiredRecord { tag: None, ..d };
        assert!(
            untagged
                .zone_file_value()
                .expect_err("fails")
                .contains("tag")
        );
    }

    #[test]
    fn long_txt_values_are_split_into_quoted_strings_that_normalise_back() {
        let value = format!("v=DKIM1; p={}", "k".repeat(400));
        let record = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("mail._domainkey.example.com")),
            ("type", s("TXT")),
            ("value", s(&value)),
        ]);
        let d = DesiredRecord::of(&ctx(), "POST", &record).expect("succeeds");
        let wire = d.wire_value();
        let strings = dns::txt_strings(&wire);
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.chars().count() <= TXT_STRING_MAX));
        assert_eq!(strings.concat(), value);
        let short = spec(&[
            ("zone", s("example.com")),
            ("fqdn", s("example.com")),
            ("type", s("TXT")),
            ("value", s("v=spf1 -all")),
        ]);
        let d = DesiredRecord::of(&ctx(), "POST", &short).expect("succeeds");
        assert_eq!(d.wire_value(), "v=spf1 -all");
    }
}
