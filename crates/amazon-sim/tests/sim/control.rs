//! The `/_sim/` control API over real HTTP, as an out-of-process driver uses it.

use amzsync_amazon_sim::Operation;
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{SELLER, TestSim, US, myi_request, sales_request};

impl TestSim {
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the control API answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        self.control(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test]
async fn a_seller_added_over_http_gets_working_sp_and_ads_credentials_until_revoked() {
    let t = TestSim::start().await;

    let (status, credentials) = t
        .post(
            "_sim/sellers",
            json!({ "seller_id": "A2OTHERSELLER", "marketplaces": [{ "marketplace_id": US, "sku_count": 5 }] }),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(credentials["seller_id"], "A2OTHERSELLER");
    assert_eq!(credentials["client_id"], t.credentials.client_id.as_str());
    let refresh = credentials["refresh_token"].as_str().unwrap();
    let ads_refresh = credentials["ads_refresh_token"].as_str().unwrap();
    let secret = credentials["client_secret"].as_str().unwrap();
    assert_eq!(t.token_response(refresh, secret).await.status(), StatusCode::OK);
    assert_eq!(
        t.token_response(ads_refresh, secret).await.status(),
        StatusCode::OK
    );
    let (_, products) = t
        .get_json(&format!(
            "_sim/truth/products?seller_id=A2OTHERSELLER&marketplace_id={US}"
        ))
        .await;
    assert_eq!(products.as_array().unwrap().len(), 5);

    let (status, _) = t
        .post("_sim/grants/revoke", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let response = t.token_response(refresh, secret).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn throttles_and_failures_set_over_http_show_in_the_stats() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    t.post(
        "_sim/faults/throttle",
        json!({ "operation": "createReport", "times": 2 }),
    )
    .await;
    t.post("_sim/faults/fail-next", json!({ "operation": "createReport" }))
        .await;
    let statuses = [
        t.create_report(&token, &myi_request(US)).await.status(),
        t.create_report(&token, &myi_request(US)).await.status(),
        t.create_report(&token, &myi_request(US)).await.status(),
        t.create_report(&token, &myi_request(US)).await.status(),
    ];

    // The failure comes first, as in the library: a 500 is checked before a 429.
    assert_eq!(statuses, [500, 429, 429, 202]);
    let (status, stats) = t
        .get_json(&format!("_sim/stats?seller_id={SELLER}&operation=createReport"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let create = &stats["createReport"];
    assert_eq!(
        (
            create["calls"].clone(),
            create["throttled"].clone(),
            create["failed"].clone(),
            create["injected"].clone()
        ),
        (json!(4), json!(2), json!(1), json!(3))
    );
    let (_, all) = t.get_json(&format!("_sim/stats?seller_id={SELLER}")).await;
    assert!(all.get("createReport").is_some() && all.get("token").is_some());
    assert!(
        all.get("getReport").is_none(),
        "operations never called are left out"
    );
}

#[tokio::test]
async fn usage_plan_violations_are_listed_per_seller_and_operation() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let (_, none) = t.get_json("_sim/violations").await;
    assert_eq!(none, json!([]));

    for _ in 0..16 {
        t.create_report(&token, &myi_request(US)).await;
    }

    let (_, violations) = t.get_json("_sim/violations").await;
    assert_eq!(
        violations,
        json!([{ "seller_id": SELLER, "operation": "createReport", "violations": 1 }])
    );
}

#[tokio::test]
async fn report_outcomes_and_timing_set_over_http_apply_to_the_next_reports() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let (status, _) = t
        .control(
            reqwest::Method::PUT,
            "_sim/report-timing",
            Some(json!({ "polls": 0 })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    t.post("_sim/faults/next-report", json!({ "outcome": "FATAL" }))
        .await;
    let id = t.create(&token, &sales_request(US, "2024-04-20")).await;
    assert_eq!(t.get_report(&token, &id).await["processingStatus"], "FATAL");

    t.control(
        reqwest::Method::PUT,
        "_sim/report-timing",
        Some(json!({ "in_queue_seconds": 60, "in_progress_seconds": 60 })),
    )
    .await;
    let id = t.create(&token, &sales_request(US, "2024-04-21")).await;
    assert_eq!(t.get_report(&token, &id).await["processingStatus"], "IN_QUEUE");
    let (_, clock) = t.post("_sim/clock/advance", json!({ "seconds": 120 })).await;
    assert_eq!(clock["now"], "2024-05-02T10:02:00+00:00");
    assert_eq!(t.get_report(&token, &id).await["processingStatus"], "DONE");
    let (_, clock) = t.get_json("_sim/clock").await;
    assert_eq!(clock["now"], "2024-05-02T10:02:00+00:00");

    let (status, error) = t
        .control(
            reqwest::Method::PUT,
            "_sim/report-timing",
            Some(json!({ "in_queue_seconds": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].is_string());
}

#[tokio::test]
async fn forced_ads_outcomes_and_ads_timing_are_set_over_http() {
    let t = TestSim::start().await;
    t.control(
        reqwest::Method::PUT,
        "_sim/ads-report-timing",
        Some(json!({ "polls": 0 })),
    )
    .await;
    let (status, _) = t
        .post("_sim/faults/next-ads-report", json!({ "outcome": "FAILED" }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let body = crate::harness::ads_request(
        "spCampaigns",
        &["campaign"],
        &["date", "clicks"],
        "DAILY",
        "2024-04-20",
        "2024-04-20",
    );

    let created: Value = t.ads_create(&token, profile, &body).await.json().await.unwrap();

    assert_eq!(created["status"], "FAILED");
}

#[tokio::test]
async fn chance_faults_are_set_and_cleared_over_http() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let (status, _) = t
        .control(
            reqwest::Method::PUT,
            "_sim/faults",
            Some(json!({ "operations": { "getReports": { "unavailable": 1.0 } } })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let path = "reports/2021-06-30/reports?reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";
    assert_eq!(
        t.sp_get(&token, path).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let (status, _) = t.control(reqwest::Method::DELETE, "_sim/faults", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(t.sp_get(&token, path).await.status(), StatusCode::OK);
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).unavailable, 1);

    for bad in [
        json!({ "all": { "server_error": 2.0 } }),
        json!({ "operations": { "noSuchOperation": {} } }),
        json!({ "all": { "typo": 0.5 } }),
    ] {
        let (status, _) = t.control(reqwest::Method::PUT, "_sim/faults", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn the_ground_truth_over_http_equals_the_library_truth_now_and_as_of_an_instant() {
    let t = TestSim::start().await;
    let then = t.sim.now();
    let day = NaiveDate::from_ymd_opt(2024, 4, 30).unwrap();
    let path = format!("_sim/truth/sales-and-traffic?seller_id={SELLER}&marketplace_id={US}&date={day}");
    let (status, before) = t.get_json(&path).await;
    assert_eq!(status, StatusCode::OK);
    let truth = t.sim.truth().sales_and_traffic(SELLER, US, day).unwrap();
    assert_eq!(before["totals"]["units_ordered"], truth.totals.units_ordered);
    assert_eq!(before["skus"].as_array().unwrap().len(), truth.skus.len());
    assert_eq!(before["skus"][0]["sku"], truth.skus[0].sku.as_str());

    t.post("_sim/clock/advance", json!({ "seconds": 5 * 24 * 3600 }))
        .await;
    let (_, after) = t.get_json(&path).await;
    let as_of = then.to_rfc3339().replace('+', "%2B");
    let (_, as_then) = t.get_json(&format!("{path}&as_of={as_of}")).await;

    assert_ne!(after, before, "a two-day-old day restates");
    assert_eq!(as_then, before);

    let (_, inventory) = t
        .get_json(&format!(
            "_sim/truth/inventory?seller_id={SELLER}&marketplace_id={US}"
        ))
        .await;
    assert_eq!(inventory.as_array().unwrap().len(), 12);
    let (_, ledger) = t
        .get_json(&format!(
            "_sim/truth/ledger?seller_id={SELLER}&marketplace_id={US}&date={day}"
        ))
        .await;
    assert!(!ledger.as_array().unwrap().is_empty());
    let (_, profiles) = t
        .get_json(&format!("_sim/truth/ads-profiles?seller_id={SELLER}"))
        .await;
    let profile = profiles[0]["profile_id"].as_i64().unwrap();
    let (_, ads) = t
        .get_json(&format!(
            "_sim/truth/ads?profile_id={profile}&date={day}&grain=campaigns"
        ))
        .await;
    let expected = t.sim.truth().ads_campaigns(profile, day).unwrap();
    assert_eq!(ads.as_array().unwrap().len(), expected.len());
    assert_eq!(ads[0]["campaign_id"], expected[0].campaign_id);
    assert_eq!(ads[0]["metrics"]["clicks"], expected[0].metrics.clicks);
}

#[tokio::test]
async fn unknown_sellers_are_404_and_missing_parameters_400() {
    let t = TestSim::start().await;

    let (status, error) = t
        .get_json(&format!(
            "_sim/truth/sales-and-traffic?seller_id=NOBODY&marketplace_id={US}&date=2024-04-30"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error["error"].as_str().unwrap().contains("NOBODY"));

    let (status, _) = t
        .get_json(&format!(
            "_sim/truth/ledger?seller_id={SELLER}&marketplace_id={US}"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = t
        .post(
            "_sim/sellers",
            json!({ "seller_id": "X", "marketplaces": [{ "marketplace_id": "NOPE", "sku_count": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .post("_sim/faults/throttle", json!({ "operation": "nope" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
