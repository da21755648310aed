//! The Linode (Akamai) API v4 adapter: Linodes as `servers`, Block Storage volumes as
//! `blockVolumes`, Object Storage buckets as `buckets`, DNS zones as `domains` and their records
//! as `domain_records`. This file holds the adapter type and the
//! `Provider` implementation, which only dispatches per kind; each kind's wire types, mapping and
//! calls live in its own file, shared wire helpers in `client.rs`, its catalog (regions, types,
//! images, StackScripts) in `catalog.rs`.
//!
//! It translates; it decides nothing (what to create, update or delete is the plan's decision,
//! retrying is the engine's) and never reads status codes (the HTTP plumbing classifies them).

mod buckets;
mod catalog;
mod client;
pub(crate) mod declaration;
mod domains;
mod instances;
mod volumes;

pub use declaration::DECLARATION;

use serde_json::Value;
use stackdock_core::Record;

use crate::adapter::{Account, Dock, KindAdapter};
use crate::http::{Declaration, Item};
use crate::object::carries_tag;
use crate::{DockContext, ProviderError};
use stackdock_core::plan::ResourceSpec;

/// A Linode account.
#[derive(Debug)]
pub struct Linode {
    account: Account,
}

/// The kinds Linode has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Linode>; 5] = [
    &instances::Instances,
    &volumes::Volumes,
    &buckets::Buckets,
    &domains::Zones,
    &domains::Records,
];

#[async_trait::async_trait]
impl Dock for Linode {
    type Collection = client::Collection;
    const DECLARATION: &'static Declaration = &DECLARATION;
    const KINDS: &'static [&'static dyn KindAdapter<Linode>] = &KINDS;

    fn new(account: Account) -> Linode {
        Linode { account }
    }

    fn account(&self) -> &Account {
        &self.account
    }

    /// Every Linode listing keeps its array under `data`.
    fn listing(c: &client::Collection) -> (&'static str, &'static str) {
        (c.list, "data")
    }

    fn map_item(
        ctx: &DockContext,
        c: &client::Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError> {
        (c.map)(ctx, item).map_err(|what| client::unexpected(ctx, route, what))
    }

    async fn get_of(
        &self,
        c: &client::Collection,
        id: &str,
    ) -> Result<Option<Record>, ProviderError> {
        let (_, path) = self.object_path(c, &format!("GET {}", c.one), id)?;
        self.get_record(c.one, &path, c.map).await
    }

    /// Filtered server-side with `X-Filter`, then checked exactly here.
    async fn find_tagged(
        &self,
        c: &client::Collection,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let tag = &spec.owner_tag;
        let found = self
            .list_records(c.list, &client::filtered("tags", tag), c.map)
            .await?;
        Ok(found.into_iter().filter(|r| carries_tag(r, tag)).collect())
    }

    async fn delete_of(&self, c: &client::Collection, id: &str) -> Result<(), ProviderError> {
        let (_, path) = self.object_path(c, &format!("DELETE {}", c.one), id)?;
        self.delete_path(c.one, &path).await
    }

    const CATALOG: Option<&'static crate::CatalogTerms> = Some(&catalog::TERMS);

    async fn read_catalog(&self) -> Result<crate::Catalog, ProviderError> {
        self.fetch_catalog().await
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        // The profile holds personal data: read and dropped, never logged.
        let _: Value = self
            .account
            .client
            .get_json(client::PROFILE, client::PROFILE, &[])
            .await?;
        Ok(())
    }

    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        /// `GET /account` (needs the token's `account:read_only` scope; the address, phone and
        /// card fields are not read).
        #[derive(serde::Deserialize)]
        struct Account {
            #[serde(default)]
            company: Option<String>,
            #[serde(default)]
            first_name: Option<String>,
            #[serde(default)]
            last_name: Option<String>,
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            balance: Option<f64>,
            #[serde(default)]
            balance_uninvoiced: Option<f64>,
        }
        let account: Account = self
            .account
            .client
            .get_json(client::ACCOUNT, client::ACCOUNT, &[])
            .await?;
        let person = [account.first_name, account.last_name]
            .into_iter()
            .flatten()
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(crate::AccountInfo {
            name: account
                .company
                .filter(|c| !c.is_empty())
                .or((!person.is_empty()).then_some(person)),
            email: account.email,
            balance_usd: account.balance,
            pending_usd: account.balance_uninvoiced,
            ..crate::AccountInfo::default()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

crate::adapter::decode_list_page_for!(Linode);

#[cfg(test)]
pub(crate) mod tests {
    use stackdock_core::ProviderKind;

    use super::*;

    /// The dock every mapping test stamps records with.
    pub(crate) fn ctx() -> DockContext {
        crate::provider::test_context(ProviderKind::Linode)
    }

    /// The items of a fixture listing (`fixtures/linode/<kind>.json`).
    pub(crate) fn fixture_items(text: &str) -> Vec<Value> {
        crate::provider::fixture_items(text, "data")
    }
}
