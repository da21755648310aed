//! The Vultr adapter (being written: issue #3).

use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, Record};

use crate::http::DockClient;
use crate::{DockContext, ErrorClass, Provider, ProviderError, Request, Tuning};

/// A Vultr account.
#[derive(Debug)]
pub struct Vultr {
    ctx: DockContext,
    #[allow(dead_code)]
    client: DockClient,
    #[allow(dead_code)]
    tuning: Tuning,
}

impl Vultr {
    pub fn new(ctx: DockContext, client: DockClient, tuning: Tuning) -> Vultr {
        Vultr {
            ctx,
            client,
            tuning,
        }
    }

    fn unavailable(&self) -> ProviderError {
        ProviderError::new(
            ErrorClass::Invalid,
            &self.ctx.dock,
            "adapter",
            "the vultr adapter is not built yet",
        )
    }
}

#[async_trait::async_trait]
impl Provider for Vultr {
    fn context(&self) -> &DockContext {
        &self.ctx
    }
    async fn check_credentials(&self) -> Result<(), ProviderError> {
        Err(self.unavailable())
    }
    async fn list(&self, _kind: Kind) -> Result<Vec<Record>, ProviderError> {
        Err(self.unavailable())
    }
    async fn get(&self, _kind: Kind, _id: &str) -> Result<Option<Record>, ProviderError> {
        Err(self.unavailable())
    }
    async fn find_owned(
        &self,
        _kind: Kind,
        _spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Err(self.unavailable())
    }
    async fn create(&self, _kind: Kind, _request: Request<'_>) -> Result<Record, ProviderError> {
        Err(self.unavailable())
    }
    async fn update(
        &self,
        _kind: Kind,
        _id: &str,
        _changes: &[FieldChange],
        _request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        Err(self.unavailable())
    }
    async fn delete(&self, _kind: Kind, _id: &str) -> Result<(), ProviderError> {
        Err(self.unavailable())
    }
    async fn wait_ready(
        &self,
        _kind: Kind,
        _id: &str,
        _timeout: std::time::Duration,
    ) -> Result<Record, ProviderError> {
        Err(self.unavailable())
    }
}
