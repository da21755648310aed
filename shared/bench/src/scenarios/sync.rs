//! sync-requests, sync-wall and terraform-model: one complete sync of a fleet of `total`
//! resources over a dock per provider, its requests and wall time beside their bounds, and what a
//! per-resource refresh would cost for the same inventory.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use stackdock_core::{Kind, ProviderKind};
use stackdock_engine::{DockTiming, SyncOptions, sync};
use stackdock_providers::wait::PollPolicy;

use crate::bounds::{self, Listing};
use crate::fleet::{self, SandboxSetup};
use crate::memory;
use crate::report::Row;

/// What one measured sync did.
#[derive(Debug, Clone)]
pub struct SyncRun {
    pub total: usize,
    pub listed: usize,
    pub written: usize,
    pub requests: u64,
    /// Requests per provider.
    pub per_provider: BTreeMap<ProviderKind, u64>,
    pub listings: Vec<Listing>,
    pub wall: Duration,
    /// CPU time of the whole process (engine, store and the in-process sandbox) during the sync:
    /// near 2 × `wall` on two cores means the sync is bound by CPU, not by latency.
    pub cpu: Duration,
    /// The dock that finished last and where its time went (its listings, then its commit):
    /// what the wall time holds beyond the network's critical path.
    pub last: Option<(String, DockTiming)>,
}

