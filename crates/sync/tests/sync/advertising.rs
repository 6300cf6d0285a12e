//! FR-3: Sponsored Products per SKU per day and the detail tables, from the
//! store's discovered Ads profiles, exactly as the simulator's ground truth.

use std::time::Duration;

use amzsync_amazon_sim::{AdsReportOutcome, Operation};
use amzsync_db::{NewStore, Scope};
use amzsync_domain::{ErrorClass, Marketplace, Region, SyncKind, SyncWindow, Trigger};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::{SyncSettings, TriggerError, job_kinds};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Days, NaiveDate};
use secrecy::SecretString;

use crate::compare::{
    ads_profiles, expected_ad_groups, expected_campaigns, expected_products, expected_search_terms,
    expected_targeting, rows, stored_ad_groups, stored_campaigns, stored_products, stored_search_terms,
    stored_targeting,
};
use crate::harness::{SELLER, US, World, assert_success};

/// Asserts every detail table of the store equals the truth over `from..=to`.
async fn assert_details_exact(world: &World, from: NaiveDate, to: NaiveDate) {
    let expected = expected_campaigns(world, from, to);
    assert!(!expected.is_empty());
    assert_eq!(stored_campaigns(world, from, to).await, expected, "campaigns");
    let expected = expected_ad_groups(world, from, to);
    assert!(!expected.is_empty());
    assert_eq!(stored_ad_groups(world, from, to).await, expected, "ad groups");
    let expected = expected_targeting(world, from, to);
    assert!(!expected.is_empty());
    assert_eq!(stored_targeting(world, from, to).await, expected, "targeting");
    let expected = expected_search_terms(world, from, to);
    assert!(!expected.is_empty());
    assert_eq!(
        stored_search_terms(world, from, to).await,
        expected,
        "search terms"
    );
}

on_both_engines!(the_first_advertising_sync_backfills_thirty_days_exactly);

async fn the_first_advertising_sync_backfills_thirty_days_exactly(db: TestDb) {
    let world = World::new(db).await;
    let yesterday = world.today() - Days::new(1);
    let first = yesterday - Days::new(29);

    let task = world.trigger(SyncKind::Advertising, None).await;
    assert_eq!(
        (task.window_start, task.window_end),
        (Some(first), Some(yesterday))
    );
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert!(trace.retries.is_empty(), "{trace:?}");
    // Two profiles (US, CA), five report types, one window each.
    assert_eq!((task.progress_done, task.progress_total), (10, 10));
    assert_eq!(world.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 10);
    let expected = expected_products(&world, first, yesterday);
    assert!(expected.iter().any(|r| r.marketplace_id == US));
    assert_eq!(rows(stored_products(&world, first, yesterday).await), expected);
    assert_details_exact(&world, first, yesterday).await;
    let recorded = world
        .db
        .ads_profiles()
        .list(world.store.id)
        .await
        .expect("profiles");
    let mut ids: Vec<i64> = ads_profiles(&world).iter().map(|p| p.profile_id).collect();
    ids.sort_unstable();
    assert_eq!(recorded.iter().map(|p| p.profile_id).collect::<Vec<_>>(), ids);
    // The next run re-pulls the lookback.
    let later = world.trigger(SyncKind::Advertising, None).await;
    assert_eq!(later.window_start, Some(yesterday - Days::new(13)));
}

on_both_engines!(a_forty_five_day_window_is_two_reports_per_type_and_profile);

async fn a_forty_five_day_window_is_two_reports_per_type_and_profile(db: TestDb) {
    let world = World::new(db).await;
    let last = world.today() - Days::new(1);
    let window = SyncWindow::new(last - Days::new(44), last).expect("ordered");

    let task = world.trigger(SyncKind::Advertising, Some(window)).await;
    let (task, _) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(task.progress_total, 2 * 5 * 2);
    assert_eq!(world.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 20);
    assert_eq!(
        rows(stored_products(&world, window.start(), last).await),
        expected_products(&world, window.start(), last)
    );
    assert_details_exact(&world, window.start(), last).await;
}

on_both_engines!(a_request_answered_425_reuses_the_report_in_progress);

async fn a_request_answered_425_reuses_the_report_in_progress(db: TestDb) {
    let world = World::new(db).await;
    let day = world.today() - Days::new(1);
    let task = world
        .trigger(SyncKind::Advertising, Some(SyncWindow::day(day)))
        .await;
    let delivery = Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id: task.id.0,
        attempt: 1,
        max_attempts: 4,
    };
    let first = world.engine.handle(delivery).await;
    assert!(matches!(first, Outcome::Snooze(_)), "{first:?}");
    // A crash between createAsyncReport and the checkpoint: the ids are lost.
    let running = world.task(task.id).await;
    let mut checkpoint = running.checkpoint.clone();
    let mut requested = Vec::new();
    for unit in checkpoint["units"].as_array_mut().expect("units") {
        requested.push(unit["report_id"].as_str().expect("requested").to_owned());
        unit["state"] = "planned".into();
        unit.as_object_mut().expect("a unit").remove("report_id");
    }
    world
        .db
        .sync_tasks()
        .record_progress(task.id, None, 0, 10, None, &checkpoint)
        .await
        .expect("rewinding the checkpoint");

    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert!(trace.retries.is_empty(), "{trace:?}");
    // Every report was asked for again and answered 425 with the report in
    // progress, which the task polled instead of a new one.
    assert_eq!(world.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 20);
    let reused: Vec<String> = task.checkpoint["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["report_id"].as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(reused, requested);
    assert_eq!(
        rows(stored_products(&world, day, day).await),
        expected_products(&world, day, day)
    );
}

