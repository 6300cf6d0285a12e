//! What every Ads API operation shares (PROTOCOL.md §5.2, §5.6, §5.9): the bearer
//! token, the `Amazon-Advertising-API-ClientId` and `-Scope` headers, injected
//! faults, the per-profile usage plan, statistics and Amazon's error bodies.

pub(crate) mod profiles;
pub(crate) mod reporting;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::faults::{Failure, Pending};
use crate::server::Shared;
use crate::truth::{AdsProfile, Truth};
use crate::usage_plan::{Bucket, Operation, UsagePlan};
use crate::world::Api;

/// An authenticated Ads caller admitted past faults and the usage plan.
#[derive(Debug)]
pub(crate) struct AdsCaller {
    pub(crate) seller: String,
    /// The profile of `Amazon-Advertising-API-Scope`, on profile-scoped calls.
    pub(crate) profile: Option<AdsProfile>,
}

impl AdsCaller {
    /// The profile of a profile-scoped call; admission guarantees it.
    pub(crate) fn profile(&self) -> Result<&AdsProfile, AdsError> {
        self.profile
            .as_ref()
            .ok_or_else(|| AdsError::v3(StatusCode::BAD_REQUEST, MISSING_SCOPE))
    }
}

/// A JSON response as the Ads API sends it (`Content-Type: application/json`).
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An Ads API error response.
#[derive(Debug)]
pub(crate) struct AdsError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    /// A transport fault instead of an answer: the connection closes, after
    /// hanging this long (simulated; zero for a reset).
    dropped: Option<std::time::Duration>,
}

const MISSING_SCOPE: &str = "Amazon-Advertising-API-Scope header is missing.";

impl AdsError {
    /// Reporting v3's `AsyncReportingError`: `{"code": "<status>", "detail": …}`,
    /// with `detail` in the singular (§5.6).
    pub(crate) fn v3(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "code": status.as_u16().to_string(), "detail": detail.into() }),
            retry_after: None,
            dropped: None,
        }
    }

    /// 401, in the older shape Amazon uses for authentication failures on every
    /// endpoint: `{"code": "UNAUTHORIZED", "details": …}` [OBS].
    fn unauthorized(details: &str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "code": "UNAUTHORIZED", "details": details }),
            retry_after: None,
            dropped: None,
        }
    }

    /// 429 `{"message": "Too Many Requests"}`, with `Retry-After` only when given.
    fn throttled(retry_after: Option<u64>) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: json!({ "message": "Too Many Requests" }),
            retry_after,
            dropped: None,
        }
    }
}

