//! Archival (FR-9): exactly the rows older than the cutoff move to the
//! archive tables, unchanged, and stay readable; nothing else is touched;
//! running it again moves nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use amzsync_db::{
    AdsMetricRow, ArchivedTable, AsinTrafficRow, BusinessMetricRow, Db, InventoryRow, LedgerRow,
    SalesTrafficMetrics, Snapshots,
};
use amzsync_domain::{ManualClock, StoreId};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

on_both_engines!(
    archival_moves_exactly_the_old_rows_unchanged_and_reads_still_find_them,
    detail_tables_are_archived_in_batches_too,
    a_day_archived_again_after_a_resync_keeps_the_newer_values,
    archival_copies_every_stored_column_of_every_table,
    child_asin_traffic_and_the_ledger_move_to_their_archives_and_read_back_unchanged,
    deleting_a_store_deletes_its_rows_in_every_data_table_and_archive_and_no_others,
);

const US: &str = "ATVPDKIKX0DER";

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, day).unwrap()
}

fn inventory(store: StoreId, day: u32, n: i64) -> InventoryRow {
    InventoryRow {
        store_id: store,
        marketplace_id: US.into(),
        date: date(day),
        sku: format!("SKU-{n}"),
        asin: Some(format!("B0{n:08}")),
        fnsku: None,
        product_name: Some(format!("Mug {n}")),
        condition: Some("New".into()),
        fulfillable_quantity: 10 * n + i64::from(day),
        inbound_working_quantity: 1,
        inbound_shipped_quantity: 2,
        inbound_receiving_quantity: n,
        reserved_quantity: 4,
        unfulfillable_quantity: 5,
        researching_quantity: 0,
        total_quantity: 100 + n,
    }
}

fn business(store: StoreId, day: u32, n: i64) -> BusinessMetricRow {
    BusinessMetricRow {
        store_id: store,
        marketplace_id: US.into(),
        date: date(day),
        sku: format!("SKU-{n}"),
        asin: Some(format!("B0{n:08}")),
        parent_asin: None,
        metrics: SalesTrafficMetrics {
            currency: "USD".into(),
            ordered_product_sales: Decimal::new(123_456 + n, 2),
            ordered_product_sales_b2b: Some(Decimal::new(10, 2)),
            units_ordered: n,
            units_ordered_b2b: None,
            total_order_items: n,
            total_order_items_b2b: Some(1),
            sessions: 7 * n,
            page_views: 9 * n,
            session_percentage: Some(Decimal::new(33_333_333, 6)),
            page_views_percentage: None,
            buy_box_percentage: Some(Decimal::from(100)),
            unit_session_percentage: None,
        },
    }
}

fn ads(store: StoreId, day: u32, n: i64) -> AdsMetricRow {
    AdsMetricRow {
        store_id: store,
        marketplace_id: US.into(),
        date: date(day),
        sku: format!("SKU-{n}"),
        asin: None,
        currency: "USD".into(),
        impressions: 1_000 * n,
        clicks: n,
        spend: Decimal::new(4_321 + n, 2),
        sales_7d: Decimal::new(9_999, 2),
        orders_7d: 2,
        units_7d: 3,
    }
}

/// Ten days of three SKUs of every snapshot kind for `store`.
async fn seed(db: &Db, store: StoreId) {
    let mut tx = db.begin().await.unwrap();
    let days = 1..=10;
    let inv: Vec<_> = days
        .clone()
        .flat_map(|d| (1..=3).map(move |n| inventory(store, d, n)))
        .collect();
    let bus: Vec<_> = days
        .clone()
        .flat_map(|d| (1..=3).map(move |n| business(store, d, n)))
        .collect();
    let adv: Vec<_> = days
        .flat_map(|d| (1..=3).map(move |n| ads(store, d, n)))
        .collect();
    Snapshots::upsert_inventory(&mut tx, &inv).await.unwrap();
    Snapshots::upsert_business(&mut tx, &bus).await.unwrap();
    Snapshots::upsert_ads(&mut tx, &adv).await.unwrap();
    tx.commit().await.unwrap();
}

