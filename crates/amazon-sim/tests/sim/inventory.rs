//! FBA Inventory API getInventorySummaries (PROTOCOL.md §4.3).

use std::time::Duration;

use amzsync_amazon_sim::Seller;
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{SELLER, TestSim, US, example};

const BIG_SELLER: &str = "A1BIGSELLER";

/// A store with 120 SKUs (three pages) and an SP-API token for it.
async fn big_store() -> (TestSim, String) {
    let t = TestSim::start().await;
    let credentials = t
        .sim
        .add_seller(Seller::new(BIG_SELLER).marketplace(US, 120))
        .unwrap();
    let response = t
        .token_response(&credentials.refresh_token, &credentials.client_secret)
        .await;
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (t, token)
}

async fn summaries(t: &TestSim, token: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut query = vec![
        ("granularityType", "Marketplace"),
        ("granularityId", US),
        ("marketplaceIds", US),
    ];
    if !extra.iter().any(|(k, _)| *k == "details") {
        query.push(("details", "true"));
    }
    query.extend_from_slice(extra);
    t.http
        .get(t.url("fba/inventory/v1/summaries"))
        .query(&query)
        .header("x-amz-access-token", token)
        .send()
        .await
        .expect("getInventorySummaries answers")
}

#[tokio::test]
async fn inventory_summaries_page_through_all_skus_in_sku_order_and_equal_the_myi_ground_truth() {
    let (t, token) = big_store().await;
    let mut pages = Vec::new();
    let mut next: Option<String> = None;

    loop {
        let extra: Vec<(&str, &str)> = next.iter().map(|n| ("nextToken", n.as_str())).collect();
        let response = summaries(&t, &token, &extra).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-amzn-RateLimit-Limit"], "2.0");
        let page: Value = response.json().await.unwrap();
        next = page["pagination"]["nextToken"].as_str().map(str::to_owned);
        pages.push(page);
        // Two calls per second with a burst of two: a polite client spaces them.
        t.sim.advance(Duration::from_secs(1));
        if next.is_none() {
            break;
        }
    }

    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["payload"]["inventorySummaries"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(
        pages[0]["payload"]["granularity"],
        example("fba_inventory_summaries_page1.json")["payload"]["granularity"]
    );
    let summaries: Vec<&Value> = pages
        .iter()
        .flat_map(|p| p["payload"]["inventorySummaries"].as_array().unwrap())
        .collect();
    let mut expected = t.sim.truth().inventory(BIG_SELLER, US).unwrap();
    expected.sort_by(|a, b| a.sku.cmp(&b.sku));
    let template = &example("fba_inventory_summaries_page1.json")["payload"]["inventorySummaries"][0];
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    for (summary, row) in summaries.iter().zip(&expected) {
        assert_eq!(keys(summary), keys(template));
        assert_eq!(
            keys(&summary["inventoryDetails"]),
            keys(&template["inventoryDetails"])
        );
        assert_eq!(summary["sellerSku"], row.sku.as_str());
        assert_eq!(summary["fnSku"], row.fnsku.as_str());
        assert_eq!(summary["asin"], row.asin.as_str());
        assert_eq!(summary["totalQuantity"], row.afn_total_quantity);
        let details = &summary["inventoryDetails"];
        assert_eq!(details["fulfillableQuantity"], row.afn_fulfillable_quantity);
        assert_eq!(
            details["inboundWorkingQuantity"],
            row.afn_inbound_working_quantity
        );
        assert_eq!(
            details["inboundShippedQuantity"],
            row.afn_inbound_shipped_quantity
        );
        assert_eq!(
            details["inboundReceivingQuantity"],
            row.afn_inbound_receiving_quantity
        );
        assert_eq!(
            details["reservedQuantity"]["totalReservedQuantity"],
            row.afn_reserved_quantity
        );
        assert_eq!(
            details["unfulfillableQuantity"]["totalUnfulfillableQuantity"],
            row.afn_unsellable_quantity
        );
        assert_eq!(
            details["researchingQuantity"]["totalResearchingQuantity"],
            row.afn_researching_quantity
        );
    }
    assert_eq!(summaries.len(), expected.len());
    assert!(pages.last().unwrap()["pagination"].get("nextToken").is_none());
}

#[tokio::test]
async fn a_next_token_older_than_thirty_seconds_is_a_400() {
    let (t, token) = big_store().await;
    let first: Value = summaries(&t, &token, &[]).await.json().await.unwrap();
    let next = first["pagination"]["nextToken"].as_str().unwrap().to_owned();
    assert!(
        next.contains('+') && next.contains('/') && next.contains('='),
        "{next}"
    );

    t.sim.advance(Duration::from_secs(31));
    let expired = summaries(&t, &token, &[("nextToken", &next)]).await;
    let unencoded = t
        .http
        .get(format!(
            "{}?granularityType=Marketplace&granularityId={US}&marketplaceIds={US}&nextToken={next}",
            t.url("fba/inventory/v1/summaries")
        ))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();

    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        expired.json::<Value>().await.unwrap(),
        example("fba_inventory_error_400.json")
    );
    assert_eq!(unencoded.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn seller_skus_select_summaries_and_details_false_leaves_the_details_out() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let inventory = t.sim.truth().inventory(SELLER, US).unwrap();
    let wanted = format!("{},{}", inventory[3].sku, inventory[1].sku);

    let response = summaries(&t, &token, &[("sellerSkus", &wanted), ("details", "false")]).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let selected = body["payload"]["inventorySummaries"].as_array().unwrap();
    let mut skus: Vec<&str> = selected
        .iter()
        .map(|s| s["sellerSku"].as_str().unwrap())
        .collect();
    let mut expected = vec![inventory[1].sku.as_str(), inventory[3].sku.as_str()];
    skus.sort_unstable();
    expected.sort_unstable();
    assert_eq!(skus, expected);
    assert!(selected.iter().all(|s| s.get("inventoryDetails").is_none()));
    assert_eq!(body["pagination"], serde_json::json!({}));
}

#[tokio::test]
async fn a_granularity_other_than_marketplace_is_invalid_input() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let response = t
        .http
        .get(t.url("fba/inventory/v1/summaries"))
        .query(&[
            ("granularityType", "Region"),
            ("granularityId", US),
            ("marketplaceIds", US),
        ])
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
}
