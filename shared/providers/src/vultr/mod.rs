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

use stackdock_core::{Kind, Record};

use crate::adapter::{Account, Dock, KindAdapter};
use crate::http::{Declaration, ListOptions};
use crate::{DockContext, ProviderError};
use client::Collection;

/// A Vultr account.
#[derive(Debug)]
pub struct Vultr {
    account: Account,
}

/// The kinds Vultr has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Vultr>; 3] = [
    &instances::Instances,
    &blocks::Blocks,
    &databases::Databases,
];

#[async_trait::async_trait]
impl Dock for Vultr {
    type Collection = Collection;
    const DECLARATION: &'static Declaration = &DECLARATION;
    const KINDS: &'static [&'static dyn KindAdapter<Vultr>] = &KINDS;

    fn new(account: Account) -> Vultr {
        Vultr { account }
    }

    fn account(&self) -> &Account {
        &self.account
    }

    fn decode_page(
        ctx: &DockContext,
        c: &Collection,
        body: &[u8],
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {}", c.route);
        crate::http::page_items(&ctx.dock, &route, c.list_key, body)?
            .into_iter()
            .map(|item| (c.item)(ctx, &route, item))
            .collect()
    }

    async fn list_of(&self, c: &Collection) -> Result<Vec<Record>, ProviderError> {
        client::list(self, c, &ListOptions::new()).await
    }

    async fn get_of(&self, c: &Collection, id: &str) -> Result<Option<Record>, ProviderError> {
        client::get(self, c, id).await
    }

    async fn delete_of(&self, c: &Collection, id: &str) -> Result<(), ProviderError> {
        client::delete(self, c, id).await
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        let _: serde_json::Value = self
            .account
            .client
            .get_json(client::ACCOUNT, client::ACCOUNT, &[])
            .await?;
        Ok(())
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
    crate::adapter::decode_list_page::<Vultr>(ctx, kind, body)
}
