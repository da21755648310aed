//! stackdock-core's integration tests: one binary, one module per topic.

mod config;
mod fixtures;
mod plan;
mod purity;
mod render;
