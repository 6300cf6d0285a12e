//! Running workers: one handler returning an [`Outcome`], the same on every
//! backend, mapped onto apalis' task statuses and follow-up tasks.
//!
//! How each outcome is carried out, and why:
//!
//! | Outcome | Queue row | Follow-up task |
//! |---|---|---|
//! | `Done` | `Done` | none |
//! | `Snooze(d)` | `Done` | same job, same attempt, runs after `d` |
//! | `Retry { after, .. }` | `Done` | same job, attempt + 1, runs after `after`; past `max_attempts` it is a `Fail` |
//! | `Fail(e)` | `Killed` (never fetched again) | none |
//!
//! apalis 1.0 has no usable "run this again later": no backend implements
//! `Reschedule`, a `Failed` row is refetched at once on SQL backends (its
//! `run_at` is not moved) and after `attempt` seconds on Redis, and a
//! `RetryAfterError` leaves a SQLite row `Pending` but still locked, so it is
//! never fetched again (STACK §1.4.5). Pushing a delayed follow-up and acking
//! the current task honours the delay exactly, counts attempts in the payload
//! the same way on all three backends, and never holds a worker in a sleep.
//! The follow-up's idempotency key is derived from the delivery it follows, so
//! a redelivered task that snoozes again does not fork the chain.

use std::{
    any::Any,
    future::Future,
    panic::AssertUnwindSafe,
    task::{Context, Poll},
    time::Duration,
};

use apalis::prelude::{
    AbortError, BackendExt, PollSnapshot, PollStrategy, Task, TaskId, WorkerBuilder, WorkerBuilderExt,
    WorkerError,
};
use apalis_postgres::PostgresStorage;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use futures::{FutureExt as _, future::BoxFuture};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use ulid::Ulid;

use crate::{BoxError, Error, Job, Queue, job::Envelope, queue::Store};

/// What a handler decided about one delivery.
#[derive(Debug)]
pub enum Outcome {
    /// Finished; nothing follows.
    Done,
    /// Not ready yet (a report still `IN_PROGRESS`): deliver the same job
    /// again after this delay, without spending an attempt.
    Snooze(Duration),
    /// A transient failure: try again after `after` (honour Amazon's
    /// `retry_after` here), spending an attempt. Once `max_attempts` are
    /// spent, this is a [`Outcome::Fail`].
    Retry {
        /// Delay before the next attempt.
        after: Duration,
        /// Why this attempt failed; kept in the queue's `last_result`.
        error: BoxError,
    },
    /// A permanent failure: record it and stop.
    Fail(BoxError),
}

/// One delivery of a job to the handler.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The job.
    pub job: Job,
    /// The queue task id of this delivery: the sync task id for a first
    /// delivery, a new ULID for a follow-up.
    pub id: Ulid,
    /// Which attempt this is, from 1; snoozes do not count.
    pub attempt: u32,
    /// Attempts allowed ([`WorkerOptions::max_attempts`]).
    pub max_attempts: u32,
}

impl Delivery {
    /// Whether a [`Outcome::Retry`] from this delivery would be a failure,
    /// so the handler can record the final status in the same transaction.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Jobs handled at once by this worker.
    pub concurrency: usize,
    /// How often the worker tells the backend it is alive. Whole seconds:
    /// the SQL backends store heartbeats in unix seconds.
    pub heartbeat: Duration,
    /// After `heartbeat * missed_heartbeats` of silence a worker is presumed
    /// dead and another worker re-enqueues the jobs it held. Keep it well
    /// above 1, or a live worker may lose its jobs to rounding.
    pub missed_heartbeats: u32,
    /// How often to look for new jobs when idle.
    pub poll_interval: Duration,
    /// Attempts a job gets through [`Outcome::Retry`] (first run included).
    pub max_attempts: u32,
}

impl Default for WorkerOptions {
    /// 4 at once; heartbeat 10 s, presumed dead after 30 s (apalis' defaults
    /// of 30 s × 2 on SQLite and 30 s × 10 on PostgreSQL and Redis leave a
    /// crashed worker's job waiting up to five minutes); polled every
    /// second; 4 attempts (FR-7: three retries).
    fn default() -> Self {
        WorkerOptions {
            concurrency: 4,
            heartbeat: Duration::from_secs(10),
            missed_heartbeats: 3,
            poll_interval: Duration::from_secs(1),
            max_attempts: 4,
        }
    }
}

