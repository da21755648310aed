//! The `Provider` contract: per kind, list / get / create / update / delete, plus the look-up by
//! ownership tag that makes a create safe to resume after a crash.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use stackdock_core::config::CredentialRef;
use stackdock_core::dock_settings::DockSettings;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, ProviderKind, Record};

use crate::ProviderError;

/// Who an adapter works for: stamped on every record it returns and named in every error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockContext {
    pub org: String,
    /// Dock name (`vultr-main`).
    pub dock: String,
    /// `<org>/<dock>`.
    pub dock_id: String,
    pub provider: ProviderKind,
    /// Where the credential came from (named in unauthorized errors instead of the value).
    pub credential_source: CredentialRef,
    /// The dock's provider-specific settings (Vercel `team_id`, Cloudflare `account_id`), read
    /// typed with `settings.get(&SETTING)`.
    pub settings: DockSettings,
}

/// What apply asks an adapter to create or converge to. Everything is decided: the adapter only
/// translates it into requests.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub spec: &'a ResourceSpec,
    /// Contents of `user_data_file`, read by the engine (may contain secrets: never log).
    pub user_data: Option<&'a str>,
    /// Provider id of the server named by `attach_to`, resolved by the engine.
    pub attach_to_id: Option<&'a str>,
    /// A web service's environment variable values, read by the engine from the references of
    /// `env_sources` (secrets: never log).
    pub env: Option<&'a EnvValues>,
}

impl<'a> Request<'a> {
    /// A request for `spec` alone: no user data, nothing to attach to, no variable values.
    pub fn of(spec: &'a ResourceSpec) -> Request<'a> {
        Request {
            spec,
            user_data: None,
            attach_to_id: None,
            env: None,
        }
    }
}

/// The values of a web service's environment variables by `NAME@target` entry
/// (`stackdock_core::web_service::env_entry`), resolved at apply time. `Debug` prints the entries,
/// never a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvValues(BTreeMap<String, String>);

impl EnvValues {
    pub fn new(values: BTreeMap<String, String>) -> EnvValues {
        EnvValues(values)
    }

    /// The value of one `NAME@target` entry.
    pub fn get(&self, entry: &str) -> Option<&str> {
        self.0.get(entry).map(String::as_str)
    }

    /// Each entry's keyed fingerprint (`stackdock_core::env_values::fingerprint`) for the
    /// resource at `address` on dock `dock_id`: what may be kept, never a value.
    pub fn fingerprints(&self, dock_id: &str, address: &str) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(entry, value)| {
                let fp = stackdock_core::env_values::fingerprint(dock_id, address, entry, value);
                (entry.clone(), fp)
            })
            .collect()
    }
}

impl Debug for EnvValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.0.keys().map(|k| format!("{k}=***")))
            .finish()
    }
}

/// A power action on a server: what `power = "on" | "off"` applies and what `stackdock server
/// power-on | power-off | reboot` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerAction {
    On,
    Off,
    Reboot,
}

impl PowerAction {
    /// The command's name for it (`power-on`, `power-off`, `reboot`).
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::On => "power-on",
            PowerAction::Off => "power-off",
            PowerAction::Reboot => "reboot",
        }
    }

    /// The action that brings a server to the config's `power` value (`on`, `off`).
    pub fn to_reach(power: &str) -> Option<PowerAction> {
        match power {
            "on" => Some(PowerAction::On),
            "off" => Some(PowerAction::Off),
            _ => None,
        }
    }

    /// The universal server status the provider reports once the action is done.
    pub fn target_status(self) -> &'static str {
        match self {
            PowerAction::On | PowerAction::Reboot => "running",
            PowerAction::Off => "stopped",
        }
    }

    /// The config's `power` value once the action is done.
    pub fn power_value(self) -> &'static str {
        match self {
            PowerAction::On | PowerAction::Reboot => "on",
            PowerAction::Off => "off",
        }
    }
}

impl std::fmt::Display for PowerAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One provider account, as an adapter speaks to it.
///
/// # Guarantees adapters give
/// - `list` returns the complete inventory of a kind (every page) or an error: never a partial
///   list presented as complete.
/// - Records carry the dock's ids, the observed fields, `fullApiData` with secret fields removed,
///   and `contentHash` set.
/// - `create` sends the create request at most once; it never retries it. After a timeout or a
///   5xx the engine calls `find_owned` before deciding anything.
/// - `get` maps 404 to `Ok(None)`.
#[async_trait]
pub trait Provider: Send + Sync + Debug {
    fn context(&self) -> &DockContext;

    /// One cheap authenticated request, to tell a bad credential from a bad listing.
    async fn check_credentials(&self) -> Result<(), ProviderError>;

