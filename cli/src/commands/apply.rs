//! `stackdock apply`: a saved plan, or a fresh one after confirmation.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use stackdock_core::render;
use stackdock_engine::{ApplyOptions, apply};
use stackdock_store::{Outcome, RunStatus};

use crate::args::{ApplyArgs, Cli};
use crate::context::{self, Session};
use crate::output;

pub async fn run(cli: &Cli, args: &ApplyArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    session.refresh().await?;
    let config = &session.config;

    let reviewed = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the saved plan {}", path.display()))?;
            render::json::parse(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a StackDock plan: {e}", path.display()))?
        }
        None => {
            let plan = super::plan::current(&session).await?;
            print!(
                "{}",
                render::text::render(
                    &plan,
                    &render::text::TextOptions {
                        color: output::color(cli.no_color),
                        show_unmanaged: false,
                    }
                )
            );
            if !plan.has_changes() {
                return Ok(if plan.summary.error > 0 || plan.summary.blocked > 0 {
                    1
                } else {
                    0
                });
            }
            if !args.auto_approve {
                confirm(plan.summary.changes(), &config.settings.org)?;
            }
            plan
        }
    };

    let mut opts = ApplyOptions::new(
        format!("cli:{}:{}", super::host(), std::process::id()),
        super::actor(),
        context::config_dir(&session.config_path),
    );
    opts.ready_timeout = Duration::from_secs(args.ready_timeout);
    opts.lease_ttl = Duration::from_secs(args.lease_ttl);
    opts.progress = Some(Arc::new(|line: &str| output::progress(line)));
    let report = apply(
        &reviewed,
        config,
        &session.docks,
        session.store.as_ref(),
        &opts,
    )
    .await?;
    if let Some(settings) = &config.notify
        && let Some(failed) = stackdock_engine::notify::apply_occurrence(&report)
    {
        super::notify::send(&session, settings, vec![failed]).await;
    }

    let count = |o: Outcome| report.run.actions.iter().filter(|a| a.outcome == o).count();
    for a in report
        .run
        .actions
        .iter()
        .filter(|a| a.outcome != Outcome::Succeeded)
    {
        println!(
            "{} {} {}: {}",
            if a.outcome == Outcome::Failed {
                "FAILED"
            } else {
                "skipped"
            },
            a.action,
            a.target,
            a.message
        );
    }
    let done = report.run.status == RunStatus::Succeeded;
    println!(
        "Apply {}: {} succeeded, {} failed, {} skipped. Run {}.",
        if done {
            "complete"
        } else if count(Outcome::Failed) > 0 {
            "finished with failures"
        } else {
            "stopped before the end"
        },
        count(Outcome::Succeeded),
        count(Outcome::Failed),
        count(Outcome::Skipped),
        report.run.run_id
    );
    if let Some(error) = report.run.error.as_deref().filter(|_| !done) {
        println!("{error}");
    }
    delegation_notices(&session, &report).await;
    // A failed action, or a lost lease that kept actions from starting: not done.
    Ok(if done { 0 } else { 1 })
}

/// For each zone the apply touched that its provider still holds pending (Cloudflare waits for
/// the registrar to delegate the domain), the nameservers to set at the registrar.
async fn delegation_notices(session: &Session, report: &stackdock_engine::ApplyReport) {
    let org = &session.config.settings.org;
    let Ok(records) = session.store.inventory(org, None).await else {
        return;
    };
    let touched: Vec<&str> = report
        .run
        .actions
        .iter()
        .filter(|x| x.outcome == Outcome::Succeeded)
        .map(|x| x.target.as_str())
        .collect();
    for line in pending_zone_notices(&records, &touched) {
        println!("{line}");
    }
}

/// The notice of each pending zone with assigned nameservers that one of `targets` (the
/// addresses of succeeded actions) names: the zone itself, or a record in it
/// (`domain_records.<fqdn> <TYPE> <value>`, its fqdn the zone or below it).
fn pending_zone_notices(records: &[stackdock_core::Record], targets: &[&str]) -> Vec<String> {
    use stackdock_core::Kind;
    use stackdock_core::record::Attrs;
    let record_prefix = format!("{}.", Kind::DomainRecords.config_key());
    let mut out = Vec::new();
    for zone in records.iter().filter(|r| r.kind() == Kind::Domains) {
        let Attrs::Domains(a) = &zone.attrs else {
            continue;
        };
        let address = stackdock_core::config::address(Kind::Domains, &zone.name);
        let below = format!(".{}", zone.name);
        let touched = targets.iter().any(|t| {
            *t == address
                || t.strip_prefix(&record_prefix)
                    .and_then(|rest| rest.split(' ').next())
                    .is_some_and(|fqdn| fqdn == zone.name || fqdn.ends_with(&below))
        });
        if zone.status == "pending" && touched && !a.assigned_nameservers.is_empty() {
            out.push(format!(
                "Zone {} is pending: set its nameservers at the registrar to {}.",
                zone.name,
                a.assigned_nameservers.join(", ")
            ));
        }
    }
    out
}

/// Asks on the terminal; refuses when there is no terminal to ask.
fn confirm(changes: usize, org: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without confirmation: stdin is not a terminal; review the plan and pass --auto-approve, or apply a saved plan"
        );
    }
    print!(
        "\nApply {changes} change{} to org `{org}`? Only `yes` is accepted: ",
        if changes == 1 { "" } else { "s" }
    );
    std::io::stdout().flush().context("writing the prompt")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if answer.trim() != "yes" {
        bail!("apply cancelled: nothing was changed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use stackdock_core::record::Attrs;
    use stackdock_core::{Kind, ProviderKind, Record};

    use super::pending_zone_notices;

    fn zone(name: &str, status: &str, nameservers: &[&str]) -> Record {
        let mut r = Record::new(
            "acme",
            "acme/cf",
            ProviderKind::Cloudflare,
            Kind::Domains,
            name,
            name,
        );
        r.status = status.into();
        if let Attrs::Domains(a) = &mut r.attrs {
            a.assigned_nameservers = nameservers.iter().map(|s| (*s).to_owned()).collect();
        }
        r
    }

    #[test]
    fn only_pending_zones_the_apply_touched_are_named() {
        let ns = ["ada.ns.cloudflare.com", "rex.ns.cloudflare.com"];
        let records = [
            zone("shop.example", "pending", &ns),
            zone("blog.example", "active", &ns),
            zone("other.example", "pending", &ns),
            zone("noservers.example", "pending", &[]),
        ];
        let notices = |targets: &[&str]| pending_zone_notices(&records, targets);
        assert_eq!(
            notices(&["domains.shop.example"]),
            [
                "Zone shop.example is pending: set its nameservers at the registrar to ada.ns.cloudflare.com, rex.ns.cloudflare.com."
            ]
        );
        assert_eq!(
            notices(&["domain_records.www.shop.example A 203.0.113.10"]).len(),
            1
        );
        // A record elsewhere whose value names the zone, or a zone whose name ends alike, is not
        // the zone's.
        assert!(notices(&["domain_records.www.blog.example CNAME shop.example"]).is_empty());
        assert!(notices(&["domain_records.myother.example A 203.0.113.10"]).is_empty());
        assert!(notices(&["domains.blog.example", "domains.noservers.example"]).is_empty());
    }
}
