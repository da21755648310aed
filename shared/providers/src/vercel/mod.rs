//! The Vercel adapter: one dock's Vercel account (or team, with `team_id`) as a `Provider`,
//! dispatching each call to the file of its kind — projects (`projects.rs`, `/v10/projects`),
//! domains (`domains.rs`, `/v5/domains`) and the DNS records of the domains whose DNS Vercel
//! hosts (`records.rs`, `/v4/domains/{domain}/records`).
//!
//! It translates; it decides nothing. Retries, rate limiting, the `until` cursor, the `teamId`
//! every request carries and error classification belong to the shared HTTP plumbing
//! (`crate::http`, reading [`DECLARATION`]); whether to create, change or delete belongs to the
//! plan. Kinds Vercel does not offer here are refused as invalid.

pub(crate) mod declaration;
mod domains;
mod project_domains;
mod projects;
mod records;

pub use declaration::DECLARATION;

use serde_json::Value;
use stackdock_core::Record;
use stackdock_core::plan::ResourceSpec;

use crate::adapter::{Account, Dock, KindAdapter};
use crate::error::{found, gone_ok};
use crate::http::{Declaration, Item, ListOptions};
use crate::object::unwrap_envelope;
use crate::{DockContext, ErrorClass, ProviderError};

/// `GET /v2/user`: the cheapest authenticated request ([vercel-sdk] getAuthUser).
const USER: &str = "/v2/user";

/// Maps one provider object (a listed item or a parsed answer) of a route to a record.
pub(crate) type MapFn<T> = fn(&DockContext, &str, T) -> Result<Record, ProviderError>;

/// One Vercel collection as its kind file declares it. Vercel versions each endpoint on its own,
/// so one object's read and delete have routes of their own (`/v5/domains/{domain}`,
/// `/v6/domains/{domain}`), each with the one path parameter the object's id fills.
#[derive(Debug)]
pub(crate) struct Collection {
    /// The listing's path (`/v5/domains`).
    pub route: &'static str,
    /// One object's read (`/v5/domains/{domain}`).
    pub get_route: &'static str,
    /// One object's delete (`/v6/domains/{domain}`).
    pub delete_route: &'static str,
    /// The key of a listing's array (`domains`).
    pub list_key: &'static str,
    /// The key of a single-object answer (`domain`); `""` when the answer is the object itself
    /// (a project).
    pub one_key: &'static str,
    /// Refuses an id that cannot be one of this collection's (it becomes a path segment).
    pub check: fn(&DockContext, &str, &str) -> Result<(), ProviderError>,
    /// The record of a listed item.
    pub item: MapFn<Item>,
    /// The record of a single object (a get's or a create's answer).
    pub value: MapFn<Value>,
}

/// `template` with its one `{…}` parameter replaced by `id`.
pub(crate) fn fill(template: &str, id: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{id}{}", &template[..open], &template[close + 1..])
        }
        _ => template.to_owned(),
    }
}

/// An `Invalid` error about the spec or an id, before anything is sent.
pub(crate) fn invalid(ctx: &DockContext, route: &str, message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Invalid, &ctx.dock, route, message)
}

/// A Vercel account or team.
#[derive(Debug)]
pub struct Vercel {
    account: Account,
}

/// The kinds Vercel has here, each with its adapter.
pub(crate) static KINDS: [&dyn KindAdapter<Vercel>; 3] =
    [&projects::Projects, &domains::Zones, &records::Records];

#[async_trait::async_trait]
impl Dock for Vercel {
    type Collection = Collection;
    const DECLARATION: &'static Declaration = &DECLARATION;
    const KINDS: &'static [&'static dyn KindAdapter<Vercel>] = &KINDS;

    fn new(account: Account) -> Vercel {
        Vercel { account }
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

    /// `GET <get_route>`; 404 is `None`.
    async fn get_of(&self, c: &Collection, id: &str) -> Result<Option<Record>, ProviderError> {
        let route = format!("GET {}", c.get_route);
        let ctx = &self.account.ctx;
        (c.check)(ctx, &route, id)?;
        let path = fill(c.get_route, id);
        let answer = self
            .account
            .client
            .get_json::<Value>(c.get_route, &path, &[]);
        let Some(body) = found(answer.await)? else {
            return Ok(None);
        };
        let item = if c.one_key.is_empty() {
            body
        } else {
            unwrap_envelope(&ctx.dock, &route, body, c.one_key)?
        };
        (c.value)(ctx, &route, item).map(Some)
    }

    /// Vercel domains and records carry no tags: the objects labelled with the entry's name.
    async fn find_tagged(
        &self,
        c: &Collection,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        let listed = self.list_of(c).await?;
        Ok(listed.into_iter().filter(|r| r.name == spec.name).collect())
    }

    /// `DELETE <delete_route>`; one already gone is success.
    async fn delete_of(&self, c: &Collection, id: &str) -> Result<(), ProviderError> {
        let route = format!("DELETE {}", c.delete_route);
        (c.check)(&self.account.ctx, &route, id)?;
        let path = fill(c.delete_route, id);
        gone_ok(self.account.client.delete(c.delete_route, &path, &[]).await)
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.account_info().await.map(drop)
    }

    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        /// `GET /v2/user` (getAuthUser): who the token belongs to; `softBlock` is the status.
        #[derive(serde::Deserialize)]
        struct Envelope {
            user: User,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct User {
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            username: Option<String>,
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            soft_block: Option<Value>,
        }
        let Envelope { user } = self.account.client.get_json(USER, USER, &[]).await?;
        let blocked = user.soft_block.as_ref().is_some_and(|b| !b.is_null());
        Ok(crate::AccountInfo {
            name: user.name.filter(|n| !n.is_empty()).or(user.username),
            email: user.email,
            status: Some(if blocked { "blocked" } else { "active" }.to_owned()),
            ..crate::AccountInfo::default()
        })
    }
}

impl Vercel {
    /// Every object of `c`, with `options` (a zone's record listing names its path).
    pub(crate) async fn list_with(
        &self,
        c: &Collection,
        options: &ListOptions,
    ) -> Result<Vec<Record>, ProviderError> {
        let route = format!("GET {}", c.route);
        let ctx = &self.account.ctx;
        self.account
            .client
            .list_mapped(c.route, c.list_key, options, &|item| {
                (c.item)(ctx, &route, item)
            })
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

crate::adapter::decode_list_page_for!(Vercel);

#[cfg(test)]
pub(crate) mod testing {
    use stackdock_core::ProviderKind;

    use crate::DockContext;

    pub(crate) fn ctx() -> DockContext {
        crate::provider::test_context(ProviderKind::Vercel)
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn templates_take_the_id() {
        assert_eq!(
            fill("/v5/domains/{domain}", "example.com"),
            "/v5/domains/example.com"
        );
        assert_eq!(fill("/v2/user", "x"), "/v2/user");
    }
}
