//! Client-side rate limiting per dock: several named buckets (per dock, per list collection, per
//! route), each "at most `limit` requests in any `window`", plus pauses the providers' rate-limit
//! headers ask for.
//!
//! Each bucket is a sliding-window log (the last `limit` grant times), the exact form of "N per
//! window": it allows a full burst, then paces, and never lets `limit + 1` requests into any window
//! — which also keeps us under a server token bucket of the same numbers, and under DigitalOcean's
//! own sliding hour ("each request expires one hour after it was made"). It owns pacing only: it
//! never sends, retries or classifies.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which requests a bucket counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every request of the dock.
    All,
    /// Requests for list pages (the pagination helpers' requests).
    Lists,
    /// One `"<METHOD> <route template>"`, e.g. `"POST /linode/instances"`.
    Route(String),
}

impl Scope {
    fn applies(&self, route: &str, list: bool) -> bool {
        match self {
            Scope::All => true,
            Scope::Lists => list,
            Scope::Route(r) => r == route,
        }
    }
}

/// "At most `limit` requests in any `window`" for the requests in `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Shown in logs when a request waits on it.
    pub name: String,
    pub limit: u32,
    pub window: Duration,
    pub scope: Scope,
}

impl Bucket {
    pub fn new(name: impl Into<String>, limit: u32, window: Duration, scope: Scope) -> Bucket {
        Bucket {
            name: name.into(),
            limit,
            window,
            scope,
        }
    }
}

/// A dock's buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub buckets: Vec<Bucket>,
}

impl RateLimits {
    /// No client-side limit (headers and 429s are still honoured).
    pub fn unlimited() -> RateLimits {
        RateLimits::default()
    }

    /// Adds a bucket.
    #[must_use]
    pub fn with(mut self, bucket: Bucket) -> RateLimits {
        self.buckets.push(bucket);
        self
    }
}

/// The running limiter of one dock, shared by its clones.
#[derive(Debug, Clone)]
pub(crate) struct RateLimiter {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    buckets: Vec<(Bucket, VecDeque<Instant>)>,
    /// The provider said the whole token is out of requests until then (DigitalOcean).
    paused_until: Option<Instant>,
    /// The provider said this operation is out of requests until then (Linode).
    route_paused_until: HashMap<String, Instant>,
}

impl State {
    /// The earliest time a request may leave, per bucket (index) and overall.
    fn earliest(&self, route: &str, list: bool, now: Instant) -> Instant {
        let mut at = now;
        for (bucket, log) in &self.buckets {
            if bucket.scope.applies(route, list) {
                at = at.max(bucket_earliest(bucket, log, now));
            }
        }
        if let Some(p) = self.paused_until {
            at = at.max(p);
        }
        if let Some(p) = self.route_paused_until.get(route) {
            at = at.max(*p);
        }
        at
    }
}

/// When the bucket allows its next request: now if fewer than `limit` were granted in the window,
/// else when the oldest of the last `limit` leaves it. Never before the latest grant, so the log
/// stays sorted.
fn bucket_earliest(bucket: &Bucket, log: &VecDeque<Instant>, now: Instant) -> Instant {
    let mut at = now;
    if let Some(last) = log.back() {
        at = at.max(*last);
    }
    if bucket.limit == 0 {
        return at;
    }
    if log.len() >= bucket.limit as usize
        && let Some(oldest) = log.get(log.len() - bucket.limit as usize)
    {
        at = at.max(*oldest + bucket.window);
    }
    at
}

