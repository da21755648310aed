//! The plan engine, one table of cases per action kind and per safety rule.

use std::collections::{BTreeMap, BTreeSet};

use stackdock_core::config::{
    Config, CredentialRef, DesiredResource, DockConfig, DriftMode, Settings,
};
use stackdock_core::plan::{Action, ActionKind, DockState, Plan, StaleReason, compare, plan};
use stackdock_core::record::{Attrs, ProvisioningSource, ServerAttrs, VolumeAttrs, owner_tag};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record, VecMap};

pub(crate) const ORG: &str = "acme";

pub(crate) fn config(prune: bool, resources: Vec<DesiredResource>) -> Config {
    let dock = |name: &str, provider| {
        (
            name.to_owned(),
            DockConfig {
                name: name.into(),
                provider,
                credentials: CredentialRef::Env("T".into()),
                endpoint: None,
                regions: None,
                settings: Default::default(),
            },
        )
    };
    Config {
        settings: Settings {
            org: ORG.into(),
            prune,
            drift: DriftMode::Flag,
            table_prefix: "stackdock".into(),
            schedule: None,
        },
        docks: BTreeMap::from([
            dock("vultr", ProviderKind::Vultr),
            dock("linode", ProviderKind::Linode),
        ]),
        resources,
        notify: None,
    }
}

pub(crate) fn server(name: &str, dock: &str, plan: &str) -> DesiredResource {
    DesiredResource {
        kind: Kind::Servers,
        name: name.into(),
        dock: dock.into(),
        protect: false,
        id: None,
        ignore_changes: BTreeSet::new(),
        allow_replace: false,
        fields: VecMap::from([
            ("region".into(), FieldValue::from("ewr")),
            ("plan".into(), FieldValue::from(plan)),
            ("image".into(), FieldValue::from("os:2284")),
            ("tags".into(), FieldValue::set(["web"])),
        ]),
    }
}

fn volume(name: &str, dock: &str, size: i64, attach_to: Option<&str>) -> DesiredResource {
    let mut fields = VecMap::from([
        ("region".into(), FieldValue::from("ewr")),
        ("size_gb".into(), FieldValue::Int(size)),
    ]);
    if let Some(s) = attach_to {
        fields.insert("attach_to".into(), FieldValue::from(s));
    }
    DesiredResource {
        kind: Kind::BlockVolumes,
        name: name.into(),
        dock: dock.into(),
        protect: false,
        id: None,
        ignore_changes: BTreeSet::new(),
        allow_replace: false,
        fields,
    }
}

/// An actual server as a sync would store it.
pub(crate) fn actual_server(dock: &str, id: &str, name: &str, plan: &str) -> Record {
    let provider = if dock == "linode" {
        ProviderKind::Linode
    } else {
        ProviderKind::Vultr
    };
    let mut r = Record::new(
        ORG,
        format!("{ORG}/{dock}"),
        provider,
        Kind::Servers,
        id,
        name,
    );
    r.status = "running".into();
    r.region = Some("ewr".into());
    r.attrs = Attrs::Servers(ServerAttrs {
        instance_type: Some(plan.into()),
        image: Some("os:2284".into()),
        tags: ["web".to_owned()].into(),
        ..ServerAttrs::default()
    });
    r.with_hash()
}

fn actual_volume(dock: &str, id: &str, name: &str, size: i64) -> Record {
    let mut r = Record::new(
        ORG,
        format!("{ORG}/{dock}"),
        ProviderKind::Vultr,
        Kind::BlockVolumes,
        id,
        name,
    );
    r.status = "active".into();
    r.region = Some("ewr".into());
    r.attrs = Attrs::BlockVolumes(VolumeAttrs {
        size_gb: Some(size),
        ..VolumeAttrs::default()
    });
    r.with_hash()
}

/// Marks a record as created and managed by StackDock, with the applied baseline of `desired`.
pub(crate) fn managed(mut r: Record, address: &str, applied: &[(&str, FieldValue)]) -> Record {
    r.managed_by = Some(address.into());
    r.provisioning_source = ProvisioningSource::Api;
    r.applied = applied
        .iter()
        .map(|(k, v)| ((*k).into(), v.clone()))
        .collect();
    r
}

