//! Dock states derived from dock statuses: what blocks a plan.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{Timestamp, ToSpan};
use stackdock_core::ProviderKind;
use stackdock_core::config::{Config, CredentialRef, DockConfig, DriftMode, Settings};
use stackdock_core::plan::DockState;
use stackdock_core::record::DockStatus;
use stackdock_engine::dock_states;

fn config() -> Config {
    let dock = |name: &str, provider| DockConfig {
        name: name.into(),
        provider,
        credentials: CredentialRef::Env("TOKEN".into()),
        endpoint: None,
        regions: None,
        settings: Default::default(),
    };
    Config {
        settings: Settings {
            org: "acme".into(),
            prune: false,
            drift: DriftMode::Flag,
            table_prefix: "stackdock".into(),
            schedule: None,
        },
        docks: BTreeMap::from([
            ("a".into(), dock("a", ProviderKind::Vultr)),
            ("b".into(), dock("b", ProviderKind::Linode)),
            ("c".into(), dock("c", ProviderKind::DigitalOcean)),
            ("d".into(), dock("d", ProviderKind::Vultr)),
        ]),
        resources: Vec::new(),
        notify: None,
    }
}

fn status(name: &str, last_sync_at: Option<Timestamp>, error: Option<&str>) -> DockStatus {
    DockStatus {
        org_id: "acme".into(),
        dock_id: format!("acme/{name}"),
        name: name.into(),
        provider: ProviderKind::Vultr,
        last_sync_at,
        last_attempt_at: last_sync_at,
        last_error: error.map(str::to_owned),
        catalog: None,
        env_fingerprints: Default::default(),
    }
}

#[test]
fn fresh_failed_stale_and_never_synced() {
    let now: Timestamp = "2026-11-22T12:00:00Z".parse().expect("timestamp");
    let statuses = [
        status("a", Some(now - 10.minutes()), None),
        status(
            "b",
            Some(now - 10.minutes()),
            Some("dock `b`: GET /linode/instances: transient failure: 503"),
        ),
        status("c", Some(now - 3.hours()), None),
        status("other", Some(now), None),
    ];
    let states = dock_states(&config(), &statuses, now, Duration::from_secs(3600));
    assert_eq!(states["a"], DockState::Fresh);
    assert!(matches!(&states["b"], DockState::Failed { error } if error.contains("503")));
    assert!(matches!(&states["c"], DockState::Stale { .. }));
    assert_eq!(states["d"], DockState::NeverSynced);
    assert_eq!(states.len(), 4, "only configured docks: {states:?}");
}
