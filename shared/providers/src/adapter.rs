//! The per-kind adapter contract and the one `Provider` built from a provider's kinds.
//!
//! A provider is a dock type (`Vultr`: its [`Account`] — context, HTTP client and tuning) plus
//! one [`KindAdapter`] per kind it supports, listed once in `Dock::KINDS`. Each kind declares its
//! collection; the dock writes list, get, delete and the look-up by ownership tag once against
//! it, and a kind adapter writes only what differs (create, update, readiness, and whatever its
//! API does its own way). [`Adapter`] turns them into a `Provider`: dispatch by kind, the "kind
//! not supported" error and readiness polling are written here, once, for every provider.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{Kind, Record};

use tokio::sync::OnceCell;

use crate::catalog::{Catalog, CatalogTerms};
use crate::http::{Declaration, DockClient, Item, ListOptions};
use crate::wait::{Poll, PollPolicy, poll_until};
use crate::{DockContext, ErrorClass, PowerAction, Provider, ProviderError, Request, Tuning};

/// What every provider's dock holds: who it works for, its HTTP client and its tuning.
#[derive(Debug)]
pub(crate) struct Account {
    /// Who the dock works for (stamped on records, named in errors).
    pub ctx: DockContext,
    /// The dock's HTTP client (pacing, retries, paging and status classification).
    pub client: DockClient,
    /// Readiness polling.
    pub tuning: Tuning,
}

/// One provider account as its kind adapters see it.
#[async_trait]
pub(crate) trait Dock: Sized + Send + Sync + Debug + 'static {
    /// How this provider describes one kind's collection to its shared calls (paths, envelope
    /// keys, the mapping of one object). List, get and delete are written once per provider,
    /// against this description, and every kind adapter uses them unless it says otherwise.
    type Collection: Sync + 'static;

    /// The provider's HTTP-level declaration (its display name names it in messages).
    const DECLARATION: &'static Declaration;

    /// The kinds the provider has here, each with its adapter.
    const KINDS: &'static [&'static dyn KindAdapter<Self>];

    /// The dock of `account`.
    fn new(account: Account) -> Self;

    fn account(&self) -> &Account;

    /// Where `c` is listed and the key of its listing's array (`/volumes`, `volumes`).
    fn listing(c: &Self::Collection) -> (&'static str, &'static str);

    /// The record of one listed item of `c`; `route` names the listing in errors.
    fn map_item(
        ctx: &DockContext,
        c: &Self::Collection,
        route: &str,
        item: Item,
    ) -> Result<Record, ProviderError>;

    /// Maps one list page of `c` (the body of its listing) to records exactly as a listing
    /// does, without a dock (the fuzz targets and the hostile-response tests).
    fn decode_page(
        ctx: &DockContext,
        c: &Self::Collection,
        body: &[u8],
    ) -> Result<Vec<Record>, ProviderError> {
        let (path, key) = Self::listing(c);
        let route = format!("GET {path}");
        let scheme = Self::DECLARATION.pagination_of(path);
        crate::http::page_items(&ctx.dock, &route, key, scheme, body)?
            .into_iter()
            .map(|item| Self::map_item(ctx, c, &route, item))
            .collect()
    }

    fn context(&self) -> &DockContext {
        &self.account().ctx
    }

    /// Every object of `c` (every page, each mapped as it arrives) as records, or an error.
    async fn list_of(&self, c: &Self::Collection) -> Result<Vec<Record>, ProviderError> {
        let (path, key) = Self::listing(c);
        let (route, ctx) = (format!("GET {path}"), self.context());
        let map = |item| Self::map_item(ctx, c, &route, item);
        let client = &self.account().client;
        client
            .list_mapped(path, key, &ListOptions::new(), &map)
            .await
    }

    /// One object of `c`; 404 is `Ok(None)`.
    async fn get_of(&self, c: &Self::Collection, id: &str)
    -> Result<Option<Record>, ProviderError>;

    /// Deletes one object of `c`; one already gone is success.
    async fn delete_of(&self, c: &Self::Collection, id: &str) -> Result<(), ProviderError>;

    /// Objects of `c` carrying the ownership tag of `spec`, found the provider's way.
    async fn find_tagged(
        &self,
        c: &Self::Collection,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError>;

    /// How readiness is polled.
    fn poll(&self) -> PollPolicy {
        self.account().tuning.poll
    }

    /// One cheap authenticated request, to tell a bad credential from a bad listing.
    async fn check_credentials(&self) -> Result<(), ProviderError>;

    /// The account the credential belongs to, as far as the provider reports it (its account
    /// endpoint). By default only the credential is checked and nothing is reported.
    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        self.check_credentials().await?;
        Ok(crate::AccountInfo::default())
    }

    /// The provider's words for its catalog (regions, plans, images, apps); `None`: it has
    /// none, and plans check nothing against one.
    const CATALOG: Option<&'static CatalogTerms> = None;

    /// Reads the catalog from the provider (every section, every page). Called once per
    /// adapter, and only when [`Dock::CATALOG`] is `Some`.
    async fn read_catalog(&self) -> Result<Catalog, ProviderError> {
        Ok(Catalog::default())
    }
}

