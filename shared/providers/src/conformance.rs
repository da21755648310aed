//! The provider conformance suite: what the engine relies on from every adapter, checked for one
//! (provider, kind) at a time against the provider sandbox, through the `Provider` trait alone. A
//! new (provider, kind) is done when its [`Case`] passes [`run_all`].
//!
//! Enabled by the `conformance` feature, which brings in `stackdock-sandbox`: the checks start
//! sandboxes, seed them, inject faults and count requests, so they need the sandbox itself, not a
//! stand-in. How to reach it (the adapter, its retries and polls) is the case's [`Case::connect`].
//!
//! Every check starts its own sandbox, so none depends on another's data, and panics with a
//! message naming the provider, the kind and what went wrong. None reads a clock: the counts
//! asserted are of requests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::{Attrs, owner_tag};
use stackdock_core::schema::{Change, field_rule, field_rules, kind_keys};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as Sandboxed, Sandbox, SandboxConfig,
    SandboxHandle,
};

use crate::{ErrorClass, Provider, ProviderError, Request};

mod power;
mod resilience;
pub use power::power_actions_reach_their_state;
pub use resilience::{
    CLASSIFIED, errors_are_classified, readiness_is_reached, secrets_are_stripped,
};

/// Fields of a spec, in the order they are given.
pub type Fields = Vec<(&'static str, FieldValue)>;

/// The org of every spec's ownership tag.
const ORG: &str = "acme";

/// How long a check waits for readiness. A bound, not a measurement: the sandbox settles after a
/// few polls, and the case's `connect` makes the polls fast.
const READY: Duration = Duration::from_secs(20);

/// The collection size a [`Paging::Whole`] listing is probed with, besides 0 and 1: the largest
/// page of any provider (500) and one more, which any paged listing would need two requests for.
const WHOLE_PROBE: usize = 500;

/// How a kind's listing is paged by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Pages of at most `max` items, one request each; an empty collection is one request.
    Pages { max: usize },
    /// The whole collection in one response, whatever its size (Vultr `/databases`, whose
    /// operation declares no paging parameter).
    Whole,
}

/// How an in-place change is read back from a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack {
    /// [`Record::field`], the universal reading: it reads back as the new value itself.
    Field,
    /// The attached server's provider id (`attached_to_instance`), for adapters that report the
    /// id only (DigitalOcean: the engine fills the label in from the servers listing). A change to
    /// the check's server reads back as that server's id; a detach as nothing.
    AttachedServerId,
}

/// One in-place change: the field, its new value (`None` unsets it: a detach) and how to read it.
#[derive(Debug, Clone)]
pub struct InPlace {
    pub field: &'static str,
    pub to: Option<FieldValue>,
    pub read: ReadBack,
}

impl InPlace {
    /// A change read back with [`ReadBack::Field`].
    pub fn new(field: &'static str, to: Option<FieldValue>) -> InPlace {
        InPlace {
            field,
            to,
            read: ReadBack::Field,
        }
    }
}

/// A resource the case's resource lives in, created first through the adapter (a DNS record's
/// zone). A listing of the case's kind reads the parents' listing first.
#[derive(Debug, Clone)]
pub struct Parent {
    pub kind: Kind,
    pub name: &'static str,
    pub fields: Fields,
}

