//! `stackdock server reboot | power-on | power-off ADDRESS`: one power action on one managed
//! server, under the org's apply lease and recorded in the run log like an apply.
//!
//! # Guarantees
//! - Only a server that is an entry of `stackdock.toml` and that StackDock manages (its record's
//!   `managedBy` is the address) is touched; anything else is refused before the lease is taken,
//!   with what to do instead.
//! - One action at a time per org: the lease of `apply`; a held lease is refused, never waited on.
//! - The action is sent once, then the provider is polled until it reports the state the action
//!   leads to (running, or stopped); the stored record is updated with what it reported.
//! - A power-on of a running server or a power-off of a stopped one sends nothing; a reboot of a
//!   stopped server, or any action on a server still being built, is refused.
//! - Every attempt that got the lease writes a run (`kind = apply`) with the action's result.

use jiff::Timestamp;
use stackdock_core::config::Config;
use stackdock_core::record::dock_id;
use stackdock_core::{FieldValue, Kind, Record};
use stackdock_providers::PowerAction;
use stackdock_store::{ActionResult, Outcome, RunKind, RunRecord, RunStatus, Store};

use crate::{ApplyOptions, Docks, EngineError, lease_name};

/// What a power command did: its run record and the server as the provider last reported it.
#[derive(Debug, Clone)]
pub struct PowerReport {
    pub run: RunRecord,
    /// The server after the action (or as it was, when nothing needed sending).
    pub record: Option<Record>,
    /// Whether a request was sent (false: the server already was in the asked state).
    pub sent: bool,
    /// A note for the user (the file declares another `power` than the one now set).
    pub note: Option<String>,
}

impl PowerReport {
    pub fn failed(&self) -> bool {
        self.run.status == RunStatus::Failed
    }
}

