//! The seam between "a sync task was recorded" and "a worker will run it".
//!
//! The `sync_tasks` row is the truth about a sync; the queue is only the
//! doorbell (STYLE §8). A handler first records the pending task, then rings
//! the doorbell with its id. The queue-backed [`Dispatcher`] (enqueueing a job
//! carrying the same ULID) arrives with the sync engine; until then
//! [`Doorbell`] records the ids and wakes whoever waits in this process.

use std::sync::{Arc, Mutex};

use amzsync_domain::SyncTaskId;
use futures::future::BoxFuture;
use tokio::sync::Notify;

/// Why a task could not be handed to the workers.
pub type DispatchError = Box<dyn std::error::Error + Send + Sync>;

/// Hands a recorded pending sync task to whatever runs syncs.
///
/// A failure is not the client's problem: the task stays pending in the
/// database, where the engine's reconciler re-rings tasks left pending.
pub trait Dispatcher: Send + Sync + std::fmt::Debug {
    /// Asks for the task to be run. Must be idempotent: the same id may be
    /// dispatched again (a retry of a failed task keeps its id).
    fn dispatch(&self, task: SyncTaskId) -> BoxFuture<'_, Result<(), DispatchError>>;
}

/// The in-process dispatcher: remembers every dispatched id, in order, and
/// notifies waiters. It runs nothing by itself.
#[derive(Debug, Clone, Default)]
pub struct Doorbell {
    inner: Arc<DoorbellInner>,
}

#[derive(Debug, Default)]
struct DoorbellInner {
    rung: Mutex<Vec<SyncTaskId>>,
    notify: Notify,
}

impl Doorbell {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every id dispatched so far, oldest first.
    pub fn dispatched(&self) -> Vec<SyncTaskId> {
        self.lock().clone()
    }

    /// Waits until the next dispatch (for an in-process worker loop).
    pub async fn rung(&self) {
        self.inner.notify.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SyncTaskId>> {
        // A panic while pushing an id leaves a valid Vec; keep using it.
        self.inner
            .rung
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Dispatcher for Doorbell {
    fn dispatch(&self, task: SyncTaskId) -> BoxFuture<'_, Result<(), DispatchError>> {
        self.lock().push(task);
        self.inner.notify.notify_waiters();
        Box::pin(async { Ok(()) })
    }
}

/// Rings the doorbell for a task just recorded. The task row is already
/// committed, so a failed ring is logged, not returned: the trigger did
/// happen, and the engine's reconciler re-rings tasks left pending.
pub(crate) async fn ring(state: &crate::AppState, task: SyncTaskId) {
    if let Err(err) = state.dispatcher.dispatch(task).await {
        tracing::warn!(task_id = %task, error = %err, "could not hand the sync task to the workers; it stays pending");
    }
}
