//! FR-1: the day's FBA inventory of every marketplace, exactly as Amazon has it.

use amzsync_amazon_sim::Operation;
use amzsync_db::{InventoryRow, Snapshots};
use amzsync_domain::SyncKind;
use amzsync_test_support::{TestDb, on_both_engines};

pub use crate::compare::{expected_inventory, stored_inventory};
use crate::harness::{CA, SELLER, US, World, assert_success};

on_both_engines!(inventory_sync_stores_every_marketplaces_snapshot_exactly);

async fn inventory_sync_stores_every_marketplaces_snapshot_exactly(db: TestDb) {
    let world = World::new(db).await;

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    let us = expected_inventory(&world, US);
    let ca = expected_inventory(&world, CA);
    assert_eq!((us.len(), ca.len()), (12, 5));
    assert_eq!(stored_inventory(&world, US).await, us);
    assert_eq!(stored_inventory(&world, CA).await, ca);
    assert_eq!(task.records_synced, 17);
    assert_eq!(task.records_failed, 0);
    assert_eq!(task.retry_count, 0);
    assert_eq!((task.progress_done, task.progress_total), (2, 2));
    assert_eq!(
        (task.window_start, task.window_end),
        (Some(world.today()), Some(world.today()))
    );
    // Each report takes two polls before it is done: the task waited, twice.
    assert!(trace.snoozes >= 2, "{trace:?}");
    assert!(trace.retries.is_empty(), "{trace:?}");
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 2);
}

on_both_engines!(a_second_sync_of_the_day_upserts_without_duplicates);

async fn a_second_sync_of_the_day_upserts_without_duplicates(db: TestDb) {
    let world = World::new(db).await;
    let first = world.trigger(SyncKind::Inventory, None).await;
    assert_success(&world.drive(first.id).await.0);

    let second = world.trigger(SyncKind::Inventory, None).await;
    let (second, _) = world.drive(second.id).await;

    assert_success(&second);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
    assert_eq!(stored_inventory(&world, CA).await.len(), 5);
}

on_both_engines!(a_sku_gone_from_the_inventory_leaves_the_days_snapshot);

async fn a_sku_gone_from_the_inventory_leaves_the_days_snapshot(db: TestDb) {
    let world = World::new(db).await;
    // A SKU today's snapshot held earlier (say, before the seller removed
    // the listing), and yesterday's snapshot of it, which is history.
    let gone = |date| InventoryRow {
        sku: "REMOVED-LISTING".into(),
        date,
        ..expected_inventory(&world, US)[0].clone()
    };
    let yesterday = world.today() - chrono::Days::new(1);
    let mut tx = world.db.begin().await.expect("a transaction");
    Snapshots::upsert_inventory(&mut tx, &[gone(world.today()), gone(yesterday)])
        .await
        .expect("storing the old rows");
    tx.commit().await.expect("committing");

    let task = world.trigger(SyncKind::Inventory, None).await;
    assert_success(&world.drive(task.id).await.0);

    // Today's report is the whole day: the SKU it no longer lists is gone
    // from today, and yesterday is untouched.
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
    let kept = world
        .db
        .snapshots()
        .inventory_on(world.store.id, yesterday, Some(US))
        .await
        .expect("reading yesterday");
    assert_eq!(kept.len(), 1, "{kept:?}");
}
