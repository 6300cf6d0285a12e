//! The engine's errors, shaped by what callers do with them: the API maps
//! [`TriggerError`] to responses (`AlreadyRunning` is its 409), start-up
//! reports [`Error`] with the configuration key at fault.

use amzsync_domain::{SyncKind, SyncTaskId, TaskStatus};

/// Why a sync could not be triggered (or a failed task retried).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TriggerError {
    /// FR-6: a pending or running task of this kind already exists for the
    /// store; nothing was created.
    #[error("a sync of this kind is already running for this store (task {task_id})")]
    AlreadyRunning {
        /// The task that holds the slot.
        task_id: SyncTaskId,
    },
    /// No such store, or another tenant's.
    #[error("store not found")]
    StoreNotFound,
    /// No such task, or another tenant's.
    #[error("sync task not found")]
    TaskNotFound,
    /// The store is deactivated: nothing syncs until it is reactivated.
    #[error("the store is deactivated")]
    StoreInactive,
    /// Amazon refused the store's grant; scheduled syncs wait until its
    /// credentials change (a manual trigger is still allowed, to check them).
    #[error("the store needs re-authorization")]
    NeedsReauth,
    /// This kind of sync cannot run (yet) for this store.
    #[error("{kind} sync is not available: {reason}")]
    Unsupported {
        /// The kind asked for.
        kind: SyncKind,
        /// Why not.
        reason: &'static str,
    },
    /// The window asked for cannot be synced.
    #[error("invalid window: {0}")]
    InvalidWindow(String),
    /// Only a failed task can be retried.
    #[error("only a failed task can be retried; this one is {status}")]
    NotRetryable {
        /// Where the task is.
        status: TaskStatus,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] amzsync_db::Error),
    /// The queue refused the job; with an SQL queue nothing was created.
    #[error("enqueueing the sync job: {0}")]
    Queue(#[from] amzsync_jobs::Error),
}

/// Why the engine could not be built or a role could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting has a value that cannot work; `key` names it.
    #[error("{key}: {message}")]
    Config {
        /// The setting, e.g. `sync.schedule.inventory`.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The queue failed.
    #[error("queue: {0}")]
    Queue(#[from] amzsync_jobs::Error),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] amzsync_db::Error),
}
