//! StackDock's benchmark harness: the real engine driven against the provider sandbox, every figure
//! printed beside its lower bound computed in the same run.
//!
//! Scenarios live in `scenarios/`, one file each; `fleet.rs` builds a sandbox-backed fleet of a
//! given size; `bounds.rs` holds the lower-bound arithmetic; `report.rs` prints. Times are only
//! ever reported, never asserted: the tests of this crate pin the deterministic counts.

pub mod bounds;
pub mod cli;
pub mod fleet;
pub mod memory;
pub mod report;
pub mod scenarios;
