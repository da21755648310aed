//! A web service's environment variable values, read at apply time from where the file points
//! (`env_sources`: `NAME@target=secret:<name>` or `=env:<VAR>`, `stackdock_core::config`), for
//! the one request that sends them to the provider.
//!
//! The values live only inside [`EnvValues`] (whose `Debug` prints the entries, not the values)
//! for the length of a create or update; errors name the entry and the reference, never a value.

use std::collections::BTreeMap;

use stackdock_core::FieldValue;
use stackdock_core::plan::ResourceSpec;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sources: &[&str]) -> ResourceSpec {
        ResourceSpec {
            name: "marketing".into(),
            owner_tag: String::new(),
            fields: [(
                "env_sources".to_owned(),
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
