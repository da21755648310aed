//! Sending `[notify]` messages: the occurrences a sync or an apply found new (derived from the
//! state changes they just wrote, see `stackdock_core::notify`), filtered by `on`, as one message
//! to each channel. A channel that fails or hangs is logged and skipped: it never fails the sync
//! or the apply that found the occurrences.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use stackdock_core::config::{Config, CredentialRef, Notify};
use stackdock_core::notify::{Occurrence, message};
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::record::{DockStatus, RecordKey, dock_id};
use stackdock_providers::Credential;

use crate::DefaultResolver;

/// How long a channel may take to accept a message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Somewhere a message goes.
#[async_trait]
pub trait Channel: Send + Sync {
    /// For logs: `webhook`, `sns`.
    fn name(&self) -> &'static str;
    /// Delivers `text`; the error says why not (free of secrets).
    async fn send(&self, text: &str) -> Result<(), String>;
}

/// A Slack-compatible incoming webhook: `POST {"text": …}` to its URL.
#[derive(Debug)]
pub struct Webhook {
    url: Credential,
    client: reqwest::Client,
}

impl Webhook {
    pub fn new(url: Credential) -> Result<Webhook, String> {
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Webhook { url, client })
    }

    /// The webhook of `[notify]`, its URL read from where the file points.
    pub async fn resolve(
        reference: &CredentialRef,
        resolver: &DefaultResolver,
    ) -> Result<Webhook, String> {
        let url = match reference {
            CredentialRef::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Credential::new(v.trim()),
                _ => {
                    return Err(format!(
                        "the webhook of `[notify]` reads {var}, which is not set; export the incoming-webhook URL in {var}"
                    ));
                }
            },
            CredentialRef::Secret(id) => resolver
                .secret("the webhook of `[notify]`", id)
                .await
                .map_err(|e| e.to_string())?,
        };
        Webhook::new(url)
    }
}

#[async_trait]
impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, text: &str) -> Result<(), String> {
        let response = self
            .client
            .post(self.url.expose())
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            // The URL is the secret: say what failed without it.
            .map_err(|e| {
                if e.is_timeout() {
                    format!(
                        "the webhook did not answer within {}s",
                        SEND_TIMEOUT.as_secs()
                    )
                } else {
                    "the webhook could not be reached".to_owned()
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {status}"))
        }
    }
}

/// Sends the occurrences `notify.on` asks for as one message to every channel; returns how many
/// channels took it. Never fails: a channel's failure is logged as a warning.
pub async fn send(
    org: &str,
    notify: &Notify,
    channels: &[Box<dyn Channel>],
    occurrences: Vec<Occurrence>,
) -> usize {
    let wanted: Vec<Occurrence> = occurrences
        .into_iter()
        .filter(|o| o.on().is_none_or(|on| notify.wants(on)))
        .collect();
    if wanted.is_empty() {
        return 0;
    }
    let text = message(org, &wanted);
    let mut sent = 0;
    for channel in channels {
        match tokio::time::timeout(SEND_TIMEOUT * 2, channel.send(&text)).await {
            Ok(Ok(())) => sent += 1,
            Ok(Err(e)) => {
                tracing::warn!(channel = channel.name(), error = %e, "notification not sent")
            }
            Err(_) => tracing::warn!(
                channel = channel.name(),
                "notification not sent: the channel hung"
            ),
        }
    }
    sent
}

/// A dock whose sync went from ok (or never tried) to failed is a new failure; one that failed
/// and now synced is recovered. `before` and `after` are the org's dock statuses around a sync.
pub fn sync_occurrences(before: &[DockStatus], after: &[DockStatus]) -> Vec<Occurrence> {
    let was: BTreeMap<&str, &DockStatus> = before.iter().map(|s| (s.dock_id.as_str(), s)).collect();
    let mut out = Vec::new();
    for now in after {
        let failed_before = was
            .get(now.dock_id.as_str())
            .is_some_and(|s| s.last_error.is_some());
        match (&now.last_error, failed_before) {
            (Some(error), false) => out.push(Occurrence::SyncFailed {
                dock: now.name.clone(),
                error: error.clone(),
            }),
            (None, true) => out.push(Occurrence::SyncRecovered {
                dock: now.name.clone(),
            }),
            _ => {}
        }
    }
    out
}

/// The resources the plan reports unmanaged (in no entry) that were not in the inventory before
/// the sync. A dock's first complete sync is its baseline: what it finds there is not new.
pub fn unmanaged_occurrences(
    config: &Config,
    before: &BTreeSet<RecordKey>,
    synced_before: &BTreeSet<String>,
    plan: &Plan,
) -> Vec<Occurrence> {
    let org = &config.settings.org;
    plan.of_kind(ActionKind::Unmanaged)
        .filter(|a| a.address.is_none())
        .filter_map(|a| {
            let kind = a.kind?;
            let id = a.provider_id.clone()?;
            let dock = dock_id(org, &a.dock);
            let key = RecordKey {
                dock_id: dock.clone(),
                kind,
                provider_resource_id: id.clone(),
            };
            (synced_before.contains(&dock) && !before.contains(&key)).then(|| {
                Occurrence::Unmanaged {
                    dock: a.dock.clone(),
                    kind,
                    name: a.name.clone().unwrap_or_default(),
                    provider_id: id,
                }
            })
        })
        .collect()
}

/// An apply that ended with failed actions, as one occurrence (`None` when nothing failed).
pub fn apply_occurrence(report: &crate::ApplyReport) -> Option<Occurrence> {
    let failed: Vec<(String, String)> = report
        .run
        .actions
        .iter()
        .filter(|a| a.outcome == stackdock_store::Outcome::Failed)
        .map(|a| (a.target.clone(), a.message.clone()))
        .collect();
    (!failed.is_empty()).then(|| Occurrence::ApplyFailed {
        run_id: report.run.run_id.clone(),
        failed,
    })
}

/// The channels of `notify` this process can send to: the webhook (its URL resolved now). SNS is
/// the deployed functions' (they add their own channel); `local` says so once on stderr.
pub async fn channels(
    notify: &Notify,
    resolver: &DefaultResolver,
) -> (Vec<Box<dyn Channel>>, Vec<String>) {
    let mut channels: Vec<Box<dyn Channel>> = Vec::new();
    let mut problems = Vec::new();
    if let Some(reference) = &notify.webhook {
        match Webhook::resolve(reference, resolver).await {
            Ok(w) => channels.push(Box::new(w)),
            Err(e) => problems.push(e),
        }
    }
    (channels, problems)
}
