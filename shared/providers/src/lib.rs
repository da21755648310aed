//! StackDock's provider layer: the `Provider` contract every adapter implements, the classified
//! error they return, the credential wrapper, and an in-memory fake for engine tests.
//!
//! Adapters translate; they decide nothing. Whether to create, update or delete is the plan's
//! decision, and whether to retry a failure is the engine's, read from the error's class.

mod credential;
mod error;
pub mod fake;
pub mod http;
mod provider;
pub mod redact;

pub use credential::Credential;
pub use error::{ErrorClass, FieldError, ProviderError};
pub use provider::{DockContext, Provider, Request};
