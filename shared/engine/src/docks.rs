//! `Docks`: one provider adapter per dock, built once per process from the config.

use std::collections::BTreeMap;
use std::sync::Arc;

use stackdock_core::config::{Config, DockConfig};
use stackdock_core::record::dock_id;
use stackdock_providers::{Credential, DockContext, Provider, Tuning, http};

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
            let ctx = DockContext {
                org: config.settings.org.clone(),
                dock: name.clone(),
                dock_id: dock_id(&config.settings.org, name),
                provider: dock.provider,
                credential_source: dock.credentials.clone(),
            };
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
