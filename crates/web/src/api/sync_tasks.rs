//! `/amazon/sync-tasks`: the history of syncs (FR-5), newest first, and retry.

use amzsync_db::{SyncTask, SyncTaskFilter, TaskHistory, TaskOrder, TaskSortKey};
use amzsync_domain::{StoreId, SyncKind, SyncTaskId, TaskStatus};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::responses::{BadRequest, NotFound, Unauthorized, Unprocessable};
use crate::extract::{Query, TaskIdPath, parse_field};
use crate::{ApiError, AppState, Caller};

const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: u32 = 100;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
        .routes(routes!(retry_task))
}

/// One sync task: what it covers, where it is, and why it failed if it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    #[schema(example = "01JD5Z8X6C0000000000000000")]
    pub id: String,
    pub store_id: i64,
    /// `inventory`, `business` or `advertising`.
    #[schema(example = "inventory")]
    pub sync_type: &'static str,
    /// `pending`, `running`, `success` or `failed`.
    #[schema(example = "pending")]
    pub status: &'static str,
    /// `manual`, `scheduled` or `retry`.
    #[schema(example = "manual")]
    pub trigger: &'static str,
    /// The first day of the window (marketplace time); absent: the engine's default window.
    pub window_start: Option<NaiveDate>,
    pub window_end: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds from start to end (to now, while running).
    pub duration_seconds: Option<f64>,
    pub records_synced: i64,
    pub records_failed: i64,
    /// Why it failed, in the terms that decide what happens next (`transient`, `unauthorized`, ...).
    pub error_class: Option<&'static str>,
    pub error_message: Option<String>,
    pub retry_count: i32,
    /// Runs so far, including the current one.
    pub attempt: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub progress: Progress,
    /// Amazon report ids the task requested (from its checkpoint).
    pub report_ids: Vec<String>,
    /// Where a retry resumes; its shape belongs to the sync engine.
    #[schema(value_type = Object)]
    pub checkpoint: serde_json::Value,
}

/// How far a running task is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub done: i32,
    pub total: i32,
    pub message: Option<String>,
}

impl TaskView {
    pub(crate) fn new(task: SyncTask, now: DateTime<Utc>) -> Self {
        let duration_seconds = task
            .duration(now)
            .and_then(|d| d.to_std().ok())
            .map(|d| d.as_secs_f64());
        let mut report_ids = Vec::new();
        collect_report_ids(&task.checkpoint, &mut report_ids);
        TaskView {
            id: task.id.to_string(),
            store_id: task.store_id.0,
            sync_type: task.sync_type.as_str(),
            status: task.status.as_str(),
            trigger: task.trigger.as_str(),
            window_start: task.window_start,
            window_end: task.window_end,
            created_at: task.created_at,
            updated_at: task.updated_at,
            start_time: task.start_time,
            end_time: task.end_time,
            duration_seconds,
            records_synced: task.records_synced,
            records_failed: task.records_failed,
            error_class: task.error_class.map(|c| c.as_str()),
            error_message: task.error_message,
            retry_count: task.retry_count,
            attempt: task.attempt,
            next_attempt_at: task.next_attempt_at,
            progress: Progress {
                done: task.progress_done,
                total: task.progress_total,
                message: task.progress_message,
            },
            report_ids,
            checkpoint: task.checkpoint,
        }
    }
}

/// The checkpoint's shape is the engine's; report ids are found by their key
/// (`report_id`, `reportId`, or a list under `report_ids`/`reportIds`) at any depth.
fn collect_report_ids(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("report_id" | "reportId", Value::String(id)) => out.push(id.clone()),
                    ("report_ids" | "reportIds", Value::Array(ids)) => {
                        out.extend(ids.iter().filter_map(|i| i.as_str().map(str::to_owned)));
                    }
                    _ => collect_report_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_report_ids(v, out)),
        _ => {}
    }
}

/// One page of tasks, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    /// Tasks matching the filters, across all pages.
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    pub items: Vec<TaskView>,
}

/// Filters and paging of the task history; every one is optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListTasks {
    /// Only this store's tasks.
    #[param(value_type = Option<i64>)]
    pub store_id: Option<String>,
    /// `pending`, `running`, `success` or `failed`.
    #[param(value_type = Option<String>)]
    pub status: Option<String>,
    /// `inventory`, `business` (or `business-reports`) or `advertising`.
    #[param(value_type = Option<String>)]
    pub sync_type: Option<String>,
    /// Only tasks created on or after this day (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Only tasks created on or before this day (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// `created` (the default), `store` (its name), `kind`, `status`, `duration` or `records` (synced).
    #[param(value_type = Option<SortKeyParam>, inline)]
    pub sort: Option<String>,
    /// `desc` (the default) or `asc`; ties are newest first either way.
    #[param(value_type = Option<OrderParam>, inline)]
    pub order: Option<String>,
    /// From 1 (the default).
    #[param(value_type = Option<u32>, minimum = 1)]
    pub page: Option<String>,
    /// 1 to 100; 20 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub page_size: Option<String>,
}

/// What the tasks are sorted by (the document's spelling of [`TaskSortKey`]).
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
enum SortKeyParam {
    Created,
    Store,
    Kind,
    Status,
    Duration,
    Records,
}

