//! [`Client`]: the one HTTP client of the library and the pipeline every SP-API
//! and Ads API call goes through: rate-limit permit → access token → request →
//! response classification, with the in-call retries of [`crate::retry`] and the
//! single "refresh the token and try again" that Amazon's SP-API 403s and Ads
//! 401s call for. The two APIs differ only in headers and error bodies
//! ([`Api`]); everything else is one loop, so they cannot drift apart.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::ads::{Ads, AdsAccount};
use crate::clock::{Clock, SystemClock};
use crate::config::{self, Config};
use crate::error::Error;
use crate::lwa::{InProcessTokenCache, TokenCache, TokenProvider};
use crate::observe::{CallObserver, CallOutcome, DOWNLOAD_DOCUMENT};
use crate::sp::SellingPartner;
use crate::sp::inventory::Inventory;
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
    observer: Option<Arc<dyn CallObserver>>,
}

/// Builds a [`Client`] with other parts than the defaults: a shared token cache
/// or rate limiter, or a simulated clock.
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    token_cache: Option<Arc<dyn TokenCache>>,
    limiter: Option<Arc<dyn RateLimiter>>,
    observer: Option<Arc<dyn CallObserver>>,
}

impl ClientBuilder {
    /// Told how every HTTP call to Amazon ended (for metrics); none by default.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

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
        for url in [
            &config.endpoints.sp_api,
            &config.endpoints.ads_api,
            &config.endpoints.lwa_token,
        ] {
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
                observer: self.observer,
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

/// One Ads API call, before authentication.
#[derive(Debug)]
pub(crate) struct AdsRequest<'a> {
    pub(crate) operation: Operation,
    pub(crate) method: Method,
    /// Path segments after the base URL, each percent-encoded on its own.
    pub(crate) path: &'a [&'a str],
    /// The profile for `Amazon-Advertising-API-Scope`; `None` only for
    /// `/v2/profiles`. Also the key of the call's rate-limit bucket.
    pub(crate) profile_id: Option<i64>,
    pub(crate) body: Option<&'a serde_json::Value>,
    /// Reporting v3 wants its own media types (PROTOCOL.md §5.2).
    pub(crate) content_type: &'static str,
    pub(crate) accept: &'static str,
    /// As for [`SpRequest::idempotent`].
    pub(crate) idempotent: bool,
}

/// Which API a call goes to: how it authenticates and how Amazon words its
/// refusals.
#[derive(Debug, Clone, Copy)]
enum Api {
    Sp,
    /// The profile of the `Amazon-Advertising-API-Scope` header, if any.
    Ads {
        scope: Option<i64>,
    },
}

