//! One module per command; `run` dispatches and returns the exit code.

mod apply;
mod catalog;
mod demo;
mod docks;
mod import;
mod inventory;
mod notify;
mod plan;
mod report;
mod runs;
mod sandbox;
mod server;
mod sync;
mod tables;
mod unlock;

pub use sync::refresh;

use anyhow::Context as _;

use crate::args::{Cli, Command, NotifyCommand};
use crate::context;

/// Runs the command; `Ok(code)` is the process exit code (0, or 2 for changes present).
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Validate(args) => validate(&cli, args),
        Command::Schema => {
            let schema = stackdock_core::config::json_schema::json_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).context("rendering the schema")?
            );
            Ok(0)
        }
        Command::Plan(args) => plan::run(&cli, args).await,
        Command::Apply(args) => apply::run(&cli, args).await,
        Command::Sync => sync::run(&cli).await,
        Command::Inventory(args) => inventory::run(&cli, args).await,
        Command::Import(args) => import::run(&cli, args).await,
        Command::Report(args) => report::run(&cli, args).await,
        Command::Notify(NotifyCommand::Test) => notify::test(&cli).await,
        Command::Drift(args) => plan::drift(&cli, args).await,
        Command::Server(command) => server::run(&cli, command).await,
        Command::Unlock(args) => unlock::run(&cli, args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Demo(args) => demo::run(&cli, args).await,
        Command::Tables(args) => tables::run(&cli, args).await,
        Command::Runs(args) => runs::run(&cli, args).await,
        Command::Docks(args) => docks::run(&cli, args).await,
        Command::Catalog(args) => catalog::run(&cli, args).await,
    }
}

fn validate(cli: &Cli, args: &crate::args::ValidateArgs) -> anyhow::Result<u8> {
    let config = match args.target {
        None => context::load_config(&cli.config)?,
        Some(crate::args::Target::Lambda) => {
            let target = stackdock_core::config::LambdaTarget::new(
                &args.secret_prefix,
                &args.allow_endpoints,
            )
            .map_err(anyhow::Error::msg)?;
            context::load_config_for(&cli.config, &target)?
        }
    };
    println!(
        "{} is valid{}: org `{}`, {} dock{}, {} resource{}",
        cli.config.display(),
        if args.target.is_some() {
            " for the Lambda target"
        } else {
            ""
        },
        config.settings.org,
        config.docks.len(),
        if config.docks.len() == 1 { "" } else { "s" },
        config.resources.len(),
        if config.resources.len() == 1 { "" } else { "s" },
    );
    Ok(0)
}

/// The user and host, recorded as the actor of runs.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{}", host())
}

fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
