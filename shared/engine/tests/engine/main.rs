//! stackdock-engine's integration tests: one binary, one module per topic.

mod apply;
mod env_values;
mod failed;
mod faults;
mod properties;
mod sandbox;
mod secrets;
mod states;
mod steps;
mod support;
