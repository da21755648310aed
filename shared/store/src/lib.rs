//! StackDock's storage: the `Store` trait every backend implements, the records it keeps beyond
//! the universal tables (runs, leases, create intents), and the conformance suite every backend
//! must pass.
//!
//! Backends decide how to store, never what: which records changed, what is missing and who holds
//! the lease are answered by the same rules in every backend, checked by `conformance`.

#[cfg(feature = "conformance")]
pub mod conformance;
mod model;
pub mod sqlite;
mod store;

pub use model::*;
pub use sqlite::SqliteStore;
pub use store::{Store, StoreError};
