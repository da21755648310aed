//! Convergence as a property: random desired fleets on fake providers, with random resources
//! already there outside StackDock (some to adopt, some to leave alone), always converge — sync →
//! plan → apply → sync → plan has no changes — and a second apply makes no provider call.
//!
//! Each case builds its own current-thread runtime and in-memory store, so cases are independent.
//! Prints `RELIABILITY property <name> cases=<n> ok` for the reliability report.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use stackdock_core::config::DesiredResource;
use stackdock_core::record::{Attrs, ServerAttrs, VolumeAttrs, dock_id};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};
use stackdock_engine::apply;
use stackdock_store::RunStatus;

use crate::support::{ORG, World, resource};

/// Cases: each runs two syncs, two plans and two applies against SQLite; 32 keep this near 10 s.
const CASES: u32 = 32;

const DOCKS: [(&str, ProviderKind); 2] = [
    ("vultr", ProviderKind::Vultr),
    ("linode", ProviderKind::Linode),
];
const NAMES: [&str; 5] = ["web-1", "web-2", "app", "worker", "data"];
const PLANS: [&str; 2] = ["plan-small", "plan-large"];
const TAGS: [&str; 3] = ["web", "prod", "blue"];

/// One desired entry: a server, or (on Vultr) a volume attached to a server or not.
#[derive(Debug, Clone)]
struct Want {
    volume: bool,
    name: usize,
    dock: usize,
    plan: usize,
    tags: Vec<bool>,
    size: i64,
    attach: bool,
}

/// One resource already at the provider. `adoptable` ones take the name of a desired entry of the
/// same kind and dock, with what can converge in place (plan, tags, a smaller volume).
#[derive(Debug, Clone)]
struct Existing {
    volume: bool,
    name: usize,
    dock: usize,
    plan: usize,
    tags: Vec<bool>,
    size: i64,
    adoptable: bool,
}

fn want() -> impl Strategy<Value = Want> {
    (
        any::<bool>(),
        0..NAMES.len(),
        0..DOCKS.len(),
        0..PLANS.len(),
        proptest::collection::vec(any::<bool>(), TAGS.len()),
        10i64..100,
        any::<bool>(),
    )
        .prop_map(|(volume, name, dock, plan, tags, size, attach)| Want {
            volume,
            name,
            dock,
            plan,
            tags,
            size,
            attach,
        })
}

fn existing() -> impl Strategy<Value = Existing> {
    (
        any::<bool>(),
        0..NAMES.len(),
        0..DOCKS.len(),
        0..PLANS.len(),
        proptest::collection::vec(any::<bool>(), TAGS.len()),
        1i64..10,
        any::<bool>(),
    )
        .prop_map(
            |(volume, name, dock, plan, tags, size, adoptable)| Existing {
                volume,
                name,
                dock,
                plan,
                tags,
                size,
                adoptable,
            },
        )
}

fn tags(flags: &[bool]) -> stackdock_core::VecSet<String> {
    TAGS.iter()
        .zip(flags)
        .filter(|(_, on)| **on)
        .map(|(t, _)| (*t).to_owned())
        .collect()
}

fn fleet(wants: &[Want]) -> Vec<DesiredResource> {
    let mut seen = BTreeSet::new();
    let wants: Vec<&Want> = wants
        .iter()
        // One entry per (kind, name); volumes only on the Vultr fake dock here.
        .filter(|w| !w.volume || w.dock == 0)
        .filter(|w| seen.insert((w.volume, w.name)))
        .collect();
    wants
        .iter()
        .map(|w| {
            let dock = DOCKS[w.dock].0;
            if w.volume {
                let server = wants
                    .iter()
                    .find(|s| !s.volume && s.dock == w.dock && w.attach)
                    .map(|s| NAMES[s.name]);
                let mut r = resource(
                    Kind::BlockVolumes,
                    NAMES[w.name],
                    dock,
                    [
                        ("region", FieldValue::from("ewr")),
                        ("size_gb", FieldValue::Int(w.size)),
                    ],
                );
                if let Some(s) = server {
                    r.fields.insert("attach_to".into(), FieldValue::from(s));
                }
                r
            } else {
                resource(
                    Kind::Servers,
                    NAMES[w.name],
                    dock,
                    [
                        ("region", FieldValue::from("ewr")),
                        ("plan", PLANS[w.plan].into()),
                        ("image", "os:2284".into()),
                        ("tags", FieldValue::Set(tags(&w.tags))),
                    ],
                )
            }
        })
        .collect()
}

/// The pre-existing resources: adoptable ones renamed after a desired entry of their kind and dock
/// (at most one per name, since two would be an ambiguous match, an `error` by design); the others
/// renamed so no entry matches them.
fn seed(w: &World, fleet: &[DesiredResource], existing: &[Existing]) {
    let mut taken = BTreeSet::new();
    for (i, e) in existing.iter().enumerate() {
        let (dock, provider) = DOCKS[e.dock];
        let kind = if e.volume {
            Kind::BlockVolumes
        } else {
            Kind::Servers
        };
        let target = fleet
            .iter()
            .filter(|r| r.kind == kind && r.dock == dock)
            .nth(e.name % fleet.len().max(1));
        let name = match target {
            Some(t) if e.adoptable && taken.insert((kind, t.name.clone())) => t.name.clone(),
            _ => format!("{}-manual-{i}", NAMES[e.name]).into(),
        };
        let mut r = Record::new(
            ORG,
            dock_id(ORG, dock),
            provider,
            kind,
            format!("pre-{i}"),
            name.clone(),
        );
        r.region = Some("ewr".into());
        r.attrs = if e.volume {
            Attrs::BlockVolumes(VolumeAttrs {
                size_gb: Some(e.size),
                ..VolumeAttrs::default()
            })
        } else {
            r.status = "running".into();
            Attrs::Servers(ServerAttrs {
                instance_type: Some(PLANS[e.plan].into()),
                image: Some("os:2284".into()),
                tags: tags(&e.tags),
                ..ServerAttrs::default()
            })
        };
        r.status = if e.volume { "active" } else { "running" }.into();
        if provider == ProviderKind::Vultr {
            w.vultr.insert(r);
        } else {
            w.linode.insert(r);
        }
    }
}

#[test]
fn any_fleet_converges_and_a_second_apply_makes_no_provider_call() {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let strategy = (
        proptest::collection::vec(want(), 0..8),
        proptest::collection::vec(existing(), 0..6),
    );
    let result = runner.run(&strategy, |(wants, existing)| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let fleet = fleet(&wants);
            let w = World::new(fleet.clone());
            seed(&w, &fleet, &existing);
            let report = w.converge().await;
            prop_assert_eq!(
                report.run.status,
                RunStatus::Succeeded,
                "{:?}",
                report.run.actions
            );

            w.sync().await;
            let plan = w.plan().await;
            prop_assert!(!plan.has_changes(), "not converged: {:#?}", plan.actions);
            prop_assert_eq!(plan.summary.error, 0, "{:#?}", plan.actions);

            w.vultr.reset_calls();
            w.linode.reset_calls();
            let again = apply(&plan, &w.config, &w.docks, w.store.as_ref(), &w.options())
                .await
                .expect("second apply");
            prop_assert!(again.run.actions.is_empty(), "{:?}", again.run.actions);
            prop_assert_eq!(w.mutations(), 0, "a converged apply calls no provider");
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("property engine-convergence failed: {e}");
    }
    eprintln!("RELIABILITY property engine-convergence cases={CASES} ok");
    eprintln!("RELIABILITY property engine-idempotent-second-apply cases={CASES} ok");
}
