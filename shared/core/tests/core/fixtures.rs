//! Shared builders for plans under test: hand-built `Config`s, inventory `Record`s and dock
//! states, fed to the real planner. Reusable by any test module (`use super::fixtures::*`).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use stackdock_core::config::{
    Config, CredentialRef, DesiredResource, DockConfig, DriftMode, Settings,
};
use stackdock_core::plan::{DockState, Plan, plan};
use stackdock_core::record::{
    Attrs, ProvisioningSource, ServerAttrs, VolumeAttrs, dock_id, owner_tag,
};
use stackdock_core::schema::{Change, field_rules};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};

/// The org every fixture belongs to.
pub const ORG: &str = "acme";

/// A fixed instant for `missing_since`.
pub fn at(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamp")
}

pub fn settings(prune: bool) -> Settings {
    Settings {
        org: ORG.to_owned(),
        prune,
        drift: DriftMode::Flag,
        table_prefix: "stackdock".to_owned(),
        schedule: None,
    }
}

pub fn dock(name: &str, provider: ProviderKind) -> DockConfig {
    let var = match provider {
        ProviderKind::Vultr => "VULTR_API_KEY",
        ProviderKind::DigitalOcean => "DIGITALOCEAN_TOKEN",
        ProviderKind::Linode => "LINODE_TOKEN",
        ProviderKind::Vercel => "VERCEL_TOKEN",
        ProviderKind::Cloudflare => "CLOUDFLARE_API_TOKEN",
    };
    DockConfig {
        name: name.to_owned(),
        provider,
        credentials: CredentialRef::Env(var.to_owned()),
        endpoint: None,
        regions: None,
        settings: Default::default(),
    }
}

/// A desired resource with no options set.
pub fn desired(
    kind: Kind,
    name: &str,
    dock: &str,
    fields: &[(&str, FieldValue)],
) -> DesiredResource {
    DesiredResource {
        kind,
        name: name.into(),
        dock: dock.into(),
        protect: false,
        id: None,
        ignore_changes: BTreeSet::new(),
        allow_replace: false,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect(),
    }
}

/// `[servers.<name>]` with region, plan, image and tags.
pub fn server(
    name: &str,
    dock: &str,
    region: &str,
    plan: &str,
    image: &str,
    tags: &[&str],
) -> DesiredResource {
    let mut fields = vec![
        ("region", FieldValue::from(region)),
        ("plan", FieldValue::from(plan)),
        ("image", FieldValue::from(image)),
    ];
    if !tags.is_empty() {
        fields.push(("tags", FieldValue::set(tags.iter().copied())));
    }
    desired(Kind::Servers, name, dock, &fields)
}

/// `[block_volumes.<name>]` with region, size and an optional server to attach to.
pub fn volume(
    name: &str,
    dock: &str,
    region: &str,
    size_gb: i64,
    attach_to: Option<&str>,
) -> DesiredResource {
    let mut fields = vec![
        ("region", FieldValue::from(region)),
        ("size_gb", FieldValue::from(size_gb)),
    ];
    if let Some(server) = attach_to {
        fields.push(("attach_to", FieldValue::from(server)));
    }
    desired(Kind::BlockVolumes, name, dock, &fields)
}

/// A config; resources are sorted by kind (dependency order) then name, as the parser does.
pub fn config(
    prune: bool,
    docks: &[(&str, ProviderKind)],
    mut resources: Vec<DesiredResource>,
) -> Config {
    resources.sort_by(|a, b| (a.kind.rank(), &a.name).cmp(&(b.kind.rank(), &b.name)));
    Config {
        settings: settings(prune),
        docks: docks
            .iter()
            .map(|(name, provider)| ((*name).to_owned(), dock(name, *provider)))
            .collect(),
        resources,
        notify: None,
    }
}