/// What a record's status says about readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readiness {
    Ready,
    Pending,
    /// It will not become ready without a person (the message says what to do).
    Failed(String),
}

impl Readiness {
    /// `Ready` when `ready`, else `Pending`.
    pub(crate) fn when(ready: bool) -> Readiness {
        if ready {
            Readiness::Ready
        } else {
            Readiness::Pending
        }
    }
}

/// An in-place update as apply asks for it: the resource, the changes in order, and the request
/// they converge to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Update<'a> {
    pub id: &'a str,
    pub changes: &'a [FieldChange],
    pub request: Request<'a>,
}

/// One kind on one provider: the `Provider` calls for that kind only. Implementations translate
/// and decide nothing; they never look at status codes (the HTTP plumbing classifies them).
#[async_trait]
pub(crate) trait KindAdapter<D: Dock>: Send + Sync {
    fn kind(&self) -> Kind;

    /// The kind's collection, as the provider's shared calls read it.
    fn collection(&self) -> &'static D::Collection;

    /// Every resource of the kind (every page) or an error.
    async fn list(&self, dock: &D) -> Result<Vec<Record>, ProviderError> {
        dock.list_of(self.collection()).await
    }

    /// Every resource of the kind in `parents`, the complete listing of its parent kind
    /// (`Kind::parent`); a kind without one lists as `list` does.
    async fn list_within(
        &self,
        dock: &D,
        parents: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        let _ = parents;
        self.list(dock).await
    }

    /// One resource; 404 is `Ok(None)`.
    async fn get(&self, dock: &D, id: &str) -> Result<Option<Record>, ProviderError> {
        dock.get_of(self.collection(), id).await
    }

    /// Resources carrying the ownership tag (kinds without tags look for the label instead).
    async fn find_owned(
        &self,
        dock: &D,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        dock.find_tagged(self.collection(), spec).await
    }

    /// Plan-time checks of this kind beyond the catalog's (none by default).
    async fn validate(&self, dock: &D, spec: &ResourceSpec) -> Result<Vec<String>, ProviderError> {
        let _ = (dock, spec);
        Ok(Vec::new())
    }

