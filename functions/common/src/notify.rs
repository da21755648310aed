//! `[notify]` from the functions: the sync's plan step (the state machine's, or the one-invocation
//! sync's) sends the new drift, resolved drift, newly appeared unmanaged resources and new dock
//! failures and recoveries; the apply worker sends a failed apply. Channels: the stack's SNS topic
//! (`STACKDOCK_NOTIFY_TOPIC_ARN`, set by the template on the functions that send) and the
//! webhook, its URL read from Secrets Manager when there is something to send.
//!
//! # Once per new occurrence
//! Each occurrence is derived from a change of state the step has just written (a record's drift
//! flags, the run's per-dock outcomes against the previous settled sync run's, a record the store
//! had never held), so an unchanged re-sync sends nothing. A retried plan step finds its run
//! noted ([`NOTIFIED_LINE`]) and sends nothing again. A channel that fails or hangs is a warning,
//! never the step's failure.

use std::collections::BTreeMap;

use stackdock_core::config::Config;
use stackdock_core::notify::Occurrence;
use stackdock_core::plan::Plan;
use stackdock_engine::notify::{self, Sns};
use stackdock_engine::{DefaultResolver, SecretsManagerResolver, SyncReport};

use crate::Deps;

/// How the run-log line of a sync's notifications starts.
pub const NOTIFIED_LINE: &str = "notifications: ";

/// Where this function's messages go.
#[derive(Debug, Default)]
pub struct Notifier {
    sns: Option<Sns>,
    resolver: DefaultResolver,
}

impl Notifier {
    /// Publishes to `sns` (`None`: `sns = true` is logged as unset) and reads the webhook's URL
    /// through `resolver`.
    pub fn new(sns: Option<Sns>, resolver: DefaultResolver) -> Notifier {
        Notifier { sns, resolver }
    }

    /// The deployed function's: the topic of `STACKDOCK_NOTIFY_TOPIC_ARN` and Secrets Manager,
    /// through clients of `sdk`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Notifier {
        Notifier::new(
            Sns::from_lookup(sdk, |name| std::env::var(name).ok()),
            DefaultResolver::with_secrets(SecretsManagerResolver::new(sdk)),
        )
    }

    /// Sends what `config`'s `[notify]` asks for of `occurrences` as one message per channel;
    /// returns how many channels took it (0 without `[notify]` or anything wanted). Never fails.
    pub async fn send(&self, config: &Config, mut occurrences: Vec<Occurrence>) -> usize {
        let Some(settings) = &config.notify else {
            return 0;
        };
        occurrences.retain(|o| o.on().is_none_or(|on| settings.wants(on)));
        if occurrences.is_empty() {
            return 0;
        }
        let (channels, problems) =
            notify::channels(settings, &self.resolver, self.sns.as_ref()).await;
        for problem in &problems {
            tracing::warn!(problem = %problem, "a notification channel is unavailable");
        }
        let count = occurrences.len();
        let sent = notify::send(&config.settings.org, settings, &channels, occurrences).await;
        tracing::info!(
            occurrences = count,
            channels = channels.len(),
            sent,
            "notifications sent"
        );
        sent
    }
}

/// After a sync's plan: the new occurrences of `report` and `plan` (`drift` from
/// `record_drift_noting`; `more`: per dock, appeared resources the state machine did not pass
/// on), sent once. Returns the line for the run's log, `None` when nothing was due (no
/// `[notify]`, or a retried step that already sent).
pub(crate) async fn after_sync(
    deps: &Deps,
    report: &SyncReport,
    plan: &Plan,
    drift: Vec<Occurrence>,
    more: &BTreeMap<String, usize>,
) -> Option<String> {
    deps.config.notify.as_ref()?;
    let run = match deps.store.get_run(deps.org(), &report.run_id).await {
        Ok(run) => run,
        Err(e) => {
            tracing::warn!(error = %e, "the sync's run is unreadable: no notifications this run");
            return None;
        }
    };
    if let Some(run) = &run
        && run.log.iter().any(|l| l.message.starts_with(NOTIFIED_LINE))
    {
        tracing::info!("notifications already sent for this run (plan retried)");
        return None;
    }
    let mut occurrences = drift;
    let started_at = run.map_or_else(jiff::Timestamp::now, |r| r.started_at);
    match notify::previous_failed_docks(deps.store.as_ref(), deps.org(), &report.run_id, started_at)
        .await
    {
        Ok(previous) => occurrences.extend(notify::sync_run_occurrences(&previous, report)),
        // Without the previous run a failure cannot be told new from old: none is sent rather
        // than every one again.
        Err(e) => {
            tracing::warn!(error = %e, "the previous sync run is unreadable: dock failures are not notified this run")
        }
    }
    occurrences.extend(notify::appeared_occurrences(plan, report, more));
    let count = occurrences.len();
    let sent = deps.notifier.send(&deps.config, occurrences).await;
    Some(format!(
        "{NOTIFIED_LINE}{count} new occurrence{} ({sent} channel{} took them)",
        if count == 1 { "" } else { "s" },
        if sent == 1 { "" } else { "s" }
    ))
}
