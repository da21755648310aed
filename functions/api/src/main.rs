//! The `api` Lambda function: StackDock's Function URL (plan, apply submission, runs, inventory,
//! drift, health), an axum router served by `lambda_http` (see `stackdock_functions::api`).

use lambda_http::Error;
use stackdock_functions::{Deps, api, init_tracing};

/// mimalloc: a sync allocates and frees millions of small values (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    // Routes and the apply allow-list first: a bad value stops the cold start before any client
    // is built.
    let options = api::ApiOptions::from_env()?;
    let deps = Deps::from_env().await?;
    lambda_http::run(api::router_with(deps, options)).await
}
