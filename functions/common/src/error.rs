//! `FunctionError`: why an invocation failed, classified once into the `error_type` Lambda
//! reports (`Retryable` or `NonRetryable`), so a retry policy or an alarm can match on it.

use lambda_runtime::Diagnostic;
use stackdock_engine::EngineError;
use stackdock_providers::ErrorClass;
use stackdock_store::StoreError;

use crate::SubmitError;

/// The `error_type` of a failure worth retrying (a provider or the store failed transiently).
pub const RETRYABLE: &str = "Retryable";
/// The `error_type` of a failure that needs a person (invalid config, a missing credential).
pub const NON_RETRYABLE: &str = "NonRetryable";

/// A failed invocation. Messages name docks, secrets and runs, never a credential value.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// stackdock.toml could not be found, read or parsed.
    #[error("stackdock.toml: {0}")]
    Config(String),
    /// The function's settings (environment) are invalid: it does not start.
    #[error("{0}")]
    Startup(String),
    /// The event is not what this function handles.
    #[error("unexpected event: {0}")]
    Event(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The apply run was recorded but could not be handed to the apply function.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// One dock failed to sync (the sync state machine's `sync-dock` step): its records are
    /// untouched, its status says why and its plan is blocked.
    #[error("run {run_id}: dock `{dock}` failed to sync: {message}")]
    DockFailed {
        run_id: String,
        dock: String,
        message: String,
        /// Whether the failure needs a person (retrying cannot fix a refused credential).
        credential_problem: bool,
    },
    /// Some docks failed to sync; their records are untouched and their plans blocked.
    #[error("run {run_id}: {failed} of {total} docks failed to sync: {detail}")]
    DocksFailed {
        run_id: String,
        failed: usize,
        total: usize,
        detail: String,
        /// Whether every failure is a credential problem (retrying cannot fix those).
        credentials_only: bool,
    },
}

impl FunctionError {
    /// Whether the same invocation may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            FunctionError::Config(_) | FunctionError::Startup(_) | FunctionError::Event(_) => false,
            FunctionError::Engine(e) => engine_retryable(e),
            FunctionError::Store(e) => store_retryable(e),
            FunctionError::Submit(_) => true,
            FunctionError::DockFailed {
                credential_problem, ..
            } => !credential_problem,
            FunctionError::DocksFailed {
                credentials_only, ..
            } => !credentials_only,
        }
    }

    /// `Retryable` or `NonRetryable`.
    pub fn error_type(&self) -> &'static str {
        if self.is_retryable() {
            RETRYABLE
        } else {
            NON_RETRYABLE
        }
    }
}

fn engine_retryable(e: &EngineError) -> bool {
    match e {
        EngineError::Store(e) => store_retryable(e),
        EngineError::Provider(e) => {
            matches!(e.class, ErrorClass::Transient | ErrorClass::RateLimited)
        }
        // Secrets Manager throttled, failed or did not answer: the next invocation reads again.
        EngineError::CredentialUnavailable { .. } => true,
        EngineError::Credential { .. }
        | EngineError::StalePlan { .. }
        | EngineError::WrongOrg { .. }
        | EngineError::Invalid(_) => false,
    }
}

fn store_retryable(e: &StoreError) -> bool {
    match e {
        // A held lease frees itself; a backend failure (throttling, network) is usually transient.
        StoreError::Backend(_) | StoreError::LeaseHeld { .. } => true,
        StoreError::LeaseLost { .. } | StoreError::Conflict(_) | StoreError::Corrupt(_) => false,
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdock_providers::ProviderError;

    #[test]
    fn transient_failures_are_retryable_and_config_problems_are_not() {
        let transient = FunctionError::Engine(EngineError::Provider(ProviderError::new(
            ErrorClass::Transient,
            "vultr-main",
            "GET /instances",
            "502",
        )));
        assert_eq!(Diagnostic::from(transient).error_type, RETRYABLE);
        let store = FunctionError::Store(StoreError::Backend("throttled".into()));
        assert_eq!(store.error_type(), RETRYABLE);
        let config = FunctionError::Config("line 3: unknown key".into());
        assert_eq!(Diagnostic::from(config).error_type, NON_RETRYABLE);
        let credential = FunctionError::Engine(EngineError::Credential {
            dock: "do-main".into(),
            message: "secret missing".into(),
        });
        assert_eq!(credential.error_type(), NON_RETRYABLE);
        let unauthorized = FunctionError::Engine(EngineError::Provider(ProviderError::new(
            ErrorClass::Unauthorized,
            "do-main",
            "GET /account",
            "401",
        )));
        assert_eq!(unauthorized.error_type(), NON_RETRYABLE);
    }
}
