//! The archival job: queued once per daily tick however often the scheduler
//! passes, and moving exactly the rows older than the retention.

use amzsync_db::{InventoryRow, Snapshots};
use amzsync_domain::{ManualClock, StoreId};
use amzsync_jobs::{Delivery, Enqueued, Job, Outcome};
use amzsync_sync::{HousekeepingSettings, job_kinds};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use chrono::{Days, NaiveDate, TimeDelta, Utc};
use ulid::Ulid;

use crate::support::{engine, now};

on_both_engines!(the_daily_archive_job_is_queued_once_and_moves_only_rows_older_than_the_retention,);

fn row(store: StoreId, date: NaiveDate, sku: &str) -> InventoryRow {
    InventoryRow {
        store_id: store,
        marketplace_id: "ATVPDKIKX0DER".into(),
        date,
        sku: sku.into(),
        asin: None,
        fnsku: None,
        product_name: Some("Mug".into()),
        condition: None,
        fulfillable_quantity: 5,
        inbound_working_quantity: 1,
        inbound_shipped_quantity: 0,
        inbound_receiving_quantity: 0,
        reserved_quantity: 0,
        unfulfillable_quantity: 0,
        researching_quantity: 0,
        total_quantity: 6,
    }
}

async fn the_daily_archive_job_is_queued_once_and_moves_only_rows_older_than_the_retention(t: TestDb) {
    // The queue's own timestamps are the wall clock's: keep the engine near it.
    let clock = ManualClock::new(Utc::now());
    let engine = engine(&t, &clock, |b| {
        b.housekeeping(HousekeepingSettings {
            archive_batch: 2,
            ..HousekeepingSettings::default()
        })
    })
    .await;
    let db = engine.db().clone();
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await.id;
    let today = now(&clock).date_naive();
    let ago = |days: u64| today.checked_sub_days(Days::new(days)).expect("a valid date");
    let rows = [
        row(store, ago(120), "A"),
        row(store, ago(91), "A"),
        row(store, ago(91), "B"),
        row(store, ago(90), "A"),
        row(store, ago(1), "A"),
    ];
    let mut tx = db.begin().await.expect("a transaction");
    Snapshots::upsert_inventory(&mut tx, &rows).await.expect("stored");
    tx.commit().await.expect("committed");

    // Any day-long window holds the daily tick; two passes (or two
    // schedulers) queue it once.
    let after = now(&clock) - TimeDelta::days(1);
    let first = engine.housekeeping(after, now(&clock)).await;
    assert!(matches!(first.archival, Some(Enqueued::Added(_))), "{first:?}");
    let second = engine.housekeeping(after, now(&clock)).await;
    assert_eq!(second.archival, Some(Enqueued::Duplicate));
    // The queue was sampled on each pass and holds the one job.
    let stats = second.queue.expect("the queue was sampled");
    assert_eq!(stats.pending + stats.scheduled + stats.running, 1, "{stats:?}");

    // The delivery moves the rows dated before today - 90 days.
    let delivery = Delivery {
        job: Job::new(job_kinds::ARCHIVE, Ulid::generate()),
        id: Ulid::generate(),
        attempt: 1,
        max_attempts: 4,
    };
    assert!(matches!(engine.handle(delivery).await, Outcome::Done));
    let archive = db.archive();
    let table = amzsync_db::ArchivedTable::InventorySnapshots;
    assert_eq!(
        archive.count_older_than(table, ago(90)).await.expect("counted"),
        0
    );
    assert_eq!(archive.count_older_than(table, today).await.expect("counted"), 2);
    for (date, expected) in [(ago(120), 1), (ago(91), 2), (ago(90), 1), (ago(1), 1)] {
        let read = db
            .snapshots()
            .inventory_on(store, date, None)
            .await
            .expect("read");
        assert_eq!(read.len(), expected, "{date}");
        assert!(read.iter().all(|r| rows.contains(&r.row)));
    }

    // Again: nothing left to move.
    let report = engine.run_archival(90).await.expect("archived");
    assert_eq!(report.total(), 0);
    assert_eq!(report.cutoff, ago(90));
}
