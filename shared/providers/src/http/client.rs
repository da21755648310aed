//! `Client`: the one reqwest client of the process (rustls, timeouts, User-Agent).
//!
//! It owns connection pooling and transport settings only; it knows nothing of docks,
//! credentials, retries or providers (that is `DockClient`).

use std::sync::OnceLock;
use std::time::Duration;

/// `stackdock/<version> (+https://github.com/stackdock/stackdock)`.
pub const USER_AGENT: &str = concat!(
    "stackdock/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/stackdock/stackdock)"
);

/// The default cap on one response body: 4 MiB (it was 32 MiB).
///
/// The largest legitimate answer is a listing page: at most 500 objects (the providers' maximum
/// page size) of ~1–2 KiB, about 1 MiB, so 4 MiB leaves 4× headroom. A body is held about twice
/// while it is decoded (the bytes, then the objects' text). A listing has at most 8 pages in
/// flight (`DockSettings::page_concurrency`), so one misbehaving route costs at most
/// 4 MiB × 8 × 2 = 64 MiB of the 256 MB sync function, beside ~30 MiB of runtime and ~50 MiB
/// for a 10,000-resource inventory (BENCHMARKS.md); at 32 MiB the same route could take 512 MiB,
/// twice the function. (Every route of several docks misbehaving at once is not bounded by a
/// per-response cap; that needs a process-wide byte budget.)
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Transport settings shared by every dock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Time to establish a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Time for one whole request, body included. One attempt: retries get their own.
    pub request_timeout: Duration,
    /// Largest response body read into memory; larger answers fail as transient
    /// "response too large" (not retried) instead of exhausting memory: the dock whose provider
    /// sent it fails, the others sync. See [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// Building the HTTP client failed (the TLS backend could not initialise).
#[derive(Debug, Clone, thiserror::Error)]
#[error("building the HTTP client failed: {0}")]
pub struct ClientBuildError(String);

/// The process's HTTP client. Cloning is cheap (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: reqwest::Client,
    pub(crate) config: ClientConfig,
}

impl Client {
    /// A client with these settings. Build one per process (or use [`Client::shared`]) and
    /// clone it: every build creates a new connection pool.
    pub fn new(config: ClientConfig) -> Result<Client, ClientBuildError> {
        let inner = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Providers never redirect API calls; following one could send the bearer token
            // to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientBuildError(e.to_string()))?;
        Ok(Client { inner, config })
    }

    /// The process-wide client with default settings, built on first use.
    pub fn shared() -> Result<Client, ClientBuildError> {
        static SHARED: OnceLock<Result<Client, ClientBuildError>> = OnceLock::new();
        SHARED
            .get_or_init(|| Client::new(ClientConfig::default()))
            .clone()
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_version_and_project() {
        assert!(USER_AGENT.starts_with("stackdock/0."));
        assert!(USER_AGENT.ends_with("(+https://github.com/stackdock/stackdock)"));
    }

    #[test]
    fn shared_client_builds_once() {
        let a = Client::shared().expect("client builds");
        let b = Client::shared().expect("client builds");
        assert_eq!(a.config, b.config);
        assert_eq!(a.config.connect_timeout, Duration::from_secs(10));
    }
}
