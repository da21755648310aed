//! Property tests of the pure plan: random configs (written as TOML and parsed, as a user's file
//! would be), random inventories and random dock states, checked against the design's safety rules
//! (§5, §6) and the plan's determinism guarantees.
//!
//! The generators deliberately draw names, ids and regions from small pools so that collisions —
//! adoption candidates, duplicate names, pins to ids that exist on another dock, managed records of
//! removed entries — are common rather than astronomically rare.
//!
//! Each property prints `RELIABILITY property <name> cases=<n> ok` for the reliability report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use stackdock_core::config::{self, Config};
use stackdock_core::plan::{Action, ActionKind, DockState, Plan, plan};
use stackdock_core::record::{ProvisioningSource, dock_id};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};

use super::fixtures::{ORG, at, managed, server_record, volume_record};

/// Cases per property: 256 keeps all five under ~10 s in a debug build on 2 cores.
const CASES: u32 = 256;

const DOCKS: [(&str, ProviderKind); 3] = [
    ("vultr-main", ProviderKind::Vultr),
    ("do-main", ProviderKind::DigitalOcean),
    ("linode-main", ProviderKind::Linode),
];
/// Valid labels on every provider and kind generated here.
const NAMES: [&str; 5] = ["web-1", "web-2", "app", "data", "logs-a"];
const IDS: [&str; 6] = ["id-0", "id-1", "id-2", "id-3", "id-4", "id-5"];

fn regions(p: ProviderKind) -> [&'static str; 2] {
    match p {
        ProviderKind::Vultr => ["ewr", "ams"],
        ProviderKind::DigitalOcean => ["nyc3", "ams3"],
        ProviderKind::Linode => ["us-east", "eu-west"],
        ProviderKind::Vercel | ProviderKind::Cloudflare => {
            unreachable!("the generated docks are of providers with servers")
        }
    }
}
fn plans(p: ProviderKind) -> [&'static str; 2] {
    match p {
        ProviderKind::Vultr => ["vc2-1c-1gb", "vc2-2c-4gb"],
        ProviderKind::DigitalOcean => ["s-1vcpu-1gb", "s-2vcpu-2gb"],
        ProviderKind::Linode => ["g6-nanode-1", "g6-standard-2"],
        ProviderKind::Vercel | ProviderKind::Cloudflare => {
            unreachable!("the generated docks are of providers with servers")
        }
    }
}
fn images(p: ProviderKind) -> [&'static str; 2] {
    match p {
        ProviderKind::Vultr => ["os:2284", "os:1743"],
        ProviderKind::DigitalOcean => ["ubuntu-24-04-x64", "debian-12-x64"],
        ProviderKind::Linode => ["linode/ubuntu24.04", "linode/debian12"],
        ProviderKind::Vercel | ProviderKind::Cloudflare => {
            unreachable!("the generated docks are of providers with servers")
        }
    }
}
const TAGS: [&str; 3] = ["web", "prod", "blue"];

/// One desired entry as drawn.
#[derive(Debug, Clone)]
struct Entry {
    volume: bool,
    name: usize,
    dock: usize,
    region: usize,
    plan: usize,
    image: usize,
    tags: Vec<bool>,
    size: i64,
    attach: bool,
    protect: bool,
    ignore: Vec<bool>,
    allow_replace: bool,
    pin: Option<usize>,
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        (
            any::<bool>(),
            0..NAMES.len(),
            0..DOCKS.len(),
            0..2usize,
            0..2usize,
            0..2usize,
        ),
        (
            proptest::collection::vec(any::<bool>(), TAGS.len()),
            10i64..60,
            any::<bool>(),
            prop::bool::weighted(0.2),
            proptest::collection::vec(prop::bool::weighted(0.2), 3),
            any::<bool>(),
            prop::option::weighted(0.2, 0..IDS.len()),
        ),
    )
        .prop_map(
            |(
                (volume, name, dock, region, plan, image),
                (tags, size, attach, protect, ignore, allow_replace, pin),
            )| Entry {
                volume,
                name,
                dock,
                region,
                plan,
                image,
                tags,
                size,
                attach,
                protect,
                ignore,
                allow_replace,
                pin,
            },
        )
}

