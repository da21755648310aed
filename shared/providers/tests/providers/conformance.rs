//! The provider conformance suite (`stackdock_providers::conformance`) run for every (provider,
//! kind) the adapters support: one test each, running every check. The cases' field values are
//! ones the sandbox accepts; `spec.rs` drives the same ones through the published documents. The
//! per-provider modules keep only what is particular to one provider.

use std::sync::Arc;

use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_providers::conformance::{self, Case, Fields, InPlace, Paging, Parent, ReadBack};
use stackdock_providers::redact::secret_keys;
use stackdock_providers::{DockContext, EnvValues, Provider};
use stackdock_sandbox::{Kind as SandboxKind, Provider as Sandboxed, SandboxHandle};

use super::support::{connect_as, dock, set, unlimited};

/// The sandbox's Cloudflare account (`account_id` of the Cloudflare dock).
pub(super) const CLOUDFLARE_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// The dock `<provider>-main` of org `acme` (a Cloudflare dock in the sandbox's account).
pub(super) fn ctx(provider: ProviderKind) -> DockContext {
    let mut ctx = dock(provider, &format!("{provider}-main"), "TOKEN");
    if provider == ProviderKind::Cloudflare {
        ctx.settings = [("account_id".to_owned(), s(CLOUDFLARE_ACCOUNT))]
            .into_iter()
            .collect();
    }
    ctx
}

/// The adapter of `provider` against the sandbox: retries a few milliseconds apart (a fault that
/// answers every attempt fails fast), no client-side rate limit, fast readiness polls.
pub(super) fn connect(
    sandbox: &SandboxHandle,
    provider: ProviderKind,
    sandboxed: Sandboxed,
) -> Arc<dyn Provider> {
    let token = sandbox.token(sandboxed);
    connect_as(sandbox, ctx(provider), sandboxed, &token, unlimited)
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.into())
}

/// A case of `provider`'s sandboxed `kind` with what all its kinds share (the adapter, the largest
/// page, the secret keys, an id that names nothing); each kind's function fills in the rest.
fn base(provider: ProviderKind, kind: SandboxKind) -> Case {
    type Connect = fn(&SandboxHandle) -> Arc<dyn Provider>;
    let (connect, sandboxed, max_page, unknown_id): (Connect, _, _, _) = match provider {
        ProviderKind::Vultr => (
            |sandbox| connect(sandbox, ProviderKind::Vultr, Sandboxed::Vultr),
            Sandboxed::Vultr,
            500,
            "00000000-0000-0000-0000-000000000000",
        ),
        ProviderKind::DigitalOcean => (
            |sandbox| connect(sandbox, ProviderKind::DigitalOcean, Sandboxed::Digitalocean),
            Sandboxed::Digitalocean,
            200,
            "999999999",
        ),
        ProviderKind::Linode => (
            |sandbox| connect(sandbox, ProviderKind::Linode, Sandboxed::Linode),
            Sandboxed::Linode,
            500,
            "999",
        ),
        ProviderKind::Vercel => (
            |sandbox| connect(sandbox, ProviderKind::Vercel, Sandboxed::Vercel),
            Sandboxed::Vercel,
            100,
            "nothing.example",
        ),
        // Zones page 50 at most; records override the paging (see `cloudflare::domain_records`).
        ProviderKind::Cloudflare => (
            |sandbox| connect(sandbox, ProviderKind::Cloudflare, Sandboxed::Cloudflare),
            Sandboxed::Cloudflare,
            50,
            "00000000000000000000000000000000",
        ),
    };
    Case {
        provider,
        kind: Kind::Servers,
        connect,
        sandboxed: (sandboxed, kind),
        paging: Paging::Pages { max: max_page },
        extra_list_requests: 0,
        also_lists: &[],
        name: "",
        create: Vec::new(),
        attach_to_server: None,
        parent: None,
        other: None,
        in_place: Vec::new(),
        replace: Vec::new(),
        secret_keys: secret_keys(provider),
        unknown_id,
        ready_status: "",
        env: None,
    }
}

