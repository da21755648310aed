//! Fault injection rules, per-provider rate limiting (token buckets) and request
//! counters.
//!
//! A [`FaultRule`] matches requests by method and route template, written exactly
//! like the counter keys: `"POST /vultr/v2/instances"`. The method may be `*`
//! (any) and the template may end in `*` (prefix match), e.g. `"* /linode/v4/*"`.
//! A rule may be limited to the next `times` matching requests; the first rule
//! that matches fires.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Provider;

/// What happens to a request that matches a [`FaultRule`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Sleep this long before handling the request normally.
    Latency {
        /// Extra latency in milliseconds.
        ms: u64,
    },
    /// Answer 429 in the provider's format, with `Retry-After: <seconds>` when given.
    RateLimited {
        /// Seconds for the `Retry-After` header; `None` sends no header.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Answer this status (500, 502, 503, ...) with the provider's error body; the
    /// request is not handled. Linode 502s come back as nginx HTML, like the real thing.
    Status {
        /// HTTP status code.
        code: u16,
    },
    /// Handle the request (the resource IS created / changed) but answer 500.
    CreateThen500,
    /// Hang for `ms` milliseconds, then close the connection without a valid response.
    Timeout {
        /// How long to hang, in milliseconds.
        ms: u64,
    },
    /// Handle the request, then send only the first half of the JSON body with
    /// correct framing (a syntactically broken JSON document).
    MalformedJson,
    /// Handle the request, send the first half of the body, then abort the
    /// connection mid-body.
    TruncatedBody,
    /// List endpoints only: the "next" link/cursor points back at the same page
    /// (Linode: `pages` always exceeds `page` and the data repeats page 1).
    PaginationLoop,
    /// List endpoints only: this page has no items but the pagination links and
    /// totals are those of a full page.
    EmptyPage,
    /// Answer 200 with an error body in the provider's format.
    OkWithErrorBody,
    /// Handle the request, then pad the (still valid) JSON body with trailing whitespace to
    /// `bytes`: a provider that sends far more than any page holds.
    OversizedBody {
        /// The body's size in bytes.
        bytes: usize,
    },
    /// Handle the request, then send the body in small chunks with a delay between them.
    SlowBody {
        /// Bytes per chunk (at least 1).
        #[serde(default = "default_chunk")]
        chunk_bytes: usize,
        /// Delay between chunks in milliseconds.
        delay_ms: u64,
    },
}

fn default_chunk() -> usize {
    64
}

/// A fault plus the requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `"<METHOD> <route template>"`, e.g. `"GET /vultr/v2/instances"`; `*` wildcards
    /// as described in the module docs.
    pub route: String,
    /// Fire for the next `times` matching requests only; `None` = every time.
    #[serde(default)]
    pub times: Option<u32>,
    /// What to do.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule that fires on every matching request.
    pub fn new(route: impl Into<String>, fault: Fault) -> Self {
        FaultRule {
            route: route.into(),
            times: None,
            fault,
        }
    }

    /// Limit the rule to the next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(&self, key: &str) -> bool {
        let (want_method, want_path) = self.route.split_once(' ').unwrap_or(("*", &self.route));
        let (method, path) = key.split_once(' ').unwrap_or(("", key));
        let method_ok = want_method == "*" || want_method.eq_ignore_ascii_case(method);
        let path_ok = match want_path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => want_path == path,
        };
        method_ok && path_ok
    }
}

/// The active fault rules.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    rules: Vec<FaultRule>,
}

impl FaultSet {
    pub(crate) fn replace(&mut self, rules: Vec<FaultRule>) {
        self.rules = rules;
    }

    pub(crate) fn add(&mut self, rules: impl IntoIterator<Item = FaultRule>) {
        self.rules.extend(rules);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    /// The fault for this request, consuming one use of a limited rule.
    pub(crate) fn take(&mut self, key: &str) -> Option<Fault> {
        let idx = self
            .rules
            .iter()
            .position(|r| r.times != Some(0) && r.matches(key))?;
        let rule = &mut self.rules[idx];
        let fault = rule.fault.clone();
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.rules.remove(idx);
            }
        }
        Some(fault)
    }
}

