//! The `sync` Lambda function: the steps of the sync state machine (`list-docks`, `plan`, and
//! `sync-dock` as the stack's sync-dock function) and, for local runs, the EventBridge schedule
//! event that syncs every dock in one invocation (see `stackdock_functions::fanout`).

use lambda_runtime::{Error, service_fn};
use stackdock_functions::{Deps, fanout, init_tracing};

/// mimalloc: a sync allocates and frees millions of small values (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let deps = Deps::from_env().await?;
    lambda_runtime::run(service_fn(|event| fanout::handler(event, &deps))).await
}
