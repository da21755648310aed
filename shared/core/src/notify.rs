//! What a notification says: the occurrences one sync or apply found new, and the message a
//! person reads in Slack or an email from SNS — the dock, the addresses, the fields, and the
//! command to run. Pure: the engine finds the occurrences and sends the text.
//!
//! An occurrence is new by construction: the engine derives each from a change of state it has
//! just written (a record's drift flags set or cleared, a dock's sync going from ok to failed or
//! back, a resource listed for the first time, an apply that ended failed), so a drift that
//! persists across 96 syncs a day is one message, and its end another.

use std::fmt::Write as _;

use crate::Kind;
use crate::config::NotifyOn;

/// One new occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occurrence {
    /// A managed resource's fields changed outside StackDock (or more of them did).
    Drift {
        dock: String,
        address: String,
        provider_id: String,
        fields: Vec<String>,
    },
    /// A drifted resource matches what StackDock applied again.
    DriftGone { dock: String, address: String },
    /// A resource appeared that no entry declares.
    Unmanaged {
        dock: String,
        kind: Kind,
        name: String,
        provider_id: String,
    },
    /// More resources appeared on a dock than one message lists (the rest of `Unmanaged`).
    MoreAppeared { dock: String, count: usize },
    /// A dock's sync failed (the error is free of secrets).
    SyncFailed { dock: String, error: String },
    /// A dock that failed syncs again.
    SyncRecovered { dock: String },
    /// An apply ended with failed actions: (address, error) of each.
    ApplyFailed {
        run_id: String,
        failed: Vec<(String, String)>,
    },
    /// `stackdock notify test`.
    Test,
}

impl Occurrence {
    /// The `on` setting that sends it (`None`: always sent).
    pub fn on(&self) -> Option<NotifyOn> {
        match self {
            Occurrence::Drift { .. } | Occurrence::DriftGone { .. } => Some(NotifyOn::Drift),
            Occurrence::Unmanaged { .. } | Occurrence::MoreAppeared { .. } => {
                Some(NotifyOn::Unmanaged)
            }
            Occurrence::SyncFailed { .. } | Occurrence::SyncRecovered { .. } => {
                Some(NotifyOn::SyncFailed)
            }
            Occurrence::ApplyFailed { .. } => Some(NotifyOn::ApplyFailed),
            Occurrence::Test => None,
        }
    }

    fn line(&self) -> String {
        match self {
            Occurrence::Drift {
                dock,
                address,
                provider_id,
                fields,
            } => format!(
                "drift: {address} ({provider_id} on dock `{dock}`) changed outside StackDock: {}. `stackdock plan` shows it; `stackdock apply` restores stackdock.toml.",
                fields.join(", ")
            ),
            Occurrence::DriftGone { dock, address } => format!(
                "drift resolved: {address} on dock `{dock}` matches what StackDock applied again."
            ),
            Occurrence::Unmanaged {
                dock,
                kind,
                name,
                provider_id,
            } => format!(
                "unmanaged: the {} `{name}` ({provider_id}) appeared on dock `{dock}` and is in no entry of stackdock.toml. `stackdock import --dock {dock} --kind {} --name '{name}'` writes its entry.",
                kind.noun(),
                kind.config_key()
            ),
            Occurrence::MoreAppeared { dock, count } => format!(
                "unmanaged: {count} more new resource{} appeared on dock `{dock}`. `stackdock inventory --unmanaged --dock {dock}` lists them; `stackdock import --dock {dock}` writes their entries.",
                if *count == 1 { "" } else { "s" }
            ),
            Occurrence::SyncFailed { dock, error } => format!(
                "sync failed: dock `{dock}`: {error}. Its plans are blocked until `stackdock sync` lists it again."
            ),
            Occurrence::SyncRecovered { dock } => {
                format!("sync recovered: dock `{dock}` is listed completely again.")
            }
            Occurrence::ApplyFailed { run_id, failed } => {
                let mut line = format!(
                    "apply failed: run `{run_id}`, {} action{} failed:",
                    failed.len(),
                    if failed.len() == 1 { "" } else { "s" }
                );
                for (address, error) in failed {
                    let _ = write!(line, " {address}: {error};");
                }
                line.push_str(" `stackdock plan` shows what is left; `stackdock apply` retries.");
                line
            }
            Occurrence::Test => {
                "test: notifications reach this channel (`stackdock notify test`).".to_owned()
            }
        }
    }
}

/// The message for `occurrences` of `org`: a title line and one bullet per occurrence, plain text
/// (Slack renders the backticks as code).
pub fn message(org: &str, occurrences: &[Occurrence]) -> String {
    let mut text = format!(
        "StackDock ({org}): {} new occurrence{}",
        occurrences.len(),
        if occurrences.len() == 1 { "" } else { "s" }
    );
    for o in occurrences {
        text.push_str("\n• ");
        text.push_str(&o.line());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_the_dock_the_address_the_fields_and_the_command() {
        let text = message(
            "acme",
            &[
                Occurrence::Drift {
                    dock: "do-main".into(),
                    address: "servers.web-1".into(),
                    provider_id: "401".into(),
                    fields: vec!["plan".into(), "tags".into()],
                },
                Occurrence::Unmanaged {
                    dock: "vultr-main".into(),
                    kind: Kind::Servers,
                    name: "ci runner".into(),
                    provider_id: "abc".into(),
                },
                Occurrence::SyncFailed {
                    dock: "linode-main".into(),
                    error: "token rejected (401)".into(),
                },
            ],
        );
        assert!(text.starts_with("StackDock (acme): 3 new occurrences\n• drift: servers.web-1 (401 on dock `do-main`) changed outside StackDock: plan, tags."), "{text}");
        assert!(
            text.contains("`stackdock import --dock vultr-main --kind servers --name 'ci runner'`")
        );
        assert!(text.contains("sync failed: dock `linode-main`: token rejected (401)."));
        assert_eq!(Occurrence::Test.on(), None);
        let more = message(
            "acme",
            &[Occurrence::MoreAppeared {
                dock: "do-main".into(),
                count: 40,
            }],
        );
        assert!(
            more.contains("unmanaged: 40 more new resources appeared on dock `do-main`. `stackdock inventory --unmanaged --dock do-main`"),
            "{more}"
        );
        assert_eq!(
            Occurrence::SyncRecovered { dock: "x".into() }.on(),
            Some(NotifyOn::SyncFailed)
        );
    }
}