    /// Who the credential belongs to, its balance and limits, as far as the provider reports
    /// them (`stackdock docks`). Never stored or logged. By default only the credential is
    /// checked.
    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        self.check_credentials().await?;
        Ok(crate::AccountInfo::default())
    }

    /// Every resource of `kind` on the dock.
    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError>;

    /// Every resource of `kind` in `parents`, the complete listing of its parent kind
    /// (`Kind::parent`: a sync lists the zones once, then their records). A kind without a
    /// parent lists as [`Provider::list`] does.
    async fn list_within(
        &self,
        kind: Kind,
        parents: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let _ = parents;
        self.list(kind).await
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError>;

    /// Resources carrying `spec.owner_tag` (or, for kinds without tags, labelled `spec.name`).
    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError>;

    /// Plan-time checks of a spec against the provider's catalogs (regions, plans, images);
    /// returns one message per problem.
    async fn validate(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<String>, ProviderError> {
        let _ = (kind, spec);
        Ok(Vec::new())
    }

    /// The provider's catalog (regions, plans, images, marketplace apps) as read from it, once
    /// per adapter; `None`: this provider has none. The sync stores it on the dock's status
    /// (`Catalog::to_stored`), so a plan elsewhere (the API functions, which hold no provider
    /// secret) runs the same checks with [`crate::check_plan_catalog`] and no request, and
    /// `stackdock catalog` shows it.
    async fn catalog(&self) -> Result<Option<crate::Catalog>, ProviderError> {
        Ok(None)
    }

    /// The words the provider's catalog check uses; `None`: it has no catalog.
    fn catalog_terms(&self) -> Option<&'static crate::CatalogTerms> {
        None
    }

    /// Creates the resource (with the ownership tag) and returns it as the provider answered.
    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError>;

    /// Applies in-place changes (rename, retag, resize, grow, attach/detach).
    async fn update(
        &self,
        kind: Kind,
        id: &str,
        changes: &[FieldChange],
        request: Request<'_>,
    ) -> Result<Record, ProviderError>;

    /// Deletes the resource; a resource already gone is success.
    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError>;

    /// Sends one power action to server `id` (Vultr start/halt/reboot, DigitalOcean droplet
    /// actions, Linode boot/shutdown/reboot). Returns once the provider accepted it (DigitalOcean:
    /// once its action completed); [`Provider::wait_power`] waits for the state.
    async fn power(&self, kind: Kind, id: &str, action: PowerAction) -> Result<(), ProviderError>;

    /// Polls until the provider reports the state `action` leads to (running, or stopped) or
    /// `timeout` passes.
    async fn wait_power(
        &self,
        kind: Kind,
        id: &str,
        action: PowerAction,
        timeout: Duration,
    ) -> Result<Record, ProviderError>;

    /// Polls until the resource is ready (servers running, actions complete) or `timeout` passes.
    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        timeout: Duration,
    ) -> Result<Record, ProviderError>;
}

/// The dock every adapter's unit tests stamp records with: `acme/<provider>-main`, credential
/// from the provider's usual environment variable.
#[cfg(test)]
pub(crate) fn test_context(provider: stackdock_core::ProviderKind) -> DockContext {
    use stackdock_core::ProviderKind;
    let (dock, var) = match provider {
        ProviderKind::Vultr => ("vultr-main", "VULTR_API_KEY"),
        ProviderKind::DigitalOcean => ("do-main", "DIGITALOCEAN_TOKEN"),
        ProviderKind::Linode => ("linode-main", "LINODE_TOKEN"),
        ProviderKind::Vercel => ("vercel-main", "VERCEL_TOKEN"),
        ProviderKind::Cloudflare => ("cloudflare-main", "CLOUDFLARE_API_TOKEN"),
    };
    DockContext {
        org: "acme".into(),
        dock: dock.into(),
        dock_id: format!("acme/{dock}"),
        provider,
        credential_source: CredentialRef::Env(var.into()),
        settings: DockSettings::default(),
    }
}

/// The items of a fixture listing (`fixtures/<provider>/<kind>.json`): the array under `key`.
#[cfg(test)]
pub(crate) fn fixture_items(text: &str, key: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(text).expect("fixture parses");
    v[key].as_array().expect("the fixture's list").clone()
}

/// Asserts that no value planted by a test as a secret (`SANDBOX-SECRET-…`) is left anywhere in
/// the record as it would be stored.
#[cfg(test)]
pub(crate) fn assert_no_secret(record: &stackdock_core::Record) {
    let text = serde_json::to_string(record).expect("a record serialises");
    assert!(!text.contains("SANDBOX-SECRET-"), "{text}");
}