/// One (provider, kind): everything the checks need to know about it.
#[derive(Debug, Clone)]
pub struct Case {
    pub provider: ProviderKind,
    pub kind: Kind,
    /// Builds the adapter against a sandbox (its URL and token), with retries and readiness polls
    /// short enough for tests.
    pub connect: fn(&SandboxHandle) -> Arc<dyn Provider>,
    /// The sandbox's provider and kind: what `seed_bulk` seeds, and whose routes faults go on.
    pub sandboxed: (Sandboxed, SandboxKind),
    pub paging: Paging,
    /// Requests a listing sends to its route besides its pages (DigitalOcean droplets: the
    /// `type=gpus` listing, GPU droplets being absent from the default one).
    pub extra_list_requests: u64,
    /// Routes of other collections a listing of the kind reads whole, one request each, beside
    /// its own (Cloudflare web services: the read-only Workers scripts beside the Pages projects).
    pub also_lists: &'static [&'static str],
    /// The resource's name (also its ownership tag's address).
    pub name: &'static str,
    /// The fields it is created with.
    pub create: Fields,
    /// The create fields of the server it attaches to, if it does: that server is created first,
    /// under the name the case's `attach_to` field gives.
    pub attach_to_server: Option<Fields>,
    /// What it lives in, created first (a record's zone). Its listing then asks
    /// `extra_list_requests` of the parents' listing, and none of its own when empty: with no
    /// resource there is no parent to list.
    pub parent: Option<Parent>,
    /// For a kind found by its fields rather than its name (a DNS record: its identity is its name,
    /// type and value), the fields of another resource the ownership look-up must not find.
    pub other: Option<Fields>,
    /// Every in-place change, applied one by one in this order.
    pub in_place: Vec<InPlace>,
    /// Every replace-only field, with a value to ask an update for.
    pub replace: Fields,
    /// Keys that must never be in `fullApiData`, at any depth.
    pub secret_keys: &'static [&'static str],
    /// An id of the right shape that names no resource.
    pub unknown_id: &'static str,
    /// The status a ready resource has.
    pub ready_status: &'static str,
    /// The values of a web service's environment variables (by `NAME@target` entry), which the
    /// engine resolves for apply and the checks send with every create and update.
    pub env: Option<crate::EnvValues>,
}

impl Case {
    /// `<provider> <kind>`, the start of every failure message.
    fn who(&self) -> String {
        format!("{} {}", self.provider, self.kind)
    }

    /// The sandbox route of the kind's collection (`/vultr/v2/instances`).
    fn collection(&self) -> String {
        format!("{}{}", self.sandboxed.0.prefix(), self.routes().0)
    }

    /// The kind's collection path and the path segment of one resource in it, as the sandbox
    /// routes them.
    fn routes(&self) -> (&'static str, &'static str) {
        let (provider, kind) = self.sandboxed;
        let item = match (provider, kind) {
            (Sandboxed::Linode, SandboxKind::Bucket) => "{region}/{label}",
            (Sandboxed::Digitalocean, SandboxKind::Domain) => "{name}",
            (Sandboxed::Linode, SandboxKind::DomainRecord) => "{record_id}",
            (Sandboxed::Vultr, SandboxKind::Domain) => "{domain}",
            (Sandboxed::Cloudflare, SandboxKind::Domain) => "{zone_id}",
            (Sandboxed::Cloudflare, SandboxKind::Bucket) => "{bucket_name}",
            (Sandboxed::Cloudflare, SandboxKind::Database) => "{database_id}",
            (Sandboxed::Cloudflare, SandboxKind::WebService) => "{project_name}",
            (Sandboxed::Cloudflare, SandboxKind::DomainRecord) => "{dns_record_id}",
            _ => "{id}",
        };
        let path = match (provider, kind) {
            (Sandboxed::Vultr, SandboxKind::Instance) => "/instances",
            (Sandboxed::Vultr, SandboxKind::Volume) => "/blocks",
            (Sandboxed::Vultr, SandboxKind::Database) => "/databases",
            (Sandboxed::Digitalocean, SandboxKind::Instance) => "/droplets",
            (Sandboxed::Linode, SandboxKind::Instance) => "/linode/instances",
            (Sandboxed::Digitalocean | Sandboxed::Linode, SandboxKind::Volume) => "/volumes",
            (Sandboxed::Linode, SandboxKind::Bucket) => "/object-storage/buckets",
            (Sandboxed::Digitalocean, SandboxKind::Domain) => "/domains",
            (Sandboxed::Digitalocean, SandboxKind::DomainRecord) => "/domains/{name}/records",
            (Sandboxed::Linode, SandboxKind::Domain) => "/domains",
            (Sandboxed::Linode, SandboxKind::DomainRecord) => "/domains/{id}/records",
            (Sandboxed::Vultr, SandboxKind::Domain) => "/domains",
            (Sandboxed::Vultr, SandboxKind::DomainRecord) => "/domains/{domain}/records",
            (Sandboxed::Cloudflare, SandboxKind::Domain) => "/zones",
            (Sandboxed::Cloudflare, SandboxKind::Bucket) => "/accounts/{account_id}/r2/buckets",
            (Sandboxed::Cloudflare, SandboxKind::Database) => "/accounts/{account_id}/d1/database",
            (Sandboxed::Cloudflare, SandboxKind::WebService) => {
                "/accounts/{account_id}/pages/projects"
            }
            (Sandboxed::Cloudflare, SandboxKind::DomainRecord) => "/zones/{zone_id}/dns_records",
            _ => panic!("{}: the sandbox has no {kind:?} on {provider}", self.who()),
        };
        (path, item)
    }

