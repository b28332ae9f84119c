//! [`Retry`]: the retry policy of a run.

use std::time::Duration;

/// Retry policy: exponential backoff with full jitter, `Retry-After` honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per request, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` to wait; a longer one fails the request instead.
    pub max_retry_after: Duration,
    /// Retries allowed in the whole run, on top of one per planned request's first
    /// attempt; `None` is `10 + planned requests / 5`.
    pub budget: Option<u64>,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget: None,
        }
    }
}

impl Retry {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}
