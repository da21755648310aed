//! `stackdock server reboot|power-on|power-off ADDRESS`: one power action on a managed server,
//! under the apply lease and recorded as an apply run (the engine's `power`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;
use stackdock_engine::{ApplyOptions, power};
use stackdock_providers::PowerAction;

use crate::args::{Cli, ListFormat, ServerArgs, ServerCommand};
use crate::context::{self, Session};
use crate::output;

pub async fn run(cli: &Cli, command: &ServerCommand) -> anyhow::Result<u8> {
    let (action, args) = match command {
        ServerCommand::Reboot(args) => (PowerAction::Reboot, args),
        ServerCommand::PowerOn(args) => (PowerAction::On, args),
        ServerCommand::PowerOff(args) => (PowerAction::Off, args),
    };
    run_action(cli, action, args).await
}

async fn run_action(cli: &Cli, action: PowerAction, args: &ServerArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    let mut opts = ApplyOptions::new(
        format!("cli:{}:{}", super::host(), std::process::id()),
        super::actor(),
        context::config_dir(&session.config_path),
    );
    opts.ready_timeout = Duration::from_secs(args.ready_timeout);
    opts.progress = Some(Arc::new(|line: &str| output::progress(line)));
    let report = power(
        &session.config,
        &session.docks,
        session.store.as_ref(),
        &args.address,
        action,
        &opts,
    )
    .await?;
    let result = report.run.actions.first();
    let message = result.map_or("", |a| a.message.as_str());
    match args.format {
        ListFormat::Json => {
            let value = json!({
                "address": args.address,
                "action": action.as_str(),
                "outcome": result.map(|a| a.outcome),
                "message": message,
                "sent": report.sent,
                "status": report.record.as_ref().map(|r| r.status.as_str()),
                "providerResourceId": result.and_then(|a| a.provider_id.as_deref()),
                "runId": report.run.run_id,
                "note": report.note,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("rendering the result")?
            );
        }
        ListFormat::Text => {
            let status = report
                .record
                .as_ref()
                .map(|r| format!(" (now {})", r.status))
                .unwrap_or_default();
            if report.failed() {
                println!(
                    "FAILED {action} {}: {message}. Run {}.",
                    args.address, report.run.run_id
                );
            } else {
                println!(
                    "{}: {message}{status}. Run {}.",
                    args.address, report.run.run_id
                );
            }
            if let Some(note) = &report.note {
                println!("note: {note}");
            }
        }
    }
    Ok(if report.failed() { 1 } else { 0 })
}
