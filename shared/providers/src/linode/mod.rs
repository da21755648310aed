//! The Linode (Akamai) API v4 adapter: Linodes as `servers`, Block Storage volumes as
//! `blockVolumes`, Object Storage buckets as `buckets`. This file holds the adapter type and the
//! `Provider` implementation, which only dispatches per kind; each kind's wire types, mapping and
//! calls live in its own file, shared wire helpers in `client.rs`.
//!
//! It translates; it decides nothing (what to create, update or delete is the plan's decision,
//! retrying is the engine's) and never reads status codes (the HTTP plumbing classifies them).

mod buckets;
mod client;
pub(crate) mod declaration;
mod instances;
mod volumes;

pub use declaration::DECLARATION;

use serde_json::Value;
use stackdock_core::{Kind, Record};

use crate::adapter::{Account, Dock, KindAdapter};
use crate::http::{Declaration, ListOptions};
use crate::{DockContext, ErrorClass, ProviderError};

/// A Linode account.
#[derive(Debug)]
pub struct Linode {
    account: Account,
}

/// The kinds Linode has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Linode>; 3] =
    [&instances::Instances, &volumes::Volumes, &buckets::Buckets];

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

    fn decode_page(
        ctx: &DockContext,
        c: &client::Collection,
        body: &[u8],
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {}", c.list);
        crate::http::page_items(&ctx.dock, &route, "data", body)?
            .into_iter()
            .map(|item| {
                (c.map)(ctx, item).map_err(|what| {
                    ProviderError::new(
                        ErrorClass::Transient,
                        &ctx.dock,
                        &route,
                        format!("the response has an unexpected shape: {what}"),
                    )
                })
            })
            .collect()
    }

    async fn list_of(&self, c: &client::Collection) -> Result<Vec<Record>, ProviderError> {
        self.list_records(c.list, &ListOptions::new(), c.map).await
    }

    async fn get_of(
        &self,
        c: &client::Collection,
        id: &str,
    ) -> Result<Option<Record>, ProviderError> {
        let n = self.numeric_id(&format!("GET {}", c.one), id)?;
        self.get_record(c.one, &format!("{}/{n}", c.list), c.map)
            .await
    }

    async fn delete_of(&self, c: &client::Collection, id: &str) -> Result<(), ProviderError> {
        let n = self.numeric_id(&format!("DELETE {}", c.one), id)?;
        self.delete_path(c.one, &format!("{}/{n}", c.list)).await
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
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

/// Maps one list page of `kind` — the body of `GET /linode/instances`, `/volumes` or
/// `/object-storage/buckets` — to records exactly as a listing does. The entry point of the fuzz
/// targets and of the tests of hostile responses; not part of the adapter's API.
///
/// # Errors
/// The body is not JSON, has no `data` list or an item cannot be mapped (transient, as in a
/// listing), or `kind` is not one Linode has here (invalid).
#[doc(hidden)]
pub fn decode_list_page(
    ctx: &DockContext,
    kind: Kind,
    body: &[u8],
) -> Result<Vec<Record>, ProviderError> {
    crate::adapter::decode_list_page::<Linode>(ctx, kind, body)
}

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
        let v: Value = serde_json::from_str(text).expect("fixture parses");
        v["data"].as_array().expect("data").clone()
    }
}
