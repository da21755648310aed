//! `HealingProvider`: a dock's adapter whose credential heals. It resolves the credential when
//! first needed (not only at a cold start), reads it again after the resolver's TTL and at once
//! when the provider rejects it, and rebuilds the adapter when the token changed.
//!
//! # Guarantees
//! - A credential that could not be resolved is not remembered as a failure: the next call
//!   resolves again. A transient resolver failure is a `Transient` provider error (retryable),
//!   any other an `Unauthorized` one naming the dock and the credential's source.
//! - After an `Unauthorized` answer the credential is read again once and, if it changed, the
//!   call is sent once more (a 401/403 means the provider did nothing). A second rejection is
//!   returned, saying the credential was re-read.
//! - The credential is never logged or formatted (`Credential` prints `***`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use stackdock_core::config::DockConfig;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, Record};
use stackdock_providers::{DockContext, ErrorClass, PowerAction, Provider, ProviderError, Request};

use crate::{CredentialResolver, EngineError, ProviderFactory};

/// The adapter in use and when its credential was read.
#[derive(Debug, Clone)]
struct Current {
    provider: Arc<dyn Provider>,
    token: stackdock_providers::Credential,
    read_at: Instant,
}

/// A dock's adapter that re-resolves its credential (see the module docs).
#[derive(Debug)]
pub(crate) struct HealingProvider {
    ctx: DockContext,
    dock: DockConfig,
    resolver: Arc<dyn CredentialResolver>,
    factory: Arc<dyn ProviderFactory>,
    ttl: Duration,
    current: tokio::sync::Mutex<Option<Current>>,
}

