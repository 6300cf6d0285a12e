//! [`RedisTokenCache`]: LWA access tokens kept in Redis, so that every worker
//! on every machine uses one token per grant and refreshes it once (FR-8).
//!
//! A token lives in a hash under `<namespace>:lwa:<fingerprint>:<client id>:<token url>`
//! (the fingerprint is a SHA-256 of the refresh token, never the token
//! itself) with a TTL ending at its expiry, so Redis forgets it when Amazon
//! does. The values are access tokens, i.e. secrets: they are never logged,
//! and this type's `Debug` shows no token.
//!
//! # Single flight across processes
//!
//! `TokenProvider` already lets one caller per *process* refresh a grant. The
//! [`TokenCache`] trait has no "I am about to refresh" step, so the cache
//! infers it: a [`TokenCache::get`] that finds no token fresh for the
//! provider's margin means the caller is about to call LWA. The first such
//! caller takes a short lock (`SET NX PX`, owned by this cache instance) and is
//! answered at once; callers of other instances wait (polling, bounded by the
//! lock's TTL) until the new token is [`TokenCache::put`], which releases the
//! lock. Callers of the same instance are answered at once too: the
//! provider's in-process single flight already queues them behind the
//! refresher, and they find its token. A refresher that dies or fails leaves
//! the lock to expire, and the next caller takes over.
//!
//! What the trait would need to make this explicit rather than inferred: a
//! `refresh_lock(key, ttl) -> Option<Guard>` (or
//! `get_or_refresh(key, margin, refresh)`) called by the provider, so that the
//! cache neither needs the provider's clock and margin nor has to treat
//! `get` as a statement of intent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::lwa::{AccessToken, TokenCache, TokenKey};
use amzsync_amazon::{Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret as _, SecretString};
use ulid::Ulid;

/// Releases the refresh lock only if this instance holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Deletes the token only if it is still the stale one (`ARGV[1]`).
const REMOVE_IF: &str = r"
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Shortest and longest pause between two looks while another process
/// refreshes: an LWA call takes a few hundred milliseconds.
const FIRST_POLL: Duration = Duration::from_millis(20);
const LAST_POLL: Duration = Duration::from_millis(250);

/// Access tokens in Redis, shared by every process using the same namespace.
#[derive(Clone)]
pub struct RedisTokenCache {
    conn: ConnectionManager,
    namespace: String,
    /// This instance's name in refresh locks.
    owner: String,
    clock: Arc<dyn Clock>,
    margin: Duration,
    lock_ttl: Duration,
    release: Script,
    remove_if: Script,
}