/// Everything `db.snapshots()` reads for a store (archive included).
async fn read_all(db: &Db, store: StoreId) -> String {
    let mut inventory = Vec::new();
    for day in 1..=10 {
        inventory.extend(db.snapshots().inventory_on(store, date(day), None).await.unwrap());
    }
    let business = db
        .snapshots()
        .business_between(store, date(1), date(10), None)
        .await
        .unwrap();
    let ads = db
        .snapshots()
        .ads_between(store, date(1), date(10), None)
        .await
        .unwrap();
    assert_eq!((inventory.len(), business.len(), ads.len()), (30, 30, 30));
    format!("{inventory:?}\n{business:?}\n{ads:?}")
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if let Some(p) = db.sqlite_pool() {
        sqlx::query_scalar(sql).fetch_one(p).await.unwrap()
    } else {
        sqlx::query_scalar(sql)
            .fetch_one(db.postgres_pool().unwrap())
            .await
            .unwrap()
    }
}

async fn archive_snapshots(db: &Db, cutoff: NaiveDate, batch: u32) -> u64 {
    let mut moved = 0;
    for table in ArchivedTable::ALL {
        moved += db
            .archive()
            .archive_older_than(table, cutoff, batch)
            .await
            .unwrap();
    }
    moved
}

async fn archival_moves_exactly_the_old_rows_unchanged_and_reads_still_find_them(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 4, 15, 4, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let a = create_store(&db, ann.id, "ASELLERA").await.id;
    let b = create_store(&db, ann.id, "ASELLERB").await.id;
    seed(&db, a).await;
    seed(&db, b).await;
    let before = (read_all(&db, a).await, read_all(&db, b).await);
    clock.advance(Duration::hours(1));

    // Days 1 to 5 of two stores, three SKUs, three tables; batches of 4 so a
    // table takes several transactions.
    let moved = archive_snapshots(&db, date(6), 4).await;
    assert_eq!(moved, 3 * 2 * 5 * 3);

    for table in [
        "inventory_snapshots",
        "business_metric_snapshots",
        "ads_metric_snapshots",
    ] {
        let old = format!("SELECT COUNT(*) FROM {table} WHERE date < '2024-01-06'");
        let new = format!("SELECT COUNT(*) FROM {table} WHERE date >= '2024-01-06'");
        let archived = format!("SELECT COUNT(*) FROM {table}_archive WHERE date < '2024-01-06'");
        let archived_new = format!("SELECT COUNT(*) FROM {table}_archive WHERE date >= '2024-01-06'");
        assert_eq!(scalar(&db, &old).await, 0, "{table}");
        assert_eq!(scalar(&db, &new).await, 30, "{table}");
        assert_eq!(scalar(&db, &archived).await, 30, "{table}");
        assert_eq!(scalar(&db, &archived_new).await, 0, "{table}");
    }
    // The archive computes the generated column itself.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM inventory_snapshots_archive
             WHERE inbound_quantity = inbound_working_quantity + inbound_shipped_quantity + inbound_receiving_quantity
               AND inbound_quantity > 3"
        )
        .await,
        30
    );
    // Values and stamps are intact, and reads find archived rows.
    assert_eq!((read_all(&db, a).await, read_all(&db, b).await), before);

    // Nothing is left to move.
    assert_eq!(archive_snapshots(&db, date(6), 4).await, 0);
    assert_eq!((read_all(&db, a).await, read_all(&db, b).await), before);
}

async fn detail_tables_are_archived_in_batches_too(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let insert = |day: u32, campaign: i64| {
        format!(
            "INSERT INTO ads_campaign_metrics (store_id, profile_id, date, campaign_id, marketplace_id,
                campaign_name, budget_amount, currency, impressions, clicks, spend, sales_7d, orders_7d,
                units_7d, created_at, updated_at)
             VALUES ({}, 77, '2024-01-{day:02}', {campaign}, '{US}', 'Brand {campaign}', 12.50, 'USD',
                100, 7, 3.21, 45.60, 2, 3, '2024-02-01 00:00:00+00:00', '2024-02-01 00:00:00+00:00')",
            store.0
        )
    };
    for day in [1, 2, 3, 20] {
        for campaign in 1..=3 {
            scalar_exec(&t, &insert(day, campaign)).await;
        }
    }
    let archive = t.archive();
    assert_eq!(
        archive
            .count_older_than(ArchivedTable::AdsCampaignMetrics, date(10))
            .await
            .unwrap(),
        9
    );
    // A batch moves at most its size.
    assert_eq!(
        archive
            .archive_batch(ArchivedTable::AdsCampaignMetrics, date(10), 4)
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        archive
            .archive_older_than(ArchivedTable::AdsCampaignMetrics, date(10), 4)
            .await
            .unwrap(),
        5
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM ads_campaign_metrics").await, 3);
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM ads_campaign_metrics_archive
             WHERE profile_id = 77 AND campaign_name = 'Brand ' || campaign_id AND budget_amount = 12.5
               AND spend = 3.21 AND sales_7d = 45.6 AND impressions = 100 AND date < '2024-01-10'"
        )
        .await,
        9
    );
    // The other detail tables are empty: nothing to do, no error.
    for table in ArchivedTable::ALL {
        assert_eq!(archive.archive_older_than(table, date(10), 4).await.unwrap(), 0);
    }
}

