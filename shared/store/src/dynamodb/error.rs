//! The one place DynamoDB SDK failures are classified and become `StoreError`s, each with the
//! table and operation it failed on. Request bodies are never included (records may be large and
//! a lease owner or intent is nobody's business in a log line): only the service's error code
//! and message, or the transport failure.

use std::error::Error;
use std::fmt::{self, Debug};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// What a failure means for the caller: the retry policy and the conditional writes read this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A condition expression was false (lease held, intent exists, not the owner).
    ConditionFailed,
    /// The table (or index) does not exist.
    TableMissing,
    /// The table exists already (creating it).
    TableExists,
    /// Throttled beyond the SDK's own retries.
    Throttled,
    /// Credentials missing, wrong, expired or not allowed.
    Unauthorized,
    /// A network failure, timeout or 5xx: retrying later may work.
    Transient,
    /// The request was invalid (a bug here, or an item DynamoDB cannot hold).
    Invalid,
    Other,
}

/// A classified DynamoDB failure.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) class: Class,
    context: String,
    detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match self.class {
            Class::TableMissing => {
                " (the table does not exist: run `stackdock tables create --store \
                 dynamodb://<prefix>` locally, or deploy the SAM template)"
            }
            Class::Throttled => " (DynamoDB throttled the request; retry later)",
            Class::Unauthorized => {
                " (check the AWS credentials and region, and that the IAM policy allows this \
                 table)"
            }
            Class::Transient => " (a network or service failure; retry)",
            _ => "",
        };
        write!(f, "{}: {}{hint}", self.context, self.detail)
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> StoreError {
        StoreError::Backend(failure.to_string())
    }
}

/// Classifies an SDK failure of the operation described by `context` (`servers: query dock …`).
pub(crate) fn classify<E, R>(context: impl Into<String>, error: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug + 'static,
{
    let context = context.into();
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("unknown error");
            let class = class_of_code(code);
            let detail = match err.message() {
                Some(message) => format!("{code}: {message}"),
                None => code.to_owned(),
            };
            Failure {
                class,
                context,
                detail,
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure {
                class: Class::Transient,
                context,
                detail: DisplayErrorContext(&error).to_string(),
            }
        }
        _ => Failure {
            class: Class::Other,
            context,
            detail: DisplayErrorContext(&error).to_string(),
        },
    }
}

/// A failure to build a request (a required field missing: a bug here).
pub(crate) fn build_failed(context: &str, error: impl fmt::Display) -> StoreError {
    StoreError::Backend(format!("{context}: cannot build the request: {error}"))
}

fn class_of_code(code: &str) -> Class {
    match code {
        "ConditionalCheckFailedException" => Class::ConditionFailed,
        "ResourceNotFoundException" => Class::TableMissing,
        "ResourceInUseException" => Class::TableExists,
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "LimitExceededException" => Class::Throttled,
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "MissingAuthenticationTokenException"
        | "IncompleteSignatureException" => Class::Unauthorized,
        "InternalServerError" | "ServiceUnavailable" | "InternalFailure" => Class::Transient,
        "ValidationException"
        | "SerializationException"
        | "ItemCollectionSizeLimitExceededException" => Class::Invalid,
        _ => Class::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_classes() {
        assert_eq!(
            class_of_code("ConditionalCheckFailedException"),
            Class::ConditionFailed
        );
        assert_eq!(
            class_of_code("ResourceNotFoundException"),
            Class::TableMissing
        );
        assert_eq!(class_of_code("ThrottlingException"), Class::Throttled);
        assert_eq!(
            class_of_code("UnrecognizedClientException"),
            Class::Unauthorized
        );
        assert_eq!(class_of_code("SomethingNew"), Class::Other);
    }

    #[test]
    fn a_missing_table_says_how_to_create_it() {
        let failure = Failure {
            class: Class::TableMissing,
            context: "servers: query dock `acme/v`".into(),
            detail: "ResourceNotFoundException: Requested resource not found".into(),
        };
        let message = StoreError::from(failure).to_string();
        assert!(message.contains("servers: query dock"), "{message}");
        assert!(message.contains("stackdock tables create"), "{message}");
    }
}
