//! `[notify]` from the CLI: `stackdock notify test`, and the occurrences `stackdock sync` and
//! `stackdock apply` send (the scheduled sync's and the apply worker's job, for a fleet run from a
//! laptop's or CI's schedule).

use stackdock_core::config::Notify;
use stackdock_core::notify::Occurrence;
use stackdock_engine::DefaultResolver;
use stackdock_engine::notify::{self, Channel};

use crate::args::Cli;
use crate::context::Session;

/// `stackdock notify test`: a test message to every channel; exit 1 unless each took it.
pub async fn test(cli: &Cli) -> anyhow::Result<u8> {
    let config = crate::context::load_config(&cli.config)?;
    let Some(settings) = &config.notify else {
        anyhow::bail!(
            "{} has no `[notify]` table; add one with `webhook = {{ secret = \"…\" }}` or `sns = true`",
            cli.config.display()
        );
    };
    let (channels, problems) = channels(settings).await;
    let mut ok = problems.is_empty();
    for p in &problems {
        eprintln!("error: {p}");
    }
    for channel in &channels {
        let text = stackdock_core::notify::message(&config.settings.org, &[Occurrence::Test]);
        match channel.send(&text).await {
            Ok(()) => println!("{}: test message sent", channel.name()),
            Err(e) => {
                ok = false;
                eprintln!("error: {}: {e}", channel.name());
            }
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// The channels of `settings` from here: the webhook, and the SNS topic when
/// `STACKDOCK_NOTIFY_TOPIC_ARN` names it (the CLI publishes with the environment's AWS
/// credentials; without the variable, `sns = true` is a problem that says how to set it).
async fn channels(settings: &Notify) -> (Vec<Box<dyn Channel>>, Vec<String>) {
    let sns = if settings.sns {
        notify::Sns::from_env().await
    } else {
        None
    };
    notify::channels(settings, &DefaultResolver::new(), sns.as_ref()).await
}

/// What a sync's occurrences are measured against, read before it: the docks' statuses (a
/// failure is new when the dock did not fail before). New resources come from the sync itself
/// (`SyncStats::appeared`), as in the scheduled sync.
pub struct Before {
    statuses: Vec<stackdock_core::record::DockStatus>,
}

impl Before {
    pub async fn read(session: &Session) -> anyhow::Result<Before> {
        let org = &session.config.settings.org;
        let statuses = session.store.dock_statuses(org).await?;
        Ok(Before { statuses })
    }
}

/// After a sync: plans, writes the drift flags, and sends the new occurrences. A channel that
/// fails is a warning, never the command's failure.
pub async fn after_sync(
    session: &Session,
    settings: &Notify,
    before: Before,
    report: &stackdock_engine::SyncReport,
) -> anyhow::Result<()> {
    let config = &session.config;
    let org = &config.settings.org;
    let plan = stackdock_engine::plan_current(
        config,
        &session.docks,
        session.store.as_ref(),
        stackdock_engine::PlanOptions::default(),
    )
    .await?;
    let (_, mut occurrences) =
        stackdock_engine::record_drift_noting(&plan, config, session.store.as_ref()).await?;
    let after = session.store.dock_statuses(org).await?;
    occurrences.extend(notify::sync_occurrences(&before.statuses, &after));
    // Sending keeps only what `on` asks for.
    occurrences.extend(notify::appeared_occurrences(
        &plan,
        report,
        &std::collections::BTreeMap::new(),
    ));
    send(session, settings, occurrences).await;
    Ok(())
}

/// Sends `occurrences` to the channels of `settings`, warning about what could not be sent.
pub async fn send(session: &Session, settings: &Notify, occurrences: Vec<Occurrence>) {
    if occurrences.is_empty() {
        return;
    }
    let (channels, problems) = channels(settings).await;
    for p in problems {
        eprintln!("warning: notification not sent: {p}");
    }
    notify::send(
        &session.config.settings.org,
        settings,
        &channels,
        occurrences,
    )
    .await;
}