impl HealingProvider {
    pub(crate) fn new(
        ctx: DockContext,
        dock: DockConfig,
        resolver: Arc<dyn CredentialResolver>,
        factory: Arc<dyn ProviderFactory>,
        ttl: Duration,
    ) -> HealingProvider {
        HealingProvider {
            ctx,
            dock,
            resolver,
            factory,
            ttl,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// Resolves now (the cold start), so a working dock makes its Secrets Manager read before
    /// the first invocation; a failure is only returned, not kept.
    pub(crate) async fn prime(&self) -> Result<(), EngineError> {
        self.adapter().await.map(|_| ()).map_err(|e| match e {
            Failed::Resolve(e) => e,
            Failed::Build(e) => e,
        })
    }

    /// The adapter to call: the current one, or one built from a credential read now (none yet,
    /// or older than the TTL).
    async fn adapter(&self) -> Result<Arc<dyn Provider>, Failed> {
        let mut current = self.current.lock().await;
        match current.as_ref() {
            Some(c) if c.read_at.elapsed() < self.ttl => return Ok(Arc::clone(&c.provider)),
            Some(c) => {
                // Expired: read again; if the read fails, keep the old token (it may still be
                // valid) and try again on the next call.
                let since = c.read_at;
                match self.resolver.reread(&self.dock, since).await {
                    Ok(token) => {
                        self.install(&mut current, token).map_err(Failed::Build)?;
                    }
                    Err(e) => {
                        tracing::warn!(dock = %self.ctx.dock, error = %e, "re-reading the dock's credential failed; using the one read before");
                    }
                }
            }
            None => {
                let token = self
                    .resolver
                    .resolve(&self.dock)
                    .await
                    .map_err(Failed::Resolve)?;
                self.install(&mut current, token).map_err(Failed::Build)?;
            }
        }
        current
            .as_ref()
            .map(|c| Arc::clone(&c.provider))
            .ok_or_else(|| {
                Failed::Build(EngineError::Invalid(format!(
                    "dock `{}`: no adapter after resolving its credential",
                    self.ctx.dock
                )))
            })
    }

    /// Keeps the adapter when the token is unchanged (its rate limiter and counters), else builds
    /// a new one. Returns whether the token changed.
    fn install(
        &self,
        current: &mut Option<Current>,
        token: stackdock_providers::Credential,
    ) -> Result<bool, EngineError> {
        let now = Instant::now();
        if let Some(c) = current.as_mut()
            && c.token.expose() == token.expose()
        {
            c.read_at = now;
            return Ok(false);
        }
        let provider = self
            .factory
            .build(&self.dock, self.ctx.clone(), token.clone())?;
        *current = Some(Current {
            provider,
            token,
            read_at: now,
        });
        Ok(true)
    }

    /// After a rejection by `rejected`: reads the credential again and returns the adapter to
    /// retry with, or `None` when the token is unchanged (retrying cannot help).
    async fn after_rejection(
        &self,
        rejected: &Arc<dyn Provider>,
    ) -> Result<Option<Arc<dyn Provider>>, Failed> {
        let mut current = self.current.lock().await;
        let since = match current.as_ref() {
            // Another call already replaced the rejected adapter: retry with the new one.
            Some(c) if !Arc::ptr_eq(&c.provider, rejected) => {
                return Ok(Some(Arc::clone(&c.provider)));
            }
            Some(c) => c.read_at,
            None => Instant::now(),
        };
        let token = self
            .resolver
            .reread(&self.dock, since)
            .await
            .map_err(Failed::Resolve)?;
        let changed = self.install(&mut current, token).map_err(Failed::Build)?;
        tracing::info!(dock = %self.ctx.dock, changed, "the provider rejected the credential; read it again");
        Ok(changed
            .then(|| current.as_ref().map(|c| Arc::clone(&c.provider)))
            .flatten())
    }

    /// Runs `call` on the adapter, re-reading the credential once after a rejection.
    async fn with<T, F, Fut>(&self, route: &str, call: F) -> Result<T, ProviderError>
    where
        F: Fn(Arc<dyn Provider>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let adapter = self.adapter().await.map_err(|f| self.error(route, f))?;
        match call(Arc::clone(&adapter)).await {
            Err(e) if e.is(ErrorClass::Unauthorized) => {
                match self
                    .after_rejection(&adapter)
                    .await
                    .map_err(|f| self.error(route, f))?
                {
                    Some(fresh) => call(fresh).await.map_err(|mut again| {
                        if again.is(ErrorClass::Unauthorized) {
                            again.message.push_str(&format!(
                                "; rejected again after reading {} once more: put a valid token there",
                                self.ctx.credential_source
                            ));
                        }
                        again
                    }),
                    None => Err(ProviderError {
                        message: format!(
                            "{}; {} was read again and holds the same token: put a valid token there",
                            e.message, self.ctx.credential_source
                        ),
                        ..e
                    }),
                }
            }
            other => other,
        }
    }

    /// A resolver or build failure as a provider error of this dock.
    fn error(&self, route: &str, failed: Failed) -> ProviderError {
        let (class, e) = match failed {
            Failed::Resolve(e @ EngineError::CredentialUnavailable { .. }) => {
                (ErrorClass::Transient, e)
            }
            Failed::Resolve(e) => (ErrorClass::Unauthorized, e),
            Failed::Build(e) => (ErrorClass::Invalid, e),
        };
        let message = match e {
            EngineError::Credential { message, .. }
            | EngineError::CredentialUnavailable { message, .. } => message,
            other => other.to_string(),
        };
        ProviderError::new(class, &self.ctx.dock, route, message)
    }
}

/// Why no adapter could be had.
#[derive(Debug)]
enum Failed {
    /// The credential could not be resolved.
    Resolve(EngineError),
    /// The adapter could not be built.
    Build(EngineError),
}

const RESOLVE: &str = "resolve credential";

#[async_trait]
impl Provider for HealingProvider {
    fn context(&self) -> &DockContext {
        &self.ctx
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.with(RESOLVE, |p| async move { p.check_credentials().await })
            .await
    }

    async fn account_info(&self) -> Result<stackdock_providers::AccountInfo, ProviderError> {
        self.with(RESOLVE, |p| async move { p.account_info().await })
            .await
    }

    async fn catalog(&self) -> Result<Option<stackdock_providers::Catalog>, ProviderError> {
        self.with(RESOLVE, |p| async move { p.catalog().await })
            .await
    }

    fn catalog_terms(&self) -> Option<&'static stackdock_providers::CatalogTerms> {
        stackdock_providers::registered(self.ctx.provider).catalog
    }

    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError> {
        self.with(RESOLVE, |p| async move { p.list(kind).await })
            .await
    }

    async fn list_within(
        &self,
        kind: Kind,
        parents: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        self.with(
            RESOLVE,
            |p| async move { p.list_within(kind, parents).await },
        )
        .await
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError> {
        self.with(RESOLVE, |p| async move { p.get(kind, id).await })
            .await
    }

    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        self.with(RESOLVE, |p| async move { p.find_owned(kind, spec).await })
            .await
    }

    async fn validate(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<String>, ProviderError> {
        self.with(RESOLVE, |p| async move { p.validate(kind, spec).await })
            .await
    }

    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError> {
        self.with(RESOLVE, |p| async move { p.create(kind, request).await })
            .await
    }

    async fn update(
        &self,
        kind: Kind,
        id: &str,
        changes: &[FieldChange],
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        self.with(RESOLVE, |p| async move {
            p.update(kind, id, changes, request).await
        })
        .await
    }

    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        self.with(RESOLVE, |p| async move { p.delete(kind, id).await })
            .await
    }

    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        self.with(
            RESOLVE,
            |p| async move { p.wait_ready(kind, id, timeout).await },
        )
        .await
    }

    async fn power(&self, kind: Kind, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        self.with(RESOLVE, |p| async move { p.power(kind, id, action).await })
            .await
    }

    async fn wait_power(
        &self,
        kind: Kind,
        id: &str,
        action: PowerAction,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        self.with(RESOLVE, |p| async move {
            p.wait_power(kind, id, action, timeout).await
        })
        .await
    }
}
