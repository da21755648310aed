//! The `sync` Lambda function: an EventBridge Scheduler event syncs every dock, plans, flags
//! drift and, with `drift = "remediate"`, submits the apply (see `stackdock_functions::sync`).

use lambda_runtime::{Error, service_fn};
use stackdock_functions::{Deps, init_tracing, sync};

/// mimalloc: a sync allocates and frees millions of small values (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let deps = Deps::from_env().await?;
    lambda_runtime::run(service_fn(|event| sync::handler(event, &deps))).await
}