impl AdsError {
    /// No answer: the connection closes after `hang` of simulated time.
    fn dropped(hang: std::time::Duration) -> Self {
        Self {
            dropped: Some(hang),
            ..Self::v3(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

impl IntoResponse for AdsError {
    fn into_response(self) -> Response {
        if self.dropped.is_some() {
            return Response::new(crate::stream::reset_body());
        }
        let mut response = json_response(self.status, &self.body);
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Authenticates the call, resolves the scope, then applies injected faults and the
/// usage plan, in that order, like [`crate::sp::admit`]; a call chance made slow
/// waits before it is answered.
pub(crate) async fn admit(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    op: Operation,
    scoped: bool,
) -> Result<AdsCaller, AdsError> {
    let mut delay = None;
    let admitted = admit_now(shared, headers, op, scoped, &mut delay);
    if let Some(delay) = delay {
        tokio::time::sleep(shared.clock.real(delay)).await;
    }
    if let Err(AdsError {
        dropped: Some(hang), ..
    }) = &admitted
    {
        crate::stream::hang(shared, *hang).await;
    }
    admitted
}

fn admit_now(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    op: Operation,
    scoped: bool,
    delay: &mut Option<std::time::Duration>,
) -> Result<AdsCaller, AdsError> {
    let now = shared.clock.now();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    let Some(token) = header("authorization").and_then(|v| v.strip_prefix("Bearer ")) else {
        return Err(AdsError::unauthorized("Authorization header is missing."));
    };
    let seller = {
        let world = shared.world();
        let invalid = "Invalid token.";
        let access = world
            .access_tokens
            .get(token)
            .cloned()
            .ok_or_else(|| AdsError::unauthorized(invalid))?;
        // An SP-API token has no advertising scope; a revoked grant's tokens die.
        if access.api != Api::Advertising || world.grants.get(&access.refresh_token).is_none_or(|g| g.revoked)
        {
            return Err(AdsError::unauthorized(invalid));
        }
        if now >= access.expires_at {
            return Err(AdsError::unauthorized("Access token is expired."));
        }
        access.seller
    };
    // The client id must be the LWA application that minted the token (§5.10).
    if header("amazon-advertising-api-clientid") != Some(shared.config.client_id.as_str()) {
        return Err(AdsError::unauthorized(
            "Amazon-Advertising-API-ClientId is missing or does not match the access token.",
        ));
    }
    let profile = if scoped {
        let scope = header("amazon-advertising-api-scope")
            .ok_or_else(|| AdsError::v3(StatusCode::BAD_REQUEST, MISSING_SCOPE))?;
        // ads-advanced-tools-docs#324: an unknown scope is this 400.
        let unknown = || AdsError::v3(StatusCode::BAD_REQUEST, "Invalid Advertiser or Marketplace ID.");
        let id: i64 = scope.trim().parse().map_err(|_| unknown())?;
        let truth = Truth::new(Arc::clone(shared));
        let profile = truth.ads_profile(id).map_err(|_| unknown())?;
        if profile.seller_id != seller {
            return Err(AdsError::v3(
                StatusCode::FORBIDDEN,
                "Not authorized to access this advertiser.",
            ));
        }
        Some(profile)
    } else {
        None
    };

    let mut world = shared.world();
    let n = world.count_call(&seller, op);
    // ads-advanced-tools-docs#344: 429s on report creation come without
    // Retry-After; other operations send it.
    let says_retry_after = op != Operation::CreateAsyncReport;
    let failure = if Pending::take(&mut world.pending.fail, op) {
        Some(Failure::ServerError)
    } else if Pending::take(&mut world.pending.throttle, op) {
        Some(Failure::Throttle)
    } else {
        let decision = world
            .faults(&shared.config)
            .decide(shared.config.seed, &seller, op, n);
        if decision.delay.is_some() {
            *delay = decision.delay;
            let stats = world.stats_mut(&seller, op);
            stats.slowed += 1;
            stats.injected += 1;
        }
        decision.failure
    };
    if let Some(failure) = failure {
        let stats = world.stats_mut(&seller, op);
        stats.injected += 1;
        return Err(match failure {
            Failure::ServerError => {
                stats.failed += 1;
                AdsError::v3(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            Failure::Unavailable => {
                stats.unavailable += 1;
                // [UNC] body; reporting v3 documents only the status.
                AdsError::v3(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            }
            Failure::Throttle => {
                stats.throttled += 1;
                AdsError::throttled(says_retry_after.then_some(1))
            }
            Failure::Reset => {
                stats.reset += 1;
                AdsError::dropped(std::time::Duration::ZERO)
            }
            Failure::Timeout(hang) => {
                stats.timed_out += 1;
                AdsError::dropped(hang)
            }
        });
    }
    if let Some(profile) = &profile {
        // The Ads API sends no rate header, so the plan's header stays empty.
        let plan = UsagePlan {
            rate: shared.config.ads_rate,
            burst: shared.config.ads_burst,
            header: "",
        };
        let bucket = world
            .buckets
            .entry((format!("ads-profile:{}", profile.profile_id), op))
            .or_insert_with(|| Bucket::full(plan, now));
        if !bucket.try_take(plan, now) {
            let wait = bucket.seconds_to_next_token(plan);
            let stats = world.stats_mut(&seller, op);
            stats.violations += 1;
            if shared.config.enforce_usage_plans {
                stats.throttled += 1;
                tracing::debug!(seller, operation = op.name(), "Ads usage plan exceeded.");
                return Err(AdsError::throttled(says_retry_after.then_some(wait)));
            }
        }
    }
    Ok(AdsCaller { seller, profile })
}
