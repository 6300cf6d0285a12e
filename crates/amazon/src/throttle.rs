//! Client-side rate limiting of SP-API and Ads API calls: Amazon's usage plans
//! (a token bucket per application, seller and operation, PROTOCOL.md §2.6; per
//! Ads profile and operation, §5.9) mirrored locally so the client waits for a
//! permit instead of collecting 429s.
//!
//! The buckets sit behind [`RateLimiter`] so the sync engine can plug in one
//! shared by all workers (Redis); [`InProcessRateLimiter`] serves one process.
//! It is a GCRA of our own rather than `governor`: quotas here change at run
//! time (`x-amzn-RateLimit-Limit`), rates are fractional (0.0167 req/s), the
//! time comes from the client's [`Clock`] so tests run on simulated time, and the
//! same few lines of arithmetic are what the Redis implementation runs in Lua,
//! so both behave alike. A reservation, not a check: the caller is told how long
//! to wait for its slot, so concurrent callers queue fairly instead of racing.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::clock::{self, Clock};

/// An SP-API or Ads API operation with a usage plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /reports/2021-06-30/reports`.
    CreateReport,
    /// `GET /reports/2021-06-30/reports/{reportId}`.
    GetReport,
    /// `GET /reports/2021-06-30/reports`.
    GetReports,
    /// `DELETE /reports/2021-06-30/reports/{reportId}`.
    CancelReport,
    /// `GET /reports/2021-06-30/documents/{reportDocumentId}`.
    GetReportDocument,
    /// `GET /fba/inventory/v1/summaries`.
    GetInventorySummaries,
    /// Ads `GET /v2/profiles`.
    ListProfiles,
    /// Ads `POST /reporting/reports`.
    CreateAsyncReport,
    /// Ads `GET /reporting/reports/{reportId}`.
    GetAsyncReport,
    /// Ads `DELETE /reporting/reports/{reportId}`.
    DeleteAsyncReport,
}

impl Operation {
    /// Amazon's name of the operation, e.g. `createReport`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::CreateReport => "createReport",
            Operation::GetReport => "getReport",
            Operation::GetReports => "getReports",
            Operation::CancelReport => "cancelReport",
            Operation::GetReportDocument => "getReportDocument",
            Operation::GetInventorySummaries => "getInventorySummaries",
            Operation::ListProfiles => "listProfiles",
            Operation::CreateAsyncReport => "createAsyncReport",
            Operation::GetAsyncReport => "getAsyncReport",
            Operation::DeleteAsyncReport => "deleteAsyncReport",
        }
    }

    /// The default usage plan: Amazon's documented one for SP-API operations
    /// (PROTOCOL.md §2.6). The Ads API publishes none (its limits are dynamic
    /// and tighter at peak hours, §5.9), so its plans are cautious guesses that
    /// 429s with `Retry-After` then correct at run time.
    pub fn default_plan(self) -> UsagePlan {
        let plan = |rate, burst| UsagePlan { rate, burst };
        match self {
            Operation::CreateReport | Operation::GetReportDocument => plan(0.0167, 15),
            Operation::GetReport => plan(2.0, 15),
            Operation::GetReports | Operation::CancelReport => plan(0.0222, 10),
            Operation::GetInventorySummaries => plan(2.0, 2),
            // Report creation is the Ads call most often throttled
            // (ads-advanced-tools-docs#344): one every five seconds.
            Operation::CreateAsyncReport => plan(0.2, 5),
            Operation::GetAsyncReport => plan(1.0, 5),
            Operation::ListProfiles | Operation::DeleteAsyncReport => plan(0.5, 2),
        }
    }
}

/// A token bucket's rate and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePlan {
    /// Requests per second that refill the bucket.
    pub rate: f64,
    /// Requests allowed at once from a full bucket.
    pub burst: u32,
}

