//! Synced data: inventory on a day, business and ads metrics over a range, JSON or CSV.

use amzsync_db::{
    AdsMetricRow, ArchivedTable, BusinessMetricRow, InventoryRow, SalesTrafficMetrics, Snapshots,
};
use amzsync_domain::StoreId;
use chrono::NaiveDate;
use reqwest::Method;
use rust_decimal::Decimal;

use amzsync_test_support::{TestDb, on_both_engines};

use crate::helpers::{TestApp, send};

const US: &str = "ATVPDKIKX0DER";
const CA: &str = "A2EUQ1WTGCTBG2";

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn inventory(store: StoreId, market: &str, date: &str, sku: &str, fulfillable: i64) -> InventoryRow {
    InventoryRow {
        store_id: store,
        marketplace_id: market.into(),
        date: day(date),
        sku: sku.into(),
        asin: Some("B000TEST01".into()),
        fnsku: None,
        product_name: Some("Mug, \"large\"".into()),
        condition: None,
        fulfillable_quantity: fulfillable,
        inbound_working_quantity: 0,
        inbound_shipped_quantity: 1,
        inbound_receiving_quantity: 2,
        reserved_quantity: 3,
        unfulfillable_quantity: 0,
        researching_quantity: 0,
        total_quantity: fulfillable + 6,
    }
}

fn business(store: StoreId, market: &str, date: &str, sku: &str) -> BusinessMetricRow {
    BusinessMetricRow {
        store_id: store,
        marketplace_id: market.into(),
        date: day(date),
        sku: sku.into(),
        asin: None,
        parent_asin: None,
        metrics: SalesTrafficMetrics {
            currency: "USD".into(),
            ordered_product_sales: Decimal::new(12345, 2),
            ordered_product_sales_b2b: None,
            units_ordered: 5,
            units_ordered_b2b: None,
            total_order_items: 4,
            total_order_items_b2b: None,
            sessions: 50,
            page_views: 70,
            session_percentage: None,
            page_views_percentage: None,
            buy_box_percentage: Some(Decimal::new(985, 1)),
            unit_session_percentage: None,
        },
    }
}

fn ads(store: StoreId, market: &str, date: &str, sku: &str) -> AdsMetricRow {
    AdsMetricRow {
        store_id: store,
        marketplace_id: market.into(),
        date: day(date),
        sku: sku.into(),
        asin: None,
        currency: "USD".into(),
        impressions: 1000,
        clicks: 20,
        spend: Decimal::new(1050, 2),
        sales_7d: Decimal::new(4200, 2),
        orders_7d: 2,
        units_7d: 3,
    }
}