/// Where a record lives: a declared dock, a dock the config no longer declares, or another org.
#[derive(Debug, Clone, Copy)]
enum Home {
    Dock(usize),
    Undeclared,
    OtherOrg(usize),
}

/// One stored record as drawn.
#[derive(Debug, Clone)]
struct Stored {
    home: Home,
    volume: bool,
    id: usize,
    name: usize,
    region: usize,
    plan: usize,
    image: usize,
    tags: Vec<bool>,
    size: i64,
    /// Managed by the address of this name (same kind), if any.
    managed_by: Option<usize>,
    api: bool,
    protect: bool,
    missing: bool,
    /// 0: applied = actual; 1: no baseline; 2: baseline differs (drift).
    baseline: u8,
}

fn stored() -> impl Strategy<Value = Stored> {
    let home = prop_oneof![
        6 => (0..DOCKS.len()).prop_map(Home::Dock),
        1 => Just(Home::Undeclared),
        1 => (0..DOCKS.len()).prop_map(Home::OtherOrg),
    ];
    (
        (
            home,
            any::<bool>(),
            0..IDS.len(),
            0..NAMES.len(),
            0..2usize,
            0..2usize,
            0..2usize,
        ),
        (
            proptest::collection::vec(any::<bool>(), TAGS.len()),
            10i64..60,
            prop::option::of(0..NAMES.len()),
            any::<bool>(),
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.2),
            0u8..3,
        ),
    )
        .prop_map(
            |(
                (home, volume, id, name, region, plan, image),
                (tags, size, managed_by, api, protect, missing, baseline),
            )| Stored {
                home,
                volume,
                id,
                name,
                region,
                plan,
                image,
                tags,
                size,
                managed_by,
                api,
                protect,
                missing,
                baseline,
            },
        )
}

fn dock_state() -> impl Strategy<Value = Option<DockState>> {
    prop_oneof![
        6 => Just(Some(DockState::Fresh)),
        1 => Just(Some(DockState::Failed { error: "GET /instances: 500".into() })),
        1 => Just(Some(DockState::Stale { last_sync_at: "2025-01-01T00:00:00Z".into() })),
        1 => Just(Some(DockState::NeverSynced)),
        1 => Just(None),
    ]
}

/// One generated world: the file in two entry orders, the inventory in two orders, dock states.
#[derive(Debug, Clone)]
struct Case {
    toml: String,
    shuffled_toml: String,
    inventory: Vec<Record>,
    shuffled_inventory: Vec<Record>,
    docks: BTreeMap<String, DockState>,
    prune: bool,
}

fn chosen(flags: &[bool]) -> Vec<&'static str> {
    TAGS.iter()
        .zip(flags)
        .filter(|(_, on)| **on)
        .map(|(t, _)| *t)
        .collect()
}

fn kind_of(volume: bool) -> Kind {
    if volume {
        Kind::BlockVolumes
    } else {
        Kind::Servers
    }
}

/// The TOML of one entry (`attach_to` already resolved against the servers drawn).
fn entry_toml(e: &Entry, attach_to: Option<&str>) -> String {
    let (dock, provider) = DOCKS[e.dock];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n[{}.{}]\ndock = \"{dock}\"\nregion = \"{}\"",
        kind_of(e.volume).config_key(),
        NAMES[e.name],
        regions(provider)[e.region]
    );
    if e.volume {
        let _ = writeln!(s, "size_gb = {}", e.size);
        if let Some(server) = attach_to {
            let _ = writeln!(s, "attach_to = \"{server}\"");
        }
    } else {
        let tags = chosen(&e.tags)
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "plan = \"{}\"\nimage = \"{}\"\ntags = [{tags}]",
            plans(provider)[e.plan],
            images(provider)[e.image]
        );
    }
    if e.protect {
        s.push_str("protect = true\n");
    }
    if e.allow_replace {
        s.push_str("allow_replace = true\n");
    }
    if let Some(pin) = e.pin {
        let _ = writeln!(s, "id = \"{}\"", IDS[pin]);
    }
    let keys = if e.volume {
        ["size_gb", "attach_to", "region"]
    } else {
        ["tags", "plan", "image"]
    };
    let ignored: Vec<String> = keys
        .iter()
        .zip(&e.ignore)
        .filter(|(_, on)| **on)
        .map(|(k, _)| format!("\"{k}\""))
        .collect();
    if !ignored.is_empty() {
        let _ = writeln!(s, "ignore_changes = [{}]", ignored.join(", "));
    }
    s
}

