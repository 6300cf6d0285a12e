//! A store large enough that documents span many streamed pieces (thousands of
//! SKUs, megabytes of text): what arrives is still exactly the ground truth, and
//! the FBA Inventory API pages through it in SKU order.

use amzsync_amazon_sim::{AsinGranularity, Config, Seller};
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{LEDGER, TestSim, US, myi_request};

const BIG: &str = "A1BIGSTORE";
const SKUS: u32 = 3_000;

async fn big_store() -> (TestSim, String) {
    let t = TestSim::with_config(Config {
        report_polls: 0,
        ..Config::default()
    })
    .await;
    let credentials = t.sim.add_seller(Seller::new(BIG).marketplace(US, SKUS)).unwrap();
    let response = t
        .token_response(&credentials.refresh_token, &credentials.client_secret)
        .await;
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (t, token)
}

async fn document(t: &TestSim, token: &str, request: &Value) -> Vec<u8> {
    let id = t.create(token, request).await;
    let (_, report) = t.poll_until_terminal(token, &id).await;
    let document_id = report["reportDocumentId"].as_str().unwrap();
    t.download(token, document_id).await.2
}

#[tokio::test]
async fn a_large_inventory_file_and_ledger_hold_every_sku_of_the_ground_truth() {
    let (t, token) = big_store().await;

    let text = String::from_utf8(document(&t, &token, &myi_request(US)).await).unwrap();
    let truth = t.sim.truth().inventory(BIG, US).unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), SKUS as usize);
    for (line, row) in lines.iter().zip(&truth) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields[0], row.sku);
        assert_eq!(fields[10], row.afn_fulfillable_quantity.to_string());
    }

    let day = NaiveDate::from_ymd_opt(2024, 4, 20).unwrap();
    let ledger = json!({
        "reportType": LEDGER,
        "marketplaceIds": [US],
        "dataStartTime": "2024-04-20T00:00:00Z",
        "dataEndTime": "2024-04-20T23:59:59Z",
        "reportOptions": { "aggregatedByTimePeriod": "DAILY" },
    });
    let text = String::from_utf8(document(&t, &token, &ledger).await).unwrap();
    let truth = t.sim.truth().ledger(BIG, US, day).unwrap();
    assert_eq!(text.lines().count(), truth.len() + 1);
    let last = text.lines().last().unwrap();
    assert!(last.contains(&truth.last().unwrap().msku), "{last}");
}

#[tokio::test]
async fn a_large_multi_day_sales_and_traffic_report_sums_every_sku_of_the_ground_truth() {
    let (t, token) = big_store().await;
    let days = [
        NaiveDate::from_ymd_opt(2024, 4, 20).unwrap(),
        NaiveDate::from_ymd_opt(2024, 4, 21).unwrap(),
    ];
    let request = json!({
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "marketplaceIds": [US],
        "dataStartTime": "2024-04-20T00:00:00Z",
        "dataEndTime": "2024-04-21T23:59:59Z",
        "reportOptions": { "dateGranularity": "DAY", "asinGranularity": "CHILD" },
    });

    let body: Value = serde_json::from_slice(&document(&t, &token, &request).await).unwrap();

    let truth = t.sim.truth();
    let by_date = body["salesAndTrafficByDate"].as_array().unwrap();
    assert_eq!(by_date.len(), 2);
    for (entry, day) in by_date.iter().zip(days) {
        let day_truth = truth.sales_and_traffic(BIG, US, day).unwrap();
        assert_eq!(
            entry["salesByDate"]["unitsOrdered"],
            day_truth.totals.units_ordered
        );
        assert_eq!(
            entry["trafficByDate"]["sessions"],
            day_truth.totals.browser_sessions + day_truth.totals.mobile_app_sessions
        );
    }
    let rows = body["salesAndTrafficByAsin"].as_array().unwrap();
    let per_day: Vec<_> = days
        .iter()
        .map(|d| {
            truth
                .sales_and_traffic_by_asin(BIG, US, *d, AsinGranularity::Child)
                .unwrap()
        })
        .collect();
    let units: u64 = rows
        .iter()
        .map(|r| r["salesByAsin"]["unitsOrdered"].as_u64().unwrap())
        .sum();
    let truth_units: u64 = per_day.iter().flatten().map(|s| u64::from(s.units_ordered)).sum();
    assert_eq!(units, truth_units);
    assert!(rows.len() > 2_000, "a row per ASIN with traffic: {}", rows.len());
}

#[tokio::test]
async fn the_inventory_api_pages_through_a_large_store_in_sku_order() {
    let (t, token) = big_store().await;
    let mut skus = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..100 {
        let mut query = vec![
            ("granularityType", "Marketplace".to_owned()),
            ("granularityId", US.to_owned()),
            ("marketplaceIds", US.to_owned()),
        ];
        if let Some(token) = &next {
            query.push(("nextToken", token.clone()));
        }
        let response = t
            .http
            .get(t.url("fba/inventory/v1/summaries"))
            .query(&query)
            .header("x-amz-access-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let page = body["payload"]["inventorySummaries"].as_array().unwrap();
        skus.extend(page.iter().map(|s| s["sellerSku"].as_str().unwrap().to_owned()));
        next = body["pagination"]["nextToken"].as_str().map(str::to_owned);
        if next.is_none() {
            break;
        }
        // Amazon's plan for getInventorySummaries is 2 per second.
        t.sim.advance(std::time::Duration::from_secs(1));
    }
    let mut expected: Vec<String> = t
        .sim
        .truth()
        .inventory(BIG, US)
        .unwrap()
        .into_iter()
        .map(|r| r.sku)
        .collect();
    expected.sort();
    assert_eq!(skus, expected);
}
