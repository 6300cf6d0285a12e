//! `/stores/{id}`: charts of the last 30 days and weeks of cover.

use amzsync_db::{AdsMetricRow, BusinessMetricRow, InventoryRow, SalesTrafficMetrics, Snapshots};
use amzsync_domain::StoreId;
use chrono::{DateTime, Days, NaiveDate, Utc};
use reqwest::StatusCode;
use rust_decimal::Decimal;

use crate::helpers::TestApp;

const US: &str = "ATVPDKIKX0DER";

fn sale(store: StoreId, date: NaiveDate, sku: &str, units: i64, sales: Decimal) -> BusinessMetricRow {
    BusinessMetricRow {
        store_id: store,
        marketplace_id: US.into(),
        date,
        sku: sku.into(),
        asin: None,
        parent_asin: None,
        metrics: SalesTrafficMetrics {
            currency: "USD".into(),
            ordered_product_sales: sales,
            ordered_product_sales_b2b: None,
            units_ordered: units,
            units_ordered_b2b: None,
            total_order_items: units,
            total_order_items_b2b: None,
            sessions: 0,
            page_views: 0,
            session_percentage: None,
            page_views_percentage: None,
            buy_box_percentage: None,
            unit_session_percentage: None,
        },
    }
}

fn ad(store: StoreId, date: NaiveDate, sku: &str, spend: Decimal, sales: Decimal) -> AdsMetricRow {
    AdsMetricRow {
        store_id: store,
        marketplace_id: US.into(),
        date,
        sku: sku.into(),
        asin: None,
        currency: "USD".into(),
        impressions: 100,
        clicks: 10,
        spend,
        sales_7d: sales,
        orders_7d: 1,
        units_7d: 1,
    }
}

fn stock(store: StoreId, date: NaiveDate, sku: &str, fulfillable: i64) -> InventoryRow {
    InventoryRow {
        store_id: store,
        marketplace_id: US.into(),
        date,
        sku: sku.into(),
        asin: None,
        fnsku: None,
        product_name: Some(format!("<b>{sku}</b>")),
        condition: None,
        fulfillable_quantity: fulfillable,
        inbound_working_quantity: 1,
        inbound_shipped_quantity: 2,
        inbound_receiving_quantity: 3,
        reserved_quantity: 0,
        unfulfillable_quantity: 0,
        researching_quantity: 0,
        total_quantity: fulfillable,
    }
}

/// 03:00 UTC on 10 March: still the 9th in the US (PDT since the 8th), so
/// a window reckoned in UTC would show up as a day off.
fn early_morning_utc() -> DateTime<Utc> {
    "2026-03-10T03:00:00Z".parse().unwrap()
}

/// The US marketplace's day at [`early_morning_utc`].
fn us_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()
}

#[tokio::test]
async fn the_store_page_charts_30_days_and_computes_weeks_of_cover() {
    let app = TestApp::sqlite_at(early_morning_utc()).await;
    let store = app.store("A1SELLER").await;
    let today = us_today();
    let mut business = Vec::new();
    let mut ads = Vec::new();
    for back in 0..30 {
        let date = today.checked_sub_days(Days::new(back)).unwrap();
        // 14 units a day of MUG (98 a week): 190 fulfillable + 6 inbound is two weeks of cover.
        business.push(sale(store, date, "MUG", 14, Decimal::new(100, 0)));
        ads.push(ad(store, date, "MUG", Decimal::new(10, 0), Decimal::new(40, 0)));
    }
    // The UTC date, a US day not yet begun, and older than the window:
    // not counted.
    business.push(sale(
        store,
        early_morning_utc().date_naive(),
        "MUG",
        999,
        Decimal::ONE,
    ));
    business.push(sale(
        store,
        today.checked_sub_days(Days::new(40)).unwrap(),
        "MUG",
        999,
        Decimal::ONE,
    ));
    let inventory = [stock(store, today, "MUG", 190), stock(store, today, "IDLE", 50)];
    let mut tx = app.db().begin().await.unwrap();
    Snapshots::upsert_business(&mut tx, &business).await.unwrap();
    Snapshots::upsert_ads(&mut tx, &ads).await.unwrap();
    Snapshots::upsert_inventory(&mut tx, &inventory).await.unwrap();
    tx.commit().await.unwrap();

    let page = app.get(&format!("/stores/{store}")).await;
    page.assert_ok()
        .assert_contains(r#"data-test="store-title">Store A1SELLER<"#)
        .assert_contains("2026-02-08 – 2026-03-09")
        .assert_contains("Total: 3000.00 USD")
        .assert_contains("Total: 300.00 USD")
        .assert_contains("Total: 1200.00 USD")
        .assert_contains("Average: 25.0%")
        .assert_contains("Average: 10.0%")
        .assert_lacks(r#"data-test="no-data""#);
    for chart in [
        "chart-sales",
        "chart-ad-spend",
        "chart-ad-sales",
        "chart-acos",
        "chart-tacos",
    ] {
        page.assert_contains(&format!(r#"data-test="{chart}""#));
    }
    assert_eq!(
        page.count(r#"<rect class="bar""#),
        90,
        "a bar per day in three money charts"
    );
    assert_eq!(page.count(r#"<polyline class="line""#), 2);

    assert_eq!(page.count(r#"data-test="inventory-row""#), 2);
    page.assert_contains(r#"data-test="weeks-of-cover">2.00<"#)
        .assert_contains("<td class=\"num\">98.00</td>")
        .assert_contains("&#60;b&#62;MUG&#60;/b&#62;")
        .assert_contains("<td class=\"num\">6</td>");
    let mug = page.text.find("<th scope=\"row\">MUG").unwrap();
    let idle = page.text.find("<th scope=\"row\">IDLE").unwrap();
    assert!(mug < idle, "SKUs that sell come first");
}

#[tokio::test]
async fn a_store_without_data_says_so() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let page = app.get(&format!("/stores/{store}")).await;
    page.assert_ok()
        .assert_contains(r#"data-test="no-inventory""#)
        .assert_lacks("<svg");
    assert_eq!(page.count(r#"data-test="no-data""#), 5);
}

#[tokio::test]
async fn the_store_page_is_in_chinese_too() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.get_zh(&format!("/stores/{store}"))
        .await
        .assert_ok()
        .assert_contains("数据概览")
        .assert_contains("可售周数")
        .assert_lacks("Data at a glance");
}

#[tokio::test]
async fn another_users_store_page_is_not_found() {
    let app = TestApp::sqlite().await;
    let (bob, _) = app.tenant("bob").await;
    let theirs = amzsync_test_support::create_store(app.db(), bob.id, "A1BOBS")
        .await
        .id;
    let page = app.get(&format!("/stores/{theirs}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    page.assert_lacks("A1BOBS");
    assert_eq!(
        app.get("/stores/not-a-number").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/stores/987654").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sales_without_advertising_show_zero_spend_not_minus_zero() {
    let app = TestApp::sqlite_at(early_morning_utc()).await;
    let store = app.store("A1SELLER").await;
    let business = [sale(store, us_today(), "MUG", 2, Decimal::new(50, 0))];
    let mut tx = app.db().begin().await.unwrap();
    Snapshots::upsert_business(&mut tx, &business).await.unwrap();
    tx.commit().await.unwrap();
    let page = app.get(&format!("/stores/{store}")).await;
    page.assert_ok()
        .assert_contains("Total: 0.00 USD")
        .assert_lacks("-0.0");
}
