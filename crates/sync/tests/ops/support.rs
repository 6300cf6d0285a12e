//! Redis namespaces and engines for the tests.

use std::sync::Arc;

use amzsync_db::Engine as DbEngine;
use amzsync_domain::{Clock, ManualClock};
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, EngineBuilder, QUEUE, SyncSettings};
use amzsync_test_support::TestDb;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use ulid::Ulid;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A connection and a namespace no other test uses.
pub struct RedisNs {
    pub conn: ConnectionManager,
    pub ns: String,
}

impl RedisNs {
    pub async fn new() -> Self {
        let client = redis::Client::open(REDIS_URL).expect("a valid Redis URL");
        let conn = ConnectionManager::new(client).await.unwrap_or_else(|e| {
            panic!("cannot reach Redis at {REDIS_URL} ({e}); start it with scripts/services.sh")
        });
        Self {
            conn,
            ns: format!("amzsync-ops-test-{}", Ulid::generate()),
        }
    }

    /// Deletes every key of the namespace.
    pub async fn cleanup(self) {
        let mut conn = self.conn.clone();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.ns))
            .query_async(&mut conn)
            .await
            .expect("listing the test's keys");
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut conn)
                .await
                .expect("deleting the test's keys");
        }
    }
}

/// An engine on the test database, its queue in the same database, the
/// database and engine timed by `clock`.
pub async fn engine(
    t: &TestDb,
    clock: &ManualClock,
    configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
) -> Engine {
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let backend = match db.engine() {
        DbEngine::Sqlite => Backend::Sqlite(db.sqlite_pool().expect("SQLite").clone()),
        DbEngine::Postgres => Backend::Postgres(db.postgres_pool().expect("PostgreSQL").clone()),
    };
    let queue = Queue::connect(backend, QUEUE).await.expect("the queue connects");
    queue.setup().await.expect("the queue sets up");
    let builder = Engine::builder(db, queue, AmazonSettings::default(), SyncSettings::default());
    configure(builder).build().expect("the engine builds")
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// The clock's time, for assertions.
pub fn now(clock: &ManualClock) -> DateTime<Utc> {
    Clock::now(clock)
}