/// The direction of the sort.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
enum OrderParam {
    Desc,
    Asc,
}

/// The caller's sync tasks, newest first unless sorted otherwise; filtered,
/// sorted and paged in the database.
#[utoipa::path(get, path = "/sync-tasks", tag = "sync-tasks", params(ListTasks),
    responses((status = 200, description = "One page of tasks", body = TaskPage), BadRequest, Unauthorized, Unprocessable))]
async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListTasks>,
) -> Result<axum::Json<TaskPage>, ApiError> {
    let filter = SyncTaskFilter {
        store_id: parse_field::<StoreId>("store_id", q.store_id.as_deref())?,
        status: parse_field::<TaskStatus>("status", q.status.as_deref())?,
        kind: parse_field::<SyncKind>("sync_type", q.sync_type.as_deref())?,
    };
    let created_from = parse_field::<NaiveDate>("from", q.from.as_deref())?;
    let created_to = parse_field::<NaiveDate>("to", q.to.as_deref())?;
    if let (Some(f), Some(t)) = (created_from, created_to)
        && f > t
    {
        return Err(ApiError::unprocessable(
            "from",
            format!("from ({f}) is after to ({t})"),
        ));
    }
    let ascending = match q.order.as_deref().map(str::trim) {
        None | Some("" | "desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "order",
                format!("{other:?} is not an order (expected asc or desc)"),
            ));
        }
    };
    let history = TaskHistory {
        filter,
        created_from,
        created_to,
        order: TaskOrder {
            key: parse_field::<TaskSortKey>("sort", q.sort.as_deref())?.unwrap_or_default(),
            ascending,
        },
    };
    let page = parse_field::<u32>("page", q.page.as_deref())?.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::unprocessable("page", "pages count from 1"));
    }
    let page_size = parse_field::<u32>("page_size", q.page_size.as_deref())?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::unprocessable(
            "page_size",
            format!("page_size is 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    let found = state
        .db
        .sync_tasks()
        .history(caller.scope(), &history, page, page_size)
        .await?;
    let now = state.clock.now();
    Ok(axum::Json(TaskPage {
        total: found.total,
        page: found.page,
        page_size: found.page_size,
        items: found.items.into_iter().map(|t| TaskView::new(t, now)).collect(),
    }))
}

/// One sync task.
#[utoipa::path(get, path = "/sync-tasks/{task_id}", tag = "sync-tasks",
    params(("task_id" = String, Path, description = "The task (a ULID)")),
    responses((status = 200, description = "The task", body = TaskView), BadRequest, Unauthorized, NotFound))]
async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    TaskIdPath(id): TaskIdPath,
) -> Result<axum::Json<TaskView>, ApiError> {
    let task = state.db.sync_tasks().get(caller.scope(), id).await?;
    Ok(axum::Json(TaskView::new(task, state.clock.now())))
}

/// Puts a failed task back in the queue (pending again, its job queued for a
/// worker); it resumes from its checkpoint.
#[utoipa::path(post, path = "/sync-tasks/{task_id}/retry", tag = "sync-tasks",
    params(("task_id" = String, Path, description = "The task (a ULID)")),
    responses(
        (status = 202, description = "Queued again: pending, its job in the queue", body = TaskView,
            headers(("Location" = String, description = "The task's URL"))),
        BadRequest, Unauthorized, NotFound,
        (status = 409, description = "The task has not failed (`task_not_failed`), or another sync of its kind \
            is running (`sync_already_running`, with its `task_id`)", body = crate::error::ErrorBody),
    ))]
async fn retry_task(
    State(state): State<AppState>,
    caller: Caller,
    TaskIdPath(id): TaskIdPath,
) -> Result<impl IntoResponse, ApiError> {
    let task = retry(&state, &caller, id).await?;
    let location = format!("/api/v1/amazon/sync-tasks/{}", task.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(TaskView::new(task, state.clock.now())),
    ))
}

/// Puts one of the caller's failed tasks back to pending and enqueues it,
/// through the engine: the API's retry and the dashboard's retry button.
/// Another tenant's task is a 404; a task that has not failed is
/// `task_not_failed` (409), another active task of its kind
/// `sync_already_running` (409).
pub(crate) async fn retry(state: &AppState, caller: &Caller, id: SyncTaskId) -> Result<SyncTask, ApiError> {
    Ok(state.engine.retry(caller.scope(), id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sort_keys_are_the_ones_parsed() {
        let schema = serde_json::to_value(<SortKeyParam as utoipa::PartialSchema>::schema()).unwrap();
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let parsed: Vec<&str> = TaskSortKey::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(documented, parsed);
    }

    #[test]
    fn report_ids_are_found_anywhere_in_the_checkpoint() {
        let checkpoint = serde_json::json!({
            "reports": [{"marketplace": "US", "report_id": "111"}, {"reportId": "222"}],
            "ads": {"report_ids": ["333", 4]},
            "cursor": "abc"
        });
        let mut ids = Vec::new();
        collect_report_ids(&checkpoint, &mut ids);
        ids.sort();
        assert_eq!(ids, ["111", "222", "333"]);
    }
}
