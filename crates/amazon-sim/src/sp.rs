//! What every SP-API operation shares: the `x-amz-access-token` check, injected
//! faults, usage plans, statistics and the `{"errors": […]}` body (PROTOCOL.md
//! §2.3–§2.6).

pub(crate) mod inventory;
pub(crate) mod reports;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::faults::{Failure, Pending};
use crate::server::Shared;
use crate::usage_plan::{Bucket, Operation};
use crate::world::Api;

const RATE_LIMIT_HEADER: &str = "x-amzn-RateLimit-Limit";

/// An authenticated caller admitted past faults and the usage plan.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) seller: String,
    /// `x-amzn-RateLimit-Limit` for this operation's plan.
    rate_limit: Option<&'static str>,
}

impl Caller {
    /// A JSON success response carrying the usage plan header.
    pub(crate) fn json(&self, status: StatusCode, body: &Value) -> Response {
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        self.stamp(&mut response);
        response
    }

    /// An empty success response carrying the usage plan header.
    pub(crate) fn empty(&self, status: StatusCode) -> Response {
        let mut response = status.into_response();
        self.stamp(&mut response);
        response
    }

    fn stamp(&self, response: &mut Response) {
        if let Some(rate) = self.rate_limit {
            response
                .headers_mut()
                .insert(RATE_LIMIT_HEADER, HeaderValue::from_static(rate));
        }
    }
}

/// An SP-API error response.
#[derive(Debug)]
pub(crate) struct SpError {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    details: String,
    rate_limit: Option<&'static str>,
    /// A transport fault instead of an answer: the connection closes, after
    /// hanging this long (simulated; zero for a reset).
    dropped: Option<std::time::Duration>,
}

impl SpError {
    fn new(status: StatusCode, code: &'static str, message: &'static str, details: String) -> Self {
        Self {
            status,
            code,
            message,
            details,
            rate_limit: None,
            dropped: None,
        }
    }

    /// No answer: the connection closes after `hang` of simulated time.
    fn dropped(hang: std::time::Duration) -> Self {
        Self {
            dropped: Some(hang),
            ..Self::internal()
        }
    }

    pub(crate) fn unauthorized(details: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
            details.to_owned(),
        )
    }

    pub(crate) fn quota_exceeded() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            String::new(),
        )
    }

    /// 400 `InvalidInput`; it carries the plan header, as Amazon's 400s do.
    pub(crate) fn invalid_input(caller: &Caller, details: impl Into<String>) -> Self {
        Self {
            rate_limit: caller.rate_limit,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Invalid input",
                details.into(),
            )
        }
    }

    /// 400 for a stale or mangled getInventorySummaries `nextToken`, with Amazon's
    /// own message and empty details (examples/fba_inventory_error_400.json).
    pub(crate) fn invalid_next_token(caller: &Caller) -> Self {
        Self {
            rate_limit: caller.rate_limit,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Next token is invalid or expired",
                String::new(),
            )
        }
    }

    /// 404 `NotFound` [UNC code]; it carries the plan header, as Amazon's 404s do.
    pub(crate) fn not_found(caller: &Caller) -> Self {
        Self {
            rate_limit: caller.rate_limit,
            ..Self::resource_not_found()
        }
    }

    fn resource_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Resource not found.",
            String::new(),
        )
    }

    fn internal() -> Self {
        // [UNC] code and text (PROTOCOL.md §2.5).
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "We encountered an internal error. Please try again.",
            String::new(),
        )
    }

    fn unavailable() -> Self {
        // [UNC] code and text (PROTOCOL.md §2.5, §7).
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service temporarily unavailable. Please try again.",
            String::new(),
        )
    }

    pub(crate) fn unsupported_media_type() -> Self {
        // [UNC] body: Amazon documents the status only.
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The request payload is not in a supported format.",
            "Content-Type must be application/json.".into(),
        )
    }
}

impl IntoResponse for SpError {
    fn into_response(self) -> Response {
        if self.dropped.is_some() {
            return Response::new(crate::stream::reset_body());
        }
        let body = json!({
            "errors": [{ "code": self.code, "message": self.message, "details": self.details }]
        });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if let Some(rate) = self.rate_limit {
            response
                .headers_mut()
                .insert(RATE_LIMIT_HEADER, HeaderValue::from_static(rate));
        }
        response
    }
}

/// Unknown paths answer like an SP-API 404.
pub(crate) async fn not_found() -> SpError {
    SpError::resource_not_found()
}

/// Authenticates the call, then applies injected faults and the usage plan, in that
/// order: Amazon checks the token before spending quota, so a 403 costs nothing. A
/// call chance made slow waits before it is answered, without holding the world.
pub(crate) async fn admit(shared: &Shared, headers: &HeaderMap, op: Operation) -> Result<Caller, SpError> {
    let mut delay = None;
    let admitted = admit_now(shared, headers, op, &mut delay);
    if let Some(delay) = delay {
        tokio::time::sleep(shared.clock.real(delay)).await;
    }
    if let Err(SpError {
        dropped: Some(hang), ..
    }) = &admitted
    {
        crate::stream::hang(shared, *hang).await;
    }
    admitted
}

fn admit_now(
    shared: &Shared,
    headers: &HeaderMap,
    op: Operation,
    delay: &mut Option<std::time::Duration>,
) -> Result<Caller, SpError> {
    let now = shared.clock.now();
    let mut world = shared.world();

    let Some(token) = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()) else {
        return Err(SpError::unauthorized(
            "Access token is missing in the request header.",
        ));
    };
    let revoked_or_unknown = "The access token you provided is revoked, malformed or invalid.";
    let Some(access) = world.access_tokens.get(token).cloned() else {
        return Err(SpError::unauthorized(revoked_or_unknown));
    };
    // An Ads-only token carries another scope: Amazon refuses it like a bad one.
    if access.api != Api::SellingPartner || world.grants.get(&access.refresh_token).is_none_or(|g| g.revoked)
    {
        return Err(SpError::unauthorized(revoked_or_unknown));
    }
    if now >= access.expires_at {
        return Err(SpError::unauthorized(
            "The access token you provided has expired.",
        ));
    }

    let seller = access.seller;
    let n = world.count_call(&seller, op);

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
                SpError::internal()
            }
            Failure::Unavailable => {
                stats.unavailable += 1;
                SpError::unavailable()
            }
            Failure::Throttle => {
                stats.throttled += 1;
                SpError::quota_exceeded()
            }
            Failure::Reset => {
                stats.reset += 1;
                SpError::dropped(std::time::Duration::ZERO)
            }
            Failure::Timeout(hang) => {
                stats.timed_out += 1;
                SpError::dropped(hang)
            }
        });
    }
    let Some(plan) = op.usage_plan() else {
        return Ok(Caller {
            seller,
            rate_limit: None,
        });
    };
    let admitted = world
        .buckets
        .entry((seller.clone(), op))
        .or_insert_with(|| Bucket::full(plan, now))
        .try_take(plan, now);
    if !admitted {
        let stats = world.stats_mut(&seller, op);
        stats.violations += 1;
        if shared.config.enforce_usage_plans {
            stats.throttled += 1;
            tracing::debug!(seller, operation = op.name(), "Usage plan exceeded.");
            return Err(SpError::quota_exceeded());
        }
    }
    Ok(Caller {
        seller,
        rate_limit: Some(plan.header),
    })
}
