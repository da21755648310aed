//! The `stackdock.toml` language: the desired state as typed values, and the parser that turns a
//! file into them while reporting every mistake with its `file:line:column`.
//!
//! Parsing is pure: it reads a string, not a file. Reading `user_data_file` contents happens at
//! apply time in the engine; the validator only checks that the path stays inside the config's
//! directory.

mod credentials;
mod cross_check;
mod diagnostic;
mod dns;
mod docks;
pub mod json_schema;
pub(crate) mod keys;
mod notify;
mod parse;
#[cfg(test)]
mod parse_tests;
pub mod reference;
mod report;
#[cfg(test)]
mod settings_tests;
pub mod target;
mod validate;
mod values;
mod web_services;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use diagnostic::{Diagnostic, Diagnostics};
pub use notify::{Notify, NotifyOn};
pub use parse::parse;
pub use target::{DEFAULT_SECRET_PREFIX, LambdaTarget, check_lambda};

use crate::dock_settings::{DockSetting, DockSettings, SettingType};
use crate::{CompactString, FieldValue, Kind, ProviderKind, VecMap};

/// The whole desired state of one `stackdock.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub settings: Settings,
    /// Docks by name.
    pub docks: BTreeMap<String, DockConfig>,
    /// Desired resources, sorted by kind (dependency order) then name.
    pub resources: Vec<DesiredResource>,
    /// `[notify]`, when the file has one. Left out of the JSON when absent, so the digest of a
    /// file without it is what it always was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
}

/// The `[stackdock]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub org: String,
    /// Delete resources StackDock created once their entry is removed (default false).
    pub prune: bool,
    pub drift: DriftMode,
    /// Prefix of the DynamoDB table names (default `stackdock`).
    pub table_prefix: String,
    /// EventBridge Scheduler expression for the scheduled sync (used by infra).
    pub schedule: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftMode {
    /// Record and report drift; the scheduled sync changes nothing. A reviewed `apply` still
    /// restores the file's values (the plan lists each drifted field's update).
    #[default]
    Flag,
    /// Record drift, and have the scheduled sync submit the apply that removes it.
    Remediate,
}

/// A `[docks.<name>]` table: one provider account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockConfig {
    pub name: String,
    pub provider: ProviderKind,
    pub credentials: CredentialRef,
    /// Replaces the provider's base URL including its version path.
    pub endpoint: Option<String>,
    /// Limit sync to these regions (`None`: all).
    pub regions: Option<BTreeSet<String>>,
    /// The provider-specific settings its provider declares
    /// ([`ProviderKind::dock_settings`]), read typed with [`DockConfig::setting`].
    #[serde(default, skip_serializing_if = "DockSettings::is_empty")]
    pub settings: DockSettings,
}

impl DockConfig {
    /// The value of one of its provider's dock settings, typed by the setting's declaration.
    pub fn setting<T: SettingType>(&self, setting: &DockSetting<T>) -> Option<T::Value<'_>> {
        self.settings.get(setting)
    }
}

/// Where a dock's credential comes from. The credential itself never appears in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialRef {
    /// An environment variable's name.
    Env(String),
    /// A Secrets Manager secret name or ARN.
    Secret(String),
}

impl std::fmt::Display for CredentialRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialRef::Env(v) => write!(f, "environment variable {v}"),
            CredentialRef::Secret(s) => write!(f, "Secrets Manager secret {s}"),
        }
    }
}

/// One `[<kind>.<name>]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub kind: Kind,
    /// The resource's label at the provider.
    pub name: CompactString,
    pub dock: CompactString,
    pub protect: bool,
    /// Pin to an existing provider resource.
    pub id: Option<String>,
    pub ignore_changes: BTreeSet<String>,
    pub allow_replace: bool,
    /// Kind-specific keys (`region`, `plan`, `size_gb`, …) as written.
    pub fields: VecMap<CompactString, FieldValue>,
}

impl DesiredResource {
    /// `<kind>.<name>`, e.g. `servers.web-1`.
    pub fn address(&self) -> String {
        address(self.kind, &self.name)
    }

    pub fn field(&self, key: &str) -> Option<&FieldValue> {
        self.fields.get(key)
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(FieldValue::as_str)
    }

    /// What apply asks an adapter to create or converge to for this entry of `org`: the one place
    /// a `ResourceSpec` is built from the file (the plan's actions and the plan-time catalog
    /// checks both use it).
    pub fn spec(&self, org: &str) -> crate::plan::ResourceSpec {
        crate::plan::ResourceSpec {
            name: self.name.to_string(),
            owner_tag: crate::record::owner_tag(org, &self.address()),
            fields: self.fields.clone(),
            protect: self.protect,
        }
    }
}

/// The address of a resource entry.
pub fn address(kind: Kind, name: &str) -> String {
    format!("{}.{name}", kind.config_key())
}

impl Config {
    pub fn dock(&self, name: &str) -> Option<&DockConfig> {
        self.docks.get(name)
    }

    /// Digest of the desired state (comments and formatting do not count).
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        crate::plan::digest::hash_json(&mut h, self);
        hex::encode(h.finalize())
    }

    pub fn resource(&self, address: &str) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| r.address() == address)
    }
}
