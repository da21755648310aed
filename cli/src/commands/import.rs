//! `stackdock import`: the plan's unmanaged resources as `stackdock.toml` entries, printed or
//! appended to a file (see `stackdock_core::import`).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, bail};
use stackdock_core::plan::ActionKind;
use stackdock_core::record::dock_id;
use stackdock_core::{Kind, import};

use crate::args::{Cli, ImportArgs};
use crate::commands::plan::{current, write_atomically};
use crate::context::{self, Session};

pub async fn run(cli: &Cli, args: &ImportArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    let config = &session.config;
    let kind = context::kind_and_dock(config, args.kind.as_deref(), args.dock.as_deref())?;
    let name = args.name.as_deref().map(glob).transpose()?;
    if !args.no_refresh {
        session.refresh().await?;
    }
    let plan = current(&session).await?;
    for blocked in plan.of_kind(ActionKind::Blocked) {
        eprintln!(
            "warning: nothing imported from dock `{}`: {}",
            blocked.dock, blocked.reason
        );
    }
    // What the plan reports unmanaged and in no entry: the resources that nothing adopts.
    let unmanaged: BTreeSet<(&str, Kind, &str)> = plan
        .of_kind(ActionKind::Unmanaged)
        .filter(|a| a.address.is_none())
        .filter_map(|a| Some((a.dock.as_str(), a.kind?, a.provider_id.as_deref()?)))
        .collect();
    let org = &config.settings.org;
    let records = session.store.inventory(org, None).await?;
    let mut chosen = Vec::new();
    for dock in config.docks.keys() {
        let id = dock_id(org, dock);
        if args.dock.as_ref().is_some_and(|d| d != dock) {
            continue;
        }
        for r in records.iter().filter(|r| r.dock_id == id) {
            if unmanaged.contains(&(dock.as_str(), r.kind(), r.provider_resource_id.as_str()))
                && kind.is_none_or(|k| r.kind() == k)
                && name.as_ref().is_none_or(|n| n.is_match(&r.name))
            {
                chosen.push((dock.as_str(), r));
            }
        }
    }
    // The servers the file manages, on any dock: volumes attach to them and DNS records follow
    // them by entry name (import writes nothing for them).
    for r in &records {
        let dock = config.docks.keys().find(|d| dock_id(org, d) == r.dock_id);
        if let (Some(dock), Kind::Servers, Some(_)) = (dock, r.kind(), &r.managed_by) {
            chosen.push((dock.as_str(), r));
        }
    }
    let imported = import::entries(config, &chosen);
    for s in &imported.skipped {
        eprintln!(
            "skipped {} `{}` ({}) on dock `{}`: {}",
            s.kind.noun(),
            s.name,
            s.id,
            s.dock,
            s.reason
        );
    }
    if imported.entries.is_empty() {
        eprintln!("Nothing to import: no unmanaged resource matches.");
        return Ok(0);
    }
    let header = format!(
        "# Imported by `stackdock import` at {} from the inventory synced at {}.\n",
        jiff::Timestamp::now().round(jiff::Unit::Second)?,
        last_sync(&session).await?
    );
    let text = format!("{header}{}", imported.toml);
    // The entries must read back as a valid file together with the config they join: nothing is
    // written otherwise.
    let with_config = format!("{}\n{text}", std::fs::read_to_string(&cli.config)?);
    if let Err(d) = stackdock_core::config::parse(&cli.config.display().to_string(), &with_config) {
        bail!(
            "the imported entries do not validate with {}; nothing written:\n{d}",
            cli.config.display()
        );
    }
    match &args.out {
        Some(out) => {
            let before = existing(out)?;
            let sep = if before.is_empty() || before.ends_with("\n\n") {
                ""
            } else if before.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            write_atomically(out, &format!("{before}{sep}{text}"))?;
            eprintln!(
                "Appended {} entr{} to {}; `stackdock plan` shows {} as adopt.",
                imported.entries.len(),
                if imported.entries.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                out.display(),
                if imported.entries.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            );
        }
        None => print!("{text}"),
    }
    let renamed = imported
        .entries
        .iter()
        .filter(|e| e.renamed_from.is_some())
        .count();
    if renamed > 0 {
        eprintln!(
            "{renamed} entr{} had to be named apart from the provider's label: the plan renames them (see the comments).",
            if renamed == 1 { "y" } else { "ies" }
        );
    }
    Ok(0)
}

/// The file's text, or nothing for a file that does not exist yet.
fn existing(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// When the oldest of the docks' last complete syncs was: every entry is at least that fresh.
async fn last_sync(session: &Session) -> anyhow::Result<String> {
    let statuses = session
        .store
        .dock_statuses(&session.config.settings.org)
        .await?;
    Ok(statuses
        .iter()
        .filter_map(|s| s.last_sync_at)
        .min()
        .map_or_else(
            || "(never)".to_owned(),
            |t| t.round(jiff::Unit::Second).unwrap_or(t).to_string(),
        ))
}

/// `--name`: a shell-style pattern (`*` any run of characters, `?` one) over the whole label.
fn glob(pattern: &str) -> anyhow::Result<regex_lite::Regex> {
    let mut re = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex_lite::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex_lite::Regex::new(&re)
        .with_context(|| format!("`--name {pattern}` is not a valid pattern"))
}
