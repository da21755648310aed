//! A web service's environment variable values, read at apply time from where the file points
//! (`env_sources`: `NAME@target=secret:<name>` or `=env:<VAR>`, `stackdock_core::config`), for
//! the one request that sends them to the provider.
//!
//! The values live only inside [`EnvValues`] (whose `Debug` prints the entries, not the values)
//! for the length of a create or update; errors name the entry and the reference, never a value.

use std::collections::BTreeMap;

use stackdock_core::config::Config;
use stackdock_core::env_values::{self as core_env, ENV_VALUES, EnvFingerprints};
use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::record::dock_id;
use stackdock_core::{FieldValue, Kind, Record};
use stackdock_providers::EnvValues;

use crate::{DefaultResolver, EngineError};

/// The values of every entry of `spec`'s `env_sources`, each reference read once; `None` when
/// the spec has no `env_sources` (every kind but web services).
///
/// # Errors
/// `Invalid` for a malformed source or an unset variable; a secret that cannot be read is the
/// resolver's error (`Credential` or, retryable, `CredentialUnavailable`).
pub(crate) async fn resolve(
    spec: &ResourceSpec,
    address: &str,
    secrets: &DefaultResolver,
) -> Result<Option<EnvValues>, EngineError> {
    let Some(FieldValue::Set(sources)) = spec.fields.get("env_sources") else {
        return Ok(None);
    };
    let mut read: BTreeMap<&str, String> = BTreeMap::new();
    let mut values = BTreeMap::new();
    for source in sources {
        let Some((entry, reference)) = source.split_once('=') else {
            return Err(EngineError::Invalid(format!(
                "{address}: `{source}` is not an environment source (`NAME@target=secret:<name>`); run `stackdock validate`"
            )));
        };
        let value = match read.get(reference) {
            Some(v) => v.clone(),
            None => {
                let v = read_reference(entry, reference, address, secrets).await?;
                read.insert(reference, v.clone());
                v
            }
        };
        values.insert(entry.to_owned(), value);
    }
    Ok(Some(EnvValues::new(values)))
}

/// The fingerprints of what every web service entry of dock `dock` resolves to now (a sync keeps
/// them on the dock's status; `stackdock_core::env_values`). An entry whose reference cannot be
/// read (an `env:` variable the process lacks, a secret it may not read) leaves its service out:
/// its plan then cannot tell whether a value changed, and says nothing about it.
pub(crate) async fn fingerprints(
    config: &Config,
    dock: &str,
    secrets: &DefaultResolver,
) -> EnvFingerprints {
    let org = &config.settings.org;
    let id = dock_id(org, dock);
    let mut out = EnvFingerprints::new();
    for resource in config
        .resources
        .iter()
        .filter(|r| r.dock == dock && r.kind == Kind::WebServices)
    {
        let address = resource.address();
        match resolve(&resource.spec(org), &address, secrets).await {
            Ok(Some(values)) => {
                out.insert(address.clone(), values.fingerprints(&id, &address));
            }
            Ok(None) => {}
            Err(e) => tracing::info!(
                address,
                error = %e,
                "environment values not fingerprinted: plans cannot tell whether they changed"
            ),
        }
    }
    out
}

/// The value one reference points to.
async fn read_reference(
    entry: &str,
    reference: &str,
    address: &str,
    secrets: &DefaultResolver,
) -> Result<String, EngineError> {
    if let Some(var) = reference.strip_prefix("env:") {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(EngineError::Invalid(format!(
                "{address}: environment variable {entry} reads {var}, which is not set; export it (or point the entry at a secret)"
            ))),
        };
    }
    if let Some(id) = reference.strip_prefix("secret:") {
        let owner = format!("{address} (env {entry})");
        return Ok(secrets.secret(&owner, id).await?.expose().to_owned());
    }
    Err(EngineError::Invalid(format!(
        "{address}: environment variable {entry} has no source; run `stackdock validate`"
    )))
}

/// Records in `record`'s baseline the fingerprints of the values an update sent: every entry of
/// each variable it sent whole (`core_env::resent_names`) gets the fingerprint of what was
/// sent; the other entries keep theirs; entries the file no longer has lose theirs.
pub(crate) fn record_sent(
    record: &mut Record,
    changes: &[FieldChange],
    spec: &ResourceSpec,
    fingerprints: &BTreeMap<String, String>,
) {
    let resent = core_env::resent_names(changes);
    let name_of = |entry: &str| {
        stackdock_core::web_service::split_env_entry(entry).map(|(name, _)| name.to_owned())
    };
    let desired = spec
        .fields
        .get("env")
        .and_then(FieldValue::as_set)
        .cloned()
        .unwrap_or_default();
    let mut kept = core_env::applied_fingerprints(record.applied.get(ENV_VALUES));
    kept.retain(|entry, _| {
        desired.contains(entry) && !name_of(entry).is_some_and(|n| resent.contains(&n))
    });
    kept.extend(
        fingerprints
            .iter()
            .filter(|(entry, _)| name_of(entry).is_some_and(|n| resent.contains(&n)))
            .map(|(e, f)| (e.clone(), f.clone())),
    );
    record
        .applied
        .insert(ENV_VALUES.into(), core_env::applied_value(&kept));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sources: &[&str]) -> ResourceSpec {
        ResourceSpec {
            name: "marketing".into(),
            owner_tag: String::new(),
            fields: [(
                "env_sources".into(),
                FieldValue::set(sources.iter().copied()),
            )]
            .into(),
            protect: false,
        }
    }

    #[tokio::test]
    async fn environment_references_are_read_once_per_entry_and_never_printed() {
        // A variable every process has (setting one would take `unsafe`).
        let path = std::env::var("PATH").expect("PATH is set");
        let resolver = DefaultResolver::new();
        let values = resolve(
            &spec(&["API_URL@preview=env:PATH", "API_URL@production=env:PATH"]),
            "web_services.marketing",
            &resolver,
        )
        .await
        .expect("resolved")
        .expect("a web service");
        assert_eq!(values.get("API_URL@preview"), Some(path.as_str()));
        assert_eq!(values.get("API_URL@production"), Some(path.as_str()));
        assert!(!format!("{values:?}").contains(&path));

        let missing = resolve(
            &spec(&["DB@production=env:STACKDOCK_TEST_ENV_VALUE_UNSET"]),
            "web_services.marketing",
            &resolver,
        )
        .await
        .expect_err("unset");
        assert!(
            missing
                .to_string()
                .contains("STACKDOCK_TEST_ENV_VALUE_UNSET, which is not set")
        );
        let none = resolve(
            &ResourceSpec {
                fields: stackdock_core::VecMap::new(),
                ..spec(&[])
            },
            "servers.web-1",
            &resolver,
        )
        .await
        .expect("nothing to read");
        assert_eq!(none, None);
    }
}