/// The server every case's resource is, or attaches to.
const SERVER: &str = "conf-web";

/// A provider's server case in its own words: the region, plan, image and SSH key it is created
/// with, the plan it grows to, and a region and an image that each replace it.
struct Web {
    region: &'static str,
    plan: &'static str,
    image: &'static str,
    ssh_key: &'static str,
    bigger: &'static str,
    other_region: &'static str,
    other_image: &'static str,
}

impl Web {
    /// The server's create fields.
    fn fields(&self) -> Fields {
        vec![
            ("region", s(self.region)),
            ("plan", s(self.plan)),
            ("image", s(self.image)),
            ("tags", set(&["web", "env:prod"])),
            ("ssh_keys", set(&[self.ssh_key])),
        ]
    }
}

/// A server case: renamed, retagged and resized in place; region and image replace it.
fn servers(provider: ProviderKind, web: &Web) -> Case {
    Case {
        kind: Kind::Servers,
        name: SERVER,
        create: web.fields(),
        in_place: vec![
            InPlace::new("name", Some(s("conf-web-2"))),
            InPlace::new("tags", Some(set(&["web"]))),
            InPlace::new("plan", Some(s(web.bigger))),
        ],
        replace: vec![
            ("region", s(web.other_region)),
            ("image", s(web.other_image)),
        ],
        ready_status: "running",
        ..base(provider, SandboxKind::Instance)
    }
}

/// A volume case in the server's region: attached to it at creation, grown, detached and
/// attached again (the attachment read back as `read` says), the region replacing it.
fn volumes(provider: ProviderKind, web: &Web, read: ReadBack) -> Case {
    let attach = |to: Option<FieldValue>| InPlace {
        field: "attach_to",
        to,
        read,
    };
    Case {
        kind: Kind::BlockVolumes,
        name: "conf-data",
        create: vec![
            ("region", s(web.region)),
            ("size_gb", FieldValue::Int(40)),
            ("attach_to", s(SERVER)),
        ],
        attach_to_server: Some(web.fields()),
        in_place: vec![
            InPlace::new("size_gb", Some(FieldValue::Int(80))),
            attach(None),
            attach(Some(s(SERVER))),
        ],
        replace: vec![("region", s(web.other_region))],
        ready_status: "active",
        ..base(provider, SandboxKind::Volume)
    }
}

/// `case` renamed in place first.
fn renamed(mut case: Case, to: &str) -> Case {
    case.in_place.insert(0, InPlace::new("name", Some(s(to))));
    case
}

/// The zone every DNS case lives in.
const ZONE: &str = "conf.example";

/// A zone case: nothing changes in place, and it is found again by its name.
fn zones(provider: ProviderKind, unknown_id: &'static str) -> Case {
    Case {
        kind: Kind::Domains,
        name: ZONE,
        unknown_id,
        ready_status: "active",
        ..base(provider, SandboxKind::Domain)
    }
}

/// One DNS record case: its type's fields, its identity (`<fqdn> <TYPE> <value>`, its name),
/// what changes in place, and another record of the same name and type.
struct RecordCase {
    identity: &'static str,
    fields: Fields,
    in_place: Vec<InPlace>,
    other_value: &'static str,
}

