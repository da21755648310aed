//! `power = "on" | "off"`: a server's power state is planned like an in-place field, an
//! out-of-band power-off is drift, and a server that is not settled is neither on nor off.

use stackdock_core::FieldValue;
use stackdock_core::plan::{ActionKind, plan};

use crate::plan::{actual_server, config, fresh, managed, only, server};

fn stopped(mut r: stackdock_core::Record) -> stackdock_core::Record {
    r.status = "stopped".into();
    r.with_hash()
}

fn power_change(p: &stackdock_core::plan::Plan, kind: ActionKind) -> Option<(String, String)> {
    let text = |v: &Option<FieldValue>| v.as_ref().and_then(FieldValue::as_str).map(str::to_owned);
    only(p, kind)
        .into_iter()
        .flat_map(|a| a.changes.iter())
        .find(|c| c.field == "power")
        .and_then(|c| Some((text(&c.before)?, text(&c.after)?)))
}

#[test]
fn a_stopped_server_declared_on_is_planned_off_to_on_and_the_default_is_on() {
    let addr = "servers.web-1";
    let rec = stopped(managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[("plan", "vc2-1c-1gb".into())],
    ));
    for declared in [Some("on"), None] {
        let mut entry = server("web-1", "vultr", "vc2-1c-1gb");
        if let Some(power) = declared {
            entry.fields.insert("power".into(), power.into());
        }
        let p = plan(
            &config(false, vec![entry]),
            std::slice::from_ref(&rec),
            &fresh(),
        );
        assert_eq!(
            power_change(&p, ActionKind::Update),
            Some(("off".into(), "on".into())),
            "power = {declared:?}"
        );
        assert_eq!(only(&p, ActionKind::Update).len(), 1);
        // No baseline for `power` was recorded: a plain difference, not drift.
        assert!(only(&p, ActionKind::Drift).is_empty());
    }
}

#[test]
fn a_running_server_declared_off_is_planned_on_to_off() {
    let addr = "servers.web-1";
    let rec = managed(
        actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
        addr,
        &[("plan", "vc2-1c-1gb".into()), ("power", "on".into())],
    );
    let mut entry = server("web-1", "vultr", "vc2-1c-1gb");
    entry.fields.insert("power".into(), "off".into());
    let p = plan(&config(false, vec![entry]), &[rec], &fresh());
    assert_eq!(
        power_change(&p, ActionKind::Update),
        Some(("on".into(), "off".into()))
    );
    assert!(only(&p, ActionKind::Drift).is_empty());
}

#[test]
fn a_server_powered_off_out_of_band_is_drift_and_the_update_restores_it() {
    let addr = "servers.web-1";
    let rec = stopped(managed(
        actual_server("linode", "l-1", "web-1", "g6-nanode-1"),
        addr,
        &[("plan", "g6-nanode-1".into()), ("power", "on".into())],
    ));
    let p = plan(
        &config(false, vec![server("web-1", "linode", "g6-nanode-1")]),
        &[rec],
        &fresh(),
    );
    assert_eq!(
        power_change(&p, ActionKind::Drift),
        Some(("on".into(), "off".into()))
    );
    assert_eq!(p.summary.drift, 1);
    assert_eq!(
        power_change(&p, ActionKind::Update),
        Some(("off".into(), "on".into()))
    );
}

#[test]
fn a_server_being_built_or_in_transition_is_neither_on_nor_off() {
    let addr = "servers.web-1";
    for status in ["pending", "unknown", "error"] {
        let mut rec = managed(
            actual_server("vultr", "v-1", "web-1", "vc2-1c-1gb"),
            addr,
            &[("plan", "vc2-1c-1gb".into()), ("power", "on".into())],
        );
        rec.status = status.into();
        let rec = rec.with_hash();
        for declared in ["on", "off"] {
            let mut entry = server("web-1", "vultr", "vc2-1c-1gb");
            entry.fields.insert("power".into(), declared.into());
            let p = plan(
                &config(false, vec![entry]),
                std::slice::from_ref(&rec),
                &fresh(),
            );
            assert!(
                !p.has_changes() && only(&p, ActionKind::Drift).is_empty(),
                "{status}, power = {declared}: {:?}",
                p.actions
            );
        }
    }
}

#[test]
fn a_create_shows_power_only_when_the_file_writes_it() {
    let mut off = server("web-2", "vultr", "vc2-1c-1gb");
    off.fields.insert("power".into(), "off".into());
    let p = plan(
        &config(false, vec![server("web-1", "vultr", "vc2-1c-1gb"), off]),
        &[],
        &fresh(),
    );
    let creates = only(&p, ActionKind::Create);
    assert_eq!(creates.len(), 2);
    let has_power = |i: usize| creates[i].changes.iter().any(|c| c.field == "power");
    assert!(!has_power(0), "the default is not shown");
    assert!(has_power(1));
}
