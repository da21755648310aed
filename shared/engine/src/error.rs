//! Engine errors: what went wrong, for which dock or address, and what to do.

use stackdock_core::plan::StaleReason;
use stackdock_providers::ProviderError;
use stackdock_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A dock's credential could not be found.
    #[error("dock `{dock}`: {message}")]
    Credential { dock: String, message: String },
    /// A dock's credential could not be read for now (Secrets Manager throttled, failed or did
    /// not answer, after retries): the next attempt may succeed.
    #[error("dock `{dock}`: {message}")]
    CredentialUnavailable { dock: String, message: String },
    /// A saved plan no longer matches the current one.
    #[error("the saved plan is stale: {}; run `stackdock plan` again and review the new plan", join(.reasons))]
    StalePlan { reasons: Vec<StaleReason> },
    /// A plan made for another org.
    #[error("the plan is for org `{plan}` but stackdock.toml declares org `{config}`")]
    WrongOrg { plan: String, config: String },
    #[error("{0}")]
    Invalid(String),
}

fn join(reasons: &[StaleReason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
