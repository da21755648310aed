//! The `stackdock` binary end to end: one test binary, one module per topic.

mod catalog;
mod concurrency;
mod crash;
mod docks;
mod hostile;
mod import;
mod notify;
mod server;
mod support;
mod validate;
mod workflow;
