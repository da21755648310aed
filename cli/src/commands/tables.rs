//! `stackdock tables create`: create the DynamoDB tables of `--store dynamodb://PREFIX` (local use:
//! moto, a developer account; production tables come from the SAM template). `stackdock tables
//! upgrade`: bring items written by an earlier version up to this one.

use anyhow::{Context as _, bail};

use crate::args::{Cli, TablesArgs, TablesCommand};
use crate::context;

pub async fn run(cli: &Cli, args: &TablesArgs) -> anyhow::Result<u8> {
    match args.command {
        TablesCommand::Create => create(cli).await,
        TablesCommand::Upgrade => upgrade(cli).await,
    }
}

async fn upgrade(cli: &Cli) -> anyhow::Result<u8> {
    let Some(prefix) = cli.store.strip_prefix("dynamodb://") else {
        bail!(
            "`stackdock tables upgrade` upgrades DynamoDB tables, but --store is `{}`; pass \
             --store dynamodb://PREFIX (a SQLite store migrates itself when opened)",
            cli.store
        );
    };
    let config = context::load_config(&cli.config)?;
    let org = &config.settings.org;
    let store = context::open_dynamodb(prefix).await?;
    let indexed = store.index_runs(org).await.with_context(|| {
        format!(
            "cannot index the runs of org `{org}` in dynamodb://{prefix} (deploy the template \
             with the runs table's orgId-startedKey-index first)"
        )
    })?;
    println!("indexed {indexed} run(s) of org `{org}` recorded before the runs index");
    Ok(0)
}

async fn create(cli: &Cli) -> anyhow::Result<u8> {
    let Some(prefix) = cli.store.strip_prefix("dynamodb://") else {
        bail!(
            "`stackdock tables create` creates DynamoDB tables, but --store is `{}`; pass \
             --store dynamodb://PREFIX (a SQLite store creates its tables itself)",
            cli.store
        );
    };
    let store = context::open_dynamodb(prefix).await?;
    let names = store
        .create_tables()
        .await
        .with_context(|| format!("cannot create the tables of dynamodb://{prefix}"))?;
    for name in names {
        println!("{name}");
    }
    Ok(0)
}
