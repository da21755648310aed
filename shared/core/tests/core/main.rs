//! stackdock-core's integration tests: one binary, one module per topic.

mod compact;
mod config;
mod fixtures;
mod hostile;
mod plan;
mod power;
mod properties;
mod purity;
mod read_only;
mod render;
