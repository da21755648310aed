//! The universal record: one row of a universal table (`servers`, `blockVolumes`, …), whatever the
//! provider, plus the per-dock sync status kept in the `docks` table.
//!
//! A record has two halves. The *observed* half (identity, name, status, region, kind attributes,
//! `fullApiData`) comes from a provider listing and is what `contentHash` covers. The *bookkeeping*
//! half (`managedBy`, `provisioningSource`, `protect`, `drift`, `applied`, …) is StackDock's own and
//! survives every re-sync.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ApiData, CompactString, FieldValue, Kind, ProviderKind, VecMap, VecSet};

mod attrs;

pub use attrs::{
    Attrs, BucketAttrs, DatabaseAttrs, DomainAttrs, DomainRecordAttrs, ServerAttrs, VolumeAttrs,
    WebServiceAttrs, WebServiceBuild, WebServiceRepo,
};

/// One resource as StackDock last saw it.
///
/// The short identity fields are [`CompactString`]s: up to 24 bytes they live inside the record
/// (no heap allocation, no pointer to chase when the planner compares or hashes them), longer
/// ones on the heap like a `String`. They serialize exactly as strings do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub org_id: CompactString,
    /// `<org>/<dock name>`: unique across every org that shares the tables.
    pub dock_id: CompactString,
    pub provider: ProviderKind,
    pub provider_resource_id: CompactString,
    /// The label at the provider (the id when the resource has no label).
    pub name: CompactString,
    /// Normalised per kind; servers: `running`, `stopped`, `pending`, `error`, `unknown`.
    pub status: CompactString,
    #[serde(default)]
    pub region: Option<CompactString>,
    #[serde(flatten)]
    pub attrs: Attrs,
    /// The provider's whole object with every secret field removed.
    #[serde(default)]
    pub full_api_data: ApiData,
    /// Whether the store cut `fullApiData` down to its size limit (the object the provider sent
    /// was larger; `contentHash` still covers the whole of it).
    #[serde(default)]
    pub full_api_data_truncated: bool,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub missing_since: Option<Timestamp>,
    #[serde(default)]
    pub content_hash: String,
    /// The config address that owns this resource (`servers.web-1`), `None` if unmanaged.
    #[serde(default)]
    pub managed_by: Option<CompactString>,
    #[serde(default)]
    pub provisioning_source: ProvisioningSource,
    #[serde(default)]
    pub provisioning_state: Option<ProvisioningState>,
    #[serde(default)]
    pub provisioned_at: Option<Timestamp>,
    /// Why the last create failed (`provisioningState = failed`): the provider's refusal, or
    /// the readiness wait that ran out, free of secrets. A later successful create clears it.
    #[serde(default)]
    pub provisioning_error: Option<String>,
    /// Deletion protection; persists after the entry leaves the file.
    #[serde(default)]
    pub protect: bool,
    /// Differences found by the last plan between what StackDock applied and what runs.
    #[serde(default)]
    pub drift: Vec<DriftEntry>,
    /// The managed field values StackDock last applied (or adopted): the baseline drift is measured
    /// against, so an edit of the file is an update and an edit at the provider is drift.
    #[serde(default)]
    pub applied: VecMap<CompactString, FieldValue>,
}

/// Who brought a resource into existence.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningSource {
    /// StackDock created it through the provider API: the only resources it may ever delete.
    Api,
    /// Discovered by a sync (or adopted): never deleted.
    #[default]
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningState {
    Provisioning,
    Provisioned,
    Failed,
    Deprovisioning,
}

/// One drifted field: what StackDock applied versus what runs now.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DriftEntry {
    pub field: String,
    pub desired: Option<FieldValue>,
    pub actual: Option<FieldValue>,
}

/// Prefix of every tag StackDock writes; such tags are never compared with desired tags.
pub const OWNER_TAG_PREFIX: &str = "stackdock-";

/// The ownership tag of a resource: derived from org and address, short enough for every
/// provider's tag rules (DigitalOcean: letters, digits, `:`, `-`, `_`; Linode: 3–50 characters),
/// so a resource can be found again after a crash between the create request and its record.
pub fn owner_tag(org: &str, address: &str) -> String {
    let digest = Sha256::digest(format!("{org}\n{address}").as_bytes());
    format!("{OWNER_TAG_PREFIX}{}", &hex::encode(digest)[..16])
}