on_both_engines!(a_failed_ads_report_is_requested_again_after_the_retry_delay);

async fn a_failed_ads_report_is_requested_again_after_the_retry_delay(db: TestDb) {
    let world = World::new(db).await;
    let day = world.today() - Days::new(1);
    world.sim.force_next_ads_report(AdsReportOutcome::Failed);

    let task = world
        .trigger(SyncKind::Advertising, Some(SyncWindow::day(day)))
        .await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert_eq!(trace.retries, [SyncSettings::default().retry_delay], "{trace:?}");
    assert_eq!(task.retry_count, 1);
    assert_eq!(task.trigger, Trigger::Manual);
    assert_eq!(world.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 11);
    assert_eq!(
        rows(stored_products(&world, day, day).await),
        expected_products(&world, day, day)
    );
    assert_details_exact(&world, day, day).await;
}

on_both_engines!(a_failed_ads_report_is_visible_as_report_fatal_while_the_retry_waits);

async fn a_failed_ads_report_is_visible_as_report_fatal_while_the_retry_waits(db: TestDb) {
    let world = World::new(db).await;
    world
        .sim
        .set_ads_report_timing(amzsync_amazon_sim::ReportTiming::Polls(0));
    world.sim.force_next_ads_report(AdsReportOutcome::Failed);
    let task = world
        .trigger(
            SyncKind::Advertising,
            Some(SyncWindow::day(world.today() - Days::new(1))),
        )
        .await;
    let delivery = Delivery {
        job: Job::new(job_kinds::SYNC_TASK, task.id.0),
        id: task.id.0,
        attempt: 1,
        max_attempts: 4,
    };
    let outcome = world.engine.handle(delivery).await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
    let waiting = world.task(task.id).await;
    assert_eq!(waiting.error_class, Some(ErrorClass::ReportFatal));
    assert_eq!(waiting.retry_count, 1);
    assert_eq!(waiting.trigger, Trigger::Manual);
    assert_eq!(waiting.status, amzsync_domain::TaskStatus::Pending);
}

on_both_engines!(a_later_run_restates_the_lookback_and_leaves_final_days_alone);

async fn a_later_run_restates_the_lookback_and_leaves_final_days_alone(db: TestDb) {
    let world = World::new(db).await;
    let first_day = world.today() - Days::new(30);
    let (first, _) = world
        .drive(world.trigger(SyncKind::Advertising, None).await.id)
        .await;
    assert_success(&first);
    let before = stored_products(&world, first_day, world.today()).await;
    let first_today = world.today();

    world.clock.advance(Duration::from_secs(5 * 24 * 3600));
    let yesterday = world.today() - Days::new(1);
    let later = world.trigger(SyncKind::Advertising, None).await;
    // The 14-day lookback, reaching back to the days the first run fetched
    // before they were 14 days old (final): none is left provisional.
    let lookback_start = first_today - Days::new(13);
    assert_eq!(later.window_start, Some(lookback_start));
    let (later, _) = world.drive(later.id).await;
    assert_success(&later);

    // Everything stored equals the truth as of now: the window was
    // re-pulled, and the days before it were already final.
    let after = stored_products(&world, first_day, yesterday).await;
    assert_eq!(
        rows(after.clone()),
        expected_products(&world, first_day, yesterday)
    );
    assert_details_exact(&world, first_day, yesterday).await;
    // Days before the window were not touched; some in it changed.
    let old: Vec<_> = before
        .iter()
        .filter(|s| s.row.date < lookback_start)
        .cloned()
        .collect();
    assert!(!old.is_empty());
    let still: Vec<_> = after
        .iter()
        .filter(|s| s.row.date < lookback_start)
        .cloned()
        .collect();
    assert_eq!(still, old);
    let restated = before
        .iter()
        .filter(|s| s.row.date >= lookback_start)
        .filter(|s| !after.iter().any(|a| a.row == s.row))
        .count();
    assert!(restated > 0, "attribution restated some recent day");
}

on_both_engines!(a_re_pulled_range_drops_what_amazon_no_longer_lists);

