//! The `stackdock` binary end to end: one test binary, one module per topic.

mod concurrency;
mod crash;
mod catalog;
mod docks;
mod hostile;
mod import;
mod notify;
mod server;
mod support;
mod validate;
mod workflow;
