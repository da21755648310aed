//! Starting and stopping the sandbox: configuration, the shared application state
//! behind the handlers, the in-process [`SandboxHandle`] and the blocking CLI entry
//! point [`serve`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::emulation::{self, EMULATIONS, RateHeaders};
use crate::faults::{Bucket, BucketState, Counters, FaultRule, FaultSet, RateLimit};
use crate::state::{Lifecycle, Mutation, Resources, State};
use crate::{Kind, Provider, SandboxError, control, http};

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Accepted bearer tokens per provider (defaults: `sandbox-<provider>-token`).
    pub tokens: HashMap<Provider, String>,
    /// How many GETs/LISTs that include a new instance it stays pending for (default 2).
    pub pending_polls: u32,
    /// How many GETs of a DigitalOcean action it stays `in-progress` for (default 2).
    pub action_polls: u32,
    /// Latency added to every provider request.
    pub latency: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            tokens: Provider::ALL
                .into_iter()
                .map(|p| (p, p.default_token().to_owned()))
                .collect(),
            pending_polls: 2,
            action_polls: 2,
            latency: Duration::ZERO,
        }
    }
}

impl SandboxConfig {
    /// Listen on this port (0 = any free port).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Accept `token` for `provider`.
    #[must_use]
    pub fn with_token(mut self, provider: Provider, token: impl Into<String>) -> Self {
        self.tokens.insert(provider, token.into());
        self
    }

    /// Keep new resources pending for `n` observations.
    #[must_use]
    pub fn with_pending_polls(mut self, n: u32) -> Self {
        self.pending_polls = n;
        self
    }

    /// Keep DigitalOcean actions in progress for `n` polls.
    #[must_use]
    pub fn with_action_polls(mut self, n: u32) -> Self {
        self.action_polls = n;
        self
    }
}

/// Options for [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Server configuration (its `port` is overridden by `serve`'s argument).
    pub config: SandboxConfig,
    /// Seed the fixture resources (default true).
    pub seed_fixtures: bool,
    /// Extra generated resources: `(provider, kind, count)`.
    pub bulk: Vec<(Provider, Kind, usize)>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            config: SandboxConfig::default(),
            seed_fixtures: true,
            bulk: Vec::new(),
        }
    }
}

/// Lock a mutex, ignoring poisoning (state stays usable after a panicking test).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) faults: Mutex<FaultSet>,
    pub(crate) counters: Mutex<Counters>,
    buckets: Mutex<HashMap<Provider, Bucket>>,
    /// Nominal rate-limit header windows: (window start, requests in it).
    nominal: Mutex<HashMap<Provider, (Instant, u64)>>,
    pub(crate) latency: Mutex<Duration>,
    /// Every exchange answered while recording is on (`None`: off, nothing is buffered).
    pub(crate) journal: Mutex<Option<Vec<crate::Exchange>>>,
    tokens: HashMap<Provider, String>,
    pub(crate) lifecycle: Lifecycle,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    seeded: AtomicBool,
}

pub(crate) type App = Arc<Shared>;

/// Nominal rate-limit header values when no token bucket is set.
pub(crate) struct Nominal {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    pub(crate) reset_epoch: i64,
}

impl Shared {
    fn new(config: &SandboxConfig, base: String) -> Self {
        Shared {
            state: Mutex::new(State::default()),
            faults: Mutex::new(FaultSet::default()),
            counters: Mutex::new(Counters::default()),
            buckets: Mutex::new(HashMap::new()),
            nominal: Mutex::new(HashMap::new()),
            latency: Mutex::new(config.latency),
            journal: Mutex::new(None),
            tokens: config.tokens.clone(),
            lifecycle: Lifecycle {
                pending_polls: config.pending_polls,
                action_polls: config.action_polls,
            },
            base,
            seeded: AtomicBool::new(false),
        }
    }

    pub(crate) fn token(&self, provider: Provider) -> String {
        self.tokens
            .get(&provider)
            .cloned()
            .unwrap_or_else(|| provider.default_token().to_owned())
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn seed_fixtures(&self) {
        self.state().seed_fixtures();
        self.seeded.store(true, Ordering::Relaxed);
    }

    pub(crate) fn seed_bulk(
        &self,
        provider: Provider,
        kind: Kind,
        n: usize,
    ) -> Result<(), SandboxError> {
        emulation::of(provider).seed_bulk(&mut self.state(), kind, n)
    }

    /// Clear counters, faults, rate limits and latency; reset resources to the
    /// fixtures (if they had been seeded) or to empty.
    pub(crate) fn reset(&self) {
        {
            let mut st = self.state();
            st.clear();
        }
        if self.seeded.load(Ordering::Relaxed) {
            self.seed_fixtures();
        }
        *lock(&self.counters) = Counters::default();
        lock(&self.faults).clear();
        lock(&self.buckets).clear();
        *lock(&self.latency) = Duration::ZERO;
    }

    pub(crate) fn set_rate_limit(&self, provider: Provider, limit: Option<RateLimit>) {
        let mut buckets = lock(&self.buckets);
        match limit {
            Some(l) => {
                buckets.insert(provider, Bucket::new(l));
            }
            None => {
                buckets.remove(&provider);
            }
        }
    }

    pub(crate) fn rate_check(&self, provider: Provider, key: &str) -> Option<BucketState> {
        lock(&self.buckets).get_mut(&provider)?.check(key)
    }

    /// The nominal header values (the provider's limit per window, see [`RateHeaders`]).
    pub(crate) fn nominal(&self, provider: Provider, headers: RateHeaders) -> Nominal {
        let RateHeaders { limit, window, .. } = headers;
        let mut map = lock(&self.nominal);
        let now = Instant::now();
        let entry = map.entry(provider).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let left = window.saturating_sub(now.duration_since(entry.0));
        Nominal {
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset_epoch: crate::state::now() + i64::try_from(left.as_secs()).unwrap_or(0) + 1,
        }
    }

    pub(crate) fn authorized(&self, provider: Provider, headers: &axum::http::HeaderMap) -> bool {
        let Some(value) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, token)) = value.split_once(' ') else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer") && token.trim() == self.token(provider)
    }
}

