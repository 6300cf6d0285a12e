//! Login with Amazon (PROTOCOL.md §1): exchanging a seller's refresh token for
//! an access token, and caching access tokens for everything in the process.
//!
//! - Tokens are cached under [`TokenKey`] (token URL, client id, refresh token)
//!   behind the [`TokenCache`] trait, so the sync engine can plug in a cache
//!   shared by processes; [`InProcessTokenCache::global`] is the default.
//! - A token is refreshed [`crate::Config::token_refresh_margin`] before it
//!   expires, as Amazon's own SDK does.
//! - Single flight: however many callers find the token stale at once, one of
//!   them calls LWA and the others wait for its result.
//! - `invalid_grant`, `invalid_client`, `unauthorized_client` and
//!   `access_denied` are permanent ([`Error::Unauthorized`]) and never retried.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::clock::{self, Clock};
use crate::config::LwaApp;
use crate::error::Error;
use crate::retry::RetryPolicy;

/// An LWA access token (`Atza|…`) and when it stops working.
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// A token valid until `expires_at`.
    pub fn new(value: SecretString, expires_at: DateTime<Utc>) -> Self {
        Self { value, expires_at }
    }

    /// The token, for the `x-amz-access-token` header.
    pub fn secret(&self) -> &SecretString {
        &self.value
    }

    /// When Amazon stops accepting it.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// Whether it is still good for `margin` at `now`.
    fn is_fresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        clock::add(now, margin) < self.expires_at
    }

    fn same_as(&self, other: &AccessToken) -> bool {
        self.value.expose_secret() == other.value.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Which grant a cached token belongs to. The refresh token is kept only as a
/// SHA-256 digest, so a key can be logged or stored in a shared cache.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    token_url: String,
    client_id: String,
    refresh_token_sha256: [u8; 32],
}

impl TokenKey {
    /// The key of a refresh token used with an LWA endpoint and application.
    pub fn new(token_url: &Url, client_id: &str, refresh_token: &SecretString) -> Self {
        Self {
            token_url: token_url.as_str().to_owned(),
            client_id: client_id.to_owned(),
            refresh_token_sha256: Sha256::digest(refresh_token.expose_secret().as_bytes()).into(),
        }
    }

    /// The LWA token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The LWA application.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Hex SHA-256 of the refresh token: safe to log or use in a cache key.
    pub fn fingerprint(&self) -> String {
        self.refresh_token_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("refresh_token_sha256", &&self.fingerprint()[..12])
            .finish()
    }
}

/// Where access tokens are kept between calls.
pub trait TokenCache: Send + Sync + fmt::Debug {
    /// The cached token of `key`, fresh or not.
    fn get<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Option<AccessToken>>;

    /// Caches `token` for `key`, replacing any other.
    fn put<'a>(&'a self, key: &'a TokenKey, token: AccessToken) -> BoxFuture<'a, ()>;

    /// Forgets `key`'s token if it is still `stale` (Amazon refused it). A newer
    /// token another caller cached meanwhile is kept.
    fn remove<'a>(&'a self, key: &'a TokenKey, stale: &'a AccessToken) -> BoxFuture<'a, ()>;
}

/// Access tokens in this process's memory.
#[derive(Debug, Default)]
pub struct InProcessTokenCache {
    tokens: Mutex<HashMap<TokenKey, AccessToken>>,
}