/// A call of either API, ready for the pipeline.
#[derive(Debug)]
struct Call<'a> {
    api: Api,
    key: LimitKey,
    refresh_token: &'a SecretString,
    method: Method,
    url: url::Url,
    query: Vec<(&'static str, String)>,
    body: Option<&'a serde_json::Value>,
    content_type: &'static str,
    accept: &'static str,
    idempotent: bool,
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
            observer: None,
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

    /// The FBA Inventory API, acting for `seller`.
    pub fn inventory<'a>(&'a self, seller: &'a SellingPartner) -> Inventory<'a> {
        Inventory::new(self, seller)
    }

    /// The Ads API, acting through a store's Ads authorization.
    pub fn ads<'a>(&'a self, account: &'a AdsAccount) -> Ads<'a> {
        Ads::new(self, account)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    fn observe(&self, operation: &'static str, outcome: CallOutcome) {
        if let Some(observer) = &self.inner.observer {
            observer.observe(operation, outcome);
        }
    }

    /// Sends an SP-API call and decodes its JSON answer.
    pub(crate) async fn sp_json<T: DeserializeOwned>(
        &self,
        seller: &SellingPartner,
        request: SpRequest<'_>,
    ) -> Result<T, Error> {
        let operation = request.operation.name();
        let response = self.sp_call(seller, request).await?;
        decode(operation, response).await
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
        let call = Call {
            api: Api::Sp,
            key: LimitKey {
                seller_id: seller.seller_id.clone(),
                operation: request.operation,
            },
            refresh_token: &seller.refresh_token,
            method: request.method,
            url: join(&self.inner.config.endpoints.sp_api, request.path),
            query: request.query,
            body: request.body,
            content_type: "application/json",
            accept: "application/json",
            idempotent: request.idempotent,
        };
        self.call(call).instrument(span).await
    }

    /// Sends an Ads API call and decodes its JSON answer.
    pub(crate) async fn ads_json<T: DeserializeOwned>(
        &self,
        account: &AdsAccount,
        request: AdsRequest<'_>,
    ) -> Result<T, Error> {
        let operation = request.operation.name();
        let response = self.ads_call(account, request).await?;
        decode(operation, response).await
    }

    /// Sends an Ads API call until it succeeds (2xx) or fails for good.
    pub(crate) async fn ads_call(
        &self,
        account: &AdsAccount,
        request: AdsRequest<'_>,
    ) -> Result<reqwest::Response, Error> {
        let span = tracing::debug_span!(
            "ads_api",
            operation = request.operation.name(),
            profile_id = request.profile_id
        );
        let key = match request.profile_id {
            Some(profile_id) => LimitKey::ads_profile(profile_id, request.operation),
            // Only `/v2/profiles` is unscoped; its quota is the grant's.
            None => LimitKey {
                seller_id: format!(
                    "ads-grant:{}",
                    &self.tokens().key(&account.refresh_token).fingerprint()[..16]
                ),
                operation: request.operation,
            },
        };
        let call = Call {
            api: Api::Ads {
                scope: request.profile_id,
            },
            key,
            refresh_token: &account.refresh_token,
            method: request.method,
            url: join(&self.inner.config.endpoints.ads_api, request.path),
            query: Vec::new(),
            body: request.body,
            content_type: request.content_type,
            accept: request.accept,
            idempotent: request.idempotent,
        };
        self.call(call).instrument(span).await
    }

    /// The pipeline: permit, token, request, and the in-call retries.
    async fn call(&self, call: Call<'_>) -> Result<reqwest::Response, Error> {
        let key = &call.key;
        let retry = self.inner.config.retry;
        let max_wait = self.inner.config.max_permit_wait;
        let (mut failures, mut throttled, mut refreshed) = (0u32, 0u32, false);
        loop {
            let wait = self
                .inner
                .limiter
                .reserve(key, max_wait)
                .await
                .map_err(|WaitTooLong { wait }| Error::Paced { wait })?;
            if !wait.is_zero() {
                tracing::debug!(
                    operation = key.operation.name(),
                    ?wait,
                    "Waiting for a rate-limit permit."
                );
                self.clock().sleep(wait).await;
            }
            let token = self.tokens().access_token(call.refresh_token).await?;
            let secret = secrecy::ExposeSecret::expose_secret(token.secret());
            let mut builder = self
                .http()
                .request(call.method.clone(), call.url.clone())
                .timeout(self.inner.config.timeouts.request)
                .header(header::ACCEPT, call.accept);
            builder = match call.api {
                Api::Sp => builder.header("x-amz-access-token", secret),
                Api::Ads { scope } => {
                    let builder = builder
                        .bearer_auth(secret)
                        // Must be the LWA application that minted the token (§5.2).
                        .header(
                            "Amazon-Advertising-API-ClientId",
                            self.inner.config.app.client_id.as_str(),
                        );
                    match scope {
                        Some(profile_id) => {
                            builder.header("Amazon-Advertising-API-Scope", profile_id.to_string())
                        }
                        None => builder,
                    }
                }
            };
            if !call.query.is_empty() {
                builder = builder.query(&call.query);
            }
            if let Some(body) = call.body {
                // Serialized here rather than with `.json()`, which would
                // overwrite the Ads vendor content type.
                let bytes = serde_json::to_vec(body).map_err(|source| Error::Decode {
                    operation: key.operation.name(),
                    source,
                })?;
                builder = builder
                    .header(header::CONTENT_TYPE, call.content_type)
                    .body(bytes);
            }

            let response = match builder.send().await {
                Ok(response) => response,
                Err(e) => {
                    self.observe(key.operation.name(), CallOutcome::Transient);
                    // A connection never made means Amazon never saw the request.
                    let repeatable = call.idempotent || e.is_connect();
                    failures += 1;
                    if !repeatable || failures >= retry.max_attempts {
                        return Err(Error::from_reqwest(e));
                    }
                    tracing::debug!(operation = key.operation.name(), error = %e, failures, "Call to Amazon failed; retrying.");
                    self.clock().sleep(retry.backoff(failures)).await;
                    continue;
                }
            };

            let status = response.status();
            self.observe(key.operation.name(), CallOutcome::from_status(status));
            if let Some(rate) = response
                .headers()
                .get("x-amzn-ratelimit-limit")
                .and_then(|v| v.to_str().ok())
                .and_then(throttle::parse_rate_header)
            {
                self.inner.limiter.observe_rate(key, rate).await;
            }
            if status.is_success() {
                return Ok(response);
            }
            let retry_after = retry_after(response.headers());
            let body = response.bytes().await.map_err(Error::from_reqwest)?;

            let token_refused = match call.api {
                Api::Sp => {
                    matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED)
                        && serde_json::from_slice::<ErrorList>(&body)
                            .unwrap_or_default()
                            .errors
                            .iter()
                            .any(SpError::is_token_problem)
                }
                // The Ads API says 401 for an expired, revoked or foreign token
                // alike (PROTOCOL.md §5.6); one refresh tells them apart.
                Api::Ads { .. } => status == StatusCode::UNAUTHORIZED,
            };
            if token_refused && !refreshed {
                tracing::debug!(
                    operation = key.operation.name(),
                    "Access token refused; refreshing it once."
                );
                self.tokens().invalidate(call.refresh_token, &token).await;
                refreshed = true;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                throttled += 1;
                if throttled >= retry.max_throttled_attempts {
                    return Err(Error::Throttled { retry_after });
                }
                // SP-API sends no Retry-After (PROTOCOL.md §2.4), nor does the
                // Ads API on report creation (§5.9); when absent we back off,
                // and the limiter spaces the next attempt too.
                let wait = retry_after.unwrap_or_else(|| retry.backoff(throttled));
                if wait > max_wait {
                    return Err(Error::Throttled {
                        retry_after: Some(wait),
                    });
                }
                if matches!(call.api, Api::Ads { .. }) {
                    // Ads announces no rate header: the 429 is all a bucket
                    // learns, so other callers of the profile wait too.
                    self.inner.limiter.observe_throttled(key, wait).await;
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
                if !call.idempotent || failures >= retry.max_attempts {
                    return Err(Error::Server { status });
                }
                tracing::debug!(operation = key.operation.name(), %status, failures, "Amazon failed; retrying.");
                self.clock().sleep(retry.backoff(failures)).await;
                continue;
            }
            return Err(match call.api {
                Api::Sp => classify(
                    status,
                    &serde_json::from_slice::<ErrorList>(&body).unwrap_or_default(),
                ),
                Api::Ads { .. } => classify_ads(status, &body),
            });
        }
    }

    /// Starts the download of a pre-signed URL (a plain GET, no Amazon auth):
    /// `None` when the URL was refused (expired). Failures of the download host
    /// are retried like any idempotent call.
    pub(crate) async fn open_presigned(&self, url: &str) -> Result<Option<reqwest::Response>, Error> {
        let retry = self.inner.config.retry;
        let mut failures = 0;
        loop {
            let sent = self.http().get(url).send().await;
            self.observe(
                DOWNLOAD_DOCUMENT,
                match &sent {
                    Ok(response) => CallOutcome::from_status(response.status()),
                    Err(_) => CallOutcome::Transient,
                },
            );
            let error = match sent {
                Ok(response) if response.status().is_success() => return Ok(Some(response)),
                Ok(response) if response.status() == StatusCode::FORBIDDEN => return Ok(None),
                Ok(response) if response.status() == StatusCode::NOT_FOUND => return Err(Error::NotFound),
                Ok(response) if response.status().is_server_error() => Error::Server {
                    status: response.status(),
                },
                Ok(response) => {
                    return Err(Error::InvalidInput {
                        message: format!("the document download answered {}", response.status()),
                    });
                }
                Err(e) => Error::from_reqwest(e),
            };
            failures += 1;
            if failures >= retry.max_attempts {
                return Err(error);
            }
            tracing::debug!(%error, failures, "Document download failed; retrying.");
            self.clock().sleep(retry.backoff(failures)).await;
        }
    }
}

/// Decodes a 2xx JSON body.
async fn decode<T: DeserializeOwned>(
    operation: &'static str,
    response: reqwest::Response,
) -> Result<T, Error> {
    let body = response.bytes().await.map_err(Error::from_reqwest)?;
    serde_json::from_slice(&body).map_err(|source| Error::Decode { operation, source })
}

/// `base` with `path` appended, each segment percent-encoded on its own.
fn join(base: &url::Url, path: &[&str]) -> url::Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .expect("ClientBuilder::build rejects base URLs that cannot be a base")
        .pop_if_empty()
        .extend(path);
    url
}

