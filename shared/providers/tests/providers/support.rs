//! What the topic modules share: a dock of each provider, its adapter against the sandbox, and
//! specs, requests and changes written the way the engine hands them to an adapter.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use stackdock_core::config::CredentialRef;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::owner_tag;
use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_providers::http::{Client, DockSettings, RetryPolicy};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, DockContext, Provider, Request, Tuning};
use stackdock_sandbox::{Provider as Sandboxed, SandboxHandle};

/// The attempts every adapter here makes at most.
pub(super) const MAX_ATTEMPTS: u32 = 4;

/// Dock `dock` of org `acme` on `provider`, its credential read from the variable `env`.
pub(super) fn dock(provider: ProviderKind, dock: &str, env: &str) -> DockContext {
    DockContext {
        org: "acme".into(),
        dock: dock.into(),
        dock_id: format!("acme/{dock}"),
        provider,
        credential_source: CredentialRef::Env(env.into()),
    }
}

/// Retries a few milliseconds apart, so a fault that answers every attempt fails fast.
pub(super) fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: MAX_ATTEMPTS,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(20),
    }
}

/// The adapter of `ctx` against the sandbox's `sandboxed` with `token`: fast retries and
/// readiness polls, then `tune` for what a module sets besides.
pub(super) fn connect_as(
    sandbox: &SandboxHandle,
    ctx: DockContext,
    sandboxed: Sandboxed,
    token: &str,
    tune: fn(&mut DockSettings),
) -> Arc<dyn Provider> {
    let base = sandbox.base_url(sandboxed);
    let mut settings = DockSettings::new(&ctx, Credential::new(token), Some(&base));
    settings.retry = fast_retries();
    tune(&mut settings);
    stackdock_providers::connect_with(
        ctx,
        &Client::shared().expect("the HTTP client builds"),
        settings,
        Tuning {
            poll: PollPolicy::fast(),
        },
    )
}

/// A spec of `name` whose ownership tag is that of the config address `address`.
pub(super) fn spec_at(address: &str, name: &str, fields: &[(&str, FieldValue)]) -> ResourceSpec {
    ResourceSpec {
        name: name.into(),
        owner_tag: owner_tag("acme", address),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        protect: false,
    }
}

/// The spec of entry `name` of `kind`.
pub(super) fn spec(kind: Kind, name: &str, fields: &[(&str, FieldValue)]) -> ResourceSpec {
    spec_at(&format!("{}.{name}", kind.config_key()), name, fields)
}

/// A request for `spec` without user data or attachment.
pub(super) fn request(spec: &ResourceSpec) -> Request<'_> {
    Request {
        spec,
        user_data: None,
        attach_to_id: None,
    }
}

pub(super) fn change(
    field: &str,
    before: Option<FieldValue>,
    after: Option<FieldValue>,
) -> FieldChange {
    FieldChange {
        field: field.into(),
        before,
        after,
    }
}

pub(super) fn set(items: &[&str]) -> FieldValue {
    FieldValue::set(items.iter().copied())
}