fn config_toml(prune: bool, entries: &[String]) -> String {
    let mut s = format!("[stackdock]\norg = \"{ORG}\"\nprune = {prune}\n");
    for (name, provider) in DOCKS {
        let var = match provider {
            ProviderKind::Vultr => "VULTR_API_KEY",
            ProviderKind::DigitalOcean => "DIGITALOCEAN_TOKEN",
            ProviderKind::Linode => "LINODE_TOKEN",
            ProviderKind::Vercel => "VERCEL_TOKEN",
            ProviderKind::Cloudflare => "CLOUDFLARE_API_TOKEN",
        };
        let _ = write!(
            s,
            "\n[docks.{name}]\nprovider = \"{provider}\"\ncredentials = {{ env = \"{var}\" }}\n"
        );
    }
    for e in entries {
        s.push_str(e);
    }
    s
}

fn record_of(s: &Stored) -> Record {
    let (dock_index, org) = match s.home {
        Home::Dock(i) => (i, ORG),
        Home::Undeclared => (0, ORG),
        Home::OtherOrg(i) => (i, "globex"),
    };
    let (dock, provider) = DOCKS[dock_index];
    let dock = match s.home {
        Home::Undeclared => "old-dock",
        _ => dock,
    };
    let (id, name) = (IDS[s.id], NAMES[s.name]);
    let region = regions(provider)[s.region];
    let mut r = if s.volume {
        volume_record(dock, provider, id, name, region, s.size, None)
    } else {
        server_record(
            dock,
            provider,
            id,
            name,
            region,
            plans(provider)[s.plan],
            images(provider)[s.image],
            &chosen(&s.tags),
        )
    };
    if let Some(owner) = s.managed_by {
        let address = config::address(kind_of(s.volume), NAMES[owner]);
        r = managed(r, &address);
        r.provisioning_source = if s.api {
            ProvisioningSource::Api
        } else {
            ProvisioningSource::Manual
        };
        match s.baseline {
            0 => {}
            1 => r.applied.clear(),
            _ => {
                r.applied
                    .insert("region".into(), FieldValue::from("somewhere-else"));
            }
        }
    }
    r.org_id = org.into();
    r.dock_id = dock_id(org, dock).into();
    r.protect = s.protect;
    if s.missing {
        r.missing_since = Some(at("2025-01-01T00:00:00Z"));
    }
    r.with_hash()
}

/// A deterministic permutation of `items` from `seed` (Fisher–Yates over a xorshift stream).
fn shuffled<T: Clone>(items: &[T], mut seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    seed |= 1;
    for i in (1..out.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        proptest::collection::vec(entry(), 0..8),
        proptest::collection::vec(stored(), 0..12),
        proptest::collection::vec(dock_state(), DOCKS.len()),
        any::<u64>(),
    )
        .prop_map(|(prune, entries, stored, states, seed)| {
            // A TOML table name is unique per kind: keep the first entry of each (kind, name).
            let mut seen = BTreeSet::new();
            let entries: Vec<Entry> = entries
                .into_iter()
                .filter(|e| seen.insert((e.volume, e.name)))
                .collect();
            let texts: Vec<String> = entries
                .iter()
                .map(|e| {
                    // A volume attaches only to a server drawn on its dock, in its region.
                    let server = entries
                        .iter()
                        .find(|s| !s.volume && s.dock == e.dock && s.region == e.region && e.attach)
                        .map(|s| NAMES[s.name]);
                    entry_toml(e, server.filter(|_| e.volume))
                })
                .collect();
            // The store's key is (dock, kind, id): one record per key.
            let mut keys = BTreeSet::new();
            let inventory: Vec<Record> = stored
                .iter()
                .map(record_of)
                .filter(|r| keys.insert(r.key()))
                .collect();
            let docks = DOCKS
                .iter()
                .zip(states)
                .filter_map(|((name, _), s)| s.map(|s| ((*name).to_owned(), s)))
                .collect();
            Case {
                toml: config_toml(prune, &texts),
                shuffled_toml: config_toml(prune, &shuffled(&texts, seed)),
                shuffled_inventory: shuffled(&inventory, seed.rotate_left(17)),
                inventory,
                docks,
                prune,
            }
        })
}

