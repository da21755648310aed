//! stackdock-core's integration tests: one binary, one module per topic.

mod config;
mod plan;
mod purity;
