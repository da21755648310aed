//! memory: peak resident memory of a 10,000-resource sync, measured in a child process that syncs
//! from the parent's sandbox into an on-disk SQLite store (so the figure is the engine's, not the
//! sandbox's or an in-memory database's). Target: ≤ 128 MB (the smallest sensible Lambda).

use serde::{Deserialize, Serialize};
use serde_json::json;
use stackdock_engine::{SyncOptions, sync};
use stackdock_providers::wait::PollPolicy;
use stackdock_store::sqlite::SqliteStore;

use crate::fleet;
use crate::report::Row;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MemoryFigures {
    pub resources: usize,
    /// Peak before any work: the runtime and the binary (the floor no sync can go under).
    pub baseline_mib: f64,
    pub peak_mib: f64,
    pub listed: usize,
}

/// In the child: one complete sync of the sandbox at `base`.
pub async fn measure(base: &str, resources: usize) -> anyhow::Result<MemoryFigures> {
    let baseline_mib = crate::memory::peak_rss_mib().unwrap_or(f64::NAN);
    let path = std::env::temp_dir().join(format!("stackdock-bench-{}.db", std::process::id()));
    let store = SqliteStore::open(&path)?;
    let config = fleet::config(base, Vec::new());
    let docks = fleet::docks(&config, PollPolicy::fast()).await?;
    let report = sync(&config, &docks, &store, &SyncOptions::default()).await?;
    let peak_mib = crate::memory::peak_rss_mib().unwrap_or(f64::NAN);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    anyhow::ensure!(report.failed().next().is_none(), "a dock failed to sync");
    Ok(MemoryFigures {
        resources,
        baseline_mib,
        peak_mib,
        listed: report.docks.iter().map(|d| d.listed).sum(),
    })
}

pub fn row(f: &MemoryFigures) -> Row {
    Row::new(
        format!("memory/sync/{}", f.resources),
        f.peak_mib,
        f.baseline_mib,
        "MiB",
    )
    .measured_at_most(128.0)
    .note("peak RSS of the sync; bound column = the process before any work")
    .counts(json!({ "listed": f.listed, "baseline_mib": f.baseline_mib, "peak_mib": f.peak_mib }))
}
