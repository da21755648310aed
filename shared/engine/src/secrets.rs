//! Credentials from AWS Secrets Manager: `credentials = { secret = "…" }` resolved once per secret
//! per process, and `DefaultResolver`, which reads `env` references from the environment and
//! `secret` references from Secrets Manager.
//!
//! A secret's value is either the raw token or a JSON object with a `token` field. The value is
//! kept only inside `Credential` (printed as `***`); logs and errors name the dock and the secret
//! id, never the value, nor the service's message about it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use stackdock_core::config::{CredentialRef, DockConfig};
use stackdock_providers::Credential;
use tokio::sync::OnceCell;

use crate::{CredentialResolver, EngineError, EnvResolver};

/// Reads dock tokens from Secrets Manager. Build it once per process (a Lambda cold start) from
/// the process's `SdkConfig`: each secret is fetched at most once and then served from memory, so
/// a warm function makes no Secrets Manager call.
#[derive(Debug, Clone)]
pub struct SecretsManagerResolver {
    client: aws_sdk_secretsmanager::Client,
    /// One cell per secret id. A failed fetch leaves its cell empty, so a transient failure is
    /// retried by the next resolve instead of sticking for the life of the process.
    cache: Arc<Mutex<HashMap<String, Arc<OnceCell<Credential>>>>>,
}

impl SecretsManagerResolver {
    pub fn new(sdk: &aws_config::SdkConfig) -> SecretsManagerResolver {
        SecretsManagerResolver::from_client(aws_sdk_secretsmanager::Client::new(sdk))
    }

    pub fn from_client(client: aws_sdk_secretsmanager::Client) -> SecretsManagerResolver {
        SecretsManagerResolver {
            client,
            cache: Arc::default(),
        }
    }

    /// The credential stored in secret `id`, for `dock` (named in errors).
    pub async fn credential(&self, dock: &str, id: &str) -> Result<Credential, EngineError> {
        let cell = {
            // A poisoned lock only means another task panicked while inserting a cell; the map is
            // still a valid cache, so keep using it.
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(cache.entry(id.to_owned()).or_default())
        };
        cell.get_or_try_init(|| self.fetch(dock, id)).await.cloned()
    }

    async fn fetch(&self, dock: &str, id: &str) -> Result<Credential, EngineError> {
        let fail = |message: String| EngineError::Credential {
            dock: dock.to_owned(),
            message,
        };
        let output = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| fail(describe(id, &e.into_service_error())))?;
        let Some(text) = output.secret_string() else {
            return Err(fail(format!(
                "Secrets Manager secret {id} has no string value; store the API token as the secret's text (or as JSON {{\"token\": \"…\"}})"
            )));
        };
        let token =
            token_of(text).map_err(|why| fail(format!("Secrets Manager secret {id} {why}")))?;
        tracing::debug!(
            dock,
            secret = id,
            "read the dock's credential from Secrets Manager"
        );
        Ok(Credential::new(token))
    }
}

/// Resolves `secret` references only; an `env` reference is refused naming its variable (use
/// `DefaultResolver` for both).
#[async_trait]
impl CredentialResolver for SecretsManagerResolver {
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError> {
        match &dock.credentials {
            CredentialRef::Secret(id) => self.credential(&dock.name, id).await,
            CredentialRef::Env(var) => Err(EngineError::Credential {
                dock: dock.name.clone(),
                message: format!(
                    "credentials come from environment variable {var}, which the Secrets Manager resolver does not read; resolve it with the default resolver"
                ),
            }),
        }
    }
}

/// What went wrong reading a secret, with what to do; from the error's code only, because a
/// service message may quote the request.
fn describe(id: &str, e: &GetSecretValueError) -> String {
    match e {
        GetSecretValueError::ResourceNotFoundException(_) => format!(
            "Secrets Manager secret {id} does not exist; create it with the provider's API token, or fix `credentials = {{ secret = \"…\" }}`"
        ),
        GetSecretValueError::DecryptionFailure(_) => format!(
            "Secrets Manager secret {id} cannot be decrypted; allow kms:Decrypt on its key to this function's role"
        ),
        _ if e.code() == Some("AccessDeniedException") => format!(
            "access to Secrets Manager secret {id} was denied; allow secretsmanager:GetSecretValue on it to this function's role"
        ),
        _ => format!(
            "Secrets Manager secret {id} could not be read ({}); check the region, the network path to Secrets Manager and the secret's state",
            e.code().unwrap_or("no error code")
        ),
    }
}

/// The token in a secret's text: the whole text, or the `token` field of a JSON object.
fn token_of(text: &str) -> Result<String, &'static str> {
    let text = text.trim();
    let token = if text.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => match map.get("token") {
                Some(serde_json::Value::String(t)) => t.trim().to_owned(),
                _ => {
                    return Err("is JSON without a string `token` field; store {\"token\": \"…\"}");
                }
            },
            // Not JSON after all: a raw token that happens to start with `{`.
            _ => text.to_owned(),
        }
    } else {
        text.to_owned()
    };
    if token.is_empty() {
        return Err("is empty; put the provider's API token in it");
    }
    Ok(token)
}

/// The resolver of the CLI and the Lambda functions: `env` references from the process
/// environment, `secret` references from Secrets Manager through a `SecretsManagerResolver` built
/// on first use (so a config without secrets never loads AWS configuration).
#[derive(Debug, Default)]
pub struct DefaultResolver {
    secrets: OnceCell<SecretsManagerResolver>,
}

impl DefaultResolver {
    pub fn new() -> DefaultResolver {
        DefaultResolver::default()
    }

    /// Uses `secrets` for `secret` references instead of one built from the environment's AWS
    /// configuration (tests, or a caller that already loaded an `SdkConfig`).
    pub fn with_secrets(secrets: SecretsManagerResolver) -> DefaultResolver {
        DefaultResolver {
            secrets: OnceCell::new_with(Some(secrets)),
        }
    }

    async fn secrets(&self) -> &SecretsManagerResolver {
        self.secrets
            .get_or_init(|| async {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                SecretsManagerResolver::new(&sdk)
            })
            .await
    }
}

#[async_trait]
impl CredentialResolver for DefaultResolver {
    async fn resolve(&self, dock: &DockConfig) -> Result<Credential, EngineError> {
        match &dock.credentials {
            CredentialRef::Env(_) => EnvResolver.resolve(dock).await,
            CredentialRef::Secret(id) => self.secrets().await.credential(&dock.name, id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_raw_token_or_json_with_a_token_field() {
        assert_eq!(token_of("abc123\n").as_deref(), Ok("abc123"));
        assert_eq!(
            token_of(r#"{"token": " abc123 "}"#).as_deref(),
            Ok("abc123")
        );
        assert_eq!(token_of("{not json").as_deref(), Ok("{not json"));
        assert!(token_of("  ").is_err());
        assert!(token_of(r#"{"token": ""}"#).is_err());
        assert!(token_of(r#"{"api_key": "abc"}"#).is_err());
        assert!(token_of(r#"{"token": 5}"#).is_err());
    }

    #[test]
    fn errors_never_quote_the_value() {
        let e = token_of(r#"{"tok": "s3cr3t-value"}"#).expect_err("no token field");
        assert!(!e.contains("s3cr3t"));
    }
}
