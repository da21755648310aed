//! StackDock's AWS Lambda handlers, shared by the thin function binaries (`sync`, `api`,
//! `apply`): each binary initialises tracing, builds `Deps` once per cold start and hands a
//! handler from here to the Lambda runtime.
//!
//! Handlers parse the event, call the engine and map errors; deciding what to change stays in
//! `stackdock-core` and doing it in `stackdock-engine`.

pub mod api;
pub mod apply;
mod deps;
mod error;
mod plans;
mod submit;
pub mod sync;
mod telemetry;

pub use deps::{Deps, lambda_target, load_config};
pub use error::FunctionError;
pub use submit::{ApplySubmitter, InProcessSubmitter, LambdaSubmitter, SubmitError, submit_apply};
pub use telemetry::init_tracing;
