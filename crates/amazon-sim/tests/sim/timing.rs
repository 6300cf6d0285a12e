//! Clock modes and time-driven report delays (PROTOCOL.md §3.9, §5.10): reports
//! that complete after simulated time whoever polls them, and a live clock.

use std::time::Duration;

use amzsync_amazon_sim::{ClockMode, Config, ReportTiming, Simulator};
use reqwest::Method;
use serde_json::Value;

use crate::harness::{TestSim, US, ads_request, myi_request};

const MINUTE: Duration = Duration::from_secs(60);

fn timed(in_queue: Duration, in_progress: Duration) -> ReportTiming {
    ReportTiming::Duration {
        in_queue,
        in_progress,
    }
}

#[tokio::test]
async fn a_timed_report_stays_queued_until_its_queue_time_passes_however_often_it_is_polled() {
    let t = TestSim::with_config(Config {
        report_timing: Some(timed(2 * MINUTE, 3 * MINUTE)),
        ..Config::default()
    })
    .await;
    let token = t.access_token().await;
    let id = t.create(&token, &myi_request(US)).await;

    for _ in 0..5 {
        assert_eq!(t.get_report(&token, &id).await["processingStatus"], "IN_QUEUE");
    }
    t.sim.advance(2 * MINUTE);
    let report = t.get_report(&token, &id).await;
    assert_eq!(report["processingStatus"], "IN_PROGRESS");
    assert!(report["processingStartTime"].is_string());
    t.sim.advance(3 * MINUTE);
    let report = t.get_report(&token, &id).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert!(report["reportDocumentId"].is_string());
}

#[tokio::test]
async fn a_timed_report_is_done_in_a_listing_without_being_polled() {
    let t = TestSim::start().await;
    t.sim.set_report_timing(timed(MINUTE, MINUTE));
    let token = t.access_token().await;
    let id = t.create(&token, &myi_request(US)).await;

    t.sim.advance(2 * MINUTE);
    let response = t
        .sp_get(
            &token,
            "reports/2021-06-30/reports?reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA&processingStatuses=DONE",
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let reports = body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["reportId"], id.as_str());
}

#[tokio::test]
async fn polls_and_duration_together_need_both_the_polls_and_the_time() {
    let t = TestSim::start().await;
    t.sim.set_report_timing(ReportTiming::PollsAndDuration {
        polls: 2,
        in_queue: MINUTE,
        in_progress: MINUTE,
    });
    let token = t.access_token().await;
    let id = t.create(&token, &myi_request(US)).await;

    t.sim.advance(10 * MINUTE);
    let statuses = [
        t.get_report(&token, &id).await["processingStatus"].clone(),
        t.get_report(&token, &id).await["processingStatus"].clone(),
        t.get_report(&token, &id).await["processingStatus"].clone(),
    ];
    assert_eq!(statuses, ["IN_QUEUE", "IN_PROGRESS", "DONE"]);
}

#[tokio::test]
async fn a_timed_ads_report_goes_from_pending_to_completed_with_the_clock() {
    let t = TestSim::with_config(Config {
        ads_report_timing: Some(timed(5 * MINUTE, 10 * MINUTE)),
        ..Config::default()
    })
    .await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let body = ads_request(
        "spCampaigns",
        &["campaign"],
        &["date", "campaignId", "clicks"],
        "DAILY",
        "2024-04-20",
        "2024-04-20",
    );
    let created: Value = t.ads_create(&token, profile, &body).await.json().await.unwrap();
    let id = created["reportId"].as_str().unwrap();
    assert_eq!(created["status"], "PENDING");

    assert_eq!(t.ads_get(&token, profile, id).await["status"], "PENDING");
    t.sim.advance(5 * MINUTE);
    assert_eq!(t.ads_get(&token, profile, id).await["status"], "PROCESSING");
    t.sim.advance(10 * MINUTE);
    let report = t.ads_get(&token, profile, id).await;
    assert_eq!(report["status"], "COMPLETED");
    let (_, rows) = t.ads_download(&report).await;
    assert!(!rows.is_empty());
    // Once complete, an identical request is no longer a duplicate.
    let again = t
        .ads(Method::POST, &token, "reporting/reports", Some(profile))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_live_clock_runs_at_its_speed_and_manual_advances_add_to_it() {
    let config = Config {
        clock: ClockMode::Live { speed: 60.0 },
        ..Config::default()
    };
    let start = config.start.unwrap();
    let sim = Simulator::start_local(config).await.unwrap();

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(sim.now(), start + chrono::Duration::minutes(30));
    sim.advance(Duration::from_secs(3600));
    assert_eq!(sim.now(), start + chrono::Duration::minutes(90));
}
