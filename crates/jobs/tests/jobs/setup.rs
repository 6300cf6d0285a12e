//! `Queue::setup` on the app's own SQLite file.

use amzsync_jobs::{Backend, Queue};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::support::QUEUE;

#[tokio::test]
async fn setup_is_repeatable_and_leaves_the_apps_sqlite_pragmas_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("app.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    // One connection, so setup runs on the very connection checked below.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("opening a temporary SQLite file");
    let queue = Queue::connect(Backend::Sqlite(pool.clone()), QUEUE)
        .await
        .expect("connect");

    queue.setup().await.expect("first setup");
    queue.setup().await.expect("second setup");

    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&pool)
        .await
        .expect("pragma");
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("pragma");
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("apalis history");
    assert_eq!(synchronous, 1, "still NORMAL, not apalis' OFF");
    assert_eq!(journal, "wal");
    assert!(
        history > 0,
        "apalis keeps its history in _sqlx_migrations, apart from the app's _app_migrations"
    );
}
