//! The scenarios, one module each.

pub mod apply;
pub mod fanout;
pub mod fanout_wall;
pub mod memory;
pub mod pages;
pub mod plan;
pub mod resync;
pub mod sync;