impl InProcessTokenCache {
    /// An empty cache of its own (tests; a process normally uses [`Self::global`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The cache shared by every client of this process.
    pub fn global() -> Arc<Self> {
        static GLOBAL: LazyLock<Arc<InProcessTokenCache>> = LazyLock::new(Default::default);
        Arc::clone(&GLOBAL)
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, AccessToken>> {
        // Plain data: a panic elsewhere cannot leave the map inconsistent.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TokenCache for InProcessTokenCache {
    fn get<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Option<AccessToken>> {
        let token = self.tokens().get(key).cloned();
        Box::pin(std::future::ready(token))
    }

    fn put<'a>(&'a self, key: &'a TokenKey, token: AccessToken) -> BoxFuture<'a, ()> {
        self.tokens().insert(key.clone(), token);
        Box::pin(std::future::ready(()))
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, stale: &'a AccessToken) -> BoxFuture<'a, ()> {
        let mut tokens = self.tokens();
        if tokens.get(key).is_some_and(|t| t.same_as(stale)) {
            tokens.remove(key);
        }
        Box::pin(std::future::ready(()))
    }
}

/// One lock per grant, process-wide, so that clients built separately still
/// make a single LWA call for a grant. Entries are a few bytes per grant the
/// process ever used and are kept: the number of grants is the number of stores.
static FLIGHTS: LazyLock<Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn flight(key: &TokenKey) -> Arc<tokio::sync::Mutex<()>> {
    let mut flights = FLIGHTS.lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(flights.entry(key.clone()).or_default())
}

/// Hands out access tokens for refresh tokens: from the cache while fresh, from
/// LWA otherwise. Obtained from [`crate::Client::tokens`].
#[derive(Debug)]
pub struct TokenProvider {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: Url,
    pub(crate) app: LwaApp,
    pub(crate) cache: Arc<dyn TokenCache>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) margin: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
}

/// LWA's success body (PROTOCOL.md §1.3).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// LWA's error body (PROTOCOL.md §1.4).
#[derive(Deserialize)]
struct LwaError {
    error: String,
    #[serde(default)]
    error_description: String,
}

impl TokenProvider {
    /// The cache key of a refresh token.
    pub fn key(&self, refresh_token: &SecretString) -> TokenKey {
        TokenKey::new(&self.token_url, &self.app.client_id, refresh_token)
    }

    /// A fresh access token for `refresh_token`.
    pub async fn access_token(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        let key = self.key(refresh_token);
        if let Some(token) = self.fresh(&key).await {
            return Ok(token);
        }
        let flight = flight(&key);
        let _pilot = flight.lock().await;
        // Whoever held the lock before us may have refreshed it already.
        if let Some(token) = self.fresh(&key).await {
            return Ok(token);
        }
        let token = self.exchange(refresh_token).await?;
        self.cache.put(&key, token.clone()).await;
        Ok(token)
    }

    /// Drops `stale` from the cache because Amazon refused it, so the next
    /// [`Self::access_token`] asks LWA for a new one.
    pub async fn invalidate(&self, refresh_token: &SecretString, stale: &AccessToken) {
        let key = self.key(refresh_token);
        self.cache.remove(&key, stale).await;
    }

    async fn fresh(&self, key: &TokenKey) -> Option<AccessToken> {
        let now = self.clock.now();
        self.cache.get(key).await.filter(|t| t.is_fresh(now, self.margin))
    }

    /// The refresh_token grant, with in-call retries of LWA's transient failures.
    async fn exchange(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        let mut failures = 0;
        loop {
            let error = match self.exchange_once(refresh_token).await {
                Ok(token) => return Ok(token),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => e,
            };
            failures += 1;
            if failures >= self.retry.max_attempts {
                return Err(error);
            }
            tracing::debug!(%error, failures, "Login with Amazon failed; retrying.");
            self.clock.sleep(self.retry.backoff(failures)).await;
        }
    }

    async fn exchange_once(&self, refresh_token: &SecretString) -> Result<AccessToken, Error> {
        // Expiry counts from before the request: the token may be minted at any
        // point while it is in flight.
        let requested_at = self.clock.now();
        let response = self
            .http
            .post(self.token_url.clone())
            .timeout(self.request_timeout)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
                ("client_id", self.app.client_id.as_str()),
                ("client_secret", self.app.client_secret.expose_secret()),
            ])
            .send()
            .await
            .map_err(Error::from_reqwest)?;
        let status = response.status();
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        if status.is_success() {
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|source| Error::Decode {
                operation: "lwaToken",
                source,
            })?;
            tracing::debug!(expires_in = token.expires_in, "Got an LWA access token.");
            return Ok(AccessToken::new(
                token.access_token.into(),
                clock::add(requested_at, Duration::from_secs(token.expires_in)),
            ));
        }
        Err(classify(status, &body))
    }
}

fn classify(status: StatusCode, body: &[u8]) -> Error {
    let error = serde_json::from_slice::<LwaError>(body).ok();
    match error {
        Some(e)
            if matches!(
                e.error.as_str(),
                "invalid_grant" | "invalid_client" | "unauthorized_client" | "access_denied"
            ) =>
        {
            Error::Unauthorized {
                code: e.error,
                description: e.error_description,
            }
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS => Error::Throttled { retry_after: None },
        Some(e) if matches!(e.error.as_str(), "server_error" | "temporarily_unavailable") => {
            Error::Server { status }
        }
        _ if status.is_server_error() => Error::Server { status },
        Some(e) => Error::InvalidInput {
            message: format!("Login with Amazon: {}: {}", e.error, e.error_description),
        },
        None => Error::InvalidInput {
            message: format!("Login with Amazon answered {status}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_grants_and_bad_client_credentials_are_permanent() {
        let revoked = classify(
            StatusCode::BAD_REQUEST,
            br#"{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}"#,
        );
        assert!(matches!(&revoked, Error::Unauthorized { code, .. } if code == "invalid_grant"));
        let client = classify(
            StatusCode::UNAUTHORIZED,
            br#"{"error_description":"Client authentication failed","error":"invalid_client"}"#,
        );
        assert!(matches!(&client, Error::Unauthorized { code, .. } if code == "invalid_client"));
        assert!(!client.is_retryable());
    }

    #[test]
    fn lwa_outages_are_retryable() {
        let e = classify(
            StatusCode::SERVICE_UNAVAILABLE,
            br#"{"error":"temporarily_unavailable"}"#,
        );
        assert!(e.is_retryable());
        assert!(classify(StatusCode::BAD_GATEWAY, b"<html>").is_retryable());
    }

    #[test]
    fn token_keys_differ_by_endpoint_client_and_refresh_token_and_hide_the_token() {
        let url = Url::parse("https://api.amazon.com/auth/o2/token").expect("valid");
        let other_url = Url::parse("https://api.amazon.co.uk/auth/o2/token").expect("valid");
        let rt: SecretString = "Atzr|secret".into();
        let key = TokenKey::new(&url, "client", &rt);
        assert_eq!(key, TokenKey::new(&url, "client", &rt));
        assert_ne!(key, TokenKey::new(&other_url, "client", &rt));
        assert_ne!(key, TokenKey::new(&url, "other", &rt));
        assert_ne!(key, TokenKey::new(&url, "client", &"Atzr|other".into()));
        assert!(!format!("{key:?}").contains("secret"));
    }
}
