//! Resource kinds and provider names: the two closed vocabularies every other module speaks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::dock_settings::{DockSetting, DockSettingSpec, Text};

/// A universal resource kind. Each has one table, whatever the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Servers,
    BlockVolumes,
    Buckets,
    Databases,
    WebServices,
    /// DNS zones: one row per zone.
    Domains,
    /// DNS records: one row per record, in their own table (design.md §3). Declared inside a zone
    /// (`[[domains."<zone>".records]]`), never as a top-level table of the file.
    DomainRecords,
}

impl Kind {
    /// Every kind with a universal table in the stores, in dependency order: a kind may depend
    /// only on kinds before it. The stores create and list one table per entry.
    ///
    /// [`Kind::DomainRecords`] ranks last (records follow their zone and the servers whose
    /// addresses they carry). It has a table like every kind, but it is never a top-level table
    /// of `stackdock.toml`: see [`Kind::is_declared_at_top`].
    pub const ALL: [Kind; 7] = [
        Kind::Servers,
        Kind::Databases,
        Kind::Buckets,
        Kind::BlockVolumes,
        Kind::WebServices,
        Kind::Domains,
        Kind::DomainRecords,
    ];

    /// Whether the kind is a top-level table of `stackdock.toml` (`[servers.<name>]`, …). DNS
    /// records are not: they are declared inside their zone (`[[domains."<zone>".records]]`).
    pub const fn is_declared_at_top(self) -> bool {
        !matches!(self, Kind::DomainRecords)
    }

    /// The kind this kind's resources live in, listed first (a DNS record's zone): a listing of
    /// this kind reads its parents' listing instead of its own.
    pub const fn parent(self) -> Option<Kind> {
        match self {
            Kind::DomainRecords => Some(Kind::Domains),
            _ => None,
        }
    }

    /// Name of the universal table (and SQLite table): `servers`, `blockVolumes`, …
    pub fn table(self) -> &'static str {
        match self {
            Kind::Servers => "servers",
            Kind::BlockVolumes => "blockVolumes",
            Kind::Buckets => "buckets",
            Kind::Databases => "databases",
            Kind::WebServices => "webServices",
            Kind::Domains => "domains",
            Kind::DomainRecords => "domainRecords",
        }
    }

    /// Name of the kind's table in `stackdock.toml` and the first part of an address.
    pub fn config_key(self) -> &'static str {
        match self {
            Kind::Servers => "servers",
            Kind::BlockVolumes => "block_volumes",
            Kind::Buckets => "buckets",
            Kind::Databases => "databases",
            Kind::WebServices => "web_services",
            Kind::Domains => "domains",
            Kind::DomainRecords => "domain_records",
        }
    }

    /// Position in dependency order (servers before volumes, which attach to them; DNS records
    /// last).
    pub fn rank(self) -> usize {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Kind::ALL.len())
    }

    /// Parses either spelling: the config key (`block_volumes`) or the table name (`blockVolumes`).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.config_key() == s || k.table() == s)
    }

    /// Singular noun for messages ("server", "block volume").
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Servers => "server",
            Kind::BlockVolumes => "block volume",
            Kind::Buckets => "bucket",
            Kind::Databases => "database",
            Kind::WebServices => "web service",
            Kind::Domains => "domain",
            Kind::DomainRecords => "DNS record",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_key())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::parse(s).ok_or_else(|| {
            format!(
                "unknown kind `{s}`; valid kinds: {}",
                Kind::ALL.map(Kind::config_key).join(", ")
            )
        })
    }
}

/// A cloud provider StackDock can reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Vultr,
    #[serde(rename = "digitalocean")]
    DigitalOcean,
    Linode,
    Vercel,
    Cloudflare,
}

/// The Vercel team a dock's token works in: every request carries it as `teamId`
/// ([vercel-sdk] every request type's optional `teamId` query parameter). Team ids are `team_`
/// and letters or digits (`team_1a2b3c4d5e6f7g8h9i0j1k2l`, the document's example); the prefix
/// keeps one from being taken for a token, which has none.
pub const VERCEL_TEAM_ID: DockSetting<Text> = DockSetting::optional(
    "team_id",
    "The Vercel team the dock works in (`team_` and letters or digits, e.g. `team_1a2b3c4d5e6f7g8h9i0j1k2l`); without it, the token's personal account.",
)
.pattern("^team_[A-Za-z0-9]{8,64}$");
const VERCEL_SETTINGS: &[DockSettingSpec] = &[VERCEL_TEAM_ID.spec];

