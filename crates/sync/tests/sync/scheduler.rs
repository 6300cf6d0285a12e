//! FR-4: cron ticks become one job per store and kind, however many
//! schedulers run; a tick's job triggers a scheduled sync.

use amzsync_db::{Scope, StoreStatus, SyncTaskFilter};
use amzsync_domain::{Marketplace, Region, SyncKind, TaskStatus, Trigger};
use amzsync_jobs::{Delivery, Job, Outcome};
use amzsync_sync::{MARKETPLACE_TIME_ZONE, ScheduleSettings, SyncSettings, TickReport, job_kinds};
use amzsync_test_support::{TestDb, create_store, new_store, new_user, on_both_engines};
use chrono::{TimeDelta, TimeZone, Utc};
use ulid::Ulid;

use crate::harness::{QueueOn, World, wait_for};

on_both_engines!(two_schedulers_enqueue_each_tick_once_for_each_schedulable_store);

async fn two_schedulers_enqueue_each_tick_once_for_each_schedulable_store(db: TestDb) {
    let world = World::new(db).await;
    let owner = world.store.user_id;
    let inactive = create_store(&world.db, owner, "A1INACTIVE").await;
    world
        .db
        .stores()
        .set_active(Scope::All, inactive.id, false)
        .await
        .expect("deactivating");
    let paused = create_store(&world.db, owner, "A1PAUSED").await;
    world
        .db
        .stores()
        .set_status(paused.id, StoreStatus::NeedsReauth, Some("revoked"))
        .await
        .expect("pausing");
    let other_user = new_user(&world.db, "seller-two").await;
    create_store(&world.db, other_user.id, "A1SECOND").await;
    let scheduler_a = world.engine.clone();
    let scheduler_b = world.second_engine();
    // The scheduler was down over night and starts at 09:00 UTC: inventory
    // (02:00), business (02:30) and advertising (03:00) ticks were missed
    // once each.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 10, 9, 0, 0)
        .single()
        .expect("valid");
    let after = now - TimeDelta::days(1);

    let a = scheduler_a.enqueue_due_ticks(after, now).await.expect("a pass");
    let b = scheduler_b.enqueue_due_ticks(after, now).await.expect("a pass");

    // Two schedulable stores × three kinds.
    assert_eq!(
        a,
        TickReport {
            enqueued: 6,
            duplicates: 0
        }
    );
    assert_eq!(
        b,
        TickReport {
            enqueued: 0,
            duplicates: 6
        }
    );
    let pending = world
        .queue
        .stats(chrono::Utc::now())
        .await
        .expect("stats")
        .pending;
    assert_eq!(pending, 6);
    // Only the latest missed tick is caught up: two days of downtime still
    // add nothing new for yesterday's ticks.
    let again = scheduler_a
        .enqueue_due_ticks(now - TimeDelta::days(2), now)
        .await
        .expect("a pass");
    assert_eq!(
        again,
        TickReport {
            enqueued: 0,
            duplicates: 6
        }
    );
    // Nothing is due between ticks.
    let quiet = scheduler_b
        .enqueue_due_ticks(now, now + TimeDelta::hours(1))
        .await
        .expect("a pass");
    assert_eq!(quiet, TickReport::default());
}

on_both_engines!(a_tick_job_starts_a_scheduled_sync_unless_one_is_running);

async fn a_tick_job_starts_a_scheduled_sync_unless_one_is_running(db: TestDb) {
    let world = World::new(db).await;
    // Reports that take far longer than the test: every sync stays running.
    world.sim.set_report_polls(1_000);
    let manual = world.trigger(SyncKind::Inventory, None).await;
    let now = world.sim.now();
    world
        .engine
        .enqueue_due_ticks(now - TimeDelta::days(1), now)
        .await
        .expect("a pass");

    // Real workers run the tick jobs and the syncs they start, until only
    // snoozed follow-ups are left in the queue.
    let (shutdown, worker) = world.start_workers();
    let store = world.store.id;
    let scheduled = wait_for(|| async {
        let stats = world.queue.stats(chrono::Utc::now()).await.expect("stats");
        let business = world
            .db
            .sync_tasks()
            .latest(Scope::All, store, SyncKind::Business, None)
            .await
            .expect("reading tasks")?;
        (stats.pending == 0 && stats.running == 0 && business.status == TaskStatus::Running)
            .then_some(business)
    })
    .await;
    shutdown.cancel();
    worker.await.expect("no panic").expect("the worker stops cleanly");

    assert_eq!(scheduled.trigger, Trigger::Scheduled);
    // The inventory tick found the manual sync running and did nothing.
    let inventory = world
        .db
        .sync_tasks()
        .list(
            Scope::All,
            &SyncTaskFilter {
                store_id: Some(store),
                kind: Some(SyncKind::Inventory),
                status: None,
            },
            1,
            10,
        )
        .await
        .expect("listing");
    assert_eq!(inventory.total, 1, "{:?}", inventory.items);
    assert_eq!(inventory.items[0].id, manual.id);
    assert_eq!(inventory.items[0].status, TaskStatus::Running);
}

