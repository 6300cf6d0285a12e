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