fn parsed(toml: &str) -> Result<Config, TestCaseError> {
    config::parse("stackdock.toml", toml)
        .map_err(|d| TestCaseError::fail(format!("generated config is invalid:\n{d}\n{toml}")))
}

/// Runs `check` on `CASES` random worlds and reports the property.
fn property(name: &str, check: impl Fn(&Case, &Config, &Plan) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        // Failures are printed with their minimal input; no regression file beside the tests.
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let result = runner.run(&case(), |c| {
        let config = parsed(&c.toml)?;
        let p = plan(&config, &c.inventory, &c.docks);
        check(&c, &config, &p)
    });
    if let Err(e) = result {
        panic!("property {name} failed: {e}");
    }
    eprintln!("RELIABILITY property {name} cases={CASES} ok");
}

fn find<'a>(inventory: &'a [Record], a: &Action) -> Option<&'a Record> {
    let did = dock_id(ORG, &a.dock);
    inventory.iter().find(|r| {
        r.org_id == ORG
            && r.dock_id == did
            && Some(r.kind()) == a.kind
            && Some(r.provider_resource_id.as_str()) == a.provider_id.as_deref()
    })
}

#[test]
fn never_deletes_what_stackdock_did_not_create_or_is_protected_or_while_prune_is_off() {
    property("plan-delete-safety", |c, config, p| {
        for a in &p.actions {
            let deletes_resource =
                a.action == ActionKind::Delete || (a.action == ActionKind::Replace && a.allowed);
            if !deletes_resource {
                continue;
            }
            let record = find(&c.inventory, a)
                .ok_or_else(|| TestCaseError::fail(format!("{a:?} names no record of its dock")))?;
            prop_assert_eq!(
                record.provisioning_source,
                ProvisioningSource::Api,
                "{:?}",
                a
            );
            prop_assert!(!record.protect, "deletes a protected record: {:?}", a);
            let protected_in_file = record
                .managed_by
                .as_deref()
                .and_then(|addr| config.resource(addr))
                .is_some_and(|r| r.protect);
            prop_assert!(
                !protected_in_file,
                "deletes what the file protects: {:?}",
                a
            );
            if a.action == ActionKind::Delete {
                prop_assert!(c.prune, "deletes with prune off: {:?}", a);
                prop_assert!(a.allowed);
            }
        }
        Ok(())
    });
}

#[test]
fn a_dock_that_is_not_fresh_gets_one_blocked_action_and_nothing_else() {
    property("plan-blocked-docks", |c, _config, p| {
        for (dock, _) in DOCKS {
            let fresh = c.docks.get(dock) == Some(&DockState::Fresh);
            let of_dock: Vec<&Action> = p.actions.iter().filter(|a| a.dock == dock).collect();
            if fresh {
                prop_assert!(of_dock.iter().all(|a| a.action != ActionKind::Blocked));
            } else {
                prop_assert_eq!(of_dock.len(), 1, "{:?}", of_dock);
                prop_assert_eq!(of_dock[0].action, ActionKind::Blocked);
                prop_assert!(!of_dock[0].allowed);
            }
        }
        Ok(())
    });
}

#[test]
fn the_same_inputs_give_identical_json_and_digest() {
    property("plan-deterministic", |c, config, p| {
        let again = plan(&parsed(&c.toml)?, &c.inventory.clone(), &c.docks.clone());
        prop_assert_eq!(&p.digest, &again.digest);
        prop_assert_eq!(to_json(p), to_json(&again));
        prop_assert_eq!(config, &parsed(&c.toml)?);
        Ok(())
    });
}

#[test]
fn inventory_and_entry_order_do_not_change_the_plan() {
    property("plan-order-independent", |c, config, p| {
        let shuffled_config = parsed(&c.shuffled_toml)?;
        // The parser sorts entries: the file's order is not part of the desired state.
        prop_assert_eq!(config, &shuffled_config);
        let other = plan(&shuffled_config, &c.shuffled_inventory, &c.docks);
        prop_assert_eq!(&p.digest, &other.digest);
        prop_assert_eq!(to_json(p), to_json(&other));
        Ok(())
    });
}

