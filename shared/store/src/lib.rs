//! StackDock's storage: the `Store` trait every backend implements (`sqlite` embedded, `dynamodb`
//! in AWS), the records it keeps beyond the universal tables (runs, leases, create intents), the
//! conformance suite every backend must pass, and (`testing`) the moto harness for tests.
//!
//! Backends decide how to store, never what: which records changed, what is missing and who holds
//! the lease are answered by the same rules in every backend, checked by `conformance`.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dynamodb;
mod model;
mod page;
mod rules;
mod runlog;
pub mod sqlite;
mod store;
#[cfg(feature = "conformance")]
pub mod testing;

pub use dynamodb::DynamoStore;
pub use model::*;
pub use page::key as page_key;
pub use rules::{APPLY_OWNED, MAX_FULL_API_DATA_BYTES};
pub use runlog::{CHUNK_BYTES as RUN_CHUNK_BYTES, MAX_MESSAGE_BYTES as RUN_MAX_MESSAGE_BYTES};
pub use sqlite::SqliteStore;
pub use store::{Store, StoreError};
