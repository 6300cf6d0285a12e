//! API tokens. The plaintext is shown once, at creation; only its SHA-256 is
//! stored. Tokens carry 256 random bits, so a slow password hash would add
//! nothing but latency to every request.

use amzsync_domain::UserId;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngExt as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::on_pool;
use crate::error::one_changed;
use crate::{Db, Error, Result, User};

/// Every token starts with this, so leaked tokens are easy to recognise in
/// logs and by secret scanners.
const TOKEN_PREFIX: &str = "amzs_";
/// How finely a token's `last_used_at` is kept.
const LAST_USED_PRECISION: chrono::Duration = chrono::Duration::minutes(1);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    name: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: r.id,
            user_id: UserId(r.user_id),
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Repository of API tokens (`db.tokens()`).
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a>(pub(crate) &'a Db);

impl Db {
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens(self)
    }
}

impl Tokens<'_> {
    /// Creates a token for `user`; the returned secret is the only copy.
    pub async fn create(&self, user: UserId, name: &str) -> Result<(ApiToken, SecretString)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::Invalid {
                field: "name",
                message: "a token name is 1 to 64 printable characters".into(),
            });
        }
        let bytes: [u8; 32] = rand::rng().random();
        let plaintext = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let now = self.0.now();
        let row = on_pool!(self.0, p => sqlx::query_as::<_, TokenRow>(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, user_id, name, created_at, last_used_at, revoked_at",
        )
        .bind(user.0)
        .bind(name)
        .bind(hash(&plaintext))
        .bind(now)
        .fetch_one(p)
        .await)
        .map_err(|e| Error::from_write_referencing(e, "user"))?;
        Ok((row.into(), SecretString::from(plaintext)))
    }

    /// The user a presented token belongs to, if it is known and not revoked.
    /// Records the time of use, to the minute: writing it on every request
    /// made every read a write, and concurrent requests with one token queued
    /// on its row (the API's load benchmark, `scripts/api-load.sh`).
    pub async fn authenticate(&self, presented: &SecretString) -> Result<Option<User>> {
        let presented = presented.expose_secret();
        if !presented.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = self.0.now();
        let found: Option<(i64, i64, Option<DateTime<Utc>>)> = on_pool!(self.0, p => sqlx::query_as(
            "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash(presented))
        .fetch_optional(p)
        .await)?;
        let Some((token_id, user_id, last_used_at)) = found else {
            return Ok(None);
        };
        let stale_before = now - LAST_USED_PRECISION;
        if last_used_at.is_none_or(|at| at < stale_before) {
            on_pool!(self.0, p => sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now)
            .bind(token_id)
            .bind(stale_before)
            .execute(p)
            .await
            .map(drop))?;
        }
        Ok(Some(self.0.users().get(UserId(user_id)).await?))
    }

    /// Revokes a token of `user` (any user's, for `None`).
    pub async fn revoke(&self, user: Option<UserId>, token_id: i64) -> Result<()> {
        let now = self.0.now();
        let done = on_pool!(self.0, p => sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1)
             WHERE id = $2 AND ($3 IS NULL OR user_id = $3)",
        )
        .bind(now)
        .bind(token_id)
        .bind(user.map(|u| u.0))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(done, "token")
    }

    pub async fn list(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, TokenRow>(
            "SELECT id, user_id, name, created_at, last_used_at, revoked_at
             FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user.0)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }
}