/// Whether a tag is one StackDock manages itself (ownership), not a user tag.
pub fn is_owner_tag(tag: &str) -> bool {
    tag.starts_with(OWNER_TAG_PREFIX)
}

impl Record {
    /// A fresh, unmanaged record with empty attributes of `kind`.
    pub fn new(
        org_id: impl Into<CompactString>,
        dock_id: impl Into<CompactString>,
        provider: ProviderKind,
        kind: Kind,
        provider_resource_id: impl Into<CompactString>,
        name: impl Into<CompactString>,
    ) -> Record {
        Record {
            org_id: org_id.into(),
            dock_id: dock_id.into(),
            provider,
            provider_resource_id: provider_resource_id.into(),
            name: name.into(),
            status: CompactString::const_new("unknown"),
            region: None,
            attrs: Attrs::empty(kind),
            full_api_data: ApiData::null(),
            full_api_data_truncated: false,
            updated_at: None,
            missing_since: None,
            content_hash: String::new(),
            managed_by: None,
            provisioning_source: ProvisioningSource::Manual,
            provisioning_state: None,
            provisioned_at: None,
            provisioning_error: None,
            protect: false,
            drift: Vec::new(),
            applied: VecMap::new(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.attrs.kind()
    }

    /// The upsert key: `(dockId, kind, providerResourceId)`.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            dock_id: self.dock_id.to_string(),
            kind: self.kind(),
            provider_resource_id: self.provider_resource_id.to_string(),
        }
    }

