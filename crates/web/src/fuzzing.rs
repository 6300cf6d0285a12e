//! The one entry point of the `cargo fuzz` targets in `fuzz/` into the API:
//! a JSON request body through the same parsing and checks its handler runs
//! before it reaches the database. Not part of the API; hidden from docs.

use amzsync_db::User;
use amzsync_domain::UserId;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::DateTime;

use crate::api::admin::{CreateToken, CreateUser};
use crate::api::stores::{CreateStore, UpdateStore};
use crate::api::sync::SyncRequest;
use crate::extract::parse_json;
use crate::{ApiError, Caller};

/// The API's JSON request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `POST /api/v1/amazon/stores`
    CreateStore,
    /// `PATCH /api/v1/amazon/stores/{store_id}`
    UpdateStore,
    /// `POST /api/v1/amazon/stores/{store_id}/sync/{kind}` (and the per-kind routes)
    SyncTrigger,
    /// `POST /api/v1/admin/users`
    CreateUser,
    /// `POST /api/v1/admin/users/{user_id}/tokens`
    CreateToken,
}

impl Body {
    pub const ALL: [Body; 5] = [
        Body::CreateStore,
        Body::UpdateStore,
        Body::SyncTrigger,
        Body::CreateUser,
        Body::CreateToken,
    ];
}

/// Parses `bytes` as `body` and runs its checks. A refusal is rendered as
/// the response a client would get (rendering is part of the path) and
/// comes back as that response's status.
pub fn check_body(body: Body, bytes: &[u8]) -> Result<(), StatusCode> {
    let verdict = match body {
        Body::CreateStore => parse_json::<CreateStore>(bytes).and_then(|b| {
            // Only the owner's id is read; no database is involved.
            let caller = Caller(User {
                id: UserId(1),
                name: "fuzz".into(),
                is_admin: false,
                created_at: DateTime::UNIX_EPOCH,
            });
            b.into_new_store(&caller).map(drop)
        }),
        Body::UpdateStore => parse_json::<UpdateStore>(bytes).and_then(|b| b.into_change().map(drop)),
        // The trigger's body may be left out entirely (`OptionalJson`).
        Body::SyncTrigger if bytes.iter().all(u8::is_ascii_whitespace) => Ok(()),
        Body::SyncTrigger => parse_json::<SyncRequest>(bytes).and_then(|b| b.check()),
        Body::CreateUser => parse_json::<CreateUser>(bytes).map(drop),
        Body::CreateToken => parse_json::<CreateToken>(bytes).and_then(|b| b.check()),
    };
    verdict.map_err(|err: ApiError| err.into_response().status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzz_seeds_pass_and_bad_bodies_are_client_errors() {
        let good: [(Body, &str); 5] = [
            (
                Body::CreateStore,
                r#"{"store_name":"s","region":"na","marketplaces":["US"],"seller_id":"A1","sp_api_refresh_token":"Atzr|x"}"#,
            ),
            (Body::UpdateStore, r#"{"business_lookback_days":null}"#),
            (Body::SyncTrigger, r#"{"from":"2026-03-01","to":"2026-03-02"}"#),
            (Body::CreateUser, r#"{"name":"acme"}"#),
            (Body::CreateToken, r#"{"name":"script"}"#),
        ];
        for (body, json) in good {
            assert_eq!(check_body(body, json.as_bytes()), Ok(()), "{body:?}");
        }
        assert_eq!(check_body(Body::SyncTrigger, b"  "), Ok(()));
        let bad: [(Body, &str, StatusCode); 5] = [
            (Body::CreateStore, "{", StatusCode::BAD_REQUEST),
            (
                Body::UpdateStore,
                r#"{"use_global_lwa_client":true,"sp_api_client_id":"x"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                Body::SyncTrigger,
                r#"{"days":0}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                Body::CreateUser,
                r#"{"name":1}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                Body::CreateToken,
                r#"{"name":" "}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (body, json, status) in bad {
            assert_eq!(check_body(body, json.as_bytes()), Err(status), "{body:?} {json}");
        }
    }
}
