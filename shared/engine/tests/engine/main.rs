//! stackdock-engine's integration tests: one binary, one module per topic.

mod apply;
mod states;
mod support;
