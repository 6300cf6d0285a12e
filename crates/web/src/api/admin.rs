//! `/admin`: users and their API tokens. Admin role only; a token's secret is
//! shown once, in the answer that creates it, and only its hash is stored.

use amzsync_db::{ApiToken, User};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::responses::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::extract::{Json, TokenIdPath, UserIdPath};
use crate::{Admin, ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

/// An API token's id: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenId(pub i64);

impl std::str::FromStr for TokenId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(TokenId(n)),
            _ => Err(format!("{s:?} is not a valid token id (a positive integer)")),
        }
    }
}

/// A user (tenant).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id.0,
            name: u.name,
            is_admin: u.is_admin,
            created_at: u.created_at,
        }
    }
}

/// Every user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 64 printable characters, unique.
    #[schema(example = "acme")]
    pub name: String,
    #[serde(default)]
    pub is_admin: bool,
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            id: t.id,
            user_id: t.user_id.0,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A user's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

/// A new token's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    #[schema(example = "reporting script")]
    pub name: String,
}

impl CreateToken {
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(ApiError::unprocessable(
                "name",
                "a token name is 1 to 100 characters",
            ));
        }
        Ok(())
    }
}

/// A created token. `token` is the only copy of the secret: store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    #[schema(example = "amzs_...")]
    pub token: String,
}

/// Creates a user.
#[utoipa::path(post, path = "/users", tag = "admin", request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView,
            headers(("Location" = String, description = "The new user's URL"))),
        BadRequest, Unauthorized, Forbidden, Unprocessable, PayloadTooLarge, UnsupportedMediaType,
        (status = 409, description = "A user of this name exists", body = crate::error::ErrorBody),
    ))]
async fn create_user(
    State(state): State<AppState>,
    _admin: Admin,
    Json(body): Json<CreateUser>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state.db.users().create(&body.name, body.is_admin).await?;
    let location = format!("/api/v1/admin/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(UserView::from(user)),
    ))
}

/// Every user.
#[utoipa::path(get, path = "/users", tag = "admin",
    responses((status = 200, description = "Every user", body = UserList), Unauthorized, Forbidden))]
async fn list_users(State(state): State<AppState>, _admin: Admin) -> Result<axum::Json<UserList>, ApiError> {
    let users = state.db.users().list().await?;
    Ok(axum::Json(UserList {
        items: users.into_iter().map(UserView::from).collect(),
    }))
}

/// Creates an API token for a user; the answer holds the secret, once.
#[utoipa::path(post, path = "/users/{user_id}/tokens", tag = "admin", request_body = CreateToken,
    params(("user_id" = i64, Path, description = "The user")),
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = CreatedToken),
        BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, PayloadTooLarge, UnsupportedMediaType,
    ))]
async fn create_token(
    State(state): State<AppState>,
    _admin: Admin,
    UserIdPath(user): UserIdPath,
    Json(body): Json<CreateToken>,
) -> Result<impl IntoResponse, ApiError> {
    body.check()?;
    let (info, secret) = state.db.tokens().create(user, &body.name).await?;
    let created = CreatedToken {
        info: info.into(),
        token: secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// A user's tokens (never their secrets).
#[utoipa::path(get, path = "/users/{user_id}/tokens", tag = "admin",
    params(("user_id" = i64, Path, description = "The user")),
    responses((status = 200, description = "The user's tokens", body = TokenList),
        BadRequest, Unauthorized, Forbidden, NotFound))]
async fn list_tokens(
    State(state): State<AppState>,
    _admin: Admin,
    UserIdPath(user): UserIdPath,
) -> Result<axum::Json<TokenList>, ApiError> {
    // An unknown user is a 404, not an empty list.
    let user = state.db.users().get(user).await?;
    let tokens = state.db.tokens().list(user.id).await?;
    Ok(axum::Json(TokenList {
        items: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// Revokes a token: it stops working at once. Revoking twice is harmless.
#[utoipa::path(delete, path = "/tokens/{token_id}", tag = "admin",
    params(("token_id" = i64, Path, description = "The token")),
    responses((status = 204, description = "Revoked"), BadRequest, Unauthorized, Forbidden, NotFound))]
async fn revoke_token(
    State(state): State<AppState>,
    _admin: Admin,
    TokenIdPath(token): TokenIdPath,
) -> Result<StatusCode, ApiError> {
    state.db.tokens().revoke(None, token.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