/// The record cases, each changing its value and TTL in place: an MX record (and its priority),
/// an SRV record (weight and port) and a CAA record (flags and tag); together they change every
/// key a record has.
fn record_cases() -> Vec<RecordCase> {
    let int = FieldValue::Int;
    let head = |fqdn: &str, t: &str, value: &str| -> Fields {
        vec![
            ("zone", s(ZONE)),
            ("fqdn", s(fqdn)),
            ("type", s(t)),
            ("value", s(value)),
        ]
    };
    let with = |mut fields: Fields, more: Fields| {
        fields.extend(more);
        fields
    };
    vec![
        RecordCase {
            identity: "conf.example MX mail.conf.example",
            fields: with(
                head(ZONE, "MX", "mail.conf.example"),
                vec![("priority", int(10)), ("ttl", int(1800))],
            ),
            in_place: vec![
                InPlace::new("value", Some(s("mail2.conf.example"))),
                InPlace::new("ttl", Some(int(3600))),
                InPlace::new("priority", Some(int(20))),
            ],
            other_value: "other.conf.example",
        },
        RecordCase {
            identity: "_sip._tcp.conf.example SRV sip.conf.example",
            fields: with(
                head("_sip._tcp.conf.example", "SRV", "sip.conf.example"),
                vec![
                    ("priority", int(10)),
                    ("weight", int(5)),
                    ("port", int(5060)),
                ],
            ),
            in_place: vec![
                InPlace::new("value", Some(s("sip3.conf.example"))),
                InPlace::new("ttl", Some(int(600))),
                InPlace::new("priority", Some(int(20))),
                InPlace::new("weight", Some(int(10))),
                InPlace::new("port", Some(int(5061))),
            ],
            other_value: "sip2.conf.example",
        },
        RecordCase {
            identity: "conf.example CAA letsencrypt.org",
            fields: with(
                head(ZONE, "CAA", "letsencrypt.org"),
                vec![("flags", int(0)), ("tag", s("issue"))],
            ),
            in_place: vec![
                InPlace::new("value", Some(s("sectigo.com"))),
                InPlace::new("ttl", Some(int(600))),
                InPlace::new("flags", Some(int(128))),
                InPlace::new("tag", Some(s("issuewild"))),
            ],
            other_value: "pki.goog",
        },
    ]
}

/// A record case of `provider`, in the zone created first; its listing reads the zones first.
fn records(provider: ProviderKind, record: RecordCase, unknown_id: &'static str) -> Case {
    let mut other = record.fields.clone();
    for (k, v) in &mut other {
        if *k == "value" {
            *v = s(record.other_value);
        }
    }
    Case {
        kind: Kind::DomainRecords,
        name: record.identity,
        create: record.fields,
        parent: Some(Parent {
            kind: Kind::Domains,
            name: ZONE,
            fields: Vec::new(),
        }),
        other: Some(other),
        extra_list_requests: 1,
        in_place: record.in_place,
        unknown_id,
        ready_status: "active",
        ..base(provider, SandboxKind::DomainRecord)
    }
}

/// The record case `n` of [`record_cases`] on `provider`.
fn record_case(provider: ProviderKind, n: usize, unknown_id: &'static str) -> Case {
    let record = record_cases().swap_remove(n);
    records(provider, record, unknown_id)
}

mod vultr {
    use super::*;

    const WEB: Web = Web {
        region: "ewr",
        plan: "vc2-1c-1gb",
        image: "os:2284",
        ssh_key: "3b8066a7-b438-455a-9688-44afc9a3597f",
        bigger: "vc2-2c-4gb",
        other_region: "ord",
        other_image: "os:2136",
    };

    pub(super) fn servers() -> Case {
        super::servers(ProviderKind::Vultr, &WEB)
    }

    /// Blocks are renamed in place; their type replaces them.
    pub(super) fn block_volumes() -> Case {
        let mut case = volumes(ProviderKind::Vultr, &WEB, ReadBack::Field);
        case.replace.push(("block_type", s("storage_opt")));
        renamed(case, "conf-data-2")
    }

    pub(super) fn databases() -> Case {
        Case {
            kind: Kind::Databases,
            // `GET /databases` declares no paging parameter: one response.
            paging: Paging::Whole,
            name: "conf-db",
            create: vec![
                ("engine", s("pg")),
                ("version", s("16")),
                ("plan", s("vultr-dbaas-startup-cc-1-55-2")),
                ("region", s("ewr")),
            ],
            in_place: vec![
                InPlace::new("name", Some(s("conf-db-2"))),
                InPlace::new("plan", Some(s("vultr-dbaas-business-cc-2-80-4"))),
            ],
            replace: vec![
                ("engine", s("mysql")),
                ("version", s("15")),
                ("region", s("ord")),
            ],
            ready_status: "running",
            ..base(ProviderKind::Vultr, SandboxKind::Database)
        }
    }

