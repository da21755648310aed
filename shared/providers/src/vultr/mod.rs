//! The Vultr (API v2) adapter: one dock's Vultr account as a `Provider`, dispatching each call to
//! the file of its kind — servers (`instances.rs`, `/instances`), block volumes (`blocks.rs`,
//! `/blocks`) and databases (`databases.rs`, `/databases`).
//!
//! It translates; it decides nothing. Retries, rate limiting, pagination and error
//! classification belong to the shared HTTP plumbing (`crate::http`); whether to create, change
//! or delete belongs to the plan. Kinds Vultr does not offer here are refused as invalid.

mod blocks;
mod client;
mod databases;
pub(crate) mod declaration;
mod instances;

pub use declaration::DECLARATION;

use std::time::Duration;

use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, Record};

use crate::http::{DockClient, ListOptions};
use crate::wait::{Poll, poll_until};
use crate::{DockContext, ErrorClass, Provider, ProviderError, Request, Tuning};

/// A Vultr account.
#[derive(Debug)]
pub struct Vultr {
    ctx: DockContext,
    client: DockClient,
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

    /// The error for a kind this adapter does not manage.
    fn unsupported(&self, kind: Kind) -> ProviderError {
        ProviderError::new(
            ErrorClass::Invalid,
            &self.ctx.dock,
            kind.table(),
            format!(
                "Vultr docks have no {} here; StackDock manages servers, block_volumes and databases on Vultr",
                kind.config_key()
            ),
        )
    }

    /// Whether a record of `kind` is ready (servers running, blocks active, databases running).
    fn is_ready(kind: Kind, record: &Record) -> bool {
        match kind {
            Kind::Servers => instances::is_ready(record),
            Kind::BlockVolumes => blocks::is_ready(record),
            Kind::Databases => databases::is_ready(record),
            Kind::Buckets | Kind::WebServices | Kind::Domains => false,
        }
    }
}

#[async_trait::async_trait]
impl Provider for Vultr {
    fn context(&self) -> &DockContext {
        &self.ctx
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        let _: serde_json::Value = self
            .client
            .get_json(client::ACCOUNT, client::ACCOUNT, &[])
            .await?;
        Ok(())
    }

    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError> {
        match kind {
            Kind::Servers => instances::list(self, &ListOptions::new()).await,
            Kind::BlockVolumes => blocks::list(self).await,
            Kind::Databases => databases::list(self, &ListOptions::new()).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError> {
        match kind {
            Kind::Servers => instances::get(self, id).await,
            Kind::BlockVolumes => blocks::get(self, id).await,
            Kind::Databases => databases::get(self, id).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        match kind {
            Kind::Servers => instances::find_owned(self, spec).await,
            Kind::BlockVolumes => blocks::find_owned(self, spec).await,
            Kind::Databases => databases::find_owned(self, spec).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError> {
        match kind {
            Kind::Servers => instances::create(self, request).await,
            Kind::BlockVolumes => blocks::create(self, request).await,
            Kind::Databases => databases::create(self, request).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn update(
        &self,
        kind: Kind,
        id: &str,
        changes: &[FieldChange],
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        match kind {
            Kind::Servers => instances::update(self, id, changes, request).await,
            Kind::BlockVolumes => blocks::update(self, id, changes, request).await,
            Kind::Databases => databases::update(self, id, changes, request).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        match kind {
            Kind::Servers => instances::delete(self, id).await,
            Kind::BlockVolumes => blocks::delete(self, id).await,
            Kind::Databases => databases::delete(self, id).await,
            Kind::Buckets | Kind::WebServices | Kind::Domains => Err(self.unsupported(kind)),
        }
    }

    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        if !matches!(kind, Kind::Servers | Kind::BlockVolumes | Kind::Databases) {
            return Err(self.unsupported(kind));
        }
        let what = format!("{} {id}", kind.noun());
        poll_until(self.tuning.poll, timeout, &self.ctx.dock, &what, || async {
            let record = self.get(kind, id).await?.ok_or_else(|| {
                ProviderError::new(
                    ErrorClass::NotFound,
                    &self.ctx.dock,
                    format!("wait for {what}"),
                    format!(
                        "{what} no longer exists; run `stackdock sync` to refresh the inventory"
                    ),
                )
            })?;
            Ok(if Vultr::is_ready(kind, &record) {
                Poll::Ready(record)
            } else {
                Poll::Pending(record.status)
            })
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

/// Maps one list page of `kind` — the body of `GET /instances`, `/blocks` or `/databases` — to
/// records exactly as a listing does. The entry point of the fuzz targets and of the tests of
/// hostile responses; not part of the adapter's API.
///
/// # Errors
/// The body is not JSON or has no list under the kind's key (transient, as in a listing), an item
/// is not an object, or `kind` is not one Vultr has here (invalid).
#[doc(hidden)]
pub fn decode_list_page(
    ctx: &DockContext,
    kind: Kind,
    body: &[u8],
) -> Result<Vec<Record>, ProviderError> {
    type Map = fn(&DockContext, &str, crate::http::Item) -> Result<Record, ProviderError>;
    let (route, key, map): (&str, &str, Map) = match kind {
        Kind::Servers => ("GET /instances", "instances", instances::to_record),
        Kind::BlockVolumes => ("GET /blocks", "blocks", blocks::to_record),
        Kind::Databases => ("GET /databases", "databases", databases::to_record),
        Kind::Buckets | Kind::WebServices | Kind::Domains => {
            return Err(ProviderError::new(
                ErrorClass::Invalid,
                &ctx.dock,
                kind.table(),
                format!("Vultr docks have no {} here", kind.config_key()),
            ));
        }
    };
    crate::http::page_items(&ctx.dock, route, key, body)?
        .into_iter()
        .map(|item| map(ctx, route, item))
        .collect()
}
