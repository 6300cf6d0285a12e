//! Sync tasks: the truth about every sync (the job queue only rings the bell).
//! The database guarantees at most one pending-or-running task per (store,
//! kind); a second one is refused with [`Error::SyncAlreadyActive`].

use amzsync_domain::{ErrorClass, StoreId, SyncKind, SyncTaskId, SyncWindow, TaskStatus, Trigger};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::db::{on_pool, on_tx};
use crate::error::{one_changed, unique_violation};
use crate::{Db, Engine, Error, Result, Scope, Tx};

#[derive(Debug, Clone)]
pub struct NewSyncTask {
    pub id: SyncTaskId,
    pub store_id: StoreId,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub window: Option<SyncWindow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncTask {
    pub id: SyncTaskId,
    pub store_id: StoreId,
    pub sync_type: SyncKind,
    pub status: TaskStatus,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub records_synced: i64,
    pub records_failed: i64,
    pub error_message: Option<String>,
    pub retry_count: i32,
    pub created_at: DateTime<Utc>,
    pub error_class: Option<ErrorClass>,
    pub window_start: Option<NaiveDate>,
    pub window_end: Option<NaiveDate>,
    pub trigger: Trigger,
    pub attempt: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub checkpoint: serde_json::Value,
    pub progress_done: i32,
    pub progress_total: i32,
    pub progress_message: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    store_id: i64,
    sync_type: String,
    status: String,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    records_synced: i64,
    records_failed: i64,
    error_message: Option<String>,
    retry_count: i32,
    created_at: DateTime<Utc>,
    error_class: Option<String>,
    window_start: Option<NaiveDate>,
    window_end: Option<NaiveDate>,
    trigger: String,
    attempt: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    checkpoint: sqlx::types::Json<serde_json::Value>,
    progress_done: i32,
    progress_total: i32,
    progress_message: Option<String>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "t.id, t.store_id, t.sync_type, t.status, t.start_time, t.end_time,
    t.records_synced, t.records_failed, t.error_message, t.retry_count, t.created_at,
    t.error_class, t.window_start, t.window_end, t.trigger, t.attempt, t.next_attempt_at,
    t.lease_owner, t.lease_expires_at, t.checkpoint, t.progress_done, t.progress_total,
    t.progress_message, t.updated_at";

/// A claim that returns the claimed row: one round trip per delivery, and
/// nothing can change the row in between. Built once, with [`COLUMNS`]
/// unqualified (SQLite refuses a qualified name in `RETURNING`).
static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE sync_tasks SET status = 'running', attempt = attempt + 1,
            start_time = COALESCE(start_time, $1), lease_owner = $2, lease_expires_at = $3,
            next_attempt_at = NULL, updated_at = $1
         WHERE id = $4
            AND ((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1))
              OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= $1)))
         RETURNING {}",
        COLUMNS.replace("t.", "")
    )
});

impl TryFrom<TaskRow> for SyncTask {
    type Error = Error;
    fn try_from(r: TaskRow) -> Result<Self> {
        let corrupt = |field: &'static str, e: &dyn std::fmt::Display| Error::Invalid {
            field,
            message: format!("stored value of sync task {} is unreadable: {e}", r.id),
        };
        Ok(SyncTask {
            id: r.id.parse().map_err(|e| corrupt("id", &e))?,
            store_id: StoreId(r.store_id),
            sync_type: r.sync_type.parse().map_err(|e| corrupt("sync_type", &e))?,
            status: r.status.parse().map_err(|e| corrupt("status", &e))?,
            start_time: r.start_time,
            end_time: r.end_time,
            records_synced: r.records_synced,
            records_failed: r.records_failed,
            error_message: r.error_message,
            retry_count: r.retry_count,
            created_at: r.created_at,
            error_class: match r.error_class {
                Some(c) => Some(c.parse().map_err(|e| corrupt("error_class", &e))?),
                None => None,
            },
            window_start: r.window_start,
            window_end: r.window_end,
            trigger: r.trigger.parse().map_err(|e| corrupt("trigger", &e))?,
            attempt: r.attempt,
            next_attempt_at: r.next_attempt_at,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at,
            checkpoint: r.checkpoint.0,
            progress_done: r.progress_done,
            progress_total: r.progress_total,
            progress_message: r.progress_message,
            updated_at: r.updated_at,
        })
    }
}

impl SyncTask {
    /// How long the task ran (so far, for a running one).
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.start_time.map(|s| self.end_time.unwrap_or(now) - s)
    }
}

