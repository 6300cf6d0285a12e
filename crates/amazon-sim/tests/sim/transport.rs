//! Faults below HTTP statuses ([`FaultRates::reset`], [`FaultRates::timeout`],
//! [`FaultRates::corrupt`]), reports stuck in processing
//! ([`FaultRates::report_stuck`]) and faults per store ([`SellerFaults`]). No test
//! sleeps: a timeout is met by a client with a short timeout, or on Tokio's
//! paused clock.

use std::io::Read as _;
use std::time::Duration;

use amzsync_amazon_sim::{ClockMode, Config, FaultRates, Faults, Operation, Seller, SellerFaults};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{SELLER, TestSim, US, ads_request, myi_request, sales_request};

const REPORTS: &str = "reports/2021-06-30/reports?reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";

fn on(op: Operation, rates: FaultRates) -> Config {
    Config {
        faults: Faults::default().operation(op, rates),
        enforce_usage_plans: false,
        // Stuck reports are waited out over simulated hours.
        access_token_lifetime: Duration::from_secs(24 * 3600),
        ..Config::default()
    }
}

/// The whole exchange: the status and body, or the transport error that ended it
/// (before or after the status line).
async fn exchange(request: reqwest::RequestBuilder) -> Result<(StatusCode, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.bytes().await?.to_vec()))
}

/// Runs a report to DONE and returns its document's download URL.
async fn document_url(t: &TestSim, token: &str, request: &Value) -> String {
    let id = t.create(token, request).await;
    let (_, report) = t.poll_until_terminal(token, &id).await;
    let document_id = report["reportDocumentId"].as_str().unwrap();
    let response = t
        .sp_get(token, &format!("reports/2021-06-30/documents/{document_id}"))
        .await;
    let document: Value = response.json().await.unwrap();
    document["url"].as_str().unwrap().to_owned()
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain)?;
    Ok(plain)
}