pub(crate) fn fresh() -> BTreeMap<String, DockState> {
    BTreeMap::from([
        ("vultr".into(), DockState::Fresh),
        ("linode".into(), DockState::Fresh),
    ])
}

fn kinds(p: &Plan) -> Vec<(ActionKind, String)> {
    p.actions
        .iter()
        .map(|a| {
            (
                a.action,
                a.address
                    .clone()
                    .or_else(|| a.provider_id.clone())
                    .unwrap_or_else(|| a.dock.clone()),
            )
        })
        .collect()
}

pub(crate) fn only(p: &Plan, kind: ActionKind) -> Vec<&Action> {
    p.of_kind(kind).collect()
}

#[test]
fn create_when_nothing_matches() {
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]),
        &[],
        &fresh(),
    );
    assert_eq!(
        kinds(&p),
        vec![(ActionKind::Create, "servers.web-1".into())]
    );
    let spec = p.actions[0].spec.as_ref().expect("create carries its spec");
    assert_eq!(spec.owner_tag, owner_tag(ORG, "servers.web-1"));
    assert_eq!(spec.fields["plan"], FieldValue::from("vc2-1c-1gb"));
    assert_eq!(p.summary.create, 1);
    assert!(p.has_changes());
}

#[test]
fn adopt_an_unmanaged_resource_with_the_same_name() {
    let inv = [actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb")];
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]),
        &inv,
        &fresh(),
    );
    assert_eq!(kinds(&p), vec![(ActionKind::Adopt, "servers.web-1".into())]);
    assert_eq!(p.actions[0].provider_id.as_deref(), Some("v-1"));
}

#[test]
fn adopt_then_update_when_fields_differ() {
    let inv = [actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb")];
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-2c-4gb")]),
        &inv,
        &fresh(),
    );
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::Adopt, "servers.web-1".into()),
            (ActionKind::Update, "servers.web-1".into())
        ]
    );
    assert!(
        only(&p, ActionKind::Drift).is_empty(),
        "an adopted resource has no applied baseline: no drift"
    );
}

#[test]
fn an_ambiguous_name_is_an_error_naming_both_ids() {
    let inv = [
        actual_server("vultr", "v-2", "web-1", "vc2-1c-1gb"),
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
    ];
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]),
        &inv,
        &fresh(),
    );
    let errors = only(&p, ActionKind::Error);
    assert_eq!(errors.len(), 1, "{:?}", kinds(&p));
    assert!(
        errors[0].reason.contains("v-1, v-2"),
        "{}",
        errors[0].reason
    );
    assert!(
        errors[0].reason.contains("id = "),
        "says how to fix: {}",
        errors[0].reason
    );
    assert_eq!(p.summary.changes(), 0);
    assert_eq!(
        p.summary.unmanaged, 0,
        "the records named in the error are not also reported unmanaged"
    );
}

#[test]
fn a_pinned_id_adopts_and_renames() {
    let inv = [actual_server("vultr", "v-9", "old-name", "vc2-1c-1gb")];
    let mut s = server("web-1", "vultr", "vc2-1c-1gb");
    s.id = Some("v-9".into());
    let p = plan(&config(false, vec![s.clone()]), &inv, &fresh());
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::Adopt, "servers.web-1".into()),
            (ActionKind::Update, "servers.web-1".into())
        ]
    );
    let update = only(&p, ActionKind::Update)[0];
    assert_eq!(update.changes[0].field, "name");

    s.id = Some("v-404".into());
    let p = plan(&config(false, vec![s]), &inv, &fresh());
    assert!(only(&p, ActionKind::Error)[0].reason.contains("v-404"));
}

#[test]
fn update_in_place_when_the_file_changes() {
    let addr = "servers.web-1";
    let rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[("plan", "vc2-1c-1gb".into())],
    );
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-2c-4gb")]),
        &[rec],
        &fresh(),
    );
    assert_eq!(kinds(&p), vec![(ActionKind::Update, addr.into())]);
    let c = &p.actions[0].changes[0];
    assert_eq!(
        (c.field.as_str(), c.before.clone(), c.after.clone()),
        ("plan", Some("vc2-1c-1gb".into()), Some("vc2-2c-4gb".into()))
    );
}