    /// The list, get and create paths of a kind whose operations each have a path of their own
    /// (Vercel versions every endpoint: `GET /v5/domains`, `GET /v5/domains/{domain}`,
    /// `POST /v7/domains`; a record is read from its domain's listing). `None`: the collection
    /// and one resource in it ([`Case::routes`]).
    fn own_routes(&self) -> Option<[&'static str; 3]> {
        match self.sandboxed {
            (Sandboxed::Vercel, SandboxKind::Domain) => {
                Some(["/v5/domains", "/v5/domains/{domain}", "/v7/domains"])
            }
            (Sandboxed::Vercel, SandboxKind::DomainRecord) => Some([
                "/v4/domains/{domain}/records",
                "/v4/domains/{domain}/records",
                "/v2/domains/{domain}/records",
            ]),
            (Sandboxed::Vercel, SandboxKind::WebService) => {
                Some(["/v10/projects", "/v9/projects/{idOrName}", "/v11/projects"])
            }
            _ => None,
        }
    }

    /// The sandbox route of operation `n` of [`Case::own_routes`], if the kind has them.
    fn own_route(&self, n: usize) -> Option<String> {
        let paths = self.own_routes()?;
        Some(format!("{}{}", self.sandboxed.0.prefix(), paths[n]))
    }

    /// `GET` of the collection, as the sandbox counts it and matches faults.
    fn list_route(&self) -> String {
        let path = self.own_route(0).unwrap_or_else(|| self.collection());
        format!("GET {path}")
    }

    /// `GET` of one resource (a Linode bucket is addressed by region and label).
    fn get_route(&self) -> String {
        let path = self
            .own_route(1)
            .unwrap_or_else(|| format!("{}/{}", self.collection(), self.routes().1));
        format!("GET {path}")
    }

    fn create_route(&self) -> String {
        let path = self.own_route(2).unwrap_or_else(|| self.collection());
        format!("POST {path}")
    }

    /// A fresh sandbox and the case's adapter for it.
    async fn start(&self, config: SandboxConfig) -> (SandboxHandle, Arc<dyn Provider>) {
        let sandbox = Sandbox::start(config)
            .await
            .unwrap_or_else(|e| panic!("{}: the sandbox does not start: {e}", self.who()));
        let adapter = (self.connect)(&sandbox);
        assert_eq!(
            adapter.context().provider,
            self.provider,
            "{}: `connect` built another provider's adapter",
            self.who()
        );
        (sandbox, adapter)
    }

    fn seed(&self, sandbox: &SandboxHandle, n: usize) {
        let (provider, kind) = self.sandboxed;
        sandbox
            .seed_bulk(provider, kind, n)
            .unwrap_or_else(|e| panic!("{}: seeding {n}: {e}", self.who()));
    }

    fn ok<T>(&self, what: &str, result: Result<T, ProviderError>) -> T {
        result.unwrap_or_else(|e| panic!("{}: {what}: {e}", self.who()))
    }

    fn refused<T>(&self, what: &str, result: Result<T, ProviderError>) -> ProviderError {
        match result {
            Ok(_) => panic!("{}: {what} succeeded; it must fail", self.who()),
            Err(e) => e,
        }
    }

