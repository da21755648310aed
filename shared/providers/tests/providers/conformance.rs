//! The provider conformance suite (`stackdock_providers::conformance`) run for every (provider,
//! kind) the adapters support: one test each, running every check. The cases' field values are
//! ones the sandbox accepts (the same as `spec.rs`'s lives); the per-provider modules keep only
//! what is particular to one provider.

use std::sync::Arc;

use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_providers::conformance::{self, Case, Fields, InPlace, Paging, ReadBack};
use stackdock_providers::redact::secret_keys;
use stackdock_providers::{DockContext, Provider};
use stackdock_sandbox::{Kind as SandboxKind, Provider as Sandboxed, SandboxHandle};

use super::support::{connect_as, dock, set, unlimited};

/// The dock `<provider>-main` of org `acme`.
pub(super) fn ctx(provider: ProviderKind) -> DockContext {
    dock(provider, &format!("{provider}-main"), "TOKEN")
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
    FieldValue::Str(v.to_owned())
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
    };
    Case {
        provider,
        kind: Kind::Servers,
        connect,
        sandboxed: (sandboxed, kind),
        paging: Paging::Pages { max: max_page },
        extra_list_requests: 0,
        name: "",
        create: Vec::new(),
        attach_to_server: None,
        in_place: Vec::new(),
        replace: Vec::new(),
        secret_keys: secret_keys(provider),
        unknown_id,
        ready_status: "",
    }
}

/// The server every case's resource is, or attaches to.
const SERVER: &str = "conf-web";

/// A server's create fields.
fn server_fields(region: &str, plan: &str, image: &str, ssh_key: &str) -> Fields {
    vec![
        ("region", s(region)),
        ("plan", s(plan)),
        ("image", s(image)),
        ("tags", set(&["web", "env:prod"])),
        ("ssh_keys", set(&[ssh_key])),
    ]
}

/// A server case: renamed, retagged and resized in place; region and image replace it.
fn servers(base: Case, fields: Fields, bigger: &str, replace: Fields) -> Case {
    Case {
        kind: Kind::Servers,
        name: SERVER,
        create: fields,
        in_place: vec![
            InPlace::new("name", Some(s("conf-web-2"))),
            InPlace::new("tags", Some(set(&["web"]))),
            InPlace::new("plan", Some(s(bigger))),
        ],
        replace,
        ready_status: "running",
        ..base
    }
}

/// A volume case: attached to a server at creation, grown, detached and attached again.
fn volumes(base: Case, region: &str, server: Fields, read: ReadBack) -> Case {
    let attach = |to: Option<FieldValue>| InPlace {
        field: "attach_to",
        to,
        read,
    };
    Case {
        kind: Kind::BlockVolumes,
        name: "conf-data",
        create: vec![
            ("region", s(region)),
            ("size_gb", FieldValue::Int(40)),
            ("attach_to", s(SERVER)),
        ],
        attach_to_server: Some(server),
        in_place: vec![
            InPlace::new("size_gb", Some(FieldValue::Int(80))),
            attach(None),
            attach(Some(s(SERVER))),
        ],
        ready_status: "active",
        ..base
    }
}

mod vultr {
    use super::*;

    fn base(kind: SandboxKind) -> Case {
        super::base(ProviderKind::Vultr, kind)
    }

    fn server() -> Fields {
        server_fields(
            "ewr",
            "vc2-1c-1gb",
            "os:2284",
            "3b8066a7-b438-455a-9688-44afc9a3597f",
        )
    }

    pub(super) fn servers() -> Case {
        super::servers(
            base(SandboxKind::Instance),
            server(),
            "vc2-2c-4gb",
            vec![("region", s("ord")), ("image", s("os:2136"))],
        )
    }

    pub(super) fn block_volumes() -> Case {
        let mut case = volumes(base(SandboxKind::Volume), "ewr", server(), ReadBack::Field);
        case.in_place
            .insert(0, InPlace::new("name", Some(s("conf-data-2"))));
        case.replace = vec![("region", s("ord")), ("block_type", s("storage_opt"))];
        case
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
            ..base(SandboxKind::Database)
        }
    }
}

mod digitalocean {
    use super::*;

    fn base(kind: SandboxKind) -> Case {
        super::base(ProviderKind::DigitalOcean, kind)
    }

    fn server() -> Fields {
        server_fields(
            "nyc3",
            "s-1vcpu-1gb",
            "ubuntu-24-04-x64",
            "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa",
        )
    }

    pub(super) fn servers() -> Case {
        Case {
            // GPU droplets are only in the `type=gpus` listing: one more request, always.
            extra_list_requests: 1,
            ..super::servers(
                base(SandboxKind::Instance),
                server(),
                "s-2vcpu-2gb",
                vec![("region", s("fra1")), ("image", s("debian-12-x64"))],
            )
        }
    }

    /// Volumes cannot be renamed; an attachment reads back as the droplet's id.
    pub(super) fn block_volumes() -> Case {
        Case {
            replace: vec![("region", s("fra1"))],
            unknown_id: "00000000-0000-0000-0000-000000000000",
            ..volumes(
                base(SandboxKind::Volume),
                "nyc3",
                server(),
                ReadBack::AttachedServerId,
            )
        }
    }
}

mod linode {
    use super::*;

    fn base(kind: SandboxKind) -> Case {
        super::base(ProviderKind::Linode, kind)
    }

    fn server() -> Fields {
        server_fields(
            "us-east",
            "g6-nanode-1",
            "linode/ubuntu24.04",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f ops@acme",
        )
    }

    pub(super) fn servers() -> Case {
        super::servers(
            base(SandboxKind::Instance),
            server(),
            "g6-standard-2",
            vec![("region", s("us-west")), ("image", s("linode/debian12"))],
        )
    }

    pub(super) fn block_volumes() -> Case {
        let mut case = volumes(
            base(SandboxKind::Volume),
            "us-east",
            server(),
            ReadBack::Field,
        );
        case.in_place
            .insert(0, InPlace::new("name", Some(s("conf-data-2"))));
        case.replace = vec![("region", s("us-west"))];
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
            ..base(SandboxKind::Bucket)
        }
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
    digitalocean_servers => digitalocean::servers(),
    digitalocean_block_volumes => digitalocean::block_volumes(),
    linode_servers => linode::servers(),
    linode_block_volumes => linode::block_volumes(),
    linode_buckets => linode::buckets(),
}
