//! The kind-specific half of a record: one struct of attributes per universal table, tagged by
//! `kind`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Kind, VecSet};

/// Kind-specific attributes, tagged by `kind` (the universal table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Attrs {
    Servers(ServerAttrs),
    BlockVolumes(VolumeAttrs),
    Buckets(BucketAttrs),
    Databases(DatabaseAttrs),
    /// Boxed: twice the size of any other kind's attributes, it made every record (most of them
    /// servers, volumes and DNS records) 200 bytes larger — 19 MiB of a 100,000-resource plan.
    WebServices(Box<WebServiceAttrs>),
    Domains(DomainAttrs),
    DomainRecords(DomainRecordAttrs),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAttrs {
    /// Plan / size / type slug.
    #[serde(default)]
    pub instance_type: Option<String>,
    /// Primary public IPv4.
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub tags: VecSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeAttrs {
    #[serde(default)]
    pub size_gb: Option<i64>,
    /// Provider id of the server it is attached to.
    #[serde(default)]
    pub attached_to_instance: Option<String>,
    /// Label of that server.
    #[serde(default)]
    pub attached_to_instance_label: Option<String>,
    #[serde(default)]
    pub mount_id: Option<String>,
    #[serde(default)]
    pub block_type: Option<String>,
    #[serde(default)]
    pub filesystem_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketAttrs {
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<i64>,
    #[serde(default)]
    pub object_count: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseAttrs {
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
}

/// A web service (design.md §3; per provider: provider-apis-2.md §12.2): a Vercel project, a
/// Cloudflare Pages project, a Worker. The function region (Vercel `serverlessFunctionRegion`) is
/// the record's `region`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebServiceAttrs {
    /// `project` (Vercel), `pages`, `worker` (Cloudflare), … (`crate::web_service`).
    #[serde(default)]
    pub subtype: Option<String>,
    /// Where production is served: the first custom domain, else the provider's own URL.
    #[serde(default)]
    pub production_url: Option<String>,
    /// The provider's own URL of production (`https://<name>.vercel.app`, `<name>.pages.dev`).
    #[serde(default)]
    pub default_url: Option<String>,
    /// Custom domains attached to the service, lowercase.
    #[serde(default)]
    pub custom_domains: BTreeSet<String>,
    /// The git repository whose pushes deploy; every part `None` for a direct-upload service.
    /// Not an `Option`: the SQLite store derives each column's codec from an empty record, where
    /// `None` would make it a scalar column that cannot hold the object.
    #[serde(default)]
    pub repo: WebServiceRepo,
    /// Framework preset (`nextjs`, `astro`, …).
    #[serde(default)]
    pub framework: Option<String>,
    /// The provider's own word for the production deployment's state (Vercel `readyState`).
    #[serde(default)]
    pub provider_status: Option<String>,
    /// When the production deployment was made (RFC 3339 UTC).
    #[serde(default)]
    pub last_deploy_at: Option<String>,
    #[serde(default)]
    pub last_deploy_id: Option<String>,
    #[serde(default)]
    pub last_commit_sha: Option<String>,
    /// The `NAME@target` entries of the service's environment variables
    /// (`crate::web_service::env_entry`): names only, values are never read or stored.
    #[serde(default)]
    pub env_var_names: BTreeSet<String>,
    /// How the service builds: the settings a file manages beside the repository (an extension
    /// of design.md §3, which names no build fields).
    #[serde(default)]
    pub build: WebServiceBuild,
}

/// A web service's repository link (`repo` of design.md §3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebServiceRepo {
    /// The git host: `github`, `gitlab`, `bitbucket`.
    #[serde(default)]
    pub provider: Option<String>,
    /// `owner/name` (GitLab: `group/subgroup/name`).
    #[serde(default)]
    pub full_name: Option<String>,
    /// The branch that deploys to production.
    #[serde(default)]
    pub branch: Option<String>,
}

/// A web service's build settings, as the provider reports them (`None`: the framework's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebServiceBuild {
    #[serde(default)]
    pub root_directory: Option<String>,
    #[serde(default)]
    pub build_command: Option<String>,
    #[serde(default)]
    pub install_command: Option<String>,
    #[serde(default)]
    pub output_directory: Option<String>,
}

