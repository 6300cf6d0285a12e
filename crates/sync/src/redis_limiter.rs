//! [`RedisRateLimiter`]: Amazon's usage plans kept in Redis, so that every
//! worker on every machine spends one seller's quota together (FR-8).
//!
//! It is the same GCRA as `amzsync_amazon::throttle::InProcessRateLimiter`,
//! run as Lua inside Redis so that a reservation is one atomic step however
//! many processes ask at once. Each bucket is one hash
//! (`<namespace>:rl:<seller>:<operation>`) holding the theoretical arrival
//! time (`tat`, µs since the epoch) and the plan it follows (`interval` in µs,
//! `burst`, `rate`). Keeping the plan beside the TAT is what makes a rate
//! announced to one worker (`x-amzn-RateLimit-Limit`) the rate of all of
//! them. Time is Redis's own (`TIME`): the workers' clocks may disagree, the
//! server's is one. Under a simulated clock ([`RedisRateLimiter::with_clock`])
//! the caller's time is used instead, since the simulator's usage plans
//! refill on simulated time.
//!
//! Scripts run through [`redis::Script`], which sends `EVALSHA` and falls back
//! to `EVAL` (loading the script) when the server does not know it yet, e.g.
//! after a restart.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::Clock;
use amzsync_amazon::throttle::{LimitKey, Operation, RateLimiter, UsagePlan, WaitTooLong};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;

/// How long callers are told to wait when Redis cannot be asked: failing
/// closed keeps us under Amazon's limits, and the job is rescheduled rather
/// than holding a worker.
const UNAVAILABLE_WAIT: Duration = Duration::from_secs(30);

/// How long a bucket and its learned plan outlive the moment it is full
/// again: a plan Amazon announced yesterday is still a better guess than the
/// default, an idle seller's bucket does not stay forever.
const IDLE_TTL_MS: u64 = 24 * 3600 * 1000;

/// The plan fields of a bucket, falling back to the caller's defaults
/// (`ARGV[1]` interval µs, `ARGV[2]` burst, `ARGV[3]` rate). Shared prologue of
/// the three scripts; `now` is `ARGV[5]` (µs since the epoch) when the caller
/// gives one, else the server's clock.
const PROLOGUE: &str = r"
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now_s = math.floor(now / 1000000)
local now_us = now - now_s * 1000000
local stored = redis.call('HMGET', KEYS[1], 'tat', 'interval', 'burst')
local interval = tonumber(stored[2]) or tonumber(ARGV[1])
local burst = tonumber(stored[3]) or tonumber(ARGV[2])
local tat = tonumber(stored[1])
local function save_plan_if_new()
  if not stored[2] then
    redis.call('HSET', KEYS[1], 'interval', ARGV[1], 'burst', ARGV[2], 'rate', ARGV[3])
  end
end
local function expire(at)
  local ms = math.floor((at - now) / 1000)
  if ms < 0 then ms = 0 end
  redis.call('PEXPIRE', KEYS[1], ms + tonumber(ARGV[4]))
end
";

/// Reserves the next permit. `ARGV[6]`: the longest acceptable wait in µs.
/// Returns `{granted, wait µs, now's seconds, now's µs}`. Numbers are
/// written with `%.0f`: Lua's default formatting keeps 14 digits, too few for
/// µs since the epoch.
const RESERVE: &str = r"
if (not tat) or tat < now then tat = now end
local wait = tat - interval * (burst - 1) - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[6]) then
  return {0, wait, now_s, now_us}
end
tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat))
save_plan_if_new()
expire(tat)
return {1, wait, now_s, now_us}
";

/// Adopts a new rate (`ARGV[6]` interval µs, `ARGV[7]` rate), keeping the
/// bucket's level in permits: the debt outstanding at the old interval is
/// re-timed at the new one (as the in-process limiter does).
const OBSERVE_RATE: &str = r"
local new = tonumber(ARGV[6])
if stored[2] and math.abs(interval - new) <= new * 0.001 then return 0 end
if tat and tat > now then
  tat = now + (tat - now) / interval * new
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat))
else
  tat = now
