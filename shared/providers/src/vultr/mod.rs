//! The Vultr (API v2) adapter: one dock's Vultr account as a `Provider`, dispatching each call to
//! the file of its kind — servers (`instances.rs`, `/instances`), block volumes (`blocks.rs`,
//! `/blocks`), databases (`databases.rs`, `/databases`), and DNS zones and their records
//! (`domains.rs`, `/domains`); its catalog (regions, plans, operating systems, applications) in
//! `catalog.rs`.
//!
//! It translates; it decides nothing. Retries, rate limiting, pagination and error
//! classification belong to the shared HTTP plumbing (`crate::http`); whether to create, change
//! or delete belongs to the plan. Kinds Vultr does not offer here are refused as invalid.

mod blocks;
mod catalog;
mod client;
mod databases;
pub(crate) mod declaration;
mod domains;
mod instances;

pub use declaration::DECLARATION;

use stackdock_core::Record;

use crate::adapter::{Account, Dock, KindAdapter};
use crate::http::{Declaration, Item, ListOptions};
use crate::object::carries_tag;
use crate::{DockContext, ProviderError};
use client::Collection;
use stackdock_core::plan::ResourceSpec;

/// A Vultr account.
#[derive(Debug)]
pub struct Vultr {
    account: Account,
}

/// The kinds Vultr has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Vultr>; 5] = [
    &instances::Instances,
    &blocks::Blocks,
    &databases::Databases,
    &domains::Zones,
    &domains::Records,
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

    fn listing(c: &Collection) -> (&'static str, &'static str) {
        (c.route, c.list_key)
    }

    fn map_item(
        ctx: &DockContext,
        c: &Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError> {
        (c.item)(ctx, route, item)
    }

    async fn get_of(&self, c: &Collection, id: &str) -> Result<Option<Record>, ProviderError> {
        client::get(self, c, id).await
    }

    /// Vultr filters by tag server-side; the exact match is checked again here.
    async fn find_tagged(
        &self,
        c: &Collection,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let tag = &spec.owner_tag;
        let records = client::list(self, c, &ListOptions::new().query("tag", tag)).await?;
        Ok(records
            .into_iter()
            .filter(|r| carries_tag(r, tag))
            .collect())
    }

    async fn delete_of(&self, c: &Collection, id: &str) -> Result<(), ProviderError> {
        client::delete(self, c, id).await
    }

    const CATALOG: Option<&'static crate::CatalogTerms> = Some(&catalog::TERMS);

    async fn read_catalog(&self) -> Result<crate::Catalog, ProviderError> {
        self.fetch_catalog().await
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.account_info().await.map(|_| ())
    }

    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        /// `GET /account` (only what `stackdock docks` shows; `acls` and payments are dropped).
        #[derive(serde::Deserialize)]
        struct Envelope {
            account: Account,
        }
        #[derive(serde::Deserialize)]
        struct Account {
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            balance: Option<f64>,
            #[serde(default)]
            pending_charges: Option<f64>,
        }
        let Envelope { account } = self
            .account
            .client
            .get_json(client::ACCOUNT, client::ACCOUNT, &[])
            .await?;
        Ok(crate::AccountInfo {
            name: account.name.filter(|n| !n.is_empty()),
            email: account.email,
            balance_usd: account.balance,
            pending_usd: account.pending_charges,
            ..crate::AccountInfo::default()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

crate::adapter::decode_list_page_for!(Vultr);