/// A token-bucket rate limit: `limit` requests per `window`, refilled continuously.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Bucket capacity (requests allowed in one window, also the burst size).
    pub limit: u32,
    /// The window in milliseconds (refill rate = `limit / window`).
    pub window_ms: u64,
    /// Only requests whose counter key matches this pattern (fault-rule syntax)
    /// are limited; `None` = every request to the provider.
    #[serde(default)]
    pub route: Option<String>,
}

impl RateLimit {
    /// `limit` requests per `window` for every request of the provider.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimit {
            limit,
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            route: None,
        }
    }

    /// Restrict the limit to one route pattern (`"POST /linode/v4/linode/instances"`).
    #[must_use]
    pub fn for_route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Vultr's published limit: 30 requests per second.
    pub fn vultr_published() -> Self {
        RateLimit::new(30, Duration::from_secs(1))
    }

    /// DigitalOcean's published burst limit: 250 requests per minute.
    pub fn digitalocean_published() -> Self {
        RateLimit::new(250, Duration::from_secs(60))
    }

    /// Linode's published "Create a Linode" limit: 20 requests per 15 seconds.
    pub fn linode_instance_create() -> Self {
        RateLimit::new(20, Duration::from_secs(15)).for_route("POST /linode/v4/linode/instances")
    }

    fn applies(&self, key: &str) -> bool {
        self.route
            .as_ref()
            .is_none_or(|r| FaultRule::new(r.clone(), Fault::MalformedJson).matches(key))
    }
}

/// A running token bucket.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) limit: RateLimit,
    tokens: f64,
    last: Instant,
}

/// The outcome of asking a bucket for a token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketState {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Seconds until the bucket is full again.
    pub(crate) reset_in: u64,
    /// Seconds until one token is available (for `Retry-After`).
    pub(crate) retry_after: u64,
}

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Bucket {
            tokens: f64::from(limit.limit),
            limit,
            last: Instant::now(),
        }
    }

    fn rate_per_sec(&self) -> f64 {
        let window = (self.limit.window_ms.max(1)) as f64 / 1000.0;
        f64::from(self.limit.limit.max(1)) / window
    }

    /// Take a token if the route is limited; `None` when this bucket does not apply.
    pub(crate) fn check(&mut self, key: &str) -> Option<BucketState> {
        if !self.limit.applies(key) {
            return None;
        }
        let now = Instant::now();
        let rate = self.rate_per_sec();
        let cap = f64::from(self.limit.limit);
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * rate).min(cap);
        self.last = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let missing_one = (1.0 - self.tokens).max(0.0);
        Some(BucketState {
            allowed,
            limit: self.limit.limit,
            remaining: self.tokens.max(0.0).floor() as u32,
            reset_in: ((cap - self.tokens) / rate).ceil().max(0.0) as u64,
            retry_after: (missing_one / rate).ceil().max(1.0) as u64,
        })
    }
}

/// Request counters: per route template, per provider and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// All provider requests (control-API requests are not counted).
    pub total: u64,
    /// Requests per provider name (`vultr`, `digitalocean`, `linode`).
    pub per_provider: BTreeMap<String, u64>,
    /// Requests per `"<METHOD> <route template>"`, e.g. `"GET /vultr/v2/instances/{id}"`.
    /// Requests to unknown paths count as `"<METHOD> <prefix>/<unmatched>"`.
    pub per_route: BTreeMap<String, u64>,
}

impl Counters {
    /// Requests seen for one `"<METHOD> <route template>"` key.
    pub fn route(&self, key: &str) -> u64 {
        self.per_route.get(key).copied().unwrap_or(0)
    }

    /// Requests seen for one provider.
    pub fn provider(&self, provider: Provider) -> u64 {
        self.per_provider.get(provider.name()).copied().unwrap_or(0)
    }

    pub(crate) fn record(&mut self, provider: Provider, key: &str) {
        self.total += 1;
        *self
            .per_provider
            .entry(provider.name().to_owned())
            .or_insert(0) += 1;
        match self.per_route.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                self.per_route.insert(key.to_owned(), 1);
            }
        }
    }
}