impl UsagePlan {
    /// Time between two permits once the burst is spent. Stretched by 2% so
    /// that rounding (Amazon's header has four decimals) never puts us ahead of
    /// Amazon's own bucket.
    fn interval(&self) -> Duration {
        let rate = if self.rate.is_finite() && self.rate > 0.0 {
            self.rate
        } else {
            // A nonsensical plan must not disable limiting: one call a minute.
            1.0 / 60.0
        };
        Duration::try_from_secs_f64(1.02 / rate).unwrap_or(Duration::from_secs(3600))
    }
}

/// Whose quota a call spends: Amazon keeps one bucket per seller and operation
/// on the SP-API, and one per advertising profile and operation on the Ads API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimitKey {
    /// The selling partner id (`A3…`) for SP-API operations; for Ads operations
    /// `ads-profile:<profileId>` (see [`LimitKey::ads_profile`]), or
    /// `ads-grant:<fingerprint>` for `/v2/profiles`, which has no profile yet.
    pub seller_id: String,
    /// The operation.
    pub operation: Operation,
}

impl LimitKey {
    /// The bucket of an Ads operation for one advertising profile.
    pub fn ads_profile(profile_id: i64, operation: Operation) -> Self {
        Self {
            seller_id: format!("ads-profile:{profile_id}"),
            operation,
        }
    }
}

/// A permit would only be available after longer than the caller is willing to
/// wait; nothing was reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTooLong {
    /// How long the wait would have been.
    pub wait: Duration,
}

/// Rate-limit buckets, one per [`LimitKey`].
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Reserves the next permit of `key`'s bucket and returns how long the caller
    /// must wait before using it (zero when a permit is available now), or
    /// [`WaitTooLong`] without reserving anything when that wait exceeds
    /// `max_wait`.
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Duration, WaitTooLong>>;

    /// Amazon said (`x-amzn-RateLimit-Limit`) that `key`'s plan refills at `rate`
    /// requests per second; the burst is not announced and stays as it was.
    fn observe_rate<'a>(&'a self, key: &'a LimitKey, rate: f64) -> BoxFuture<'a, ()>;

    /// Amazon answered 429 for `key` and said (`Retry-After`) or we decided to
    /// wait `wait`: no permit should be handed out before then, so concurrent
    /// callers of the same bucket do not run into the same wall. The Ads API
    /// announces no rate, so this is how its buckets learn. The default does
    /// nothing.
    fn observe_throttled<'a>(&'a self, key: &'a LimitKey, wait: Duration) -> BoxFuture<'a, ()> {
        let _ = (key, wait);
        Box::pin(std::future::ready(()))
    }
}

/// GCRA buckets in this process's memory.
#[derive(Debug)]
pub struct InProcessRateLimiter {
    clock: Arc<dyn Clock>,
    /// Plans that replace Amazon's defaults for every seller (accounts with
    /// raised limits, or tests).
    plans: HashMap<Operation, UsagePlan>,
    cells: Mutex<HashMap<LimitKey, Cell>>,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    plan: UsagePlan,
    /// GCRA's "theoretical arrival time": when the bucket will be full again
    /// if nobody calls. `None` for a bucket never used (full).
    tat: Option<DateTime<Utc>>,
}

impl InProcessRateLimiter {
    /// Buckets on Amazon's default plans, timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            plans: HashMap::new(),
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// Starts every seller's bucket of `operation` on `plan` instead of the default.
    #[must_use]
    pub fn with_plan(mut self, operation: Operation, plan: UsagePlan) -> Self {
        self.plans.insert(operation, plan);
        self
    }

    /// The plan `key`'s bucket currently follows.
    pub fn plan(&self, key: &LimitKey) -> UsagePlan {
        self.cells()
            .get(key)
            .map(|c| c.plan)
            .unwrap_or_else(|| self.initial_plan(key.operation))
    }

    fn initial_plan(&self, operation: Operation) -> UsagePlan {
        self.plans
            .get(&operation)
            .copied()
            .unwrap_or_else(|| operation.default_plan())
    }

