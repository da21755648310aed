//! The HTTP plumbing every provider adapter shares: one reqwest client per process, one
//! `DockClient` per dock (base URL, credential, rate limiter, retries, counters), error
//! classification, and pagination for the three schemes.
//!
//! Adapters build requests and map wire types; they never look at status codes, sleep, retry or
//! page by hand. Nothing here decides what to create or delete.

mod classify;
mod client;
mod declaration;
mod dock;
mod limit;
mod paginate;
mod retry;
mod stats;

pub use client::{Client, ClientBuildError, ClientConfig, MAX_BODY_BYTES, USER_AGENT};
pub use declaration::{
    Declaration, ErrorBody, Pagination, RateHeaderForm, RateHeaders, WindowScope,
};
pub use dock::{DockClient, DockSettings};
pub use limit::{Bucket, RateLimits, Scope};
pub(crate) use paginate::page_items;
pub use paginate::{Item, ListOptions, MapItem};
pub use retry::{RetryPolicy, parse_retry_after};
pub use stats::{RequestStats, StatsSnapshot};