/// A search term and a SKU stored for a day that Amazon's re-pulled report no
/// longer lists (restated to nothing) are gone after the re-pull; the same
/// outside the re-pulled days stay.
async fn a_re_pulled_range_drops_what_amazon_no_longer_lists(db: TestDb) {
    let world = World::new(db).await;
    let (first, _) = world
        .drive(world.trigger(SyncKind::Advertising, None).await.id)
        .await;
    assert_success(&first);
    let yesterday = world.today() - Days::new(1);
    let inside = yesterday - Days::new(2);
    let outside = yesterday - Days::new(20);
    let term = |date: NaiveDate| amzsync_db::AdsSearchTermRow {
        date,
        search_term: "restated away".into(),
        ..expected_search_terms(&world, date, date)[0].clone()
    };
    let product = |date: NaiveDate| amzsync_db::AdsMetricRow {
        date,
        sku: "RESTATED-AWAY".into(),
        ..expected_products(&world, date, date)[0].clone()
    };
    let mut tx = world.db.begin().await.expect("a transaction");
    amzsync_db::Snapshots::upsert_ads_search_terms(&mut tx, &[term(inside), term(outside)])
        .await
        .expect("storing the stale terms");
    amzsync_db::Snapshots::upsert_ads(&mut tx, &[product(inside), product(outside)])
        .await
        .expect("storing the stale SKUs");
    tx.commit().await.expect("committing");

    let window = SyncWindow::new(yesterday - Days::new(6), yesterday).expect("an ordered window");
    let (later, _) = world
        .drive(world.trigger(SyncKind::Advertising, Some(window)).await.id)
        .await;
    assert_success(&later);

    let from = window.start();
    assert_eq!(
        stored_search_terms(&world, from, yesterday).await,
        expected_search_terms(&world, from, yesterday)
    );
    assert_eq!(
        rows(stored_products(&world, from, yesterday).await),
        expected_products(&world, from, yesterday)
    );
    let kept = stored_search_terms(&world, outside, outside).await;
    assert!(
        kept.contains(&term(outside)),
        "days outside the re-pull are untouched"
    );
    let kept = rows(stored_products(&world, outside, outside).await);
    assert!(
        kept.contains(&product(outside)),
        "days outside the re-pull are untouched"
    );
}

on_both_engines!(a_store_without_ads_authorization_cannot_sync_advertising);

async fn a_store_without_ads_authorization_cannot_sync_advertising(db: TestDb) {
    let world = World::new(db).await;
    let store = world
        .db
        .stores()
        .create(NewStore {
            user_id: world.store.user_id,
            store_name: "No ads".into(),
            region: Region::Na,
            marketplaces: vec![Marketplace::by_id(US).expect("US is known")],
            seller_id: "A3NOADSSELLER".into(),
            sp_api_refresh_token: SecretString::from("Atzr|sp".to_owned()),
            advertising_api_refresh_token: None,
            sp_api_client_id: None,
            sp_api_client_secret: None,
            business_lookback_days: None,
            ads_lookback_days: None,
        })
        .await
        .expect("creating the store");

    let refused = world
        .engine
        .trigger(Scope::All, store.id, SyncKind::Advertising, None, Trigger::Manual)
        .await;

    assert!(
        matches!(
            refused,
            Err(TriggerError::Unsupported {
                kind: SyncKind::Advertising,
                ..
            })
        ),
        "{refused:?}"
    );
}

on_both_engines!(a_second_manual_month_requests_only_the_ads_days_that_are_not_final);

async fn a_second_manual_month_requests_only_the_ads_days_that_are_not_final(db: TestDb) {
    let world = World::new(db).await;
    let yesterday = world.today() - Days::new(1);
    let month = SyncWindow::new(yesterday - Days::new(29), yesterday).expect("ordered");
    let (first, _) = world
        .drive(world.trigger(SyncKind::Advertising, Some(month)).await.id)
        .await;
    assert_success(&first);
    assert_eq!(world.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 10);

    // A day later, the same month: the 17 days that were 14 or more days
    // old when fetched are final; the 13 younger ones are fetched again, in
    // one report per type and profile.
    world.clock.advance(Duration::from_secs(24 * 3600));
    let (second, _) = world
        .drive(world.trigger(SyncKind::Advertising, Some(month)).await.id)
        .await;

    assert_success(&second);
    assert_eq!(
        world.sim.stats(SELLER, Operation::CreateAsyncReport).calls,
        10 + 10
    );
    let plan = amzsync_sync::checkpoint::Checkpoint::read(&second.checkpoint)
        .expect("readable")
        .expect("planned");
    let fresh = yesterday - Days::new(12);
    assert!(
        plan.units
            .iter()
            .all(|u| (u.date, u.end) == (fresh, Some(yesterday))),
        "{:?}",
        plan.units
    );
    assert_eq!(plan.skipped_final_days, 2 * 17);
    let message = second.progress_message.clone().unwrap_or_default();
    assert!(message.contains("34 days already final and synced"), "{message}");
    assert_eq!(
        rows(stored_products(&world, month.start(), yesterday).await),
        expected_products(&world, month.start(), yesterday)
    );
    assert_details_exact(&world, month.start(), yesterday).await;
}
