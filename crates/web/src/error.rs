//! `ApiError`: the one error type handlers return, and the one JSON shape every
//! error response has: `{ "error": { "code", "message", "field"?, "task_id"? } }`.
//!
//! Database errors are mapped by variant and, for unique keys, by constraint
//! name. Server-side causes (5xx) are logged here with `tracing` and replaced
//! by a generic message: the client never sees SQL, paths or secrets.

use amzsync_domain::SyncTaskId;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer of the API.
#[derive(Debug)]
pub enum ApiError {
    /// No, malformed, unknown or revoked bearer token.
    Unauthorized,
    /// Authenticated, but this needs the admin role.
    Forbidden,
    /// A missing row, or another tenant's (indistinguishable on purpose).
    NotFound { what: String },
    /// Input that cannot be read or is not acceptable.
    Invalid {
        status: StatusCode,
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// The request conflicts with the current state.
    Conflict {
        code: &'static str,
        message: String,
        field: Option<&'static str>,
        task_id: Option<SyncTaskId>,
    },
    /// A body that is not JSON.
    UnsupportedMediaType,
    /// A body over the size limit.
    PayloadTooLarge,
    /// Anything that is our fault; the cause is logged, never sent.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and people (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `not_found`, `invalid_field`,
    /// `malformed_json`, `sync_already_running`, `store_inactive`, `needs_reauth`,
    /// `sync_unsupported`, `task_not_failed`, ...
    #[schema(example = "invalid_field")]
    pub code: String,
    pub message: String,
    /// The request field at fault (body, query or path), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The task holding the (store, kind) slot, for `sync_already_running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "01JD5Z8X6C0000000000000000")]
    pub task_id: Option<String>,
}

impl ApiError {
    /// 422: a readable value that is not acceptable (`from` after `to`).
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// 400: a value that cannot be read at all (a malformed id or date).
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            status: StatusCode::BAD_REQUEST,
            code: "malformed_field",
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into() }
    }

    /// FR-6: the 409 of a second trigger, naming the task that holds the slot.
    pub fn sync_already_running(task_id: Option<SyncTaskId>) -> Self {
        ApiError::Conflict {
            code: "sync_already_running",
            message: "a sync of this kind is already running for this store".into(),
            field: None,
            task_id,
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(cause.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Invalid { status, .. } => *status,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(self) -> ErrorDetail {
        let plain = |code: &str, message: String| ErrorDetail {
            code: code.into(),
            message,
            field: None,
            task_id: None,
        };
        match self {
            ApiError::Unauthorized => plain(
                "unauthorized",
                "a valid API token is required: Authorization: Bearer <token>".into(),
            ),
            ApiError::Forbidden => plain("forbidden", "this needs the admin role".into()),
            ApiError::NotFound { what } => plain("not_found", format!("{what} not found")),
            ApiError::Invalid {
                code, field, message, ..
            } => ErrorDetail {
                code: code.into(),
                message,
                field,
                task_id: None,
            },
            ApiError::Conflict {
                code,
                message,
                field,
                task_id,
            } => ErrorDetail {
                code: code.into(),
                message,
                field: field.map(Into::into),
                task_id: task_id.map(|t| t.to_string()),
            },
            ApiError::UnsupportedMediaType => plain(
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)".into(),
            ),
            ApiError::PayloadTooLarge => plain("payload_too_large", "the body is too large".into()),
            ApiError::Internal(cause) => {
                // The cause stays in the log; the client learns only that it was us.
                tracing::error!(error = %cause, source = ?cause.source(), "request failed");
                plain("internal", "internal server error".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let unauthorized = matches!(self, ApiError::Unauthorized);
        let mut response = (status, axum::Json(ErrorBody { error: self.detail() })).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<amzsync_db::Error> for ApiError {
    fn from(err: amzsync_db::Error) -> Self {
        use amzsync_db::Error as Db;
        match err {
            Db::NotFound { what } => ApiError::not_found(what),
            Db::SyncAlreadyActive { task_id } => ApiError::sync_already_running(Some(task_id)),
            Db::Conflict { constraint } => on_constraint(constraint),
            Db::Invalid { field, message } => ApiError::unprocessable(field, message),
            other => ApiError::internal(other),
        }
    }
}

/// The engine's refusals of a trigger or a retry, by what the client can do
/// about them.
impl From<amzsync_sync::TriggerError> for ApiError {
    fn from(err: amzsync_sync::TriggerError) -> Self {
        use amzsync_sync::TriggerError as T;
        let conflict = |code, message: String| ApiError::Conflict {
            code,
            message,
            field: None,
            task_id: None,
        };
        match err {
            T::AlreadyRunning { task_id } => ApiError::sync_already_running(Some(task_id)),
            // Exactly the database's answers, so another tenant's store or
            // task reads like a missing one wherever it is asked about.
            T::StoreNotFound => ApiError::not_found("store"),
            T::TaskNotFound => ApiError::not_found("sync task"),
            T::StoreInactive => conflict(
                "store_inactive",
                "the store is deactivated: reactivate it to sync".into(),
            ),
            T::NeedsReauth => conflict(
                "needs_reauth",
                "the store needs re-authorization: update its refresh token".into(),
            ),
            err @ T::Unsupported { .. } => ApiError::Invalid {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "sync_unsupported",
                field: None,
                message: err.to_string(),
            },
            T::InvalidWindow(message) => ApiError::unprocessable("window", message),
            err @ T::NotRetryable { .. } => conflict("task_not_failed", err.to_string()),
            T::Db(db) => db.into(),
            other => ApiError::internal(other),
        }
    }
}

/// Unique keys the API reports as conflicts, by their name in the schema.
fn on_constraint(constraint: &'static str) -> ApiError {
    let conflict = |code, field, message: &str| ApiError::Conflict {
        code,
        message: message.into(),
        field,
        task_id: None,
    };
    match constraint {
        "amazon_stores_seller_region_key" => conflict(
            "store_exists",
            Some("seller_id"),
            "you already have a store for this seller in this region",
        ),
        "users_name_key" => conflict("user_exists", Some("name"), "a user of this name exists"),
        // The other task finished between the refused insert and the look-up:
        // the slot is free again, so the client may simply trigger again.
        "sync_tasks_one_active_key" => ApiError::sync_already_running(None),
        _ => conflict("conflict", None, "conflicts with an existing record"),
    }
}

/// The standard error responses, for `#[utoipa::path(responses(...))]`.
pub(crate) mod responses {
    use super::ErrorBody;

    macro_rules! error_response {
        ($name:ident, $status:literal, $desc:literal) => {
            #[derive(utoipa::IntoResponses)]
            #[response(status = $status, description = $desc)]
            #[allow(dead_code)]
            pub struct $name(ErrorBody);
        };
    }

    error_response!(BadRequest, 400, "A malformed value; `field` names it");
    error_response!(Unauthorized, 401, "No, unknown or revoked bearer token");
    error_response!(Forbidden, 403, "The caller is not an admin");
    error_response!(NotFound, 404, "No such resource, or another tenant's");
    error_response!(Conflict, 409, "Conflicts with the current state");
    error_response!(Unprocessable, 422, "An unacceptable value; `field` names it");
    error_response!(PayloadTooLarge, 413, "The body is larger than the server accepts");
    error_response!(
        UnsupportedMediaType,
        415,
        "A body that is not `Content-Type: application/json`"
    );
}

#[cfg(test)]
mod tests {
    use amzsync_domain::{SyncKind, SyncTaskId, TaskStatus};
    use amzsync_sync::TriggerError;

    use super::*;

    fn answer(err: TriggerError) -> (u16, ErrorDetail) {
        let err = ApiError::from(err);
        (err.status().as_u16(), err.detail())
    }

    #[test]
    fn the_engines_refusals_map_to_the_documented_answers() {
        let task = SyncTaskId::new(1, 2);
        let cases = [
            (
                TriggerError::AlreadyRunning { task_id: task },
                409,
                "sync_already_running",
                None,
            ),
            (TriggerError::StoreNotFound, 404, "not_found", None),
            (TriggerError::TaskNotFound, 404, "not_found", None),
            (TriggerError::StoreInactive, 409, "store_inactive", None),
            (TriggerError::NeedsReauth, 409, "needs_reauth", None),
            (
                TriggerError::Unsupported {
                    kind: SyncKind::Advertising,
                    reason: "no Ads authorization",
                },
                422,
                "sync_unsupported",
                None,
            ),
            (
                TriggerError::InvalidWindow("too long".into()),
                422,
                "invalid_field",
                Some("window"),
            ),
            (
                TriggerError::NotRetryable {
                    status: TaskStatus::Success,
                },
                409,
                "task_not_failed",
                None,
            ),
            (
                TriggerError::Db(amzsync_db::Error::NotFound { what: "store" }),
                404,
                "not_found",
                None,
            ),
        ];
        for (err, status, code, field) in cases {
            let (got_status, detail) = answer(err);
            assert_eq!((got_status, detail.code.as_str()), (status, code));
            assert_eq!(detail.field.as_deref(), field);
        }
        let (_, running) = answer(TriggerError::AlreadyRunning { task_id: task });
        assert_eq!(running.task_id, Some(task.to_string()));
        let (_, unsupported) = answer(TriggerError::Unsupported {
            kind: SyncKind::Advertising,
            reason: "no Ads authorization",
        });
        assert!(
            unsupported.message.contains("no Ads authorization"),
            "{}",
            unsupported.message
        );
        // Not found reads exactly like the database's answer for a missing row.
        let (_, engine) = answer(TriggerError::StoreNotFound);
        let db = ApiError::from(amzsync_db::Error::NotFound { what: "store" }).detail();
        assert_eq!(engine.message, db.message);
        let (_, engine) = answer(TriggerError::TaskNotFound);
        let db = ApiError::from(amzsync_db::Error::NotFound { what: "sync task" }).detail();
        assert_eq!(engine.message, db.message);
    }
}