    fn cells(&self) -> std::sync::MutexGuard<'_, HashMap<LimitKey, Cell>> {
        // The map holds plain numbers; a panic elsewhere cannot leave it torn.
        self.cells.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reserve_now(&self, key: &LimitKey, max_wait: Duration) -> Result<Duration, WaitTooLong> {
        let now = self.clock.now();
        let initial = self.initial_plan(key.operation);
        let mut cells = self.cells();
        let cell = cells.entry(key.clone()).or_insert(Cell {
            plan: initial,
            tat: None,
        });
        let interval = cell.plan.interval();
        // A full bucket lets `burst` calls through at once: the first at `tat`,
        // the others up to (burst - 1) intervals ahead of it.
        let tolerance = interval.saturating_mul(cell.plan.burst.max(1) - 1);
        let tat = cell.tat.filter(|t| *t > now).unwrap_or(now);
        let allowed_at = chrono::TimeDelta::from_std(tolerance)
            .ok()
            .and_then(|t| tat.checked_sub_signed(t))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let wait = clock::until(now, allowed_at);
        if wait > max_wait {
            return Err(WaitTooLong { wait });
        }
        cell.tat = Some(clock::add(tat, interval));
        Ok(wait)
    }
}

impl RateLimiter for InProcessRateLimiter {
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Duration, WaitTooLong>> {
        Box::pin(std::future::ready(self.reserve_now(key, max_wait)))
    }

    fn observe_rate<'a>(&'a self, key: &'a LimitKey, rate: f64) -> BoxFuture<'a, ()> {
        if rate.is_finite() && rate > 0.0 {
            let initial = self.initial_plan(key.operation);
            let mut cells = self.cells();
            let cell = cells.entry(key.clone()).or_insert(Cell {
                plan: initial,
                tat: None,
            });
            if (cell.plan.rate - rate).abs() > rate * 1e-3 {
                tracing::debug!(
                    seller_id = key.seller_id,
                    operation = key.operation.name(),
                    from = cell.plan.rate,
                    to = rate,
                    "Amazon announced a different rate limit."
                );
                // Keep the bucket's level in permits: the debt outstanding at
                // the old rate is re-timed at the new one.
                let now = self.clock.now();
                if let Some(tat) = cell.tat.filter(|t| *t > now) {
                    let debt = clock::until(now, tat).as_secs_f64() / cell.plan.interval().as_secs_f64();
                    cell.plan.rate = rate;
                    let interval = cell.plan.interval();
                    cell.tat = Some(clock::add(now, interval.mul_f64(debt)));
                } else {
                    cell.plan.rate = rate;
                }
            }
        }
        Box::pin(std::future::ready(()))
    }

    fn observe_throttled<'a>(&'a self, key: &'a LimitKey, wait: Duration) -> BoxFuture<'a, ()> {
        let now = self.clock.now();
        let initial = self.initial_plan(key.operation);
        let mut cells = self.cells();
        let cell = cells.entry(key.clone()).or_insert(Cell {
            plan: initial,
            tat: None,
        });
        // Empty the bucket until `wait` has passed: the next permit is then at
        // `now + wait`, and later ones follow at the plan's interval.
        let tolerance = cell.plan.interval().saturating_mul(cell.plan.burst.max(1) - 1);
        let drained = clock::add(clock::add(now, wait), tolerance);
        if cell.tat.is_none_or(|t| t < drained) {
            cell.tat = Some(drained);
        }
        Box::pin(std::future::ready(()))
    }
}

