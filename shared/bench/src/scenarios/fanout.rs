//! fanout: the peak resident memory of one `sync-dock` invocation of the sync state machine
//! (design §10), for a fleet of 10 docks and of 1,000. Each is measured in a fresh child process
//! that does what the deployed sync-dock function does for one dock: the deployed config (every
//! dock of the fleet), the store's dock statuses (every dock synced before), that one dock's
//! adapter (`STACKDOCK_SYNC_DOCK=1`: only its credential) and `stackdock_engine::sync_one` into an
//! on-disk SQLite store (the records of other docks live in the database, as in DynamoDB, not
//! in the function). Target: the 1,000-dock peak within 10% of the 10-dock one (it must not grow
//! with the fleet).
//!
//! The fleet's wall time through the Map's concurrency is `fanout_wall.rs`.

use std::collections::BTreeMap;

use anyhow::Context as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stackdock_core::ProviderKind;
use stackdock_core::config::{Config, CredentialRef, DockConfig};
use stackdock_core::record::{DockStatus, dock_id};
use stackdock_engine::{Adapters, Docks, StaticResolver, sync_one};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_store::Store as _;
use stackdock_store::sqlite::SqliteStore;

use crate::fleet;
use crate::report::Row;

/// The dock every measurement syncs (its inventory is the sandbox's Vultr account).
const DOCK: &str = "dock-00000";

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FanoutFigures {
    pub docks: usize,
    /// Peak before any work: the runtime and the binary.
    pub baseline_mib: f64,
    pub peak_mib: f64,
    /// Records the one dock listed.
    pub listed: usize,
}

/// A sandbox at `latency` whose one Vultr account holds `per_dock` instances: what every dock of
/// a fanout fleet lists.
pub async fn vultr_sandbox(
    latency: std::time::Duration,
    per_dock: usize,
) -> anyhow::Result<stackdock_sandbox::SandboxHandle> {
    let sandbox = fleet::sandbox(fleet::SandboxSetup {
        latency,
        published_limits: false,
        pending_polls: 0,
    })
    .await?;
    sandbox.seed_bulk(
        stackdock_sandbox::Provider::Vultr,
        stackdock_sandbox::Kind::Instance,
        per_dock,
    )?;
    Ok(sandbox)
}

/// The bench fleet's config with `docks` Vultr docks (`dock-00000`, …) at `base` instead of its
/// own docks: every dock lists the sandbox's one Vultr account.
pub fn vultr_fleet(base: &str, docks: usize) -> anyhow::Result<Config> {
    let mut config = fleet::config(base, Vec::new());
    let template = config
        .docks
        .get(fleet::dock_name(ProviderKind::Vultr))
        .cloned()
        .context("the bench fleet has a Vultr dock")?;
    config.docks = (0..docks)
        .map(|i| {
            let name = format!("dock-{i:05}");
            let dock = DockConfig {
                name: name.clone(),
                credentials: CredentialRef::Env(format!("VULTR_TOKEN_{i}")),
                ..template.clone()
            };
            (name, dock)
        })
        .collect();
    Ok(config)
}

/// In the child: one sync-dock invocation in a fleet of `docks` Vultr docks at `base`.
pub async fn measure(base: &str, docks: usize) -> anyhow::Result<FanoutFigures> {
    anyhow::ensure!(docks >= 1, "a fleet has at least one dock");
    let baseline_mib = crate::memory::peak_rss_mib().unwrap_or(f64::NAN);
    let path = std::env::temp_dir().join(format!("stackdock-fanout-{}.db", std::process::id()));
    let store = SqliteStore::open(&path)?;
    let config = vultr_fleet(base, docks)?;
    // Every other dock synced before: its status is in the store.
    let now = Timestamp::now();
    for name in config.docks.keys().filter(|n| n.as_str() != DOCK) {
        store
            .put_dock_status(&DockStatus {
                org_id: fleet::ORG.into(),
                dock_id: dock_id(fleet::ORG, name),
                name: name.clone(),
                provider: ProviderKind::Vultr,
                last_sync_at: Some(now),
                last_attempt_at: Some(now),
                last_error: None,
                catalog: None,
                env_fingerprints: Default::default(),
            })
            .await?;
    }
    // As `Deps::docks_for` builds them: the one dock's adapter.
    let mut one = config.clone();
    one.docks.retain(|name, _| name == DOCK);
    let tokens = StaticResolver(BTreeMap::from([(
        ProviderKind::Vultr,
        Credential::new(fleet::sandbox_provider(ProviderKind::Vultr).default_token()),
    )]));
    let adapters = Docks::build(
        &one,
        &tokens,
        &Adapters {
            tuning: Tuning {
                poll: PollPolicy::fast(),
            },
        },
    )
    .await;
    let outcome = sync_one(&config, DOCK, &adapters, &store).await?;
    let peak_mib = crate::memory::peak_rss_mib().unwrap_or(f64::NAN);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    anyhow::ensure!(
        outcome.error.is_none(),
        "the dock failed to sync: {:?}",
        outcome.error
    );
    Ok(FanoutFigures {
        docks,
        baseline_mib,
        peak_mib,
        listed: outcome.listed,
    })
}

pub fn rows(small: &FanoutFigures, large: &FanoutFigures) -> Vec<Row> {
    vec![
        Row::new(
            format!("fanout/sync-dock-rss/{}docks", small.docks),
            small.peak_mib,
            small.baseline_mib,
            "MiB",
        )
        .note("peak RSS of one sync-dock invocation; bound column = the process before any work")
        .counts(json!({ "listed": small.listed, "docks": small.docks })),
        Row::new(
            format!("fanout/sync-dock-rss/{}docks", large.docks),
            large.peak_mib,
            small.peak_mib,
            "MiB",
        )
        .ratio_at_most(1.1)
        .note(format!(
            "peak RSS of one sync-dock invocation of {} records; bound column = the same in a fleet of {} docks",
            large.listed, small.docks
        ))
        .counts(json!({ "listed": large.listed, "docks": large.docks, "baseline_mib": large.baseline_mib })),
    ]
}
