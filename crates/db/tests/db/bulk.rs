//! Bulk upsert of snapshot rows: inserts, identical and changed re-upserts and
//! mixed batches leave exactly one row per key with the latest values.

use std::sync::Arc;

use amzsync_db::{AdsMetricRow, BusinessMetricRow, InventoryRow, SalesTrafficMetrics, Snapshots};
use amzsync_domain::{ManualClock, StoreId};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

on_both_engines!(
    inventory_upserts_insert_update_and_never_duplicate,
    decimals_and_optional_values_round_trip_exactly,
    a_rolled_back_upsert_leaves_nothing,
);

fn day() -> NaiveDate {
    "2024-05-01".parse().unwrap()
}

fn inventory(store: StoreId, n: usize, fulfillable: i64) -> InventoryRow {
    InventoryRow {
        store_id: store,
        marketplace_id: "ATVPDKIKX0DER".into(),
        date: day(),
        sku: format!("SKU-{n:05}"),
        asin: Some(format!("B0{n:08}")),
        fnsku: Some(format!("X0{n:08}")),
        product_name: Some(format!("Mug \"{n}\", red, 12oz")),
        condition: Some("New".into()),
        fulfillable_quantity: fulfillable,
        inbound_working_quantity: 1,
        inbound_shipped_quantity: 2,
        inbound_receiving_quantity: 3,
        reserved_quantity: 4,
        unfulfillable_quantity: 5,
        researching_quantity: 0,
        total_quantity: fulfillable + 15,
    }
}

async fn upsert(db: &amzsync_db::Db, rows: &[InventoryRow]) {
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        Snapshots::upsert_inventory(&mut tx, rows).await.unwrap(),
        rows.len() as u64
    );
    tx.commit().await.unwrap();
}