/// Seeds a fresh sandbox with `total` resources, lets it render them once (see [`fleet::warm`])
/// and syncs it once into an in-memory store through fresh docks.
pub async fn run(
    total: usize,
    latency: Duration,
    published_limits: bool,
) -> anyhow::Result<SyncRun> {
    let sandbox = fleet::sandbox(SandboxSetup {
        latency,
        published_limits: false,
        pending_polls: 0,
    })
    .await?;
    let spread = fleet::seed(&sandbox, total)?;
    let config = fleet::config(&sandbox.url(), Vec::new());
    fleet::warm(&config).await?;
    if published_limits {
        // After the warm-up, so the measured sync starts with every rate-limit window unused.
        fleet::enforce_published_limits(&sandbox);
    }
    let docks = fleet::docks(&config, PollPolicy::fast()).await?;
    let store = fleet::memory_store()?;
    sandbox.reset_counters();
    let (started, cpu_before) = (Instant::now(), memory::cpu_time());
    let report = sync(&config, &docks, store.as_ref(), &SyncOptions::default()).await?;
    let (wall, cpu) = (started.elapsed(), memory::cpu_time() - cpu_before);
    let counters = sandbox.counters();
    let per_provider = ProviderKind::ALL
        .into_iter()
        .map(|p| {
            (
                p,
                counters.per_provider.get(p.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let requests = counters.total;
    sandbox.shutdown().await;
    if let Some(failed) = report.failed().next() {
        anyhow::bail!(
            "dock {} failed to sync: {}",
            failed.dock,
            failed.error.clone().unwrap_or_default()
        );
    }
    let listed = report.docks.iter().map(|d| d.listed).sum();
    let last = report
        .docks
        .iter()
        .max_by_key(|d| d.timing.listing + d.timing.commit)
        .map(|d| (d.dock.clone(), d.timing));
    // The seeded resources and the zone the generated DNS records live in.
    let listings = fleet::listings(&spread);
    let zones: usize = listings
        .iter()
        .filter(|l| l.kind == Kind::Domains)
        .map(|l| l.items)
        .sum();
    anyhow::ensure!(
        listed == total + zones,
        "listed {listed} of {total} resources and {zones} zone(s)"
    );
    Ok(SyncRun {
        total,
        listed,
        written: report.written(),
        requests,
        per_provider,
        listings,
        wall,
        cpu,
        last,
    })
}

pub fn requests_row(run: &SyncRun) -> Row {
    let bound = bounds::sync_requests(&run.listings);
    Row::new(format!("sync-requests/{}", run.total), run.requests as f64, bound as f64, "requests")
        .exact()
        .note("Σ pages at the max page size + 1 credential check per dock")
        .counts(json!({ "resources": run.total, "listed": run.listed, "written": run.written, "requests": run.requests }))
}

/// One row per provider: its dock's requests against its own bound (every provider, the ones
/// whose collections are empty at this size included).
pub fn provider_rows(run: &SyncRun) -> Vec<Row> {
    run.per_provider
        .iter()
        .map(|(p, requests)| {
            let bound = bounds::requests_of(&run.listings, *p);
            Row::new(
                format!("sync-requests/{}/{}", run.total, p.as_str()),
                *requests as f64,
                bound as f64,
                "requests",
            )
            .exact()
            .note(format!(
                "the {} dock's share of sync-requests/{}",
                p.as_str(),
                run.total
            ))
        })
        .collect()
}

pub fn wall_row(run: &SyncRun, latency: Duration) -> Row {
    let (bound, why) = bounds::sync_wall(&run.listings, latency);
    let cores = bounds::cores();
    let floor = bounds::cpu_floor(latency, run.cpu, cores);
    let row = Row::new(
        format!("sync-wall/{}", run.total),
        ms(run.wall),
        ms(bound),
        "ms",
    )
    .note(format!(
        "bound: {why}; {} ms latency; CPU {:.0} ms ({:.1} cores busy): on {cores} cores no \
         schedule of that work ends before {:.0} ms ({:.2}x the bound)",
        latency.as_millis(),
        ms(run.cpu),
        run.cpu.as_secs_f64() / run.wall.as_secs_f64().max(f64::EPSILON),
        ms(floor),
        floor.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON),
    ))
    .counts(json!({
        "requests": run.requests,
        "latency_ms": latency.as_millis(),
        "cpu_ms": ms(run.cpu),
        "cores": cores,
        "cpu_floor_ms": ms(floor),
        "last_dock": run.last.as_ref().map(|(d, _)| d),
        "last_listing_ms": run.last.as_ref().map(|(_, t)| ms(t.listing)),
        "last_commit_ms": run.last.as_ref().map(|(_, t)| ms(t.commit)),
    }));
    let row = match &run.last {
        Some((dock, t)) => {
            let note = format!(
                "{}; the last dock to finish, `{dock}`: listings {:.0} ms, then its commit {:.0} ms",
                row.note,
                ms(t.listing),
                ms(t.commit)
            );
            row.note(note)
        }
        None => row,
    };
    if run.total == 10_000 {
        row.ratio_at_most(1.3)
    } else {
        row
    }
}

/// [`wall_row`] of a run at a realistic provider latency (100 ms and up), named with it
/// (`sync-wall/10000/100ms`): there latency, not this machine's two cores, should bound the sync,
/// and the target is 1.15× the bound.
pub fn slow_wall_row(run: &SyncRun, latency: Duration) -> Row {
    let mut row = wall_row(run, latency);
    row.name = format!("sync-wall/{}/{}ms", run.total, latency.as_millis());
    row.ratio_at_most(1.15)
}

/// The per-resource refresh model beside our measured sync (labelled as a model).
pub fn terraform_rows(run: &SyncRun, latency: Duration) -> Vec<Row> {
    let (requests, wall) = bounds::terraform_model(run.total, 10, latency);
    vec![
        Row::new(
            format!("terraform-model/requests/{}", run.total),
            requests as f64,
            run.requests as f64,
            "requests",
        )
        .note("MODEL: one GET per resource; bound column = StackDock's measured requests")
        .counts(json!({ "model_requests": requests, "stackdock_requests": run.requests })),
        Row::new(
            format!("terraform-model/wall/{}", run.total),
            ms(wall),
            ms(run.wall),
            "ms",
        )
        .note(format!(
            "MODEL: 10 in flight at {} ms; bound column = StackDock's measured wall",
            latency.as_millis()
        ))
        .counts(json!({ "model_ms": ms(wall), "stackdock_ms": ms(run.wall) })),
    ]
}

pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}
