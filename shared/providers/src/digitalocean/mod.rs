//! The DigitalOcean (API v2) adapter: droplets as `servers`, volumes as `block_volumes`, DNS
//! zones as `domains` and their records as `domain_records`.
//!
//! This file holds the adapter type and dispatches each `Provider` call to the file of its kind;
//! wire calls shared by kinds live in `client.rs`, its catalog (regions, sizes, images, 1-Click apps) in `catalog.rs`.
//! It translates and decides nothing (what to change is the plan's decision, whether to retry the
//! engine's), and it never looks at HTTP status codes: `DockClient` classifies them.

mod catalog;
mod client;
pub(crate) mod declaration;
mod domains;
mod droplets;
mod volumes;

pub use declaration::DECLARATION;

use stackdock_core::plan::ResourceSpec;
use stackdock_core::{Kind, Record};

use crate::adapter::{Account, Dock, KindAdapter};
use crate::error::gone_ok;
use crate::http::{Declaration, Item, ListOptions};
use crate::object::Probe;
use crate::{DockContext, ErrorClass, ProviderError};

/// A DigitalOcean account (team).
#[derive(Debug)]
pub struct DigitalOcean {
    account: Account,
}

impl DigitalOcean {
    /// The ownership tag of `spec`, which every look-up by tag needs.
    fn owner_tag<'s>(&self, kind: Kind, spec: &'s ResourceSpec) -> Result<&'s str, ProviderError> {
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
        Ok(&spec.owner_tag)
    }
}

/// The kinds DigitalOcean has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<DigitalOcean>; 4] = [
    &droplets::Droplets,
    &volumes::Volumes,
    &domains::Zones,
    &domains::Records,
];

#[async_trait::async_trait]
impl Dock for DigitalOcean {
    type Collection = client::Collection;
    const DECLARATION: &'static Declaration = &DECLARATION;
    const KINDS: &'static [&'static dyn KindAdapter<DigitalOcean>] = &KINDS;

    fn new(account: Account) -> DigitalOcean {
        DigitalOcean { account }
    }

    fn account(&self) -> &Account {
        &self.account
    }

    fn listing(c: &client::Collection) -> (&'static str, &'static str) {
        (c.list, c.list_key)
    }

    fn map_item(
        ctx: &DockContext,
        c: &client::Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError> {
        (c.item)(ctx, item)
            .map_err(|m| ProviderError::new(ErrorClass::Transient, &ctx.dock, route, m))
    }

    async fn get_of(
        &self,
        c: &client::Collection,
        id: &str,
    ) -> Result<Option<Record>, ProviderError> {
        match self.get_value(c, id).await? {
            Some(raw) => self
                .value_record(c, &format!("GET {}", c.one), raw)
                .map(Some),
            None => Ok(None),
        }
    }

    /// The whole listing, filtered here: not every listing has a tag filter ([do-spec]
    /// volumes_list.yml: `name`, `region` only).
    async fn find_tagged(
        &self,
        c: &client::Collection,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let tag = self.owner_tag(c.kind, spec)?;
        let route = format!("GET {}", c.list);
        let all = ListOptions::new();
        let listed = self.account.client.list_values(c.list, c.list_key, &all);
        listed
            .await?
            .into_iter()
            .filter(|v| Probe::of(v).has_tag(tag))
            .map(|item| self.item_record(c, &route, item))
            .collect()
    }

    async fn delete_of(&self, c: &client::Collection, id: &str) -> Result<(), ProviderError> {
        self.check_id(c.kind, &format!("DELETE {}", c.one), id)?;
        let path = format!("{}/{id}", c.list);
        gone_ok(self.account.client.delete(c.one, &path, &[]).await)
    }

    const CATALOG: Option<&'static crate::CatalogTerms> = Some(&catalog::TERMS);

    async fn read_catalog(&self) -> Result<crate::Catalog, ProviderError> {
        self.fetch_catalog().await
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.account_info().await.map(|_| ())
    }

    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        /// `GET /account`: the limits, the email, the status and the team.
        #[derive(serde::Deserialize)]
        struct Envelope {
            account: Account,
        }
        #[derive(serde::Deserialize)]
        struct Account {
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            status: Option<String>,
            #[serde(default)]
            team: Option<Team>,
            #[serde(default)]
            droplet_limit: Option<i64>,
            #[serde(default)]
            volume_limit: Option<i64>,
            #[serde(default)]
            floating_ip_limit: Option<i64>,
        }
        #[derive(serde::Deserialize)]
        struct Team {
            #[serde(default)]
            name: Option<String>,
        }
        let Envelope { account } = self
            .account
            .client
            .get_json("/account", "/account", &[])
            .await?;
        let limits = [
            ("droplet_limit", account.droplet_limit),
            ("volume_limit", account.volume_limit),
            ("floating_ip_limit", account.floating_ip_limit),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect();
        Ok(crate::AccountInfo {
            // A team token speaks for the team.
            name: account
                .team
                .and_then(|t| t.name)
                .or(account.name)
                .filter(|n| !n.is_empty()),
            email: account.email,
            status: account.status,
            limits,
            ..crate::AccountInfo::default()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

crate::adapter::decode_list_page_for!(DigitalOcean);

#[cfg(test)]
pub(crate) mod tests {
    use stackdock_core::ProviderKind;

    use super::*;

    /// The dock every mapping test stamps records with.
    pub(crate) fn ctx() -> DockContext {
        crate::provider::test_context(ProviderKind::DigitalOcean)
    }
}
