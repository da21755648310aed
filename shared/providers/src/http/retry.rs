//! Retry policy: which failures a request may be re-sent after, how long to wait (exponential
//! backoff with full jitter, or what the provider's headers say), and the bounds (attempts and
//! total time). Pure functions of their inputs; the sending loop lives in `dock.rs`.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::{Declaration, RateHeaderForm};

/// Bounds and pacing of retries. Tests set tiny delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (upper bound of the jitter), doubled per attempt.
    pub base_delay: Duration,
    /// Largest backoff between two attempts (not a cap on a provider's Retry-After).
    pub max_delay: Duration,
    /// Total time a call may take, waits included. A wait the provider asks for that does not
    /// fit fails at once as rate-limited, carrying the wait.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no waiting on the client side.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Full-jitter backoff before attempt `attempt + 1` (`attempt` ≥ 1 failed so far):
    /// uniform in `[0, min(max_delay, base_delay · 2^(attempt-1))]`. Spreading retries over the
    /// whole interval keeps many clients that failed together from retrying together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random_u64() % (nanos + 1))
    }

    /// The upper bound of [`RetryPolicy::backoff`].
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }
}

/// A random number from the standard library's per-process random hash keys: jitter needs
/// spread, not cryptographic quality, and this avoids a dependency.
fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// Which methods a transient failure (5xx, timeout, reset) may be retried for: reads and deletes,
/// which do the same thing twice. A create or update that failed that way may have happened.
pub(crate) fn idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::DELETE)
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`. A date in the past is zero.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    Some(until(at, now))
}

fn until(at: jiff::Timestamp, now: jiff::Timestamp) -> Duration {
    let ms = at.as_millisecond().saturating_sub(now.as_millisecond());
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// When the provider's rate-limit headers say the current window is used up: DigitalOcean
/// `ratelimit-remaining: 0` with `ratelimit-reset` (epoch seconds) [do-spec]; Linode
/// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset` (epoch seconds) [linode-docs];
/// Cloudflare `Ratelimit: "default";r=0;t=<seconds>` [cf-docs]. Vultr sends none. Returns the
/// wait from `now`.
pub fn exhausted_until(
    decl: &Declaration,
    headers: &HeaderMap,
    now: jiff::Timestamp,
) -> Option<Duration> {
    match decl.rate_headers?.form {
        RateHeaderForm::Counters { remaining, reset } => {
            let remaining: u64 = header(headers, remaining)?.trim().parse().ok()?;
            if remaining > 0 {
                return None;
            }
            let reset: i64 = header(headers, reset)?.trim().parse().ok()?;
            let at = jiff::Timestamp::from_second(reset).ok()?;
            Some(until(at, now))
        }
        RateHeaderForm::Structured { name } => {
            let (remaining, reset) = structured_rate(header(headers, name)?)?;
            (remaining == 0).then(|| Duration::from_secs(reset))
        }
    }
}

/// The requests left (`r`) and the seconds until the window resets (`t`) of a structured
/// rate-limit field (`"default";r=50;t=30`, draft-ietf-httpapi-ratelimit-headers). With several
/// policies (`"a";r=5;t=1, "b";r=0;t=30`), the most exhausted one: the fewest requests left,
/// then the longest wait. `None` when no item has both numbers.
pub fn structured_rate(value: &str) -> Option<(u64, u64)> {
    value
        .split(',')
        .filter_map(|item| {
            let mut r = None;
            let mut t = None;
            for param in item.split(';').skip(1) {
                match param.trim().split_once('=') {
                    Some(("r", v)) => r = v.trim().parse::<u64>().ok(),
                    Some(("t", v)) => t = v.trim().parse::<u64>().ok(),
                    _ => {}
                }
            }
            Some((r?, t?))
        })
        .min_by_key(|(r, t)| (*r, std::cmp::Reverse(*t)))
}