    pub(super) fn domains() -> Case {
        zones(ProviderKind::Vultr, "nothing.example")
    }

    /// Record ids are UUIDs; SRV weight and port and CAA flags and tag travel in `data`.
    pub(super) fn domain_records(n: usize) -> Case {
        record_case(
            ProviderKind::Vultr,
            n,
            "conf.example/00000000-0000-4000-8000-000000000000",
        )
    }
}

mod digitalocean {
    use super::*;

    const WEB: Web = Web {
        region: "nyc3",
        plan: "s-1vcpu-1gb",
        image: "ubuntu-24-04-x64",
        ssh_key: "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa",
        bigger: "s-2vcpu-2gb",
        other_region: "fra1",
        other_image: "debian-12-x64",
    };

    pub(super) fn servers() -> Case {
        Case {
            // GPU droplets are only in the `type=gpus` listing: one more request, always.
            extra_list_requests: 1,
            ..super::servers(ProviderKind::DigitalOcean, &WEB)
        }
    }

    pub(super) fn domains() -> Case {
        zones(ProviderKind::DigitalOcean, "nothing.example")
    }

    pub(super) fn domain_records(n: usize) -> Case {
        record_case(ProviderKind::DigitalOcean, n, "conf.example/999999999")
    }

    /// Volumes cannot be renamed; an attachment reads back as the droplet's id.
    pub(super) fn block_volumes() -> Case {
        Case {
            unknown_id: "00000000-0000-0000-0000-000000000000",
            ..volumes(ProviderKind::DigitalOcean, &WEB, ReadBack::AttachedServerId)
        }
    }
}

mod linode {
    use super::*;

    const WEB: Web = Web {
        region: "us-east",
        plan: "g6-nanode-1",
        image: "linode/ubuntu24.04",
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ops@acme",
        bigger: "g6-standard-2",
        other_region: "us-west",
        other_image: "linode/debian12",
    };

    /// Created with an app: the account's own StackScript (sent as `stackscript_id`, which the
    /// spec check then checks too).
    pub(super) fn servers() -> Case {
        let mut case = super::servers(ProviderKind::Linode, &WEB);
        case.create.push(("app", s("1000002")));
        case
    }

    pub(super) fn block_volumes() -> Case {
        renamed(
            volumes(ProviderKind::Linode, &WEB, ReadBack::Field),
            "conf-data-2",
        )
    }

    pub(super) fn domains() -> Case {
        zones(ProviderKind::Linode, "999")
    }

    /// The TTLs Linode keeps as given (any other rounds up to the next, so the config validator
    /// refuses it for Linode): each TTL of the cases is moved onto one of them.
    fn kept_ttl(ttl: i64) -> i64 {
        match ttl {
            1800 => 300,
            600 => 7200,
            other => other,
        }
    }

    /// A record case as Linode can hold it: TTLs Linode keeps, and no CAA flags change (Linode
    /// has no CAA flags; the schema does not manage them there, and they read back as 0).
    pub(super) fn domain_records(n: usize) -> Case {
        let mut case = record_case(ProviderKind::Linode, n, "999/999");
        let ttl = |fields: &mut Fields| {
            for (k, v) in fields.iter_mut() {
                if let (&mut "ttl", FieldValue::Int(t)) = (k, &mut *v) {
                    *t = kept_ttl(*t);
                }
            }
        };
        ttl(&mut case.create);
        if let Some(other) = &mut case.other {
            ttl(other);
        }
        case.in_place.retain(|c| c.field != "flags");
        for change in &mut case.in_place {
            if let (&mut "ttl", Some(FieldValue::Int(t))) = (&mut change.field, &mut change.to) {
                *t = kept_ttl(*t);
            }
        }
        case
    }

