//! `asinGranularity` of sales and traffic (PROTOCOL.md §4.4.2, §4.4.4): SKU rows
//! only with orders, CHILD rows per child ASIN including traffic without orders,
//! PARENT rows per parent ASIN.

use std::collections::BTreeSet;

use amzsync_amazon_sim::AsinGranularity;
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::harness::{SALES, SELLER, TestSim, US};

async fn by_asin(t: &TestSim, day: &str, granularity: Option<&str>) -> Vec<Value> {
    let token = t.access_token().await;
    let mut options = json!({ "dateGranularity": "DAY" });
    if let Some(g) = granularity {
        options["asinGranularity"] = g.into();
    }
    let request = json!({
        "reportType": SALES,
        "marketplaceIds": [US],
        "dataStartTime": format!("{day}T00:00:00Z"),
        "dataEndTime": format!("{day}T23:59:59Z"),
        "reportOptions": options,
    });
    let id = t.create(&token, &request).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    assert_eq!(report["processingStatus"], "DONE");
    let (_, _, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    document["salesAndTrafficByAsin"].as_array().unwrap().clone()
}

fn keys(row: &Value) -> BTreeSet<&str> {
    row.as_object().unwrap().keys().map(String::as_str).collect()
}

fn sum(rows: &[Value], section: &str, field: &str) -> u64 {
    rows.iter().map(|r| r[section][field].as_u64().unwrap()).sum()
}

#[tokio::test]
async fn child_rows_include_asins_with_traffic_but_no_orders_and_carry_no_sku() {
    let t = TestSim::start().await;
    let day = "2024-04-20";

    let sku = by_asin(&t, day, Some("SKU")).await;
    let child = by_asin(&t, day, Some("CHILD")).await;

    assert!(child.len() > sku.len(), "some ASINs had sessions and no orders");
    assert!(child.iter().any(|r| r["salesByAsin"]["unitsOrdered"] == 0));
    assert!(
        child
            .iter()
            .all(|r| r["trafficByAsin"]["sessions"].as_u64().unwrap() > 0
                || r["salesByAsin"]["unitsOrdered"].as_u64().unwrap() > 0)
    );
    assert_eq!(
        keys(&child[0]),
        BTreeSet::from(["childAsin", "parentAsin", "salesByAsin", "trafficByAsin"])
    );
    assert_eq!(
        sum(&child, "salesByAsin", "unitsOrdered"),
        sum(&sku, "salesByAsin", "unitsOrdered")
    );
    let truth = t
        .sim
        .truth()
        .sales_and_traffic_by_asin(
            SELLER,
            US,
            NaiveDate::from_ymd_opt(2024, 4, 20).unwrap(),
            AsinGranularity::Child,
        )
        .unwrap();
    assert_eq!(child.len(), truth.len());
    for (row, expected) in child.iter().zip(&truth) {
        assert_eq!(row["childAsin"], expected.child_asin.as_str());
        assert_eq!(row["trafficByAsin"]["sessions"], expected.sessions());
    }
}

#[tokio::test]
async fn parent_rows_sum_their_children_and_are_the_default() {
    let t = TestSim::start().await;
    let day = "2024-04-20";

    let child = by_asin(&t, day, Some("CHILD")).await;
    let parent = by_asin(&t, day, None).await;

    assert_eq!(
        keys(&parent[0]),
        BTreeSet::from(["parentAsin", "salesByAsin", "trafficByAsin"])
    );
    let parents: BTreeSet<&str> = child.iter().map(|r| r["parentAsin"].as_str().unwrap()).collect();
    assert_eq!(parent.len(), parents.len());
    assert!(parent.len() < child.len(), "three SKUs share a parent");
    for row in &parent {
        let children: Vec<Value> = child
            .iter()
            .filter(|c| c["parentAsin"] == row["parentAsin"])
            .cloned()
            .collect();
        assert_eq!(
            row["trafficByAsin"]["sessions"].as_u64().unwrap(),
            sum(&children, "trafficByAsin", "sessions")
        );
        assert_eq!(
            row["salesByAsin"]["unitsOrdered"].as_u64().unwrap(),
            sum(&children, "salesByAsin", "unitsOrdered")
        );
    }
}

/// The whole document of a sales and traffic report over `first..=last`.
async fn sales_document(t: &TestSim, (first, last): (&str, &str), options: Value) -> Value {
    let token = t.access_token().await;
    let request = json!({
        "reportType": SALES,
        "marketplaceIds": [US],
        "dataStartTime": format!("{first}T00:00:00Z"),
        "dataEndTime": format!("{last}T23:59:59Z"),
        "reportOptions": options,
    });
    let id = t.create(&token, &request).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    assert_eq!(report["processingStatus"], "DONE");
    let (_, _, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;
    serde_json::from_slice(&bytes).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The truth's totals of `first..=last` combined, as a WEEK or MONTH entry holds them.
fn period_totals(t: &TestSim, first: &str, last: &str) -> amzsync_amazon_sim::DateTotals {
    let days: Vec<_> = day(first)
        .iter_days()
        .take_while(|d| *d <= day(last))
        .map(|d| t.sim.truth().sales_and_traffic(SELLER, US, d).unwrap().totals)
        .collect();
    amzsync_amazon_sim::DateTotals::combine(&days)
}

#[tokio::test]
async fn week_granularity_widens_the_by_date_section_to_whole_weeks_from_sunday_only() {
    let t = TestSim::start().await;
    // Wednesday and Thursday of the week of Sunday 14 April 2024.
    let window = ("2024-04-17", "2024-04-18");

    let weekly = sales_document(
        &t,
        window,
        json!({ "dateGranularity": "WEEK", "asinGranularity": "SKU" }),
    )
    .await;
    let daily = sales_document(
        &t,
        window,
        json!({ "dateGranularity": "DAY", "asinGranularity": "SKU" }),
    )
    .await;

    let by_date = weekly["salesAndTrafficByDate"].as_array().unwrap();
    assert_eq!(by_date.len(), 1);
    assert_eq!(by_date[0]["date"], "2024-04-14");
    let week = period_totals(&t, "2024-04-14", "2024-04-20");
    assert_eq!(by_date[0]["salesByDate"]["unitsOrdered"], week.units_ordered);
    assert_eq!(
        by_date[0]["trafficByDate"]["browserSessions"],
        week.browser_sessions
    );
    assert_eq!(
        by_date[0]["trafficByDate"]["buyBoxPercentage"],
        week.buy_box_percentage
    );
    // The by-ASIN section still covers the requested days only.
    assert_eq!(weekly["salesAndTrafficByAsin"], daily["salesAndTrafficByAsin"]);
    assert_eq!(daily["salesAndTrafficByDate"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn month_granularity_gives_an_entry_per_calendar_month_up_to_today() {
    let t = TestSim::start().await;
    // The simulated today is 2 May 2024.
    let document = sales_document(
        &t,
        ("2024-04-28", "2024-05-01"),
        json!({ "dateGranularity": "MONTH" }),
    )
    .await;

    let by_date = document["salesAndTrafficByDate"].as_array().unwrap();
    let dates: Vec<&str> = by_date.iter().map(|e| e["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2024-04-01", "2024-05-01"]);
    let april = period_totals(&t, "2024-04-01", "2024-04-30");
    let may = period_totals(&t, "2024-05-01", "2024-05-02");
    assert_eq!(by_date[0]["salesByDate"]["unitsOrdered"], april.units_ordered);
    assert_eq!(by_date[1]["salesByDate"]["unitsOrdered"], may.units_ordered);
    assert_eq!(
        by_date[0]["salesByDate"]["orderedProductSales"]["amount"]
            .as_f64()
            .unwrap(),
        april.ordered_product_sales_cents as f64 / 100.0
    );
}