/// Parses `x-amzn-RateLimit-Limit` (`"0.0167"`, `"2.0"`).
pub(crate) fn parse_rate_header(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn key(operation: Operation) -> LimitKey {
        LimitKey {
            seller_id: "A3EXAMPLE".into(),
            operation,
        }
    }

    #[derive(Debug)]
    struct Frozen(DateTime<Utc>);

    impl Clock for Frozen {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
        fn sleep(&self, _: Duration) -> BoxFuture<'static, ()> {
            Box::pin(std::future::ready(()))
        }
    }

    #[test]
    fn a_full_bucket_allows_the_burst_then_one_call_per_interval() {
        let limiter = InProcessRateLimiter::new(Arc::new(Frozen(Utc::now())));
        let k = key(Operation::CreateReport);
        for _ in 0..15 {
            assert_eq!(limiter.reserve_now(&k, Duration::ZERO), Ok(Duration::ZERO));
        }
        // The 16th waits one interval (1.02 / 0.0167 s ≈ 61 s), the 17th two.
        let wait = limiter
            .reserve_now(&k, Duration::from_secs(3600))
            .expect("an hour is long enough");
        assert_eq!(wait.as_secs(), 61);
        let wait = limiter
            .reserve_now(&k, Duration::from_secs(3600))
            .expect("an hour is long enough");
        assert_eq!(wait.as_secs(), 122);
    }

    #[test]
    fn a_wait_beyond_the_threshold_is_refused_and_reserves_nothing() {
        let limiter = InProcessRateLimiter::new(Arc::new(Frozen(Utc::now())))
            .with_plan(Operation::GetReports, UsagePlan { rate: 0.1, burst: 1 });
        let k = key(Operation::GetReports);
        assert_eq!(limiter.reserve_now(&k, Duration::ZERO), Ok(Duration::ZERO));
        let refused = limiter.reserve_now(&k, Duration::from_secs(1));
        assert!(matches!(refused, Err(WaitTooLong { wait }) if wait.as_secs() == 10));
        // Still the same wait: the refused call did not take the slot.
        let refused = limiter.reserve_now(&k, Duration::from_secs(1));
        assert!(matches!(refused, Err(WaitTooLong { wait }) if wait.as_secs() == 10));
    }

    #[test]
    fn sellers_and_operations_have_separate_buckets() {
        let limiter = InProcessRateLimiter::new(Arc::new(SystemClock))
            .with_plan(Operation::GetReport, UsagePlan { rate: 0.01, burst: 1 });
        let a = key(Operation::GetReport);
        let b = LimitKey {
            seller_id: "A3OTHER".into(),
            ..a
        };
        assert_eq!(limiter.reserve_now(&a, Duration::ZERO), Ok(Duration::ZERO));
        assert_eq!(limiter.reserve_now(&b, Duration::ZERO), Ok(Duration::ZERO));
        assert_eq!(
            limiter.reserve_now(&key(Operation::GetReports), Duration::ZERO),
            Ok(Duration::ZERO)
        );
        assert!(limiter.reserve_now(&a, Duration::ZERO).is_err());
    }

    #[test]
    fn an_announced_rate_retimes_the_permits_already_taken() {
        let limiter = InProcessRateLimiter::new(Arc::new(Frozen(Utc::now())))
            .with_plan(Operation::GetReport, UsagePlan { rate: 0.1, burst: 1 });
        let k = key(Operation::GetReport);
        assert_eq!(limiter.reserve_now(&k, Duration::ZERO), Ok(Duration::ZERO));

        futures::executor::block_on(limiter.observe_rate(&k, 2.0));

        assert_eq!(limiter.plan(&k).rate, 2.0);
        let wait = limiter
            .reserve_now(&k, Duration::from_secs(60))
            .expect("a short wait");
        assert_eq!(wait.as_millis(), 510);
    }

    #[test]
    fn a_429_empties_the_bucket_until_its_retry_after() {
        let limiter = InProcessRateLimiter::new(Arc::new(Frozen(Utc::now())));
        let k = LimitKey::ads_profile(1, Operation::GetAsyncReport);
        assert_eq!(limiter.reserve_now(&k, Duration::ZERO), Ok(Duration::ZERO));

        futures::executor::block_on(limiter.observe_throttled(&k, Duration::from_secs(7)));

        let wait = limiter
            .reserve_now(&k, Duration::from_secs(60))
            .expect("a short wait");
        assert_eq!(wait, Duration::from_secs(7));
    }

    #[test]
    fn the_rate_header_parses_amazons_decimals_and_rejects_nonsense() {
        assert_eq!(parse_rate_header("0.0167"), Some(0.0167));
        assert_eq!(parse_rate_header("2.0"), Some(2.0));
        assert_eq!(parse_rate_header("0"), None);
        assert_eq!(parse_rate_header("fast"), None);
    }
}