async fn inventory_upserts_insert_update_and_never_duplicate(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 2, 8, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await.id;
    // Larger than one SQLite statement and not a multiple of it.
    let first: Vec<_> = (0..1_237).map(|n| inventory(store, n, 10)).collect();
    upsert(&db, &first).await;
    let stored = db.snapshots().inventory_on(store, day(), None).await.unwrap();
    assert_eq!(stored.len(), 1_237);
    assert_eq!(stored.iter().map(|s| s.row.clone()).collect::<Vec<_>>(), first);
    let inserted_at = stored[0].created_at;
    assert!(
        stored
            .iter()
            .all(|s| s.created_at == inserted_at && s.updated_at == inserted_at)
    );

    // Identical re-upsert: nothing changes but updated_at.
    clock.advance(Duration::hours(1));
    upsert(&db, &first).await;
    let again = db.snapshots().inventory_on(store, day(), None).await.unwrap();
    assert_eq!(again.len(), 1_237);
    assert_eq!(again.iter().map(|s| s.row.clone()).collect::<Vec<_>>(), first);
    assert!(
        again
            .iter()
            .all(|s| s.created_at == inserted_at && s.updated_at == inserted_at + Duration::hours(1))
    );

    // Mixed batch: 300 changed rows, 100 new ones.
    clock.advance(Duration::hours(1));
    let mut mixed: Vec<_> = (0..300).map(|n| inventory(store, n, 99)).collect();
    mixed.extend((5_000..5_100).map(|n| inventory(store, n, 7)));
    upsert(&db, &mixed).await;
    let after = db.snapshots().inventory_on(store, day(), None).await.unwrap();
    assert_eq!(after.len(), 1_337);
    for s in &after {
        let n: usize = s.row.sku[4..].parse().unwrap();
        let expected = if n < 300 {
            inventory(store, n, 99)
        } else if n >= 5_000 {
            inventory(store, n, 7)
        } else {
            inventory(store, n, 10)
        };
        assert_eq!(s.row, expected);
        let touched = !(300..5_000).contains(&n);
        let expected_update = inserted_at + Duration::hours(if touched { 2 } else { 1 });
        assert_eq!(s.updated_at, expected_update, "{}", s.row.sku);
        let expected_created = if n >= 5_000 {
            inserted_at + Duration::hours(2)
        } else {
            inserted_at
        };
        assert_eq!(s.created_at, expected_created, "{}", s.row.sku);
    }

    // The next day is a new snapshot beside the old one.
    let next: Vec<_> = (0..3)
        .map(|n| InventoryRow {
            date: day().succ_opt().unwrap(),
            ..inventory(store, n, 1)
        })
        .collect();
    upsert(&db, &next).await;
    assert_eq!(
        db.snapshots()
            .inventory_on(store, day(), None)
            .await
            .unwrap()
            .len(),
        1_337
    );
    assert_eq!(
        db.snapshots()
            .inventory_on(store, day().succ_opt().unwrap(), None)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn decimals_and_optional_values_round_trip_exactly(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let business = vec![
        BusinessMetricRow {
            store_id: store,
            marketplace_id: "ATVPDKIKX0DER".into(),
            date: day(),
            sku: "MUG-RED-12OZ".into(),
            asin: Some("B07EXAMPL1".into()),
            parent_asin: Some("B07PARENT1".into()),
            metrics: SalesTrafficMetrics {
                currency: "USD".into(),
                ordered_product_sales: d("1234567.89"),
                ordered_product_sales_b2b: Some(d("0.10")),
                units_ordered: 3,
                units_ordered_b2b: Some(1),
                total_order_items: 3,
                total_order_items_b2b: None,
                sessions: 120,
                page_views: 150,
                session_percentage: Some(d("33.333333")),
                page_views_percentage: None,
                buy_box_percentage: Some(d("100")),
                unit_session_percentage: Some(d("300.0")),
            },
        },
        BusinessMetricRow {
            store_id: store,
            marketplace_id: "ATVPDKIKX0DER".into(),
            date: day(),
            sku: "TSHIRT-BLK-M".into(),
            asin: None,
            parent_asin: None,
            metrics: SalesTrafficMetrics {
                currency: "USD".into(),
                ordered_product_sales: d("0"),
                ordered_product_sales_b2b: None,
                units_ordered: 0,
                units_ordered_b2b: None,
                total_order_items: 0,
                total_order_items_b2b: None,
                sessions: 4,
                page_views: 9,
                session_percentage: None,
                page_views_percentage: None,
                buy_box_percentage: None,
                unit_session_percentage: None,
            },
        },
    ];
    let ads = vec![AdsMetricRow {
        store_id: store,
        marketplace_id: "ATVPDKIKX0DER".into(),
        date: day(),
        sku: "MUG-RED-12OZ".into(),
        asin: Some("B07EXAMPL1".into()),
        currency: "USD".into(),
        impressions: 1_000,
        clicks: 17,
        spend: d("12.34"),
        sales_7d: d("99.99"),
        orders_7d: 2,
        units_7d: 3,
    }];
    let mut tx = t.begin().await.unwrap();
    Snapshots::upsert_business(&mut tx, &business).await.unwrap();
    Snapshots::upsert_ads(&mut tx, &ads).await.unwrap();
    tx.commit().await.unwrap();

    let got: Vec<_> = t
        .snapshots()
        .business_between(store, day(), day(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.row)
        .collect();
    // Amounts compare by value: 300.0 and 300 are the same percentage.
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], business[0]);
    assert_eq!(got[0].metrics.ordered_product_sales.to_string(), "1234567.89");
    assert_eq!(
        got[0].metrics.session_percentage.unwrap().to_string(),
        "33.333333"
    );
    assert_eq!(got[1], business[1]);
    let got_ads: Vec<_> = t
        .snapshots()
        .ads_between(store, day(), day(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.row)
        .collect();
    assert_eq!(got_ads, ads);
    assert_eq!(got_ads[0].spend.to_string(), "12.34");
}

async fn a_rolled_back_upsert_leaves_nothing(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let rows: Vec<_> = (0..10).map(|n| inventory(store, n, 1)).collect();
    let mut tx = t.begin().await.unwrap();
    Snapshots::upsert_inventory(&mut tx, &rows).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(
        t.snapshots()
            .inventory_on(store, day(), None)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_engines!(reads_filter_by_marketplace_and_reach_the_archive);

async fn reads_filter_by_marketplace_and_reach_the_archive(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let mut rows: Vec<_> = (0..3).map(|n| inventory(store, n, 1)).collect();
    rows.push(InventoryRow {
        marketplace_id: "A2EUQ1WTGCTBG2".into(),
        ..inventory(store, 9, 2)
    });
    let old = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    rows.push(InventoryRow {
        date: old,
        ..inventory(store, 7, 3)
    });
    upsert(&t, &rows).await;
    // The current inventory: each marketplace's newest day, not the old one.
    let latest = t.snapshots().inventory_latest(store, None).await.unwrap();
    assert_eq!(latest.len(), 4);
    assert!(latest.iter().all(|s| s.row.date == day()));
    assert_eq!(
        t.snapshots()
            .inventory_on(store, day(), Some("A2EUQ1WTGCTBG2"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        t.snapshots()
            .inventory_on(store, day(), Some("ATVPDKIKX0DER"))
            .await
            .unwrap()
            .len(),
        3
    );

    // Move the old day to the archive, as archival does, and read it back.
    let move_sql = "INSERT INTO inventory_snapshots_archive
            (store_id, marketplace_id, date, sku, asin, fnsku, product_name, condition, fulfillable_quantity,
             inbound_working_quantity, inbound_shipped_quantity, inbound_receiving_quantity, reserved_quantity,
             unfulfillable_quantity, researching_quantity, total_quantity, created_at, updated_at, archived_at)
         SELECT store_id, marketplace_id, date, sku, asin, fnsku, product_name, condition, fulfillable_quantity,
             inbound_working_quantity, inbound_shipped_quantity, inbound_receiving_quantity, reserved_quantity,
             unfulfillable_quantity, researching_quantity, total_quantity, created_at, updated_at, updated_at
         FROM inventory_snapshots WHERE date < '2024-02-01'";
    crate::raw_execute(&t, move_sql, &[]).await;
    crate::raw_execute(
        &t,
        "DELETE FROM inventory_snapshots WHERE date < '2024-02-01'",
        &[],
    )
    .await;
    let archived = t.snapshots().inventory_on(store, old, None).await.unwrap();
    assert_eq!(
        archived.iter().map(|s| s.row.clone()).collect::<Vec<_>>(),
        vec![InventoryRow {
            date: old,
            ..inventory(store, 7, 3)
        }]
    );

    // Re-synced after archival: the live row wins, once.
    upsert(
        &t,
        &[InventoryRow {
            date: old,
            ..inventory(store, 7, 5)
        }],
    )
    .await;
    let both = t.snapshots().inventory_on(store, old, None).await.unwrap();
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].row.fulfillable_quantity, 5);
}
