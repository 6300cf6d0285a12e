//! Probabilistic fault injection ([`Faults`]): each kind of fault, counted in the
//! statistics, and reproducible from the seed.

use std::io::Read as _;
use std::time::{Duration, Instant};

use amzsync_amazon_sim::{Config, FaultRates, Faults, Operation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{SELLER, TestSim, US, ads_request, myi_request, sales_request, sp_error};

const REPORTS: &str = "reports/2021-06-30/reports?reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";

fn on(op: Operation, rates: FaultRates) -> Config {
    Config {
        faults: Faults::default().operation(op, rates),
        // Chaos, not the usage plan, decides every answer below.
        enforce_usage_plans: false,
        ..Config::default()
    }
}

async fn statuses(seed: u64, calls: usize) -> Vec<u16> {
    let t = TestSim::with_config(Config {
        seed,
        ..on(
            Operation::GetReports,
            FaultRates {
                server_error: 0.2,
                unavailable: 0.2,
                throttle: 0.2,
                ..FaultRates::default()
            },
        )
    })
    .await;
    let token = t.access_token().await;
    let mut out = Vec::new();
    for _ in 0..calls {
        out.push(t.sp_get(&token, REPORTS).await.status().as_u16());
    }
    let stats = t.sim.stats(SELLER, Operation::GetReports);
    let count = |code| out.iter().filter(|s| **s == code).count() as u64;
    assert_eq!(stats.failed, count(500));
    assert_eq!(stats.unavailable, count(503));
    assert_eq!(stats.throttled, count(429));
    assert_eq!(stats.injected, count(500) + count(503) + count(429));
    out
}

#[tokio::test]
async fn the_same_seed_meets_the_same_faults_and_another_seed_other_ones() {
    let first = statuses(7, 40).await;
    let again = statuses(7, 40).await;
    let other = statuses(8, 40).await;

    assert_eq!(first, again);
    assert_ne!(first, other);
    for code in [200, 429, 500, 503] {
        assert!(first.contains(&code), "{code} in {first:?}");
    }
}

#[tokio::test]
async fn a_503_is_service_unavailable_in_amazons_error_shape() {
    let t = TestSim::with_config(on(
        Operation::GetReports,
        FaultRates {
            unavailable: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;

    let response = t.sp_get(&token, REPORTS).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sp_error(response).await["code"], "ServiceUnavailable");
    // Other operations keep working.
    let id = t.create(&token, &myi_request(US)).await;
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_chance_429_comes_while_the_usage_plan_still_has_tokens_and_is_no_violation() {
    let t = TestSim::with_config(Config {
        enforce_usage_plans: true,
        ..on(
            Operation::CreateReport,
            FaultRates {
                throttle: 1.0,
                ..FaultRates::default()
            },
        )
    })
    .await;
    let token = t.access_token().await;

    let response = t.create_report(&token, &myi_request(US)).await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sp_error(response).await["code"], "QuotaExceeded");
    let stats = t.sim.stats(SELLER, Operation::CreateReport);
    assert_eq!((stats.throttled, stats.violations, stats.injected), (1, 0, 1));
}

#[tokio::test]
async fn a_slow_response_arrives_after_its_latency() {
    let latency = Duration::from_millis(150);
    let t = TestSim::with_config(on(
        Operation::GetReports,
        FaultRates {
            slow: 1.0,
            latency,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;

    let started = Instant::now();
    let response = t.sp_get(&token, REPORTS).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= latency);
    let stats = t.sim.stats(SELLER, Operation::GetReports);
    assert_eq!((stats.slowed, stats.injected), (1, 1));
}

/// Runs a report to DONE and fetches its document's raw bytes (no gunzip).
async fn raw_document(t: &TestSim, token: &str, request: &Value) -> (StatusCode, Vec<u8>) {
    let id = t.create(token, request).await;
    let (_, report) = t.poll_until_terminal(token, &id).await;
    let document_id = report["reportDocumentId"].as_str().unwrap();
    let response = t
        .sp_get(token, &format!("reports/2021-06-30/documents/{document_id}"))
        .await;
    let document: Value = response.json().await.unwrap();
    let download = t
        .http
        .get(document["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    (download.status(), download.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain)?;
    Ok(plain)
}

#[tokio::test]
async fn a_truncated_download_is_a_200_whose_gzip_is_incomplete() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            truncated: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let request = sales_request(US, "2024-04-20");

    let (status, cut) = raw_document(&t, &token, &request).await;
    t.sim.clear_faults();
    let (_, whole) = raw_document(&t, &token, &request).await;

    assert_eq!(status, StatusCode::OK);
    assert!(cut.len() < whole.len());
    assert_eq!(cut[..], whole[..cut.len()]);
    assert!(gunzip(&cut).is_err(), "a cut gzip stream does not decode");
    let plain = gunzip(&whole).unwrap();
    assert!(serde_json::from_slice::<Value>(&plain).is_ok());
    let stats = t.sim.stats(SELLER, Operation::DownloadReportDocument);
    assert_eq!((stats.calls, stats.truncated, stats.injected), (2, 1, 1));
}

#[tokio::test]
async fn a_truncated_flat_file_is_shorter_than_the_length_s3_announced() {
    let t = TestSim::with_config(on(
        Operation::DownloadReportDocument,
        FaultRates {
            truncated: 1.0,
            ..FaultRates::default()
        },
    ))
    .await;
    let token = t.access_token().await;
    let id = t.create(&token, &myi_request(US)).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    let document_id = report["reportDocumentId"].as_str().unwrap();
    let response = t
        .sp_get(&token, &format!("reports/2021-06-30/documents/{document_id}"))
        .await;
    let document: Value = response.json().await.unwrap();
    let url = document["url"].as_str().unwrap();

    // A TSV has no end of its own: the cut shows only as a body shorter than
    // the announced length, which the HTTP client reports as an error (while
    // reading the body, or at once when the whole response was buffered)
    // instead of handing out a short document.
    let cut = match t.http.get(url).send().await {
        Ok(download) => {
            assert_eq!(download.status(), StatusCode::OK);
            assert!(download.content_length().is_some(), "S3 announces the length");
            download.bytes().await.map(drop)
        }
        Err(e) => Err(e),
    };
    assert!(cut.is_err(), "a cut flat file is an error, not a short document");
    t.sim.clear_faults();
    let whole = t.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert!(String::from_utf8(whole.to_vec()).unwrap().lines().count() > 1);
    assert_eq!(
        t.sim.stats(SELLER, Operation::DownloadReportDocument).truncated,
        1
    );
}

#[tokio::test]
async fn a_download_can_fail_with_s3s_500_or_503() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    for (rates, status, code) in [
        (
            FaultRates {
                server_error: 1.0,
                ..FaultRates::default()
            },
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
        ),
        (
            FaultRates {
                unavailable: 1.0,
                ..FaultRates::default()
            },
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
        ),
    ] {
        t.sim.set_report_polls(0);
        t.sim
            .set_faults(Faults::default().operation(Operation::DownloadReportDocument, rates));
        // A ledger avoids the 30-minute MYI regeneration rule between rounds.
        let request = serde_json::json!({
            "reportType": "GET_LEDGER_SUMMARY_VIEW_DATA",
            "marketplaceIds": [US],
            "dataStartTime": "2024-04-20T00:00:00Z",
            "dataEndTime": "2024-04-20T23:59:59Z",
            "reportOptions": { "aggregatedByTimePeriod": "DAILY" },
        });
        let (got, body) = raw_document(&t, &token, &request).await;
        assert_eq!(got, status);
        assert!(String::from_utf8(body).unwrap().contains(code));
    }
}

#[tokio::test]
async fn chance_can_end_reports_fatal_or_cancelled() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    t.sim.set_faults(Faults::default().operation(
        Operation::CreateReport,
        FaultRates {
            report_fatal: 1.0,
            ..FaultRates::default()
        },
    ));
    let id = t.create(&token, &sales_request(US, "2024-04-20")).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    assert_eq!(report["processingStatus"], "FATAL");
    assert!(report["reportDocumentId"].is_string(), "with an error document");

    t.sim.set_faults(Faults::default().operation(
        Operation::CreateReport,
        FaultRates {
            report_cancelled: 1.0,
            ..FaultRates::default()
        },
    ));
    let id = t.create(&token, &sales_request(US, "2024-04-21")).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    assert_eq!(report["processingStatus"], "CANCELLED");

    let stats = t.sim.stats(SELLER, Operation::CreateReport);
    assert_eq!((stats.forced_outcomes, stats.injected), (2, 2));
}

#[tokio::test]
async fn ads_calls_meet_chance_failures_and_their_reports_can_fail() {
    let t = TestSim::with_config(Config {
        faults: Faults::default()
            .operation(
                Operation::ListProfiles,
                FaultRates {
                    server_error: 1.0,
                    ..FaultRates::default()
                },
            )
            .operation(
                Operation::CreateAsyncReport,
                FaultRates {
                    report_fatal: 1.0,
                    ..FaultRates::default()
                },
            )
            .operation(
                Operation::DownloadAdsReport,
                FaultRates {
                    truncated: 1.0,
                    ..FaultRates::default()
                },
            ),
        ..Config::default()
    })
    .await;
    let token = t.ads_access_token().await;
    let response = t
        .ads(reqwest::Method::GET, &token, "v2/profiles", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let profile = t.sim.truth().ads_profiles(SELLER).unwrap()[0].profile_id;
    let body = ads_request(
        "spCampaigns",
        &["campaign"],
        &["date", "clicks"],
        "DAILY",
        "2024-04-20",
        "2024-04-20",
    );

    let (statuses, report) = t.ads_run(&token, profile, &body).await;
    assert_eq!(statuses.last().unwrap(), "FAILED");
    assert!(report["failureReason"].is_string());

    t.sim.set_faults(Faults::default().operation(
        Operation::DownloadAdsReport,
        FaultRates {
            truncated: 1.0,
            ..FaultRates::default()
        },
    ));
    let (_, report) = t.ads_run(&token, profile, &body).await;
    let download = t.http.get(report["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let bytes = download.bytes().await.unwrap();
    assert!((bytes.len() as u64) < report["fileSize"].as_u64().unwrap());
    assert!(gunzip(&bytes).is_err());
    assert_eq!(t.sim.stats(SELLER, Operation::DownloadAdsReport).truncated, 1);
}

#[tokio::test]
async fn the_token_endpoint_can_be_temporarily_unavailable() {
    let t = TestSim::start().await;
    t.sim.set_faults(Faults::default().operation(
        Operation::Token,
        FaultRates {
            unavailable: 1.0,
            ..FaultRates::default()
        },
    ));

    let response = t
        .token_response(&t.credentials.refresh_token, &t.credentials.client_secret)
        .await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let stats = t.sim.stats(SELLER, Operation::Token);
    assert_eq!((stats.calls, stats.unavailable, stats.injected), (1, 1, 1));
}
