//! Waiting for readiness: one poller for every adapter, polling with backoff until the provider
//! reports a resource ready, gives up at a per-resource deadline, and says what it last saw.

use std::future::Future;
use std::time::{Duration, Instant};

use stackdock_core::Record;

use crate::{ErrorClass, ProviderError};

/// How adapters poll (and how long a create may take before apply reports it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// First wait between polls.
    pub initial: Duration,
    /// Longest wait between polls (the wait doubles up to this).
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(15),
        }
    }
}

impl PollPolicy {
    /// Fast polling for the local sandbox and tests.
    pub fn fast() -> PollPolicy {
        PollPolicy {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(50),
        }
    }
}

/// What one poll saw.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per poll, moved once: boxing the record would only add an allocation"
)]
pub enum Poll {
    /// Ready: the record as it is now.
    Ready(Record),
    /// Not yet; carries the status seen, for the timeout message.
    Pending(String),
}

/// Polls `check` until it reports `Ready` or `timeout` passes.
///
/// # Errors
/// The first error `check` returns (not-found included: a resource that vanished while we waited
/// is the caller's to explain), or a Transient error naming `what`, the last status seen and the
/// timeout.
pub async fn poll_until<F, Fut>(
    policy: PollPolicy,
    timeout: Duration,
    dock: &str,
    what: &str,
    mut check: F,
) -> Result<Record, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll, ProviderError>>,
{
    let started = Instant::now();
    let mut wait = policy.initial;
    loop {
        match check().await? {
            Poll::Ready(record) => return Ok(record),
            Poll::Pending(status) => {
                let elapsed = started.elapsed();
                if elapsed >= timeout {
                    return Err(ProviderError::new(
                        ErrorClass::Transient,
                        dock,
                        format!("wait for {what}"),
                        format!(
                            "still `{status}` after {}s; it may become ready later: run `stackdock sync` and `stackdock plan` to see",
                            timeout.as_secs()
                        ),
                    ));
                }
                tokio::time::sleep(wait.min(timeout - elapsed)).await;
                wait = (wait * 2).min(policy.max);
            }
        }
    }
}
