//! `stackdock docks`: every dock with its provider, the account its credential belongs to (name,
//! email, balance, limits, as the provider reports them), its last sync and what the store holds
//! of it. `stackdock docks test [DOCK]`: checks each credential without syncing and tells a
//! rejected token apart from a provider or network failure.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use stackdock_core::record::dock_id;
use stackdock_providers::{AccountInfo, ErrorClass, ProviderError};

use crate::args::{Cli, DocksArgs, DocksCommand, ListFormat};
use crate::context::Session;

pub async fn run(cli: &Cli, args: &DocksArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    match &args.command {
        Some(DocksCommand::Test { dock }) => test(&session, dock.as_deref()).await,
        None => list(&session, args.format).await,
    }
}

/// What a dock's account read or credential check came to, as one line.
fn outcome(e: &ProviderError) -> String {
    match e.class {
        ErrorClass::Unauthorized => format!(
            "token rejected ({}): check the token the dock's `credentials` name, its scopes, and that it is not expired or revoked",
            e.message
        ),
        ErrorClass::Transient | ErrorClass::RateLimited => format!(
            "provider unreachable or failing ({}: {}); not a credential problem, try again later",
            e.route, e.message
        ),
        _ => e.to_string(),
    }
}

/// The adapter of dock `name`, or why there is none (its credential could not be read).
fn adapter<'s>(
    session: &'s Session,
    name: &str,
) -> Result<&'s std::sync::Arc<dyn stackdock_providers::Provider>, String> {
    match (
        session.docks.providers.get(name),
        session.docks.failures.get(name),
    ) {
        (_, Some(failure)) => Err(format!("credential not available: {failure}")),
        (Some(provider), None) => Ok(provider),
        (None, None) => Err("no adapter was built for it".to_owned()),
    }
}

async fn test(session: &Session, only: Option<&str>) -> anyhow::Result<u8> {
    let names: Vec<&String> = match only {
        Some(name) => match session.config.docks.get_key_value(name) {
            Some((n, _)) => vec![n],
            None => bail!(
                "no dock `{name}` in {}; its docks are {}",
                session.config_path.display(),
                session
                    .config
                    .docks
                    .keys()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        None => session.config.docks.keys().collect(),
    };
    let mut failed = 0;
    for name in names {
        let line = match adapter(session, name) {
            Err(why) => Err(why),
            Ok(provider) => match provider.check_credentials().await {
                Ok(()) => Ok("ok: the provider accepted the token".to_owned()),
                Err(e) => Err(outcome(&e)),
            },
        };
        match line {
            Ok(text) => println!("{name}: {text}"),
            Err(text) => {
                failed += 1;
                println!("{name}: {text}");
            }
        }
    }
    Ok(u8::from(failed > 0))
}

async fn list(session: &Session, format: ListFormat) -> anyhow::Result<u8> {
    let org = &session.config.settings.org;
    let statuses: BTreeMap<String, _> = session
        .store
        .dock_statuses(org)
        .await
        .context("reading the docks' sync statuses")?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut docks = Vec::new();
    for (name, dock) in &session.config.docks {
        let account: Result<AccountInfo, String> = match adapter(session, name) {
            Err(why) => Err(why),
            Ok(provider) => provider.account_info().await.map_err(|e| outcome(&e)),
        };
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for record in session
            .store
            .inventory(org, Some(&dock_id(org, name)))
            .await
            .with_context(|| format!("reading the inventory of dock `{name}`"))?
        {
            if record.missing_since.is_none() {
                *counts.entry(record.kind().config_key()).or_default() += 1;
            }
        }
        let status = statuses.get(name);
        docks.push(json!({
            "dock": name,
            "provider": dock.provider.as_str(),
            "account": account.as_ref().ok(),
            "accountError": account.as_ref().err(),
            "lastSyncAt": status.and_then(|s| s.last_sync_at).map(|t| t.to_string()),
            "lastAttemptAt": status.and_then(|s| s.last_attempt_at).map(|t| t.to_string()),
            "lastError": status.and_then(|s| s.last_error.clone()),
            "resources": counts,
        }));
    }
    match format {
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&docks).context("rendering the docks")?
        ),
        ListFormat::Text => print_text(&docks),
    }
    Ok(0)
}

fn print_text(docks: &[Value]) {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let rows: Vec<[String; 6]> = docks
        .iter()
        .map(|d| {
            let account: Option<AccountInfo> = serde_json::from_value(d["account"].clone()).ok();
            let who = match (&account, text(&d["accountError"])) {
                // An API token that names no one (Cloudflare) still reports its status.
                (Some(a), _) => a.who().unwrap_or_else(|| match &a.status {
                    Some(status) => format!("(no name reported; token {status})"),
                    None => "(the provider reports no name)".into(),
                }),
                (None, Some(e)) => e,
                (None, None) => "-".into(),
            };
            let money = account
                .as_ref()
                .map(|a| match (a.balance_usd, a.pending_usd) {
                    (Some(b), Some(p)) => format!("{b:.2} USD (+{p:.2} pending)"),
                    (Some(b), None) => format!("{b:.2} USD"),
                    (None, Some(p)) => format!("{p:.2} USD pending"),
                    (None, None) => "-".into(),
                })
                .unwrap_or_else(|| "-".into());
            let limits = account
                .as_ref()
                .filter(|a| !a.limits.is_empty())
                .map(|a| {
                    a.limits
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "-".into());
            let sync = match (text(&d["lastError"]), text(&d["lastSyncAt"])) {
                (Some(e), _) => format!("failed: {e}"),
                (None, Some(at)) => format!("ok {at}"),
                (None, None) => "never".into(),
            };
            let resources = d["resources"]
                .as_object()
                .filter(|m| !m.is_empty())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "-".into());
            [
                text(&d["dock"]).unwrap_or_default(),
                text(&d["provider"]).unwrap_or_default(),
                who,
                money,
                limits,
                format!("{sync}; {resources}"),
            ]
        })
        .collect();
    crate::output::print_table(
        [
            "DOCK",
            "PROVIDER",
            "ACCOUNT",
            "BALANCE",
            "LIMITS",
            "LAST SYNC; RESOURCES",
        ],
        &rows,
    );
}
