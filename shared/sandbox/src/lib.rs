//! StackDock provider sandbox: a stateful local HTTP server that behaves like the
//! Vultr v2, DigitalOcean v2, Linode v4, Vercel and Cloudflare v4 REST APIs.
//!
//! One server on `127.0.0.1` serves every provider under its own prefix:
//! `/vultr/v2/...`, `/digitalocean/v2/...`, `/linode/v4/...`, `/vercel/...` (Vercel versions
//! each path: `/vercel/v5/domains`) and `/cloudflare/client/v4/...`. It checks the
//! bearer token, paginates exactly like each service (cursor, page/per_page,
//! page/page_size, Vercel's `until` timestamps), answers errors in each provider's own body format, moves newly
//! created resources from pending to running after a configurable number of polls,
//! and can inject faults (latency, 429, 5xx, timeouts, malformed or truncated
//! bodies, pagination loops, ...) per route. Every request is counted per route
//! template (`GET /vultr/v2/instances`).
//!
//! The sandbox is independent of the rest of StackDock on purpose: it is a fake
//! of the services, not of our code.
//!
//! ```no_run
//! # async fn demo() -> Result<(), stackdock_sandbox::SandboxError> {
//! use stackdock_sandbox::{Provider, Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! sandbox.seed_fixtures();
//! let endpoint = sandbox.base_url(Provider::Vultr); // http://127.0.0.1:PORT/vultr/v2
//! let token = sandbox.token(Provider::Vultr);
//! # let _ = (endpoint, token);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

#![allow(
    clippy::result_large_err,
    reason = "axum handlers return Result<Response, Response>: the error is the provider's error response"
)]

mod catalog;
mod cloudflare;
mod collection;
mod control;
mod digitalocean;
mod dns;
mod editable;
mod emulation;
mod faults;
mod http;
mod linode;
mod pagination;
mod server;
mod state;
mod vercel;
mod vultr;

pub use faults::{Counters, Fault, FaultRule, RateLimit};
pub use server::{Sandbox, SandboxConfig, SandboxHandle, ServeOptions, serve};
pub use state::{Change, Mutation, ResourceSummary, Resources, Target};

use serde::{Deserialize, Serialize};

/// Every secret value the sandbox hands out (passwords, console URLs' tokens,
/// database credentials) starts with this marker, so leak tests can grep for it.
pub const SECRET_MARKER: &str = "SANDBOX-SECRET-";

/// One request a provider route answered, as recorded by
/// [`SandboxHandle::record_exchanges`]: what an API document's operation describes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    pub provider: Provider,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path under the provider's prefix, without the query (`/instances/9f1…`).
    pub path: String,
    /// The JSON request body (`None`: no body).
    pub request: Option<serde_json::Value>,
    pub status: u16,
    /// The JSON response body (`None`: no body, or not JSON).
    pub response: Option<serde_json::Value>,
}

/// A provider the sandbox speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Vultr API v2, served under `/vultr/v2`.
    Vultr,
    /// DigitalOcean API v2, served under `/digitalocean/v2`.
    #[serde(alias = "do")]
    Digitalocean,
    /// Linode (Akamai) API v4, served under `/linode/v4`.
    Linode,
    /// Vercel's REST API, served under `/vercel` (each path carries its own version).
    Vercel,
    /// Cloudflare API v4, served under `/cloudflare/client/v4`.
    Cloudflare,
}

impl Provider {
    /// All providers, in a stable order.
    pub const ALL: [Provider; 5] = [
        Provider::Vultr,
        Provider::Digitalocean,
        Provider::Linode,
        Provider::Vercel,
        Provider::Cloudflare,
    ];