    /// Buckets change nothing in place: a bucket is its region and label.
    pub(super) fn buckets() -> Case {
        Case {
            kind: Kind::Buckets,
            name: "conf-assets",
            create: vec![("region", s("us-east"))],
            replace: vec![("region", s("eu-central")), ("cluster", s("eu-central-1"))],
            unknown_id: "us-east/nothing",
            ready_status: "active",
            ..base(ProviderKind::Linode, SandboxKind::Bucket)
        }
    }
}

mod vercel {
    use super::*;

    /// A domain added through the API stays `pending` until its registrar names Vercel's
    /// nameservers, which nothing here does: it is ready (to hold records) as it is.
    pub(super) fn domains() -> Case {
        Case {
            ready_status: "pending",
            ..zones(ProviderKind::Vercel, "nothing.example")
        }
    }

    /// Record ids are `rec_…`; an MX priority is `mxPriority`, SRV data an object, CAA flags and
    /// tag in `value`. A record is read from its domain's listing.
    pub(super) fn domain_records(n: usize) -> Case {
        record_case(
            ProviderKind::Vercel,
            n,
            "conf.example/rec_000000000000000000000000",
        )
    }

    /// A project linked to a repository: its production deployment builds for a few reads and
    /// is then `READY` (`running`). Its settings and custom domains change in place (a domain
    /// reads back from the production deployment's aliases); the subtype and the repository
    /// replace it. Projects page with the `from` continuation, 100 at most. Variables, whose
    /// values come from the engine, have a test of their own (`vercel.rs`).
    pub(super) fn web_services() -> Case {
        Case {
            unknown_id: "prj_000000000000000000000000",
            ..web_service(
                ProviderKind::Vercel,
                ("project", "pages"),
                vec![
                    ("framework", s("nextjs")),
                    ("root_directory", s("apps/web")),
                ],
                vec![
                    InPlace::new("framework", Some(s("astro"))),
                    InPlace::new("root_directory", Some(s("apps/site"))),
                    InPlace::new("build_command", Some(s("npm run build"))),
                    InPlace::new("install_command", Some(s("npm ci"))),
                    InPlace::new("output_directory", Some(s("dist"))),
                    InPlace::new("serverless_function_region", Some(s("cdg1"))),
                ],
            )
        }
    }
}