impl ProviderKind {
    pub const ALL: [ProviderKind; 5] = [
        ProviderKind::Vultr,
        ProviderKind::DigitalOcean,
        ProviderKind::Linode,
        ProviderKind::Vercel,
        ProviderKind::Cloudflare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Vultr => "vultr",
            ProviderKind::DigitalOcean => "digitalocean",
            ProviderKind::Linode => "linode",
            ProviderKind::Vercel => "vercel",
            ProviderKind::Cloudflare => "cloudflare",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The kinds this provider's adapter can sync and provision.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            ProviderKind::Vultr => &[
                Kind::Servers,
                Kind::Databases,
                Kind::BlockVolumes,
                Kind::Domains,
                Kind::DomainRecords,
            ],
            ProviderKind::DigitalOcean => &[
                Kind::Servers,
                Kind::BlockVolumes,
                Kind::Domains,
                Kind::DomainRecords,
            ],
            ProviderKind::Linode => &[
                Kind::Servers,
                Kind::Buckets,
                Kind::BlockVolumes,
                Kind::Domains,
                Kind::DomainRecords,
            ],
            ProviderKind::Vercel => &[Kind::WebServices, Kind::Domains, Kind::DomainRecords],
            ProviderKind::Cloudflare => &[
                Kind::WebServices,
                Kind::Databases,
                Kind::Buckets,
                Kind::Domains,
                Kind::DomainRecords,
            ],
        }
    }

    pub fn supports(self, kind: Kind) -> bool {
        self.kinds().contains(&kind)
    }

    /// The settings this provider's docks take beside `provider`, `credentials`, `endpoint` and
    /// `regions` (see [`crate::dock_settings`]): the one list the parser, the config reference and
    /// the JSON Schema read. A provider declares each as a `pub const` `DockSetting<T>` next to
    /// this enum and lists its `spec` here, e.g. a 32-hex `account_id`:
    /// `DockSetting::<Text>::required("account_id", "…").pattern("^[0-9a-f]{32}$")`.
    pub fn dock_settings(self) -> &'static [DockSettingSpec] {
        match self {
            ProviderKind::Vultr | ProviderKind::DigitalOcean | ProviderKind::Linode => &[],
            ProviderKind::Vercel => VERCEL_SETTINGS,
            ProviderKind::Cloudflare => CLOUDFLARE_SETTINGS,
        }
    }

    /// Base URL including the version path, replaced by a dock's `endpoint`: the provider's
    /// published API. The one copy: the provider kit's declarations (`base_url`) and the Lambda
    /// target's endpoint rule (`config::target`) both read it.
    pub const fn default_endpoint(self) -> &'static str {
        match self {
            ProviderKind::Vultr => "https://api.vultr.com/v2",
            ProviderKind::DigitalOcean => "https://api.digitalocean.com/v2",
            ProviderKind::Linode => "https://api.linode.com/v4",
            // Each path carries its own version (`/v5/domains`), so the base has none.
            ProviderKind::Vercel => "https://api.vercel.com",
            ProviderKind::Cloudflare => "https://api.cloudflare.com/client/v4",
        }
    }
}

/// The Cloudflare account a dock works in ([cf-spec] `account_id` path parameter: 32 lowercase
/// hex digits). Zones are listed in it (`account.id` filter) and created in it; R2 buckets and D1
/// databases live under `/accounts/{account_id}`, so a dock that declares them must set it. A
/// dock that only holds DNS may leave it out: its zones are then every zone the token can see.
pub const CLOUDFLARE_ACCOUNT_ID: DockSetting<Text> = DockSetting::optional(
    "account_id",
    "The Cloudflare account the dock works in (32 lowercase hex digits, shown on the dashboard's overview). Optional for a dock that only holds DNS zones (all the token can see are listed); required when the file declares `buckets`, `databases` or `web_services` (Pages projects) on the dock.",
)
.pattern("^[0-9a-f]{32}$")
.required_for(&[Kind::Buckets, Kind::Databases, Kind::WebServices]);

const CLOUDFLARE_SETTINGS: &[DockSettingSpec] = &[CLOUDFLARE_ACCOUNT_ID.spec];

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_in_both_spellings() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.config_key()), Some(k));
            assert_eq!(Kind::parse(k.table()), Some(k));
        }
        assert_eq!(Kind::parse("server"), None);
    }

    #[test]
    fn servers_come_before_volumes() {
        assert!(Kind::Servers.rank() < Kind::BlockVolumes.rank());
    }

    #[test]
    fn dns_records_follow_their_zone_and_have_their_own_table() {
        assert!(Kind::Domains.rank() < Kind::DomainRecords.rank());
        assert!(Kind::Servers.rank() < Kind::DomainRecords.rank());
        assert_eq!(Kind::DomainRecords.rank(), Kind::ALL.len() - 1);
        assert_eq!(Kind::DomainRecords.table(), "domainRecords");
        assert_eq!(Kind::parse("domainRecords"), Some(Kind::DomainRecords));
        assert_eq!(Kind::parse("domain_records"), Some(Kind::DomainRecords));
        assert!(!Kind::DomainRecords.is_declared_at_top());
        assert!(Kind::Domains.is_declared_at_top());
    }
}
