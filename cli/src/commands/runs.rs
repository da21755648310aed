//! `stackdock runs`: the audit log, newest first (`Store::runs_page`), or one run whole.

use anyhow::{Context as _, bail};
use stackdock_store::{RunKind, RunRecord, RunsRequest};

use crate::args::{Cli, ListFormat, RunKindArg, RunsArgs};
use crate::context;

pub async fn run(cli: &Cli, args: &RunsArgs) -> anyhow::Result<u8> {
    let config = context::load_config(&cli.config)?;
    let org = &config.settings.org;
    let store = context::open_store(&cli.store).await?;
    if let Some(id) = &args.run_id {
        let Some(run) = store.get_run(org, id).await? else {
            bail!("no run `{id}` in org `{org}`; `stackdock runs` lists the recent ones");
        };
        match args.format {
            ListFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&run).context("rendering the run")?
            ),
            ListFormat::Text => print_run(&run),
        }
        return Ok(0);
    }
    if args.limit == 0 {
        bail!("`--limit 0` lists nothing; give at least 1");
    }
    let page = store
        .runs_page(
            org,
            &RunsRequest {
                kind: args.kind.map(kind),
                after: None,
                limit: args.limit,
            },
        )
        .await?;
    match args.format {
        ListFormat::Json => {
            let headers: Vec<serde_json::Value> = page
                .runs
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    if let Some(fields) = v.as_object_mut() {
                        fields.remove("actions");
                        fields.remove("log");
                    }
                    v
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&headers).context("rendering the runs")?
            );
        }
        ListFormat::Text => {
            let rows: Vec<[String; 6]> = page
                .runs
                .iter()
                .map(|r| {
                    [
                        r.run_id.clone(),
                        r.kind.as_str().to_owned(),
                        status(r),
                        r.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        took(r),
                        r.actor.clone(),
                    ]
                })
                .collect();
            crate::output::print_table(
                ["RUN", "KIND", "STATUS", "STARTED (UTC)", "TOOK", "ACTOR"],
                &rows,
            );
            if page.next.is_some() {
                println!(
                    "the {} newest; older runs: `stackdock runs --limit {}`",
                    rows.len(),
                    args.limit * 2
                );
            }
            println!("`stackdock runs <RUN>` shows a run's actions and log");
        }
    }
    Ok(0)
}

fn kind(arg: RunKindArg) -> RunKind {
    match arg {
        RunKindArg::Sync => RunKind::Sync,
        RunKindArg::Plan => RunKind::Plan,
        RunKindArg::Apply => RunKind::Apply,
        RunKindArg::Unlock => RunKind::Unlock,
    }
}

fn status(run: &RunRecord) -> String {
    serde_json::to_value(run.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn took(run: &RunRecord) -> String {
    match run.finished_at {
        Some(end) => {
            let secs = end.duration_since(run.started_at).as_secs_f64();
            if secs < 60.0 {
                format!("{secs:.1}s")
            } else {
                format!("{}m{:02}s", (secs / 60.0) as u64, (secs % 60.0) as u64)
            }
        }
        None => "-".to_owned(),
    }
}

fn print_run(run: &RunRecord) {
    println!("run      {}", run.run_id);
    println!("kind     {}", run.kind.as_str());
    println!("status   {}", status(run));
    println!("actor    {}", run.actor);
    println!("started  {}", run.started_at);
    if let Some(end) = run.finished_at {
        println!("finished {end} (took {})", took(run));
    }
    if let Some(digest) = &run.plan_digest {
        println!("plan     {digest}");
    }
    if let Some(error) = &run.error {
        println!("error    {error}");
    }
    if !run.actions.is_empty() {
        println!();
        let rows: Vec<[String; 5]> = run
            .actions
            .iter()
            .map(|a| {
                [
                    a.at.strftime("%H:%M:%S").to_string(),
                    a.action.clone(),
                    a.target.clone(),
                    format!("{:?}", a.outcome).to_lowercase(),
                    a.message.clone(),
                ]
            })
            .collect();
        crate::output::print_table(["AT", "ACTION", "TARGET", "OUTCOME", "MESSAGE"], &rows);
    }
    if !run.log.is_empty() {
        println!();
        for line in &run.log {
            println!("{}  {}", line.at.strftime("%H:%M:%S"), line.message);
        }
    }
}
