//! `stackdock tables create`: create the DynamoDB tables of `--store dynamodb://PREFIX` (local use:
//! moto, a developer account; production tables come from the SAM template).

use anyhow::{Context as _, bail};

use crate::args::{Cli, TablesArgs, TablesCommand};
use crate::context;

pub async fn run(cli: &Cli, args: &TablesArgs) -> anyhow::Result<u8> {
    match args.command {
        TablesCommand::Create => create(cli).await,
    }
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
