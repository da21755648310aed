//! The DigitalOcean (API v2) adapter: droplets as `servers`, volumes as `block_volumes`.
//!
//! This file holds the adapter type and dispatches each `Provider` call to the file of its kind;
//! wire calls shared by kinds live in `client.rs`, the plan-time catalog checks in `catalog.rs`.
//! It translates and decides nothing (what to change is the plan's decision, whether to retry the
//! engine's), and it never looks at HTTP status codes: `DockClient` classifies them.

mod catalog;
mod client;
pub(crate) mod declaration;
mod droplets;
mod volumes;

pub use declaration::DECLARATION;

use std::time::Duration;

use serde_json::Value;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, Record};
use tokio::sync::OnceCell;

use crate::http::DockClient;
use crate::{DockContext, ErrorClass, Provider, ProviderError, Request, Tuning};

/// A DigitalOcean account (team).
#[derive(Debug)]
pub struct DigitalOcean {
    ctx: DockContext,
    client: DockClient,
    tuning: Tuning,
    /// Regions, sizes and images, fetched on the first `validate`.
    catalog: OnceCell<catalog::Catalog>,
}

impl DigitalOcean {
    pub fn new(ctx: DockContext, client: DockClient, tuning: Tuning) -> DigitalOcean {
        DigitalOcean {
            ctx,
            client,
            tuning,
            catalog: OnceCell::new(),
        }
    }

    /// The error for a kind this adapter does not manage.
    fn unsupported(&self, kind: Kind, operation: &str) -> ProviderError {
        self.err(
            ErrorClass::Invalid,
            operation,
            format!(
                "digitalocean docks support servers and block_volumes, not {}; move the entry to a dock whose provider has them",
                kind.config_key()
            ),
        )
    }
}

#[async_trait::async_trait]
impl Provider for DigitalOcean {
    fn context(&self) -> &DockContext {
        &self.ctx
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.client
            .get_json::<Value>("/account", "/account", &[])
            .await
            .map(|_| ())
    }

    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError> {
        match kind {
            Kind::Servers => self.list_droplets().await,
            Kind::BlockVolumes => self.list_volumes().await,
            other => Err(self.unsupported(other, "list")),
        }
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError> {
        match kind {
            Kind::Servers => self.get_droplet(id).await,
            Kind::BlockVolumes => self.get_volume(id).await,
            other => Err(self.unsupported(other, "get")),
        }
    }

    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        if spec.owner_tag.is_empty() {
            return Err(self.err(
                ErrorClass::Invalid,
                "find owned",
                format!(
                    "{} `{}` has no ownership tag to look for",
                    kind.noun(),
                    spec.name
                ),
            ));
        }
        match kind {
            Kind::Servers => self.find_owned_droplets(&spec.owner_tag).await,
            Kind::BlockVolumes => self.find_owned_volumes(&spec.owner_tag).await,
            other => Err(self.unsupported(other, "find owned")),
        }
    }

    async fn validate(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<String>, ProviderError> {
        match kind {
            Kind::Servers | Kind::BlockVolumes => {
                Ok(catalog::check(self.catalog().await?, kind, spec))
            }
            other => Ok(vec![format!(
                "digitalocean docks support servers and block_volumes, not {}",
                other.config_key()
            )]),
        }
    }

    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError> {
        match kind {
            Kind::Servers => self.create_droplet(request).await,
            Kind::BlockVolumes => self.create_volume(request).await,
            other => Err(self.unsupported(other, "create")),
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
            Kind::Servers => self.update_droplet(id, changes, request).await,
            Kind::BlockVolumes => self.update_volume(id, changes, request).await,
            other => Err(self.unsupported(other, "update")),
        }
    }

    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        match kind {
            Kind::Servers => self.delete_droplet(id).await,
            Kind::BlockVolumes => self.delete_volume(id).await,
            other => Err(self.unsupported(other, "delete")),
        }
    }

    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        match kind {
            Kind::Servers => self.wait_droplet(id, timeout).await,
            Kind::BlockVolumes => self.wait_volume(id, timeout).await,
            other => Err(self.unsupported(other, "wait")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

/// Maps one list page of `kind` — the body of `GET /droplets` or `GET /volumes` — to records
/// exactly as a listing does. The entry point of the fuzz targets and of the tests of hostile
/// responses; not part of the adapter's API.
///
/// # Errors
/// The body is not JSON, has no list under the kind's key or an item cannot be mapped (transient,
/// as in a listing), or `kind` is not one DigitalOcean has here (invalid).
#[doc(hidden)]
pub fn decode_list_page(
    ctx: &DockContext,
    kind: Kind,
    body: &[u8],
) -> Result<Vec<Record>, ProviderError> {
    type Map = fn(&DockContext, crate::http::Item) -> Result<Record, String>;
    let (route, key, map): (&str, &str, Map) = match kind {
        Kind::Servers => ("GET /droplets", "droplets", droplets::droplet_record),
        Kind::BlockVolumes => ("GET /volumes", "volumes", volumes::volume_record),
        _ => {
            return Err(ProviderError::new(
                ErrorClass::Invalid,
                &ctx.dock,
                kind.table(),
                format!("digitalocean docks have no {}", kind.config_key()),
            ));
        }
    };
    crate::http::page_items(&ctx.dock, route, key, body)?
        .into_iter()
        .map(|item| {
            map(ctx, item)
                .map_err(|m| ProviderError::new(ErrorClass::Transient, &ctx.dock, route, m))
        })
        .collect()
}