/// The server entry `address` names and its managed record, or the error that says what to do.
async fn target(
    config: &Config,
    store: &dyn Store,
    address: &str,
) -> Result<(String, Record), EngineError> {
    let servers: Vec<String> = config
        .resources
        .iter()
        .filter(|r| r.kind == Kind::Servers)
        .map(|r| r.address())
        .collect();
    let Some(entry) = config.resources.iter().find(|r| r.address() == address) else {
        let hint = if servers.is_empty() {
            "stackdock.toml declares no servers".to_owned()
        } else {
            format!("servers in stackdock.toml: {}", servers.join(", "))
        };
        let what = if address.starts_with("servers.") {
            format!("`{address}` is not an entry of stackdock.toml")
        } else {
            format!("`{address}` is not a server address (write `servers.<name>`)")
        };
        return Err(EngineError::Invalid(format!("{what}; {hint}")));
    };
    if entry.kind != Kind::Servers {
        return Err(EngineError::Invalid(format!(
            "`{address}` is a {}; power actions apply to servers only ({})",
            entry.kind.noun(),
            if servers.is_empty() {
                "stackdock.toml declares none".to_owned()
            } else {
                servers.join(", ")
            }
        )));
    }
    let org = &config.settings.org;
    let did = dock_id(org, &entry.dock);
    let managed: Vec<Record> = store
        .inventory(org, Some(&did))
        .await?
        .into_iter()
        .filter(|r| {
            r.kind() == Kind::Servers
                && r.missing_since.is_none()
                && r.managed_by.as_deref() == Some(address)
        })
        .collect();
    match managed.as_slice() {
        [one] => Ok((entry.dock.to_string(), one.clone())),
        [] => Err(EngineError::Invalid(format!(
            "`{address}` is not managed by StackDock yet: no server on dock `{}` belongs to it; run `stackdock plan` and `stackdock apply` to create or adopt it, then try again",
            entry.dock
        ))),
        many => Err(EngineError::Invalid(format!(
            "`{address}` manages {} servers ({}); pin the right one with `id = \"…\"` and apply",
            many.len(),
            many.iter()
                .map(|r| r.provider_resource_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Runs `action` on the managed server `address`.
///
/// # Errors
/// The address is unknown, not a server or not managed; the lease is held by another apply; the
/// store failed. A provider failure is not an error here: it is the run's failed action.
pub async fn power(
    config: &Config,
    docks: &Docks,
    store: &dyn Store,
    address: &str,
    action: PowerAction,
    opts: &ApplyOptions,
) -> Result<PowerReport, EngineError> {
    let (dock, record) = target(config, store, address).await?;
    let provider = docks.get(&dock).ok_or_else(|| {
        let why = docks
            .failures
            .get(&dock)
            .cloned()
            .unwrap_or_else(|| "no adapter".into());
        EngineError::Invalid(format!("dock `{dock}` is unavailable: {why}"))
    })?;
    let org = &config.settings.org;
    let lease = store
        .acquire_lease(
            &lease_name(org),
            &opts.owner,
            opts.lease_ttl,
            Timestamp::now(),
        )
        .await?;
    let run_id = opts
        .run_id
        .clone()
        .unwrap_or_else(|| format!("apply-{}", uuid::Uuid::new_v4()));
    let mut run = RunRecord::new(&run_id, org, RunKind::Apply, &opts.actor, Timestamp::now());
    run.log(
        Timestamp::now(),
        format!("lease {} taken by {}", lease.name, lease.owner),
    );
    run.log(
        Timestamp::now(),
        format!("stackdock server {action} {address}"),
    );
    let result = store.put_run(&run).await;
    let outcome = match result {
        Ok(()) => run_action(provider.as_ref(), store, &record, action, opts).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = store.release_lease(&lease).await {
        tracing::warn!(error = %e, "releasing the apply lease failed; it expires by itself");
    }
    let (outcome, message, latest, sent) = match outcome {
        Ok(Done {
            message,
            record,
            sent,
        }) => (Outcome::Succeeded, message, Some(record), sent),
        Err(e) => (Outcome::Failed, e.to_string(), None, true),
    };
    run.actions.push(ActionResult {
        action: action.as_str().to_owned(),
        target: address.to_owned(),
        dock: dock.clone(),
        provider_id: Some(record.provider_resource_id.to_string()),
        outcome,
        message: message.clone(),
        at: Timestamp::now(),
    });
    if outcome == Outcome::Succeeded {
        run.status = RunStatus::Succeeded;
    } else {
        run.status = RunStatus::Failed;
        run.error = Some(format!("{action} of {address} failed: {message}"));
    }
    run.finished_at = Some(Timestamp::now());
    run.log(Timestamp::now(), format!("{address}: {message}"));
    store.put_run(&run).await?;
    let declared = config
        .resources
        .iter()
        .find(|r| r.address() == address)
        .and_then(|r| r.str_field("power"))
        .unwrap_or("on");
    let note = (outcome == Outcome::Succeeded && declared != action.power_value()).then(|| {
        format!(
            "stackdock.toml declares `power = \"{declared}\"` for {address}: the next apply sets it back; write `power = \"{}\"` to keep it so",
            action.power_value()
        )
    });
    Ok(PowerReport {
        run,
        record: latest,
        sent,
        note,
    })
}

struct Done {
    message: String,
    record: Record,
    sent: bool,
}

/// Sends the action (unless the server already is where it leads), waits for the state and
/// records what the provider reported.
async fn run_action(
    provider: &dyn stackdock_providers::Provider,
    store: &dyn Store,
    stored: &Record,
    action: PowerAction,
    opts: &ApplyOptions,
) -> Result<Done, EngineError> {
    let id = &stored.provider_resource_id;
    // The provider's word, not the last sync's: the server may have changed since.
    let current = provider
        .get(Kind::Servers, id)
        .await?
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "server {id} no longer exists at the provider; run `stackdock sync` and `stackdock plan`"
            ))
        })?;
    let status = current.status.as_str();
    let already = match (action, status) {
        (PowerAction::On, "running") => Some("already running: nothing sent"),
        (PowerAction::Off, "stopped") => Some("already stopped: nothing sent"),
        _ => None,
    };
    if let Some(message) = already {
        let record = keep(stored, current, action);
        store.put_records(std::slice::from_ref(&record)).await?;
        return Ok(Done {
            message: message.to_owned(),
            record,
            sent: false,
        });
    }
    match (action, status) {
        (PowerAction::Reboot, "stopped") => {
            return Err(EngineError::Invalid(format!(
                "server {id} is stopped, so there is nothing to reboot; use `stackdock server power-on`"
            )));
        }
        (_, "running" | "stopped") => {}
        (_, other) => {
            return Err(EngineError::Invalid(format!(
                "server {id} is `{other}` (being built, booting or shutting down); wait until it is running or stopped (`stackdock sync` shows it), then try again"
            )));
        }
    }
    provider.power(Kind::Servers, id, action).await?;
    let latest = provider
        .wait_power(Kind::Servers, id, action, opts.ready_timeout)
        .await?;
    let record = keep(stored, latest, action);
    store.put_records(std::slice::from_ref(&record)).await?;
    let message = match action {
        PowerAction::On => "powered on",
        PowerAction::Off => "powered off",
        PowerAction::Reboot => "rebooted",
    };
    Ok(Done {
        message: message.to_owned(),
        record,
        sent: true,
    })
}

/// `latest` with the stored record's bookkeeping; after a power action, its `power` is what
/// StackDock applied, so the new state is not reported as drift.
fn keep(stored: &Record, mut latest: Record, action: PowerAction) -> Record {
    latest.keep_bookkeeping_of(stored);
    latest
        .applied
        .insert("power".into(), FieldValue::Str(action.power_value().into()));
    latest.drift.retain(|d| d.field != "power");
    latest.updated_at = if latest.content_hash == stored.content_hash {
        stored.updated_at
    } else {
        Some(Timestamp::now())
    };
    latest
}