#[test]
fn drift_is_what_changed_at_the_provider_and_the_update_restores_it() {
    let addr = "servers.web-1";
    let rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-8c-32gb"),
        addr,
        &[("plan", "vc2-1c-1gb".into())],
    );
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]),
        &[rec],
        &fresh(),
    );
    let drift = only(&p, ActionKind::Drift);
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].changes[0].before, Some("vc2-1c-1gb".into()));
    assert_eq!(drift[0].changes[0].after, Some("vc2-8c-32gb".into()));
    assert_eq!(only(&p, ActionKind::Update).len(), 1);
    assert_eq!(p.summary.drift, 1);
}

#[test]
fn ignored_fields_are_neither_drift_nor_updates() {
    let addr = "servers.web-1";
    let rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-8c-32gb"),
        addr,
        &[("plan", "vc2-1c-1gb".into())],
    );
    let mut s = server("web-1", "vultr", "vc2-1c-1gb");
    s.ignore_changes.insert("plan".into());
    let p = plan(&config(false, vec![s]), &[rec], &fresh());
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
}

#[test]
fn replace_only_with_allow_replace_and_only_what_stackdock_created() {
    let addr = "servers.web-1";
    let mut s = server("web-1", "vultr", "vc2-1c-1gb");
    s.fields.insert("region".into(), "ams".into());
    let created = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[],
    );
    let mut adopted = created.clone();
    adopted.provisioning_source = ProvisioningSource::Manual;
    let mut protected = created.clone();
    protected.protect = true;

    let cases: [(&str, &Record, bool, bool); 4] = [
        ("created, no allow_replace", &created, false, false),
        ("created, allow_replace", &created, true, true),
        ("adopted, allow_replace", &adopted, true, false),
        ("protected, allow_replace", &protected, true, false),
    ];
    for (name, rec, allow, expect_allowed) in cases {
        let mut s = s.clone();
        s.allow_replace = allow;
        let p = plan(&config(false, vec![s]), std::slice::from_ref(rec), &fresh());
        let r = only(&p, ActionKind::Replace);
        assert_eq!(r.len(), 1, "{name}: {:?}", kinds(&p));
        assert_eq!(r[0].allowed, expect_allowed, "{name}: {}", r[0].reason);
    }
}

#[test]
fn delete_only_when_every_safety_rule_allows() {
    let addr = "servers.old";
    let base = managed(
        actual_server("vultr", "v-1", "old", "vc2-1c-1gb"),
        addr,
        &[],
    );
    let mut protected = base.clone();
    protected.protect = true;
    let mut manual = base.clone();
    manual.provisioning_source = ProvisioningSource::Manual;
    let cases: [(&str, bool, &Record, ActionKind); 4] = [
        (
            "prune, created, unprotected",
            true,
            &base,
            ActionKind::Delete,
        ),
        ("prune off", false, &base, ActionKind::Unmanaged),
        (
            "protected in the store (entry removed)",
            true,
            &protected,
            ActionKind::Unmanaged,
        ),
        (
            "not created by StackDock",
            true,
            &manual,
            ActionKind::Unmanaged,
        ),
    ];
    for (name, prune, rec, expected) in cases {
        let p = plan(&config(prune, vec![]), std::slice::from_ref(rec), &fresh());
        assert_eq!(kinds(&p), vec![(expected, addr.into())], "{name}");
        if expected == ActionKind::Unmanaged {
            assert!(
                p.actions[0].reason.contains("not deleted"),
                "{name}: {}",
                p.actions[0].reason
            );
            assert_eq!(p.summary.delete, 0);
        }
    }
}

#[test]
fn unmanaged_resources_are_reported_never_touched() {
    let inv = [actual_server("vultr", "v-1", "legacy-mail", "vc2-1c-1gb")];
    let p = plan(&config(true, vec![]), &inv, &fresh());
    assert_eq!(kinds(&p), vec![(ActionKind::Unmanaged, "v-1".into())]);
    assert!(!p.has_changes());
}

