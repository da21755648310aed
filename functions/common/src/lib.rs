//! StackDock's AWS Lambda handlers, shared by the thin function binaries (`sync`, `api`,
//! `apply`): each binary initialises tracing, builds `Deps` once per cold start and hands a
//! handler from here to the Lambda runtime.
//!
//! Handlers parse the event, call the engine and map errors; deciding what to change stays in
//! `stackdock-core` and doing it in `stackdock-engine`.

pub mod api;
pub mod apply;
pub mod applymachine;
mod deps;
mod error;
pub mod fanout;
pub mod metrics;
pub mod notify;
mod plans;
mod submit;
pub mod sync;
mod telemetry;

pub use deps::{Deps, SYNC_DOCK_VAR, aws_timeouts, lambda_target, load_config};
pub use error::{FunctionError, NON_RETRYABLE, RETRYABLE};
pub use submit::{
    APPLY_STATE_MACHINE_VAR, ApplySubmitter, InProcessSubmitter, LambdaSubmitter,
    REMEDIATION_PREFIX, StateMachineSubmitter, SubmitError, submit_apply, submit_remediation,
};
pub use telemetry::init_tracing;
