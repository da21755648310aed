//! Credentials from AWS Secrets Manager: `credentials = { secret = "…" }` read at most once per
//! [`CREDENTIAL_TTL`] per secret per process (and again on demand after a provider rejects the
//! token), and `DefaultResolver`, which reads `env` references from the environment and `secret`
//! references from Secrets Manager.
//!
//! A secret's value is either the raw token or a JSON object with a `token` field. The value is
//! kept only inside `Credential` (printed as `***`); logs and errors name the dock and the secret
//! id, never the value, nor the service's message about it.
//!
//! # Errors
//! A read that fails transiently (throttling, a 5xx, a timeout, no connection) is retried by the
//! SDK with bounded backoff ([`secrets_retry`]); if it still fails it is
//! [`EngineError::CredentialUnavailable`] (retryable) and nothing is cached, so the next resolve
//! reads again. Anything else (no such secret, access denied, no token in it) is
//! [`EngineError::Credential`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use stackdock_core::config::{CredentialRef, DockConfig};
use stackdock_providers::Credential;
use tokio::sync::OnceCell;

use crate::{CredentialResolver, EngineError, EnvResolver};

/// How long a credential read from Secrets Manager is used before it is read again, so a rotated
/// token reaches a warm function within this time (a provider's 401 re-reads it at once). One
/// read per secret per 15 minutes is far below Secrets Manager's quotas and costs nothing worth
/// counting.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(15 * 60);

/// The retry policy of Secrets Manager reads: up to 4 attempts, exponential backoff with jitter
/// from 100 ms, each wait at most 2 s (about 3.5 s of waiting in the worst case; with the attempt
/// timeout of `aws_timeouts`, well inside a function's timeout).
pub fn secrets_retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(2))
}

/// One secret's last good read.
#[derive(Debug, Clone)]
struct Cached {
    credential: Credential,
    read_at: Instant,
}

/// One secret's cache entry, locked while it is read.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Reads dock tokens from Secrets Manager. Build it once per process (a Lambda cold start) from
/// the process's `SdkConfig`: each secret is fetched at most once per `ttl` and otherwise served
/// from memory, so a warm function makes one Secrets Manager call per secret per TTL.
#[derive(Debug, Clone)]
pub struct SecretsManagerResolver {
    client: aws_sdk_secretsmanager::Client,
    ttl: Duration,
    /// One slot per secret id; the async lock makes concurrent resolves of one secret share one
    /// read. A failed read leaves the slot as it was, so a transient failure is retried by the
    /// next resolve instead of sticking for the life of the process.
    cache: Arc<Mutex<HashMap<String, Slot>>>,
}

impl SecretsManagerResolver {
    /// A resolver on the process's `SdkConfig`, with [`secrets_retry`] and [`CREDENTIAL_TTL`].
    pub fn new(sdk: &aws_config::SdkConfig) -> SecretsManagerResolver {
        let config = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .retry_config(secrets_retry())
            .build();
        SecretsManagerResolver::from_client(aws_sdk_secretsmanager::Client::from_conf(config))
    }

    /// A resolver on a ready client (its own retry policy) with [`CREDENTIAL_TTL`].
    pub fn from_client(client: aws_sdk_secretsmanager::Client) -> SecretsManagerResolver {
        SecretsManagerResolver {
            client,
            ttl: CREDENTIAL_TTL,
            cache: Arc::default(),
        }
    }

    /// The same resolver with another time-to-live (tests).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> SecretsManagerResolver {
        self.ttl = ttl;
        self
    }

    fn slot(&self, id: &str) -> Slot {
        // A poisoned lock only means another task panicked while inserting a slot; the map is
        // still a valid cache, so keep using it.
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cache.entry(id.to_owned()).or_default())
    }

    /// The credential stored in secret `id`, for `dock` (named in errors): from memory when read
    /// less than the TTL ago, else read now.
    pub async fn credential(&self, dock: &str, id: &str) -> Result<Credential, EngineError> {
        let slot = self.slot(id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.read_at.elapsed() < self.ttl
        {
            return Ok(c.credential.clone());
        }
        let credential = self.fetch(dock, id).await?;
        *cached = Some(Cached {
            credential: credential.clone(),
            read_at: Instant::now(),
        });
        Ok(credential)
    }

    /// Reads secret `id` again whatever the cache holds (after a provider rejected the token),
    /// unless another task re-read it since `since`.
    pub async fn reread(
        &self,
        dock: &str,
        id: &str,
        since: Instant,
    ) -> Result<Credential, EngineError> {
        let slot = self.slot(id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.read_at > since
        {
            return Ok(c.credential.clone());
        }
        let credential = self.fetch(dock, id).await?;
        *cached = Some(Cached {
            credential: credential.clone(),
            read_at: Instant::now(),
        });
        Ok(credential)
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
            .map_err(|e| read_error(dock, id, e))?;
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

    async fn reread(&self, dock: &DockConfig, since: Instant) -> Result<Credential, EngineError> {
        match &dock.credentials {
            CredentialRef::Secret(id) => self.reread(&dock.name, id, since).await,
            CredentialRef::Env(_) => self.resolve(dock).await,
        }
    }
}

/// A failed read as the engine reports it: transient failures (the SDK's retries already spent)
/// as `CredentialUnavailable`, the rest as `Credential`.
fn read_error(dock: &str, id: &str, e: SdkError<GetSecretValueError, HttpResponse>) -> EngineError {
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Some("no answer in time or no connection".to_owned())
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("no error code");
            let throttled = matches!(
                code,
                "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded"
            );
            (status >= 500
                || status == 429
                || throttled
                || matches!(se.err(), GetSecretValueError::InternalServiceError(_)))
            .then(|| format!("HTTP {status}, {code}"))
        }
        _ => None,
    };
    match transient {
        Some(what) => EngineError::CredentialUnavailable {
            dock: dock.to_owned(),
            message: format!(
                "Secrets Manager secret {id} could not be read for now ({what}, after retries); the next invocation reads it again"
            ),
        },
        None => EngineError::Credential {
            dock: dock.to_owned(),
            message: describe(id, &e.into_service_error()),
        },
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

    /// A secret that is not a dock's credential (the `[notify]` webhook URL): `owner` names it in
    /// messages.
    pub async fn secret(&self, owner: &str, id: &str) -> Result<Credential, EngineError> {
        self.secrets().await.credential(owner, id).await
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

    async fn reread(&self, dock: &DockConfig, since: Instant) -> Result<Credential, EngineError> {
        match &dock.credentials {
            CredentialRef::Env(_) => EnvResolver.resolve(dock).await,
            CredentialRef::Secret(id) => self.secrets().await.reread(&dock.name, id, since).await,
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
