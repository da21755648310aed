//! `[notify]`: which new occurrences StackDock sends, and where — a Slack-compatible incoming
//! webhook (its URL by reference only, like a dock's credentials) and/or the stack's SNS topic.
//!
//! ```toml
//! [notify]
//! on = ["drift", "unmanaged", "sync_failed", "apply_failed"]   # the default: all four
//! webhook = { secret = "stackdock/slack-webhook" }
//! sns = true
//! ```

use std::collections::BTreeSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};

use super::CredentialRef;
use super::keys::{NOTIFY_KEYS, names};
use super::parse::Walker;
use super::validate::did_you_mean;

/// What a message is sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// A managed resource changed outside StackDock (and, once, when that drift is gone).
    Drift,
    /// A resource appeared in a dock that no entry declares.
    Unmanaged,
    /// A dock's sync failed (and, once, when it syncs again).
    SyncFailed,
    /// An apply ended with failed actions.
    ApplyFailed,
}

impl NotifyOn {
    pub const ALL: [NotifyOn; 4] = [
        NotifyOn::Drift,
        NotifyOn::Unmanaged,
        NotifyOn::SyncFailed,
        NotifyOn::ApplyFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOn::Drift => "drift",
            NotifyOn::Unmanaged => "unmanaged",
            NotifyOn::SyncFailed => "sync_failed",
            NotifyOn::ApplyFailed => "apply_failed",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyOn> {
        NotifyOn::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// The `[notify]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub on: BTreeSet<NotifyOn>,
    /// Where the incoming-webhook URL comes from (it is a secret: whoever has it can post).
    pub webhook: Option<CredentialRef>,
    /// Publish to the stack's SNS topic (the deployed functions only).
    pub sns: bool,
}

impl Notify {
    pub fn wants(&self, on: NotifyOn) -> bool {
        self.on.contains(&on)
    }
}

impl Walker<'_, '_> {
    /// Reads `[notify]`.
    pub(super) fn notify(&mut self, t: &DeTable<'_>, header: Range<usize>) -> Option<Notify> {
        let what = "`[notify]`";
        let present = self.known_keys(t, what, &names(NOTIFY_KEYS));
        let on = match present.get("on") {
            None => NotifyOn::ALL.into_iter().collect(),
            Some((_, item)) => self.notify_on(item)?,
        };
        let webhook = match present.get("webhook") {
            None => None,
            // The URL itself is the secret (whoever has it can post): masked, never echoed.
            Some((_, item)) if matches!(item.get_ref(), DeValue::String(_)) => {
                self.report.credential(
                    item.span(),
                    "the webhook URL of `[notify]` is written in the file: it is a secret",
                );
                return None;
            }
            Some((_, item)) => Some(self.credentials(
                item,
                "the webhook of `[notify]`",
                "the webhook of `[notify]`",
            )?),
        };
        let sns = self.boolean(&present, "sns", what).unwrap_or(false);
        if webhook.is_none() && !sns {
            self.report.error(
                header,
                "`[notify]` sends nowhere",
                "add `webhook = { secret = \"<Secrets Manager name>\" }` (a Slack-compatible incoming-webhook URL) or `sns = true` (the stack's topic), or remove `[notify]`",
            );
            return None;
        }
        Some(Notify { on, webhook, sns })
    }

    fn notify_on(&mut self, item: &super::parse::Item<'_>) -> Option<BTreeSet<NotifyOn>> {
        let valid = NotifyOn::ALL.map(NotifyOn::as_str);
        let list = valid.map(|v| format!("\"{v}\"")).join(", ");
        let DeValue::Array(items) = item.get_ref() else {
            self.report.error(
                item.span(),
                "`on` of `[notify]` must be an array of event names",
                format!("e.g. `on = [{list}]`"),
            );
            return None;
        };
        if items.is_empty() {
            self.report.error(
                item.span(),
                "`on` of `[notify]` is empty: nothing would be sent",
                format!("list what to send, e.g. `on = [{list}]`, or remove `[notify]`"),
            );
            return None;
        }
        let mut on = BTreeSet::new();
        let mut ok = true;
        for i in items.iter() {
            match i.get_ref() {
                DeValue::String(s) => match NotifyOn::parse(s) {
                    Some(o) => {
                        on.insert(o);
                    }
                    None => {
                        ok = false;
                        self.report.error(
                            i.span(),
                            format!("unknown event `{s}` in `on` of `[notify]`"),
                            did_you_mean(s, valid, "events"),
                        );
                    }
                },
                _ => {
                    ok = false;
                    self.report.error(
                        i.span(),
                        "`on` of `[notify]` must hold event names as strings",
                        format!("e.g. `on = [{list}]`"),
                    );
                }
            }
        }
        ok.then_some(on)
    }
}