/// How long the provider asked us to wait: `Retry-After` first, then an exhausted window's reset.
pub fn server_wait(
    decl: &Declaration,
    headers: &HeaderMap,
    now: jiff::Timestamp,
) -> Option<Duration> {
    header(headers, "retry-after")
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| exhausted_until(decl, headers, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn structured_rate_fields_read_the_most_exhausted_policy() {
        assert_eq!(structured_rate("\"default\";r=50;t=30"), Some((50, 30)));
        assert_eq!(structured_rate(" \"default\" ; r=0 ; t=12 "), Some((0, 12)));
        assert_eq!(
            structured_rate("\"burst\";r=5;t=1, \"day\";r=0;t=300"),
            Some((0, 300))
        );
        for bad in [
            "",
            "\"default\"",
            "\"default\";r=x;t=3",
            "\"default\";q=100;w=60",
        ] {
            assert_eq!(structured_rate(bad), None, "{bad}");
        }
    }

    fn now() -> jiff::Timestamp {
        // Sun, 06 Nov 1994 08:49:30 GMT
        jiff::Timestamp::from_second(784_111_770).expect("valid timestamp")
    }

    #[test]
    fn retry_after_forms() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("0", Some(Duration::ZERO)),
            ("3", Some(Duration::from_secs(3))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("1.5", Some(Duration::from_millis(1500))),
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                Some(Duration::from_secs(7)),
            ),
            // A date already past: go now.
            ("Sun, 06 Nov 1994 08:00:00 GMT", Some(Duration::ZERO)),
            ("-1", None),
            ("soon", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(parse_retry_after(value, now()), *want, "{value:?}");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("valid header"));
        }
        h
    }

    #[test]
    fn rate_limit_headers_per_dialect() {
        let reset = (784_111_770 + 40).to_string();
        let cases: Vec<(&Declaration, HeaderMap, Option<Duration>)> = vec![
            (
                &crate::digitalocean::DECLARATION,
                headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", &reset)]),
                Some(Duration::from_secs(40)),
            ),
            (
                &crate::digitalocean::DECLARATION,
                headers(&[("ratelimit-remaining", "12"), ("ratelimit-reset", &reset)]),
                None,
            ),
            (
                &crate::linode::DECLARATION,
                headers(&[
                    ("X-RateLimit-Remaining", "0"),
                    ("X-RateLimit-Reset", &reset),
                ]),
                Some(Duration::from_secs(40)),
            ),
            // Vultr documents no such headers: ignore look-alikes.
            (
                &crate::vultr::DECLARATION,
                headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", &reset)]),
                None,
            ),
            // Retry-After wins over the window reset.
            (
                &crate::digitalocean::DECLARATION,
                headers(&[
                    ("retry-after", "2"),
                    ("ratelimit-remaining", "0"),
                    ("ratelimit-reset", &reset),
                ]),
                Some(Duration::from_secs(2)),
            ),
        ];
        for (dialect, h, want) in cases {
            assert_eq!(
                server_wait(dialect, &h, now()),
                want,
                "{} {h:?}",
                dialect.provider
            );
        }
    }

    #[test]
    fn full_jitter_stays_within_bounds() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_elapsed: Duration::from_secs(60),
        };
        let ceilings: Vec<u128> = (1..=6).map(|a| p.backoff_ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
        for attempt in 1..=6 {
            let mut distinct = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let d = p.backoff(attempt);
                assert!(d <= p.backoff_ceiling(attempt));
                distinct.insert(d);
            }
            // Spread, not a constant.
            assert!(distinct.len() > 100, "attempt {attempt}");
        }
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_millis(1000));
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn only_reads_and_deletes_are_idempotent() {
        assert!(idempotent(&Method::GET));
        assert!(idempotent(&Method::DELETE));
        assert!(!idempotent(&Method::POST));
        assert!(!idempotent(&Method::PATCH));
        assert!(!idempotent(&Method::PUT));
    }
}
