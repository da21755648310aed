//! The `apply` Lambda function: the steps of the apply state machine (`begin`, `run-batch`,
//! `poll-ready`, `finish`, `abandon`; see `stackdock_functions::applymachine`) and, for local
//! runs, the asynchronous worker that applies a Pending run named by `{"run_id": …}` in one
//! invocation (see `stackdock_functions::apply`).

use lambda_runtime::{Error, service_fn};
use stackdock_functions::{Deps, applymachine, init_tracing};

/// mimalloc: a sync allocates and frees millions of small values (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let deps = Deps::from_env().await?;
    lambda_runtime::run(service_fn(|event| applymachine::handler(event, &deps))).await
}