/// A DNS zone (design.md §3; per provider: provider-apis-2.md §12.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainAttrs {
    /// Lowercase, without the trailing dot.
    #[serde(default)]
    pub zone_name: Option<String>,
    /// Whether the provider serves the zone's records (true for DigitalOcean, Vultr, Linode).
    /// A plain `bool`, not `Option<bool>`: the SQLite store derives each column's codec from an
    /// empty record, where `None` would make it a scalar and `true` would read back as `1`.
    #[serde(default)]
    pub dns_hosted: bool,
    /// The provider's nameservers for the zone.
    #[serde(default)]
    pub assigned_nameservers: Vec<String>,
    #[serde(default)]
    pub registrar: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub records_count: Option<i64>,
    /// Hash of the zone's normalised record set: an unchanged zone is seen without comparing
    /// every record.
    #[serde(default)]
    pub records_digest: Option<String>,
}

/// One DNS record (design.md §3), in the canonical form of [`crate::dns::normalize`];
/// `providerResourceId` is `<zone id>/<record id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainRecordAttrs {
    /// The zone's name.
    #[serde(default)]
    pub zone: Option<String>,
    /// Lowercase, without the trailing dot.
    #[serde(default)]
    pub fqdn: Option<String>,
    /// Upper case.
    #[serde(default, rename = "type")]
    pub record_type: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    /// `None`: the provider's default.
    #[serde(default)]
    pub ttl: Option<i64>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub flags: Option<i64>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Only providers with a proxy (Cloudflare) set it; `false` elsewhere (a plain `bool` for the
    /// same reason as [`DomainAttrs::dns_hosted`]).
    #[serde(default)]
    pub proxied: bool,
    /// Provider-managed (SOA, apex NS): never planned.
    #[serde(default)]
    pub managed: bool,
}

impl From<crate::dns::CanonicalRecord> for DomainRecordAttrs {
    fn from(r: crate::dns::CanonicalRecord) -> DomainRecordAttrs {
        let managed = r.record_type == "SOA" || (r.record_type == "NS" && r.fqdn == r.zone);
        DomainRecordAttrs {
            zone: Some(r.zone),
            fqdn: Some(r.fqdn),
            record_type: Some(r.record_type),
            value: Some(r.value),
            ttl: r.ttl,
            priority: r.priority,
            weight: r.weight,
            port: r.port,
            flags: r.flags,
            tag: r.tag,
            proxied: false,
            managed,
        }
    }
}

impl Attrs {
    /// Empty attributes of a kind.
    pub fn empty(kind: Kind) -> Attrs {
        match kind {
            Kind::Servers => Attrs::Servers(ServerAttrs::default()),
            Kind::BlockVolumes => Attrs::BlockVolumes(VolumeAttrs::default()),
            Kind::Buckets => Attrs::Buckets(BucketAttrs::default()),
            Kind::Databases => Attrs::Databases(DatabaseAttrs::default()),
            Kind::WebServices => Attrs::WebServices(Box::default()),
            Kind::Domains => Attrs::Domains(DomainAttrs::default()),
            Kind::DomainRecords => Attrs::DomainRecords(DomainRecordAttrs::default()),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Attrs::Servers(_) => Kind::Servers,
            Attrs::BlockVolumes(_) => Kind::BlockVolumes,
            Attrs::Buckets(_) => Kind::Buckets,
            Attrs::Databases(_) => Kind::Databases,
            Attrs::WebServices(_) => Kind::WebServices,
            Attrs::Domains(_) => Kind::Domains,
            Attrs::DomainRecords(_) => Kind::DomainRecords,
        }
    }
}
