//! stackdock-engine's integration tests: one binary, one module per topic.

mod apply;
mod failed;
mod faults;
mod properties;
mod sandbox;
mod secrets;
mod states;
mod steps;
mod support;