end
redis.call('HSET', KEYS[1], 'interval', ARGV[6], 'burst', burst, 'rate', ARGV[7])
expire(tat)
return 1
";

/// Amazon answered 429: no permit before `now + ARGV[6]` µs, later ones at
/// the plan's interval.
const OBSERVE_THROTTLED: &str = r"
local drained = now + tonumber(ARGV[6]) + interval * (burst - 1)
if (not tat) or tat < drained then
  tat = drained
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat))
end
save_plan_if_new()
expire(tat)
return 1
";

/// One reservation as Redis made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Whether a permit was reserved (`false`: the wait exceeded the limit).
    pub granted: bool,
    /// How long until the permit may be used (or would have been).
    pub wait: Duration,
    /// Redis's clock (or the caller's, [`RedisRateLimiter::with_clock`])
    /// when it decided: `server_time + wait` is the permit's moment on the
    /// one clock all workers share.
    pub server_time: DateTime<Utc>,
}

/// GCRA buckets in Redis, shared by every process that uses the same
/// namespace.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    namespace: String,
    plans: HashMap<Operation, UsagePlan>,
    reserve: Script,
    observe_rate: Script,
    observe_throttled: Script,
    /// The caller's clock, instead of Redis's, under a simulated clock.
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("namespace", &self.namespace)
            .field("plans", &self.plans)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Connects to Redis at `url` (`redis://host:port/db`); buckets live under
    /// `namespace` (`amzsync` in production, a random one per test).
    pub async fn connect(url: &str, namespace: impl Into<String>) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self::new(conn, namespace))
    }

    /// Buckets on an existing connection.
    pub fn new(conn: ConnectionManager, namespace: impl Into<String>) -> Self {
        let script = |body: &str| Script::new(&format!("{PROLOGUE}{body}"));
        Self {
            conn,
            namespace: namespace.into(),
            plans: HashMap::new(),
            reserve: script(RESERVE),
            observe_rate: script(OBSERVE_RATE),
            observe_throttled: script(OBSERVE_THROTTLED),
            clock: None,
        }
    }

    /// Times the buckets by `clock` instead of Redis's own: for processes
    /// that share a simulated clock (all of them must be given it), whose
    /// usage plans refill on simulated time. Never against Amazon: there the
    /// server's clock is the one every worker agrees on.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Starts every seller's bucket of `operation` on `plan` instead of
    /// Amazon's default. A plan already stored in Redis (another worker's, or
    /// one Amazon announced) wins over this.
    #[must_use]
    pub fn with_plan(mut self, operation: Operation, plan: UsagePlan) -> Self {
        self.plans.insert(operation, plan);
        self
    }

    /// The Redis key of `key`'s bucket.
    fn bucket(&self, key: &LimitKey) -> String {
        format!("{}:rl:{}:{}", self.namespace, key.seller_id, key.operation.name())
    }

    fn initial_plan(&self, operation: Operation) -> UsagePlan {
        self.plans
            .get(&operation)
            .copied()
            .unwrap_or_else(|| operation.default_plan())
    }

    /// Adds the bucket key, the default plan (`ARGV[1..=4]`) and the caller's
    /// now if it has a clock (`ARGV[5]`, empty for Redis's) to a script call.
    fn invocation<'s>(&self, script: &'s Script, key: &LimitKey) -> redis::ScriptInvocation<'s> {
        let plan = self.initial_plan(key.operation);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.bucket(key))
            .arg(interval_us(plan.rate))
            .arg(plan.burst.max(1))
            .arg(plan.rate.to_string())
            .arg(IDLE_TTL_MS);
        match &self.clock {
            Some(clock) => invocation.arg(clock.now().timestamp_micros().to_string()),
            None => invocation.arg(""),
        };
        invocation
    }

    /// Reserves the next permit of `key`'s bucket unless it would only come
    /// after `max_wait`; says what Redis decided and when.
    pub async fn try_reserve(
        &self,
        key: &LimitKey,
        max_wait: Duration,
    ) -> Result<Reservation, redis::RedisError> {
        let max_wait_us = u64::try_from(max_wait.as_micros()).unwrap_or(u64::MAX / 2);
        let mut invocation = self.invocation(&self.reserve, key);
        invocation.arg(max_wait_us);
        let (granted, wait_us, secs, micros): (i64, i64, i64, i64) =
            invocation.invoke_async(&mut self.conn.clone()).await?;
        let server_time = DateTime::<Utc>::from_timestamp_micros(secs.saturating_mul(1_000_000) + micros)
            .unwrap_or_default();
        Ok(Reservation {
            granted: granted == 1,
            wait: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            server_time,
        })
    }

    /// The plan `key`'s bucket follows: the one stored in Redis, or the
    /// default when no worker has used or learned it yet.
    pub async fn plan(&self, key: &LimitKey) -> Result<UsagePlan, redis::RedisError> {
        let (rate, burst): (Option<String>, Option<u32>) = redis::cmd("HMGET")
            .arg(self.bucket(key))
            .arg("rate")
            .arg("burst")
            .query_async(&mut self.conn.clone())
            .await?;
        let initial = self.initial_plan(key.operation);
        Ok(UsagePlan {
            rate: rate.and_then(|r| r.parse().ok()).unwrap_or(initial.rate),
            burst: burst.unwrap_or(initial.burst),
        })
    }

    async fn adopt_rate(&self, key: &LimitKey, rate: f64) -> Result<(), redis::RedisError> {
        let mut invocation = self.invocation(&self.observe_rate, key);
        invocation.arg(interval_us(rate)).arg(rate.to_string());
        let _: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    async fn drain(&self, key: &LimitKey, wait: Duration) -> Result<(), redis::RedisError> {
        // A day is longer than any Retry-After Amazon sends, and keeps the
        // arithmetic and the key's TTL within Redis's ranges.
        let wait = wait.min(Duration::from_secs(24 * 3600));
        let mut invocation = self.invocation(&self.observe_throttled, key);
        invocation.arg(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX / 2));
        let _: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(())
    }
}