pub(crate) async fn seed(app: &TestApp, store: StoreId) {
    let mut tx = app.db().begin().await.unwrap();
    Snapshots::upsert_inventory(
        &mut tx,
        &[
            inventory(store, US, "2024-05-01", "MUG-1", 10),
            inventory(store, CA, "2024-05-01", "MUG-1", 4),
            inventory(store, US, "2024-05-02", "MUG-1", 9),
        ],
    )
    .await
    .unwrap();
    Snapshots::upsert_business(
        &mut tx,
        &[
            business(store, US, "2024-05-01", "MUG-1"),
            business(store, CA, "2024-05-02", "MUG-1"),
            business(store, US, "2024-05-10", "MUG-1"),
        ],
    )
    .await
    .unwrap();
    Snapshots::upsert_ads(
        &mut tx,
        &[
            ads(store, US, "2024-05-01", "MUG-1"),
            ads(store, CA, "2024-05-03", "MUG-2"),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn inventory_is_read_for_one_day_and_filtered_by_marketplace(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let path = format!("/api/v1/amazon/stores/{store}/inventory");

    let reply = app.get(&format!("{path}?date=2024-05-01")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let items = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["marketplace_id"], CA);
    assert_eq!(items[1]["fulfillable_quantity"], 10);
    assert_eq!(items[1]["total_quantity"], 16);

    let us = app
        .get(&format!("{path}?date=2024-05-01&marketplace_id={US}"))
        .await
        .json();
    assert_eq!(us["items"].as_array().unwrap().len(), 1);
    let by_country = app
        .get(&format!("{path}?date=2024-05-01&marketplace_id=CA"))
        .await
        .json();
    assert_eq!(by_country["items"][0]["marketplace_id"], CA);
    let none = app.get(&format!("{path}?date=2023-01-01")).await.json();
    assert_eq!(none["items"], serde_json::json!([]));
}

/// Amazon dates a snapshot by its marketplace's day, so a store's
/// marketplaces can have different newest days (here the US has 2 May, and
/// Canada only 1 May); the store's newest day alone left Canada out.
async fn inventory_without_a_date_is_each_marketplaces_newest_snapshot(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let path = format!("/api/v1/amazon/stores/{store}/inventory");

    let current = app.get(&path).await;
    assert_eq!(current.status, 200, "{}", current.text);
    let items = current.json()["items"].as_array().unwrap().clone();
    let seen: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|i| {
            (
                i["marketplace_id"].as_str().unwrap(),
                i["date"].as_str().unwrap(),
                i["fulfillable_quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [(CA, "2024-05-01", 4), (US, "2024-05-02", 9)]);
    let canada = app.get(&format!("{path}?marketplace_id=CA")).await.json();
    assert_eq!(canada["items"].as_array().unwrap().len(), 1);
    assert_eq!(canada["items"][0]["date"], "2024-05-01");
}

#[tokio::test]
async fn inventory_needs_a_well_formed_date_and_a_known_marketplace() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let path = format!("/api/v1/amazon/stores/{store}/inventory");
    // Without a date and without snapshots: an empty list, not an error.
    assert_eq!(app.get(&path).await.json()["items"], serde_json::json!([]));
    app.get(&format!("{path}?date=01/05/2024"))
        .await
        .assert_error(400, "malformed_field", Some("date"));
    app.get(&format!("{path}?date=2024-05-01&marketplace_id=ZZ"))
        .await
        .assert_error(400, "malformed_field", Some("marketplace_id"));
    app.get(&format!("{path}?date=2024-05-01&format=pdf"))
        .await
        .assert_error(400, "malformed_field", Some("format"));
    app.get("/api/v1/amazon/stores/9999/inventory?date=2024-05-01")
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn inventory_exports_as_csv_by_parameter_or_by_accept_header() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let path = format!("/api/v1/amazon/stores/{store}/inventory?date=2024-05-01");

    let by_param = app.get(&format!("{path}&format=csv")).await;
    assert_eq!(by_param.status, 200);
    assert_eq!(by_param.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(by_param.header("content-disposition").unwrap().contains(".csv"));
    let mut lines = by_param.text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("marketplace_id,date,sku,asin,fnsku,product_name"),
        "{header}"
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{CA},2024-05-01,MUG-1,B000TEST01,,\"Mug, \"\"large\"\"\""
        )),
        "{first}"
    );
    assert_eq!(lines.count(), 1);

    let by_accept = send(app.request(Method::GET, &path).header("accept", "text/csv")).await;
    assert_eq!(by_accept.text, by_param.text);
    let json_wins = send(
        app.request(Method::GET, &format!("{path}&format=json"))
            .header("accept", "text/csv"),
    )
    .await;
    assert_eq!(json_wins.header("content-type"), Some("application/json"));
}

async fn business_metrics_are_read_over_a_range_with_money_as_decimal_strings(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let path = format!("/api/v1/amazon/stores/{store}/business-metrics");
    let reply = app.get(&format!("{path}?from=2024-05-01&to=2024-05-02")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let items = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["ordered_product_sales"], "123.45");
    assert_eq!(items[0]["buy_box_percentage"], "98.5");
    assert_eq!(items[0]["sessions"], 50);
    let us = app
        .get(&format!(
            "{path}?from=2024-05-01&to=2024-05-31&marketplace_id={US}"
        ))
        .await
        .json();
    assert_eq!(us["items"].as_array().unwrap().len(), 2);
    let csv = app
        .get(&format!("{path}?from=2024-05-01&to=2024-05-31&format=csv"))
        .await;
    assert_eq!(csv.text.lines().count(), 4, "{}", csv.text);
    assert!(csv.text.contains(",123.45,"), "{}", csv.text);
}

#[tokio::test]
async fn ads_metrics_are_read_over_a_range_and_exported_as_csv() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let path = format!("/api/v1/amazon/stores/{store}/ads-metrics");
    let reply = app
        .get(&format!("{path}?from=2024-05-01&to=2024-05-31"))
        .await
        .json();
    let items = reply["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let money = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(money(&items[0]["spend"]), Decimal::new(1050, 2));
    assert_eq!(money(&items[0]["sales_7d"]), Decimal::new(42, 0));
    let ca = app
        .get(&format!(
            "{path}?from=2024-05-01&to=2024-05-31&marketplace_id={CA}"
        ))
        .await
        .json();
    assert_eq!(ca["items"][0]["sku"], "MUG-2");
    let csv = send(
        app.request(Method::GET, &format!("{path}?from=2024-05-01&to=2024-05-31"))
            .header("accept", "application/json;q=0.5, text/csv"),
    )
    .await;
    assert!(
        csv.text
            .starts_with("marketplace_id,date,sku,asin,currency,impressions"),
        "{}",
        csv.text
    );
}

#[tokio::test]
async fn a_bad_range_names_the_parameter() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    for resource in ["business-metrics", "ads-metrics", "summary"] {
        let path = format!("/api/v1/amazon/stores/{store}/{resource}");
        let cases = [
            ("to=2024-05-01", 400, "malformed_field", "from"),
            ("from=2024-05-01", 400, "malformed_field", "to"),
            ("from=2024-05-02&to=2024-05-01", 422, "invalid_field", "from"),
            ("from=2023-01-01&to=2024-05-01", 422, "invalid_field", "to"),
            ("from=2024-5-1x&to=2024-05-01", 400, "malformed_field", "from"),
            (
                "from=2024-05-01&to=2024-05-02&marketplace_id=nowhere",
                400,
                "malformed_field",
                "marketplace_id",
            ),
        ];
        for (query, status, code, field) in cases {
            app.get(&format!("{path}?{query}"))
                .await
                .assert_error(status, code, Some(field));
        }
    }
}

/// Figures computed by hand (see each assertion); cents that add up to an
/// inexact float (0.1 + 0.2) test that money is summed as decimals.
async fn summary_sums_each_sku_over_the_range_with_ratios_and_weeks_of_cover(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    let money = |cents: i64| Decimal::new(cents, 2);
    let sold = |market: &str, date: &str, sku: &str, sales: i64, units: i64, sessions: i64| {
        let mut row = business(store, market, date, sku);
        row.metrics.ordered_product_sales = money(sales);
        row.metrics.units_ordered = units;
        row.metrics.sessions = sessions;
        row.metrics.page_views = sessions + 2;
        if market == CA {
            row.metrics.currency = "CAD".into();
        }
        row
    };
    let advertised = |date: &str, sku: &str, spend: i64, sales: i64| {
        let mut row = ads(store, US, date, sku);
        row.spend = money(spend);
        row.sales_7d = money(sales);
        row
    };
    let mut tx = app.db().begin().await.unwrap();
    Snapshots::upsert_business(
        &mut tx,
        &[
            sold(US, "2024-04-01", "MUG-1", 505, 2, 8),
            sold(US, "2024-05-01", "MUG-1", 1010, 3, 20),
            sold(US, "2024-05-02", "MUG-1", 20, 1, 10),
            sold(US, "2024-05-01", "MUG-2", 0, 0, 5),
            sold(CA, "2024-05-01", "MUG-1", 700, 7, 9),
            // Outside every range asked for below.
            sold(US, "2024-05-03", "MUG-1", 99_999, 99, 99),
        ],
    )
    .await
    .unwrap();
    Snapshots::upsert_ads(
        &mut tx,
        &[
            advertised("2024-05-01", "MUG-1", 110, 440),
            advertised("2024-05-02", "MUG-1", 10, 0),
            advertised("2024-05-02", "MUG-2", 200, 0),
        ],
    )
    .await
    .unwrap();
    Snapshots::upsert_inventory(
        &mut tx,
        &[
            // An older day: not current.
            inventory(store, US, "2024-05-01", "MUG-1", 99),
            inventory(store, US, "2024-05-02", "MUG-1", 10),
            inventory(store, US, "2024-05-02", "MUG-3", 5),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // April's row moves to the archive; a range reaching it must still count it.
    let moved = app
        .db()
        .archive()
        .archive_older_than(ArchivedTable::BusinessMetricSnapshots, day("2024-04-15"), 100)
        .await
        .unwrap();
    assert_eq!(moved, 1);

    let path = format!("/api/v1/amazon/stores/{store}/summary");
    let reply = app.get(&format!("{path}?from=2024-05-01&to=2024-05-02")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let items = body["items"].as_array().unwrap();
    let keys: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["marketplace_id"].as_str().unwrap(), i["sku"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [(CA, "MUG-1"), (US, "MUG-1"), (US, "MUG-2"), (US, "MUG-3")]);

    let ca = &items[0];
    assert_eq!(ca["currency"], "CAD");
    assert_eq!(ca["sales"], "7");
    assert_eq!(ca["units"], 7);
    assert_eq!(ca["ad_spend"], "0");
    assert_eq!(ca["acos"], serde_json::Value::Null);
    assert_eq!(ca["tacos"], "0.0000");
    assert_eq!(ca["inventory_date"], serde_json::Value::Null);
    assert_eq!(ca["weeks_of_cover"], serde_json::Value::Null);

    let mug1 = &items[1];
    assert_eq!(mug1["currency"], "USD");
    assert_eq!(mug1["sales"], "10.3"); // 10.10 + 0.20
    assert_eq!(mug1["units"], 4);
    assert_eq!(mug1["sessions"], 30);
    assert_eq!(mug1["page_views"], 34);
    assert_eq!(mug1["ad_spend"], "1.2"); // 1.10 + 0.10
    assert_eq!(mug1["ad_sales"], "4.4");
    assert_eq!(mug1["acos"], "0.2727"); // 1.2 / 4.4 = 0.27272…
    assert_eq!(mug1["tacos"], "0.1165"); // 1.2 / 10.3 = 0.11650…
    assert_eq!(mug1["inventory_date"], "2024-05-02");
    assert_eq!(mug1["fulfillable_quantity"], 10);
    assert_eq!(mug1["inbound_quantity"], 3);
    assert_eq!(mug1["reserved_quantity"], 3);
    assert_eq!(mug1["average_weekly_units"], "14.00"); // 4 units × 7 / 2 days
    assert_eq!(mug1["weeks_of_cover"], "0.93"); // (10 + 3) / 14 = 0.928…
    assert_eq!(mug1["product_name"], "Mug, \"large\"");

    let mug2 = &items[2];
    assert_eq!(mug2["ad_spend"], "2");
    assert_eq!(mug2["acos"], serde_json::Value::Null, "no ad sales");
    assert_eq!(mug2["tacos"], serde_json::Value::Null, "no sales");
    assert_eq!(mug2["average_weekly_units"], "0.00");

    let mug3 = &items[3];
    assert_eq!(mug3["currency"], "USD", "the marketplace's, without money rows");
    assert_eq!(mug3["sales"], "0");
    assert_eq!(mug3["fulfillable_quantity"], 5);
    assert_eq!(mug3["weeks_of_cover"], serde_json::Value::Null, "nothing ordered");

    // From April: the archived day counts (32 days, 6 units).
    let april = app
        .get(&format!("{path}?from=2024-04-01&to=2024-05-02&marketplace_id=US"))
        .await
        .json();
    let items = april["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["sku"], "MUG-1");
    assert_eq!(items[0]["sales"], "15.35");
    assert_eq!(items[0]["units"], 6);
    assert_eq!(items[0]["average_weekly_units"], "1.31"); // 6 × 7 / 32 = 1.3125
    assert_eq!(items[0]["weeks_of_cover"], "9.90"); // 13 × 32 / 42 = 9.904…

    let csv = app
        .get(&format!("{path}?from=2024-05-01&to=2024-05-02&format=csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains(&format!("summary-{store}-2024-05-01-2024-05-02.csv")),
        "{:?}",
        csv.headers
    );
    let mut lines = csv.text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "marketplace_id,sku,asin,product_name,currency,sales,units,sessions,page_views,ad_spend,\
         ad_sales,acos,tacos,inventory_date,fulfillable_quantity,inbound_quantity,reserved_quantity,\
         average_weekly_units,weeks_of_cover"
    );
    assert_eq!(
        lines.nth(1).unwrap(),
        format!(
            "{US},MUG-1,B000TEST01,\"Mug, \"\"large\"\"\",USD,10.3,4,30,34,1.2,4.4,0.2727,0.1165,2024-05-02,10,3,3,14.00,0.93"
        )
    );
    assert_eq!(lines.count(), 2);

    // Another tenant's store is not there at all.
    let (_, bob) = app.tenant("bob").await;
    send(app.request_as(
        &bob,
        Method::GET,
        &format!("{path}?from=2024-05-01&to=2024-05-02"),
    ))
    .await
    .assert_error(404, "not_found", None);
}

on_both_engines!(
    inventory_is_read_for_one_day_and_filtered_by_marketplace,
    inventory_without_a_date_is_each_marketplaces_newest_snapshot,
    business_metrics_are_read_over_a_range_with_money_as_decimal_strings,
    summary_sums_each_sku_over_the_range_with_ratios_and_weeks_of_cover
);
