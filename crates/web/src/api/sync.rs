//! `/amazon/stores/{store_id}/sync/...`: triggering a sync of one kind, and
//! where the store stands with each kind (latest run, last success, freshness).
//!
//! A trigger records a pending task (the database refuses a second active
//! one per store and kind, FR-6) and rings the [`Dispatcher`](crate::Dispatcher).

use amzsync_db::{NewSyncTask, SyncTask};
use amzsync_domain::{StoreId, SyncKind, SyncTaskId, SyncWindow, TaskStatus, Trigger};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sync_tasks::TaskView;
use crate::dispatch::ring;
use crate::error::responses::{BadRequest, NotFound, Unauthorized, Unprocessable};
use crate::extract::{KindPath, OptionalJson, StoreIdPath};
use crate::{ApiError, AppState, Caller};

/// The longest window a trigger may ask for.
const MAX_DAYS: i64 = 365;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_inventory))
        .routes(routes!(sync_business_reports))
        .routes(routes!(sync_advertising))
        .routes(routes!(sync_status))
}

/// Which days to sync: the last `days` days (ending today, UTC), or `from`..=`to`,
/// or neither for the engine's default (backfill on a first sync, else the lookback).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[schema(minimum = 1, maximum = 365, example = 7)]
    pub days: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl SyncRequest {
    fn window(&self, today: NaiveDate) -> Result<Option<SyncWindow>, ApiError> {
        let too_long = || format!("a window is at most {MAX_DAYS} days");
        match (self.days, self.from, self.to) {
            (None, None, None) => Ok(None),
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::unprocessable(
                "days",
                "give either days or from and to, not both",
            )),
            (Some(days), None, None) => {
                if !(1..=MAX_DAYS).contains(&days) {
                    return Err(ApiError::unprocessable(
                        "days",
                        format!("days is 1 to {MAX_DAYS}"),
                    ));
                }
                let back = Days::new(u64::try_from(days - 1).unwrap_or(0));
                let start = today.checked_sub_days(back).unwrap_or(today);
                Ok(Some(
                    SyncWindow::new(start, today)
                        .map_err(|e| ApiError::unprocessable("days", e.to_string()))?,
                ))
            }
            (None, Some(_), None) => Err(ApiError::unprocessable("to", "to is required with from")),
            (None, None, Some(_)) => Err(ApiError::unprocessable("from", "from is required with to")),
            (None, Some(from), Some(to)) => {
                let window =
                    SyncWindow::new(from, to).map_err(|e| ApiError::unprocessable("from", e.to_string()))?;
                if to > today {
                    return Err(ApiError::unprocessable("to", "the window cannot end after today"));
                }
                if i64::from(window.days()) > MAX_DAYS {
                    return Err(ApiError::unprocessable("from", too_long()));
                }
                Ok(Some(window))
            }
        }
    }
}

/// A recorded trigger.
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
    let window = body.window(state.clock.now().date_naive())?;
    let task = record_manual_sync(&state, &caller, store_id, kind, window).await?;
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

/// Records a manual sync of `kind` for one of the caller's stores and rings
/// the dispatcher: what the API's triggers and the dashboard's sync buttons
/// both do. Another tenant's store is a 404; a second active task of the
/// kind is [`ApiError::sync_already_running`] (409).
pub(crate) async fn record_manual_sync(
    state: &AppState,
    caller: &Caller,
    store_id: StoreId,
    kind: SyncKind,
    window: Option<SyncWindow>,
) -> Result<SyncTask, ApiError> {
    let now = state.clock.now();
    // Reading the store first makes another tenant's store a 404, never a 409.
    let store = state.db.stores().get(caller.scope(), store_id).await?;
    let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let new = NewSyncTask {
        id: SyncTaskId::new(ms, rand::random()),
        store_id: store.id,
        kind,
        trigger: Trigger::Manual,
        window,
    };
    let task = state.db.sync_tasks().create(&new).await?;
    ring(state, task.id).await;
    tracing::info!(task_id = %task.id, store_id = %store.id, sync_type = %kind, "sync triggered");
    Ok(task)
}

macro_rules! trigger_handler {
    ($name:ident, $path:literal, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "sync", request_body(content = Option<SyncRequest>),
            params(("store_id" = i64, Path, description = "The store")),
            responses(
                (status = 202, description = "Recorded as pending; `Location` names the task", body = SyncAccepted,
                    headers(("Location" = String, description = "The task's URL"))),
                BadRequest, Unauthorized, NotFound, Unprocessable,
                (status = 409, description = "A sync of this kind is already running for this store \
                    (`sync_already_running`, with the running task's `task_id`)", body = crate::error::ErrorBody),
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
