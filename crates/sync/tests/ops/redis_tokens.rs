//! The shared LWA token cache: tokens round-trip with a TTL at their expiry,
//! a refused token is dropped only if still cached, and concurrent callers in
//! several processes cause one refresh per grant.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use amzsync_amazon::lwa::{AccessToken, TokenCache, TokenKey};
use amzsync_sync::RedisTokenCache;
use chrono::{SubsecRound as _, TimeDelta, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use crate::support::{REDIS_URL, RedisNs};

const REFRESH_TOKEN: &str = "Atzr|refresh-token-never-stored";

fn grant(n: u32) -> TokenKey {
    let url = Url::parse("https://api.amazon.com/auth/o2/token").expect("a valid URL");
    TokenKey::new(
        &url,
        "amzn1.application-oa2-client.test",
        &format!("{REFRESH_TOKEN}-{n}").into(),
    )
}

fn token(value: &str, valid_for: TimeDelta) -> AccessToken {
    AccessToken::new(SecretString::from(value.to_owned()), Utc::now() + valid_for)
}

/// A cache of its own connection: another process.
async fn process(redis: &RedisNs) -> RedisTokenCache {
    RedisTokenCache::connect(REDIS_URL, &redis.ns)
        .await
        .expect("Redis answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_round_trips_between_processes_with_a_ttl_ending_at_its_expiry() {
    let redis = RedisNs::new().await;
    let (one, two) = (process(&redis).await, process(&redis).await);
    let key = grant(1);
    // Nanoseconds survive the trip.
    let put = AccessToken::new(
        "Atza|access-1".into(),
        Utc::now().trunc_subsecs(9) + TimeDelta::hours(1),
    );
    one.put(&key, put.clone()).await;

    let got = two.get(&key).await.expect("cached");
    assert_eq!(got.secret().expose_secret(), "Atza|access-1");
    assert_eq!(got.expires_at(), put.expires_at());
    let ttl = two.ttl(&key).await.expect("Redis answers").expect("a TTL");
    assert!(
        ttl <= Duration::from_secs(3600) && ttl > Duration::from_secs(3590),
        "{ttl:?}"
    );
    // Neither the refresh token nor the access token is in a key name or a
    // debug print.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", redis.ns))
        .query_async(&mut redis.conn.clone())
        .await
        .expect("Redis answers");
    assert!(keys.iter().all(|k| !k.contains("Atz")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains(&key.fingerprint())), "{keys:?}");
    assert!(!format!("{one:?}{got:?}").contains("Atza|"));
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_not_kept() {
    let redis = RedisNs::new().await;
    let cache = process(&redis).await;
    let key = grant(2);
    cache.put(&key, token("Atza|old", TimeDelta::seconds(-5))).await;
    assert!(cache.ttl(&key).await.expect("Redis answers").is_none());
    assert!(cache.get(&key).await.is_none());
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_removed_only_while_it_is_still_the_cached_one() {
    let redis = RedisNs::new().await;
    let (one, two) = (process(&redis).await, process(&redis).await);
    let key = grant(3);
    let stale = token("Atza|stale", TimeDelta::hours(1));
    let newer = token("Atza|newer", TimeDelta::hours(1));
    one.put(&key, newer.clone()).await;

    // Another process saw `stale` refused after `newer` was cached: keep it.
    two.remove(&key, &stale).await;
    let kept = one.get(&key).await.expect("still cached");
    assert_eq!(kept.secret().expose_secret(), "Atza|newer");

    two.remove(&key, &newer).await;
    assert!(one.ttl(&key).await.expect("Redis answers").is_none());
    redis.cleanup().await;
}

/// What `TokenProvider::access_token` does: the cache, then the process's
/// single flight, then the cache again, then LWA (here: a counter).
async fn access_token(
    cache: &RedisTokenCache,
    flight: &tokio::sync::Mutex<()>,
    key: &TokenKey,
    refreshes: &AtomicU32,
    conn: &mut redis::aio::ConnectionManager,
) -> String {
    let fresh = |t: &AccessToken| t.expires_at() > Utc::now() + TimeDelta::seconds(60);
    if let Some(t) = cache.get(key).await.filter(fresh) {
        return t.secret().expose_secret().to_owned();
    }
    let _pilot = flight.lock().await;
    if let Some(t) = cache.get(key).await.filter(fresh) {
        return t.secret().expose_secret().to_owned();
    }
    let n = refreshes.fetch_add(1, Ordering::SeqCst) + 1;
    // The LWA call: a network round trip, during which others pile up.
    let _: String = redis::cmd("PING").query_async(conn).await.expect("Redis answers");
    let value = format!("Atza|refresh-{n}");
    cache.put(key, token(&value, TimeDelta::hours(1))).await;
    value
}

async fn thirty_callers_in_three_processes(
    caches: &[RedisTokenCache],
    key: &TokenKey,
    refreshes: &Arc<AtomicU32>,
    redis: &RedisNs,
) -> Vec<String> {
    let mut calls = Vec::new();
    for cache in caches {
        let flight = Arc::new(tokio::sync::Mutex::new(()));
        for _ in 0..10 {
            let (cache, flight, key, refreshes) = (
                cache.clone(),
                Arc::clone(&flight),
                key.clone(),
                Arc::clone(refreshes),
            );
            let mut conn = redis.conn.clone();
            calls.push(tokio::spawn(async move {
                access_token(&cache, &flight, &key, &refreshes, &mut conn).await
            }));
        }
    }
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.expect("the caller completes"));
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_callers_in_three_processes_cause_one_refresh_per_grant() {
    let redis = RedisNs::new().await;
    let caches = [
        process(&redis).await,
        process(&redis).await,
        process(&redis).await,
    ];
    let key = grant(4);
    let refreshes = Arc::new(AtomicU32::new(0));

    let tokens = thirty_callers_in_three_processes(&caches, &key, &refreshes, &redis).await;
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert!(tokens.iter().all(|t| t == "Atza|refresh-1"), "{tokens:?}");

    // A token inside the refresh margin: again exactly one refresh.
    caches[0]
        .put(&key, token("Atza|expiring", TimeDelta::seconds(30)))
        .await;
    let tokens = thirty_callers_in_three_processes(&caches, &key, &refreshes, &redis).await;
    assert_eq!(refreshes.load(Ordering::SeqCst), 2);
    assert!(tokens.iter().all(|t| t == "Atza|refresh-2"), "{tokens:?}");
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresher_that_dies_leaves_the_lock_to_expire_and_another_takes_over() {
    let redis = RedisNs::new().await;
    let short = |c: RedisTokenCache| c.lock_ttl(Duration::from_millis(200));
    let (dead, alive) = (short(process(&redis).await), short(process(&redis).await));
    let key = grant(5);
    // `dead` takes the lock (its caller would now call LWA) and never puts.
    assert!(dead.get(&key).await.is_none());
    // `alive` waits for the lock to lapse, then gets it: `None` means "refresh".
    assert!(alive.get(&key).await.is_none());
    alive
        .put(&key, token("Atza|taken-over", TimeDelta::hours(1)))
        .await;
    let got = dead.get(&key).await.expect("cached");
    assert_eq!(got.secret().expose_secret(), "Atza|taken-over");
    redis.cleanup().await;
}