    fn spec(&self, kind: Kind, name: &str, fields: &[(&'static str, FieldValue)]) -> ResourceSpec {
        ResourceSpec {
            name: name.to_owned(),
            owner_tag: owner_tag(ORG, &format!("{}.{name}", kind.config_key())),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
            protect: false,
        }
    }

    /// The case's create fields without the attachment (for checks that need no server).
    fn unattached(&self) -> Fields {
        let mut fields = self.create.clone();
        fields.retain(|(k, _)| *k != "attach_to");
        fields
    }

    /// Whether the case's resource has the record key `key` (a DNS record has the keys of its
    /// type only: an MX record has no `weight`).
    fn has_key(&self, key: &str) -> bool {
        if self.kind != Kind::DomainRecords {
            return true;
        }
        let record_type = self.create.iter().find_map(|(k, v)| match v {
            FieldValue::Str(t) if *k == "type" => Some(t.as_str()),
            _ => None,
        });
        record_type.is_some_and(|t| stackdock_core::dns::key_applies(key, t))
    }

    /// Creates the case's parent, if it has one, and waits until it is ready.
    async fn create_parent(&self, p: &dyn Provider) {
        let Some(parent) = &self.parent else { return };
        let spec = self.spec(parent.kind, parent.name, &parent.fields);
        let created = self.ok(
            "create the parent",
            p.create(parent.kind, Request::of(&spec)).await,
        );
        let ready = p.wait_ready(parent.kind, &created.provider_resource_id, READY);
        self.ok("the parent becomes ready", ready.await);
    }

    /// Whether the kind takes cloud-init user data (which may hold secrets).
    fn takes_user_data(&self) -> bool {
        kind_keys(self.kind)
            .iter()
            .any(|k| k.key == "user_data_file")
    }
}

/// A resource a check created and waited for.
struct Created {
    ready: Record,
    spec: ResourceSpec,
    /// The server it is attached to.
    server: Option<Record>,
}

/// Creates the case's resource, attached to a server created first when the case attaches, and
/// waits until both are ready.
async fn create_ready(case: &Case, p: &dyn Provider, user_data: Option<&str>) -> Created {
    case.create_parent(p).await;
    let server = match &case.attach_to_server {
        None => None,
        Some(fields) => {
            let name = match case.create.iter().find(|(k, _)| *k == "attach_to") {
                Some((_, FieldValue::Str(name))) => name.clone(),
                _ => panic!(
                    "{}: the case attaches to a server but has no `attach_to` name",
                    case.who()
                ),
            };
            let spec = case.spec(Kind::Servers, &name, fields);
            let request = Request::of(&spec);
            let created = case.ok(
                "create the server to attach to",
                p.create(Kind::Servers, request).await,
            );
            let ready = p
                .wait_ready(Kind::Servers, &created.provider_resource_id, READY)
                .await;
            Some(case.ok("the server to attach to becomes ready", ready))
        }
    };
    let spec = case.spec(case.kind, case.name, &case.create);
    let request = Request {
        spec: &spec,
        user_data,
        attach_to_id: server.as_ref().map(|s| s.provider_resource_id.as_str()),
        env: case.env.as_ref(),
    };
    let created = case.ok("create", p.create(case.kind, request).await);
    let ready = case.ok(
        "wait until ready after the create",
        p.wait_ready(case.kind, &created.provider_resource_id, READY)
            .await,
    );
    assert_eq!(
        ready.provider_resource_id,
        created.provider_resource_id,
        "{}: wait_ready answered another resource",
        case.who()
    );
    Created {
        ready,
        spec,
        server,
    }
}

/// Runs every check of one case, each against its own sandbox.
pub async fn run_all(case: &Case) {
    listing_is_complete(case).await;
    unknown_id_reads_as_none(case).await;
    lost_create_is_found_by_owner(case).await;
    in_place_changes_read_back(case).await;
    replace_only_changes_are_refused(case).await;
    delete_is_idempotent(case).await;
    secrets_are_stripped(case).await;
    errors_are_classified(case).await;
    readiness_is_reached(case).await;
    power_actions_reach_their_state(case).await;
}

// ---------------------------------------------------------------------------------------------
// Reads

/// A listing of 0, 1, exactly one largest page and one more item returns every resource once, in
/// exactly the requests the paging scheme needs: no page skipped, none fetched twice, nothing else
/// asked.
pub async fn listing_is_complete(case: &Case) {
    let page = match case.paging {
        Paging::Pages { max } => max,
        Paging::Whole => WHOLE_PROBE,
    };
    for n in [0, 1, page, page + 1] {
        let (sandbox, p) = case.start(SandboxConfig::default()).await;
        case.seed(&sandbox, n);
        sandbox.reset_counters();
        let what = format!("a listing of {n}");
        let records = case.ok(&what, p.list(case.kind).await);
        assert_eq!(records.len(), n, "{}: {what}: wrong count", case.who());
        let ids: BTreeSet<&str> = records
            .iter()
            .map(|r| r.provider_resource_id.as_str())
            .collect();
        assert_eq!(ids.len(), n, "{}: {what}: an id listed twice", case.who());
        assert!(
            records.iter().all(|r| r.kind() == case.kind),
            "{}: {what}: a record of another kind",
            case.who()
        );
        let pages = match case.paging {
            Paging::Pages { max } => n.div_ceil(max).max(1),
            Paging::Whole => 1,
        };
        // A child kind's extra requests list its parents, on their own route.
        let (pages, on_route) = match (&case.parent, n) {
            (Some(_), 0) => (0, 0),
            (Some(_), _) => (pages, 0),
            (None, _) => (pages, case.extra_list_requests),
        };
        let pages = u64::try_from(pages).unwrap_or(u64::MAX);
        let also = u64::try_from(case.also_lists.len()).unwrap_or(u64::MAX);
        let expected = pages + case.extra_list_requests + also;
        let counters = sandbox.counters();
        for route in case.also_lists {
            assert_eq!(
                counters.route(route),
                1,
                "{}: {what}: requests to {route}",
                case.who()
            );
        }
        assert_eq!(
            counters.route(&case.list_route()),
            pages + on_route,
            "{}: {what}: requests to {} (pages {pages} + {on_route} extra)",
            case.who(),
            case.list_route(),
        );
        assert_eq!(
            counters.total,
            expected,
            "{}: {what}: requests besides the listing: {:?}",
            case.who(),
            counters.per_route
        );
        sandbox.shutdown().await;
    }
}

/// `get` of an id that names nothing is `Ok(None)`: the provider's 404 means "gone", and it is an
/// answer, so it is asked once.
pub async fn unknown_id_reads_as_none(case: &Case) {
    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    let got = case.ok("get an unknown id", p.get(case.kind, case.unknown_id).await);
    assert!(
        got.is_none(),
        "{}: get of unknown id {} found a resource",
        case.who(),
        case.unknown_id
    );
    assert_eq!(
        sandbox.counters().route(&case.get_route()),
        1,
        "{}: get of an unknown id: requests to {} (a 404 is not retried)",
        case.who(),
        case.get_route()
    );
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Create, change, delete

/// A create whose answer is lost (the resource is made, the answer is a 500) fails as transient,
/// saying it may have happened, is sent once, and the resource is found again by its ownership: exactly one, by that name; a
/// spec of another name finds nothing.
pub async fn lost_create_is_found_by_owner(case: &Case) {
    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    case.create_parent(p.as_ref()).await;
    sandbox.reset_counters();
    sandbox.add_fault(FaultRule::new(case.create_route(), Fault::CreateThen500).times(1));
    let fields = case.unattached();
    let spec = case.spec(case.kind, case.name, &fields);
    let request = Request {
        env: case.env.as_ref(),
        ..Request::of(&spec)
    };
    let e = case.refused(
        "a create answered with 500",
        p.create(case.kind, request).await,
    );
    assert_eq!(
        e.class,
        ErrorClass::Transient,
        "{}: a create answered with 500: {e}",
        case.who()
    );
    assert!(
        e.message.contains("may have happened"),
        "{}: a create answered with 500 does not say it may have happened: {e}",
        case.who()
    );
    assert_eq!(
        sandbox.counters().route(&case.create_route()),
        1,
        "{}: a create is never re-sent after a 5xx",
        case.who()
    );
    let found = case.ok(
        "find_owned after a lost create",
        p.find_owned(case.kind, &spec).await,
    );
    assert_eq!(
        found.len(),
        1,
        "{}: find_owned after a lost create found {} resources",
        case.who(),
        found.len()
    );
    assert_eq!(
        found[0].name,
        case.name,
        "{}: find_owned found another resource",
        case.who()
    );
    let other = match &case.other {
        Some(other) => case.spec(case.kind, "conformance-other", other),
        None => case.spec(case.kind, "conformance-other", &fields),
    };
    let found = case.ok(
        "find_owned of another name",
        p.find_owned(case.kind, &other).await,
    );
    assert!(
        found.is_empty(),
        "{}: find_owned of another name found {:?}",
        case.who(),
        found.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    sandbox.shutdown().await;
}

/// The value a change reads back as, on `record`, and the value expected.
fn read_back(
    case: &Case,
    change: &InPlace,
    record: &Record,
    server: Option<&Record>,
) -> (Option<FieldValue>, Option<FieldValue>) {
    match change.read {
        ReadBack::Field => (record.field(change.field), change.to.clone()),
        ReadBack::AttachedServerId => {
            let Attrs::BlockVolumes(a) = &record.attrs else {
                panic!(
                    "{}: `{}` reads an attached server of a non-volume",
                    case.who(),
                    change.field
                );
            };
            let server = server.map(|s| FieldValue::Str(s.provider_resource_id.clone()));
            (
                a.attached_to_instance.clone().map(FieldValue::from),
                change.to.as_ref().and(server),
            )
        }
    }
}

/// Every field the schema says changes in place is changed through `update`, one by one, and reads
/// back as the new value from the record `update` returns and from a fresh `get`; the resource is
/// still found by its ownership tag afterwards (a retag keeps it).
pub async fn in_place_changes_read_back(case: &Case) {
    // The case covers the schema: every in-place field, and nothing the schema does not allow
    // (`name` is not a config field; the engine renames a resource pinned by id).
    // `power` is not sent through `update` but as a power action: `power_actions_reach_their_state`.
    for rule in field_rules(case.provider, case.kind) {
        if rule.change == Change::InPlace && rule.key != "power" && case.has_key(rule.key) {
            assert!(
                case.in_place.iter().any(|c| c.field == rule.key),
                "{}: the schema changes `{}` in place; the case does not",
                case.who(),
                rule.key
            );
        }
    }
    for c in &case.in_place {
        let rule = field_rule(case.provider, case.kind, c.field).map(|r| r.change);
        assert!(
            c.field == "name" || rule == Some(Change::InPlace),
            "{}: the case changes `{}` in place; the schema says {rule:?}",
            case.who(),
            c.field
        );
    }

    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    let created = create_ready(case, p.as_ref(), None).await;
    let id = created.ready.provider_resource_id.clone();
    let server = created.server.as_ref();
    // The spec as it stands after each change: a rename renames the spec (as apply's desired
    // name), which keeps the ownership tag it was created with.
    let mut spec = created.spec.clone();
    for change in &case.in_place {
        let what = format!("update `{}` to {:?}", change.field, change.to);
        let before = if change.field == "name" {
            let Some(FieldValue::Str(to)) = &change.to else {
                panic!("{}: a rename to {:?}", case.who(), change.to);
            };
            Some(FieldValue::from(std::mem::replace(
                &mut spec.name,
                to.to_string(),
            )))
        } else {
            let before = spec.fields.remove(change.field);
            if let Some(to) = &change.to {
                spec.fields.insert(change.field.into(), to.clone());
            }
            before
        };
        let attached = spec.fields.contains_key("attach_to");
        let request = Request {
            spec: &spec,
            user_data: None,
            attach_to_id: server
                .filter(|_| attached)
                .map(|s| s.provider_resource_id.as_str()),
            env: case.env.as_ref(),
        };
        let field_change = FieldChange {
            field: change.field.to_owned(),
            before,
            after: change.to.clone(),
        };
        let updated = case.ok(
            &what,
            p.update(case.kind, &id, &[field_change], request).await,
        );
        assert_eq!(
            updated.provider_resource_id,
            id,
            "{}: {what}: answered another resource",
            case.who()
        );
        let (got, want) = read_back(case, change, &updated, server);
        assert_eq!(
            got,
            want,
            "{}: {what}: the record update returned",
            case.who()
        );
        let fresh = case.ok(&what, p.get(case.kind, &id).await);
        let fresh = fresh.unwrap_or_else(|| panic!("{}: {what}: gone afterwards", case.who()));
        let (got, want) = read_back(case, change, &fresh, server);
        assert_eq!(got, want, "{}: {what}: the record get returned", case.who());
        // The next change starts from a settled resource, as apply's next run would.
        case.ok(&what, p.wait_ready(case.kind, &id, READY).await);
    }
    let found = case.ok(
        "find_owned after the changes",
        p.find_owned(case.kind, &spec).await,
    );
    assert_eq!(
        found
            .iter()
            .map(|r| r.provider_resource_id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()],
        "{}: find_owned after the changes",
        case.who()
    );
    sandbox.shutdown().await;
}

/// Every replace-only field is `Replace` in the schema (and every `Replace` field of the schema is
/// in the case); an `update` asking for one alone is refused as invalid, sends no change, and
/// leaves the resource as it was.
pub async fn replace_only_changes_are_refused(case: &Case) {
    for (field, _) in &case.replace {
        let rule = field_rule(case.provider, case.kind, field).map(|r| r.change);
        assert_eq!(
            rule,
            Some(Change::Replace),
            "{}: the case says `{field}` is replace-only; the schema says {rule:?}",
            case.who()
        );
    }
    for rule in field_rules(case.provider, case.kind) {
        if rule.change == Change::Replace {
            assert!(
                case.replace.iter().any(|(k, _)| *k == rule.key),
                "{}: the schema says `{}` is replace-only; the case does not list it",
                case.who(),
                rule.key
            );
        }
    }

    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    let created = create_ready(case, p.as_ref(), None).await;
    let id = &created.ready.provider_resource_id;
    for (field, to) in &case.replace {
        let what = format!("update replace-only `{field}` to {to}");
        let before = case
            .create
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.clone());
        let mut fields = case.create.clone();
        fields.retain(|(k, _)| k != field);
        fields.push((field, to.clone()));
        let spec = case.spec(case.kind, case.name, &fields);
        let request = Request {
            spec: &spec,
            user_data: None,
            attach_to_id: created
                .server
                .as_ref()
                .map(|s| s.provider_resource_id.as_str()),
            env: case.env.as_ref(),
        };
        let change = FieldChange {
            field: (*field).to_owned(),
            before,
            after: Some(to.clone()),
        };
        sandbox.reset_counters();
        let e = case.refused(&what, p.update(case.kind, id, &[change], request).await);
        assert_eq!(e.class, ErrorClass::Invalid, "{}: {what}: {e}", case.who());
        let sent: Vec<String> = sandbox
            .counters()
            .per_route
            .into_keys()
            .filter(|k| !k.starts_with("GET "))
            .collect();
        assert!(
            sent.is_empty(),
            "{}: {what}: refused after sending {sent:?}",
            case.who()
        );
        let now = case.ok(&what, p.get(case.kind, id).await);
        let now = now.unwrap_or_else(|| panic!("{}: {what}: gone afterwards", case.who()));
        assert_eq!(
            now.field(field),
            created.ready.field(field),
            "{}: {what}: the refused update changed it",
            case.who()
        );
    }
    sandbox.shutdown().await;
}

/// Deleting twice succeeds twice (a resource already gone is success); afterwards `get` reads
/// `None` and the ownership look-up finds nothing.
pub async fn delete_is_idempotent(case: &Case) {
    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    let created = create_ready(case, p.as_ref(), None).await;
    let id = &created.ready.provider_resource_id;
    case.ok("delete", p.delete(case.kind, id).await);
    case.ok("delete again", p.delete(case.kind, id).await);
    let got = case.ok("get after delete", p.get(case.kind, id).await);
    assert!(got.is_none(), "{}: get after delete found it", case.who());
    let found = case.ok(
        "find_owned after delete",
        p.find_owned(case.kind, &created.spec).await,
    );
    assert!(
        found.is_empty(),
        "{}: find_owned after delete found {}",
        case.who(),
        found.len()
    );
    sandbox.shutdown().await;
}
