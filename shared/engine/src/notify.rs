//! Sending `[notify]` messages: the occurrences a sync or an apply found new (derived from the
//! state changes they just wrote, see `stackdock_core::notify`), filtered by `on`, as one message
//! to each channel. A channel that fails or hangs is logged and skipped: it never fails the sync
//! or the apply that found the occurrences.
//!
//! Channels: the webhook (`Webhook`) and the stack's SNS topic (`Sns`, in `notify/sns.rs`).

mod sns;

pub use sns::{Sns, TOPIC_VAR};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use stackdock_core::Kind;
use stackdock_core::config::{CredentialRef, Notify};
use stackdock_core::notify::{Occurrence, message};
use stackdock_core::plan::{ActionKind, Plan};
use stackdock_core::record::DockStatus;
use stackdock_providers::Credential;
use stackdock_store::{RunKind, RunsRequest, Store};

use crate::{DefaultResolver, EngineError, SyncReport};

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

/// A dock's failure is new when the previous settled sync run (`previous_failed`: the docks it
/// recorded as failed, empty when there was none) did not fail it; a dock failing there that
/// synced completely in `report` has recovered. Works from the run records, so the sync state
/// machine's plan step, which never saw the statuses before its docks' invocations, decides as
/// the one-invocation sync does.
pub fn sync_run_occurrences(
    previous_failed: &BTreeSet<String>,
    report: &SyncReport,
) -> Vec<Occurrence> {
    report
        .docks
        .iter()
        .filter_map(|d| match (&d.error, previous_failed.contains(&d.dock)) {
            (Some(error), false) => Some(Occurrence::SyncFailed {
                dock: d.dock.clone(),
                error: error.clone(),
            }),
            (None, true) => Some(Occurrence::SyncRecovered {
                dock: d.dock.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// How many recent runs are read to find the previous settled sync run.
const PREVIOUS_SCAN: usize = 100;

/// The docks the sync run before `run_id` recorded as failed: the newest other sync run that
/// started before `started_at` and was settled (`failed_docks`). Empty when there is none among
/// the most recent runs (the first sync: no failure is old yet).
///
/// # Errors
/// The store's.
pub async fn previous_failed_docks(
    store: &dyn Store,
    org: &str,
    run_id: &str,
    started_at: jiff::Timestamp,
) -> Result<BTreeSet<String>, EngineError> {
    // Sync run headers, newest first; a header has no log, so each candidate is read whole until
    // a settled one is found (usually the first: only a sync still running is not settled).
    let page = store
        .runs_page(
            org,
            &RunsRequest {
                kind: Some(RunKind::Sync),
                after: None,
                limit: PREVIOUS_SCAN,
            },
        )
        .await?;
    for header in page.runs {
        if header.run_id == run_id || header.started_at >= started_at {
            continue;
        }
        if let Some(run) = store.get_run(org, &header.run_id).await?
            && let Some(failed) = crate::failed_docks(&run)
        {
            return Ok(failed);
        }
    }
    Ok(BTreeSet::new())
}

/// How many appeared resources of one dock a message lists by name; the rest are counted
/// (`Occurrence::MoreAppeared`).
pub const LISTED_APPEARED: usize = 10;

/// The resources the sync stored for the first time (`SyncStats::appeared`, per dock of
/// `report`; empty on a dock's baseline sync) that the plan reports unmanaged (in no entry), and,
/// per dock, how many more appeared than are listed: those beyond [`LISTED_APPEARED`] and those
/// `more` says were left out before (the sync state machine caps what a dock's invocation
/// passes on).
pub fn appeared_occurrences(
    plan: &Plan,
    report: &SyncReport,
    more: &BTreeMap<String, usize>,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for dock in report.docks.iter().filter(|d| d.error.is_none()) {
        let appeared: BTreeSet<(Kind, &str)> = dock
            .stats
            .appeared
            .iter()
            .map(|(kind, id)| (*kind, id.as_str()))
            .collect();
        let mut found: Vec<Occurrence> = plan
            .of_kind(ActionKind::Unmanaged)
            .filter(|a| a.address.is_none() && a.dock == dock.dock)
            .filter_map(|a| {
                let kind = a.kind?;
                let id = a.provider_id.as_deref()?;
                appeared
                    .contains(&(kind, id))
                    .then(|| Occurrence::Unmanaged {
                        dock: a.dock.clone(),
                        kind,
                        name: a.name.clone().unwrap_or_default(),
                        provider_id: id.to_owned(),
                    })
            })
            .collect();
        let beyond = found.len().saturating_sub(LISTED_APPEARED);
        found.truncate(LISTED_APPEARED);
        out.extend(found);
        let count = beyond + more.get(&dock.dock).copied().unwrap_or(0);
        if count > 0 {
            out.push(Occurrence::MoreAppeared {
                dock: dock.dock.clone(),
                count,
            });
        }
    }
    out
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

/// The channels of `notify` this process can send to: the webhook (its URL resolved now) and,
/// with `sns = true`, the topic `sns` (`None`: [`TOPIC_VAR`] is not set here, said in the
/// problems). The problems are one line each, free of secrets.
pub async fn channels(
    notify: &Notify,
    resolver: &DefaultResolver,
    sns: Option<&Sns>,
) -> (Vec<Box<dyn Channel>>, Vec<String>) {
    let mut channels: Vec<Box<dyn Channel>> = Vec::new();
    let mut problems = Vec::new();
    if let Some(reference) = &notify.webhook {
        match Webhook::resolve(reference, resolver).await {
            Ok(w) => channels.push(Box::new(w)),
            Err(e) => problems.push(e),
        }
    }
    if notify.sns {
        match sns {
            Some(topic) => channels.push(Box::new(topic.clone())),
            None => problems.push(Sns::unset_message()),
        }
    }
    (channels, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DockOutcome;
    use stackdock_store::{RunRecord, SyncStats};

    fn outcome(dock: &str, error: Option<&str>) -> DockOutcome {
        DockOutcome {
            dock: dock.to_owned(),
            stats: SyncStats::default(),
            listed: 0,
            error: error.map(str::to_owned),
            credential_problem: false,
            timing: crate::DockTiming::default(),
        }
    }

    #[test]
    fn a_failure_is_new_only_when_the_previous_settled_run_did_not_have_it() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let mut previous = RunRecord::new("sync-1", "acme", RunKind::Sync, "t", now);
        crate::finish_run(
            &mut previous,
            &[
                outcome("do-main", Some("token rejected (401)")),
                outcome("linode-main", Some("503")),
                outcome("vultr-main", None),
            ],
            now,
        );
        let failed = crate::failed_docks(&previous).expect("settled");
        assert_eq!(
            failed.iter().map(String::as_str).collect::<Vec<_>>(),
            ["do-main", "linode-main"]
        );
        let unsettled = RunRecord::new("sync-2", "acme", RunKind::Sync, "t", now);
        assert_eq!(crate::failed_docks(&unsettled), None);

        let report = SyncReport {
            run_id: "sync-3".into(),
            docks: vec![
                outcome("do-main", Some("token rejected (401)")),
                outcome("linode-main", None),
                outcome("vultr-main", Some("500")),
            ],
        };
        assert_eq!(
            sync_run_occurrences(&failed, &report),
            vec![
                Occurrence::SyncRecovered {
                    dock: "linode-main".into()
                },
                Occurrence::SyncFailed {
                    dock: "vultr-main".into(),
                    error: "500".into()
                },
            ],
            "do-main still fails: not new"
        );
        assert_eq!(
            sync_run_occurrences(&BTreeSet::new(), &report).len(),
            2,
            "without a previous run every failure is new and nothing recovers"
        );
    }
}