/// Builds one apalis worker over `$storage` and runs it until `$shutdown`.
/// A macro rather than a generic function: the backends share no trait that
/// states everything `WorkerBuilder::build` needs without pages of bounds.
macro_rules! run_worker {
    ($storage:expr, $name:expr, $options:expr, $service:expr, $shutdown:expr) => {{
        let shutdown = $shutdown.clone();
        WorkerBuilder::new($name)
            .backend($storage.poll_with_strategy(Every::new($options.poll_interval)))
            // Concurrency first: apalis wants it outside retry/timeout layers
            // (STACK §1.4.6).
            .concurrency($options.concurrency.max(1))
            .build($service)
            .run_until(async move {
                shutdown.cancelled().await;
                Ok::<(), WorkerError>(())
            })
            .await
    }};
}

/// Wakes an idle worker every `period` to look for due jobs.
///
/// apalis' own `IntervalStrategy` re-arms its timer after a tick without
/// polling it, and only polling a timer registers a wake-up. So after its
/// first tick an idle worker on PostgreSQL (whose backend has no other wake)
/// was woken by nothing but its next heartbeat: a job that fell due in between
/// (every snoozed or retried follow-up) waited up to `heartbeat` (10 s by
/// default) instead of `poll_interval`; the fleet bench's 8 stores took 11 s
/// instead of 6.
struct Every {
    period: Duration,
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl Every {
    fn new(period: Duration) -> Self {
        Every { period, timer: None }
    }
}

impl Clone for Every {
    /// A copy starts its own timer at its first poll.
    fn clone(&self) -> Self {
        Every::new(self.period)
    }
}

impl PollStrategy for Every {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        let period = self.period;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(period)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        timer.as_mut().reset(tokio::time::Instant::now() + period);
        // Polled at once so that the next tick wakes this task (see above).
        let _ = timer.as_mut().poll(cx);
        Poll::Ready(Some(()))
    }
}

impl Queue {
    /// Runs a worker on this queue until `shutdown` is cancelled, then lets
    /// the jobs in hand finish and returns.
    ///
    /// The handler is an async function of the [`Delivery`]; it runs the same
    /// way on every backend. Delivery is at least once (a worker that dies
    /// mid-job has that job run again elsewhere), so it must be idempotent.
    /// If the backend fails (the database is unreachable), the worker is
    /// rebuilt under a new name after `poll_interval` rather than giving up.
    pub async fn run<H, Fut>(
        &self,
        handler: H,
        options: WorkerOptions,
        shutdown: CancellationToken,
    ) -> Result<(), Error>
    where
        H: Fn(Delivery) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let service = Handler {
            queue: self.clone(),
            handler,
            max_attempts: options.max_attempts,
        };
        let batch = options.concurrency.max(1);
        let missed = usize::try_from(options.missed_heartbeats).unwrap_or(usize::MAX);
        loop {
            // Names must be unique among live workers: the backends refuse to
            // register a name whose heartbeat is recent.
            let name = format!("{}-{}", self.stored_name, Ulid::generate());
            let result = match &self.store {
                Store::Sqlite(pool) => {
                    let config = apalis_sqlite::Config::default()
                        .queue(&self.stored_name)
                        .heartbeat_interval(options.heartbeat)
                        .missed_heartbeats(missed)
                        .batch_size(batch);
                    let storage = SqliteStorage::<Value>::new(pool).with_config(config);
                    run_worker!(storage, name, options, service.clone(), shutdown)
                }
                Store::Postgres(pool) => {
                    let config = apalis_postgres::Config::default()
                        .queue(&self.stored_name)
                        .heartbeat_interval(options.heartbeat)
                        .missed_heartbeats(missed)
                        .batch_size(batch);
                    let storage = PostgresStorage::<Value>::new(pool).with_config(config);
                    run_worker!(storage, name, options, service.clone(), shutdown)
                }
                Store::Redis(conn) => {
                    let config = self
                        .redis_config()
                        .heartbeat_interval(options.heartbeat)
                        .missed_heartbeats(missed)
                        .batch_size(batch);
                    let storage = RedisStorage::<Value>::new(conn.clone()).with_config(config);
                    run_worker!(storage, name, options, service.clone(), shutdown)
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if shutdown.is_cancelled() => return Err(Error::Queue(Box::new(e))),
                Err(e) => {
                    tracing::warn!(queue = %self.stored_name, error = %e, "queue worker failed; restarting it");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(options.poll_interval) => {}
                    }
                }
            }
        }
    }
}

