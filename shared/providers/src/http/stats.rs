//! `RequestStats`: per-dock request counters (requests, retries, 429s, per route), read by tests
//! and the benchmark. Counting only: nothing here decides anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counters shared by every clone of a dock's client.
#[derive(Debug, Clone, Default)]
pub struct RequestStats {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    /// `"GET /instances"` → requests sent. A std mutex: held for one map update, never across
    /// an await.
    by_route: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Requests sent (every attempt counts).
    pub requests: u64,
    /// Attempts after the first one of a call.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Requests per `"<METHOD> <route template>"`.
    pub by_route: BTreeMap<String, u64>,
}

impl RequestStats {
    pub(crate) fn record_request(&self, route: &str) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        // A poisoned lock only means another thread panicked mid-increment: the map is still
        // a valid map, so keep counting.
        let mut map = self
            .inner
            .by_route
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(route.to_owned()).or_insert(0) += 1;
    }

    pub(crate) fn record_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_rate_limited(&self) {
        self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    pub fn rate_limited(&self) -> u64 {
        self.inner.rate_limited.load(Ordering::Relaxed)
    }

    /// Requests sent for one `"<METHOD> <route template>"`, e.g. `"GET /instances"`.
    pub fn route(&self, route: &str) -> u64 {
        self.inner
            .by_route
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(route)
            .copied()
            .unwrap_or(0)
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests(),
            retries: self.retries(),
            rate_limited: self.rate_limited(),
            by_route: self
                .inner
                .by_route
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_counters() {
        let a = RequestStats::default();
        let b = a.clone();
        a.record_request("GET /instances");
        b.record_request("GET /instances");
        b.record_retry();
        assert_eq!(a.requests(), 2);
        assert_eq!(a.retries(), 1);
        assert_eq!(a.route("GET /instances"), 2);
        assert_eq!(a.route("GET /blocks"), 0);
        assert_eq!(a.snapshot().by_route.len(), 1);
    }
}
