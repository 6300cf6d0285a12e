//! Login with Amazon: `POST /auth/o2/token`, the refresh_token grant (PROTOCOL.md
//! §1.2–§1.4, §1.7). Accepts form-encoded and JSON bodies, because Amazon's own Java
//! SDK posts JSON while the docs post a form.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Failure, Pending};
use crate::rng::Rng;
use crate::server::Shared;
use crate::usage_plan::Operation;
use crate::world::AccessToken;

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub(crate) async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(request) = parse(&headers, &body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : grant_type",
        );
    };
    let (failure, delay) = injected_faults(&shared, request.refresh_token.as_deref());
    if let Some(delay) = delay {
        tokio::time::sleep(shared.clock.real(delay)).await;
    }
    match failure {
        Some(Failure::ServerError) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The authorization server encountered an unexpected condition.",
            );
        }
        Some(Failure::Unavailable) => {
            // [UNC] status and text (PROTOCOL.md §7).
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The authorization server is currently unable to handle the request.",
            );
        }
        Some(Failure::Reset) => return Response::new(crate::stream::reset_body()),
        Some(Failure::Timeout(hang)) => {
            crate::stream::hang(&shared, hang).await;
            return Response::new(crate::stream::reset_body());
        }
        Some(Failure::Throttle) | None => {}
    }
    let Some(grant_type) = request.grant_type.as_deref() else {
        return missing("grant_type");
    };
    if grant_type != "refresh_token" {
        // [UNC] status and text; client_credentials (grantless) is not simulated.
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    // Client authentication comes first: a wrong secret is invalid_client (401) even
    // when the refresh token is also wrong.
    let config = &shared.config;
    if request.client_id.as_deref() != Some(config.client_id.as_str())
        || request.client_secret.as_deref() != Some(config.client_secret.as_str())
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let Some(refresh_token) = request.refresh_token else {
        return missing("refresh_token");
    };

    let now = shared.clock.now();
    let mut world = shared.world();
    let (seller, api) = match world.grants.get(&refresh_token) {
        Some(grant) if !grant.revoked => (grant.seller.clone(), grant.api),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token",
            );
        }
    };
    let n = world.next_sequence().to_string();
    let access_token = format!(
        "Atza|IwEB{}",
        Rng::keyed(config.seed, &["access", &seller, &n]).alphanumeric(96)
    );
    let lifetime = config.access_token_lifetime;
    world.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            refresh_token: refresh_token.clone(),
            seller,
            expires_at: now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX),
            api,
        },
    );
    drop(world);

    let body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": lifetime.as_secs(),
        "refresh_token": refresh_token,
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The faults of this token request: the one-shot knob, then chance. LWA has no
/// published usage plan, so chance never throttles it. Counted, and drawn, per
/// seller of the refresh token when it is known (so one seller's chaos does not
/// depend on another's calls), else over all unknown tokens.
fn injected_faults(
    shared: &Shared,
    refresh_token: Option<&str>,
) -> (Option<Failure>, Option<std::time::Duration>) {
    let mut world = shared.world();
    let op = Operation::Token;
    let seller = refresh_token
        .and_then(|t| world.grants.get(t))
        .map(|g| g.seller.clone());
    let (who, n) = match &seller {
        Some(seller) => (seller.clone(), world.count_call(seller, op)),
        None => {
            world.token_calls += 1;
            ("lwa".to_owned(), world.token_calls)
        }
    };
    let (failure, delay) = if Pending::take(&mut world.pending.fail, op) {
        (Some(Failure::ServerError), None)
    } else {
        let decision = world
            .faults(&shared.config)
            .decide(shared.config.seed, &who, op, n);
        let failure = decision.failure.filter(|f| *f != Failure::Throttle);
        (failure, decision.delay)
    };
    if let Some(seller) = &seller {
        let stats = world.stats_mut(seller, op);
        match failure {
            Some(Failure::ServerError) => stats.failed += 1,
            Some(Failure::Unavailable) => stats.unavailable += 1,
            Some(Failure::Reset) => stats.reset += 1,
            Some(Failure::Timeout(_)) => stats.timed_out += 1,
            Some(Failure::Throttle) | None => {}
        }
        stats.slowed += u64::from(delay.is_some());
        stats.injected += u64::from(failure.is_some()) + u64::from(delay.is_some());
    }
    (failure, delay)
}

/// Reads a form (the documented encoding) or a JSON object (the Java SDK's).
fn parse(headers: &HeaderMap, body: &[u8]) -> Option<TokenRequest> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return serde_json::from_slice(body).ok();
    }
    let mut request = TokenRequest::default();
    for (key, value) in url::form_urlencoded::parse(body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut request.grant_type,
            "refresh_token" => &mut request.refresh_token,
            "client_id" => &mut request.client_id,
            "client_secret" => &mut request.client_secret,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    Some(request)
}

fn missing(parameter: &str) -> Response {
    // [UNC] exact text (PROTOCOL.md §1.4).
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("The request is missing a required parameter : {parameter}"),
    )
}

/// LWA's error body: `{"error_description": …, "error": …}`.
fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "error_description": description, "error": code });
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}