impl RateLimiter {
    pub(crate) fn new(limits: &RateLimits) -> RateLimiter {
        RateLimiter {
            state: Arc::new(Mutex::new(State {
                buckets: limits
                    .buckets
                    .iter()
                    // A zero limit would block forever; treat it as "no bucket".
                    .filter(|b| b.limit > 0)
                    .map(|b| {
                        (
                            b.clone(),
                            VecDeque::with_capacity(b.limit.min(1024) as usize),
                        )
                    })
                    .collect(),
                paused_until: None,
                route_paused_until: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Poisoning means a panic elsewhere mid-update; the logs are still sorted instants.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Books a slot for one request and returns how long to wait before sending it; or, when the
    /// wait would exceed `budget`, books nothing and returns the wait as the error.
    ///
    /// Each bucket records the request at the time *it* would have allowed it (not at the overall
    /// departure), so a create waiting on its own bucket does not hold up unrelated reads behind
    /// it in the shared one.
    pub(crate) fn reserve(
        &self,
        route: &str,
        list: bool,
        now: Instant,
        budget: Duration,
    ) -> Result<Duration, Duration> {
        let mut state = self.lock();
        let at = state.earliest(route, list, now);
        let wait = at.saturating_duration_since(now);
        if wait > budget {
            return Err(wait);
        }
        for (bucket, log) in &mut state.buckets {
            if bucket.scope.applies(route, list) {
                let slot = bucket_earliest(bucket, log, now);
                log.push_back(slot);
                while log.len() > bucket.limit as usize {
                    log.pop_front();
                }
            }
        }
        Ok(wait)
    }

    /// The provider said the dock's token has no requests left until `until`.
    pub(crate) fn pause_all(&self, until: Instant) {
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
    }

    /// The provider said this operation has no requests left until `until`.
    pub(crate) fn pause_route(&self, route: &str, until: Instant) {
        let mut state = self.lock();
        let entry = state
            .route_paused_until
            .entry(route.to_owned())
            .or_insert(until);
        *entry = (*entry).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdock_core::ProviderKind;

    fn limiter(limit: u32, window_ms: u64) -> RateLimiter {
        RateLimiter::new(&RateLimits::unlimited().with(Bucket::new(
            "t",
            limit,
            Duration::from_millis(window_ms),
            Scope::All,
        )))
    }

    /// Departure offsets (ms after `t0`) of `n` requests booked at `t0`.
    fn schedule(l: &RateLimiter, route: &str, list: bool, n: usize, t0: Instant) -> Vec<u128> {
        (0..n)
            .map(|_| {
                l.reserve(route, list, t0, Duration::from_secs(3600))
                    .expect("within budget")
                    .as_millis()
            })
            .collect()
    }

    #[test]
    fn burst_then_one_window_per_limit() {
        let l = limiter(3, 1000);
        let t0 = Instant::now();
        assert_eq!(
            schedule(&l, "GET /x", false, 7, t0),
            vec![0, 0, 0, 1000, 1000, 1000, 2000]
        );
    }

    #[test]
    fn never_more_than_limit_in_any_window() {
        // Requests arriving every 10 ms against 5 per 100 ms: count departures per window.
        let l = limiter(5, 100);
        let t0 = Instant::now();
        let mut departures = Vec::new();
        for i in 0..50u64 {
            let now = t0 + Duration::from_millis(i * 10);
            let wait = l
                .reserve("GET /x", false, now, Duration::from_secs(60))
                .expect("within budget");
            departures.push(now + wait);
        }
        for (i, d) in departures.iter().enumerate() {
            let in_window = departures[i..]
                .iter()
                .filter(|x| **x < *d + Duration::from_millis(100))
                .count();
            assert!(in_window <= 5, "{in_window} requests in one window");
        }
        // Pacing: 50 requests at 5 per 100 ms take about 900 ms from the first.
        let span = *departures.last().expect("50 departures") - departures[0];
        assert!(span >= Duration::from_millis(900), "{span:?}");
    }

    #[test]
    fn over_budget_books_nothing() {
        let l = limiter(1, 1000);
        let t0 = Instant::now();
        assert_eq!(
            l.reserve("GET /x", false, t0, Duration::ZERO),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            l.reserve("GET /x", false, t0, Duration::from_millis(10)),
            Err(Duration::from_millis(1000))
        );
        // The refused request took no slot.
        assert_eq!(
            l.reserve("GET /x", false, t0, Duration::from_secs(5)),
            Ok(Duration::from_millis(1000))
        );
    }

    #[test]
    fn route_and_list_scopes_apply_only_to_their_requests() {
        let limits = RateLimits::unlimited()
            .with(Bucket::new(
                "create",
                1,
                Duration::from_secs(15),
                Scope::Route("POST /linode/instances".into()),
            ))
            .with(Bucket::new(
                "lists",
                1,
                Duration::from_secs(60),
                Scope::Lists,
            ));
        let l = RateLimiter::new(&limits);
        let t0 = Instant::now();
        assert_eq!(
            schedule(&l, "POST /linode/instances", false, 2, t0),
            vec![0, 15_000]
        );
        assert_eq!(schedule(&l, "GET /volumes", true, 2, t0), vec![0, 60_000]);
        // Neither a create nor a list: unlimited.
        assert_eq!(
            schedule(&l, "GET /linode/instances/{id}", false, 3, t0),
            vec![0, 0, 0]
        );
    }

    #[test]
    fn a_waiting_create_does_not_hold_up_reads_in_the_shared_bucket() {
        let limits = crate::declaration(ProviderKind::Linode).published_limits();
        let l = RateLimiter::new(&limits);
        let t0 = Instant::now();
        let creates = schedule(&l, "POST /linode/instances", false, 20, t0);
        assert_eq!(creates[18], 0);
        assert_eq!(creates[19], 15_000);
        assert_eq!(
            schedule(&l, "GET /linode/instances/{id}", false, 1, t0),
            vec![0]
        );
    }

    #[test]
    fn pauses_delay_the_dock_or_one_route() {
        let l = RateLimiter::new(&RateLimits::unlimited());
        let t0 = Instant::now();
        l.pause_route("POST /volumes", t0 + Duration::from_secs(2));
        assert_eq!(schedule(&l, "POST /volumes", false, 1, t0), vec![2000]);
        assert_eq!(schedule(&l, "GET /volumes", true, 1, t0), vec![0]);
        l.pause_all(t0 + Duration::from_secs(3));
        assert_eq!(schedule(&l, "GET /volumes", true, 1, t0), vec![3000]);
    }

    #[test]
    fn published_limits_stay_below_the_documented_numbers() {
        let documented = [
            (ProviderKind::Vultr, "vultr 30/s", 30),
            (ProviderKind::DigitalOcean, "digitalocean 250/min", 250),
            (ProviderKind::DigitalOcean, "digitalocean 5000/h", 5000),
            (ProviderKind::Linode, "linode create instance 20/15s", 20),
        ];
        for (provider, name, max) in documented {
            let limits = crate::declaration(provider).published_limits();
            let b = limits
                .buckets
                .iter()
                .find(|b| b.name == name)
                .expect("bucket exists");
            assert!(b.limit < max, "{name}");
        }
        assert!(RateLimits::unlimited().buckets.is_empty());
    }
}