    /// Hash of the observed half of the record (not the bookkeeping, not `updatedAt`).
    pub fn observed_hash(&self) -> String {
        #[derive(Serialize)]
        struct Observed<'a> {
            provider: ProviderKind,
            id: &'a str,
            name: &'a str,
            status: &'a str,
            region: Option<&'a str>,
            attrs: &'a Attrs,
            full: &'a ApiData,
        }
        let observed = Observed {
            provider: self.provider,
            id: &self.provider_resource_id,
            name: &self.name,
            status: &self.status,
            region: self.region.as_deref(),
            attrs: &self.attrs,
            full: &self.full_api_data,
        };
        // `fullApiData` is hashed as the text kept: a provider that sends the same object sends
        // the same text (the adapters redact through a `Value`, whose keys are sorted).
        // BLAKE3, not SHA-256: this hash decides writes, not trust, and it runs over every listed
        // object on every sync (SHA-256 was 8% of a 10,000-resource sync's CPU; perf). The JSON is
        // written into a buffer reused by the thread and hashed in one call, so BLAKE3 can hash
        // its 1 KiB chunks side by side.
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            // Writing into a Vec cannot fail, and these types always serialize.
            let _ = serde_json::to_writer(&mut *buffer, &observed);
            let hash = blake3::hash(buffer).to_hex().to_string();
            // Keep the buffer for the next record, unless one huge object made it grow.
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            hash
        })
    }

    /// Sets `contentHash` from the observed half; returns `self` for chaining.
    pub fn with_hash(mut self) -> Record {
        self.content_hash = self.observed_hash();
        self
    }

    /// Copies StackDock's bookkeeping from the stored version of this record, so that a re-sync
    /// never forgets who manages a resource, whether it is protected or what was applied.
    pub fn keep_bookkeeping_of(&mut self, stored: &Record) {
        self.managed_by.clone_from(&stored.managed_by);
        self.provisioning_source = stored.provisioning_source;
        self.provisioning_state = stored.provisioning_state;
        self.provisioned_at = stored.provisioned_at;
        self.provisioning_error
            .clone_from(&stored.provisioning_error);
        self.protect = stored.protect;
        self.drift.clone_from(&stored.drift);
        self.applied.clone_from(&stored.applied);
    }

    /// User tags (ownership tags excluded).
    pub fn user_tags(&self) -> VecSet<String> {
        match &self.attrs {
            Attrs::Servers(s) => s
                .tags
                .iter()
                .filter(|t| !is_owner_tag(t))
                .cloned()
                .collect(),
            _ => VecSet::new(),
        }
    }

    /// A record the provider keeps itself (a zone's SOA and apex NS): never planned, not even
    /// reported as unmanaged.
    pub fn provider_managed(&self) -> bool {
        matches!(&self.attrs, Attrs::DomainRecords(a) if a.managed)
    }

    /// Why StackDock only reports this resource and never plans it (a Cloudflare Workers script,
    /// `crate::web_service::READ_ONLY_SUBTYPES`), or `None` for a resource a file may declare.
    /// A read-only resource is in the inventory and the plan's unmanaged list, but no entry can
    /// adopt, pin, change or delete it, and `stackdock import` skips it.
    pub fn read_only(&self) -> Option<&'static str> {
        let Attrs::WebServices(a) = &self.attrs else {
            return None;
        };
        let subtype = a.subtype.as_deref()?;
        crate::web_service::READ_ONLY_SUBTYPES
            .iter()
            .find(|(name, _)| *name == subtype)
            .map(|(_, why)| *why)
    }

    /// The actual value of a config field (`plan`, `size_gb`, `attach_to`, …) on this record, in
    /// the same vocabulary as the desired side; `None` where the record has no such value.
    pub fn field(&self, key: &str) -> Option<FieldValue> {
        let s = |v: Option<&str>| v.map(|v| FieldValue::Str(v.into()));
        match (key, &self.attrs) {
            ("region", _) => s(self.region.as_deref()),
            ("name", _) => Some(FieldValue::Str(self.name.clone())),
            ("plan", Attrs::Servers(a)) => s(a.instance_type.as_deref()),
            ("image", Attrs::Servers(a)) => s(a.image.as_deref()),
            ("tags", Attrs::Servers(_)) => Some(FieldValue::Set(self.user_tags())),
            // Only a settled server is on or off: pending (built, booting, shutting down),
            // error and unknown have no power value (`schema::settled_only`).
            ("power", Attrs::Servers(_)) => match self.status.as_str() {
                "running" => Some(FieldValue::Str("on".into())),
                "stopped" => Some(FieldValue::Str("off".into())),
                _ => None,
            },
            ("size_gb", Attrs::BlockVolumes(a)) => a.size_gb.map(FieldValue::Int),
            ("attach_to", Attrs::BlockVolumes(a)) => s(a.attached_to_instance_label.as_deref()),
            ("block_type", Attrs::BlockVolumes(a)) => s(a.block_type.as_deref()),
            ("cluster", Attrs::Buckets(a)) => s(a.cluster.as_deref()),
            // An R2 bucket's jurisdiction is the storage partition it lives in: kept where a
            // Linode bucket keeps its cluster (only Cloudflare buckets take the key).
            ("jurisdiction", Attrs::Buckets(a)) => s(a.cluster.as_deref()),
            ("engine", Attrs::Databases(a)) => s(a.engine.as_deref()),
            ("version", Attrs::Databases(a)) => s(a.version.as_deref()),
            ("plan", Attrs::Databases(a)) => s(a.instance_type.as_deref()),
            ("value", Attrs::DomainRecords(a)) => s(a.value.as_deref()),
            ("tag", Attrs::DomainRecords(a)) => s(a.tag.as_deref()),
            ("ttl", Attrs::DomainRecords(a)) => a.ttl.map(FieldValue::Int),
            ("priority", Attrs::DomainRecords(a)) => a.priority.map(FieldValue::Int),
            ("weight", Attrs::DomainRecords(a)) => a.weight.map(FieldValue::Int),
            ("port", Attrs::DomainRecords(a)) => a.port.map(FieldValue::Int),
            ("flags", Attrs::DomainRecords(a)) => a.flags.map(FieldValue::Int),
            ("proxied", Attrs::DomainRecords(a)) => Some(FieldValue::Bool(a.proxied)),
            ("subtype", Attrs::WebServices(a)) => s(a.subtype.as_deref()),
            ("framework", Attrs::WebServices(a)) => s(a.framework.as_deref()),
            ("repo", Attrs::WebServices(a)) => s(a.repo.full_name.as_deref()),
            ("repo_provider", Attrs::WebServices(a)) => s(a.repo.provider.as_deref()),
            ("production_branch", Attrs::WebServices(a)) => s(a.repo.branch.as_deref()),
            ("root_directory", Attrs::WebServices(a)) => s(a.build.root_directory.as_deref()),
            ("build_command", Attrs::WebServices(a)) => s(a.build.build_command.as_deref()),
            ("install_command", Attrs::WebServices(a)) => s(a.build.install_command.as_deref()),
            ("output_directory", Attrs::WebServices(a)) => s(a.build.output_directory.as_deref()),
            ("serverless_function_region", Attrs::WebServices(_)) => s(self.region.as_deref()),
            ("domains", Attrs::WebServices(a)) => {
                Some(FieldValue::set(a.custom_domains.iter().cloned()))
            }
            ("env", Attrs::WebServices(a)) => {
                Some(FieldValue::set(a.env_var_names.iter().cloned()))
            }
            _ => None,
        }
    }
}