    /// Sends the create once (never retried).
    async fn create(&self, dock: &D, request: Request<'_>) -> Result<Record, ProviderError>;

    /// Applies in-place changes and returns the resource as it is afterwards.
    async fn update(&self, dock: &D, update: Update<'_>) -> Result<Record, ProviderError>;

    /// A resource already gone is success.
    async fn delete(&self, dock: &D, id: &str) -> Result<(), ProviderError> {
        dock.delete_of(self.collection(), id).await
    }

    /// Sends one power action. Only servers have them: any other kind refuses.
    async fn power(&self, dock: &D, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        let _ = id;
        Err(ProviderError::new(
            ErrorClass::Invalid,
            &dock.context().dock,
            self.kind().config_key(),
            format!(
                "{} have no power actions on {}; `stackdock server {action}` takes a server's address",
                self.kind().config_key(),
                D::DECLARATION.display_name
            ),
        ))
    }

    /// Whether `record` is ready to be used (and to be changed again).
    fn readiness(&self, record: &Record) -> Readiness;

    /// While waiting, a resource not found yet is still pending (a listing that catches up after
    /// the create) rather than gone.
    fn absent_is_pending(&self) -> bool {
        false
    }
}

/// A provider's kinds as one `Provider`.
#[derive(Debug)]
pub(crate) struct Adapter<D: Dock> {
    dock: D,
    /// The catalog, read on first use and kept for the adapter's life (a plan validates many
    /// entries against it).
    catalog: OnceCell<Catalog>,
}

/// The `Provider` of one dock of provider `D`.
pub(crate) fn connect<D: Dock>(
    ctx: DockContext,
    client: DockClient,
    tuning: Tuning,
) -> Arc<dyn Provider> {
    let account = Account {
        ctx,
        client,
        tuning,
    };
    Arc::new(Adapter {
        dock: D::new(account),
        catalog: OnceCell::new(),
    })
}

/// The adapter of `kind` on provider `D`, or the error that says which kinds `D` has.
fn kind_adapter<D: Dock>(
    dock: &str,
    kind: Kind,
) -> Result<&'static dyn KindAdapter<D>, ProviderError> {
    D::KINDS
        .iter()
        .copied()
        .find(|k| k.kind() == kind)
        .ok_or_else(|| {
            let have: Vec<&str> = D::KINDS.iter().map(|k| k.kind().config_key()).collect();
            ProviderError::new(
                ErrorClass::Invalid,
                dock,
                kind.config_key(),
                format!(
                    "{} docks have no {}; StackDock manages {} there: move the entry to a dock whose provider has them",
                    D::DECLARATION.display_name,
                    kind.config_key(),
                    have.join(", ")
                ),
            )
        })
}

/// Maps one list page of `kind` on provider `D` to records exactly as a listing does: the entry
/// point of the fuzz targets and of the tests of hostile responses.
///
/// # Errors
/// The body is not JSON, has no list under the kind's key or an item cannot be mapped
/// (transient, as in a listing), or `D` has no `kind` here (invalid).
pub(crate) fn decode_list_page<D: Dock>(
    ctx: &DockContext,
    kind: Kind,
    body: &[u8],
) -> Result<Vec<Record>, ProviderError> {
    let k = kind_adapter::<D>(&ctx.dock, kind)?;
    D::decode_page(ctx, k.collection(), body)
}

impl<D: Dock> Debug for dyn KindAdapter<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KindAdapter({})", self.kind())
    }
}

/// Stamps a provider module's public `decode_list_page` for its dock type: the fuzz targets and
/// the hostile-response tests name it per provider (`stackdock_providers::vultr::…`).
macro_rules! decode_list_page_for {
    ($dock:ty) => {
        /// Maps one list page of `kind` (the body of its listing) to records exactly as a listing
        /// does. The entry point of the fuzz targets and of the tests of hostile responses; not
        /// part of the adapter's API.
        ///
        /// # Errors
        /// The body is not JSON, has no list under the kind's key or an item cannot be mapped
        /// (transient, as in a listing), or the provider has no `kind` here (invalid).
        #[doc(hidden)]
        pub fn decode_list_page(
            ctx: &$crate::DockContext,
            kind: stackdock_core::Kind,
            body: &[u8],
        ) -> Result<Vec<stackdock_core::Record>, $crate::ProviderError> {
            $crate::adapter::decode_list_page::<$dock>(ctx, kind, body)
        }
    };
}
pub(crate) use decode_list_page_for;

impl<D: Dock> Adapter<D> {
    /// The adapter of `kind`, or the error that says which kinds this provider has.
    fn of(&self, kind: Kind) -> Result<&'static dyn KindAdapter<D>, ProviderError> {
        kind_adapter::<D>(&self.dock.context().dock, kind)
    }
}

#[async_trait]
impl<D: Dock> Provider for Adapter<D> {
    fn context(&self) -> &DockContext {
        self.dock.context()
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.dock.check_credentials().await
    }

    async fn account_info(&self) -> Result<crate::AccountInfo, ProviderError> {
        self.dock.account_info().await
    }

    async fn catalog(&self) -> Result<Option<Catalog>, ProviderError> {
        if D::CATALOG.is_none() {
            return Ok(None);
        }
        let read = self
            .catalog
            .get_or_try_init(|| self.dock.read_catalog())
            .await?;
        Ok(Some(read.clone()))
    }

