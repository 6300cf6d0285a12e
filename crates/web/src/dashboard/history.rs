//! `/history` and `/tasks/{task_id}`: the sync tasks, filtered by store, kind,
//! status and creation date, sorted, paged; one task's error detail and its
//! retry button (the API's retry, shared).
//!
//! Filters, order and pages are the database's (`SyncTasks::history`), the
//! same query as the API's `GET /sync-tasks`, so every matching task counts.

use std::collections::HashMap;

use amzsync_db::{SyncTask, SyncTaskFilter, TaskHistory, TaskOrder, TaskSortKey};
use amzsync_domain::{StoreId, SyncKind, SyncTaskId, TaskStatus};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::i18n::{Text, fill};
use super::page::{Chrome, duration, render, respond, when};
use super::parse_id;
use super::session::{Viewer, encode_component};
use super::sync::{KINDS, slug};
use crate::api::sync_tasks::retry as retry_task;
use crate::extract::parse_field;
use crate::{ApiError, AppState};

const PAGE_SIZE: u32 = 25;

/// The query string, raw; each value is parsed with its type's `FromStr`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryQuery {
    store: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
}

/// The column header's label of a sort key.
fn sort_label(key: TaskSortKey, t: &Text) -> &'static str {
    match key {
        TaskSortKey::Created => t.created,
        TaskSortKey::Store => t.store,
        TaskSortKey::Kind => t.kind,
        TaskSortKey::Status => t.status,
        TaskSortKey::Duration => t.duration,
        TaskSortKey::Records => t.records_synced,
    }
}

/// The filters as the form shows them again.
#[derive(Debug, Default)]
struct Filters {
    from: String,
    to: String,
}

#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Debug)]
struct SortLink {
    label: &'static str,
    href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    aria_sort: &'static str,
    arrow: &'static str,
}

#[derive(Debug)]
struct Row {
    id: String,
    store_id: i64,
    store_name: String,
    kind_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    trigger_label: &'static str,
    created: String,
    created_iso: String,
    duration: Option<String>,
    records_synced: i64,
    records_failed: i64,
    error_class: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "dashboard/history.html")]
struct HistoryPage {
    chrome: Chrome,
    t: &'static Text,
    filters: Filters,
    stores: Vec<Choice>,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    columns: Vec<SortLink>,
    rows: Vec<Row>,
    total_label: String,
    page: u32,
    pages: u32,
    prev_href: Option<String>,
    next_href: Option<String>,
}

struct Parsed {
    query: TaskHistory,
    page: u32,
}

impl HistoryQuery {
    fn parse(&self) -> Result<Parsed, ApiError> {
        let from = parse_field::<NaiveDate>("from", self.from.as_deref())?;
        let to = parse_field::<NaiveDate>("to", self.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(ApiError::unprocessable(
                "from",
                format!("from ({f}) is after to ({t})"),
            ));
        }
        Ok(Parsed {
            query: TaskHistory {
                filter: SyncTaskFilter {
                    store_id: parse_field::<StoreId>("store", self.store.as_deref())?,
                    status: parse_field::<TaskStatus>("status", self.status.as_deref())?,
                    kind: parse_field::<SyncKind>("kind", self.kind.as_deref())?,
                },
                created_from: from,
                created_to: to,
                order: TaskOrder {
                    // An unknown column (an old link) falls back to the default order.
                    key: self
                        .sort
                        .as_deref()
                        .and_then(|k| k.parse().ok())
                        .unwrap_or_default(),
                    ascending: self.dir.as_deref() == Some("asc"),
                },
            },
            page: parse_field::<u32>("page", self.page.as_deref())?
                .unwrap_or(1)
                .max(1),
        })
    }

