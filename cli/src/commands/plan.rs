//! `stackdock plan` and `stackdock drift`.

use std::path::Path;

use anyhow::Context as _;
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::render;
use stackdock_engine::{PlanOptions, plan_current, record_drift};

use crate::args::{Cli, DriftArgs, PlanArgs, PlanFormat};
use crate::context::Session;
use crate::output;

pub async fn run(cli: &Cli, args: &PlanArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    if !args.no_refresh {
        session.refresh().await?;
    }
    let plan = current(&session).await?;
    match args.format {
        PlanFormat::Text => print!(
            "{}",
            render::text::render(
                &plan,
                &render::text::TextOptions {
                    color: output::color(cli.no_color),
                    show_unmanaged: args.show_unmanaged,
                }
            )
        ),
        PlanFormat::Json => println!("{}", render::json::render(&plan)),
        PlanFormat::Markdown => print!("{}", render::markdown::render(&plan)),
    }
    if let Some(out) = &args.out {
        write_atomically(out, &render::json::render(&plan))?;
        eprintln!(
            "Saved the plan to {}; apply it with `stackdock apply {}`",
            out.display(),
            out.display()
        );
    }
    Ok(exit_code(&plan, args.detailed_exitcode))
}

/// 1 when the plan is incomplete (errors, blocked docks), else 2 for changes with
/// `--detailed-exitcode`, else 0.
fn exit_code(plan: &Plan, detailed: bool) -> u8 {
    if plan.summary.error > 0 || plan.summary.blocked > 0 {
        eprintln!(
            "error: the plan is incomplete: {} error{}, {} blocked dock{}",
            plan.summary.error,
            if plan.summary.error == 1 { "" } else { "s" },
            plan.summary.blocked,
            if plan.summary.blocked == 1 { "" } else { "s" }
        );
        return 1;
    }
    if detailed && plan.has_changes() { 2 } else { 0 }
}

pub async fn drift(cli: &Cli, args: &DriftArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    if !args.no_refresh {
        session.refresh().await?;
    }
    let plan = current(&session).await?;
    let drift: Vec<_> = plan.of_kind(ActionKind::Drift).collect();
    for a in plan.of_kind(ActionKind::Blocked) {
        eprintln!("warning: {}", a.reason);
    }
    if drift.is_empty() {
        println!("No drift: every managed resource matches what StackDock last applied.");
        return Ok(0);
    }
    for a in &drift {
        println!(
            "! {} ({} on {}, {})",
            a.address.as_deref().unwrap_or("?"),
            a.name.as_deref().unwrap_or("?"),
            a.dock,
            a.provider_id.as_deref().unwrap_or("?")
        );
        for c in &a.changes {
            let show = |v: &Option<stackdock_core::FieldValue>| {
                v.as_ref().map_or("(none)".to_owned(), ToString::to_string)
            };
            println!(
                "    {}: applied {} -> now {}",
                c.field,
                show(&c.before),
                show(&c.after)
            );
        }
    }
    println!(
        "Drift: {} resource{} changed outside StackDock. `stackdock apply` restores stackdock.toml.",
        drift.len(),
        if drift.len() == 1 { "" } else { "s" }
    );
    Ok(if args.detailed_exitcode { 2 } else { 0 })
}

/// The current plan, with its drift written onto the records.
pub(crate) async fn current(session: &Session) -> anyhow::Result<Plan> {
    let plan = plan_current(
        &session.config,
        &session.docks,
        session.store.as_ref(),
        PlanOptions::default(),
    )
    .await?;
    record_drift(&plan, &session.config, session.store.as_ref()).await?;
    Ok(plan)
}

/// Writes a file so that a crash never leaves half of it.
pub(crate) fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))
}
