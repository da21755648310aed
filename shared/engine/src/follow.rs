//! DNS records that follow a server (`value = { server = "web-1" }`): apply gives such a record
//! the server's primary IPv4 as it is when the record's change runs, after the changes before it
//! in the same apply (the plan orders the record after its server, on whatever dock it is). A
//! server whose address the provider has not reported yet (still being built) is waited for.

use std::time::Duration;

use stackdock_core::plan::Action;
use stackdock_core::record::{Attrs, Record};
use stackdock_core::{FieldValue, Kind};
use stackdock_store::Store;

use crate::{Docks, EngineError};

/// A server record's primary IPv4, if the provider reported one.
fn ipv4(record: &Record) -> Option<String> {
    match &record.attrs {
        Attrs::Servers(s) => s.ip_address.clone().filter(|ip| !ip.is_empty()),
        _ => None,
    }
}

/// `action` with the followed server's address as its `value`, when it is a record's change whose
/// value follows a server; `None` for any other action (it runs as planned).
///
/// # Errors
/// The store cannot be read, or holds no address for the server (not created, not synced yet).
pub(crate) async fn follow_server(
    store: &dyn Store,
    docks: &Docks,
    (org, ready_timeout): (&str, Duration),
    action: &Action,
) -> Result<Option<Action>, EngineError> {
    let Some(spec) = &action.spec else {
        return Ok(None);
    };
    if action.kind != Some(Kind::DomainRecords) || spec.fields.contains_key("value") {
        return Ok(None);
    }
    let Some(server) = spec.fields.get("server").and_then(FieldValue::as_str) else {
        return Ok(None);
    };
    let address = stackdock_core::config::address(Kind::Servers, server);
    let inventory = store.inventory(org, None).await?;
    let server_record = inventory
        .iter()
        .filter(|r| r.missing_since.is_none() && r.kind() == Kind::Servers)
        .find(|r| r.managed_by.as_deref() == Some(address.as_str()));
    let unknown = || {
        EngineError::Invalid(format!(
            "{} follows {address}, which has no IPv4 address yet; run `stackdock sync` once the server is up, then apply again",
            action.address.as_deref().unwrap_or("the record")
        ))
    };
    let ip = match server_record {
        None => return Err(unknown()),
        Some(r) => match ipv4(r) {
            Some(ip) => ip,
            None => {
                // Still being built when last synced: its dock's adapter waits until it is ready.
                let dock = r
                    .dock_id
                    .strip_prefix(&format!("{org}/"))
                    .unwrap_or(&r.dock_id);
                let provider = docks.get(dock).ok_or_else(unknown)?;
                let ready = provider
                    .wait_ready(Kind::Servers, &r.provider_resource_id, ready_timeout)
                    .await?;
                ipv4(&ready).ok_or_else(unknown)?
            }
        },
    };
    let mut resolved = action.clone();
    if let Some(spec) = &mut resolved.spec {
        spec.fields
            .insert("value".into(), FieldValue::Str(ip.into()));
    }
    Ok(Some(resolved))
}