#[test]
fn recreate_what_stackdock_created_when_it_is_gone() {
    let addr = "servers.web-1";
    let mut rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[],
    );
    rec.missing_since = Some(jiff::Timestamp::UNIX_EPOCH);
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]),
        &[rec],
        &fresh(),
    );
    assert_eq!(kinds(&p), vec![(ActionKind::Recreate, addr.into())]);
    assert_eq!(
        p.actions[0].provider_id.as_deref(),
        Some("v-1"),
        "names the gone resource"
    );
}

#[test]
fn a_failed_dock_blocks_only_itself() {
    let cfg = config(
        true,
        vec![
            server("web-1", "vultr", "vc2-1c-1gb"),
            server("web-2", "linode", "g6-nanode-1"),
        ],
    );
    let gone = managed(
        actual_server("vultr", "v-7", "old", "vc2-1c-1gb"),
        "servers.old",
        &[],
    );
    let states = BTreeMap::from([
        (
            "vultr".into(),
            DockState::Failed {
                error: "GET /instances: 503".into(),
            },
        ),
        ("linode".into(), DockState::Fresh),
    ]);
    let p = plan(&cfg, &[gone], &states);
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::Create, "servers.web-2".into()),
            (ActionKind::Blocked, "vultr".into())
        ],
        "no create, delete or report for the failed dock"
    );
    assert!(p.actions[1].reason.contains("503"));
    for state in [
        DockState::NeverSynced,
        DockState::Stale {
            last_sync_at: "2026-01-01T00:00:00Z".into(),
        },
    ] {
        let states = BTreeMap::from([("vultr".into(), state), ("linode".into(), DockState::Fresh)]);
        assert_eq!(
            only(&plan(&cfg, &[], &states), ActionKind::Blocked).len(),
            1
        );
    }
}

#[test]
fn shrinking_a_volume_is_an_error_not_an_update() {
    let addr = "block_volumes.data";
    let rec = managed(
        actual_volume("vultr", "b-1", "data", 100),
        addr,
        &[("size_gb", FieldValue::Int(100))],
    );
    let p = plan(
        &config(false, vec![volume("data", "vultr", 50, None)]),
        std::slice::from_ref(&rec),
        &fresh(),
    );
    assert_eq!(kinds(&p), vec![(ActionKind::Error, addr.into())]);
    assert!(p.actions[0].reason.contains("cannot shrink from 100 to 50"));
    let p = plan(
        &config(false, vec![volume("data", "vultr", 200, None)]),
        &[rec],
        &fresh(),
    );
    assert_eq!(kinds(&p), vec![(ActionKind::Update, addr.into())]);
}

#[test]
fn servers_before_volumes_and_deletes_in_reverse() {
    let old_server = managed(
        actual_server("vultr", "v-1", "old", "vc2-1c-1gb"),
        "servers.old",
        &[],
    );
    let old_volume = managed(
        actual_volume("vultr", "b-1", "old-data", 10),
        "block_volumes.old-data",
        &[],
    );
    let cfg = config(
        true,
        vec![
            volume("data", "vultr", 10, Some("web-1")),
            server("web-1", "vultr", "vc2-1c-1gb"),
        ],
    );
    let p = plan(&cfg, &[old_server, old_volume], &fresh());
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::Create, "servers.web-1".into()),
            (ActionKind::Create, "block_volumes.data".into()),
            (ActionKind::Delete, "block_volumes.old-data".into()),
            (ActionKind::Delete, "servers.old".into()),
        ]
    );
    assert_eq!(p.actions[1].depends_on, vec!["servers.web-1".to_owned()]);
}

#[test]
fn deterministic_and_independent_of_inventory_order() {
    let cfg = config(
        true,
        vec![
            server("web-1", "vultr", "vc2-1c-1gb"),
            volume("data", "vultr", 10, Some("web-1")),
        ],
    );
    let mut inv = vec![
        actual_server("vultr", "v-3", "a", "vc2-1c-1gb"),
        actual_server("vultr", "v-1", "b", "vc2-1c-1gb"),
        managed(
            actual_volume("vultr", "b-1", "gone", 10),
            "block_volumes.gone",
            &[],
        ),
        actual_server("linode", "l-1", "c", "g6-nanode-1"),
    ];
    let a = plan(&cfg, &inv, &fresh());
    inv.reverse();
    let b = plan(&cfg, &inv, &fresh());
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&b).expect("json")
    );
    assert_eq!(a.digest, b.digest);
}