async fn scalar_exec(db: &Db, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if let Some(p) = db.sqlite_pool() {
        sqlx::query(sql).execute(p).await.unwrap();
    } else {
        sqlx::query(sql)
            .execute(db.postgres_pool().unwrap())
            .await
            .unwrap();
    }
}

async fn a_day_archived_again_after_a_resync_keeps_the_newer_values(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let upsert = |row: InventoryRow| {
        let db = t.db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            Snapshots::upsert_inventory(&mut tx, &[row]).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    upsert(inventory(store, 1, 1)).await;
    assert_eq!(archive_snapshots(&t, date(2), 10).await, 1);
    // A backfill writes the archived day again, with restated figures.
    let restated = InventoryRow {
        fulfillable_quantity: 999,
        ..inventory(store, 1, 1)
    };
    upsert(restated.clone()).await;
    let read = t.snapshots().inventory_on(store, date(1), None).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].row, restated);

    assert_eq!(archive_snapshots(&t, date(2), 10).await, 1);
    let read = t.snapshots().inventory_on(store, date(1), None).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].row, restated);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM inventory_snapshots_archive").await,
        1
    );
}

async fn archival_copies_every_stored_column_of_every_table(t: TestDb) {
    for table in ArchivedTable::ALL {
        let name = table.name();
        let columns: Vec<String> = if let Some(p) = t.sqlite_pool() {
            // hidden: 0 a normal column, 2 and 3 generated ones.
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_xinfo('{name}') WHERE hidden = 0"
            )))
            .fetch_all(p)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'",
            )
            .bind(name)
            .fetch_all(t.postgres_pool().unwrap())
            .await
            .unwrap()
        };
        let schema: BTreeSet<String> = columns.into_iter().collect();
        let copied: BTreeSet<String> = table.copied_columns().iter().map(|c| c.to_string()).collect();
        assert_eq!(copied, schema, "{name}");
        assert_eq!(copied.len(), table.copied_columns().len(), "{name}: duplicates");
    }
}

fn asin_traffic(store: StoreId, day: u32, n: i64) -> AsinTrafficRow {
    AsinTrafficRow {
        store_id: store,
        marketplace_id: US.into(),
        date: date(day),
        child_asin: format!("B0{n:08}"),
        parent_asin: "B0PARENT01".into(),
        metrics: SalesTrafficMetrics {
            currency: "USD".into(),
            ordered_product_sales: Decimal::new(1_999 * n, 2),
            ordered_product_sales_b2b: None,
            // An ASIN with traffic and no orders: the reason the table exists.
            units_ordered: n - 1,
            units_ordered_b2b: Some(0),
            total_order_items: n - 1,
            total_order_items_b2b: None,
            sessions: 11 * n,
            page_views: 13 * n,
            session_percentage: Some(Decimal::new(125, 2)),
            page_views_percentage: Some(Decimal::new(5, 1)),
            buy_box_percentage: Some(Decimal::new(9_850, 2)),
            unit_session_percentage: None,
        },
    }
}

