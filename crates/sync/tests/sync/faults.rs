//! FR-7: each kind of fault ends as the product says, and data is exact where
//! the sync succeeds.

use std::time::Duration;

use amzsync_amazon_sim::{FaultRates, Faults, Operation, ReportOutcome};
use amzsync_db::{Scope, StoreStatus};
use amzsync_domain::{ErrorClass, SyncKind, SyncWindow, TaskStatus, Trigger};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::{SyncSettings, TriggerError, job_kinds};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::Days;

use crate::business::{assert_day_exact, expected_asins, expected_business, stored_asins, stored_business};
use crate::harness::{CA, QueueOn, SELLER, US, World, assert_success};
use crate::inventory::{expected_inventory, stored_inventory};

on_both_engines!(a_report_still_being_generated_is_waited_for_without_spending_a_retry);

async fn a_report_still_being_generated_is_waited_for_without_spending_a_retry(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_report_polls(6);

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert!(trace.snoozes >= 6, "{trace:?}");
    assert!(trace.retries.is_empty(), "{trace:?}");
    assert_eq!(task.retry_count, 0);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
}

on_both_engines!(server_errors_and_throttling_are_retried_after_the_delay_then_succeed);

async fn server_errors_and_throttling_are_retried_after_the_delay_then_succeed(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_report_polls(0);
    // More than the client's own attempts (3 for a 5xx, 5 for a 429), so the
    // engine sees the fault.
    for _ in 0..3 {
        world.sim.fail_next(Operation::GetReport);
    }
    world.sim.throttle(Operation::GetReports, 5);

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(trace.retries.len(), 2, "{trace:?}");
    assert_eq!(trace.retries[1], SyncSettings::default().retry_delay, "{trace:?}");
    assert_eq!(task.retry_count, 2);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
}

on_both_engines!(a_task_fails_as_transient_once_its_retries_are_spent);

async fn a_task_fails_as_transient_once_its_retries_are_spent(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_report_polls(0);
    for _ in 0..(3 * 4) {
        world.sim.fail_next(Operation::GetReport);
    }

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert!(trace.failed, "{trace:?}");
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.error_class, Some(ErrorClass::Transient));
    assert_eq!(task.retry_count, 3);
    assert!(
        task.error_message.as_deref().unwrap_or("").contains("500"),
        "{:?}",
        task.error_message
    );
    // Nothing was fetched, so nothing is presented as synced.
    assert_eq!(task.records_synced, 0);
    assert!(stored_inventory(&world, US).await.is_empty());
}

on_both_engines!(a_cut_inventory_download_is_retried_never_stored_short);

/// Found by the chaos suite: a flat file cut short used to arrive as a valid,
/// shorter document (rows lost, a half row stored as complete).
async fn a_cut_inventory_download_is_retried_never_stored_short(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_faults(Faults::default().operation(
        Operation::DownloadReportDocument,
        FaultRates {
            truncated: 1.0,
            ..FaultRates::default()
        },
    ));

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert!(trace.failed, "{trace:?}");
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(
        task.error_class,
        Some(ErrorClass::Transient),
        "{:?}",
        task.error_message
    );
    assert_eq!(task.records_synced, 0);
    assert!(stored_inventory(&world, US).await.is_empty());
    assert!(stored_inventory(&world, CA).await.is_empty());
}

on_both_engines!(a_damaged_download_is_fetched_again_and_lands_exactly);

/// A gzip body with a flipped byte (PRODUCT.md: "a truncated or corrupt
/// download is fetched again"). Its garbage used to fail the JSON parser
/// first, which called the document corrupt and failed the task for good.
async fn a_damaged_download_is_fetched_again_and_lands_exactly(db: TestDb) {
    let world = World::new(db).await;
    world.sim.set_faults(Faults::default().operation(
        Operation::DownloadReportDocument,
        FaultRates {
            corrupt: 1.0,
            ..FaultRates::default()
        },
    ));
    let day = world.today() - Days::new(1);

    let task = world
        .trigger(SyncKind::Business, Some(SyncWindow::day(day)))
        .await;
    let (task, trace) = world
        .drive_with(task.id, || world.sim.set_faults(Faults::default()))
        .await;

    assert_success(&task);
    assert_eq!(trace.retries.len(), 1, "{trace:?}");
    assert_eq!(task.retry_count, 1);
    let downloads = world.sim.stats(SELLER, Operation::DownloadReportDocument);
    assert!(downloads.corrupted >= 1, "{downloads:?}");
    // The reports were not requested again: their documents were fetched again.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 4);
    assert_day_exact(&world, day).await;
}

on_both_engines!(a_report_not_ready_by_its_deadline_is_given_up_and_requested_again);

/// The report deadline of [`with_stuck_reports`]: past the half hour in which
/// Amazon refuses a second near-real-time inventory report (it would end
/// FATAL).
const DEADLINE: Duration = Duration::from_secs(40 * 60);