/// The tower service apalis calls for each task. A named type with a boxed
/// `Send` future rather than a closure: with a closure the compiler cannot
/// prove the worker future `Send` (a higher-ranked `From<BoxDynError>`
/// obligation inside apalis' `TaskFn`), so it could not be spawned.
#[derive(Clone)]
struct Handler<H> {
    queue: Queue,
    handler: H,
    max_attempts: u32,
}

impl<H, Fut> tower::Service<Task<Value>> for Handler<H>
where
    H: Fn(Delivery) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    type Response = String;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<String, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, task: Task<Value>) -> Self::Future {
        let this = self.clone();
        let task_id = task.task_id().cloned();
        async move {
            let task_id = task_id.ok_or_else(|| AbortError::new("queue task without an id"))?;
            handle(&this.queue, &this.handler, this.max_attempts, task.args, &task_id).await
        }
        .boxed()
    }
}

/// One delivery: decode, call the handler, carry out its outcome.
///
/// `Ok` acks the queue task (`Done`); an `AbortError` kills it (`Killed`,
/// never fetched again); any other error leaves it `Failed` for apalis to
/// refetch, which we only use when pushing a follow-up failed.
async fn handle<H, Fut>(
    queue: &Queue,
    handler: &H,
    max_attempts: u32,
    payload: Value,
    task_id: &TaskId,
) -> Result<String, BoxError>
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let id: Ulid = task_id
        .to_string()
        .parse()
        .map_err(|e| AbortError::new(format!("queue task id {task_id} is not a ULID: {e}")))?;
    // A payload we cannot read will not become readable later: kill it rather
    // than fail it (which would refetch it forever).
    let envelope: Envelope = serde_json::from_value(payload)
        .map_err(|e| AbortError::new(format!("undecodable job payload: {e}")))?;
    let span = tracing::info_span!(
        "job",
        queue = %queue.stored_name,
        kind = %envelope.job.kind,
        sync_task_id = %envelope.job.sync_task_id,
        job_id = %id,
        attempt = envelope.attempt,
    );
    let delivery = Delivery {
        job: envelope.job.clone(),
        id,
        attempt: envelope.attempt,
        max_attempts,
    };
    // A panicking handler kills its task, not the worker. Caught here rather
    // than with apalis' `catch_panic` layer, whose fn-pointer type defeats
    // the compiler's `Send` proof for the worker future.
    // The call sits inside the async block so that a handler panicking before
    // it returns its future is caught too.
    let outcome = AssertUnwindSafe(async { handler(delivery).await }.instrument(span.clone()))
        .catch_unwind()
        .await
        .map_err(|panic| AbortError::new(format!("handler panicked: {}", panic_message(&panic))))?;
    match outcome {
        Outcome::Done => Ok("done".to_owned()),
        Outcome::Snooze(after) => {
            let next = queue.enqueue_follow_up(&envelope, id, after).await?;
            span.in_scope(|| tracing::debug!(?after, ?next, "job snoozed"));
            Ok(format!("snoozed for {after:?}"))
        }
        Outcome::Retry { after, error } if envelope.attempt < max_attempts => {
            let retry = Envelope {
                job: envelope.job,
                attempt: envelope.attempt + 1,
            };
            let next = queue.enqueue_follow_up(&retry, id, after).await?;
            span.in_scope(|| tracing::info!(?after, ?next, %error, "job will be retried"));
            Ok(format!("retry in {after:?} after: {error}"))
        }
        Outcome::Retry { error, .. } => {
            span.in_scope(|| tracing::warn!(%error, "job failed on its last attempt"));
            Err(AbortError::new(error).into())
        }
        Outcome::Fail(error) => {
            span.in_scope(|| tracing::warn!(%error, "job failed"));
            Err(AbortError::new(error).into())
        }
    }
}

fn panic_message(panic: &Box<dyn Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}