/// A web service `conf-site` linked to repository `acme/conf-site` on GitHub, with a variable in
/// two environments (values from the engine), and the provider's own settings `own` at create
/// and `own_in_place` as changes: its variables change first, then its own settings, then its
/// custom domains (one added, then swapped); its `(subtype, other)` subtype and its repository
/// are replace-only. Every web-service provider's case starts here.
fn web_service(
    provider: ProviderKind,
    (subtype, other): (&'static str, &'static str),
    own: Fields,
    own_in_place: Vec<InPlace>,
) -> Case {
    let mut create = vec![
        ("subtype", s(subtype)),
        ("repo", s("acme/conf-site")),
        ("repo_provider", s("github")),
        ("env", set(&["API_URL@production", "API_URL@preview"])),
    ];
    create.extend(own);
    let mut in_place = vec![InPlace::new(
        "env",
        Some(set(&["API_URL@production", "DATABASE_URL@production"])),
    )];
    in_place.extend(own_in_place);
    in_place.extend([
        InPlace::new("domains", Some(set(&["www.conf.example"]))),
        InPlace::new("domains", Some(set(&["app.conf.example"]))),
    ]);
    Case {
        kind: Kind::WebServices,
        name: "conf-site",
        create,
        in_place,
        replace: vec![
            ("subtype", s(other)),
            ("repo", s("acme/other-site")),
            ("repo_provider", s("gitlab")),
        ],
        ready_status: "running",
        env: Some(EnvValues::new(
            [
                ("API_URL@production", "https://api.conf.example"),
                ("API_URL@preview", "https://preview-api.conf.example"),
                ("DATABASE_URL@production", "postgres://conf.example/app"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        )),
        ..base(provider, SandboxKind::WebService)
    }
}

mod cloudflare {
    use super::*;

    /// A zone is ready while Cloudflare still waits for the registrar (`pending`): StackDock
    /// does not wait for activation, and its records can be created at once.
    pub(super) fn domains() -> Case {
        Case {
            ready_status: "pending",
            ..zones(ProviderKind::Cloudflare, "00000000000000000000000000000000")
        }
    }

    /// A record listing asks `per_page` up to 5,000,000 ([cf-spec]): one request per zone.
    fn record(record: RecordCase) -> Case {
        Case {
            paging: Paging::Whole,
            ..records(
                ProviderKind::Cloudflare,
                record,
                "00000000000000000000000000000000/00000000000000000000000000000000",
            )
        }
    }

    pub(super) fn domain_records(n: usize) -> Case {
        record(record_cases().swap_remove(n))
    }

    /// D1 databases change nothing in place; `engine` is replace-only and the location hint is
    /// used at creation only. A listing pages 10,000 at most.
    pub(super) fn databases() -> Case {
        Case {
            kind: Kind::Databases,
            name: "conf-sessions",
            paging: Paging::Pages { max: 10_000 },
            create: vec![("engine", s("d1")), ("region", s("weur"))],
            replace: vec![("engine", s("pg"))],
            unknown_id: "00000000-0000-0000-0000-000000000000",
            ready_status: "active",
            ..base(ProviderKind::Cloudflare, SandboxKind::Database)
        }
    }

    /// R2 buckets change nothing in place: a bucket is its location, jurisdiction and name. A
    /// listing pages by cursor (1,000 at most) in each of the three jurisdictions, so it asks
    /// two more requests than the default jurisdiction's pages (the EU and FedRAMP listings).
    pub(super) fn buckets() -> Case {
        Case {
            kind: Kind::Buckets,
            name: "conf-assets",
            paging: Paging::Pages { max: 1000 },
            extra_list_requests: 2,
            create: vec![("region", s("weur"))],
            replace: vec![("region", s("enam")), ("jurisdiction", s("eu"))],
            unknown_id: "default/nothing-here",
            ready_status: "active",
            ..base(ProviderKind::Cloudflare, SandboxKind::Bucket)
        }
    }

    /// A Pages project built from a repository: its production deployment is queued for a few
    /// reads and then `deploy`/`success` (`running`). Its production branch, build settings,
    /// variables (names per environment, values from the engine) and custom domains change in
    /// place; the subtype and the repository replace it. The list is served whole.
    pub(super) fn web_services() -> Case {
        Case {
            paging: Paging::Whole,
            unknown_id: "nothing-here",
            also_lists: &["GET /cloudflare/client/v4/accounts/{account_id}/workers/scripts"],
            ..web_service(
                ProviderKind::Cloudflare,
                ("pages", "project"),
                vec![
                    ("production_branch", s("main")),
                    ("build_command", s("npm run build")),
                ],
                vec![
                    InPlace::new("production_branch", Some(s("release"))),
                    InPlace::new("root_directory", Some(s("apps/site"))),
                    InPlace::new("build_command", Some(s("npm run build:site"))),
                    InPlace::new("output_directory", Some(s("dist"))),
                ],
            )
        }
    }

    /// A proxied A record: its address and whether it is proxied change in place, then its
    /// TTL once it is no longer proxied (a proxied record's TTL is automatic).
    pub(super) fn proxied_records() -> Case {
        record(RecordCase {
            identity: "www.conf.example A 203.0.113.10",
            fields: vec![
                ("zone", s(ZONE)),
                ("fqdn", s("www.conf.example")),
                ("type", s("A")),
                ("value", s("203.0.113.10")),
                ("proxied", FieldValue::Bool(true)),
            ],
            in_place: vec![
                InPlace::new("value", Some(s("203.0.113.11"))),
                InPlace::new("proxied", Some(FieldValue::Bool(false))),
                InPlace::new("ttl", Some(FieldValue::Int(300))),
                InPlace::new("proxied", Some(FieldValue::Bool(true))),
            ],
            other_value: "203.0.113.99",
        })
    }
}

/// Every case of `provider`, its server first (the other kinds attach to one).
pub(super) fn cases(provider: ProviderKind) -> Vec<Case> {
    match provider {
        ProviderKind::Vultr => vec![
            vultr::servers(),
            vultr::block_volumes(),
            vultr::databases(),
            vultr::domains(),
            vultr::domain_records(0),
            vultr::domain_records(1),
            vultr::domain_records(2),
        ],
        ProviderKind::DigitalOcean => {
            vec![
                digitalocean::servers(),
                digitalocean::block_volumes(),
                digitalocean::domains(),
                digitalocean::domain_records(0),
                digitalocean::domain_records(1),
                digitalocean::domain_records(2),
            ]
        }
        ProviderKind::Vercel => vec![
            vercel::web_services(),
            vercel::domains(),
            vercel::domain_records(0),
            vercel::domain_records(1),
            vercel::domain_records(2),
        ],
        ProviderKind::Linode => vec![
            linode::servers(),
            linode::block_volumes(),
            linode::buckets(),
            linode::domains(),
            linode::domain_records(0),
            linode::domain_records(1),
            linode::domain_records(2),
        ],
        ProviderKind::Cloudflare => vec![
            cloudflare::web_services(),
            cloudflare::databases(),
            cloudflare::buckets(),
            cloudflare::domains(),
            cloudflare::domain_records(0),
            cloudflare::domain_records(1),
            cloudflare::domain_records(2),
            cloudflare::proxied_records(),
        ],
    }
}

/// One test per case, running every check.
macro_rules! conformance_tests {
    ($($test:ident => $case:expr),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                conformance::run_all(&$case).await;
            }
        )*
    };
}

