//! One world per test: a temporary SQLite file, a fresh PostgreSQL database,
//! or a random Redis key prefix, removed when the test ends (even on failure);
//! plus a worker that tests can start, stop or kill.

use std::{future::Future, time::Duration};

use amzsync_jobs::{
    Backend, CancellationToken, Delivery, Error, Outcome, Queue, QueueName, Stats, WorkerOptions,
};
use sqlx::{
    Connection as _, PgConnection, PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::{sync::mpsc, task::JoinHandle};
use ulid::Ulid;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Long enough for a slow CI machine, short enough to fail a hung test.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub const QUEUE: QueueName = QueueName::new("sync");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    Redis,
}

/// The backend of one test, and what to remove afterwards.
pub struct World {
    backend: Backend,
    _cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
    Redis { prefix: String },
}

impl World {
    pub async fn new(engine: Engine) -> World {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("creating a temporary directory");
                // The app's pragmas, set by the app (our setup() must not change them).
                let options = SqliteConnectOptions::new()
                    .filename(dir.path().join("app.db"))
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .expect("opening a temporary SQLite file");
                World {
                    backend: Backend::Sqlite(pool),
                    _cleanup: Cleanup::Sqlite(dir),
                }
            }
            Engine::Postgres => {
                let admin_url = std::env::var("AMZSYNC_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
                let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "cannot reach PostgreSQL at {admin_url} ({e}); start it with \
                         scripts/services.sh or point AMZSYNC_TEST_DATABASE_URL at a server"
                    )
                });
                let name = format!(
                    "amzsync_jobs_test_{}",
                    Ulid::generate().to_string().to_lowercase()
                );
                sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
                    .execute(&mut admin)
                    .await
                    .expect("creating a test database");
                admin.close().await.ok();
                // From here on the guard drops the database, whatever happens.
                let cleanup = Cleanup::Postgres {
                    admin_url: admin_url.clone(),
                    name: name.clone(),
                };
                let pool = PgPoolOptions::new()
                    .max_connections(5)
                    .connect(&database_url(&admin_url, &name))
                    .await
                    .expect("connecting to the test database");
                World {
                    backend: Backend::Postgres(pool),
                    _cleanup: cleanup,
                }
            }
            Engine::Redis => {
                let prefix = format!("amzsync-test-{}", Ulid::generate());
                let client = redis::Client::open(REDIS_URL).expect("a valid Redis URL");
                client
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot reach Redis at {REDIS_URL} ({e}); start it with scripts/services.sh")
                    });
                World {
                    backend: Backend::Redis {
                        url: REDIS_URL.to_owned(),
                        namespace: prefix.clone(),
                    },
                    _cleanup: Cleanup::Redis { prefix },
                }
            }
        }
    }

    /// The `sync` queue, migrated.
    pub async fn queue(&self) -> Queue {
        let queue = Queue::connect(self.backend.clone(), QUEUE)
            .await
            .expect("connecting to the queue");
        queue.setup().await.expect("setting the queue up");
        queue
    }

    pub fn backend(&self) -> Backend {
        self.backend.clone()
    }

    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite(pool) => Some(pool),
            _ => None,
        }
    }

    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            _ => None,
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let work: Box<dyn FnOnce() -> Result<(), String> + Send> = match self {
            Cleanup::Sqlite(_) => return,
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                Box::new(move || {
                    block_on(async move {
                        let mut admin = PgConnection::connect(&admin_url).await?;
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        )))
                        .execute(&mut admin)
                        .await?;
                        admin.close().await
                    })
                })
            }
            Cleanup::Redis { prefix } => {
                let prefix = prefix.clone();
                Box::new(move || {
                    block_on(async move {
                        let client = redis::Client::open(REDIS_URL)?;
                        let mut conn = client.get_multiplexed_async_connection().await?;
                        let keys: Vec<String> = redis::cmd("KEYS")
                            .arg(format!("{prefix}:*"))
                            .query_async(&mut conn)
                            .await?;
                        if !keys.is_empty() {
                            redis::cmd("DEL").arg(&keys).query_async::<()>(&mut conn).await?;
                        }
                        // apalis-redis registers every queue in one global
                        // sorted set, outside any prefix.
                        let queues: Vec<String> = redis::cmd("ZRANGE")
                            .arg("core:apalis:queues:list")
                            .arg(0)
                            .arg(-1)
                            .query_async(&mut conn)
                            .await?;
                        let ours: Vec<&String> = queues.iter().filter(|q| q.starts_with(&prefix)).collect();
                        if !ours.is_empty() {
                            redis::cmd("ZREM")
                                .arg("core:apalis:queues:list")
                                .arg(ours)
                                .query_async::<()>(&mut conn)
                                .await?;
                        }
                        Ok::<(), redis::RedisError>(())
                    })
                })
            }
        };
        // Drop cannot await and the test's runtime may be shutting down: clean
        // up on a thread with its own runtime, and wait for it.
        let result = std::thread::spawn(work).join();
        if !matches!(result, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("cleaning up a test world failed: {result:?}");
        }
    }
}

fn block_on<F, E>(future: F) -> Result<(), String>
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(future)
        .map_err(|e| e.to_string())
}

fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

/// Worker settings for tests: quick polls and heartbeats.
pub fn fast_options() -> WorkerOptions {
    WorkerOptions {
        concurrency: 2,
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 3,
        poll_interval: Duration::from_millis(50),
        max_attempts: 3,
    }
}

/// A worker running in the background.
pub struct Worker {
    shutdown: CancellationToken,
    handle: JoinHandle<Result<(), Error>>,
}

impl Worker {
    pub fn start<H, Fut>(queue: &Queue, options: WorkerOptions, handler: H) -> Worker
    where
        H: Fn(Delivery) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        let queue = queue.clone();
        let token = shutdown.clone();
        let handle = tokio::spawn(async move { queue.run(handler, options, token).await });
        Worker { shutdown, handle }
    }

    /// Asks the worker to stop and waits until it has.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(DEADLINE, self.handle)
            .await
            .expect("the worker stops before the deadline")
            .expect("the worker task does not panic")
            .expect("the worker stops without error");
    }

    /// Simulates a crash: the worker vanishes without acking or heartbeating.
    pub async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

/// A handler that reports every delivery on a channel, then answers with `outcome`.
pub fn recording<F>(
    outcome: F,
) -> (
    impl Fn(Delivery) -> std::future::Ready<Outcome> + Clone + Send + Sync + 'static,
    mpsc::UnboundedReceiver<Delivery>,
)
where
    F: Fn(&Delivery) -> Outcome + Clone + Send + Sync + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |delivery: Delivery| {
        let answer = outcome(&delivery);
        let _ = tx.send(delivery);
        std::future::ready(answer)
    };
    (handler, rx)
}

/// The next delivery, or a failed test at the deadline.
pub async fn next(rx: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("a delivery arrives before the deadline")
        .expect("the handler is still alive")
}

/// Waits until the queue's stats satisfy `done` (checked every 50 ms), and
/// returns them; fails the test at the deadline.
pub async fn stats_until(queue: &Queue, done: impl Fn(&Stats) -> bool) -> Stats {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        every.tick().await;
        let stats = queue
            .stats(chrono::Utc::now())
            .await
            .expect("reading queue stats");
        if done(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "queue never reached the expected state: {stats:?}"
        );
    }
}

/// Nothing waiting, scheduled or running.
pub fn idle(stats: &Stats) -> bool {
    stats.pending == 0 && stats.scheduled == 0 && stats.running == 0
}