    /// This query with some values replaced, as a link.
    fn href(&self, sort: Option<(TaskSortKey, bool)>, page: Option<u32>) -> String {
        let (sort_key, ascending) = match sort {
            Some(s) => (Some(s.0.as_str().to_owned()), s.1),
            None => (self.sort.clone(), self.dir.as_deref() == Some("asc")),
        };
        let page = page.map(|p| p.to_string()).or_else(|| self.page.clone());
        let pairs = [
            ("store", self.store.clone()),
            ("kind", self.kind.clone()),
            ("status", self.status.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("sort", sort_key),
            ("dir", ascending.then(|| "asc".to_owned())),
            ("page", page.filter(|p| p != "1")),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode_component(v)))
            })
            .collect();
        if query.is_empty() {
            "/history".to_owned()
        } else {
            format!("/history?{}", query.join("&"))
        }
    }
}

/// How long a task ran: nothing while it waits (a retried task keeps the
/// start of its first run until a worker claims it again).
fn shown_duration(task: &SyncTask, now: DateTime<Utc>) -> Option<String> {
    (task.status != TaskStatus::Pending)
        .then(|| task.duration(now))
        .flatten()
        .map(duration)
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let result = async {
        let t = viewer.lang.text();
        let p = q.parse()?;
        let scope = viewer.caller().scope();
        let now = state.clock.now();
        let stores = state.db.stores().list(scope).await?;
        let names: HashMap<i64, String> = stores.iter().map(|s| (s.id.0, s.store_name.clone())).collect();
        let found = state
            .db
            .sync_tasks()
            .history(scope, &p.query, p.page, PAGE_SIZE)
            .await?;
        let (items, total) = (found.items, usize::try_from(found.total).unwrap_or(0));

        let pages = u32::try_from(total.div_ceil(PAGE_SIZE as usize))
            .unwrap_or(u32::MAX)
            .max(1);
        let rows = items
            .into_iter()
            .map(|task| Row {
                id: task.id.to_string(),
                store_id: task.store_id.0,
                store_name: names.get(&task.store_id.0).cloned().unwrap_or_default(),
                kind_label: t.kind(task.sync_type),
                status: task.status.as_str(),
                status_label: t.task_status(Some(task.status)),
                trigger_label: t.trigger(task.trigger),
                created: when(task.created_at),
                created_iso: task.created_at.to_rfc3339(),
                duration: shown_duration(&task, now),
                records_synced: task.records_synced,
                records_failed: task.records_failed,
                error_class: task.error_class.map(|c| t.error_class(c)),
            })
            .collect();
        let order = p.query.order;
        let columns = TaskSortKey::ALL
            .into_iter()
            .map(|key| {
                let current = key == order.key;
                // The first click on a column sorts it the natural way for it.
                let next_ascending = if current {
                    !order.ascending
                } else {
                    matches!(key, TaskSortKey::Store | TaskSortKey::Kind | TaskSortKey::Status)
                };
                SortLink {
                    label: sort_label(key, t),
                    href: q.href(Some((key, next_ascending)), Some(1)),
                    aria_sort: match (current, order.ascending) {
                        (false, _) => "none",
                        (true, true) => "ascending",
                        (true, false) => "descending",
                    },
                    arrow: match (current, order.ascending) {
                        (false, _) => "",
                        (true, true) => "▲",
                        (true, false) => "▼",
                    },
                }
            })
            .collect();
        let selected = |raw: &Option<String>, value: &str| raw.as_deref().map(str::trim) == Some(value);
        let store_choices = stores
            .iter()
            .map(|s| Choice {
                value: s.id.0.to_string(),
                label: s.store_name.clone(),
                selected: p.query.filter.store_id == Some(s.id),
            })
            .collect();
        let kinds = KINDS
            .into_iter()
            .map(|k| Choice {
                value: slug(k).to_owned(),
                label: t.kind(k).to_owned(),
                selected: p.query.filter.kind == Some(k),
            })
            .collect();
        let statuses = TaskStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: t.task_status(Some(*s)).to_owned(),
                selected: selected(&q.status, s.as_str()),
            })
            .collect();
        let page = HistoryPage {
            chrome: Chrome::for_viewer(&viewer, &uri, "history", t.history_title),
            t,
            filters: Filters {
                from: p.query.created_from.map(|d| d.to_string()).unwrap_or_default(),
                to: p.query.created_to.map(|d| d.to_string()).unwrap_or_default(),
            },
            stores: store_choices,
            kinds,
            statuses,
            columns,
            rows,
            total_label: fill(t.tasks_total, total),
            page: p.page,
            pages,
            prev_href: (p.page > 1).then(|| q.href(None, Some(p.page - 1))),
            next_href: (p.page < pages).then(|| q.href(None, Some(p.page + 1))),
        };
        Ok(render(StatusCode::OK, &page))
    }
    .await;
    respond(&viewer, &uri, result)
}