on_both_engines!(a_tick_delivered_again_after_its_sync_finished_starts_no_second_sync);

/// Found by the chaos suite's reasoning: a worker killed after the tick's
/// trigger committed but before the queue heard of it has the tick delivered
/// again, once its sync may be finished; that must not start a second one.
async fn a_tick_delivered_again_after_its_sync_finished_starts_no_second_sync(db: TestDb) {
    let world = World::new(db).await;
    let store = world.store.id;
    let tick = world.sim.now() - TimeDelta::minutes(1);
    let job = Job::new(job_kinds::SCHEDULED_SYNC, Ulid::generate())
        .with_args(&serde_json::json!({ "store_id": store, "kind": SyncKind::Inventory, "tick": tick }))
        .expect("tick arguments");
    let delivery = Delivery {
        job,
        id: Ulid::generate(),
        attempt: 1,
        max_attempts: 4,
    };

    assert!(matches!(
        world.engine.handle(delivery.clone()).await,
        Outcome::Done
    ));
    let first = world
        .db
        .sync_tasks()
        .latest(Scope::All, store, SyncKind::Inventory, None)
        .await
        .expect("reading tasks")
        .expect("the tick started a sync");
    let (first, _) = world.drive(first.id).await;
    assert_eq!(first.status, TaskStatus::Success);
    let again = world.engine.handle(delivery).await;

    assert!(matches!(again, Outcome::Done), "{again:?}");
    let tasks = world
        .db
        .sync_tasks()
        .list(
            Scope::All,
            &SyncTaskFilter {
                store_id: Some(store),
                kind: Some(SyncKind::Inventory),
                status: None,
            },
            1,
            10,
        )
        .await
        .expect("listing");
    assert_eq!(tasks.total, 1, "one sync for one tick: {:?}", tasks.items);
}

on_both_engines!(crons_in_each_stores_own_zone_tick_at_its_own_night);

/// `sync.time_zone = "marketplace"`: 02:00 is each store's own night, so a
/// German store syncs hours before a US one, each after its own day; a store
/// selling in Germany and Britain waits for the British night, when both
/// days are over.
async fn crons_in_each_stores_own_zone_tick_at_its_own_night(db: TestDb) {
    let settings = SyncSettings {
        schedule: ScheduleSettings {
            time_zone: MARKETPLACE_TIME_ZONE.to_owned(),
            ..ScheduleSettings::default()
        },
        ..SyncSettings::default()
    };
    let world = World::with(db, QueueOn::Database, Default::default(), settings).await;
    let owner = world.store.user_id;
    let europe = |seller: &str, marketplaces: &[&str]| {
        let mut store = new_store(owner, seller);
        store.region = Region::Eu;
        store.marketplaces = marketplaces
            .iter()
            .map(|id| Marketplace::by_id(id).expect("a known marketplace"))
            .collect();
        store
    };
    let german = world
        .db
        .stores()
        .create(europe("A1GERMAN", &[DE]))
        .await
        .expect("a German store");
    world
        .db
        .stores()
        .create(europe("A1GERMANBRITISH", &[DE, GB]))
        .await
        .expect("a German and British store");
    let inventory_ticks = |day: u32, utc_hour: u32| {
        // Around the hour only: business ticks half an hour later and
        // advertising an hour later (03:00 in Germany is 02:00 UTC).
        let at = Utc
            .with_ymd_and_hms(2026, 3, day, utc_hour, 0, 0)
            .single()
            .expect("valid");
        let engine = world.engine.clone();
        async move {
            engine
                .enqueue_due_ticks(at - TimeDelta::minutes(15), at + TimeDelta::minutes(15))
                .await
                .expect("a pass")
                .enqueued
        }
    };

    // In March, 02:00 in Germany (CET) is 01:00 UTC, in Britain (GMT) 02:00
    // UTC, and in Los Angeles (PDT since 8 March) 09:00 UTC, where Amazon
    // dates the US store's marketplaces (the US and Canada).
    assert_eq!(inventory_ticks(10, 1).await, 1, "the German store's night");
    assert_eq!(inventory_ticks(10, 5).await, 0, "nobody's night");
    assert_eq!(inventory_ticks(10, 9).await, 1, "the US store's night");
    // The German night's tick was the German store's: without it, nothing
    // is due then.
    world
        .db
        .stores()
        .set_active(Scope::All, german.id, false)
        .await
        .expect("deactivating");
    assert_eq!(inventory_ticks(11, 1).await, 0);
    assert_eq!(
        inventory_ticks(11, 2).await,
        1,
        "the British night, for the German and British store"
    );
}

const DE: &str = "A1PA6795UKMFR9";
const GB: &str = "A1F83G8C2ARO7P";