/// An unmanaged, running server as a sync would store it.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per observed field keeps fixtures readable"
)]
pub fn server_record(
    dock: &str,
    provider: ProviderKind,
    id: &str,
    name: &str,
    region: &str,
    plan: &str,
    image: &str,
    tags: &[&str],
) -> Record {
    let mut r = Record::new(ORG, dock_id(ORG, dock), provider, Kind::Servers, id, name);
    r.status = "running".into();
    r.region = Some(region.into());
    r.attrs = Attrs::Servers(ServerAttrs {
        instance_type: Some(plan.to_owned()),
        image: Some(image.to_owned()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..ServerAttrs::default()
    });
    r.with_hash()
}

/// An unmanaged volume as a sync would store it.
pub fn volume_record(
    dock: &str,
    provider: ProviderKind,
    id: &str,
    name: &str,
    region: &str,
    size_gb: i64,
    attached_to: Option<&str>,
) -> Record {
    let mut r = Record::new(
        ORG,
        dock_id(ORG, dock),
        provider,
        Kind::BlockVolumes,
        id,
        name,
    );
    r.status = "active".into();
    r.region = Some(region.into());
    r.attrs = Attrs::BlockVolumes(VolumeAttrs {
        size_gb: Some(size_gb),
        attached_to_instance: attached_to.map(|s| format!("id-of-{s}")),
        attached_to_instance_label: attached_to.map(str::to_owned),
        ..VolumeAttrs::default()
    });
    r.with_hash()
}

/// `record` as StackDock left it after creating it for `address` and applying its current
/// values: managed, provisioned through the API, owner-tagged, `applied` = what runs now.
pub fn managed(mut record: Record, address: &str) -> Record {
    if let Attrs::Servers(a) = &mut record.attrs {
        a.tags.insert(owner_tag(ORG, address));
    }
    record.managed_by = Some(address.into());
    record.provisioning_source = ProvisioningSource::Api;
    record.applied = field_rules(record.provider, record.kind())
        .iter()
        .filter(|rule| rule.change != Change::CreateOnly)
        .filter_map(|rule| record.field(rule.key).map(|v| (rule.key.into(), v)))
        .collect();
    record.with_hash()
}

/// Every named dock fresh.
pub fn fresh(docks: &[&str]) -> BTreeMap<String, DockState> {
    docks
        .iter()
        .map(|d| ((*d).to_owned(), DockState::Fresh))
        .collect()
}

pub const VULTR: &str = "vultr-main";
pub const DO: &str = "do-main";

/// One plan with every action kind: create (with a dependency), update, replace (allowed and
/// not), adopt, delete, recreate, drift, unmanaged (twice: never managed, and kept because StackDock
/// did not create it), blocked and error (a shrinking volume, an ambiguous name).
pub fn kitchen_sink() -> (Config, Vec<Record>, BTreeMap<String, DockState>) {
    use ProviderKind::{DigitalOcean, Vultr};
    let mut worker = server("worker", VULTR, "ams", "vc2-1c-1gb", "os:1743", &["worker"]);
    worker.allow_replace = true;
    let config = config(
        true,
        &[(VULTR, Vultr), (DO, DigitalOcean)],
        vec![
            server("web-1", VULTR, "ewr", "vc2-1c-1gb", "os:1743", &["web"]),
            server(
                "web-2",
                VULTR,
                "ewr",
                "vc2-2c-4gb",
                "os:1743",
                &["web", "frontend"],
            ),
            server("api", VULTR, "ewr", "vc2-1c-1gb", "os:1743", &["api"]),
            worker,
            server("legacy", VULTR, "ewr", "vc2-1c-1gb", "os:2136", &[]),
            server("bastion", VULTR, "ewr", "vc2-1c-1gb", "os:1743", &["ops"]),
            server("cache", VULTR, "ewr", "vc2-1c-2gb", "os:1743", &["cache"]),
            server("dup", VULTR, "ewr", "vc2-1c-1gb", "os:1743", &[]),
            volume("data", VULTR, "ewr", 50, Some("api")),
            volume("logs", VULTR, "ewr", 40, Some("web-1")),
            server("do-web", DO, "nyc3", "s-1vcpu-1gb", "ubuntu-24-04-x64", &[]),
        ],
    );
    let srv = |id: &str, name: &str, region: &str, plan: &str, image: &str, tags: &[&str]| {
        server_record(VULTR, Vultr, id, name, region, plan, image, tags)
    };
    let mut api = managed(
        srv("srv-api", "api", "ewr", "vc2-1c-1gb", "os:1743", &["api"]),
        "servers.api",
    );
    // Resized by hand at the provider after StackDock applied vc2-1c-1gb.
    if let Attrs::Servers(a) = &mut api.attrs {
        a.instance_type = Some("vc2-2c-4gb".to_owned());
    }
    let api = api.with_hash();
    let mut cache = managed(
        srv(
            "srv-cache",
            "cache",
            "ewr",
            "vc2-1c-2gb",
            "os:1743",
            &["cache"],
        ),
        "servers.cache",
    );
    cache.missing_since = Some(at("2026-11-20T08:00:00Z"));
    let inventory = vec![
        managed(
            srv(
                "srv-web-2",
                "web-2",
                "ewr",
                "vc2-1c-1gb",
                "os:1743",
                &["web"],
            ),
            "servers.web-2",
        ),
        api,
        managed(
            srv(
                "srv-worker",
                "worker",
                "ewr",
                "vc2-1c-1gb",
                "os:1743",
                &["worker"],
            ),
            "servers.worker",
        ),
        managed(
            srv("srv-legacy", "legacy", "ewr", "vc2-1c-1gb", "os:1743", &[]),
            "servers.legacy",
        ),
        srv(
            "srv-bastion",
            "bastion",
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &["ops"],
        ),
        cache,
        srv("srv-dup-b", "dup", "ewr", "vc2-1c-1gb", "os:1743", &[]),
        srv("srv-dup-a", "dup", "ewr", "vc2-1c-1gb", "os:1743", &[]),
        managed(
            srv("srv-old", "old-worker", "ewr", "vc2-1c-1gb", "os:1743", &[]),
            "servers.old-worker",
        ),
        srv("srv-hand", "hand-made", "ewr", "vc2-1c-1gb", "os:1743", &[]),
        managed(
            volume_record(VULTR, Vultr, "vol-data", "data", "ewr", 100, Some("api")),
            "block_volumes.data",
        ),
        {
            let mut scratch = managed(
                volume_record(VULTR, Vultr, "vol-scratch", "scratch", "ewr", 10, None),
                "block_volumes.scratch",
            );
            // Adopted, not created: never deleted.
            scratch.provisioning_source = ProvisioningSource::Manual;
            scratch
        },
        server_record(
            DO,
            DigitalOcean,
            "9001",
            "do-web",
            "nyc3",
            "s-1vcpu-1gb",
            "ubuntu-24-04-x64",
            &[],
        ),
    ];
    let mut docks = fresh(&[VULTR]);
    docks.insert(
        DO.to_owned(),
        DockState::Failed {
            error: "401 Unauthorized from DigitalOcean; check DIGITALOCEAN_TOKEN".to_owned(),
        },
    );
    (config, inventory, docks)
}

/// The real planner's plan of [`kitchen_sink`].
pub fn kitchen_sink_plan() -> Plan {
    let (config, inventory, docks) = kitchen_sink();
    plan(&config, &inventory, &docks)
}

/// A plan with nothing to do: one managed server exactly as desired.
pub fn quiet_plan() -> Plan {
    let config = config(
        false,
        &[(VULTR, ProviderKind::Vultr)],
        vec![server(
            "web-1",
            VULTR,
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &["web"],
        )],
    );
    let inventory = vec![managed(
        server_record(
            VULTR,
            ProviderKind::Vultr,
            "srv-web-1",
            "web-1",
            "ewr",
            "vc2-1c-1gb",
            "os:1743",
            &["web"],
        ),
        "servers.web-1",
    )];
    plan(&config, &inventory, &fresh(&[VULTR]))
}

/// A plan of `n` creates on one fresh, empty dock.
pub fn many_creates(n: usize) -> Plan {
    let resources = (0..n)
        .map(|i| {
            server(
                &format!("web-{i:05}"),
                VULTR,
                "ewr",
                "vc2-1c-1gb",
                "os:1743",
                &["web", "fleet"],
            )
        })
        .collect();
    let config = config(false, &[(VULTR, ProviderKind::Vultr)], resources);
    plan(&config, &[], &fresh(&[VULTR]))
}