conformance_tests! {
    vultr_servers => vultr::servers(),
    vultr_block_volumes => vultr::block_volumes(),
    vultr_databases => vultr::databases(),
    vultr_domains => vultr::domains(),
    vultr_mx_records => vultr::domain_records(0),
    vultr_srv_records => vultr::domain_records(1),
    vultr_caa_records => vultr::domain_records(2),
    digitalocean_servers => digitalocean::servers(),
    digitalocean_block_volumes => digitalocean::block_volumes(),
    digitalocean_domains => digitalocean::domains(),
    digitalocean_mx_records => digitalocean::domain_records(0),
    digitalocean_srv_records => digitalocean::domain_records(1),
    digitalocean_caa_records => digitalocean::domain_records(2),
    linode_servers => linode::servers(),
    linode_block_volumes => linode::block_volumes(),
    linode_buckets => linode::buckets(),
    linode_domains => linode::domains(),
    linode_mx_records => linode::domain_records(0),
    linode_srv_records => linode::domain_records(1),
    linode_caa_records => linode::domain_records(2),
    vercel_web_services => vercel::web_services(),
    vercel_domains => vercel::domains(),
    vercel_mx_records => vercel::domain_records(0),
    vercel_srv_records => vercel::domain_records(1),
    vercel_caa_records => vercel::domain_records(2),
    cloudflare_web_services => cloudflare::web_services(),
    cloudflare_databases => cloudflare::databases(),
    cloudflare_buckets => cloudflare::buckets(),
    cloudflare_domains => cloudflare::domains(),
    cloudflare_mx_records => cloudflare::domain_records(0),
    cloudflare_srv_records => cloudflare::domain_records(1),
    cloudflare_caa_records => cloudflare::domain_records(2),
    cloudflare_proxied_records => cloudflare::proxied_records(),
}
