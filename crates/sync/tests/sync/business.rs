//! FR-2: Sales & Traffic per SKU per day, and per child ASIN per day, from a
//! pair of reports (SKU and CHILD granularity) per marketplace and day.

use std::time::Duration;

use amzsync_amazon_sim::Operation;
use amzsync_db::Scope;
use amzsync_domain::{SyncKind, SyncWindow, Trigger};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::checkpoint::Checkpoint;
use amzsync_sync::{SyncSettings, job_kinds};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Days, NaiveDate};

pub use crate::compare::{expected_asins, expected_business, stored_asins, stored_business};
use crate::harness::{CA, SELLER, US, World, assert_success};

on_both_engines!(a_multi_day_business_sync_stores_every_sku_of_every_day_exactly);

async fn a_multi_day_business_sync_stores_every_sku_of_every_day_exactly(db: TestDb) {
    let world = World::new(db).await;
    let last = world.today() - Days::new(1);
    let window = SyncWindow::new(last - Days::new(2), last).expect("ordered window");

    let task = world.trigger(SyncKind::Business, Some(window)).await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    let mut total = 0;
    let mut browsed_not_bought = 0;
    for day in window.iter_days() {
        for marketplace in [US, CA] {
            let expected = expected_business(&world, marketplace, day);
            assert!(
                !expected.is_empty(),
                "the simulator sells something on {day} in {marketplace}"
            );
            assert_eq!(
                stored_business(&world, marketplace, day).await,
                expected,
                "{marketplace} {day}"
            );
            let asins = expected_asins(&world, marketplace, day);
            assert_eq!(
                stored_asins(&world, marketplace, day).await,
                asins,
                "child ASINs of {marketplace} {day}"
            );
            browsed_not_bought += asins
                .iter()
                .filter(|a| a.metrics.units_ordered == 0 && a.metrics.sessions > 0)
                .count();
            total += expected.len() + asins.len();
        }
    }
    // What the SKU report cannot tell and the CHILD report is requested for.
    assert!(browsed_not_bought > 0, "some ASIN had traffic without orders");
    assert_eq!(task.records_synced, i64::try_from(total).expect("small"));
    assert_eq!((task.progress_done, task.progress_total), (6, 6));
    assert!(trace.retries.is_empty(), "{trace:?}");
    // Two reports (SKU and CHILD) per marketplace and day, and no more.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 12);
    assert_eq!(world.sim.stats(SELLER, Operation::GetReportDocument).calls, 12);
}

on_both_engines!(a_task_checkpointed_before_child_asin_reports_requests_them_and_finishes);

/// A business task planned by the previous version (units requested with
/// their SKU report only) requests each day's CHILD report when it resumes.
async fn a_task_checkpointed_before_child_asin_reports_requests_them_and_finishes(db: TestDb) {
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
    let first = world.engine.handle(delivery).await;
    assert!(matches!(first, Outcome::Snooze(_)), "{first:?}");
    // As the previous version left it: SKU reports requested, no CHILD ones.
    let mut checkpoint = world.task(task.id).await.checkpoint;
    for unit in checkpoint["units"].as_array_mut().expect("units") {
        assert_eq!(unit["state"], "requested", "{unit}");
        unit.as_object_mut()
            .expect("a unit")
            .remove("child_report_id")
            .expect("requested with its CHILD report");
    }
    world
        .db
        .sync_tasks()
        .record_progress(task.id, None, 0, 2, None, &checkpoint)
        .await
        .expect("checkpoint written");
    // Past the reuse window: the CHILD reports just made are not found again,
    // as the previous version's would not have existed.
    world
        .clock
        .advance(SyncSettings::default().report_reuse_within + Duration::from_secs(60));
    let before = world.sim.stats(SELLER, Operation::CreateReport).calls;

    let (task, _) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(
        world.sim.stats(SELLER, Operation::CreateReport).calls,
        before + 2,
        "a CHILD report per unit, the SKU reports polled as checkpointed"
    );
    assert_day_exact(&world, day).await;
}

/// Both reports' rows of `day` in both marketplaces equal the simulator's
/// truth.
pub async fn assert_day_exact(world: &World, day: NaiveDate) {
    for marketplace in [US, CA] {
        assert_eq!(
            stored_business(world, marketplace, day).await,
            expected_business(world, marketplace, day),
            "{marketplace} {day}"
        );
        assert_eq!(
            stored_asins(world, marketplace, day).await,
            expected_asins(world, marketplace, day),
            "{marketplace} {day}"
        );
    }
}

/// Every stored row of `days` in both marketplaces equals the simulator's
/// truth as of now.
async fn assert_all_exact(world: &World, days: SyncWindow) {
    for day in days.iter_days() {
        for marketplace in [US, CA] {
            assert_eq!(
                stored_business(world, marketplace, day).await,
                expected_business(world, marketplace, day),
                "{marketplace} {day}"
            );
        }
    }
}

fn checkpoint(task: &amzsync_db::SyncTask) -> Checkpoint {
    Checkpoint::read(&task.checkpoint)
        .expect("a readable checkpoint")
        .expect("a planned task")
}

on_both_engines!(a_second_manual_month_requests_only_the_days_that_are_not_final);

