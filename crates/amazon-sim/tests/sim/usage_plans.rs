//! Usage plans, throttling and injected failures (PROTOCOL.md §2.4–§2.6).

use std::time::Duration;

use amzsync_amazon_sim::{Config, Operation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{SELLER, TestSim, US, example, myi_request};

#[tokio::test]
async fn create_report_allows_its_burst_of_fifteen_then_answers_429_until_the_bucket_refills() {
    let t = TestSim::with_config(Config {
        nrt_cooldown: None,
        ..Config::default()
    })
    .await;
    let token = t.access_token().await;

    for _ in 0..15 {
        let response = t.create_report(&token, &myi_request(US)).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()["x-amzn-RateLimit-Limit"], "0.0167");
    }
    let throttled = t.create_report(&token, &myi_request(US)).await;

    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().get("x-amzn-RateLimit-Limit").is_none());
    assert!(throttled.headers().get("retry-after").is_none());
    assert_eq!(
        throttled.json::<Value>().await.unwrap(),
        example("spapi_error_429_quota_exceeded.json")
    );
    let stats = t.sim.stats(SELLER, Operation::CreateReport);
    assert_eq!((stats.calls, stats.throttled, stats.violations), (16, 1, 1));

    t.sim.advance(Duration::from_secs(61));
    assert_eq!(
        t.create_report(&token, &myi_request(US)).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn an_unenforced_plan_serves_the_call_and_counts_the_violation() {
    let t = TestSim::with_config(Config {
        enforce_usage_plans: false,
        ..Config::default()
    })
    .await;
    let token = t.access_token().await;
    let path = "reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT";

    for _ in 0..12 {
        assert_eq!(t.sp_get(&token, path).await.status(), StatusCode::OK);
    }

    let stats = t.sim.stats(SELLER, Operation::GetReports);
    assert_eq!((stats.calls, stats.throttled, stats.violations), (12, 0, 2));
}

#[tokio::test]
async fn a_throttled_operation_answers_429_the_given_number_of_times_then_recovers() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let report_id = t.create(&token, &myi_request(US)).await;
    t.sim.throttle(Operation::GetReport, 2);
    let path = format!("reports/2021-06-30/reports/{report_id}");

    let first = t.sp_get(&token, &path).await.status();
    let second = t.sp_get(&token, &path).await.status();
    let third = t.sp_get(&token, &path).await;

    assert_eq!([first, second], [StatusCode::TOO_MANY_REQUESTS; 2]);
    assert_eq!(third.status(), StatusCode::OK);
    assert_eq!(third.headers()["x-amzn-RateLimit-Limit"], "2.0");
    assert_eq!(t.sim.stats(SELLER, Operation::GetReport).throttled, 2);
}

#[tokio::test]
async fn an_injected_failure_answers_500_once_without_changing_the_report() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.fail_next(Operation::CreateReport);

    let failed = t.create_report(&token, &myi_request(US)).await;
    let retried = t.create_report(&token, &myi_request(US)).await;

    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = failed.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "InternalFailure");
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    assert_eq!(t.sim.stats(SELLER, Operation::CreateReport).failed, 1);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let t = TestSim::start().await;

    let response = t
        .http
        .get(t.url("reports/2021-06-30/nowhere"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().contains_key("x-amzn-RequestId"));
}