    fn catalog_terms(&self) -> Option<&'static CatalogTerms> {
        D::CATALOG
    }

    async fn list(&self, kind: Kind) -> Result<Vec<Record>, ProviderError> {
        self.of(kind)?.list(&self.dock).await
    }

    async fn list_within(
        &self,
        kind: Kind,
        parents: &[Record],
    ) -> Result<Vec<Record>, ProviderError> {
        self.of(kind)?.list_within(&self.dock, parents).await
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ProviderError> {
        self.of(kind)?.get(&self.dock, id).await
    }

    async fn find_owned(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<Record>, ProviderError> {
        self.of(kind)?.find_owned(&self.dock, spec).await
    }

    async fn validate(
        &self,
        kind: Kind,
        spec: &ResourceSpec,
    ) -> Result<Vec<String>, ProviderError> {
        let k = match self.of(kind) {
            Ok(k) => k,
            Err(e) => return Ok(vec![e.message]),
        };
        let mut problems = k.validate(&self.dock, spec).await?;
        if let Some(terms) = D::CATALOG {
            let catalog = self
                .catalog
                .get_or_try_init(|| self.dock.read_catalog())
                .await?;
            problems.extend(crate::catalog::check(terms, catalog, kind, spec));
        }
        Ok(problems)
    }

    async fn create(&self, kind: Kind, request: Request<'_>) -> Result<Record, ProviderError> {
        self.of(kind)?.create(&self.dock, request).await
    }

    async fn update(
        &self,
        kind: Kind,
        id: &str,
        changes: &[FieldChange],
        request: Request<'_>,
    ) -> Result<Record, ProviderError> {
        let update = Update {
            id,
            changes,
            request,
        };
        self.of(kind)?.update(&self.dock, update).await
    }

    async fn delete(&self, kind: Kind, id: &str) -> Result<(), ProviderError> {
        self.of(kind)?.delete(&self.dock, id).await
    }

    async fn wait_ready(
        &self,
        kind: Kind,
        id: &str,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        wait_for(&self.dock, self.of(kind)?, id, timeout).await
    }

    async fn power(&self, kind: Kind, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        self.of(kind)?.power(&self.dock, id, action).await
    }

    async fn wait_power(
        &self,
        kind: Kind,
        id: &str,
        action: PowerAction,
        timeout: Duration,
    ) -> Result<Record, ProviderError> {
        wait_power(&self.dock, self.of(kind)?, id, action, timeout).await
    }
}

/// Polls `k`'s resource `id` until its universal status is the one `action` leads to.
///
/// # Errors
/// The resource is gone, a poll failed, or the timeout passed (transient, naming the last status
/// seen).
pub(crate) async fn wait_power<D: Dock>(
    dock: &D,
    k: &dyn KindAdapter<D>,
    id: &str,
    action: PowerAction,
    timeout: Duration,
) -> Result<Record, ProviderError> {
    let name = &dock.context().dock;
    let target = action.target_status();
    let what = format!("{} {id} to be {target}", k.kind().noun());
    poll_until(dock.poll(), timeout, name, &what, || async {
        let Some(record) = k.get(dock, id).await? else {
            return Err(ProviderError::new(
                ErrorClass::NotFound,
                name,
                format!("wait for {what}"),
                format!(
                    "{} {id} no longer exists; run `stackdock sync` to refresh the inventory",
                    k.kind().noun()
                ),
            ));
        };
        if record.status == target {
            Ok(Poll::Ready(record))
        } else {
            Ok(Poll::Pending(record.status.to_string()))
        }
    })
    .await
}

/// Polls `k`'s resource `id` until its readiness says so, `timeout` passes, or it fails.
///
/// # Errors
/// The resource is gone (not found, unless the kind's listings catch up after a create), its
/// status says it will not get ready, a poll failed, or the timeout passed (transient, naming the
/// last status seen).
pub(crate) async fn wait_for<D: Dock>(
    dock: &D,
    k: &dyn KindAdapter<D>,
    id: &str,
    timeout: Duration,
) -> Result<Record, ProviderError> {
    let name = &dock.context().dock;
    let what = format!("{} {id}", k.kind().noun());
    let gone = || {
        ProviderError::new(
            ErrorClass::NotFound,
            name,
            format!("wait for {what}"),
            format!("{what} no longer exists; run `stackdock sync` to refresh the inventory"),
        )
    };
    poll_until(dock.poll(), timeout, name, &what, || async {
        let Some(record) = k.get(dock, id).await? else {
            return if k.absent_is_pending() {
                Ok(Poll::Pending("not found yet".to_owned()))
            } else {
                Err(gone())
            };
        };
        match k.readiness(&record) {
            Readiness::Ready => Ok(Poll::Ready(record)),
            Readiness::Pending => Ok(Poll::Pending(record.status.to_string())),
            Readiness::Failed(message) => Err(ProviderError::new(
                ErrorClass::Invalid,
                name,
                format!("wait for {what}"),
                message,
            )),
        }
    })
    .await
}
