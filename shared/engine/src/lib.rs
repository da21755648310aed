//! StackDock's engine: sync every dock into the store, plan against it, apply a plan under the
//! lease — the same code for the CLI and the Lambda functions.
//!
//! The engine owns effects and ordering; it never decides what to change (that is the plan's job
//! in `stackdock-core`) and never speaks HTTP (that is the adapters' job).

mod apply;
mod catalog;
mod credentials;
mod docks;
mod env_values;
mod error;
mod failed;
mod follow;
mod healing;
pub mod notify;
mod planning;
mod power;
mod secrets;
pub mod steps;
mod sync;

pub use apply::{ApplyOptions, ApplyReport, Progress, apply, lease_name};
pub use catalog::{DockCatalog, dock_catalog};
pub use credentials::{CredentialResolver, EnvResolver, StaticResolver};
pub use docks::{Adapters, Docks, ProviderFactory};
pub use error::EngineError;
pub use planning::{
    PlanOptions, dock_states, plan_against, plan_current, record_drift, record_drift_noting,
};
pub use power::{PowerReport, power};
pub use secrets::{CREDENTIAL_TTL, DefaultResolver, SecretsManagerResolver, secrets_retry};
pub use sync::{
    DockOutcome, DockTiming, SyncOptions, SyncReport, failed_docks, finish_run, sync, sync_one,
};
