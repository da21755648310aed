//! `Docks`: one provider adapter per dock, built once per process from the config.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use stackdock_core::config::{Config, DockConfig};
use stackdock_core::record::dock_id;
use stackdock_providers::{Credential, DockContext, Provider, Tuning, http};

use crate::healing::HealingProvider;
use crate::{CredentialResolver, EngineError};

/// Builds the adapter of one dock (the real HTTP adapters, or fakes in tests).
pub trait ProviderFactory: Send + Sync + std::fmt::Debug {
    fn build(
        &self,
        dock: &DockConfig,
        ctx: DockContext,
        credential: Credential,
    ) -> Result<Arc<dyn Provider>, EngineError>;
}

/// The adapters of a config's docks, by dock name. A dock whose credential could not be resolved
/// has an error instead, so the others still sync.
#[derive(Debug, Clone, Default)]
pub struct Docks {
    pub providers: BTreeMap<String, Arc<dyn Provider>>,
    pub failures: BTreeMap<String, String>,
}

impl Docks {
    /// Resolves every dock's credential and builds its adapter.
    pub async fn build(
        config: &Config,
        resolver: &dyn CredentialResolver,
        factory: &dyn ProviderFactory,
    ) -> Docks {
        let mut docks = Docks::default();
        for (name, dock) in &config.docks {
            let ctx = context(config, name, dock);
            let built = match resolver.resolve(dock).await {
                Ok(credential) => factory.build(dock, ctx, credential),
                Err(e) => Err(e),
            };
            match built {
                Ok(p) => {
                    docks.providers.insert(name.clone(), p);
                }
                Err(e) => {
                    docks.failures.insert(name.clone(), e.to_string());
                }
            }
        }
        docks
    }

    /// Docks whose credentials heal (the Lambda functions): every dock gets an adapter that
    /// resolves its credential when first needed, reads it again after `ttl` and when the
    /// provider rejects it (see `HealingProvider`). Credentials are resolved here once, so a
    /// working dock reads its secret at the cold start; a dock that fails is logged and kept, and
    /// resolves again on its next call: nothing lands in `failures`.
    pub async fn healing(
        config: &Config,
        resolver: Arc<dyn CredentialResolver>,
        factory: Arc<dyn ProviderFactory>,
        ttl: Duration,
    ) -> Docks {
        let mut docks = Docks::default();
        for (name, dock) in &config.docks {
            let provider = HealingProvider::new(
                context(config, name, dock),
                dock.clone(),
                Arc::clone(&resolver),
                Arc::clone(&factory),
                ttl,
            );
            if let Err(e) = provider.prime().await {
                tracing::warn!(dock = %name, error = %e, "the dock's credential could not be resolved; it is tried again on the dock's next call");
            }
            docks.providers.insert(name.clone(), Arc::new(provider));
        }
        docks
    }

    /// Docks made of ready adapters (tests).
    pub fn of(providers: impl IntoIterator<Item = Arc<dyn Provider>>) -> Docks {
        Docks {
            providers: providers
                .into_iter()
                .map(|p| (p.context().dock.clone(), p))
                .collect(),
            failures: BTreeMap::new(),
        }
    }

    pub fn get(&self, dock: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(dock)
    }
}

fn context(config: &Config, name: &str, dock: &DockConfig) -> DockContext {
    DockContext {
        org: config.settings.org.clone(),
        dock: name.to_owned(),
        dock_id: dock_id(&config.settings.org, name),
        provider: dock.provider,
        credential_source: dock.credentials.clone(),
        settings: dock.settings.clone(),
    }
}

/// The real provider adapters (HTTP), built with the given readiness polling.
#[derive(Debug, Default, Clone)]
pub struct Adapters {
    pub tuning: Tuning,
}

impl ProviderFactory for Adapters {
    fn build(
        &self,
        dock: &DockConfig,
        ctx: DockContext,
        credential: Credential,
    ) -> Result<Arc<dyn Provider>, EngineError> {
        let client = http::Client::shared()
            .map_err(|e| EngineError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        let settings = http::DockSettings::new(&ctx, credential, dock.endpoint.as_deref());
        Ok(stackdock_providers::connect_with(
            ctx,
            &client,
            settings,
            self.tuning.clone(),
        ))
    }
}
