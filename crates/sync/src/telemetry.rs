//! Prometheus metrics of the sync engine (FR-10), through the `metrics`
//! facade: whatever recorder the app installs (the web crate's Prometheus
//! exporter) receives them; without one they cost a branch.
//!
//! Names and labels are defined here once; the recording functions are plain
//! synchronous calls so the engine can make them anywhere and tests can
//! capture them with a local recorder. Labels are bounded sets (kinds,
//! statuses, operations, outcomes): never a store or task id, which would make
//! one series per store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::observe::{CallObserver, CallOutcome};
use amzsync_amazon::throttle::{LimitKey, RateLimiter, WaitTooLong};
use amzsync_domain::SyncKind;
use amzsync_jobs::Stats;
use futures::future::BoxFuture;

/// Counter: sync tasks that reached a status (`kind`, `status`:
/// `success`, `failed`, `retrying`).
pub const TASKS: &str = "amzsync_sync_tasks_total";
/// Histogram: seconds from a task's start to its end (`kind`, `status`).
pub const TASK_DURATION: &str = "amzsync_sync_task_duration_seconds";
/// Counter: snapshot rows written (`kind`).
pub const ROWS: &str = "amzsync_sync_rows_total";
/// Counter: HTTP calls to Amazon, in-call retries included (`operation`,
/// `outcome`: `ok`, `throttled`, `unauthorized`, `forbidden`,
/// `invalid_input`, `transient`), recorded by [`CallMetrics`].
pub const AMAZON_CALLS: &str = "amzsync_amazon_calls_total";
/// Counter: rate-limit permits asked for (`operation`, `result`: `granted`,
/// `refused`).
pub const PERMITS: &str = "amzsync_amazon_permits_total";
/// Counter: throttling by Amazon (every 429, counted by [`CallMetrics`]) or
/// by our own limiter (a refused permit, by [`Metered`]) (`operation`).
pub const THROTTLES: &str = "amzsync_amazon_throttles_total";
/// Counter: sync tasks the reconciler enqueued a job for, because none came
/// (`status` of the task: `pending`, `running`).
pub const RECONCILED: &str = "amzsync_sync_tasks_reconciled_total";
/// Gauge: jobs in the queue (`queue`, `state`: `pending`, `scheduled`, `running`).
pub const QUEUE_DEPTH: &str = "amzsync_queue_jobs";
/// Gauge: seconds the oldest due job has waited (`queue`); 0 when none waits.
pub const QUEUE_OLDEST: &str = "amzsync_queue_oldest_pending_seconds";
/// Counter: rows moved to the archive tables (`table`).
pub const ARCHIVED_ROWS: &str = "amzsync_archived_rows_total";
/// Counter: alerts (`event`, `outcome`: `delivered`, `failed`).
pub const ALERTS: &str = "amzsync_alerts_total";

/// Registers help texts, for the exporter's `# HELP` lines. Call once at start.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(TASKS, "Sync tasks that reached a status, by kind and status.");
    describe_histogram!(
        TASK_DURATION,
        Unit::Seconds,
        "Duration of sync tasks, by kind and status."
    );
    describe_counter!(ROWS, "Snapshot rows written by syncs, by kind.");
    describe_counter!(AMAZON_CALLS, "Calls to Amazon, by operation and outcome.");
    describe_counter!(PERMITS, "Rate-limit permits asked for, by operation and result.");
    describe_counter!(
        THROTTLES,
        "Throttling by Amazon or the shared limiter, by operation."
    );
    describe_counter!(
        RECONCILED,
        "Sync tasks re-rung by the reconciler because no job came for them, by status."
    );
    describe_gauge!(QUEUE_DEPTH, "Jobs in the queue, by state.");
    describe_gauge!(QUEUE_OLDEST, Unit::Seconds, "Age of the oldest due job.");
    describe_counter!(ARCHIVED_ROWS, "Rows moved to the archive tables, by table.");
    describe_counter!(ALERTS, "Alerts sent, by event and outcome.");
}

/// A task reached `status` after `duration` with `rows` rows written.
pub fn task_finished(kind: SyncKind, status: &'static str, duration: Duration, rows: u64) {
    let kind = kind.as_str();
    metrics::counter!(TASKS, "kind" => kind, "status" => status).increment(1);
    metrics::histogram!(TASK_DURATION, "kind" => kind, "status" => status).record(duration.as_secs_f64());
    if rows > 0 {
        metrics::counter!(ROWS, "kind" => kind).increment(rows);
    }
}

/// One call to Amazon ended with `outcome` (`ok`, or the error class).
pub fn amazon_call(operation: &'static str, outcome: &'static str) {
    metrics::counter!(AMAZON_CALLS, "operation" => operation, "outcome" => outcome).increment(1);
}

/// Amazon (or the limiter) throttled a call of `operation`.
pub fn throttled(operation: &'static str) {
    metrics::counter!(THROTTLES, "operation" => operation).increment(1);
}

/// The reconciler enqueued a job for a stranded task in `status`.
pub fn reconciled(status: &'static str) {
    metrics::counter!(RECONCILED, "status" => status).increment(1);
}

/// The queue's depth as sampled.
pub fn queue_sampled(queue: &str, stats: &Stats) {
    let queue = queue.to_owned();
    for (state, n) in [
        ("pending", stats.pending),
        ("scheduled", stats.scheduled),
        ("running", stats.running),
    ] {
        // Gauges are f64; a queue never holds 2^53 jobs.
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!(QUEUE_DEPTH, "queue" => queue.clone(), "state" => state).set(n as f64);
    }
    let oldest = stats.oldest_pending_age.unwrap_or_default();
    metrics::gauge!(QUEUE_OLDEST, "queue" => queue).set(oldest.as_secs_f64());
}

/// Rows of `table` archived.
pub fn archived(table: &'static str, rows: u64) {
    metrics::counter!(ARCHIVED_ROWS, "table" => table).increment(rows);
}

/// The Amazon clients' observer: every HTTP call to Amazon counted by
/// operation and outcome, and every 429 as a throttle.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallMetrics;

impl CallObserver for CallMetrics {
    fn observe(&self, operation: &'static str, outcome: CallOutcome) {
        amazon_call(operation, outcome.as_str());
        if outcome == CallOutcome::Throttled {
            throttled(operation);
        }
    }
}

/// Any rate limiter, counting permits and throttles per operation: every call
/// to Amazon asks for a permit first, so this sees all of them whatever the
/// store behind it (in-process or Redis).
pub struct Metered(pub Arc<dyn RateLimiter>);

impl fmt::Debug for Metered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Metered").field(&self.0).finish()
    }
}

impl RateLimiter for Metered {
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Duration, WaitTooLong>> {
        Box::pin(async move {
            let result = self.0.reserve(key, max_wait).await;
            let operation = key.operation.name();
            let outcome = if result.is_ok() { "granted" } else { "refused" };
            metrics::counter!(PERMITS, "operation" => operation, "result" => outcome).increment(1);
            if result.is_err() {
                throttled(operation);
            }
            result
        })
    }

    fn observe_rate<'a>(&'a self, key: &'a LimitKey, rate: f64) -> BoxFuture<'a, ()> {
        self.0.observe_rate(key, rate)
    }

    fn observe_throttled<'a>(&'a self, key: &'a LimitKey, wait: Duration) -> BoxFuture<'a, ()> {
        // The 429 behind this was counted by `CallMetrics` already.
        self.0.observe_throttled(key, wait)
    }
}
