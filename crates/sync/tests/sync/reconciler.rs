//! The reconciler re-rings tasks no job came for, on an SQL queue and on
//! Redis; a delivery before a task's due time waits for it instead of
//! starting early.

use std::time::Duration;

use amzsync_amazon_sim::{Config as SimConfig, Operation};
use amzsync_db::{NewSyncTask, SyncTask};
use amzsync_domain::{ErrorClass, SyncKind, SyncTaskId, TaskStatus, Trigger};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::{ReconcileReport, SyncSettings, job_kinds, plan};
use amzsync_test_support::TestDb;
use chrono::TimeDelta;
use ulid::Ulid;

use crate::harness::{CA, QueueOn, SELLER, US, World, assert_success, wait_for};
use crate::inventory::{expected_inventory, stored_inventory};

/// Reports ready at the first poll: real workers would wait real seconds
/// for a snooze.
fn instant_reports() -> SimConfig {
    SimConfig {
        report_polls: 0,
        ..SimConfig::default()
    }
}

async fn world(db: TestDb, queue_on: QueueOn) -> World {
    World::with(db, queue_on, instant_reports(), SyncSettings::default()).await
}

fn grace(world: &World) -> Duration {
    world.engine.settings().reconcile_grace
}

/// An inventory task committed with no job, as when the enqueue after the
/// commit failed (Redis away for a moment, the process dying in between).
async fn task_without_job(world: &World) -> SyncTask {
    let now = world.sim.now();
    // Inventory's window is today, in the marketplace's time zone.
    let window = amzsync_domain::SyncWindow::day(plan::today_in(US, now));
    let ms = u64::try_from(now.timestamp_millis()).expect("after 1970");
    world
        .db
        .sync_tasks()
        .create(&NewSyncTask {
            id: SyncTaskId::new(ms, Ulid::generate().random()),
            store_id: world.store.id,
            kind: SyncKind::Inventory,
            trigger: Trigger::Manual,
            window: Some(window),
        })
        .await
        .expect("creating the task row")
}

async fn reconcile(world: &World) -> ReconcileReport {
    world
        .engine
        .reconcile(world.sim.now())
        .await
        .expect("a reconcile pass")
}

/// Runs real workers until the task is finished and no job is due or held
/// (a re-ring's duplicate delivery included), then stops them.
async fn run_until_settled(world: &World, id: SyncTaskId) -> SyncTask {
    let (shutdown, worker) = world.start_workers();
    let task = wait_for(|| async {
        let task = world.task(id).await;
        let stats = world.queue.stats(chrono::Utc::now()).await.expect("queue stats");
        (!task.status.is_active() && stats.pending == 0 && stats.running == 0).then_some(task)
    })
    .await;
    shutdown.cancel();
    worker
        .await
        .expect("the worker task does not panic")
        .expect("the worker stops cleanly");
    task
}

async fn assert_inventory_exact(world: &World) {
    assert_eq!(stored_inventory(world, US).await, expected_inventory(world, US));
    assert_eq!(stored_inventory(world, CA).await, expected_inventory(world, CA));
}

async fn a_task_committed_without_its_job_is_done_after_a_reconcile_pass(world: World) {
    let task = task_without_job(&world).await;
    assert_eq!(
        reconcile(&world).await,
        ReconcileReport::default(),
        "within the grace a task's job may just be late"
    );

    world.clock.advance(grace(&world) + Duration::from_secs(1));
    let report = reconcile(&world).await;
    assert_eq!((report.stranded, report.rung, report.duplicates), (1, 1, 0));
    // A second scheduler's pass rings the same stranding once.
    let now = world.sim.now();
    let pass = world
        .second_engine()
        .housekeeping(now - TimeDelta::seconds(30), now)
        .await;
    let again = pass.reconciled.expect("the scheduler pass reconciles");
    assert_eq!((again.stranded, again.rung, again.duplicates), (1, 0, 1));

    let task = run_until_settled(&world, task.id).await;
    assert_success(&task);
    assert_eq!(task.attempt, 1);
    assert_inventory_exact(&world).await;
    assert_eq!(reconcile(&world).await, ReconcileReport::default());
}