/// Issue 20 item 2: each dock planned apart, from a copy of its own records only (as a fan-out's
/// invocation would hold), in reverse order, and the parts combined, is the same plan: the same
/// digests and JSON.
#[test]
fn docks_planned_apart_combine_into_the_same_plan() {
    use stackdock_core::plan::{PlanContext, combine, dock_facts, merge_facts, plan_dock};
    property("plan-per-dock", |c, config, p| {
        let problems = BTreeMap::new();
        let ctx = PlanContext::new(config, &problems);
        let state = |name: &str| c.docks.get(name).cloned().unwrap_or(DockState::NeverSynced);
        let own = |name: &str| -> Vec<Record> {
            c.inventory
                .iter()
                .filter(|r| r.dock_id == dock_id(ORG, name))
                .cloned()
                .collect()
        };
        let names: Vec<&String> = config.docks.keys().rev().collect();
        let lent: Vec<_> = names
            .iter()
            .map(|n| dock_facts(&ctx, n, &own(n).iter().collect::<Vec<_>>(), &state(n)))
            .collect();
        let facts = merge_facts(&ctx, &lent);
        let parts = names
            .iter()
            .map(|n| {
                plan_dock(
                    &ctx,
                    n,
                    &own(n).iter().collect::<Vec<_>>(),
                    &state(n),
                    &facts,
                )
            })
            .collect();
        let combined = combine(config, parts);
        prop_assert_eq!(&combined.digest, &p.digest);
        prop_assert_eq!(to_json(&combined), to_json(p));
        Ok(())
    });
}

#[test]
fn every_change_references_only_its_own_docks_records() {
    property("plan-dock-isolation", |c, config, p| {
        for a in p.changes() {
            let dock = config
                .dock(&a.dock)
                .ok_or_else(|| TestCaseError::fail(format!("undeclared dock in {a:?}")))?;
            prop_assert_eq!(a.provider, dock.provider);
            // A delete may name an entry that moved to another dock (the record it left behind);
            // every other change acts on the dock of its entry.
            if a.action != ActionKind::Delete
                && let Some(address) = &a.address
                && let Some(entry) = config.resource(address)
            {
                prop_assert_eq!(&entry.dock, &a.dock, "{:?}", a);
            }
            // A create names the gone record it replaces, if any: that too must be this dock's.
            if a.provider_id.is_some() {
                let record = find(&c.inventory, a).ok_or_else(|| {
                    TestCaseError::fail(format!("{a:?} names no record of dock {}", a.dock))
                })?;
                prop_assert_eq!(&record.org_id, ORG);
                prop_assert_eq!(record.provider, dock.provider);
            } else {
                prop_assert_eq!(a.action, ActionKind::Create, "{:?}", a);
            }
        }
        Ok(())
    });
}

fn to_json(p: &Plan) -> String {
    serde_json::to_string(p).expect("a plan serialises")
}

/// Found by `plan-delete-safety`: an entry moved to another dock and marked `protect = true` in
/// the same edit had the resource it left behind deleted (prune on), because the leftover check
/// looked only at the record's own `protect`, not at the entry that still owns it in the file.
#[test]
fn regression_a_moved_entry_protected_in_the_file_keeps_the_resource_it_left_behind() {
    use super::fixtures::{config as fixture_config, server};
    let mut entry = server("logs-a", "vultr-main", "ewr", "vc2-1c-1gb", "os:2284", &[]);
    entry.protect = true;
    let config = fixture_config(
        true,
        &[
            ("vultr-main", ProviderKind::Vultr),
            ("do-main", ProviderKind::DigitalOcean),
        ],
        vec![entry],
    );
    let left_behind = managed(
        server_record(
            "do-main",
            ProviderKind::DigitalOcean,
            "1001",
            "logs-a",
            "nyc3",
            "s-1vcpu-1gb",
            "ubuntu-24-04-x64",
            &[],
        ),
        "servers.logs-a",
    );
    let docks = DOCKS
        .iter()
        .map(|(d, _)| ((*d).to_owned(), DockState::Fresh))
        .collect();
    let p = plan(&config, &[left_behind], &docks);
    assert_eq!(p.summary.delete, 0, "{:#?}", p.actions);
    let kept = p
        .of_kind(ActionKind::Unmanaged)
        .find(|a| a.provider_id.as_deref() == Some("1001"))
        .expect("reported instead");
    assert!(kept.reason.contains("protected"), "{}", kept.reason);
}
