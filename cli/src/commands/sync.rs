//! `stackdock sync` (with `[notify]`, also the plan, drift flags and notifications of the scheduled
//! sync), and the refresh that `plan`, `apply` and `drift` run first.

use stackdock_engine::{SyncOptions, SyncReport, sync};

use crate::args::Cli;
use crate::context::Session;
use crate::output;

pub async fn run(cli: &Cli) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    let notify = session.config.notify.clone();
    let before = match &notify {
        Some(_) => Some(super::notify::Before::read(&session).await?),
        None => None,
    };
    let report = session.refresh().await?;
    // With `[notify]`, a sync also plans and flags drift, as the scheduled sync does, and sends
    // what is new.
    if let (Some(n), Some(before)) = (&notify, before) {
        super::notify::after_sync(&session, n, before, &report).await?;
    }
    for d in &report.docks {
        match &d.error {
            None => println!(
                "{}: {} listed, {} written, {} unchanged, {} newly missing",
                d.dock, d.listed, d.stats.written, d.stats.unchanged, d.stats.marked_missing
            ),
            Some(e) => println!("{}: FAILED: {e}", d.dock),
        }
    }
    Ok(if report.failed().next().is_some() {
        1
    } else {
        0
    })
}

/// Syncs every dock, reporting failures on stderr; the caller's plan blocks the failed docks.
pub async fn refresh(session: &Session) -> anyhow::Result<SyncReport> {
    let n = session.config.docks.len();
    output::progress(&format!(
        "Syncing {n} dock{}…",
        if n == 1 { "" } else { "s" }
    ));
    let opts = SyncOptions {
        actor: super::actor(),
        ..SyncOptions::default()
    };
    let report = sync(
        &session.config,
        &session.docks,
        session.store.as_ref(),
        &opts,
    )
    .await?;
    for d in report.failed() {
        eprintln!("warning: {}", d.error.as_deref().unwrap_or("sync failed"));
    }
    Ok(report)
}
