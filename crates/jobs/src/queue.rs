//! One named queue on one backend: connecting, migrations, and enqueueing
//! (alone or inside the caller's SQL transaction).
//!
//! The backend types of apalis stay in here and in `worker.rs`/`stats.rs`;
//! callers see [`Queue`] only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis::prelude::{Task, TaskBuilder, TaskId};
use apalis_postgres::PostgresStorage;
use apalis_redis::ConnectionManager;
use apalis_sqlite::SqliteStorage;
use sqlx::{Connection as _, PgConnection, PgPool, SqliteConnection, SqlitePool};
use ulid::Ulid;

use crate::{
    Enqueued, Error, Job, Options, QueueName,
    job::{Envelope, RunAt},
};

/// Attempts apalis itself may make of one queue task.
///
/// Our retries are follow-up tasks (see `worker.rs`), so the queue's own
/// attempts only cover infrastructure failures: a panic is turned into a
/// permanent failure by `catch_panic`, and a follow-up push that failed is
/// retried this many times. The Redis backend ignores this (its scripts
/// hard-code 25).
const QUEUE_ATTEMPTS: usize = 3;

/// How long Redis remembers an idempotency key.
///
/// Must be set: apalis-redis documents "no TTL = forever" but its push script
/// then runs `EXPIRE key 0`, which deletes the key at once, so nothing is
/// ever deduplicated. 30 days covers any tick catch-up and any retry chain.
const REDIS_IDEMPOTENCY_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Which queue backend to use, chosen by configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Backend {
    /// The embedded default: the app's own SQLite pool, so the queue lives in
    /// the same file. Configure the pool's pragmas in the app (WAL,
    /// `synchronous=NORMAL`, `busy_timeout`): [`Queue::setup`] does not.
    Sqlite(SqlitePool),
    /// The app's PostgreSQL pool; jobs live in the `apalis` schema.
    Postgres(PgPool),
    /// A Redis server. Every key of the queue starts with `namespace:`, so
    /// several deployments (or tests) can share one server.
    Redis {
        /// `redis://host:port/db`.
        url: String,
        /// Key prefix, without the trailing `:`.
        namespace: String,
    },
}

/// The caller's open SQL connection or transaction, for [`Queue::enqueue_in`].
///
/// Built with `.into()` from `&mut *tx` of either engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Connection<'c> {
    /// A SQLite connection (usually `&mut *tx` of a `Transaction<Sqlite>`).
    Sqlite(&'c mut SqliteConnection),
    /// A PostgreSQL connection (usually `&mut *tx` of a `Transaction<Postgres>`).
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c mut SqliteConnection> for Connection<'c> {
    fn from(conn: &'c mut SqliteConnection) -> Self {
        Connection::Sqlite(conn)
    }
}

impl<'c> From<&'c mut PgConnection> for Connection<'c> {
    fn from(conn: &'c mut PgConnection) -> Self {
        Connection::Postgres(conn)
    }
}

#[derive(Clone)]
pub(crate) enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    Redis(ConnectionManager),
}

/// A handle on one named queue; cheap to clone.
#[derive(Clone)]
pub struct Queue {
    pub(crate) store: Store,
    pub(crate) name: QueueName,
    /// The queue name as the backend stores it: the bare name on SQL
    /// backends (the table already separates it), `namespace:name` on Redis.
    pub(crate) stored_name: String,
    /// Seconds of the callers' clock per real second ([`Queue::clock_speed`]).
    pub(crate) speed: f64,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("backend", &self.backend_name())
            .field("name", &self.stored_name)
            .finish()
    }
}

impl Queue {
    /// A handle on queue `name` of `backend`. Connects to Redis; SQL pools
    /// are used as given.
    pub async fn connect(backend: Backend, name: QueueName) -> Result<Self, Error> {
        let (store, stored_name) = match backend {
            Backend::Sqlite(pool) => (Store::Sqlite(pool), name.as_str().to_owned()),
            Backend::Postgres(pool) => (Store::Postgres(pool), name.as_str().to_owned()),
            Backend::Redis { url, namespace } => (
                Store::Redis(apalis_redis::connect(url).await?),
                format!("{namespace}:{name}"),
            ),
        };
        Ok(Queue {
            store,
            name,
            stored_name,
            speed: 1.0,
        })
    }