    /// The lower-case name used in paths and counters (`vultr`, `digitalocean`, `linode`).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Vultr => "vultr",
            Provider::Digitalocean => "digitalocean",
            Provider::Linode => "linode",
            Provider::Vercel => "vercel",
            Provider::Cloudflare => "cloudflare",
        }
    }

    /// The path prefix of this provider's API on the sandbox (`/vultr/v2`, ...).
    pub fn prefix(self) -> &'static str {
        match self {
            Provider::Vultr => "/vultr/v2",
            Provider::Digitalocean => "/digitalocean/v2",
            Provider::Linode => "/linode/v4",
            Provider::Vercel => "/vercel",
            Provider::Cloudflare => "/cloudflare/client/v4",
        }
    }

    /// The default bearer token the sandbox accepts for this provider.
    pub fn default_token(self) -> &'static str {
        match self {
            Provider::Vultr => "sandbox-vultr-token",
            Provider::Digitalocean => "sandbox-digitalocean-token",
            Provider::Linode => "sandbox-linode-token",
            Provider::Vercel => "sandbox-vercel-token",
            Provider::Cloudflare => "sandbox-cloudflare-token",
        }
    }

    /// The provider whose prefix starts `path`, if any.
    pub fn from_path(path: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| {
            path.strip_prefix(p.prefix())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Provider {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "vultr" => Ok(Provider::Vultr),
            "digitalocean" | "do" => Ok(Provider::Digitalocean),
            "linode" => Ok(Provider::Linode),
            "vercel" => Ok(Provider::Vercel),
            "cloudflare" => Ok(Provider::Cloudflare),
            other => Err(SandboxError::Invalid(format!("unknown provider {other:?}"))),
        }
    }
}

/// A kind of resource, mapped onto each provider's own collection.
///
/// | kind | Vultr | DigitalOcean | Linode | Vercel | Cloudflare |
/// |---|---|---|---|---|---|
/// | `Instance` | `/instances` | `/droplets` | `/linode/instances` | – | – |
/// | `Volume` | `/blocks` | `/volumes` | `/volumes` | – | – |
/// | `Database` | `/databases` | – | – | – | `/accounts/{account_id}/d1/database` |
/// | `Bucket` | – | – | `/object-storage/buckets` | – | `/accounts/{account_id}/r2/buckets` |
/// | `Domain` | `/domains` | `/domains` | `/domains` | `/v5/domains` | `/zones` |
/// | `DomainRecord` | `/domains/{domain}/records` | `/domains/{name}/records` | `/domains/{id}/records` | `/v4/domains/{domain}/records` | `/zones/{zone_id}/dns_records` |
/// | `WebService` | – | – | – | `/v10/projects` | `/accounts/{account_id}/pages/projects` |
/// | `Worker` | – | – | – | – | `/accounts/{account_id}/workers/scripts` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Virtual machines: Vultr instances, DigitalOcean droplets, Linodes.
    #[serde(
        alias = "instances",
        alias = "droplet",
        alias = "droplets",
        alias = "linode"
    )]
    Instance,
    /// Block storage: Vultr blocks, DigitalOcean and Linode volumes.
    #[serde(alias = "volumes", alias = "block", alias = "blocks")]
    Volume,
    /// Vultr managed databases, Cloudflare D1 databases.
    #[serde(alias = "databases")]
    Database,
    /// Linode Object Storage buckets, Cloudflare R2 buckets.
    #[serde(alias = "buckets")]
    Bucket,
    /// DNS zones: DigitalOcean, Vultr and Linode domains.
    #[serde(alias = "domains", alias = "zone", alias = "zones")]
    Domain,
    /// DNS records of a zone.
    #[serde(
        rename = "domain_record",
        alias = "domain_records",
        alias = "record",
        alias = "records"
    )]
    DomainRecord,
    /// Web services: Vercel projects.
    #[serde(
        rename = "web_service",
        alias = "web_services",
        alias = "project",
        alias = "projects"
    )]
    WebService,
    /// Cloudflare Workers scripts (synced read-only).
    #[serde(alias = "workers", alias = "script", alias = "scripts")]
    Worker,
}

impl std::str::FromStr for Kind {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
            .map_err(|_| SandboxError::Invalid(format!("unknown resource kind {s:?}")))
    }
}

/// Errors of the sandbox's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Binding or serving the socket failed.
    #[error("sandbox I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The provider does not have this kind of resource.
    #[error("{provider} has no {kind:?} resources in the sandbox")]
    Unsupported {
        /// The provider asked for.
        provider: Provider,
        /// The kind asked for.
        kind: Kind,
    },
    /// The resource addressed by a mutation does not exist.
    #[error("no such resource: {0}")]
    NotFound(String),
    /// An argument was invalid.
    #[error("invalid sandbox request: {0}")]
    Invalid(String),
}
