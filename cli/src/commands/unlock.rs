//! `stackdock unlock --force`: release the lease of a dead apply, written to the run log.

use anyhow::bail;
use jiff::Timestamp;
use stackdock_engine::lease_name;
use stackdock_store::{RunKind, RunRecord, RunStatus};

use crate::args::{Cli, UnlockArgs};
use crate::context;

pub async fn run(cli: &Cli, args: &UnlockArgs) -> anyhow::Result<u8> {
    if !args.force {
        bail!(
            "`stackdock unlock` needs --force: releasing a live apply's lease lets two applies run at once; check that the holder is dead first"
        );
    }
    let config = context::load_config(&cli.config)?;
    let store = context::open_store(&cli.store).await?;
    let org = &config.settings.org;
    let now = Timestamp::now();
    let released = store.force_release(&lease_name(org)).await?;
    let mut run = RunRecord::new(
        format!("unlock-{}", now.as_millisecond()),
        org,
        RunKind::Unlock,
        super::actor(),
        now,
    );
    let message = match &released {
        Some(l) => format!(
            "force-released the apply lease held by {} (acquired {}, expiring {})",
            l.owner, l.acquired_at, l.expires_at
        ),
        None => "no apply lease was held; nothing released".to_owned(),
    };
    run.log(now, &message);
    run.status = RunStatus::Succeeded;
    run.finished_at = Some(Timestamp::now());
    store.put_run(&run).await?;
    println!("{message}");
    Ok(0)
}
