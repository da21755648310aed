//! fanout wall time: a fleet of `docks` docks × `per_dock` resources synced as the sync state
//! machine's Map does it — one `sync_one` per dock (one sync-dock invocation), each writing its own
//! dock's records, at most `concurrency` at a time (the template's `SyncConcurrency`) — beside the
//! bound ⌈docks / concurrency⌉ × the slowest dock's sync, measured alone in the same process.
//!
//! All the invocations share this process's cores, where the deployed Map gives each its own
//! Lambda: the row's note says how much CPU the fleet took and the floor that sets on this
//! machine, so a miss that is only the simulation's can be told from one in StackDock.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use stackdock_engine::sync_one;

use super::fanout::{vultr_fleet, vultr_sandbox};
use crate::fleet;
use crate::report::Row;
use crate::{bounds, memory};

/// Docks synced alone, one after another, for the slowest dock's sync.
const SOLO: usize = 5;

/// What one fleet run measured.
#[derive(Debug, Clone, Copy)]
pub struct FanoutWall {
    pub docks: usize,
    pub per_dock: usize,
    pub concurrency: usize,
    pub wall: Duration,
    pub cpu: Duration,
    /// The slowest of [`SOLO`] docks synced alone.
    pub slowest: Duration,
}

impl FanoutWall {
    /// ⌈docks / concurrency⌉ × the slowest dock's sync.
    pub fn bound(&self) -> Duration {
        self.slowest * self.docks.div_ceil(self.concurrency.max(1)) as u32
    }
}

/// Seeds a sandbox at `latency` with one Vultr account of `per_dock` instances that every dock
/// lists, and syncs the fleet through the Map's concurrency.
pub async fn run(
    docks: usize,
    per_dock: usize,
    concurrency: usize,
    latency: Duration,
) -> anyhow::Result<FanoutWall> {
    anyhow::ensure!(
        docks >= SOLO && concurrency >= 1,
        "a fanout fleet has at least {SOLO} docks and a concurrency of 1"
    );
    let sandbox = vultr_sandbox(latency, per_dock).await?;
    let measured = measure(&sandbox.url(), docks, per_dock, concurrency).await;
    sandbox.shutdown().await;
    measured
}

async fn measure(
    base: &str,
    docks: usize,
    per_dock: usize,
    concurrency: usize,
) -> anyhow::Result<FanoutWall> {
    let config = vultr_fleet(base, docks)?;
    let adapters = fleet::docks(&config, stackdock_providers::wait::PollPolicy::fast()).await?;
    let names: Vec<String> = config.docks.keys().cloned().collect();
    // One invocation: the dock's sync into a store of its own (each sync-dock writes only its
    // dock's records; DynamoDB takes the invocations' writes side by side).
    let invoke = |name: String| {
        let (config, adapters) = (&config, &adapters);
        async move {
            let store = fleet::memory_store()?;
            let started = Instant::now();
            let outcome = sync_one(config, &name, adapters, store.as_ref())
                .await
                .with_context(|| format!("dock {name}"))?;
            anyhow::ensure!(
                outcome.error.is_none() && outcome.listed == per_dock,
                "dock {name} listed {} of {per_dock}: {:?}",
                outcome.listed,
                outcome.error
            );
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };
    // The first sync warms the sandbox's rendering; then the slowest of a few alone.
    invoke(names[0].clone()).await?;
    let mut slowest = Duration::ZERO;
    for name in names.iter().take(SOLO) {
        slowest = slowest.max(invoke(name.clone()).await?);
    }
    let (started, cpu_before) = (Instant::now(), memory::cpu_time());
    let took: Vec<Duration> = futures::stream::iter(names.into_iter().map(invoke))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    anyhow::ensure!(
        took.len() == docks,
        "{} of {docks} docks synced",
        took.len()
    );
    Ok(FanoutWall {
        docks,
        per_dock,
        concurrency,
        wall: started.elapsed(),
        cpu: memory::cpu_time() - cpu_before,
        slowest,
    })
}

pub fn row(w: &FanoutWall) -> Row {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let cores = bounds::cores();
    let cpu_floor = w.cpu / u32::try_from(cores).unwrap_or(1);
    Row::new(
        format!("fanout/wall/{}docks", w.docks),
        ms(w.wall),
        ms(w.bound()),
        "ms",
    )
    .ratio_at_most(1.3)
    .note(format!(
        "{} docks × {} resources, {} at a time; bound ⌈docks / concurrency⌉ × the slowest dock \
         alone ({:.0} ms); CPU {:.0} ms: on {cores} cores running every invocation in one \
         process cannot end before {:.0} ms ({:.2}x the bound)",
        w.docks,
        w.per_dock,
        w.concurrency,
        ms(w.slowest),
        ms(w.cpu),
        ms(cpu_floor),
        cpu_floor.as_secs_f64() / w.bound().as_secs_f64().max(f64::EPSILON),
    ))
    .counts(json!({
        "docks": w.docks,
        "per_dock": w.per_dock,
        "concurrency": w.concurrency,
        "slowest_ms": ms(w.slowest),
        "cpu_ms": ms(w.cpu),
    }))
}