/// What one successful task fetched: its checkpoint (which reports it
/// stored, per marketplace or Ads profile and day) and when it was created,
/// which no report it stored was requested much before. The sync engine
/// reads from these which days are already final and synced.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub task_id: SyncTaskId,
    pub created_at: DateTime<Utc>,
    pub checkpoint: serde_json::Value,
}

/// Filters of the task history (FR-5); `None` means any.
#[derive(Debug, Clone, Default)]
pub struct SyncTaskFilter {
    pub store_id: Option<StoreId>,
    pub status: Option<TaskStatus>,
    pub kind: Option<SyncKind>,
}

/// What the task history is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSortKey {
    /// Creation time (the ULID breaks ties).
    #[default]
    Created,
    /// The store's name.
    Store,
    Kind,
    Status,
    /// From start to end (to now while running); tasks never started have none.
    Duration,
    /// Records synced.
    Records,
}

impl TaskSortKey {
    pub const ALL: [TaskSortKey; 6] = [
        TaskSortKey::Created,
        TaskSortKey::Store,
        TaskSortKey::Kind,
        TaskSortKey::Status,
        TaskSortKey::Duration,
        TaskSortKey::Records,
    ];

    /// The spelling in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSortKey::Created => "created",
            TaskSortKey::Store => "store",
            TaskSortKey::Kind => "kind",
            TaskSortKey::Status => "status",
            TaskSortKey::Duration => "duration",
            TaskSortKey::Records => "records",
        }
    }
}

impl std::str::FromStr for TaskSortKey {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        TaskSortKey::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = TaskSortKey::ALL.iter().map(|k| k.as_str()).collect();
                format!("{s:?} is not a sort key (expected one of {})", known.join(", "))
            })
    }
}

/// A sort key and its direction; newest first by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskOrder {
    pub key: TaskSortKey,
    pub ascending: bool,
}

impl TaskOrder {
    /// The `ORDER BY` list (`$9` is now, for running tasks' durations; bound
    /// only when sorting by duration).
    /// Ties keep the newest task first whatever the direction, and a task
    /// without a duration sorts as the smallest, on both engines alike.
    fn sql(self, engine: Engine) -> String {
        let column = match self.key {
            TaskSortKey::Created => "t.created_at",
            TaskSortKey::Store => "s.store_name",
            TaskSortKey::Kind => "t.sync_type",
            TaskSortKey::Status => "t.status",
            TaskSortKey::Duration => match engine {
                Engine::Postgres => "(COALESCE(t.end_time, $9) - t.start_time)",
                Engine::Sqlite => "(julianday(COALESCE(t.end_time, $9)) - julianday(t.start_time))",
            },
            TaskSortKey::Records => "t.records_synced",
        };
        let direction = if self.ascending { "ASC" } else { "DESC" };
        // Only a duration can be NULL, and the engines disagree on where NULLs
        // go, so it says; elsewhere a NULLS clause would stop PostgreSQL from
        // reading `created_at` in index order (a backward scan gives NULLS FIRST).
        let nulls = match (self.key, self.ascending) {
            (TaskSortKey::Duration, true) => " NULLS FIRST",
            (TaskSortKey::Duration, false) => " NULLS LAST",
            _ => "",
        };
        format!("{column} {direction}{nulls}, t.id DESC")
    }
}

/// The history's filters and order: [`SyncTaskFilter`] plus the days of
/// creation (UTC, both included) and the sort.
#[derive(Debug, Clone, Default)]
pub struct TaskHistory {
    pub filter: SyncTaskFilter,
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    pub order: TaskOrder,
}

/// One page of a list, with the total across pages.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    pub items: Vec<T>,
}

/// Repository of sync tasks (`db.sync_tasks()`).
#[derive(Debug, Clone, Copy)]
pub struct SyncTasks<'a>(pub(crate) &'a Db);

impl Db {
    pub fn sync_tasks(&self) -> SyncTasks<'_> {
        SyncTasks(self)
    }
}