/// A world whose every report stays queued for a day (until its faults are
/// changed), with [`DEADLINE`] and `retries`.
async fn with_stuck_reports(db: TestDb, retries: u32) -> World {
    let settings = SyncSettings {
        report_deadline: DEADLINE,
        retries,
        ..SyncSettings::default()
    };
    let world = World::with(db, QueueOn::Database, Default::default(), settings).await;
    world.sim.set_faults(Faults::default().operation(
        Operation::CreateReport,
        FaultRates {
            report_stuck: 1.0,
            stuck_for: Duration::from_secs(24 * 3600),
            ..FaultRates::default()
        },
    ));
    world
}

/// Amazon's reports have sat queued for days (PROTOCOL.md §3.3): one still
/// not ready at the report deadline is given up, so it cannot hold its
/// store and kind for good, and the retry requests a new one.
async fn a_report_not_ready_by_its_deadline_is_given_up_and_requested_again(db: TestDb) {
    let world = with_stuck_reports(db, SyncSettings::default().retries).await;

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world
        .drive_with(task.id, || world.sim.set_faults(Faults::default()))
        .await;

    assert_success(&task);
    assert_eq!(trace.retries.len(), 1, "{trace:?}");
    let polls = DEADLINE.as_secs() / SyncSettings::default().poll_delay.as_secs();
    assert!(
        u64::from(trace.snoozes) >= polls,
        "waited to the deadline: {trace:?}"
    );
    assert_eq!(task.retry_count, 1);
    // Both stuck reports (US and CA) were given up in one delivery, for one
    // retry, and not found again by the lookup before the new requests.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 4);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
    assert_eq!(stored_inventory(&world, CA).await, expected_inventory(&world, CA));
}

on_both_engines!(a_report_that_never_finishes_fails_the_task_and_frees_its_store_and_kind);

async fn a_report_that_never_finishes_fails_the_task_and_frees_its_store_and_kind(db: TestDb) {
    let world = with_stuck_reports(db, 1).await;

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert!(trace.failed, "{trace:?}");
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.error_class, Some(ErrorClass::Transient));
    assert_eq!(task.retry_count, 1);
    let message = task.error_message.unwrap_or_default();
    assert!(
        message.contains(
            "still not ready 40 min after it was requested (sync.report_deadline_minutes): given up"
        ),
        "{message}"
    );
    // Two tries, each with new reports for US and CA.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 4);
    assert!(stored_inventory(&world, US).await.is_empty());
    // The store and kind take a sync again instead of answering 409 for good.
    let again = world.trigger(SyncKind::Inventory, None).await;
    assert_ne!(again.id, task.id);
}

on_both_engines!(a_revoked_grant_fails_at_once_and_pauses_the_store);

async fn a_revoked_grant_fails_at_once_and_pauses_the_store(db: TestDb) {
    let world = World::new(db).await;
    world.sim.revoke_grant(&world.credentials.refresh_token);

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert!(trace.failed, "{trace:?}");
    assert_eq!(trace.deliveries, 1);
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.error_class, Some(ErrorClass::Unauthorized));
    assert_eq!(task.retry_count, 0);
    assert!(
        task.error_message
            .as_deref()
            .unwrap_or("")
            .contains("invalid_grant"),
        "{:?}",
        task.error_message
    );
    let store = world
        .db
        .stores()
        .get(Scope::All, world.store.id)
        .await
        .expect("store");
    assert_eq!(store.sync_status, StoreStatus::NeedsReauth);
    // Scheduled syncs stop; a manual one may still check the credentials.
    let scheduled = world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Business,
            None,
            Trigger::Scheduled,
        )
        .await;
    assert!(
        matches!(scheduled, Err(TriggerError::NeedsReauth)),
        "{scheduled:?}"
    );
    world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Business,
            None,
            Trigger::Manual,
        )
        .await
        .expect("a manual trigger is allowed");
}

on_both_engines!(a_fatal_report_is_requested_again_after_amazons_cooldown);

async fn a_fatal_report_is_requested_again_after_amazons_cooldown(db: TestDb) {
    let world = World::new(db).await;
    world.sim.force_next_report(ReportOutcome::Fatal);
    let day = world.today() - Days::new(1);

    let task = world
        .trigger(SyncKind::Business, Some(SyncWindow::day(day)))
        .await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(trace.retries, [Duration::from_secs(30 * 60)], "{trace:?}");
    assert_eq!(task.retry_count, 1);
    // Two reports (SKU and CHILD) per marketplace; the US SKU report failed
    // and was requested again, the other three were fine and kept.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 5);
    assert_eq!(
        stored_asins(&world, US, day).await,
        expected_asins(&world, US, day)
    );
    assert_eq!(
        stored_business(&world, US, day).await,
        expected_business(&world, US, day)
    );
}

