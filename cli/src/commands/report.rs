//! `stackdock report`: the fleet as one self-contained HTML page (`stackdock_core::render::html`).

use crate::args::{Cli, ReportArgs};
use crate::commands::plan::{current, write_atomically};
use crate::context::Session;

pub async fn run(cli: &Cli, args: &ReportArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    if !args.no_refresh {
        session.refresh().await?;
    }
    // Planning writes the drift flags the report marks.
    current(&session).await?;
    let org = &session.config.settings.org;
    let records = session.store.inventory(org, None).await?;
    let statuses = session.store.dock_statuses(org).await?;
    let generated_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)?
        .to_string();
    let page =
        stackdock_core::render::html::report(&stackdock_core::render::html::ReportInput::new(
            &session.config,
            &generated_at,
            &statuses,
            &records,
        ));
    match &args.out {
        Some(out) => {
            write_atomically(out, &page)?;
            eprintln!(
                "Wrote the fleet report ({} resources) to {}",
                records.len(),
                out.display()
            );
        }
        None => print!("{page}"),
    }
    Ok(0)
}