#[test]
fn a_stale_plan_says_what_changed() {
    let cfg = config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    let before = plan(&cfg, &[], &fresh());
    assert!(compare(&before, &plan(&cfg, &[], &fresh())).is_empty());

    let mut other = cfg.clone();
    other.resources.push(server("web-2", "vultr", "vc2-1c-1gb"));
    let reasons = compare(&before, &plan(&other, &[], &fresh()));
    assert!(reasons.contains(&StaleReason::ConfigChanged));
    assert!(
        reasons.contains(&StaleReason::ActionAdded("create servers.web-2".into())),
        "{reasons:?}"
    );

    let inv = [actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb")];
    let reasons = compare(&before, &plan(&cfg, &inv, &fresh()));
    assert!(reasons.contains(&StaleReason::InventoryChanged));
    assert!(
        reasons.contains(&StaleReason::ActionRemoved("create servers.web-1".into())),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&StaleReason::ActionAdded("adopt servers.web-1".into())),
        "{reasons:?}"
    );
}

#[test]
fn a_refused_replace_still_applies_the_in_place_changes() {
    let addr = "servers.web-1";
    let rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[],
    );
    let mut s = server("web-1", "vultr", "vc2-2c-4gb");
    s.fields.insert("region".into(), "ams".into());
    let p = plan(
        &config(false, vec![s.clone()]),
        std::slice::from_ref(&rec),
        &fresh(),
    );
    let replace = only(&p, ActionKind::Replace);
    let update = only(&p, ActionKind::Update);
    assert!(!replace[0].allowed);
    assert_eq!(
        replace[0]
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>(),
        ["region"]
    );
    assert_eq!(update.len(), 1, "{:?}", kinds(&p));
    assert_eq!(update[0].changes[0].field, "plan");

    s.allow_replace = true;
    let p = plan(&config(false, vec![s]), &[rec], &fresh());
    assert_eq!(
        kinds(&p),
        vec![(ActionKind::Replace, addr.into())],
        "an allowed replace creates with every value"
    );
    assert_eq!(p.actions[0].changes.len(), 2);
}

#[test]
fn several_gone_records_of_one_entry_plan_the_same_whatever_the_order() {
    let addr = "servers.web-1";
    let mut a = managed(
        actual_server("vultr", "v-a", "web-1", "vc2-1c-1gb"),
        addr,
        &[],
    );
    let mut b = managed(
        actual_server("vultr", "v-b", "web-1", "vc2-1c-1gb"),
        addr,
        &[],
    );
    a.missing_since = Some(jiff::Timestamp::UNIX_EPOCH);
    b.missing_since = Some(jiff::Timestamp::UNIX_EPOCH);
    let cfg = config(false, vec![server("web-1", "vultr", "vc2-1c-1gb")]);
    let one = plan(&cfg, &[a.clone(), b.clone()], &fresh());
    let two = plan(&cfg, &[b, a], &fresh());
    assert_eq!(
        serde_json::to_string_pretty(&one.actions).expect("json"),
        serde_json::to_string_pretty(&two.actions).expect("json")
    );
    assert_eq!(one.digest, two.digest);
    assert_eq!(one.actions[0].provider_id.as_deref(), Some("v-a"));
}

#[test]
fn nothing_waits_for_a_replace_that_will_not_run() {
    let mut s = server("web-1", "vultr", "vc2-1c-1gb");
    s.fields.insert("region".into(), "ams".into());
    let srv = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        "servers.web-1",
        &[],
    );
    let mut vol = managed(
        actual_volume("vultr", "b-1", "data", 10),
        "block_volumes.data",
        &[],
    );
    if let Attrs::BlockVolumes(v) = &mut vol.attrs {
        v.attached_to_instance_label = Some("web-1".into());
    }
    let p = plan(
        &config(false, vec![s, volume("data", "vultr", 20, Some("web-1"))]),
        &[srv, vol],
        &fresh(),
    );
    let update = only(&p, ActionKind::Update);
    assert_eq!(update.len(), 1, "{:?}", kinds(&p));
    assert!(update[0].depends_on.is_empty(), "{:#?}", p.actions);
}

