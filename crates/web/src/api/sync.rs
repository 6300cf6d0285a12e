//! `/amazon/stores/{store_id}/sync/...`: triggering a sync of one kind, and
//! where the store stands with each kind (latest run, last success, freshness).
//!
//! A trigger asks the sync engine ([`amzsync_sync::Engine::trigger`]), which
//! checks the store, settles the window, records the pending task and enqueues
//! its job in one go, and refuses a second active task per store and kind
//! (FR-6). The rules about windows are the engine's; this module only reads
//! the request's shape.

use amzsync_db::SyncTask;
use amzsync_domain::{StoreId, SyncKind, SyncWindow, TaskStatus, Trigger};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sync_tasks::TaskView;
use crate::error::responses::{BadRequest, NotFound, PayloadTooLarge, Unauthorized, UnsupportedMediaType};
use crate::extract::{KindPath, OptionalJson, StoreIdPath};
use crate::{ApiError, AppState, Caller};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_inventory))
        .routes(routes!(sync_business_reports))
        .routes(routes!(sync_advertising))
        .routes(routes!(sync_status))
}

/// Which days to sync (days of the store's primary marketplace, both ends
/// included): `from`..=`to`; or the last `days` days up to the latest day the
/// kind can sync (today for inventory's snapshot; yesterday for business
/// reports and advertising, Amazon's last complete day); or neither for the engine's default (a backfill on a store's first
/// sync of the kind, else the kind's lookback). For inventory, `from`/`to`
/// ending by yesterday is a backfill from Amazon's daily inventory ledger,
/// and `days` can only be 1 (today). The engine decides which
/// windows can be synced: a refused one is a 422 naming `days`, or `window`
/// for `from`/`to`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[schema(minimum = 1, example = 7)]
    pub days: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The window a request asks for, as far as its shape tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Default,
    /// The last this many days (at least one).
    Days(u64),
    Dates(SyncWindow),
}

impl SyncRequest {
    /// [`SyncRequest::asked`] for callers that need only the verdict (fuzzing).
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        self.asked().map(drop)
    }

    /// Reads the request's shape: one of the three forms, a positive
    /// `days`, `from` not after `to`. Nothing here knows what the engine
    /// accepts.
    fn asked(&self) -> Result<Asked, ApiError> {
        match (self.days, self.from, self.to) {
            (None, None, None) => Ok(Asked::Default),
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::unprocessable(
                "days",
                "give either days or from and to, not both",
            )),
            (Some(days), None, None) => match u64::try_from(days) {
                Ok(days) if days >= 1 => Ok(Asked::Days(days)),
                _ => Err(ApiError::unprocessable("days", "days is at least 1")),
            },
            (None, Some(_), None) => Err(ApiError::unprocessable("to", "to is required with from")),
            (None, None, Some(_)) => Err(ApiError::unprocessable("from", "from is required with to")),
            (None, Some(from), Some(to)) => SyncWindow::new(from, to)
                .map(Asked::Dates)
                .map_err(|e| ApiError::unprocessable("from", e.to_string())),
        }
    }
}

/// A recorded trigger: the task is pending and its job is queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncAccepted {
    #[schema(example = "01JD5Z8X6C0000000000000000")]
    pub task_id: String,
    #[schema(example = "pending")]
    pub status: &'static str,
}

async fn trigger(
    state: AppState,
    caller: Caller,
    store_id: StoreId,
    kind: SyncKind,
    body: SyncRequest,
) -> Result<Response, ApiError> {
    let asked = body.asked()?;
    let window = match asked {
        Asked::Default => None,
        Asked::Dates(window) => Some(window),
        Asked::Days(days) => Some(last_days(&state, &caller, store_id, kind, days).await?),
    };
    let task = record_manual_sync(&state, &caller, store_id, kind, window)
        .await
        .map_err(|err| match err {
            // The engine names the window; the client wrote `days`.
            ApiError::Invalid {
                status,
                code,
                field: Some(field),
                message,
            } if field == "window" && matches!(asked, Asked::Days(_)) => ApiError::Invalid {
                status,
                code,
                field: Some("days".into()),
                message,
            },
            other => other,
        })?;
    let location = format!("/api/v1/amazon/sync-tasks/{}", task.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(SyncAccepted {
            task_id: task.id.to_string(),
            status: task.status.as_str(),
        }),
    )
        .into_response())
}

/// The last `days` days up to the latest day `kind` can sync, in the store's
/// primary marketplace (the engine's own notion of "today"). Reading the
/// store first makes another tenant's store the same 404 as the engine's.
async fn last_days(
    state: &AppState,
    caller: &Caller,
    store_id: StoreId,
    kind: SyncKind,
    days: u64,
) -> Result<SyncWindow, ApiError> {
    let store = state.db.stores().get(caller.scope(), store_id).await?;
    let now = state.engine.db().clock().now();
    let today = amzsync_sync::plan::today_in(&store.marketplace_id, now);
    let end = match kind {
        SyncKind::Inventory => Some(today),
        _ => today.checked_sub_days(Days::new(1)),
    };
    let start = end.and_then(|end| {
        end.checked_sub_days(Days::new(days - 1))
            .map(|start| (start, end))
    });
    start
        .and_then(|(start, end)| SyncWindow::new(start, end).ok())
        .ok_or_else(|| ApiError::unprocessable("days", "too many days"))
}