/// The Ads API's error bodies: reporting v3 writes `{"code", "detail"}`, older
/// endpoints `{"code", "details"}`, throttling and gateways `{"message"}`
/// (PROTOCOL.md §5.6); all are read.
#[derive(Debug, Default, Deserialize)]
struct AdsErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl AdsErrorBody {
    fn text(&self) -> String {
        [&self.detail, &self.details, &self.message]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|t| !t.is_empty())
            .unwrap_or_default()
            .to_owned()
    }
}

/// An Ads refusal that neither a token refresh nor waiting fixes.
fn classify_ads(status: StatusCode, body: &[u8]) -> Error {
    let error = serde_json::from_slice::<AdsErrorBody>(body).unwrap_or_default();
    let text = error.text();
    match status.as_u16() {
        404 => Error::NotFound,
        // Reporting v3: an identical request is still being processed; the
        // body names it (PROTOCOL.md §5.6).
        425 => Error::DuplicateReport {
            report_id: crate::ads::reporting::duplicate_of(&text),
            detail: text,
        },
        401 | 403 => Error::Forbidden {
            code: error.code.unwrap_or_else(|| status.as_u16().to_string()),
            message: text,
            details: String::new(),
        },
        _ if text.is_empty() => Error::InvalidInput {
            message: format!("the Ads API answered {status}"),
        },
        _ => Error::InvalidInput { message: text },
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
    fn ads_errors_read_detail_details_or_message_and_a_425_names_its_report() {
        let duplicate = classify_ads(
            StatusCode::from_u16(425).expect("a valid status"),
            br#"{"code":"425","detail":"The Request is a duplicate of : a15115d8-3da4-49a4-95d5-cc0a3af5f85d"}"#,
        );
        assert!(matches!(
            &duplicate,
            Error::DuplicateReport { report_id: Some(id), .. } if id == "a15115d8-3da4-49a4-95d5-cc0a3af5f85d"
        ));
        let range = classify_ads(
            StatusCode::BAD_REQUEST,
            br#"{"code":"400","detail":"startDate to endDate range (32 days) must not exceed maximum range (31 days)"}"#,
        );
        assert!(matches!(&range, Error::InvalidInput { message } if message.contains("32 days")));
        let old = classify_ads(
            StatusCode::FORBIDDEN,
            br#"{"code":"UNAUTHORIZED","details":"Not authorized."}"#,
        );
        assert!(
            matches!(&old, Error::Forbidden { code, message, .. } if code == "UNAUTHORIZED" && message == "Not authorized.")
        );
        assert!(matches!(
            classify_ads(StatusCode::UNPROCESSABLE_ENTITY, b""),
            Error::InvalidInput { message } if message.contains("422")
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