fn router(app: App) -> Router {
    let providers = EMULATIONS
        .into_iter()
        .fold(Router::new(), |router, e| router.merge(e.routes()))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            http::provider_layer,
        ));
    providers
        .merge(control::routes())
        .fallback(http::fallback)
        .with_state(app)
}

/// Entry point: start a sandbox.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Bind 127.0.0.1 (`config.port`, 0 = any) and serve on the current tokio runtime.
    /// The state starts empty: call [`SandboxHandle::seed_fixtures`] or
    /// [`SandboxHandle::seed_bulk`].
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&config, format!("http://{addr}")));
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
            if let Err(err) = served {
                tracing::error!(%err, "sandbox server stopped with an error");
            }
        });
        tracing::debug!(%addr, "sandbox listening");
        Ok(SandboxHandle {
            shared,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (gracefully, in the background).
#[derive(Debug)]
pub struct SandboxHandle {
    shared: App,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound address (127.0.0.1:PORT).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (the control API lives under `/_sandbox/`).
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// A provider's API base URL, e.g. `http://127.0.0.1:PORT/vultr/v2`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("{}{}", self.shared.base, provider.prefix())
    }

    /// The bearer token the sandbox accepts for `provider`.
    pub fn token(&self, provider: Provider) -> String {
        self.shared.token(provider)
    }

    /// Load the fixture resources (pre-existing, "manual" resources) of every provider.
    pub fn seed_fixtures(&self) {
        self.shared.seed_fixtures();
    }

    /// Generate `n` deterministic resources (`bulk-<kind>-000001`, ...).
    pub fn seed_bulk(&self, provider: Provider, kind: Kind, n: usize) -> Result<(), SandboxError> {
        self.shared.seed_bulk(provider, kind, n)
    }

    /// A snapshot of the request counters.
    pub fn counters(&self) -> Counters {
        lock(&self.shared.counters).clone()
    }

    /// Zero the request counters.
    pub fn reset_counters(&self) {
        *lock(&self.shared.counters) = Counters::default();
    }

    /// Replace all fault rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        lock(&self.shared.faults).replace(rules);
    }

    /// Add one fault rule after the existing ones.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).add([rule]);
    }

    /// The fault rules still active (limited rules disappear once used up).
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.shared.faults).rules()
    }

    /// Remove all fault rules.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Apply an out-of-band change (drift).
    pub fn mutate(&self, mutation: Mutation) -> Result<(), SandboxError> {
        self.shared.state().mutate(&mutation)
    }

    /// Summaries of one collection, in listing order.
    pub fn resources(&self, provider: Provider, kind: Kind) -> Result<Resources, SandboxError> {
        self.shared.state().summaries(provider, kind)
    }

    /// Add latency to every provider request.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// Rate-limit one provider with a token bucket (429 + Retry-After when empty).
    pub fn set_rate_limit(&self, provider: Provider, limit: RateLimit) {
        self.shared.set_rate_limit(provider, Some(limit));
    }

    /// Remove a provider's rate limit.
    pub fn clear_rate_limit(&self, provider: Provider) {
        self.shared.set_rate_limit(provider, None);
    }

    /// Reset counters, faults, rate limits, latency and resources (back to the
    /// fixtures if they were seeded).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The provider's JSON for one resource (as `GET` would return it, without
    /// advancing its status), by id or label.
    pub fn resource_json(&self, provider: Provider, kind: Kind, target: &str) -> Option<Value> {
        emulation::of(provider).peek(&self.shared.state(), kind, target)
    }

    /// Start recording every request a provider route answers (without an injected fault): its
    /// method, path, JSON request body, status and JSON response body. Clears what was recorded.
    /// Off by default: recording buffers every body.
    pub fn record_exchanges(&self) {
        *lock(&self.shared.journal) = Some(Vec::new());
    }

    /// What was recorded since [`SandboxHandle::record_exchanges`], oldest first.
    pub fn exchanges(&self) -> Vec<crate::Exchange> {
        lock(&self.shared.journal).clone().unwrap_or_default()
    }

    /// Stop the server and wait for it (at most 5 s, then abort).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Run a sandbox on 127.0.0.1:`port` until Ctrl-C (the `stackdock sandbox` command).
/// Seeds fixtures (unless disabled) and any bulk resources first. Logs via `tracing` only.
pub async fn serve(port: u16, opts: ServeOptions) -> Result<(), SandboxError> {
    let config = opts.config.clone().with_port(port);
    let handle = Sandbox::start(config).await?;
    if opts.seed_fixtures {
        handle.seed_fixtures();
    }
    for (provider, kind, n) in &opts.bulk {
        handle.seed_bulk(*provider, *kind, *n)?;
    }
    for p in Provider::ALL {
        tracing::info!(provider = %p, endpoint = %handle.base_url(p), token = %handle.token(p), "sandbox provider");
    }
    tracing::info!(control = %format!("{}/_sandbox/", handle.url()), "sandbox ready; Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(())
}