/// Identity of a record within the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordKey {
    pub dock_id: String,
    pub kind: Kind,
    pub provider_resource_id: String,
}

/// The `docks` table: when a dock's inventory was last confirmed complete, and the last failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockStatus {
    pub org_id: String,
    pub dock_id: String,
    pub name: String,
    pub provider: ProviderKind,
    /// When a sync last listed every kind of this dock completely.
    #[serde(default)]
    pub last_sync_at: Option<Timestamp>,
    /// When a sync last tried.
    #[serde(default)]
    pub last_attempt_at: Option<Timestamp>,
    /// The last attempt's error (already free of secrets), `None` if it succeeded.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The provider's catalog in its stored form (`stackdock_providers::Catalog`, with when it
    /// was read), as the last sync or `stackdock catalog` read it: what plans are checked
    /// against without a provider request while it is fresh, and what `stackdock catalog` shows.
    /// Under 100 KB for DigitalOcean's real one; `None` for providers without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Fingerprints of the values the dock's web services' environment variables resolve to, as
    /// the last sync read them (`crate::env_values`; never a value): what a plan compares with the
    /// fingerprints of the values last sent. Empty when the dock has none or none could be read.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env_fingerprints: crate::env_values::EnvFingerprints,
}

/// The `providerResourceId` of the record a refused create leaves (`failed:<address>`): the
/// provider made nothing, so the record is keyed by the entry's address.
pub fn failed_create_id(address: &str) -> String {
    format!("failed:{address}")
}

impl Record {
    /// Whether this is the record of a create the provider refused (nothing exists there).
    pub fn is_refused_create(&self) -> bool {
        self.provider_resource_id.starts_with("failed:")
            && self.provisioning_state == Some(ProvisioningState::Failed)
    }
}

