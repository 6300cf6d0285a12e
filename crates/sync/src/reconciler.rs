//! The reconciler: re-rings sync tasks that no job is coming for.
//!
//! The `sync_tasks` row is the truth and the queue only rings the bell, but on
//! Redis the bell is rung after the row commits: if that enqueue fails (Redis
//! away for a moment, the process dying in between), the task would stay
//! pending forever. A snoozed or retried task depends on a follow-up job the
//! same way. Every scheduler pass therefore looks for active tasks that are
//! overdue by more than [`SyncSettings::reconcile_grace`] (pending ones past
//! their `next_attempt_at`, else their last change; running ones past their
//! lease) and enqueues a fresh job for each.
//!
//! A re-ring is harmless when the bell did ring after all (a late job in a
//! busy queue, a second scheduler): the claim is a conditional UPDATE, so a
//! second delivery finds the task claimed, not due or finished. The job's
//! idempotency key is derived from the row's state (`attempt`, due time), so
//! any number of scheduler processes ring a stranded task once per state.
//!
//! [`SyncSettings::reconcile_grace`]: crate::SyncSettings::reconcile_grace

use amzsync_db::SyncTask;
use amzsync_domain::{TaskStatus, Trigger};
use amzsync_jobs::{Enqueued, Job, Options};
use chrono::{DateTime, TimeDelta, Utc};

use crate::engine::{Engine, MANUAL_PRIORITY};
use crate::error::Error;
use crate::jobs;

/// Stranded tasks re-rung per pass; the rest wait for the next pass (30 s),
/// so a long Redis outage is worked off without one huge burst.
const BATCH: u32 = 500;

/// What one reconcile pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Overdue tasks found.
    pub stranded: u32,
    /// Jobs enqueued for them.
    pub rung: u32,
    /// Re-rings another pass (or scheduler) had already made.
    pub duplicates: u32,
}

impl Engine {
    /// One reconcile pass at `now`: enqueues a job for every task overdue by
    /// more than the grace period. Safe to run from any number of processes.
    pub async fn reconcile(&self, now: DateTime<Utc>) -> Result<ReconcileReport, Error> {
        let grace = TimeDelta::from_std(self.settings().reconcile_grace).unwrap_or(TimeDelta::MAX);
        let due_before = now.checked_sub_signed(grace).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let stranded = self.db().sync_tasks().stranded(due_before, BATCH).await?;
        let mut report = ReconcileReport::default();
        for task in &stranded {
            report.stranded += 1;
            let job = Job::new(jobs::sync_task::KIND, task.id.0);
            match self.queue().enqueue(&job, ring_options(task)).await? {
                Enqueued::Added(_) => {
                    report.rung += 1;
                    crate::telemetry::reconciled(task.status.as_str());
                    tracing::warn!(task_id = %task.id, status = %task.status, due = %due_at(task),
                        "re-rang a sync task no job came for");
                }
                Enqueued::Duplicate => report.duplicates += 1,
            }
        }
        Ok(report)
    }
}

/// When the task should have been delivered last.
fn due_at(task: &SyncTask) -> DateTime<Utc> {
    match task.status {
        TaskStatus::Running => task.lease_expires_at,
        _ => task.next_attempt_at,
    }
    .unwrap_or(task.updated_at)
}

fn ring_options(task: &SyncTask) -> Options {
    // A claim bumps `attempt` and a snooze or retry moves the due time, so
    // the key changes whenever the task moved on: a later stranding is rung
    // again, the same one only once.
    let key = format!(
        "{}:reconcile:{}:{}",
        task.id,
        task.attempt,
        due_at(task).timestamp()
    );
    // Attempts are counted in the job, and the lost job took its count with
    // it. A task in an FR-7 retry chain (it keeps its error while pending)
    // has spent `retry_count` attempts; anything else starts over. Erring
    // towards fewer attempts: a manual retry's count includes earlier chains.
    let attempt = if task.error_class.is_some() {
        u32::try_from(task.retry_count).unwrap_or(0).saturating_add(1)
    } else {
        1
    };
    let options = Options::default()
        .fresh_id()
        .attempt(attempt)
        .idempotency_key(key);
    match task.trigger {
        Trigger::Scheduled => options,
        Trigger::Manual | Trigger::Retry => options.priority(MANUAL_PRIORITY),
    }
}
