//! Credential resolution: a dock's `credentials` reference turned into a `Credential`.
//!
//! The value never leaves this module except inside `Credential`, whose `Debug`/`Display` print
//! `***`; errors name the dock and the reference, never a value.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;
use stackdock_core::ProviderKind;
use stackdock_core::config::{CredentialRef, DockConfig};
use stackdock_providers::Credential;

use crate::EngineError;

/// Resolves credential references.
#[async_trait]
pub trait CredentialResolver: Send + Sync + std::fmt::Debug {
    /// The dock's credential; a resolver may serve it from memory.
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError>;

    /// The dock's credential read again at its source (the provider rejected it, or it is older
    /// than the TTL), unless it was already re-read after `since`. Resolvers without a cache
    /// resolve.
    async fn reread(&self, dock: &DockConfig, since: Instant) -> Result<Credential, EngineError> {
        let _ = since;
        self.resolve(dock).await
    }
}

/// Resolves `{ env = "VAR" }` from the process environment. `{ secret = … }` is refused with a
/// message saying so: `DefaultResolver` reads both.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvResolver;

#[async_trait]
impl CredentialResolver for EnvResolver {
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError> {
        match &dock.credentials {
            CredentialRef::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Credential::new(v.trim())),
                Ok(_) => Err(EngineError::Credential {
                    dock: dock.name.clone(),
                    message: format!(
                        "{var} is set but empty; export the {} API token in {var}",
                        dock.provider
                    ),
                }),
                Err(_) => Err(EngineError::Credential {
                    dock: dock.name.clone(),
                    message: format!(
                        "{var} is not set; export the {} API token in {var}",
                        dock.provider
                    ),
                }),
            },
            CredentialRef::Secret(id) => Err(EngineError::Credential {
                dock: dock.name.clone(),
                message: format!(
                    "credentials come from Secrets Manager secret {id}, which this resolver does not read; resolve it with the default resolver (AWS credentials and region from the environment), or set `credentials = {{ env = \"…\" }}` for local runs"
                ),
            }),
        }
    }
}

/// Hands each dock a credential chosen by its provider, ignoring the file's references: for the
/// provider sandbox (the demo, tests, benchmarks), whose tokens are per provider.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver(pub BTreeMap<ProviderKind, Credential>);

#[async_trait]
impl CredentialResolver for StaticResolver {
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError> {
        self.0
            .get(&dock.provider)
            .cloned()
            .ok_or_else(|| EngineError::Credential {
                dock: dock.name.clone(),
                message: format!("no credential was given for {}", dock.provider),
            })
    }
}
