//! [`Client`]: the one HTTP client of the library and the pipeline every SP-API
//! call goes through: rate-limit permit → access token → request → response
//! classification, with the in-call retries of [`crate::retry`] and the single
//! "refresh the token and try again" that Amazon's 403s call for.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::clock::{Clock, SystemClock};
use crate::config::{self, Config};
use crate::error::Error;
use crate::lwa::{InProcessTokenCache, TokenCache, TokenProvider};
use crate::sp::SellingPartner;
use crate::sp::reports::Reports;
use crate::throttle::{self, InProcessRateLimiter, LimitKey, Operation, RateLimiter, WaitTooLong};

/// A client of Amazon's APIs. Cheap to clone; clones share connections, the
/// token cache and the rate limiter, so a process should build one per LWA
/// application and region and pass clones around.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: Config,
    tokens: TokenProvider,
    limiter: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
}

/// Builds a [`Client`] with other parts than the defaults: a shared token cache
/// or rate limiter, or a simulated clock.
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    token_cache: Option<Arc<dyn TokenCache>>,
    limiter: Option<Arc<dyn RateLimiter>>,
}

impl ClientBuilder {
    /// The clock for token expiry, permits and backoff ([`SystemClock`] by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where access tokens are cached ([`InProcessTokenCache::global`] by default).
    #[must_use]
    pub fn token_cache(mut self, cache: Arc<dyn TokenCache>) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// The rate limiter (by default an [`InProcessRateLimiter`] of this client
    /// on Amazon's default plans).
    #[must_use]
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Builds the client. Fails on a base URL that cannot have paths joined onto
    /// it, or when the HTTP client cannot be built (for example when no rustls
    /// crypto provider was installed: the caller must install one, see the
    /// crate docs).
    pub fn build(self) -> Result<Client, Error> {
        let config = self.config;
        for url in [&config.endpoints.sp_api, &config.endpoints.lwa_token] {
            if url.cannot_be_a_base() {
                return Err(Error::InvalidInput {
                    message: format!("{url} cannot be used as an endpoint URL"),
                });
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(config::user_agent())
            .connect_timeout(config.timeouts.connect)
            .read_timeout(config.timeouts.read)
            .build()
            .map_err(Error::Transport)?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let limiter = self
            .limiter
            .unwrap_or_else(|| Arc::new(InProcessRateLimiter::new(Arc::clone(&clock))));
        let tokens = TokenProvider {
            http: http.clone(),
            token_url: config.endpoints.lwa_token.clone(),
            app: config.app.clone(),
            cache: self.token_cache.unwrap_or_else(|| InProcessTokenCache::global()),
            clock: Arc::clone(&clock),
            margin: config.token_refresh_margin,
            retry: config.retry,
            request_timeout: config.timeouts.request,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                tokens,
                limiter,
                clock,
            }),
        })
    }
}

/// One SP-API call, before authentication.
#[derive(Debug)]
pub(crate) struct SpRequest<'a> {
    pub(crate) operation: Operation,
    pub(crate) method: Method,
    /// Path segments after the base URL, each percent-encoded on its own (report
    /// and document ids are opaque).
    pub(crate) path: &'a [&'a str],
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<&'a serde_json::Value>,
    /// Whether sending the request twice is harmless. A non-idempotent call is
    /// only repeated when Amazon certainly did not act on it (429, or no
    /// connection was made).
    pub(crate) idempotent: bool,
}

/// Amazon's `ErrorList` (PROTOCOL.md §2.5).
#[derive(Debug, Default, Deserialize)]
struct ErrorList {
    #[serde(default)]
    errors: Vec<SpError>,
}

#[derive(Debug, Deserialize)]
struct SpError {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Option<String>,
}

impl SpError {
    fn details(&self) -> &str {
        self.details.as_deref().unwrap_or("")
    }

