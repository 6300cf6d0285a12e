//! The shared GCRA in Redis: two limiter instances (two workers) together
//! never go beyond the plan, and what one learns the other uses.

use std::time::Duration;

use amzsync_amazon::throttle::{LimitKey, Operation, RateLimiter, UsagePlan, WaitTooLong};
use amzsync_sync::RedisRateLimiter;

use crate::support::{REDIS_URL, RedisNs};

fn key(seller: &str) -> LimitKey {
    LimitKey {
        seller_id: seller.into(),
        operation: Operation::GetReport,
    }
}

async fn limiters(redis: &RedisNs, plan: UsagePlan) -> (RedisRateLimiter, RedisRateLimiter) {
    // Two instances on two connections: two worker processes.
    let a = RedisRateLimiter::new(redis.conn.clone(), &redis.ns).with_plan(Operation::GetReport, plan);
    let b = RedisRateLimiter::connect(REDIS_URL, &redis.ns)
        .await
        .expect("Redis answers")
        .with_plan(Operation::GetReport, plan);
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reservations_from_two_limiters_never_exceed_rate_times_time_plus_burst() {
    let redis = RedisNs::new().await;
    let plan = UsagePlan { rate: 20.0, burst: 5 };
    let (a, b) = limiters(&redis, plan).await;
    let k = key("A3CONCURRENT");
    let mut calls = Vec::new();
    for i in 0..200 {
        let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
        let k = k.clone();
        calls.push(tokio::spawn(async move {
            limiter
                .try_reserve(&k, Duration::from_secs(600))
                .await
                .expect("Redis answers")
        }));
    }
    let mut permits = Vec::new();
    for call in calls {
        let r = call.await.expect("the task completes");
        assert!(r.granted);
        // The permit's moment on Redis's clock, in µs.
        permits.push(r.server_time.timestamp_micros() + i64::try_from(r.wait.as_micros()).expect("small"));
    }
    permits.sort_unstable();

    // In any window of T seconds, at most burst + rate·T permits.
    for i in 0..permits.len() {
        for j in i..permits.len() {
            let window_s = (permits[j] - permits[i]) as f64 / 1e6;
            let count = (j - i + 1) as f64;
            assert!(
                count <= f64::from(plan.burst) + plan.rate * window_s,
                "{count} permits within {window_s}s"
            );
        }
    }
    // And the limiter did pace them: 195 permits beyond the burst at
    // 1.02 / 20 s each.
    let spread_us = permits[199] - permits[0];
    assert!(spread_us >= 195 * 51_000, "spread {spread_us}µs");
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_too_long_for_one_worker_reserves_nothing_for_the_others() {
    let redis = RedisNs::new().await;
    let (a, b) = limiters(&redis, UsagePlan { rate: 0.1, burst: 1 }).await;
    let k = key("A3REFUSED");
    assert_eq!(a.reserve(&k, Duration::ZERO).await, Ok(Duration::ZERO));
    for _ in 0..3 {
        let refused = b.reserve(&k, Duration::from_secs(1)).await;
        // 1.02 / 0.1 s = 10.2 s, less what passed since the first permit.
        assert!(
            matches!(refused, Err(WaitTooLong { wait }) if wait > Duration::from_secs(10) && wait <= Duration::from_millis(10_200)),
            "{refused:?}"
        );
    }
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_announced_to_one_worker_paces_the_others() {
    let redis = RedisNs::new().await;
    let (a, b) = limiters(&redis, UsagePlan { rate: 0.1, burst: 1 }).await;
    let k = key("A3ANNOUNCED");
    assert_eq!(a.reserve(&k, Duration::ZERO).await, Ok(Duration::ZERO));

    a.observe_rate(&k, 2.0).await;

    let plan = b.plan(&k).await.expect("Redis answers");
    assert_eq!(plan, UsagePlan { rate: 2.0, burst: 1 });
    // The permit taken at 0.1/s is re-timed at 2/s: the next one is due
    // 0.51 s after it, not 10.2 s.
    let wait = b
        .reserve(&k, Duration::from_secs(60))
        .await
        .expect("a short wait");
    assert!(
        wait <= Duration::from_millis(510) && wait > Duration::from_millis(400),
        "{wait:?}"
    );
    // Other sellers keep the default plan.
    assert_eq!(
        b.plan(&key("A3OTHER")).await.expect("Redis answers"),
        UsagePlan { rate: 0.1, burst: 1 }
    );
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_seen_by_one_worker_holds_the_others_back_until_its_retry_after() {
    let redis = RedisNs::new().await;
    let (a, b) = limiters(&redis, UsagePlan { rate: 1.0, burst: 5 }).await;
    let k = key("A3THROTTLED");
    assert_eq!(a.reserve(&k, Duration::ZERO).await, Ok(Duration::ZERO));

    a.observe_throttled(&k, Duration::from_secs(7)).await;

    let wait = b
        .reserve(&k, Duration::from_secs(60))
        .await
        .expect("a short wait");
    assert!(
        wait <= Duration::from_secs(7) && wait > Duration::from_millis(6_900),
        "{wait:?}"
    );
    // The burst is spent too: the next permit follows one interval later.
    let next = a
        .reserve(&k, Duration::from_secs(60))
        .await
        .expect("a short wait");
    assert!(
        next > wait + Duration::from_millis(1_000),
        "{next:?} after {wait:?}"
    );
    redis.cleanup().await;
}

/// A clock only the test moves, as a process on a simulated clock sees it.
#[derive(Debug)]
struct Held(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl amzsync_amazon::Clock for Held {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().expect("not poisoned")
    }

    fn sleep(&self, _: Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn under_a_simulated_clock_the_buckets_refill_on_its_time_not_redis() {
    let redis = RedisNs::new().await;
    let plan = UsagePlan {
        rate: 1.0 / 60.0,
        burst: 1,
    };
    // A year ago: Redis's own clock would say every bucket is long full.
    let start = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - 365 * 86_400, 0)
        .expect("a year ago is a time");
    let clock = std::sync::Arc::new(Held(std::sync::Mutex::new(start)));
    let (a, b) = limiters(&redis, plan).await;
    let a = a.with_clock(clock.clone());
    let b = b.with_clock(clock.clone());
    let k = key("A3SIMULATED");

    let first = a.try_reserve(&k, Duration::ZERO).await.expect("Redis answers");
    assert!(first.granted && first.wait.is_zero(), "{first:?}");
    assert_eq!(
        first.server_time, start,
        "the decision is dated by the caller's clock"
    );
    // The other process shares the bucket, and the plan's minute has not
    // passed on the simulated clock, however much real time has.
    let refused = b.try_reserve(&k, Duration::ZERO).await.expect("Redis answers");
    assert!(!refused.granted, "{refused:?}");
    assert!(refused.wait > Duration::from_secs(60), "{refused:?}");

    *clock.0.lock().expect("not poisoned") = start + chrono::Duration::seconds(62);
    let later = b.try_reserve(&k, Duration::ZERO).await.expect("Redis answers");
    assert!(later.granted && later.wait.is_zero(), "{later:?}");
    redis.cleanup().await;
}