    /// Tells the queue that the delays it is given (snoozes, retries,
    /// [`Options::run_after`]) are measured on a clock running `speed` times
    /// real time, as under a simulated clock: a delay `d` then waits `d /
    /// speed` of real time, since the backends schedule by the wall clock.
    /// Ignored unless positive and finite.
    #[must_use]
    pub fn clock_speed(mut self, speed: f64) -> Self {
        if speed.is_finite() && speed > 0.0 {
            self.speed = speed;
        }
        self
    }

    /// The queue's name.
    pub fn name(&self) -> QueueName {
        self.name
    }

    /// `"sqlite"`, `"postgres"` or `"redis"`, for logs and metrics labels.
    pub fn backend_name(&self) -> &'static str {
        match self.store {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
            Store::Redis(_) => "redis",
        }
    }

    /// Creates or upgrades the backend's tables. Idempotent; run it at startup.
    ///
    /// - SQLite: runs apalis-sqlite's migrations only. `SqliteStorage::setup`
    ///   is avoided on purpose: it also sets `PRAGMA synchronous = OFF` (and
    ///   WAL, cache size, `optimize`) on whichever pooled connection runs it
    ///   (STACK §1.4.3); the app owns its pragmas. apalis records its history
    ///   in `_sqlx_migrations`; the app keeps its own in `_app_migrations`
    ///   (`crates/db/sqlx.toml`), so neither migrator sees the other's
    ///   versions as missing (STACK §1.4.2).
    /// - PostgreSQL: apalis-postgres' migrations, history in
    ///   `apalis._sqlx_migrations`; they need the `pgcrypto` and `hstore`
    ///   extensions (STACK P14).
    /// - Redis: nothing to do.
    pub async fn setup(&self) -> Result<(), Error> {
        match &self.store {
            Store::Sqlite(pool) => SqliteStorage::<()>::migrations().run(pool).await?,
            Store::Postgres(pool) => PostgresStorage::<()>::migrations().run(pool).await?,
            Store::Redis(_) => {}
        }
        Ok(())
    }

    /// Enqueues `job` on its own.
    ///
    /// On Redis this is the only way, and it cannot be atomic with the
    /// `sync_tasks` row: commit the row first, then enqueue; a reconciler
    /// re-rings tasks left pending (with [`Options::fresh_id`] and an
    /// idempotency key), so a crash between the two delays work but loses none.
    pub async fn enqueue(&self, job: &Job, options: Options) -> Result<Enqueued, Error> {
        let (id, task) = build_task(job, options.attempt.unwrap_or(1), &options, self.speed)?;
        self.push(id, task).await
    }

    /// Enqueues `job` on the caller's open connection, normally inside the
    /// transaction that inserts its `sync_tasks` row: both commit or neither
    /// does (a transactional outbox, STACK §1.5.2). SQL backends only; the
    /// connection must belong to the same engine as the queue.
    pub async fn enqueue_in<'c>(
        &self,
        conn: impl Into<Connection<'c>>,
        job: &Job,
        options: Options,
    ) -> Result<Enqueued, Error> {
        let (id, task) = build_task(job, options.attempt.unwrap_or(1), &options, self.speed)?;
        match (&self.store, conn.into()) {
            (Store::Sqlite(_), Connection::Sqlite(conn)) => {
                push_sqlite(conn, &self.stored_name, id, task).await
            }
            (Store::Postgres(_), Connection::Postgres(conn)) => {
                push_postgres(conn, &self.stored_name, id, task).await
            }
            _ => Err(Error::Unsupported {
                operation: "enqueue_in (this connection)",
                backend: self.backend_name(),
            }),
        }
    }

    /// Pushes the follow-up of a delivery (snooze or retry): a new task id,
    /// keyed on the delivery it follows so that a redelivered handler that
    /// snoozes again does not fork the chain.
    pub(crate) async fn enqueue_follow_up(
        &self,
        envelope: &Envelope,
        follows: Ulid,
        after: Duration,
    ) -> Result<Enqueued, Error> {
        let options = Options::default()
            .fresh_id()
            .run_after(after)
            .idempotency_key(format!("{follows}:next"));
        let (id, task) = build_task(&envelope.job, envelope.attempt, &options, self.speed)?;
        self.push(id, task).await
    }

    async fn push(&self, id: Ulid, task: Task<Vec<u8>>) -> Result<Enqueued, Error> {
        match &self.store {
            Store::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                push_sqlite(&mut conn, &self.stored_name, id, task).await
            }
            // One statement on its own: a duplicate's unique violation ends
            // only that statement, so the savepoint that `enqueue_in` needs
            // (and its BEGIN and COMMIT) would be four round trips for nothing.
            Store::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                added_unless_duplicate(
                    apalis_postgres::queries::push_tasks(&mut *conn, &self.stored_name, vec![task]).await,
                    id,
                )
            }
            Store::Redis(conn) => {
                let (now, later) =
                    apalis_redis::queries::push_tasks(&mut conn.clone(), &self.redis_config(), &[task])
                        .await?;
                // The script skips a task whose idempotency key or id exists.
                Ok(if now + later == 0 {
                    Enqueued::Duplicate
                } else {
                    Enqueued::Added(id)
                })
            }
        }
    }

    /// apalis-redis derives every key name from its config's queue name.
    pub(crate) fn redis_config(&self) -> apalis_redis::Config {
        apalis_redis::Config::default()
            .queue(&self.stored_name)
            .idempotency_ttl(Some(REDIS_IDEMPOTENCY_TTL))
    }
}

