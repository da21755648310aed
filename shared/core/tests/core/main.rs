//! stackdock-core's integration tests: one binary, one module per topic.

mod plan;
mod purity;