on_both_engines!(a_cancelled_report_is_a_day_without_data_and_the_task_says_so);

async fn a_cancelled_report_is_a_day_without_data_and_the_task_says_so(db: TestDb) {
    let world = World::new(db).await;
    let last = world.today() - Days::new(1);
    let first = last - Days::new(1);
    // The first report created is US on the first day.
    world.sim.force_next_report(ReportOutcome::Cancelled);

    let task = world
        .trigger(
            SyncKind::Business,
            Some(SyncWindow::new(first, last).expect("ordered")),
        )
        .await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert!(trace.retries.is_empty(), "{trace:?}");
    assert!(stored_business(&world, US, first).await.is_empty());
    assert_eq!(
        stored_business(&world, US, last).await,
        expected_business(&world, US, last)
    );
    let message = task.progress_message.unwrap_or_default();
    assert!(
        message.contains(&format!("no data from Amazon for {US} {first}")),
        "{message}"
    );
}

on_both_engines!(a_redelivered_task_polls_the_report_it_already_requested);

async fn a_redelivered_task_polls_the_report_it_already_requested(db: TestDb) {
    let world = World::new(db).await;
    let day = world.today() - Days::new(1);
    let task = world
        .trigger(SyncKind::Business, Some(SyncWindow::day(day)))
        .await;
    let delivery = Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id: task.id.0,
        attempt: 1,
        max_attempts: 4,
    };

    // The first delivery requests the reports (SKU and CHILD per
    // marketplace); they are not ready yet.
    let first = world.engine.handle(delivery.clone()).await;
    assert!(matches!(first, Outcome::Snooze(_)), "{first:?}");
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 4);
    // The worker dies: its lease runs out and the job is delivered again.
    world
        .clock
        .advance(SyncSettings::default().lease + Duration::from_secs(1));
    let (task, _) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 4);
    assert_eq!(
        stored_business(&world, US, day).await,
        expected_business(&world, US, day)
    );
}

on_both_engines!(a_delivery_for_a_finished_or_leased_task_changes_nothing);

async fn a_delivery_for_a_finished_or_leased_task_changes_nothing(db: TestDb) {
    let world = World::with(db, QueueOn::Database, Default::default(), SyncSettings::default()).await;
    let task = world.trigger(SyncKind::Inventory, None).await;
    let delivery = Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id: task.id.0,
        attempt: 1,
        max_attempts: 4,
    };
    assert!(matches!(
        world.engine.handle(delivery.clone()).await,
        Outcome::Snooze(_)
    ));
    // A duplicate delivery while the first one's lease holds: it waits.
    let duplicate = world.engine.handle(delivery.clone()).await;
    assert!(matches!(duplicate, Outcome::Snooze(_)), "{duplicate:?}");
    let (task, _) = world.drive(task.id).await;
    assert_success(&task);

    let late = world.engine.handle(delivery).await;
    assert!(matches!(late, Outcome::Done), "{late:?}");
    assert_eq!(world.task(task.id).await, task);
}

on_both_engines!(a_snoozed_task_is_not_claimed_by_a_duplicate_delivery_before_its_time);

async fn a_snoozed_task_is_not_claimed_by_a_duplicate_delivery_before_its_time(db: TestDb) {
    let world = World::new(db).await;
    let poll_delay = SyncSettings::default().poll_delay;
    let task = world.trigger(SyncKind::Inventory, None).await;
    let delivery = |id| Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id,
        attempt: 1,
        max_attempts: 4,
    };

    // The reports are not ready: the lease is given up until the next poll.
    let first = world.engine.handle(delivery(task.id.0)).await;
    assert!(
        matches!(first, Outcome::Snooze(d) if d == poll_delay),
        "{first:?}"
    );
    let snoozed = world.task(task.id).await;
    let next_poll = world.clock.0.now() + chrono::TimeDelta::from_std(poll_delay).expect("small");
    assert_eq!(snoozed.status, TaskStatus::Running);
    assert_eq!(snoozed.lease_owner, None);
    assert_eq!(snoozed.next_attempt_at, Some(next_poll));

    // A duplicate delivery halfway through is refused the claim and told to
    // come back at the next poll.
    world.clock.advance(poll_delay / 2);
    let duplicate = world.engine.handle(delivery(ulid::Ulid::generate())).await;
    assert!(
        matches!(duplicate, Outcome::Snooze(d) if d == poll_delay / 2),
        "{duplicate:?}"
    );
    assert_eq!(world.task(task.id).await.attempt, snoozed.attempt);

    // At its time the follow-up delivery claims it at once, well before the
    // claim's lease would have expired.
    assert!(poll_delay < SyncSettings::default().lease);
    world.clock.advance(poll_delay / 2);
    let (task, _) = world.drive(task.id).await;
    assert_success(&task);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
}
