//! In-call retries: how many times a call is repeated when Amazon throttles it,
//! fails (5xx) or the connection breaks, and how long to wait in between
//! (exponential backoff with jitter). Which calls may be repeated at all is
//! decided per operation: a `createReport` that may have reached Amazon is never
//! sent again blindly (see [`crate::sp::reports::Reports::request_report`]).

use std::time::Duration;

/// Limits of the retries made inside one call. Longer waits are the caller's:
/// it gets a retryable [`crate::Error`] and reschedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts of an idempotent call that fails with 5xx or a transport error,
    /// the first one included.
    pub max_attempts: u32,
    /// Attempts of a call answered 429, the first one included.
    pub max_throttled_attempts: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Cap of the backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_throttled_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1-based): exponential,
    /// capped, with "equal jitter" (half fixed, half random) so that callers
    /// throttled together do not come back together, yet each waits at least
    /// half the backoff.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(rand::random_range(0.0..=1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_keeps_at_least_half_of_it() {
        let policy = RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(4));
            let capped = policy.backoff(40);
            assert!(capped >= Duration::from_secs(5) && capped <= Duration::from_secs(10));
        }
    }
}