/// The id of a dock: `<org>/<dock name>`.
pub fn dock_id(org: &str, dock: &str) -> String {
    format!("{org}/{dock}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Record {
        let mut r = Record::new(
            "acme",
            "acme/vultr-main",
            ProviderKind::Vultr,
            Kind::Servers,
            "id-1",
            "web-1",
        );
        r.status = "running".into();
        r.region = Some("ewr".into());
        r.attrs = Attrs::Servers(ServerAttrs {
            instance_type: Some("vc2-1c-1gb".into()),
            tags: ["web".to_owned(), owner_tag("acme", "servers.web-1")].into(),
            ..ServerAttrs::default()
        });
        r.with_hash()
    }

    #[test]
    fn bookkeeping_does_not_change_the_content_hash() {
        let a = server();
        let mut b = a.clone();
        b.managed_by = Some("servers.web-1".into());
        b.protect = true;
        b.updated_at = Some(Timestamp::UNIX_EPOCH);
        assert_eq!(a.observed_hash(), b.observed_hash());
        b.status = "stopped".into();
        assert_ne!(a.observed_hash(), b.observed_hash());
    }

    #[test]
    fn record_round_trips_through_json_with_flat_kind_fields() {
        let r = server();
        let json = serde_json::to_value(&r).expect("serialise");
        assert_eq!(json["kind"], "servers");
        assert_eq!(json["instanceType"], "vc2-1c-1gb");
        assert_eq!(json["providerResourceId"], "id-1");
        let back: Record = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, r);
    }

    #[test]
    fn a_dns_record_row_has_its_table_fields_and_marks_provider_records_managed() {
        let canonical = |name: &str, t: &str, value: &str| {
            crate::dns::normalize(&crate::dns::ProviderRecord {
                zone: "example.com",
                name,
                record_type: t,
                value,
                ..crate::dns::ProviderRecord::default()
            })
            .expect("valid record")
        };
        let mut r = Record::new(
            "acme",
            "acme/do-main",
            ProviderKind::DigitalOcean,
            Kind::DomainRecords,
            "example.com/3352896",
            "www.example.com",
        );
        r.attrs = Attrs::DomainRecords(canonical("www", "a", "203.0.113.10").into());
        let json = serde_json::to_value(&r).expect("serialise");
        assert_eq!(json["kind"], "domainRecords");
        assert_eq!(json["fqdn"], "www.example.com");
        assert_eq!(json["type"], "A");
        assert_eq!(json["ttl"], serde_json::Value::Null);
        assert_eq!(json["managed"], false);
        let back: Record = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, r);

        let apex_ns = DomainRecordAttrs::from(canonical("@", "NS", "ns1.digitalocean.com."));
        let sub_ns = DomainRecordAttrs::from(canonical("sub", "NS", "ns1.example.net."));
        let soa = DomainRecordAttrs::from(canonical("@", "SOA", "1800"));
        assert!(apex_ns.managed && soa.managed && !sub_ns.managed);
    }

    #[test]
    fn a_web_service_reads_its_managed_fields_and_round_trips() {
        let mut r = Record::new(
            "acme",
            "acme/vercel-main",
            ProviderKind::Vercel,
            Kind::WebServices,
            "prj_1",
            "marketing",
        );
        r.region = Some("iad1".into());
        r.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
            subtype: Some("project".into()),
            custom_domains: ["www.example.com".to_owned()].into(),
            repo: WebServiceRepo {
                provider: Some("github".into()),
                full_name: Some("acme/marketing".into()),
                branch: Some("main".into()),
            },
            framework: Some("nextjs".into()),
            env_var_names: ["API_URL@production".to_owned()].into(),
            build: WebServiceBuild {
                root_directory: Some("apps/web".into()),
                ..WebServiceBuild::default()
            },
            ..WebServiceAttrs::default()
        }));
        let field = |k: &str| r.field(k);
        assert_eq!(field("subtype"), Some(FieldValue::from("project")));
        assert_eq!(field("repo"), Some(FieldValue::from("acme/marketing")));
        assert_eq!(field("repo_provider"), Some(FieldValue::from("github")));
        assert_eq!(field("production_branch"), Some(FieldValue::from("main")));
        assert_eq!(field("root_directory"), Some(FieldValue::from("apps/web")));
        assert_eq!(field("build_command"), None);
        assert_eq!(
            field("serverless_function_region"),
            Some(FieldValue::from("iad1"))
        );
        assert_eq!(field("domains"), Some(FieldValue::set(["www.example.com"])));
        assert_eq!(field("env"), Some(FieldValue::set(["API_URL@production"])));
        assert_eq!(field("env_sources"), None, "never read back");

        let json = serde_json::to_value(&r).expect("serialise");
        assert_eq!(json["kind"], "webServices");
        assert_eq!(json["repo"]["fullName"], "acme/marketing");
        assert_eq!(
            json["envVarNames"],
            serde_json::json!(["API_URL@production"])
        );
        let back: Record = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, r);
        // Every key of a web service entry is read from the record (`env_sources`, derived from
        // `env`, is not a key of its own and is never read back).
        let mut full = r.clone();
        if let Attrs::WebServices(a) = &mut full.attrs {
            a.build = WebServiceBuild {
                root_directory: Some("r".into()),
                build_command: Some("b".into()),
                install_command: Some("i".into()),
                output_directory: Some("o".into()),
            };
        }
        for spec in crate::schema::kind_keys(Kind::WebServices) {
            assert!(full.field(spec.key).is_some(), "{}", spec.key);
        }
    }

    #[test]
    fn owner_tags_are_not_user_tags() {
        let r = server();
        assert_eq!(r.field("tags"), Some(FieldValue::set(["web"])));
        let tag = owner_tag("acme", "servers.web-1");
        assert!(tag.len() <= 50 && is_owner_tag(&tag));
        assert_ne!(tag, owner_tag("acme", "servers.web-2"));
    }
}