/// The apalis task for `job`: JSON bytes, a ULID task id (SQL backends fail to
/// fetch anything else and the worker dies, STACK §1.4.1), and the options,
/// a delay shortened to real time at the callers' clock `speed`.
fn build_task(
    job: &Job,
    attempt: u32,
    options: &Options,
    speed: f64,
) -> Result<(Ulid, Task<Vec<u8>>), Error> {
    let id = if options.fresh_id {
        Ulid::generate()
    } else {
        job.sync_task_id
    };
    let payload = serde_json::to_vec(&Envelope {
        job: job.clone(),
        attempt,
    })?;
    let mut builder = TaskBuilder::new(payload)
        .task_id(TaskId::from_ulid(id))
        .max_attempts(QUEUE_ATTEMPTS)
        .priority(usize::from(options.priority));
    if let Some(key) = &options.idempotency_key {
        builder = builder.idempotency_key(key);
    }
    builder = match options.run_at {
        None => builder,
        Some(RunAt::After(delay)) => {
            builder.run_at_timestamp(unix_seconds(SystemTime::now() + delay.div_f64(speed)))
        }
        Some(RunAt::At(at)) => builder.run_at_timestamp(u64::try_from(at.timestamp()).unwrap_or(0)),
    };
    Ok((id, builder.build()))
}

/// Seconds since the epoch, rounded up so a delay never runs early.
fn unix_seconds(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

async fn push_sqlite(
    conn: &mut SqliteConnection,
    queue: &str,
    id: Ulid,
    task: Task<Vec<u8>>,
) -> Result<Enqueued, Error> {
    match apalis_sqlite::queries::push_tasks(conn, queue, &[task]).await {
        Ok(()) => {
            // The insert says `ON CONFLICT (job_type, idempotency_key) DO
            // NOTHING` and returns nothing: ask this connection whether it
            // inserted a row.
            let changed: i64 = sqlx::query_scalar("SELECT changes()")
                .fetch_one(&mut *conn)
                .await?;
            Ok(if changed == 0 {
                Enqueued::Duplicate
            } else {
                Enqueued::Added(id)
            })
        }
        // The task id is unique too (a second first delivery of one sync
        // task). SQLite rolls back only the statement, not the transaction.
        Err(apalis_sqlite::Error::Database(e)) if is_unique_violation(&e) => Ok(Enqueued::Duplicate),
        Err(e) => Err(e.into()),
    }
}

async fn push_postgres(
    conn: &mut PgConnection,
    queue: &str,
    id: Ulid,
    task: Task<Vec<u8>>,
) -> Result<Enqueued, Error> {
    // apalis-postgres inserts without ON CONFLICT, so a duplicate is a unique
    // violation, which would abort the caller's whole transaction. A
    // savepoint (sqlx nests `begin` as SAVEPOINT) confines it to this insert.
    let mut savepoint = conn.begin().await?;
    let pushed = apalis_postgres::queries::push_tasks(&mut *savepoint, queue, vec![task]).await;
    if pushed.is_ok() {
        savepoint.commit().await?;
    } else {
        savepoint.rollback().await?;
    }
    added_unless_duplicate(pushed, id)
}

/// `Added(id)`, or `Duplicate` for the unique violation of an id or
/// idempotency key that is already queued.
fn added_unless_duplicate(pushed: Result<(), apalis_postgres::Error>, id: Ulid) -> Result<Enqueued, Error> {
    match pushed {
        Ok(()) => Ok(Enqueued::Added(id)),
        Err(apalis_postgres::Error::Database(e)) if is_unique_violation(&e) => Ok(Enqueued::Duplicate),
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}
