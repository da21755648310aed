//! The `stackdock` binary end to end: one test binary, one module per topic.

mod support;
mod validate;
mod workflow;
