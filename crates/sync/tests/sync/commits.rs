//! A unit's rows, its checkpoint and, for the last unit, the task's success
//! commit in one transaction: a crash (here a database error injected by a
//! trigger) between any two of them leaves none of them.

use amzsync_db::Db;
use amzsync_domain::{ErrorClass, SyncKind, SyncWindow, TaskStatus};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::job_kinds;
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::Days;

use crate::business::{expected_asins, expected_business, stored_business};
use crate::harness::{CA, US, World, assert_success};

/// Runs statements on whichever engine the world's database is.
async fn execute(db: &Db, sqlite: &[&'static str], postgres: &[&'static str]) {
    if let Some(pool) = db.sqlite_pool() {
        for sql in sqlite {
            sqlx::query(*sql).execute(pool).await.expect(sql);
        }
    } else {
        let pool = db.postgres_pool().expect("a PostgreSQL database");
        for sql in postgres {
            sqlx::query(*sql).execute(pool).await.expect(sql);
        }
    }
}

const PG_FAIL_NOW: &str = "CREATE FUNCTION fail_now() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$";

/// Delivers the task's job, moving the clock through snoozes, until an
/// attempt fails and is scheduled for a retry.
async fn deliver_until_a_retry(world: &World, id: amzsync_domain::SyncTaskId) {
    for _ in 0..20 {
        let delivery = Delivery {
            job: Job::new(job_kinds::SYNC_TASK, id.0),
            id: ulid::Ulid::generate(),
            attempt: 1,
            max_attempts: 4,
        };
        match world.engine.handle(delivery).await {
            Outcome::Snooze(after) => world.clock.advance(after),
            Outcome::Retry { after, .. } => {
                world.clock.advance(after);
                return;
            }
            other => panic!("expected the attempt to fail, got {other:?}"),
        }
    }
    panic!("no attempt failed");
}

on_both_engines!(the_last_rows_are_not_kept_when_the_success_cannot_be_recorded);

async fn the_last_rows_are_not_kept_when_the_success_cannot_be_recorded(db: TestDb) {
    let world = World::new(db).await;
    let day = world.today() - Days::new(1);
    execute(
        &world.db,
        &["CREATE TRIGGER no_success BEFORE UPDATE OF status ON sync_tasks
           WHEN NEW.status = 'success' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"],
        &[
            PG_FAIL_NOW,
            "CREATE TRIGGER no_success BEFORE UPDATE ON sync_tasks FOR EACH ROW
             WHEN (NEW.status = 'success') EXECUTE FUNCTION fail_now()",
        ],
    )
    .await;
    let task = world
        .trigger(SyncKind::Business, Some(SyncWindow::day(day)))
        .await;

    deliver_until_a_retry(&world, task.id).await;

    // US was stored and checkpointed; CA, the last unit, went down with the
    // success it had to commit with.
    let waiting = world.task(task.id).await;
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert_eq!(waiting.error_class, Some(ErrorClass::Transient));
    assert_eq!((waiting.progress_done, waiting.records_synced), (1, 0));
    assert_eq!(
        stored_business(&world, US, day).await,
        expected_business(&world, US, day)
    );
    assert!(stored_business(&world, CA, day).await.is_empty());

    execute(
        &world.db,
        &["DROP TRIGGER no_success"],
        &["DROP TRIGGER no_success ON sync_tasks"],
    )
    .await;
    let (task, _) = world.drive(task.id).await;
    assert_success(&task);
    let expected_ca = expected_business(&world, CA, day);
    assert_eq!(stored_business(&world, CA, day).await, expected_ca);
    // SKU and child-ASIN rows of both marketplaces.
    let total = expected_business(&world, US, day).len()
        + expected_ca.len()
        + expected_asins(&world, US, day).len()
        + expected_asins(&world, CA, day).len();
    assert_eq!(task.records_synced, i64::try_from(total).expect("small"));
}

on_both_engines!(no_success_is_recorded_when_the_last_rows_cannot_be_stored);

async fn no_success_is_recorded_when_the_last_rows_cannot_be_stored(db: TestDb) {
    let world = World::new(db).await;
    let day = world.today() - Days::new(1);
    execute(
        &world.db,
        &["CREATE TRIGGER no_rows BEFORE INSERT ON business_metric_snapshots
           WHEN NEW.marketplace_id = 'A2EUQ1WTGCTBG2' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"],
        &[
            PG_FAIL_NOW,
            "CREATE TRIGGER no_rows BEFORE INSERT ON business_metric_snapshots FOR EACH ROW
             WHEN (NEW.marketplace_id = 'A2EUQ1WTGCTBG2') EXECUTE FUNCTION fail_now()",
        ],
    )
    .await;
    let task = world
        .trigger(SyncKind::Business, Some(SyncWindow::day(day)))
        .await;

    deliver_until_a_retry(&world, task.id).await;

    let waiting = world.task(task.id).await;
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert_eq!(waiting.end_time, None);
    assert_eq!(waiting.progress_done, 1);
    assert!(stored_business(&world, CA, day).await.is_empty());
    let units = waiting.checkpoint["units"].as_array().expect("units").clone();
    let ca = units
        .iter()
        .find(|u| u["marketplace_id"] == CA)
        .expect("a CA unit");
    assert_eq!(ca["state"], "requested", "{ca}");

    execute(
        &world.db,
        &["DROP TRIGGER no_rows"],
        &["DROP TRIGGER no_rows ON business_metric_snapshots"],
    )
    .await;
    let (task, _) = world.drive(task.id).await;
    assert_success(&task);
    assert_eq!(
        stored_business(&world, CA, day).await,
        expected_business(&world, CA, day)
    );
}