    /// Expired, revoked, malformed or missing access token: worth one refresh.
    /// Amazon puts the reason in `details` or, for some clients, in `message`
    /// (PROTOCOL.md §2.5), so both are matched.
    fn is_token_problem(&self) -> bool {
        [self.message.as_str(), self.details()]
            .iter()
            .any(|t| t.to_ascii_lowercase().contains("access token"))
    }
}

impl Client {
    /// A client with the default clock, token cache and rate limiter.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder to replace the defaults.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            clock: None,
            token_cache: None,
            limiter: None,
        }
    }

    /// The configuration the client runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// LWA access tokens, cached.
    pub fn tokens(&self) -> &TokenProvider {
        &self.inner.tokens
    }

    /// The Reports API, acting for `seller`.
    pub fn reports<'a>(&'a self, seller: &'a SellingPartner) -> Reports<'a> {
        Reports::new(self, seller)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// Sends an SP-API call and decodes its JSON answer.
    pub(crate) async fn sp_json<T: DeserializeOwned>(
        &self,
        seller: &SellingPartner,
        request: SpRequest<'_>,
    ) -> Result<T, Error> {
        let operation = request.operation.name();
        let response = self.sp_call(seller, request).await?;
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        serde_json::from_slice(&body).map_err(|source| Error::Decode { operation, source })
    }

    /// Sends an SP-API call until it succeeds (2xx) or fails for good.
    pub(crate) async fn sp_call(
        &self,
        seller: &SellingPartner,
        request: SpRequest<'_>,
    ) -> Result<reqwest::Response, Error> {
        let span = tracing::debug_span!(
            "sp_api",
            operation = request.operation.name(),
            seller_id = seller.seller_id
        );
        self.sp_call_in_span(seller, request).instrument(span).await
    }

    async fn sp_call_in_span(
        &self,
        seller: &SellingPartner,
        request: SpRequest<'_>,
    ) -> Result<reqwest::Response, Error> {
        let key = LimitKey {
            seller_id: seller.seller_id.clone(),
            operation: request.operation,
        };
        let url = self.sp_url(&request);
        let retry = self.inner.config.retry;
        let max_wait = self.inner.config.max_permit_wait;
        let (mut failures, mut throttled, mut refreshed) = (0u32, 0u32, false);
        loop {
            let wait = self
                .inner
                .limiter
                .reserve(&key, max_wait)
                .await
                .map_err(|WaitTooLong { wait }| Error::Throttled {
                    retry_after: Some(wait),
                })?;
            if !wait.is_zero() {
                tracing::debug!(
                    operation = key.operation.name(),
                    ?wait,
                    "Waiting for a rate-limit permit."
                );
                self.clock().sleep(wait).await;
            }
            let token = self.tokens().access_token(&seller.refresh_token).await?;
            let mut builder = self
                .http()
                .request(request.method.clone(), url.clone())
                .timeout(self.inner.config.timeouts.request)
                .header(
                    "x-amz-access-token",
                    secrecy::ExposeSecret::expose_secret(token.secret()),
                )
                .header(header::ACCEPT, "application/json");
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = request.body {
                builder = builder.json(body);
            }

            let response = match builder.send().await {
                Ok(response) => response,
                Err(e) => {
                    // A connection never made means Amazon never saw the request.
                    let repeatable = request.idempotent || e.is_connect();
                    failures += 1;
                    if !repeatable || failures >= retry.max_attempts {
                        return Err(Error::from_reqwest(e));
                    }
                    tracing::debug!(operation = key.operation.name(), error = %e, failures, "SP-API call failed; retrying.");
                    self.clock().sleep(retry.backoff(failures)).await;
                    continue;
                }
            };

            let status = response.status();
            if let Some(rate) = response
                .headers()
                .get("x-amzn-ratelimit-limit")
                .and_then(|v| v.to_str().ok())
                .and_then(throttle::parse_rate_header)
            {
                self.inner.limiter.observe_rate(&key, rate).await;
            }
            if status.is_success() {
                return Ok(response);
            }
            let retry_after = retry_after(response.headers());
            let body = response.bytes().await.map_err(Error::from_reqwest)?;
            let errors = serde_json::from_slice::<ErrorList>(&body).unwrap_or_default();

            if matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED)
                && !refreshed
                && errors.errors.iter().any(SpError::is_token_problem)
            {
                tracing::debug!(
                    operation = key.operation.name(),
                    "Access token refused; refreshing it once."
                );
                self.tokens().invalidate(&seller.refresh_token, &token).await;
                refreshed = true;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                throttled += 1;
                if throttled >= retry.max_throttled_attempts {
                    return Err(Error::Throttled { retry_after });
                }
                // SP-API sends no Retry-After (PROTOCOL.md §2.4); when absent we
                // back off, and the limiter spaces the next attempt too.
                let wait = retry_after.unwrap_or_else(|| retry.backoff(throttled));
                if wait > max_wait {
                    return Err(Error::Throttled {
                        retry_after: Some(wait),
                    });
                }
                tracing::debug!(
                    operation = key.operation.name(),
                    ?wait,
                    throttled,
                    "Throttled by Amazon; backing off."
                );
                self.clock().sleep(wait).await;
                continue;
            }
            if status.is_server_error() {
                failures += 1;
                if !request.idempotent || failures >= retry.max_attempts {
                    return Err(Error::Server { status });
                }
                tracing::debug!(operation = key.operation.name(), %status, failures, "SP-API failed; retrying.");
                self.clock().sleep(retry.backoff(failures)).await;
                continue;
            }
            return Err(classify(status, &errors));
        }
    }

    fn sp_url(&self, request: &SpRequest<'_>) -> url::Url {
        let mut url = self.inner.config.endpoints.sp_api.clone();
        url.path_segments_mut()
            .expect("ClientBuilder::build rejects base URLs that cannot be a base")
            .pop_if_empty()
            .extend(request.path);
        url
    }
}

