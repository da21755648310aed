//! StackDock's pure core: the `stackdock.toml` language, the universal resource model, the plan
//! engine and its renderers.
//!
//! Nothing in this crate performs I/O, reads a clock or draws a random number: every function takes
//! values and returns a value, so the same inputs always give a byte-identical plan. It must never
//! depend on tokio, reqwest or any aws-* crate (checked by `tests/purity.rs`).

pub mod api_data;
pub mod compact;
pub mod config;
pub mod dns;
pub mod dock_settings;
pub mod env_values;
pub mod import;
pub mod kind;
pub mod notify;
pub mod plan;
pub mod record;
pub mod render;
pub mod schema;
pub mod value;
pub mod web_service;

pub use api_data::ApiData;
pub use compact::{VecMap, VecSet};
pub use compact_str::CompactString;
pub use kind::{Kind, ProviderKind};
pub use record::Record;
pub use value::FieldValue;
