//! Bearer-token authentication. Every `/api/v1` handler takes a [`Caller`]
//! (any user) or an [`Admin`]; there is no unauthenticated data route.

use amzsync_db::{Scope, User};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use secrecy::SecretString;

use crate::{ApiError, AppState};

/// The authenticated user behind a request.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// The caller sees only their own stores and what hangs off them, so
    /// another tenant's store or task is a 404 exactly like a missing one.
    pub fn scope(&self) -> Scope {
        Scope::Owner(self.0.id)
    }
}

/// An authenticated user with the admin role (user and token management).
#[derive(Debug, Clone)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        match state.db.tokens().authenticate(&token).await? {
            Some(user) => {
                tracing::Span::current().record("user_id", user.id.0);
                Ok(Caller(user))
            }
            None => Err(ApiError::Unauthorized),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        if user.is_admin {
            Ok(Admin(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110 §11.1). Kept secret from here on, so it cannot reach a log by `Debug`.
fn bearer(parts: &Parts) -> Option<SecretString> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| SecretString::from(token.to_owned()))
}