/// A refused call that neither a token refresh nor waiting fixes.
fn classify(status: StatusCode, errors: &ErrorList) -> Error {
    let first = errors.errors.first();
    let text = || {
        first.map_or_else(
            || format!("Amazon answered {status}"),
            |e| {
                [e.code.as_str(), e.message.as_str(), e.details()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(": ")
            },
        )
    };
    match status {
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Error::Forbidden {
            code: first.map(|e| e.code.clone()).unwrap_or_default(),
            message: first.map(|e| e.message.clone()).unwrap_or_default(),
            details: first.map(|e| e.details().to_owned()).unwrap_or_default(),
        },
        _ => Error::InvalidInput { message: text() },
    }
}

/// `Retry-After` in seconds; Amazon does not send the HTTP-date form.
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(json: &str) -> ErrorList {
        serde_json::from_str(json).expect("valid ErrorList")
    }

    #[test]
    fn expired_and_invalid_tokens_are_told_apart_from_a_missing_role() {
        let expired = errors(
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
        );
        assert!(expired.errors[0].is_token_problem());
        let in_message = errors(
            r#"{"errors":[{"code":"Unauthorized","message":"The access token you provided is revoked, malformed or invalid."}]}"#,
        );
        assert!(in_message.errors[0].is_token_problem());
        let role = errors(
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}"#,
        );
        assert!(!role.errors[0].is_token_problem());
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &role),
            Error::Forbidden { code, .. } if code == "Unauthorized"
        ));
    }

    #[test]
    fn a_400_keeps_amazons_message() {
        let e = classify(
            StatusCode::BAD_REQUEST,
            &errors(r#"{"errors":[{"code":"InvalidInput","message":"Invalid input","details":"bad date"}]}"#),
        );
        assert!(
            matches!(e, Error::InvalidInput { message } if message == "InvalidInput: Invalid input: bad date")
        );
    }
}
