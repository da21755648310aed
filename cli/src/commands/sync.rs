//! `stackdock sync`, and the refresh that `plan`, `apply` and `drift` run first.

use stackdock_core::config::Config;
use stackdock_engine::{Docks, SyncOptions, SyncReport, sync};
use stackdock_store::Store;

use crate::args::Cli;
use crate::{context, output};

pub async fn run(cli: &Cli) -> anyhow::Result<u8> {
    let config = context::load_config(&cli.config)?;
    let store = context::open_store(&cli.store)?;
    let docks = context::docks(&config).await;
    let report = refresh(&config, &docks, store.as_ref()).await?;
    for d in &report.docks {
        match &d.error {
            None => println!(
                "{}: {} listed, {} written, {} unchanged, {} newly missing",
                d.dock, d.listed, d.stats.written, d.stats.unchanged, d.stats.marked_missing
            ),
            Some(e) => println!("{}: FAILED: {e}", d.dock),
        }
    }
    Ok(if report.failed().next().is_some() { 1 } else { 0 })
}

/// Syncs every dock, reporting failures on stderr; the caller's plan blocks the failed docks.
pub async fn refresh(config: &Config, docks: &Docks, store: &dyn Store) -> anyhow::Result<SyncReport> {
    output::progress(&format!("Syncing {} dock{}…", config.docks.len(), if config.docks.len() == 1 { "" } else { "s" }));
    let opts = SyncOptions { actor: super::actor(), ..SyncOptions::default() };
    let report = sync(config, docks, store, &opts).await?;
    for d in report.failed() {
        eprintln!("warning: {}", d.error.as_deref().unwrap_or("sync failed"));
    }
    Ok(report)
}