impl fmt::Debug for RedisTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenCache")
            .field("namespace", &self.namespace)
            .field("owner", &self.owner)
            .field("margin", &self.margin)
            .field("lock_ttl", &self.lock_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisTokenCache {
    /// Connects to Redis at `url`; tokens live under `namespace`.
    pub async fn connect(url: &str, namespace: impl Into<String>) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self::new(conn, namespace))
    }

    /// A cache on an existing connection, judging freshness by the system
    /// clock with the Amazon client's default refresh margin (one minute).
    pub fn new(conn: ConnectionManager, namespace: impl Into<String>) -> Self {
        Self {
            conn,
            namespace: namespace.into(),
            owner: Ulid::generate().to_string(),
            clock: Arc::new(SystemClock),
            margin: Duration::from_secs(60),
            lock_ttl: Duration::from_secs(15),
            release: Script::new(RELEASE),
            remove_if: Script::new(REMOVE_IF),
        }
    }

    /// The clock and refresh margin of the token provider that uses this
    /// cache (`Config::token_refresh_margin`): a token is "about to be
    /// refreshed" exactly when the provider would refresh it.
    #[must_use]
    pub fn freshness(mut self, clock: Arc<dyn Clock>, margin: Duration) -> Self {
        self.clock = clock;
        self.margin = margin;
        self
    }

    /// How long a refresher may hold the lock before others take over: longer
    /// than an LWA call with its retries, short enough that a dead worker does
    /// not stall the others for long (15 s by default).
    #[must_use]
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl.max(Duration::from_millis(1));
        self
    }

    fn token_key(&self, key: &TokenKey) -> String {
        format!(
            "{}:lwa:{}:{}:{}",
            self.namespace,
            key.fingerprint(),
            key.client_id(),
            key.token_url()
        )
    }

    fn lock_key(&self, key: &TokenKey) -> String {
        format!("{}:lock", self.token_key(key))
    }

    /// How long Redis keeps `key`'s token (`None`: no token cached).
    pub async fn ttl(&self, key: &TokenKey) -> Result<Option<Duration>, redis::RedisError> {
        let ms: i64 = redis::cmd("PTTL")
            .arg(self.token_key(key))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    async fn read(&self, key: &TokenKey) -> Result<Option<AccessToken>, redis::RedisError> {
        let (token, expires_at): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.token_key(key))
            .arg("token")
            .arg("expires_at")
            .query_async(&mut self.conn.clone())
            .await?;
        let expires_at = expires_at
            .and_then(|e| DateTime::parse_from_rfc3339(&e).ok())
            .map(|e| e.with_timezone(&Utc));
        Ok(match (token, expires_at) {
            (Some(token), Some(expires_at)) => Some(AccessToken::new(SecretString::from(token), expires_at)),
            _ => None,
        })
    }

    fn is_fresh(&self, token: &AccessToken) -> bool {
        let now = self.clock.now();
        chrono::TimeDelta::from_std(self.margin)
            .ok()
            .and_then(|m| now.checked_add_signed(m))
            .is_some_and(|deadline| deadline < token.expires_at())
    }

    /// Takes the refresh lock, or finds that this instance holds it.
    async fn lock(&self, key: &TokenKey) -> Result<bool, redis::RedisError> {
        let ms = u64::try_from(self.lock_ttl.as_millis()).unwrap_or(u64::MAX / 2);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.lock_key(key))
            .arg(&self.owner)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut self.conn.clone())
            .await?;
        if set.is_some() {
            return Ok(true);
        }
        let holder: Option<String> = redis::cmd("GET")
            .arg(self.lock_key(key))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(holder.as_deref() == Some(self.owner.as_str()))
    }

    /// The cached token if fresh; otherwise either the lock (and the stale
    /// token, so the caller refreshes) or, while another process refreshes,
    /// its new token once it lands.
    async fn get_or_wait(&self, key: &TokenKey) -> Result<Option<AccessToken>, redis::RedisError> {
        // Two lock lifetimes: one for the current holder, one more if it died
        // and another took over. After that, refresh ourselves rather than
        // wait on a broken peer.
        let deadline = tokio::time::Instant::now() + self.lock_ttl.saturating_mul(2);
        let mut pause = FIRST_POLL;
        loop {
            let cached = self.read(key).await?;
            if cached.as_ref().is_some_and(|t| self.is_fresh(t)) {
                return Ok(cached);
            }
            if self.lock(key).await? || tokio::time::Instant::now() >= deadline {
                return Ok(cached);
            }
            // Another process is refreshing this grant: its token is what we
            // want, and asking LWA too is what FR-8 forbids.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LAST_POLL);
        }
    }

    async fn store(&self, key: &TokenKey, token: &AccessToken) -> Result<(), redis::RedisError> {
        let redis_key = self.token_key(key);
        let ttl = (token.expires_at() - self.clock.now())
            .to_std()
            .ok()
            .and_then(|t| u64::try_from(t.as_millis()).ok())
            .unwrap_or(0);
        let mut conn = self.conn.clone();
        if ttl == 0 {
            // Already expired: caching it would only mislead the next caller.
            let _: i64 = redis::cmd("DEL").arg(&redis_key).query_async(&mut conn).await?;
        } else {
            let expires_at = token.expires_at().to_rfc3339_opts(SecondsFormat::AutoSi, true);
            // One transaction: a reader never sees a token without its TTL.
            let _: () = redis::pipe()
                .atomic()
                .cmd("DEL")
                .arg(&redis_key)
                .ignore()
                .cmd("HSET")
                .arg(&redis_key)
                .arg("token")
                .arg(token.secret().expose_secret())
                .arg("expires_at")
                .arg(expires_at)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&redis_key)
                .arg(ttl)
                .ignore()
                .query_async(&mut conn)
                .await?;
        }
        let _: i64 = self
            .release
            .key(self.lock_key(key))
            .arg(&self.owner)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }
}

impl TokenCache for RedisTokenCache {
    fn get<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Option<AccessToken>> {
        Box::pin(async move {
            match self.get_or_wait(key).await {
                Ok(token) => token,
                Err(error) => {
                    // The caller then asks LWA itself: one extra refresh is
                    // better than no sync while Redis is away.
                    tracing::warn!(grant = &key.fingerprint()[..12], %error, "token cache unavailable");
                    None
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a TokenKey, token: AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(error) = self.store(key, &token).await {
                tracing::warn!(grant = &key.fingerprint()[..12], %error, "could not cache an access token");
            }
        })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, stale: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let removed: Result<i64, _> = self
                .remove_if
                .key(self.token_key(key))
                .arg(stale.secret().expose_secret())
                .invoke_async(&mut self.conn.clone())
                .await;
            if let Err(error) = removed {
                tracing::warn!(grant = &key.fingerprint()[..12], %error, "could not drop a refused access token");
            }
        })
    }
}
