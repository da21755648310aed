//! The Cloudflare (API v4) adapter: Pages projects as `web_services` with `subtype = "pages"`
//! (`pages.rs`, their custom domains in `pages_domains.rs`) and, read-only, Workers scripts with
//! `subtype = "worker"` (`workers.rs`, listed by the same kind adapter), D1 databases as
//! `databases` (`databases.rs`), R2 buckets as `buckets` (`buckets.rs`), DNS zones as `domains`
//! and their records as `domain_records` (`zones.rs`, `records.rs`). This file holds the dock
//! type, its `Dock` implementation and the wire plumbing every kind shares: the `{"success", "errors",
//! "messages", "result"}` envelope, one object's read, the record skeleton with its redacted
//! `fullApiData`, and the dock's `account_id`.
//!
//! It translates; it decides nothing (what to create, update or delete is the plan's decision,
//! retrying is the engine's) and never reads status codes (the HTTP plumbing classifies them).

mod buckets;
mod databases;
pub(crate) mod declaration;
mod pages;
mod pages_domains;
mod records;
mod workers;
mod zones;

pub use declaration::DECLARATION;

use serde_json::Value;
use stackdock_core::kind::CLOUDFLARE_ACCOUNT_ID;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::{Kind, ProviderKind, Record};

use crate::adapter::{Account, Dock, KindAdapter};
use crate::error::{found, gone_ok};
use crate::http::{Declaration, Item, ListOptions};
use crate::object::unwrap_envelope;
use crate::redact::secret_keys;
use crate::{DockContext, ErrorClass, Listed, ProviderError};

/// `GET /user/tokens/verify`: the cheapest authenticated request, and the one Cloudflare
/// documents for checking a token ([cf-spec] user-api-tokens-verify-token).
const VERIFY: &str = "/user/tokens/verify";

/// Every answer's payload is under `result` ([cf-spec] `api-response-common`).
pub(crate) const RESULT: &str = "result";

/// Maps one provider object to a record (a pure function of each kind's file).
pub(crate) type MapFn = fn(&DockContext, Item) -> Result<Record, String>;

/// One Cloudflare collection as its kind file declares it.
#[derive(Debug)]
pub(crate) struct Collection {
    pub kind: Kind,
    /// The collection's route (`/zones`); one object is `<list>/<id>`.
    pub list: &'static str,
    /// One object's route as errors and statistics name it (`/zones/{zone_id}`).
    pub one: &'static str,
    /// Where a listing's items are: `result`, or a list inside it (`result.buckets`).
    pub key: &'static str,
    /// The record of one object.
    pub map: MapFn,
}

/// A Cloudflare account (or the zones an API token can see).
#[derive(Debug)]
pub struct Cloudflare {
    account: Account,
}

/// The kinds Cloudflare has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Cloudflare>; 5] = [
    &pages::Pages,
    &databases::Databases,
    &buckets::Buckets,
    &zones::Zones,
    &records::Records,
];

impl Cloudflare {
    fn ctx(&self) -> &DockContext {
        &self.account.ctx
    }

    /// The dock's `account_id`, if it sets one.
    fn account_id(&self) -> Option<&str> {
        self.ctx().settings.get(&CLOUDFLARE_ACCOUNT_ID)
    }

    /// An `Invalid` error for a request refused before anything is sent.
    fn invalid(&self, route: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::Invalid, &self.ctx().dock, route, message)
    }

    /// The error for an answer the mapping cannot use: a transient failure of `route` (a
    /// listing is then an error, never a list missing that object).
    fn unexpected(&self, route: &str, what: impl std::fmt::Display) -> ProviderError {
        unexpected(self.ctx(), route, what)
    }

    /// One object's answer under `result`, mapped.
    fn map_answer(&self, route: &str, answer: Value, map: MapFn) -> Result<Record, ProviderError> {
        let result = unwrap_envelope(&self.ctx().dock, route, answer, RESULT)?;
        let item =
            serde_json::value::to_raw_value(&result).map_err(|e| self.unexpected(route, e))?;
        map(self.ctx(), item).map_err(|what| self.unexpected(route, what))
    }

    /// `GET <path>` of one object as a record; `None` when Cloudflare says it does not exist.
    async fn read(
        &self,
        route: &str,
        path: &str,
        map: MapFn,
    ) -> Result<Option<Record>, ProviderError> {
        let answer = self.account.client.get_json::<Value>(route, path, &[]);
        match found(answer.await)? {
            Some(answer) => self
                .map_answer(&format!("GET {route}"), answer, map)
                .map(Some),
            None => Ok(None),
        }
    }

    /// Every object of `c` (all pages) narrowed by `options`, as records.
    async fn list_with(
        &self,
        c: &Collection,
        options: &ListOptions,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {}", c.list);
        let map = |item| (c.map)(self.ctx(), item).map_err(|what| self.unexpected(&route, what));
        self.account
            .client
            .list_mapped(c.list, c.key, options, &map)
            .await
    }
}

