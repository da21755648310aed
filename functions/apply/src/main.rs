//! The `apply` Lambda function: the asynchronous worker that applies a Pending run named by
//! `{"run_id": …}`, once, whatever the number of deliveries (see `stackdock_functions::apply`).

use lambda_runtime::{Error, service_fn};
use stackdock_functions::{Deps, apply, init_tracing};

/// mimalloc: a sync allocates and frees millions of small values (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let deps = Deps::from_env().await?;
    lambda_runtime::run(service_fn(|event| apply::handler(event, &deps))).await
}