impl SyncTasks<'_> {
    /// Creates a pending task, unless one of its kind is already pending or
    /// running for the store (FR-6), in which case nothing is written.
    pub async fn create(&self, new: &NewSyncTask) -> Result<SyncTask> {
        let mut tx = self.0.begin().await?;
        let task = Self::create_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// The same inside the caller's transaction, so the task and its job in
    /// the queue commit together. A refused insert is rolled back to a
    /// savepoint: the transaction stays usable either way.
    pub async fn create_in(tx: &mut Tx, new: &NewSyncTask) -> Result<SyncTask> {
        let now = tx.now;
        let inserted = on_tx!(tx, c => {
            let mut savepoint = sqlx::Connection::begin(&mut *c).await?;
            let result = sqlx::query(
                "INSERT INTO sync_tasks (id, store_id, sync_type, status, trigger, window_start, window_end,
                    created_at, updated_at)
                 VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7)",
            )
            .bind(new.id.to_string())
            .bind(new.store_id.0)
            .bind(new.kind.as_str())
            .bind(new.trigger.as_str())
            .bind(new.window.map(|w| w.start()))
            .bind(new.window.map(|w| w.end()))
            .bind(now)
            .execute(&mut *savepoint)
            .await
            .map(drop);
            match result {
                Ok(()) => savepoint.commit().await?,
                Err(_) => savepoint.rollback().await?,
            }
            result
        });
        match inserted {
            Ok(()) => {
                let sql = format!("SELECT {COLUMNS} FROM sync_tasks t WHERE t.id = $1");
                let row = on_tx!(tx, c => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
                    .bind(new.id.to_string())
                    .fetch_one(&mut *c)
                    .await)?;
                row.try_into()
            }
            Err(e) if unique_violation(&e) == Some("sync_tasks_one_active_key") => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM sync_tasks t
                     WHERE t.store_id = $1 AND t.sync_type = $2 AND t.status IN ('pending', 'running')"
                );
                let active = on_tx!(tx, c => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
                    .bind(new.store_id.0)
                    .bind(new.kind.as_str())
                    .fetch_optional(&mut *c)
                    .await)?;
                match active {
                    Some(row) => Err(Error::SyncAlreadyActive {
                        task_id: SyncTask::try_from(row)?.id,
                    }),
                    // Not visible to us: the other task finished between our
                    // insert and this read; the caller may simply trigger again.
                    None => Err(Error::Conflict {
                        constraint: "sync_tasks_one_active_key",
                    }),
                }
            }
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                Err(Error::NotFound { what: "store" })
            }
            Err(e) => Err(Error::from_write(e)),
        }
    }

    /// One task, if `scope` may see its store.
    pub async fn get(&self, scope: Scope, id: SyncTaskId) -> Result<SyncTask> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
             WHERE t.id = $1 AND ($2 IS NULL OR s.user_id = $2)"
        );
        let row = on_pool!(self.0, p => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(scope.owner())
            .fetch_optional(p)
            .await)?;
        row.ok_or(Error::NotFound { what: "sync task" })?.try_into()
    }

    /// The pending or running task of this kind for the store, if any.
    pub async fn active(&self, store: StoreId, kind: SyncKind) -> Result<Option<SyncTask>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_tasks t
             WHERE t.store_id = $1 AND t.sync_type = $2 AND t.status IN ('pending', 'running')"
        );
        let row = on_pool!(self.0, p => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(kind.as_str())
            .fetch_optional(p)
            .await)?;
        row.map(SyncTask::try_from).transpose()
    }

    /// The newest task of a kind for a store (with `status`, the newest in
    /// that status), if `scope` may see the store. For the last success, the
    /// task that finished last wins, not the one created last.
    pub async fn latest(
        &self,
        scope: Scope,
        store: StoreId,
        kind: SyncKind,
        status: Option<TaskStatus>,
    ) -> Result<Option<SyncTask>> {
        let order = if status == Some(TaskStatus::Success) {
            "t.end_time DESC, t.id DESC"
        } else {
            "t.created_at DESC, t.id DESC"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
             WHERE t.store_id = $1 AND t.sync_type = $2 AND ($3 IS NULL OR t.status = $3)
               AND ($4 IS NULL OR s.user_id = $4)
             ORDER BY {order} LIMIT 1"
        );
        let row = on_pool!(self.0, p => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(kind.as_str())
            .bind(status.map(TaskStatus::as_str))
            .bind(scope.owner())
            .fetch_optional(p)
            .await)?;
        row.map(SyncTask::try_from).transpose()
    }

    /// What the successful tasks of a kind whose windows overlap `from..=to`
    /// fetched for a store, oldest first. `sync_tasks_store_id_idx` narrows
    /// it to the store; a store has about one task of a kind a day.
    pub async fn fetched(
        &self,
        store: StoreId,
        kind: SyncKind,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Fetched>> {
        let rows: Vec<(String, DateTime<Utc>, sqlx::types::Json<serde_json::Value>)> = on_pool!(self.0, p => sqlx::query_as(
                "SELECT id, created_at, checkpoint FROM sync_tasks
                 WHERE store_id = $1 AND sync_type = $2 AND status = 'success'
                   AND window_start <= $4 AND window_end >= $3
                 ORDER BY created_at, id",
            )
            .bind(store.0)
            .bind(kind.as_str())
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(id, created_at, checkpoint)| {
                Ok(Fetched {
                    task_id: id.parse().map_err(|e| Error::Invalid {
                        field: "id",
                        message: format!("stored id {id:?} of a sync task is unreadable: {e}"),
                    })?,
                    created_at,
                    checkpoint: checkpoint.0,
                })
            })
            .collect()
    }

    /// Tasks newest first, filtered, one page at a time (pages count from 1).
    pub async fn list(
        &self,
        scope: Scope,
        filter: &SyncTaskFilter,
        page: u32,
        page_size: u32,
    ) -> Result<Page<SyncTask>> {
        let query = TaskHistory {
            filter: filter.clone(),
            ..TaskHistory::default()
        };
        self.history(scope, &query, page, page_size).await
    }

    /// The task history (FR-5): filtered (store, kind, status, creation day),
    /// sorted and paged in the database, so every matching task counts
    /// however many there are. Pages count from 1.
    pub async fn history(
        &self,
        scope: Scope,
        query: &TaskHistory,
        page: u32,
        page_size: u32,
    ) -> Result<Page<SyncTask>> {
        let page = page.max(1);
        let page_size = page_size.clamp(1, 500);
        let offset = i64::from(page - 1) * i64::from(page_size);
        // A day is compared as a half-open range of instants, so the
        // created_at index serves it (a function of the column would not).
        let start_of = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        let created_from = query.created_from.map(start_of);
        let created_before = query.created_to.and_then(|d| d.succ_opt()).map(start_of);
        let condition = "($1 IS NULL OR s.user_id = $1) AND ($2 IS NULL OR t.store_id = $2)
            AND ($3 IS NULL OR t.status = $3) AND ($4 IS NULL OR t.sync_type = $4)
            AND ($5 IS NULL OR t.created_at >= $5) AND ($6 IS NULL OR t.created_at < $6)";
        let count_sql = format!(
            "SELECT COUNT(*) FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id WHERE {condition}"
        );
        let list_sql = format!(
            "SELECT {COLUMNS} FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
             WHERE {condition} ORDER BY {order} LIMIT $7 OFFSET $8",
            order = query.order.sql(self.0.engine()),
        );
        let store = query.filter.store_id.map(|s| s.0);
        let status = query.filter.status.map(|s| s.as_str());
        let kind = query.filter.kind.map(|k| k.as_str());
        let now = self.0.now();
        let (total, rows) = on_pool!(self.0, p => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
                .bind(scope.owner())
                .bind(store)
                .bind(status)
                .bind(kind)
                .bind(created_from)
                .bind(created_before)
                .fetch_one(p)
                .await?;
            let mut list = sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(list_sql))
                .bind(scope.owner())
                .bind(store)
                .bind(status)
                .bind(kind)
                .bind(created_from)
                .bind(created_before)
                .bind(i64::from(page_size))
                .bind(offset);
            // Both engines refuse a parameter the statement does not use.
            if query.order.key == TaskSortKey::Duration {
                list = list.bind(now);
            }
            let rows = list.fetch_all(p).await?;
            (total, rows)
        });
        let items = rows.into_iter().map(SyncTask::try_from).collect::<Result<_>>()?;
        Ok(Page {
            total,
            page,
            page_size,
            items,
        })
    }

    /// Claims a task for a worker: a pending task whose `next_attempt_at` has
    /// come (or that has none), or a running one whose lease expired (its
    /// worker died, or it was released until its next poll and that time has
    /// come). `None` when another delivery owns it, it is not due yet (a
    /// retry delay, an early or duplicate delivery) or it is finished; the
    /// caller reads the row to tell which.
    pub async fn claim(
        &self,
        id: SyncTaskId,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<SyncTask>> {
        let now = self.0.now();
        let row = on_pool!(self.0, p => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(CLAIM.as_str()))
            .bind(now)
            .bind(owner)
            .bind(lease_until)
            .bind(id.to_string())
            .fetch_optional(p)
            .await)?;
        row.map(SyncTask::try_from).transpose()
    }

    /// Active tasks nobody may be coming for, oldest first, at most `limit`:
    /// pending ones due (`next_attempt_at`, else their last change) at or
    /// before `due_before`, and running ones whose lease expired at or before
    /// it. The reconciler passes `now - grace`, so a task whose job is merely
    /// late in a busy queue is left alone for the grace period.
    pub async fn stranded(&self, due_before: DateTime<Utc>, limit: u32) -> Result<Vec<SyncTask>> {
        // `status IN ('pending', 'running')` is the predicate of the partial
        // index `sync_tasks_one_active_key`, so both engines can scan that
        // small index instead of the whole history.
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_tasks t
             WHERE t.status IN ('pending', 'running')
               AND ((t.status = 'pending' AND COALESCE(t.next_attempt_at, t.updated_at) <= $1)
                 OR (t.status = 'running' AND COALESCE(t.lease_expires_at, t.updated_at) <= $1))
             ORDER BY t.id LIMIT $2"
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
            .bind(due_before)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(SyncTask::try_from).collect()
    }

    /// Records progress and the resume point while the task runs. With a
    /// `lease`, only while that delivery still holds the task, renewing its
    /// lease (progress is the delivery's heartbeat); a delivery that lost the
    /// task gets [`Error::LeaseLost`] and must stop. Without one (operators,
    /// tests), whoever holds it.
    pub async fn record_progress(
        &self,
        id: SyncTaskId,
        lease: Option<Lease<'_>>,
        done: i32,
        total: i32,
        message: Option<&str>,
        checkpoint: &serde_json::Value,
    ) -> Result<()> {
        let now = self.0.now();
        let changed = on_pool!(self.0, p => sqlx::query(RECORD_PROGRESS)
            .bind(done)
            .bind(total)
            .bind(message)
            .bind(sqlx::types::Json(checkpoint))
            .bind(now)
            .bind(id.to_string())
            .bind(lease.map(|l| l.owner))
            .bind(lease.map(|l| l.until))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        progress_recorded(changed, id, lease)
    }

    /// The same inside the caller's transaction, so a unit's rows and the
    /// checkpoint that says they are stored commit together (and neither
    /// commits once the delivery has lost the task).
    pub async fn record_progress_in(
        tx: &mut Tx,
        id: SyncTaskId,
        lease: Option<Lease<'_>>,
        done: i32,
        total: i32,
        message: Option<&str>,
        checkpoint: &serde_json::Value,
    ) -> Result<()> {
        let now = tx.now;
        let changed = on_tx!(tx, c => sqlx::query(RECORD_PROGRESS)
            .bind(done)
            .bind(total)
            .bind(message)
            .bind(sqlx::types::Json(checkpoint))
            .bind(now)
            .bind(id.to_string())
            .bind(lease.map(|l| l.owner))
            .bind(lease.map(|l| l.until))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        progress_recorded(changed, id, lease)
    }

    /// Marks a running task successful with its counts.
    pub async fn succeed(&self, id: SyncTaskId, records_synced: i64, records_failed: i64) -> Result<()> {
        let now = self.0.now();
        self.finish(id, "success", now, records_synced, records_failed, None, None)
            .await
    }

    /// Marks a running task successful inside the caller's transaction, so
    /// the last batch of rows and the final status commit together. `message`
    /// is the summary shown with the task ("no data from Amazon for …").
    pub async fn succeed_in(
        tx: &mut Tx,
        id: SyncTaskId,
        records_synced: i64,
        records_failed: i64,
        message: Option<&str>,
    ) -> Result<()> {
        let now = tx.now;
        let changed = on_tx!(tx, c => sqlx::query(
            "UPDATE sync_tasks SET status = 'success', end_time = $1, records_synced = records_synced + $2,
                records_failed = records_failed + $3, error_class = NULL, error_message = NULL,
                progress_message = COALESCE($4, progress_message), next_attempt_at = NULL,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
             WHERE id = $5 AND status = 'running'",
        )
        .bind(now)
        .bind(records_synced)
        .bind(records_failed)
        .bind(message)
        .bind(id.to_string())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "running sync task")
    }

    /// Gives up a running task's lease until `until` (a report is still being
    /// generated): the task stays running, nobody may claim it before then,
    /// and the follow-up delivery at `until` claims it at once.
    pub async fn release(&self, id: SyncTaskId, owner: &str, until: DateTime<Utc>) -> Result<()> {
        let now = self.0.now();
        let changed = on_pool!(self.0, p => sqlx::query(
            "UPDATE sync_tasks SET lease_owner = NULL, lease_expires_at = $1, next_attempt_at = $1,
                updated_at = $2
             WHERE id = $3 AND status = 'running' AND lease_owner = $4",
        )
        .bind(until)
        .bind(now)
        .bind(id.to_string())
        .bind(owner)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "running sync task held by this worker")
    }

    /// A transient failure that will be retried at `next_attempt_at`: the
    /// task goes back to pending with one more retry counted and the error
    /// kept for people to see; its trigger is unchanged (FR-7).
    pub async fn schedule_retry(
        &self,
        id: SyncTaskId,
        class: ErrorClass,
        message: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<()> {
        let now = self.0.now();
        let changed = on_pool!(self.0, p => sqlx::query(
            "UPDATE sync_tasks SET status = 'pending', retry_count = retry_count + 1, error_class = $1,
                error_message = $2, next_attempt_at = $3, lease_owner = NULL, lease_expires_at = NULL,
                updated_at = $4
             WHERE id = $5 AND status = 'running'",
        )
        .bind(class.as_str())
        .bind(message)
        .bind(next_attempt_at)
        .bind(now)
        .bind(id.to_string())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "running sync task")
    }

    /// Marks a running task failed with why.
    pub async fn fail(&self, id: SyncTaskId, class: ErrorClass, message: &str) -> Result<()> {
        let now = self.0.now();
        self.finish(id, "failed", now, 0, 0, Some(class), Some(message))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        id: SyncTaskId,
        status: &str,
        now: DateTime<Utc>,
        synced: i64,
        failed: i64,
        class: Option<ErrorClass>,
        message: Option<&str>,
    ) -> Result<()> {
        let changed = on_pool!(self.0, p => sqlx::query(
            "UPDATE sync_tasks SET status = $1, end_time = $2, records_synced = records_synced + $3,
                records_failed = records_failed + $4, error_class = $5, error_message = $6,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = $2
             WHERE id = $7 AND status = 'running'",
        )
        .bind(status)
        .bind(now)
        .bind(synced)
        .bind(failed)
        .bind(class.map(ErrorClass::as_str))
        .bind(message)
        .bind(id.to_string())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "running sync task")
    }

    /// Puts a failed task back in the queue (FR-5 retry). Refused with
    /// [`Error::SyncAlreadyActive`] when another task of the kind is active.
    pub async fn retry(&self, scope: Scope, id: SyncTaskId) -> Result<SyncTask> {
        let task = self.get(scope, id).await?;
        if task.status != TaskStatus::Failed {
            return Err(Error::InvalidState {
                message: format!("only a failed task can be retried; this one is {}", task.status),
            });
        }
        let now = self.0.now();
        let result = on_pool!(self.0, p => sqlx::query(
            "UPDATE sync_tasks SET status = 'pending', trigger = 'retry', retry_count = retry_count + 1,
                end_time = NULL, error_class = NULL, error_message = NULL, next_attempt_at = NULL,
                updated_at = $1
             WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(p)
        .await
        .map(drop));
        match result {
            Ok(()) => self.get(Scope::All, id).await,
            Err(e) if unique_violation(&e) == Some("sync_tasks_one_active_key") => {
                match self.active(task.store_id, task.sync_type).await? {
                    Some(active) => Err(Error::SyncAlreadyActive { task_id: active.id }),
                    None => Err(Error::Conflict {
                        constraint: "sync_tasks_one_active_key",
                    }),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Progress of a running task; `$7` the holding delivery (NULL: any), whose
/// lease is renewed until `$8`.
const RECORD_PROGRESS: &str = "UPDATE sync_tasks SET progress_done = $1, progress_total = $2,
        progress_message = $3, checkpoint = $4, updated_at = $5,
        lease_expires_at = CASE WHEN CAST($7 AS TEXT) IS NULL THEN lease_expires_at ELSE $8 END
     WHERE id = $6 AND status = 'running' AND (CAST($7 AS TEXT) IS NULL OR lease_owner = $7)";

/// A delivery's hold on a running task (see [`SyncTasks::claim`]): the name
/// it claimed with, and when its renewed lease should end.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub owner: &'a str,
    pub until: DateTime<Utc>,
}

fn progress_recorded(changed: u64, id: SyncTaskId, lease: Option<Lease<'_>>) -> Result<()> {
    match lease {
        Some(_) if changed == 0 => Err(Error::LeaseLost { task_id: id }),
        // Without a lease, a task that finished or went back to pending in
        // the meantime simply has nothing to record.
        _ => Ok(()),
    }
}