async fn a_second_manual_month_requests_only_the_days_that_are_not_final(db: TestDb) {
    let world = World::new(db).await;
    let yesterday = world.today() - Days::new(1);
    let month = SyncWindow::new(yesterday - Days::new(29), yesterday).expect("ordered window");
    let (first, _) = world
        .drive(world.trigger(SyncKind::Business, Some(month)).await.id)
        .await;
    assert_success(&first);
    // Two reports (by SKU and by child ASIN) per marketplace and day.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 120);

    // A day later, the same month again. Days 7 or more days old when the
    // first task fetched them were final then; the 6 younger ones may have
    // been restated since.
    world.clock.advance(Duration::from_secs(24 * 3600));
    let (second, _) = world
        .drive(world.trigger(SyncKind::Business, Some(month)).await.id)
        .await;

    assert_success(&second);
    assert_eq!(
        world.sim.stats(SELLER, Operation::CreateReport).calls,
        120 + 24,
        "two reports per marketplace for each of the 6 days that were not final"
    );
    let plan = checkpoint(&second);
    let requested: Vec<NaiveDate> = plan.units.iter().map(|u| u.date).collect();
    let mut expected_days: Vec<NaiveDate> = (0..6)
        .flat_map(|i| {
            let day = yesterday - Days::new(5 - i);
            [day, day]
        })
        .collect();
    expected_days.sort();
    assert_eq!(requested, expected_days);
    assert_eq!(plan.skipped_final_days, 48);
    assert_eq!((second.progress_done, second.progress_total), (12, 12));
    let message = second.progress_message.clone().unwrap_or_default();
    assert!(
        message.contains("48 days already final and synced, not requested again"),
        "{message}"
    );
    // Honest counts: only the rows the second task wrote.
    let mut written = 0;
    for day in requested.iter().step_by(2) {
        for marketplace in [US, CA] {
            written += expected_business(&world, marketplace, *day).len()
                + expected_asins(&world, marketplace, *day).len();
        }
    }
    assert_eq!(second.records_synced, i64::try_from(written).expect("small"));
    assert_all_exact(&world, month).await;
}

on_both_engines!(a_later_run_restates_the_lookback_to_the_new_truth);

async fn a_later_run_restates_the_lookback_to_the_new_truth(db: TestDb) {
    let world = World::restating(db, 7).await;
    let (first, _) = world
        .drive(world.trigger(SyncKind::Business, None).await.id)
        .await;
    assert_success(&first);
    let provisional_day = world.today() - Days::new(1);
    let before = stored_business(&world, US, provisional_day).await;
    assert_eq!(before, expected_business(&world, US, provisional_day));

    world.clock.advance(Duration::from_secs(24 * 3600));
    let yesterday = world.today() - Days::new(1);
    let later = world.trigger(SyncKind::Business, None).await;
    assert_eq!(
        (later.window_start, later.window_end),
        (Some(yesterday - Days::new(6)), Some(yesterday)),
        "the lookback: the day before it was fetched when it was already final"
    );
    let (later, _) = world.drive(later.id).await;

    assert_success(&later);
    assert_eq!(later.progress_total, 14);
    let after = stored_business(&world, US, provisional_day).await;
    assert_ne!(after, before, "Amazon restated a day of the lookback");
    let backfilled = SyncWindow::new(yesterday - Days::new(30), yesterday).expect("ordered window");
    assert_all_exact(&world, backfilled).await;
}

on_both_engines!(a_scheduler_that_was_down_catches_up_every_day_it_missed);

async fn a_scheduler_that_was_down_catches_up_every_day_it_missed(db: TestDb) {
    let world = World::restating(db, 7).await;
    let first_today = world.today();
    let (first, _) = world
        .drive(world.trigger(SyncKind::Business, None).await.id)
        .await;
    assert_success(&first);

    // Ten days without a sync: the first run's 6 youngest days became final
    // without being fetched again, and ten days were never fetched.
    world.clock.advance(Duration::from_secs(10 * 24 * 3600));
    let yesterday = world.today() - Days::new(1);
    let later = world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Business,
            None,
            Trigger::Scheduled,
        )
        .await
        .expect("the scheduled trigger is accepted");
    assert_eq!(
        (later.window_start, later.window_end),
        (Some(first_today - Days::new(6)), Some(yesterday))
    );
    let (later, _) = world.drive(later.id).await;

    assert_success(&later);
    assert_eq!(later.progress_total, 2 * 16);
    assert_eq!(checkpoint(&later).skipped_final_days, 0);
    let everything = SyncWindow::new(first_today - Days::new(30), yesterday).expect("ordered window");
    assert_all_exact(&world, everything).await;
}

on_both_engines!(a_window_of_final_synced_days_succeeds_without_asking_amazon);

async fn a_window_of_final_synced_days_succeeds_without_asking_amazon(db: TestDb) {
    let world = World::new(db).await;
    let last = world.today() - Days::new(10);
    let old = SyncWindow::new(last - Days::new(2), last).expect("ordered window");
    let (first, _) = world
        .drive(world.trigger(SyncKind::Business, Some(old)).await.id)
        .await;
    assert_success(&first);
    let calls = world.sim.stats(SELLER, Operation::CreateReport).calls;

    world.clock.advance(Duration::from_secs(3600));
    let (again, _) = world
        .drive(world.trigger(SyncKind::Business, Some(old)).await.id)
        .await;

    assert_success(&again);
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, calls);
    assert_eq!((again.records_synced, again.records_failed), (0, 0));
    assert_eq!((again.progress_done, again.progress_total), (0, 0));
    assert_eq!(
        again.progress_message.as_deref(),
        Some("0 rows from 0 of 0 reports; 6 days already final and synced, not requested again")
    );
    assert_all_exact(&world, old).await;
}
