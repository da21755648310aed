//! resync-writes: sync an unchanged inventory again (bound: 0 writes), then change 1% of it
//! (bound: one write per changed record; on DynamoDB one UpdateItem per changed record: only the
//! observed half is written, which BatchWriteItem cannot do).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use stackdock_engine::{SyncOptions, sync};
use stackdock_providers::wait::PollPolicy;
use stackdock_sandbox::{Change, Kind as SbKind, Mutation, Provider, SandboxHandle};
use stackdock_store::Store;

use crate::bounds::{self, Listing};
use crate::fleet::{self, SandboxSetup};
use crate::memory;
use crate::report::Row;
use crate::scenarios::sync::ms;

/// Writes of each sync of one store.
#[derive(Debug, Clone)]
pub struct Resync {
    pub unchanged_writes: usize,
    pub changed: usize,
    pub changed_writes: usize,
    /// Backend write requests (DynamoDB: BatchWriteItem and single writes) of each sync.
    pub unchanged_requests: u64,
    pub changed_requests: u64,
    /// Wall and CPU time of the unchanged sync: the scheduled job's usual run.
    pub unchanged_wall: Duration,
    pub unchanged_cpu: Duration,
    pub listings: Vec<Listing>,
    pub latency: Duration,
}

/// Changes the tags of the first `n` generated Vultr instances, out of band.
pub fn change(sandbox: &SandboxHandle, n: usize) -> anyhow::Result<()> {
    for i in 1..=n {
        sandbox
            .mutate(Mutation::new(
                Provider::Vultr,
                SbKind::Instance,
                format!("bulk-vm-{i:06}"),
                Change::SetTags {
                    tags: vec!["resynced".into()],
                },
            ))
            .with_context(|| format!("changing bulk-vm-{i:06}"))?;
    }
    Ok(())
}

/// Three syncs of a fresh fleet into `store`: initial, unchanged, 1% changed. `write_requests`
/// reads the backend's write-request counter (0 where there is none).
pub async fn run(
    total: usize,
    latency: Duration,
    store: Arc<dyn Store>,
    write_requests: impl Fn() -> u64,
) -> anyhow::Result<Resync> {
    let sandbox = fleet::sandbox(SandboxSetup {
        latency,
        published_limits: false,
        pending_polls: 0,
    })
    .await?;
    let spread = fleet::seed(&sandbox, total)?;
    let config = fleet::config(&sandbox.url(), Vec::new());
    let docks = fleet::docks(&config, PollPolicy::fast()).await?;
    let opts = SyncOptions::default();
    sync(&config, &docks, store.as_ref(), &opts).await?;
    let w0 = write_requests();
    let (started, cpu_before) = (Instant::now(), memory::cpu_time());
    let unchanged = sync(&config, &docks, store.as_ref(), &opts).await?;
    let (unchanged_wall, unchanged_cpu) = (started.elapsed(), memory::cpu_time() - cpu_before);
    let w1 = write_requests();
    let changed = (total / 100).max(1);
    change(&sandbox, changed)?;
    let after = sync(&config, &docks, store.as_ref(), &opts).await?;
    let w2 = write_requests();
    sandbox.shutdown().await;
    Ok(Resync {
        unchanged_writes: unchanged.written(),
        changed,
        changed_writes: after.written(),
        unchanged_requests: w1 - w0,
        changed_requests: w2 - w1,
        unchanged_wall,
        unchanged_cpu,
        latency,
        listings: fleet::listings(&spread),
    })
}

pub fn rows(total: usize, r: &Resync) -> Vec<Row> {
    vec![
        Row::new(
            format!("resync-writes/unchanged/{total}"),
            r.unchanged_writes as f64,
            0.0,
            "writes",
        )
        .exact()
        .note("second sync of the same inventory")
        .counts(json!({ "resources": total })),
        Row::new(
            format!("resync-writes/1pct-changed/{total}"),
            r.changed_writes as f64,
            r.changed as f64,
            "writes",
        )
        .exact()
        .note(format!("{} records changed out of band", r.changed))
        .counts(json!({ "resources": total, "changed": r.changed })),
        wall_row(total, r),
    ]
}

/// The unchanged sync's wall time beside sync-wall's bound (no target of its own: the is
/// on the first sync, which writes everything).
fn wall_row(total: usize, r: &Resync) -> Row {
    let (bound, why) = bounds::sync_wall(&r.listings, r.latency);
    let cores = bounds::cores();
    let floor = bounds::cpu_floor(r.latency, r.unchanged_cpu, cores);
    Row::new(
        format!("resync-wall/unchanged/{total}"),
        ms(r.unchanged_wall),
        ms(bound),
        "ms",
    )
    .note(format!(
        "second sync, nothing written; bound: {why}; CPU {:.0} ms: on {cores} cores no schedule \
         of that work ends before {:.0} ms",
        ms(r.unchanged_cpu),
        ms(floor),
    ))
    .counts(json!({
        "resources": total,
        "latency_ms": r.latency.as_millis(),
        "cpu_ms": ms(r.unchanged_cpu),
        "cores": cores,
        "cpu_floor_ms": ms(floor),
    }))
}

/// The DynamoDB write-request rows (bound: 0, then ⌈changed / 25⌉).
pub fn dynamodb_rows(total: usize, r: &Resync) -> Vec<Row> {
    vec![
        Row::new(
            format!("resync-writes/dynamodb-unchanged/{total}"),
            r.unchanged_requests as f64,
            0.0,
            "requests",
        )
        .exact()
        .note("record UpdateItem calls of the second sync (plus 1 dock-status PutItem per dock)")
        .counts(json!({ "resources": total })),
        Row::new(
            format!("resync-writes/dynamodb-1pct-changed/{total}"),
            r.changed_requests as f64,
            r.changed as f64,
            "requests",
        )
        .exact()
        .note("one UpdateItem of the observed half per changed record (plus 1 dock-status PutItem per dock)")
        .counts(json!({ "resources": total, "changed": r.changed, "written": r.changed_writes })),
    ]
}