async fn a_healthy_task_with_its_job_is_not_run_twice(world: World) {
    let task = world.trigger(SyncKind::Inventory, None).await;
    assert_eq!(reconcile(&world).await.rung, 0, "its job is on its way");

    // The job is late (a busy queue): the reconciler rings a second one.
    world.clock.advance(grace(&world) + Duration::from_secs(1));
    assert_eq!(reconcile(&world).await.rung, 1);

    let task = run_until_settled(&world, task.id).await;
    assert_success(&task);
    assert_eq!(task.attempt, 1, "claimed by one delivery only");
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 2);
    assert_inventory_exact(&world).await;
}

async fn a_task_in_retry_backoff_is_not_rung_early(world: World) {
    let task = task_without_job(&world).await;
    // An attempt that failed transiently: back to pending until the delay.
    let tasks = world.db.sync_tasks();
    let lease = world.sim.now() + TimeDelta::minutes(5);
    tasks
        .claim(task.id, "w", lease)
        .await
        .expect("claim")
        .expect("claimed");
    let retry_delay = world.engine.settings().retry_delay;
    let retry_at = world.sim.now() + TimeDelta::from_std(retry_delay).expect("a small delay");
    tasks
        .schedule_retry(task.id, ErrorClass::Transient, "503 from Amazon", retry_at)
        .await
        .expect("scheduling the retry");

    world
        .clock
        .advance(retry_delay + grace(&world) - Duration::from_secs(1));
    assert_eq!(reconcile(&world).await, ReconcileReport::default());
    world.clock.advance(Duration::from_secs(1));
    assert_eq!(
        reconcile(&world).await.rung,
        1,
        "due for a grace, and no job came"
    );

    let task = run_until_settled(&world, task.id).await;
    assert_success(&task);
    assert_eq!((task.attempt, task.retry_count), (2, 1));
    assert_inventory_exact(&world).await;
}

macro_rules! on_queues {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_the_sqlite_queue() {
                    super::$test(world(TestDb::sqlite().await, QueueOn::Database).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_the_postgres_queue() {
                    super::$test(world(TestDb::postgres().await, QueueOn::Database).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_the_redis_queue() {
                    super::$test(world(TestDb::postgres().await, QueueOn::Redis).await).await;
                }
            }
        )*
    };
}

on_queues!(
    a_task_committed_without_its_job_is_done_after_a_reconcile_pass,
    a_healthy_task_with_its_job_is_not_run_twice,
    a_task_in_retry_backoff_is_not_rung_early,
);

/// A delivery that arrives while the task waits for its retry delay snoozes
/// until then: Amazon is not called and no attempt is spent early.
#[tokio::test]
async fn an_early_delivery_waits_for_the_retry_delay() {
    let world = world(TestDb::sqlite().await, QueueOn::Database).await;
    let task = task_without_job(&world).await;
    let tasks = world.db.sync_tasks();
    let lease = world.sim.now() + TimeDelta::minutes(5);
    tasks
        .claim(task.id, "w", lease)
        .await
        .expect("claim")
        .expect("claimed");
    let retry_at = world.sim.now() + TimeDelta::minutes(5);
    tasks
        .schedule_retry(task.id, ErrorClass::Transient, "503 from Amazon", retry_at)
        .await
        .expect("scheduling the retry");
    world.clock.advance(Duration::from_secs(60));

    let delivery = Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id: Ulid::generate(),
        attempt: 2,
        max_attempts: 4,
    };
    match world.engine.handle(delivery.clone()).await {
        Outcome::Snooze(wait) => assert_eq!(wait, Duration::from_secs(4 * 60)),
        other => panic!("expected a snooze until the retry is due, got {other:?}"),
    }
    let waiting = world.task(task.id).await;
    assert_eq!(
        (waiting.status, waiting.attempt, waiting.retry_count),
        (TaskStatus::Pending, 1, 1)
    );
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 0);

    world.clock.advance(Duration::from_secs(4 * 60));
    assert!(matches!(world.engine.handle(delivery).await, Outcome::Done));
    let task = world.task(task.id).await;
    assert_success(&task);
    assert_eq!(task.attempt, 2);
    assert_inventory_exact(&world).await;
}
