//! FR-1's backfill: an inventory window before today is synced from the
//! daily inventory ledger, stored per day beside (never over) the snapshots.

use amzsync_amazon_sim::Operation;
use amzsync_db::{LedgerRow, Scope};
use amzsync_domain::{SyncKind, SyncWindow, Trigger};
use amzsync_sync::TriggerError;
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Days, NaiveDate};

use crate::harness::{CA, SELLER, US, World, assert_success};
use crate::inventory::{expected_inventory, stored_inventory};

/// The simulator's daily ledger of a marketplace and day, as our rows.
fn expected_ledger(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<LedgerRow> {
    let mut rows: Vec<LedgerRow> = world
        .sim
        .truth()
        .ledger(SELLER, marketplace_id, day)
        .expect("the seller sells there")
        .into_iter()
        .map(|t| LedgerRow {
            store_id: world.store.id,
            marketplace_id: marketplace_id.to_owned(),
            date: t.date,
            sku: t.msku,
            fnsku: t.fnsku,
            disposition: t.disposition.to_owned(),
            location: t.location,
            asin: Some(t.asin),
            title: Some(t.title),
            starting_warehouse_balance: t.starting_warehouse_balance,
            in_transit_between_warehouses: Some(t.in_transit_between_warehouses),
            receipts: Some(t.receipts),
            customer_shipments: Some(t.customer_shipments),
            customer_returns: Some(t.customer_returns),
            vendor_returns: Some(t.vendor_returns),
            warehouse_transfer_in_out: Some(t.warehouse_transfer_in_out),
            found: Some(t.found),
            lost: Some(t.lost),
            damaged: Some(t.damaged),
            disposed: Some(t.disposed),
            other_events: Some(t.other_events),
            ending_warehouse_balance: t.ending_warehouse_balance,
            unknown_events: Some(t.unknown_events),
        })
        .collect();
    rows.sort_by(|a, b| (&a.sku, &a.fnsku, &a.disposition).cmp(&(&b.sku, &b.fnsku, &b.disposition)));
    rows
}

async fn stored_ledger(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<LedgerRow> {
    let mut rows: Vec<LedgerRow> = world
        .db
        .snapshots()
        .ledger_between(world.store.id, day, day, Some(marketplace_id))
        .await
        .expect("reading the ledger")
        .into_iter()
        .map(|s| s.row)
        .collect();
    rows.sort_by(|a, b| (&a.sku, &a.fnsku, &a.disposition).cmp(&(&b.sku, &b.fnsku, &b.disposition)));
    rows
}

on_both_engines!(an_inventory_backfill_stores_every_days_ledger_exactly_beside_the_snapshot);

async fn an_inventory_backfill_stores_every_days_ledger_exactly_beside_the_snapshot(db: TestDb) {
    let world = World::new(db).await;
    let snapshot = world.trigger(SyncKind::Inventory, None).await;
    assert_success(&world.drive(snapshot.id).await.0);
    let creates = world.sim.stats(SELLER, Operation::CreateReport).calls;
    // 33 days: more than one ledger report's 31, so two per marketplace.
    let last = world.today() - Days::new(1);
    let window = SyncWindow::new(last - Days::new(32), last).expect("ordered window");

    let task = world.trigger(SyncKind::Inventory, Some(window)).await;
    let (task, trace) = world.drive(task.id).await;

    assert_success(&task);
    assert!(trace.retries.is_empty(), "{trace:?}");
    let mut total = 0;
    let mut damaged = 0;
    for day in window.iter_days() {
        for marketplace in [US, CA] {
            let expected = expected_ledger(&world, marketplace, day);
            assert!(!expected.is_empty(), "{marketplace} {day} has stock");
            assert_eq!(
                stored_ledger(&world, marketplace, day).await,
                expected,
                "{marketplace} {day}"
            );
            damaged += expected.iter().filter(|r| r.disposition != "SELLABLE").count();
            total += expected.len();
        }
    }
    assert!(damaged > 0, "unsellable dispositions are rows of their own");
    assert_eq!(task.records_synced, i64::try_from(total).expect("small"));
    assert_eq!(task.records_failed, 0);
    assert_eq!((task.progress_done, task.progress_total), (4, 4));
    assert_eq!(
        world.sim.stats(SELLER, Operation::CreateReport).calls,
        creates + 4
    );
    // The ledger has no row for a day outside the window, and the snapshot of
    // today is as the snapshot sync left it.
    assert!(stored_ledger(&world, US, world.today()).await.is_empty());
    assert!(
        stored_ledger(&world, US, window.start() - Days::new(1))
            .await
            .is_empty()
    );
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
    assert_eq!(stored_inventory(&world, CA).await, expected_inventory(&world, CA));
}

on_both_engines!(an_inventory_window_reaching_today_is_refused_with_the_last_ledger_day);

async fn an_inventory_window_reaching_today_is_refused_with_the_last_ledger_day(db: TestDb) {
    let world = World::new(db).await;
    let today = world.today();
    let window = SyncWindow::new(today - Days::new(3), today).expect("ordered window");

    let refused = world
        .engine
        .trigger(
            Scope::All,
            world.store.id,
            SyncKind::Inventory,
            Some(window),
            Trigger::Manual,
        )
        .await;

    match refused {
        Err(TriggerError::InvalidWindow(message)) => {
            let last = today - Days::new(1);
            assert!(message.contains(&format!("ending by {last}")), "{message}");
        }
        other => panic!("expected an invalid window, got {other:?}"),
    }
    assert_eq!(world.sim.stats(SELLER, Operation::CreateReport).calls, 0);
}