#[derive(Template)]
#[template(path = "dashboard/task.html")]
struct TaskPage {
    chrome: Chrome,
    t: &'static Text,
    task: TaskDetail,
    notice: Option<String>,
}

#[derive(Debug)]
struct TaskDetail {
    id: String,
    store_id: i64,
    store_name: String,
    kind_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    trigger_label: &'static str,
    window: Option<String>,
    created: String,
    started: Option<String>,
    finished: Option<String>,
    duration: Option<String>,
    records_synced: i64,
    records_failed: i64,
    error_class: Option<&'static str>,
    error_message: Option<String>,
    attempts: i32,
    retries: i32,
    next_attempt: Option<String>,
    progress: Option<String>,
    can_retry: bool,
}

async fn task_page(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    id: SyncTaskId,
    status: StatusCode,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let t = viewer.lang.text();
    let scope = viewer.caller().scope();
    let task = state.db.sync_tasks().get(scope, id).await?;
    let store = state.db.stores().get(scope, task.store_id).await?;
    let now = state.clock.now();
    let detail = TaskDetail {
        id: task.id.to_string(),
        store_id: store.id.0,
        store_name: store.store_name,
        kind_label: t.kind(task.sync_type),
        status: task.status.as_str(),
        status_label: t.task_status(Some(task.status)),
        trigger_label: t.trigger(task.trigger),
        window: match (task.window_start, task.window_end) {
            (Some(s), Some(e)) => Some(format!("{s} – {e}")),
            _ => None,
        },
        created: when(task.created_at),
        started: task.start_time.map(when),
        finished: task.end_time.map(when),
        duration: shown_duration(&task, now),
        records_synced: task.records_synced,
        records_failed: task.records_failed,
        error_class: task.error_class.map(|c| t.error_class(c)),
        error_message: task.error_message.clone(),
        attempts: task.attempt,
        retries: task.retry_count,
        next_attempt: task.next_attempt_at.map(when),
        progress: (task.status.is_active() && task.progress_total > 0)
            .then(|| format!("{} / {}", task.progress_done, task.progress_total)),
        can_retry: task.status == TaskStatus::Failed,
    };
    let page = TaskPage {
        chrome: Chrome::for_viewer(viewer, uri, "history", t.task_title),
        t,
        task: detail,
        notice,
    };
    Ok(render(status, &page))
}

pub(crate) async fn task(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> Response {
    let result = async {
        let id: SyncTaskId = parse_id(&id, "sync task")?;
        let notice = q
            .retried
            .is_some()
            .then(|| viewer.lang.text().retry_started.to_owned());
        task_page(&state, &viewer, &uri, id, StatusCode::OK, notice).await
    }
    .await;
    respond(&viewer, &uri, result)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskQuery {
    retried: Option<String>,
}

/// `POST /tasks/{task_id}/retry`: back to pending, then to the task's page;
/// a refusal (not failed, or another task of the kind active) is shown there.
pub(crate) async fn retry(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: SyncTaskId = parse_id(&id, "sync task")?;
        match retry_task(&state, &viewer.caller(), id).await {
            Ok(task) => Ok(Redirect::to(&format!("/tasks/{}?retried=1", task.id)).into_response()),
            Err(ApiError::Conflict { code, message, .. }) => {
                let notice = if code == "sync_already_running" {
                    viewer.lang.text().sync_already_running.to_owned()
                } else {
                    message
                };
                task_page(&state, &viewer, &uri, id, StatusCode::CONFLICT, Some(notice)).await
            }
            Err(other) => Err(other),
        }
    }
    .await;
    respond(&viewer, &uri, result)
}