/// A Cloudflare object id (zone, DNS record): 32 hex digits ([cf-spec] `identifier`,
/// `maxLength: 32`); anything else is refused before it reaches a URL path.
fn check_id(ctx: &DockContext, route: &str, kind: Kind, id: &str) -> Result<(), ProviderError> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorClass::Invalid,
        &ctx.dock,
        route,
        format!(
            "`{id}` is not a Cloudflare {} id (32 hex digits)",
            kind.noun()
        ),
    ))
}

/// See [`Cloudflare::unexpected`].
fn unexpected(ctx: &DockContext, route: &str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorClass::Transient,
        &ctx.dock,
        route,
        format!("the response has an unexpected shape: {what}"),
    )
}

/// A fresh record of `kind` stamped with the dock's ids.
fn skeleton(ctx: &DockContext, kind: Kind, id: &str, name: &str) -> Record {
    Record::new(&ctx.org, &ctx.dock_id, ctx.provider, kind, id, name)
}

/// Stores the provider's whole object minus its secrets and seals the record with its hash.
fn seal(mut record: Record, raw: impl Listed) -> Record {
    record.full_api_data = raw.into_api_data(secret_keys(ProviderKind::Cloudflare));
    record.with_hash()
}

#[async_trait::async_trait]
impl Dock for Cloudflare {
    type Collection = Collection;
    const DECLARATION: &'static Declaration = &DECLARATION;
    const KINDS: &'static [&'static dyn KindAdapter<Cloudflare>] = &KINDS;

    fn new(account: Account) -> Cloudflare {
        Cloudflare { account }
    }

    fn account(&self) -> &Account {
        &self.account
    }

    fn listing(c: &Collection) -> (&'static str, &'static str) {
        (c.list, c.key)
    }

    fn map_item(
        ctx: &DockContext,
        c: &Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError> {
        (c.map)(ctx, item).map_err(|what| unexpected(ctx, route, what))
    }

    async fn get_of(&self, c: &Collection, id: &str) -> Result<Option<Record>, ProviderError> {
        check_id(self.ctx(), &format!("GET {}", c.one), c.kind, id)?;
        self.read(c.one, &format!("{}/{id}", c.list), c.map).await
    }

    /// Nothing Cloudflare holds here carries tags: each kind finds its own by name
    /// (`find_owned`), so this is never reached.
    async fn find_tagged(
        &self,
        c: &Collection,
        _spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        Err(self.invalid(
            c.list,
            format!("Cloudflare {} carry no tags", c.kind.config_key()),
        ))
    }

    async fn delete_of(&self, c: &Collection, id: &str) -> Result<(), ProviderError> {
        check_id(self.ctx(), &format!("DELETE {}", c.one), c.kind, id)?;
        let path = format!("{}/{id}", c.list);
        gone_ok(self.account.client.delete(c.one, &path, &[]).await)
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.account_info().await.map(drop)
    }

    /// `GET /user/tokens/verify`: the token's own status (`active`, `disabled`, `expired`). An
    /// API token belongs to no user name or email Cloudflare reports through it.
    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            result: Token,
        }
        #[derive(serde::Deserialize)]
        struct Token {
            #[serde(default)]
            status: Option<String>,
        }
        let Envelope { result } = self.account.client.get_json(VERIFY, VERIFY, &[]).await?;
        Ok(crate::AccountInfo {
            status: result.status,
            ..crate::AccountInfo::default()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

crate::adapter::decode_list_page_for!(Cloudflare);

#[cfg(test)]
pub(crate) mod tests {
    use stackdock_core::FieldValue;
    use stackdock_core::dock_settings::DockSettings;

    use super::*;

    pub(crate) const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

    /// The dock every mapping test stamps records with, in account [`ACCOUNT`].
    pub(crate) fn ctx() -> DockContext {
        let mut ctx = crate::provider::test_context(ProviderKind::Cloudflare);
        ctx.settings =
            DockSettings::from_iter([("account_id".to_owned(), FieldValue::Str(ACCOUNT.into()))]);
        ctx
    }

    #[test]
    fn ids_are_32_hex_digits() {
        let c = ctx();
        assert!(check_id(&c, "GET", Kind::Domains, ACCOUNT).is_ok());
        for bad in [
            "",
            "abc",
            "../zones",
            &format!("{ACCOUNT}0"),
            "023e105f4ecef8ad9ca31a8372d0c35z",
        ] {
            assert!(check_id(&c, "GET", Kind::Domains, bad).is_err(), "{bad}");
        }
    }
}
