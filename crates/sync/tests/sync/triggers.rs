//! FR-6 and FR-5: one active task per store and kind; triggers refused for
//! the right reasons; failed tasks retried.

use amzsync_db::Scope;
use amzsync_domain::{ErrorClass, SyncKind, SyncWindow, TaskStatus, Trigger};
use amzsync_sync::TriggerError;
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::Days;

use crate::harness::{World, assert_success};

on_both_engines!(a_second_trigger_while_one_is_active_is_refused_and_creates_nothing);

async fn a_second_trigger_while_one_is_active_is_refused_and_creates_nothing(db: TestDb) {
    let world = World::new(db).await;
    let first = world.trigger(SyncKind::Inventory, None).await;
    assert_eq!(first.status, TaskStatus::Pending);
    let jobs_before = world.queue.stats(chrono::Utc::now()).await.expect("stats");

    let second = world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Inventory,
            None,
            Trigger::Manual,
        )
        .await;

    match second {
        Err(TriggerError::AlreadyRunning { task_id }) => assert_eq!(task_id, first.id),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    let jobs_after = world.queue.stats(chrono::Utc::now()).await.expect("stats");
    assert_eq!(jobs_after.pending, jobs_before.pending);
    assert_eq!(jobs_before.pending, 1);
    // Another kind is another slot.
    world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Business,
            Some(SyncWindow::day(world.today() - Days::new(1))),
            Trigger::Manual,
        )
        .await
        .expect("a business sync may run beside the inventory sync");
    // Once the first one finished, the kind is free again.
    assert_success(&world.drive(first.id).await.0);
    world.trigger(SyncKind::Inventory, None).await;
}

on_both_engines!(triggers_are_refused_for_inactive_stores_and_bad_windows);

async fn triggers_are_refused_for_inactive_stores_and_bad_windows(db: TestDb) {
    let world = World::new(db).await;
    let trigger = |kind, window| {
        world
            .engine
            .trigger(Scope::All, world.store.id, kind, window, Trigger::Manual)
    };

    let today = SyncWindow::day(world.today());
    assert!(matches!(
        trigger(SyncKind::Business, Some(today)).await,
        Err(TriggerError::InvalidWindow(_))
    ));
    let too_old =
        SyncWindow::new(world.today() - Days::new(200), world.today() - Days::new(150)).expect("ordered");
    assert!(matches!(
        trigger(SyncKind::Advertising, Some(too_old)).await,
        Err(TriggerError::InvalidWindow(_))
    ));
    world
        .db
        .stores()
        .set_active(Scope::All, world.store.id, false)
        .await
        .expect("deactivating");
    assert!(matches!(
        trigger(SyncKind::Inventory, None).await,
        Err(TriggerError::StoreInactive)
    ));
    let nothing = world
        .db
        .sync_tasks()
        .latest(Scope::All, world.store.id, SyncKind::Inventory, None)
        .await
        .expect("reading tasks");
    assert_eq!(nothing, None);
}

on_both_engines!(a_failed_task_is_retried_with_its_checkpoint_and_succeeds);

async fn a_failed_task_is_retried_with_its_checkpoint_and_succeeds(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_report_polls(0);
    // Every attempt of the first run fails while polling.
    for _ in 0..(3 * 4) {
        world.sim.fail_next(amzsync_amazon_sim::Operation::GetReport);
    }
    let task = world.trigger(SyncKind::Inventory, None).await;
    let (failed, _) = world.drive(task.id).await;
    assert_eq!(failed.error_class, Some(ErrorClass::Transient));
    let done = world.engine.retry(Scope::All, task.id).await;
    assert!(
        matches!(done, Ok(ref t) if t.status == TaskStatus::Pending),
        "{done:?}"
    );

    let (task, _) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(task.retry_count, 4);
    // The retry polled the reports the first run had requested.
    assert_eq!(
        world
            .sim
            .stats(
                crate::harness::SELLER,
                amzsync_amazon_sim::Operation::CreateReport
            )
            .calls,
        2
    );
    let again = world.engine.retry(Scope::All, task.id).await;
    assert!(
        matches!(
            again,
            Err(TriggerError::NotRetryable {
                status: TaskStatus::Success
            })
        ),
        "{again:?}"
    );
}
