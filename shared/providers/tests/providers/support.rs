//! What the topic modules share: a dock of each provider, its adapter against the sandbox, specs,
//! requests and changes written the way the engine hands them to an adapter, and [`Made`], one
//! created resource with the calls a lifecycle test makes on it.

use std::sync::Arc;
use std::time::Duration;

use stackdock_core::config::CredentialRef;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::owner_tag;
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_providers::http::{Client, DockSettings, RateLimits, RetryPolicy};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, DockContext, Provider, ProviderError, Request, Tuning};
use stackdock_sandbox::{Provider as Sandboxed, SandboxHandle};

/// The attempts every adapter here makes at most.
pub(super) const MAX_ATTEMPTS: u32 = 4;

/// How long a test waits for a resource to be ready (the sandbox's are within a few polls).
pub(super) const READY: Duration = Duration::from_secs(20);

/// Dock `dock` of org `acme` on `provider`, its credential read from the variable `env`.
pub(super) fn dock(provider: ProviderKind, dock: &str, env: &str) -> DockContext {
    DockContext {
        org: "acme".into(),
        dock: dock.into(),
        dock_id: format!("acme/{dock}"),
        provider,
        credential_source: CredentialRef::Env(env.into()),
        settings: Default::default(),
    }
}

/// Retries a few milliseconds apart, so a fault that answers every attempt fails fast.
fn fast_retries() -> RetryPolicy {
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

/// No client-side rate limit: for `connect_as`'s `tune` where a test counts on every request
/// going out at once.
pub(super) fn unlimited(settings: &mut DockSettings) {
    settings.rate_limits = RateLimits::unlimited();
}

/// A spec of `name` whose ownership tag is that of the config address `address`.
pub(super) fn spec_at(address: &str, name: &str, fields: &[(&str, FieldValue)]) -> ResourceSpec {
    ResourceSpec {
        name: name.into(),
        owner_tag: owner_tag("acme", address),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect(),
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
        env: None,
    }
}

/// A request for `spec` attached to the server of provider id `server`.
pub(super) fn attached<'a>(spec: &'a ResourceSpec, server: &'a str) -> Request<'a> {
    Request {
        attach_to_id: Some(server),
        ..request(spec)
    }
}

/// The error of `result`, which must be one.
pub(super) fn refused<T: std::fmt::Debug>(result: Result<T, ProviderError>) -> ProviderError {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// Each record's provider id, in listing order.
pub(super) fn ids(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r.provider_resource_id.as_str())
        .collect()
}

/// Each record's name and status, in listing order.
pub(super) fn statuses(records: &[Record]) -> Vec<(&str, &str)> {
    records
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str()))
        .collect()
}

/// Each record's name, status and `attach_to`, in listing order.
pub(super) fn attachments(records: &[Record]) -> Vec<(&str, &str, Option<FieldValue>)> {
    records
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str(), r.field("attach_to")))
        .collect()
}

/// Asserts how many requests the sandbox counted to each route of `expected`.
pub(super) fn assert_sent(sandbox: &SandboxHandle, expected: &[(&str, u64)]) {
    let counters = sandbox.counters();
    for &(route, n) in expected {
        assert_eq!(counters.route(route), n, "requests to {route}");
    }
}

/// A change of `field` from `before` to `after`.
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

/// A change of `field` from the value `before` to the value `after`.
pub(super) fn edit(
    field: &str,
    before: impl Into<FieldValue>,
    after: impl Into<FieldValue>,
) -> FieldChange {
    change(field, Some(before.into()), Some(after.into()))
}

/// A set value of `items`.
pub(super) fn set(items: &[&str]) -> FieldValue {
    FieldValue::set(items.iter().copied())
}

/// One resource a lifecycle test created, and the calls the test makes on it: the adapter, kind,
/// id and spec every one of them repeats are given once.
pub(super) struct Made<'a> {
    pub adapter: &'a dyn Provider,
    pub kind: Kind,
    pub spec: &'a ResourceSpec,
    /// The record `create` answered.
    pub created: Record,
    pub id: String,
}

impl<'a> Made<'a> {
    /// Creates `request`'s spec as a `kind` through `adapter`.
    pub(super) async fn create(
        adapter: &'a dyn Provider,
        kind: Kind,
        request: Request<'a>,
    ) -> Made<'a> {
        let spec = request.spec;
        let created = adapter
            .create(kind, request)
            .await
            .unwrap_or_else(|e| panic!("create {kind:?} `{}`: {e}", spec.name));
        Made {
            adapter,
            kind,
            spec,
            id: created.provider_resource_id.to_string(),
            created,
        }
    }

    /// The resource once `wait_ready` says it is ready.
    pub(super) async fn ready(&self) -> Record {
        self.adapter
            .wait_ready(self.kind, &self.id, READY)
            .await
            .unwrap_or_else(|e| panic!("wait for {:?} {}: {e}", self.kind, self.id))
    }

    /// `update` with `changes`, the request for the spec attached to `server` where given.
    pub(super) async fn update(
        &self,
        changes: &[FieldChange],
        server: Option<&str>,
    ) -> Result<Record, ProviderError> {
        let request = Request {
            attach_to_id: server,
            ..request(self.spec)
        };
        self.adapter
            .update(self.kind, &self.id, changes, request)
            .await
    }

    /// The record `update` answers to `changes`, which must succeed.
    pub(super) async fn changed(&self, changes: &[FieldChange]) -> Record {
        self.update(changes, None)
            .await
            .unwrap_or_else(|e| panic!("update {:?} {} {changes:?}: {e}", self.kind, self.id))
    }

    /// The error `update` answers to `changes`, which must fail.
    pub(super) async fn refused(&self, changes: &[FieldChange]) -> ProviderError {
        refused(self.update(changes, None).await)
    }

    /// Finding by the spec's ownership tag finds this resource and nothing else.
    pub(super) async fn assert_found_alone(&self) {
        let found = self
            .adapter
            .find_owned(self.kind, self.spec)
            .await
            .unwrap_or_else(|e| panic!("find {:?} `{}`: {e}", self.kind, self.spec.name));
        assert_eq!(ids(&found), [self.id.as_str()], "found by ownership tag");
    }

    /// The resource is read as gone: `get` answers `None`.
    pub(super) async fn assert_gone(&self) {
        let got = self
            .adapter
            .get(self.kind, &self.id)
            .await
            .unwrap_or_else(|e| panic!("get {:?} {}: {e}", self.kind, self.id));
        assert!(got.is_none(), "{:?} {} is still there", self.kind, self.id);
    }

    /// Deletes the resource, then again: both succeed (gone is success), and it reads as gone
    /// after each.
    pub(super) async fn delete_twice(&self) {
        for _ in 0..2 {
            self.adapter
                .delete(self.kind, &self.id)
                .await
                .unwrap_or_else(|e| panic!("delete {:?} {}: {e}", self.kind, self.id));
            self.assert_gone().await;
        }
    }
}