#[test]
fn catalog_problems_turn_a_change_into_an_error() {
    let cfg = config(
        false,
        vec![
            server("web-1", "vultr", "vc2-1c-1gbb"),
            server("web-2", "vultr", "vc2-1c-1gb"),
        ],
    );
    let inv = [actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb")];
    let problems = BTreeMap::from([(
        "servers.web-1".to_owned(),
        vec!["unknown plan `vc2-1c-1gbb`".to_owned()],
    )]);
    let p =
        stackdock_core::plan::plan_checked(&cfg, &inv, &fresh(), &problems, &Default::default());
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::Create, "servers.web-2".into()),
            (ActionKind::Error, "servers.web-1".into())
        ],
        "no adopt or update for the invalid entry, and its match is not reported unmanaged"
    );
    assert!(p.actions[1].reason.contains("vc2-1c-1gbb"));
}

#[test]
fn dns_zones_plan_where_their_adapters_exist() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/config/valid/dns-zones.toml");
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let config =
        stackdock_core::config::parse("dns-zones.toml", &source).unwrap_or_else(|d| panic!("{d}"));
    let states: BTreeMap<String, DockState> = config
        .docks
        .keys()
        .map(|d| (d.clone(), DockState::Fresh))
        .collect();
    let p = plan(&config, &[], &states);
    // DigitalOcean hosts DNS through its adapter: the zone and its 5 records are created, the
    // records that follow `servers.web-1` after it, their address known after apply.
    let created: Vec<String> = only(&p, ActionKind::Create)
        .iter()
        .filter(|a| a.dock == "do-main")
        .map(|a| a.address.clone().unwrap_or_default())
        .collect();
    assert!(created.contains(&"servers.web-1".to_owned()));
    assert!(created.contains(&"domains.example.com".to_owned()));
    let records_on = |dock: &str| -> Vec<&Action> {
        only(&p, ActionKind::Create)
            .into_iter()
            .filter(|a| a.kind == Some(Kind::DomainRecords) && a.dock == dock)
            .collect()
    };
    let records = records_on("do-main");
    assert_eq!(records.len(), 5, "{records:#?}");
    let following: Vec<&&Action> = records
        .iter()
        .filter(|a| a.depends_on.contains(&"servers.web-1".to_owned()))
        .collect();
    assert_eq!(
        following.len(),
        2,
        "the apex and www A records follow web-1"
    );
    assert!(
        records
            .iter()
            .all(|a| a.depends_on.contains(&"domains.example.com".to_owned())),
        "every record waits for its zone"
    );
    // Linode hosts DNS through its adapter too: zone `example.org` and its 3 records (CNAME,
    // PTR, NS) are created, each record after the zone.
    assert!(
        only(&p, ActionKind::Create)
            .iter()
            .any(|a| a.dock == "linode-main"
                && a.address.as_deref() == Some("domains.example.org")),
        "the Linode zone is created"
    );
    let linode = records_on("linode-main");
    assert_eq!(linode.len(), 3, "{linode:#?}");
    assert!(
        linode
            .iter()
            .all(|a| a.depends_on.contains(&"domains.example.org".to_owned())),
        "every Linode record waits for its zone"
    );
    // Vultr hosts DNS through its adapter: the zone and its 3 records (two AAAA for one name,
    // an SRV) are created, each record after its zone.
    let vultr: Vec<&Action> = only(&p, ActionKind::Create)
        .into_iter()
        .filter(|a| a.dock == "vultr-main")
        .collect();
    let (zones, vultr_records): (Vec<&Action>, Vec<&Action>) = vultr
        .into_iter()
        .partition(|a| a.kind == Some(Kind::Domains));
    assert_eq!(
        zones
            .iter()
            .map(|a| a.address.as_deref().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["domains.example.net"]
    );
    assert_eq!(vultr_records.len(), 3, "{vultr_records:#?}");
    assert!(
        vultr_records
            .iter()
            .all(|a| a.kind == Some(Kind::DomainRecords)
                && a.depends_on.contains(&"domains.example.net".to_owned())),
        "every Vultr record waits for its zone"
    );
    assert_eq!(
        only(&p, ActionKind::Error).len(),
        0,
        "every provider hosts DNS through its adapter"
    );
}