#[tokio::test]
async fn a_reset_closes_the_connection_instead_of_answering_an_api_call() {
    let t = TestSim::with_config(on(
        Operation::GetReports,
        FaultRates {
            reset: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;

    let outcome = exchange(t.http.get(t.url(REPORTS)).header("x-amz-access-token", &token)).await;

    let error = outcome.expect_err("a reset call has no complete answer");
    assert!(!error.is_timeout(), "{error:?}");
    let stats = t.sim.stats(SELLER, Operation::GetReports);
    assert_eq!((stats.calls, stats.reset, stats.injected), (1, 1, 1));
    // The next call on a new connection is served: the fault was the call's.
    t.sim.clear_faults();
    assert_eq!(t.sp_get(&token, REPORTS).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_download_closes_the_connection_part_way_through_the_body() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            reset: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let url = document_url(&t, &token, &myi_request(US)).await;

    let response = t.http.get(&url).send().await.expect("the status line arrives");
    assert_eq!(response.status(), StatusCode::OK);
    let mut response = response;
    let mut received = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => panic!("the body completed"),
            Err(error) => break error,
        }
    };
    assert!(!error.is_timeout(), "{error:?}");
    assert!(received > 0, "part of the body arrives first");

    let stats = t.sim.stats(SELLER, Operation::DownloadReportDocument);
    assert_eq!((stats.reset, stats.injected), (1, 1));
}

#[tokio::test]
async fn a_timed_out_call_never_answers_within_the_clients_timeout() {
    let t = TestSim::with_config(on(
        Operation::GetReports,
        FaultRates {
            timeout: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let outcome = exchange(impatient.get(t.url(REPORTS)).header("x-amz-access-token", &token)).await;

    assert!(outcome.expect_err("no answer in time").is_timeout());
    let stats = t.sim.stats(SELLER, Operation::GetReports);
    assert_eq!((stats.timed_out, stats.injected), (1, 1));
}

#[tokio::test]
async fn a_timed_out_download_stalls_after_part_of_its_body() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            timeout: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let url = document_url(&t, &token, &sales_request(US, "2024-04-20")).await;
    let impatient = reqwest::Client::builder()
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let response = impatient.get(&url).send().await.expect("the status line arrives");
    assert_eq!(response.status(), StatusCode::OK);
    let error = response.bytes().await.expect_err("the body stalls");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(
        t.sim.stats(SELLER, Operation::DownloadReportDocument).timed_out,
        1
    );
}

#[tokio::test(start_paused = true)]
async fn on_a_live_clock_a_timed_out_call_is_dropped_after_its_simulated_time() {
    // An hour of simulated time at 3600× is a real second, on Tokio's paused
    // clock, which jumps ahead whenever everything waits.
    let t = TestSim::with_config(Config {
        clock: ClockMode::Live { speed: 3600.0 },
        ..on(
            Operation::GetReports,
            FaultRates {
                timeout: 1.0,
                timeout_after: Duration::from_secs(3600),
                ..FaultRates::default()
            },
        )
    })
    .await;
    let token = t.access_token().await;
    let started = tokio::time::Instant::now();

    let outcome = exchange(t.http.get(t.url(REPORTS)).header("x-amz-access-token", &token)).await;

    let error = outcome.expect_err("the connection is closed without an answer");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_corrupt_download_is_a_complete_200_with_one_byte_flipped_whose_gzip_fails() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            corrupt: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let url = document_url(&t, &token, &sales_request(US, "2024-04-20")).await;

    let (status, corrupt) = exchange(t.http.get(&url)).await.unwrap();
    t.sim.clear_faults();
    let (_, whole) = exchange(t.http.get(&url)).await.unwrap();

    assert_eq!(status, StatusCode::OK);
    assert_eq!(corrupt.len(), whole.len());
    let differing = corrupt.iter().zip(&whole).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 1);
    assert!(gunzip(&corrupt).is_err(), "a corrupt gzip does not decode");
    assert!(gunzip(&whole).is_ok());
    let stats = t.sim.stats(SELLER, Operation::DownloadReportDocument);
    assert_eq!((stats.corrupted, stats.injected), (1, 1));
}

#[tokio::test]
async fn an_uncompressed_document_is_never_corrupted() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            corrupt: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let url = document_url(&t, &token, &myi_request(US)).await;

    let (status, body) = exchange(t.http.get(&url)).await.unwrap();

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(body).unwrap().lines().count(),
        t.sim.truth().inventory(SELLER, US).unwrap().len() + 1
    );
    assert_eq!(t.sim.stats(SELLER, Operation::DownloadReportDocument).injected, 0);
}

/// What each of `calls` getReports calls met, by seed: a status or `reset`.
async fn outcomes(seed: u64, calls: usize) -> Vec<String> {
    let t = TestSim::with_config(Config {
        seed,
        ..on(
            Operation::GetReports,
            FaultRates {
                server_error: 0.2,
                reset: 0.3,
                ..FaultRates::default()
            },
        )
    })
    .await;
    let token = t.access_token().await;
    let mut out = Vec::new();
    for _ in 0..calls {
        let request = t.http.get(t.url(REPORTS)).header("x-amz-access-token", &token);
        out.push(match exchange(request).await {
            Ok((status, _)) => status.as_str().to_owned(),
            Err(_) => "reset".to_owned(),
        });
    }
    let stats = t.sim.stats(SELLER, Operation::GetReports);
    assert_eq!(stats.reset, out.iter().filter(|o| *o == "reset").count() as u64);
    out
}

#[tokio::test]
async fn the_same_seed_meets_the_same_resets() {
    let first = outcomes(7, 30).await;
    assert_eq!(first, outcomes(7, 30).await);
    assert_ne!(first, outcomes(8, 30).await);
    assert!(first.contains(&"reset".to_owned()) && first.contains(&"200".to_owned()));
}

#[tokio::test]
async fn faults_can_be_set_per_store_and_per_operation_within_a_store() {
    const OTHER: &str = "A2OTHERSELLER";
    let rates = |p: f64| FaultRates {
        server_error: p,
        ..FaultRates::default()
    };
    let t = TestSim::with_config(Config {
        faults: Faults::everywhere(rates(1.0)).seller(
            SELLER,
            SellerFaults::everywhere(rates(0.0)).operation(Operation::GetReports, rates(1.0)),
        ),
        ..Config::default()
    })
    .await;
    let other = t.sim.add_seller(Seller::new(OTHER).marketplace(US, 3)).unwrap();
    // Token calls of the store are spared by its own rates; the other store's fail.
    let token = t.access_token().await;
    let refused = t.token_response(&other.refresh_token, &other.client_secret).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);

    assert_eq!(
        t.sp_get(&token, REPORTS).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        t.create_report(&token, &myi_request(US)).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(t.sim.stats(OTHER, Operation::Token).failed, 1);
    assert_eq!(t.sim.stats(SELLER, Operation::Token).failed, 0);
}

#[tokio::test]
async fn store_faults_can_be_set_over_the_control_api() {
    let t = TestSim::start().await;
    let body = json!({
        "sellers": { SELLER: { "operations": { "getReports": { "reset": 1.0 } } } },
        "all": { "unavailable": 1.0 },
    });
    let response = t.http.put(t.url("_sim/faults")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // The store's own rates replace the global ones for all its calls.
    let token = t.access_token().await;
    let outcome = exchange(t.http.get(t.url(REPORTS)).header("x-amz-access-token", &token)).await;
    assert!(outcome.is_err());
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).reset, 1);

    let bad = json!({ "sellers": { SELLER: { "all": { "corrupt": 2.0 } } } });
    let response = t.http.put(t.url("_sim/faults")).json(&bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_stuck_report_stays_in_progress_for_its_simulated_hours_then_finishes() {
    let t = TestSim::with_config(on(
        Operation::CreateReport,
        FaultRates {
            report_stuck: 1.0,
            stuck_for: Duration::from_secs(3 * 3600),
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let id = t.create(&token, &sales_request(US, "2024-04-20")).await;

    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(t.get_report(&token, &id).await["processingStatus"].clone());
    }
    assert_eq!(seen.last().unwrap(), "IN_PROGRESS", "{seen:?}");
    t.sim.advance(Duration::from_secs(2 * 3600));
    assert_eq!(t.get_report(&token, &id).await["processingStatus"], "IN_PROGRESS");
    t.sim.advance(Duration::from_secs(3600));
    let report = t.get_report(&token, &id).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert!(report["reportDocumentId"].is_string());
    let stats = t.sim.stats(SELLER, Operation::CreateReport);
    assert_eq!((stats.stuck, stats.injected), (1, 1));
}

#[tokio::test]
async fn a_stuck_ads_report_stays_processing_until_its_time_has_passed() {
    let t = TestSim::with_config(on(
        Operation::CreateAsyncReport,
        FaultRates {
            report_stuck: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.ads_access_token().await;
    let profile = t.sim.truth().ads_profiles(SELLER).unwrap()[0].profile_id;
    let body = ads_request(
        "spCampaigns",
        &["campaign"],
        &["date", "clicks"],
        "DAILY",
        "2024-04-20",
        "2024-04-20",
    );
    let response = t.ads_create(&token, profile, &body).await;
    let id = response.json::<Value>().await.unwrap()["reportId"]
        .as_str()
        .unwrap()
        .to_owned();

    for _ in 0..10 {
        t.ads_get(&token, profile, &id).await;
    }
    assert_eq!(t.ads_get(&token, profile, &id).await["status"], "PROCESSING");
    t.sim.advance(amzsync_amazon_sim::DEFAULT_STUCK_FOR);
    assert_eq!(t.ads_get(&token, profile, &id).await["status"], "COMPLETED");
    assert_eq!(t.sim.stats(SELLER, Operation::CreateAsyncReport).stuck, 1);
}

#[tokio::test]
async fn a_corrupt_ads_download_has_its_full_size_but_does_not_gunzip() {
    let t = TestSim::with_config(on(
        Operation::DownloadAdsReport,
        FaultRates {
            corrupt: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.ads_access_token().await;
    let profile = t.sim.truth().ads_profiles(SELLER).unwrap()[0].profile_id;
    let body = ads_request(
        "spAdvertisedProduct",
        &["advertiser"],
        &["date", "advertisedSku", "clicks"],
        "DAILY",
        "2024-04-14",
        "2024-04-20",
    );
    let (_, report) = t.ads_run(&token, profile, &body).await;

    let (status, bytes) = exchange(t.http.get(report["url"].as_str().unwrap()))
        .await
        .unwrap();

    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes.len() as u64, report["fileSize"].as_u64().unwrap());
    assert!(gunzip(&bytes).is_err());
    assert_eq!(t.sim.stats(SELLER, Operation::DownloadAdsReport).corrupted, 1);
}
