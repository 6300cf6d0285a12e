//! The transactional outbox: a `sync_tasks` row and its job commit together.

use amzsync_jobs::{Enqueued, Error, Job, Options, Outcome};
use ulid::Ulid;

use crate::{
    on_each_backend,
    support::{Engine, Worker, World, fast_options, idle, next, recording, stats_until},
};

on_each_backend!(a_job_enqueued_in_a_rolled_back_transaction_never_runs_and_a_committed_one_does);

/// A stand-in for the app's table; the same SQL runs on both engines.
const CREATE_SYNC_TASKS: &str = "CREATE TABLE sync_tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL)";
const INSERT_SYNC_TASK: &str = "INSERT INTO sync_tasks (id, status) VALUES ($1, 'queued')";
const COUNT_SYNC_TASKS: &str = "SELECT COUNT(*) FROM sync_tasks";

async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs_and_a_committed_one_does(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let rolled_back = Job::new("request_report", Ulid::generate());
    let committed = Job::new("request_report", Ulid::generate());

    let (first, duplicate, rows) = if let Some(pool) = world.sqlite_pool() {
        sqlx::query(CREATE_SYNC_TASKS)
            .execute(pool)
            .await
            .expect("create table");
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(INSERT_SYNC_TASK)
            .bind(rolled_back.sync_task_id.to_string())
            .execute(&mut *tx)
            .await
            .expect("insert");
        queue
            .enqueue_in(&mut *tx, &rolled_back, Options::default())
            .await
            .expect("enqueue in tx");
        tx.rollback().await.expect("rollback");

        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(INSERT_SYNC_TASK)
            .bind(committed.sync_task_id.to_string())
            .execute(&mut *tx)
            .await
            .expect("insert");
        let first = queue
            .enqueue_in(&mut *tx, &committed, Options::default())
            .await
            .expect("enqueue in tx");
        let duplicate = queue
            .enqueue_in(&mut *tx, &committed, Options::default())
            .await
            .expect("enqueue in tx");
        tx.commit().await.expect("commit after a duplicate");
        let rows: i64 = sqlx::query_scalar(COUNT_SYNC_TASKS)
            .fetch_one(pool)
            .await
            .expect("count");
        (first, duplicate, rows)
    } else if let Some(pool) = world.postgres_pool() {
        sqlx::query(CREATE_SYNC_TASKS)
            .execute(pool)
            .await
            .expect("create table");
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(INSERT_SYNC_TASK)
            .bind(rolled_back.sync_task_id.to_string())
            .execute(&mut *tx)
            .await
            .expect("insert");
        queue
            .enqueue_in(&mut *tx, &rolled_back, Options::default())
            .await
            .expect("enqueue in tx");
        tx.rollback().await.expect("rollback");

        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(INSERT_SYNC_TASK)
            .bind(committed.sync_task_id.to_string())
            .execute(&mut *tx)
            .await
            .expect("insert");
        let first = queue
            .enqueue_in(&mut *tx, &committed, Options::default())
            .await
            .expect("enqueue in tx");
        // On PostgreSQL a unique violation would abort the transaction; the
        // facade confines it to a savepoint.
        let duplicate = queue
            .enqueue_in(&mut *tx, &committed, Options::default())
            .await
            .expect("enqueue in tx");
        tx.commit().await.expect("commit after a duplicate");
        let rows: i64 = sqlx::query_scalar(COUNT_SYNC_TASKS)
            .fetch_one(pool)
            .await
            .expect("count");
        (first, duplicate, rows)
    } else {
        // Redis has no transaction shared with the app's database: the
        // facade says so instead of pretending.
        let sqlite = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("in-memory sqlite");
        let mut conn = sqlite.acquire().await.expect("connection");
        let refused = queue.enqueue_in(&mut *conn, &committed, Options::default()).await;
        assert!(matches!(refused, Err(Error::Unsupported { .. })), "{refused:?}");
        return;
    };

    let (handler, mut rx) = recording(|_| Outcome::Done);
    let worker = Worker::start(&queue, fast_options(), handler);
    let delivered = next(&mut rx).await;
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(first, Enqueued::Added(committed.sync_task_id));
    assert_eq!(duplicate, Enqueued::Duplicate);
    assert_eq!(rows, 1, "only the committed sync task exists");
    assert_eq!(delivered.job, committed);
    assert!(rx.try_recv().is_err(), "the rolled-back job never ran");
}
