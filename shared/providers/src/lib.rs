//! StackDock's provider layer: the `Provider` contract every adapter implements, the classified
//! error they return, the credential wrapper, an in-memory fake for engine tests, and (feature
//! `conformance`) the suite every (provider, kind) passes against the sandbox.
//!
//! Adapters translate; they decide nothing. Whether to create, update or delete is the plan's
//! decision, and whether to retry a failure is the engine's, read from the error's class.

mod account;
mod adapter;
pub mod catalog;
pub mod cloudflare;
#[cfg(feature = "conformance")]
pub mod conformance;
mod credential;
pub mod digitalocean;
mod dns;
mod error;
pub mod fake;
pub mod http;
pub mod linode;
mod object;
mod provider;
pub mod redact;
mod spec;
pub mod vercel;
pub mod vultr;
pub mod wait;

pub use account::AccountInfo;
pub use catalog::{CATALOG_TTL, Catalog, CatalogTerms, Section};
pub use credential::Credential;
pub use error::{ErrorClass, FieldError, ProviderError};
pub(crate) use object::Listed;
pub use provider::{DockContext, EnvValues, PowerAction, Provider, Request};

use std::sync::Arc;

use stackdock_core::ProviderKind;

/// How an adapter is built beyond its dock: HTTP settings and readiness polling (tests and the
/// benchmark shorten the polls and change the rate limits).
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    pub poll: wait::PollPolicy,
}

/// The adapter of one dock, with the provider's published rate limits and default retries.
///
/// # Errors
/// The shared HTTP client could not be built (no TLS roots).
pub fn connect(
    ctx: DockContext,
    endpoint: Option<&str>,
    credential: Credential,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let http = http::Client::shared().map_err(|e| {
        ProviderError::new(
            ErrorClass::Transient,
            &ctx.dock,
            "build HTTP client",
            e.to_string(),
        )
    })?;
    let settings = http::DockSettings::new(&ctx, credential, endpoint);
    Ok(connect_with(ctx, &http, settings, Tuning::default()))
}

/// The adapter of one dock with explicit HTTP settings and tuning.
pub fn connect_with(
    ctx: DockContext,
    http: &http::Client,
    settings: http::DockSettings,
    tuning: Tuning,
) -> Arc<dyn Provider> {
    let client = http::DockClient::new(http, settings);
    (registered(ctx.provider).connect)(ctx, client, tuning)
}

/// `Provider::validate`'s catalog checks, against a catalog stored by the sync
/// (`Catalog::to_stored`) instead of the provider's API: no request is sent. A provider without
/// a catalog finds nothing.
///
/// # Errors
/// The stored text cannot be read as a catalog.
pub fn check_plan_catalog(
    provider: ProviderKind,
    catalog: &str,
    kind: stackdock_core::Kind,
    spec: &stackdock_core::plan::ResourceSpec,
) -> Result<Vec<String>, String> {
    match registered(provider).catalog {
        Some(terms) => catalog::check_stored(terms, catalog, kind, spec),
        None => Ok(Vec::new()),
    }
}

/// One provider as the crate knows it: its HTTP-level declaration and how to build its adapter.
#[derive(Debug)]
pub struct Registered {
    pub declaration: &'static http::Declaration,
    /// The words of its catalog; `None`: it has none.
    pub catalog: Option<&'static CatalogTerms>,
    pub connect: fn(DockContext, http::DockClient, Tuning) -> Arc<dyn Provider>,
}

/// Every provider, in `ProviderKind::ALL` order. Adding a provider adds its folder and one line
/// here; nothing else in the crate names it.
static REGISTRY: [Registered; 5] = [
    registration::<vultr::Vultr>(),
    registration::<digitalocean::DigitalOcean>(),
    registration::<linode::Linode>(),
    registration::<vercel::Vercel>(),
    registration::<cloudflare::Cloudflare>(),
];

/// The registration of the provider whose dock type is `D`.
const fn registration<D: adapter::Dock>() -> Registered {
    Registered {
        declaration: D::DECLARATION,
        catalog: D::CATALOG,
        connect: adapter::connect::<D>,
    }
}

/// The registration of `provider`.
pub fn registered(provider: ProviderKind) -> &'static Registered {
    REGISTRY
        .iter()
        .find(|r| r.declaration.provider == provider)
        // Every `ProviderKind` is registered: `every_provider_is_registered_once` checks it.
        .unwrap_or(&REGISTRY[0])
}

/// The HTTP-level declaration of `provider`.
pub fn declaration(provider: ProviderKind) -> &'static http::Declaration {
    registered(provider).declaration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_is_registered_once() {
        for provider in ProviderKind::ALL {
            let found: Vec<&Registered> = REGISTRY
                .iter()
                .filter(|r| r.declaration.provider == provider)
                .collect();
            assert_eq!(found.len(), 1, "{provider}");
        }
        assert_eq!(REGISTRY.len(), ProviderKind::ALL.len());
    }
}
