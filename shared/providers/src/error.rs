//! The classified provider error: one shape for every provider, classified once where the response
//! is read, so retry policy and messages never inspect status codes again.

use std::fmt;
use std::time::Duration;

/// What kind of failure it was: the only thing retry policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The resource does not exist (404): for a read, "gone", not a failure.
    NotFound,
    /// The credential was rejected (401/403).
    Unauthorized,
    /// Too many requests (429); `retry_after` says when to come back, if the provider said.
    RateLimited,
    /// The provider or the network failed (5xx, timeout, reset, malformed body): may succeed later.
    Transient,
    /// The request was wrong (400/422): retrying the same request cannot succeed.
    Invalid,
    /// The request conflicts with the resource's current state (409, a busy resource).
    Conflict,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::NotFound => "not found",
            ErrorClass::Unauthorized => "unauthorized",
            ErrorClass::RateLimited => "rate limited",
            ErrorClass::Transient => "transient failure",
            ErrorClass::Invalid => "invalid request",
            ErrorClass::Conflict => "conflict",
        }
    }
}

/// A provider's message about one request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A failed provider call, naming the dock and route. Never contains a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProviderError {
    pub class: ErrorClass,
    /// Dock name.
    pub dock: String,
    /// Method and route template, e.g. `GET /instances`.
    pub route: String,
    /// The provider's message, or what went wrong on our side.
    pub message: String,
    pub fields: Vec<FieldError>,
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(
        class: ErrorClass,
        dock: impl Into<String>,
        route: impl Into<String>,
        message: impl Into<String>,
    ) -> ProviderError {
        ProviderError {
            class,
            dock: dock.into(),
            route: route.into(),
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn is(&self, class: ErrorClass) -> bool {
        self.class == class
    }
}

/// `Ok(None)` for a resource that does not exist (404), the value otherwise: how every adapter's
/// read treats "gone".
pub(crate) fn found<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(ErrorClass::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A delete (or untag) of something already gone is success.
pub(crate) fn gone_ok<T>(result: Result<T, ProviderError>) -> Result<(), ProviderError> {
    found(result).map(|_| ())
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dock `{}`: {}: {}: {}",
            self.dock,
            self.route,
            self.class.as_str(),
            self.message
        )?;
        for fe in &self.fields {
            write!(f, "; {}: {}", fe.field, fe.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_absence() {
        let nf = ProviderError::new(ErrorClass::NotFound, "d", "GET /x", "gone");
        let tr = ProviderError::new(ErrorClass::Transient, "d", "GET /x", "boom");
        assert_eq!(found::<u8>(Err(nf.clone())), Ok(None));
        assert_eq!(found(Ok(1)), Ok(Some(1)));
        assert_eq!(found::<u8>(Err(tr.clone())), Err(tr.clone()));
        assert_eq!(gone_ok::<()>(Err(nf)), Ok(()));
        assert!(gone_ok::<()>(Err(tr)).is_err());
    }
}