impl RateLimiter for RedisRateLimiter {
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Duration, WaitTooLong>> {
        Box::pin(async move {
            match self.try_reserve(key, max_wait).await {
                Ok(r) if r.granted => Ok(r.wait),
                Ok(r) => Err(WaitTooLong { wait: r.wait }),
                Err(error) => {
                    // Without the shared bucket we cannot know what other
                    // workers spent: wait rather than risk Amazon's limit.
                    tracing::warn!(seller_id = key.seller_id, operation = key.operation.name(), %error,
                        "rate-limit store unavailable; treating the call as throttled");
                    Err(WaitTooLong {
                        wait: UNAVAILABLE_WAIT,
                    })
                }
            }
        })
    }

    fn observe_rate<'a>(&'a self, key: &'a LimitKey, rate: f64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if !(rate.is_finite() && rate > 0.0) {
                return;
            }
            if let Err(error) = self.adopt_rate(key, rate).await {
                tracing::warn!(seller_id = key.seller_id, operation = key.operation.name(), rate, %error,
                    "could not store the rate Amazon announced");
            }
        })
    }

    fn observe_throttled<'a>(&'a self, key: &'a LimitKey, wait: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(error) = self.drain(key, wait).await {
                tracing::warn!(seller_id = key.seller_id, operation = key.operation.name(), %error,
                    "could not record Amazon's throttling in the rate-limit store");
            }
        })
    }
}

/// Microseconds between two permits at `rate`: the in-process limiter's
/// arithmetic (2% slack against rounding, one call a minute for a
/// nonsensical rate), so both kinds of bucket pace alike.
pub(crate) fn interval_us(rate: f64) -> u64 {
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1.0 / 60.0
    };
    let interval = Duration::try_from_secs_f64(1.02 / rate).unwrap_or(Duration::from_secs(3600));
    u64::try_from(interval.as_micros()).unwrap_or(u64::MAX / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_match_the_in_process_limiters_arithmetic() {
        // 1.02 / 0.0167 s ≈ 61.08 s; 1.02 / 2 = 0.51 s.
        assert_eq!(interval_us(0.0167) / 1_000_000, 61);
        assert_eq!(interval_us(2.0), 510_000);
        assert_eq!(interval_us(0.0), 61_200_000);
        assert_eq!(interval_us(f64::NAN), 61_200_000);
    }
}