/// Starts a manual sync of `kind` for one of the caller's stores through the
/// engine (the task is recorded and its job queued): what the API's triggers
/// and the dashboard's sync buttons both do. Another tenant's store is a 404;
/// the engine's refusals map as [`ApiError`]'s `From<TriggerError>` says
/// (a second active task of the kind is `sync_already_running`, 409).
pub(crate) async fn record_manual_sync(
    state: &AppState,
    caller: &Caller,
    store_id: StoreId,
    kind: SyncKind,
    window: Option<SyncWindow>,
) -> Result<SyncTask, ApiError> {
    let task = state
        .engine
        .trigger(caller.scope(), store_id, kind, window, Trigger::Manual)
        .await?;
    Ok(task)
}

macro_rules! trigger_handler {
    ($name:ident, $path:literal, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "sync", request_body(content = Option<SyncRequest>),
            params(("store_id" = i64, Path, description = "The store")),
            responses(
                (status = 202, description = "Queued: the task is recorded as pending and its job is in the queue \
                    for a worker; `Location` names the task", body = SyncAccepted,
                    headers(("Location" = String, description = "The task's URL"))),
                BadRequest, Unauthorized, NotFound, PayloadTooLarge, UnsupportedMediaType,
                (status = 409, description = "A sync of this kind is already running for this store \
                    (`sync_already_running`, with the running task's `task_id`), or the store is deactivated \
                    (`store_inactive`)", body = crate::error::ErrorBody),
                (status = 422, description = "A window the request's shape or the engine refuses (`invalid_field`; \
                    `field` is `days`, `from`, `to` or `window`), or a kind the store cannot sync \
                    (`sync_unsupported`, e.g. advertising without an Ads authorization)", body = crate::error::ErrorBody),
            ))]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            StoreIdPath(store_id): StoreIdPath,
            OptionalJson(body): OptionalJson<SyncRequest>,
        ) -> Result<Response, ApiError> {
            trigger(state, caller, store_id, $kind, body).await
        }
    };
}

trigger_handler!(
    sync_inventory,
    "/stores/{store_id}/sync/inventory",
    SyncKind::Inventory,
    "Syncs FBA inventory (FR-1)."
);
trigger_handler!(
    sync_business_reports,
    "/stores/{store_id}/sync/business-reports",
    SyncKind::Business,
    "Syncs Sales & Traffic reports (FR-2)."
);
trigger_handler!(
    sync_advertising,
    "/stores/{store_id}/sync/advertising",
    SyncKind::Advertising,
    "Syncs Sponsored Products reports (FR-3)."
);

/// Where a store stands with one sync kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatus {
    pub store_id: i64,
    #[schema(example = "inventory")]
    pub sync_type: &'static str,
    /// Whether a task of this kind is pending or running.
    pub is_active: bool,
    /// The newest task of this kind, whatever its status.
    pub latest: Option<TaskView>,
    /// The newest successful task of this kind.
    pub last_success: Option<TaskView>,
    /// When the data was last brought up to date (the last success's end).
    pub last_success_at: Option<DateTime<Utc>>,
    /// Seconds since `last_success_at`: how stale the data is.
    pub freshness_seconds: Option<i64>,
}

/// The latest task, the last successful one, and the data's freshness.
#[utoipa::path(get, path = "/stores/{store_id}/sync/{kind}/status", tag = "sync",
    params(
        ("store_id" = i64, Path, description = "The store"),
        ("kind" = String, Path, description = "`inventory`, `business-reports` or `advertising`"),
    ),
    responses((status = 200, description = "The store's state for this kind", body = SyncStatus),
        BadRequest, Unauthorized, NotFound))]
async fn sync_status(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(store_id): StoreIdPath,
    KindPath(kind): KindPath,
) -> Result<axum::Json<SyncStatus>, ApiError> {
    let store = state.db.stores().get(caller.scope(), store_id).await?;
    let tasks = state.db.sync_tasks();
    let latest = tasks.latest(caller.scope(), store.id, kind, None).await?;
    let last_success = tasks
        .latest(caller.scope(), store.id, kind, Some(TaskStatus::Success))
        .await?;
    let now = state.clock.now();
    let last_success_at = last_success.as_ref().and_then(|t| t.end_time);
    Ok(axum::Json(SyncStatus {
        store_id: store.id.0,
        sync_type: kind.as_str(),
        is_active: latest.as_ref().is_some_and(|t| t.status.is_active()),
        latest: latest.map(|t| TaskView::new(t, now)),
        last_success: last_success.map(|t| TaskView::new(t, now)),
        last_success_at,
        freshness_seconds: last_success_at.map(|at| (now - at).num_seconds().max(0)),
    }))
}
