//! Renderers: one `Plan` value, three outputs (terminal text, JSON, pull-request Markdown).
//!
//! Every renderer is a pure function of the plan (and, for text, a colour switch decided by the
//! caller): no I/O, no clock, no environment reads, so the same plan always renders to the same
//! bytes. Renderers show the plan; they never decide anything about it.

pub mod html;
pub mod json;
pub mod markdown;
mod section;
pub mod text;

pub use section::Section;