fn ledger(store: StoreId, day: u32, n: i64, disposition: &str) -> LedgerRow {
    LedgerRow {
        store_id: store,
        marketplace_id: US.into(),
        date: date(day),
        sku: format!("SKU-{n}"),
        fnsku: format!("X00{n:07}"),
        disposition: disposition.into(),
        location: "US".into(),
        asin: Some(format!("B0{n:08}")),
        title: Some(format!("Mug \"{n}\"")),
        starting_warehouse_balance: 20 + n,
        in_transit_between_warehouses: None,
        receipts: Some(3),
        customer_shipments: Some(-2 - n),
        customer_returns: Some(1),
        vendor_returns: Some(0),
        warehouse_transfer_in_out: None,
        found: Some(0),
        lost: Some(-1),
        damaged: Some(0),
        disposed: Some(0),
        other_events: Some(0),
        ending_warehouse_balance: 20 + n + 3 - 2 - n + 1 - 1,
        unknown_events: None,
    }
}

async fn child_asin_traffic_and_the_ledger_move_to_their_archives_and_read_back_unchanged(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await.id;
    let asins: Vec<AsinTrafficRow> = (1..=10)
        .flat_map(|d| (1..=2).map(move |n| asin_traffic(store, d, n)))
        .collect();
    let ledgers: Vec<LedgerRow> = (1..=10)
        .flat_map(|d| {
            (1..=2).flat_map(move |n| [ledger(store, d, n, "SELLABLE"), ledger(store, d, n, "DEFECTIVE")])
        })
        .collect();
    let mut tx = t.begin().await.unwrap();
    Snapshots::upsert_asin_traffic(&mut tx, &asins).await.unwrap();
    Snapshots::upsert_ledger(&mut tx, &ledgers).await.unwrap();
    tx.commit().await.unwrap();
    let read = |db: Db| async move {
        let a = db
            .snapshots()
            .asin_traffic_between(store, date(1), date(10), Some(US))
            .await
            .unwrap();
        let l = db
            .snapshots()
            .ledger_between(store, date(1), date(10), None)
            .await
            .unwrap();
        (
            a.into_iter().map(|s| s.row).collect::<Vec<_>>(),
            l.into_iter().map(|s| s.row).collect::<Vec<_>>(),
        )
    };
    let (a, l) = read(t.db.clone()).await;
    assert_eq!(a, asins, "read back in key order, every field");
    let mut sorted = ledgers.clone();
    sorted.sort_by(|x, y| (x.date, &x.sku, &x.disposition).cmp(&(y.date, &y.sku, &y.disposition)));
    assert_eq!(l, sorted);

    let archive = t.archive();
    assert_eq!(
        archive
            .archive_older_than(ArchivedTable::AsinTrafficSnapshots, date(4), 5)
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        archive
            .archive_older_than(ArchivedTable::InventoryLedgerDaily, date(4), 5)
            .await
            .unwrap(),
        12
    );
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM asin_traffic_snapshots").await,
        14
    );
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM inventory_ledger_daily_archive").await,
        12
    );
    assert_eq!(
        read(t.db.clone()).await,
        (asins, sorted),
        "the archive is read too"
    );
}

/// Rows of `store` in every data table and its archive.
async fn rows_of(db: &Db, store: StoreId) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in ArchivedTable::ALL {
        for name in [table.name().to_owned(), format!("{}_archive", table.name())] {
            let n = scalar(
                db,
                &format!("SELECT COUNT(*) FROM {name} WHERE store_id = {}", store.0),
            )
            .await;
            counts.push((name, n));
        }
    }
    counts
}

async fn deleting_a_store_deletes_its_rows_in_every_data_table_and_archive_and_no_others(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let a = create_store(&t, ann.id, "ASELLERA").await.id;
    let b = create_store(&t, ann.id, "ASELLERB").await.id;
    seed(&t, a).await;
    seed(&t, b).await;
    // Half of it archived, so both the live and the archive tables hold rows.
    archive_snapshots(&t, date(6), 100).await;
    let kept = rows_of(&t, b).await;
    assert!(
        rows_of(&t, a).await.iter().filter(|(_, n)| *n > 0).count() >= 6,
        "the seed fills the snapshot tables and their archives"
    );

    t.stores().delete(amzsync_db::Scope::All, a).await.unwrap();

    // On PostgreSQL the data tables have no foreign key: the delete itself
    // must reach every one of them.
    assert!(
        rows_of(&t, a).await.iter().all(|(_, n)| *n == 0),
        "{:?}",
        rows_of(&t, a).await
    );
    assert_eq!(rows_of(&t, b).await, kept, "another store's rows are untouched");
}
