//! A simulator per test with one seller, and a small hand-written client for it.
//! Deliberately independent of our `amazon` crate: these tests pin the wire format.

use std::io::Read as _;

use amzsync_amazon_sim::{Config, Credentials, Seller, Simulator};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const SELLER: &str = "A3EXAMPLESELLER";
pub const US: &str = "ATVPDKIKX0DER";
pub const DE: &str = "A1PA6795UKMFR9";
pub const MYI: &str = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";
pub const SALES: &str = "GET_SALES_AND_TRAFFIC_REPORT";
pub const LEDGER: &str = "GET_LEDGER_SUMMARY_VIEW_DATA";

pub struct TestSim {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub credentials: Credentials,
}

impl TestSim {
    pub async fn start() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        let sim = Simulator::start_local(config)
            .await
            .expect("the simulator starts on port 0");
        let credentials = sim
            .add_seller(Seller::new(SELLER).marketplace(US, 12).marketplace(DE, 6))
            .expect("known marketplaces are accepted");
        // reqwest is built without a TLS provider choice (STACK.md P2): install ring
        // once per process, although these tests only speak plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .build()
            .expect("a plain HTTP client builds");
        Self {
            sim,
            http,
            credentials,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.sim
            .base_url()
            .join(path)
            .expect("test paths are relative")
            .to_string()
    }

    /// A refresh_token grant, form-encoded as the docs show it.
    pub async fn token_response(&self, refresh_token: &str, client_secret: &str) -> Response {
        self.http
            .post(self.sim.token_url())
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", self.credentials.client_id.as_str()),
                ("client_secret", client_secret),
            ])
            .send()
            .await
            .expect("the token endpoint answers")
    }

    pub async fn access_token(&self) -> String {
        let response = self
            .token_response(&self.credentials.refresh_token, &self.credentials.client_secret)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token bodies are JSON");
        body["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    pub async fn sp_get(&self, token: &str, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header("x-amz-access-token", token)
            .send()
            .await
            .expect("the SP-API answers")
    }

    pub async fn create_report(&self, token: &str, body: &Value) -> Response {
        self.http
            .post(self.url("reports/2021-06-30/reports"))
            .header("x-amz-access-token", token)
            .json(body)
            .send()
            .await
            .expect("createReport answers")
    }

    /// Creates a report and returns its id, asserting the 202.
    pub async fn create(&self, token: &str, body: &Value) -> String {
        let response = self.create_report(token, body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.expect("createReport answers JSON");
        body["reportId"]
            .as_str()
            .expect("reportId is a string")
            .to_owned()
    }

    pub async fn get_report(&self, token: &str, report_id: &str) -> Value {
        let response = self
            .sp_get(token, &format!("reports/2021-06-30/reports/{report_id}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("getReport answers JSON")
    }

    /// Polls until a terminal status, returning every status seen.
    pub async fn poll_until_terminal(&self, token: &str, report_id: &str) -> (Vec<String>, Value) {
        let mut seen = Vec::new();
        for _ in 0..20 {
            let report = self.get_report(token, report_id).await;
            let status = report["processingStatus"]
                .as_str()
                .expect("status is a string")
                .to_owned();
            seen.push(status.clone());
            if matches!(status.as_str(), "DONE" | "CANCELLED" | "FATAL") {
                return (seen, report);
            }
        }
        panic!("report {report_id} did not finish in 20 polls: {seen:?}");
    }

    /// getReportDocument, then the download; returns the document JSON, the
    /// download's Content-Type and the bytes after gunzip when announced.
    pub async fn download(&self, token: &str, document_id: &str) -> (Value, String, Vec<u8>) {
        let response = self
            .sp_get(token, &format!("reports/2021-06-30/documents/{document_id}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let document: Value = response.json().await.expect("getReportDocument answers JSON");
        let url = document["url"].as_str().expect("url is a string");
        let download = self.http.get(url).send().await.expect("the document URL answers");
        assert_eq!(download.status(), StatusCode::OK);
        let content_type = download
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = download.bytes().await.expect("the document downloads").to_vec();
        let bytes = if document["compressionAlgorithm"] == "GZIP" {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut plain)
                .expect("a GZIP document gunzips");
            plain
        } else {
            bytes
        };
        (document, content_type, bytes)
    }
}

impl TestSim {
    /// An access token from the store's Ads refresh token.
    pub async fn ads_access_token(&self) -> String {
        let response = self
            .token_response(
                &self.credentials.ads_refresh_token,
                &self.credentials.client_secret,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token bodies are JSON");
        body["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    /// An Ads request with the bearer token, the client id and, when given, the
    /// profile scope.
    pub fn ads(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        scope: Option<i64>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("Amazon-Advertising-API-ClientId", &self.credentials.client_id);
        if let Some(profile) = scope {
            request = request.header("Amazon-Advertising-API-Scope", profile.to_string());
        }
        request
    }

    /// The store's Ads profiles, as `GET /v2/profiles` lists them.
    pub async fn ads_profiles(&self, token: &str) -> Vec<Value> {
        let response = self
            .ads(reqwest::Method::GET, token, "v2/profiles", None)
            .send()
            .await
            .expect("the Ads API answers");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("profiles are a JSON array")
    }

    /// The profile id of the store in a marketplace.
    pub async fn ads_profile_id(&self, token: &str, marketplace: &str) -> i64 {
        self.ads_profiles(token)
            .await
            .iter()
            .find(|p| p["accountInfo"]["marketplaceStringId"] == marketplace)
            .and_then(|p| p["profileId"].as_i64())
            .expect("a profile per marketplace of the store")
    }

    /// createAsyncReport with the documented content type.
    pub async fn ads_create(&self, token: &str, profile: i64, body: &Value) -> Response {
        self.ads(reqwest::Method::POST, token, "reporting/reports", Some(profile))
            .header("content-type", "application/vnd.createasyncreportrequest.v3+json")
            .body(body.to_string())
            .send()
            .await
            .expect("createAsyncReport answers")
    }

    /// getAsyncReport, asserting the 200.
    pub async fn ads_get(&self, token: &str, profile: i64, report_id: &str) -> Value {
        let response = self
            .ads(
                reqwest::Method::GET,
                token,
                &format!("reporting/reports/{report_id}"),
                Some(profile),
            )
            .send()
            .await
            .expect("getAsyncReport answers");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("getAsyncReport answers JSON")
    }

    /// Creates a report and polls it to a terminal status; returns the statuses seen
    /// after creation and the last report object.
    pub async fn ads_run(&self, token: &str, profile: i64, body: &Value) -> (Vec<String>, Value) {
        let response = self.ads_create(token, profile, body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut report: Value = response.json().await.expect("createAsyncReport answers JSON");
        let id = report["reportId"]
            .as_str()
            .expect("reportId is a string")
            .to_owned();
        let mut seen = Vec::new();
        for _ in 0..20 {
            if matches!(report["status"].as_str(), Some("COMPLETED" | "FAILED")) {
                return (seen, report);
            }
            report = self.ads_get(token, profile, &id).await;
            seen.push(report["status"].as_str().unwrap_or_default().to_owned());
        }
        panic!("Ads report {id} did not finish in 20 polls: {seen:?}");
    }

    /// Downloads a COMPLETED report's rows: gunzips the body, which comes without
    /// Content-Encoding.
    pub async fn ads_download(&self, report: &Value) -> (usize, Vec<Value>) {
        let url = report["url"].as_str().expect("a COMPLETED report has a url");
        let response = self.http.get(url).send().await.expect("the report URL answers");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("content-encoding").is_none());
        let bytes = response.bytes().await.expect("the report downloads").to_vec();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut plain)
            .expect("GZIP_JSON gunzips");
        (
            bytes.len(),
            serde_json::from_slice(&plain).expect("the report is a JSON array"),
        )
    }
}

/// A Sponsored Products report request.
pub fn ads_request(
    report_type: &str,
    group_by: &[&str],
    columns: &[&str],
    time_unit: &str,
    start: &str,
    end: &str,
) -> Value {
    json!({
        "name": format!("{report_type} {start}"),
        "startDate": start,
        "endDate": end,
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "groupBy": group_by,
            "columns": columns,
            "reportTypeId": report_type,
            "timeUnit": time_unit,
            "format": "GZIP_JSON",
        },
    })
}

pub fn myi_request(marketplace: &str) -> Value {
    json!({ "reportType": MYI, "marketplaceIds": [marketplace] })
}

pub fn sales_request(marketplace: &str, day: &str) -> Value {
    json!({
        "reportType": SALES,
        "marketplaceIds": [marketplace],
        "dataStartTime": format!("{day}T00:00:00Z"),
        "dataEndTime": format!("{day}T23:59:59Z"),
        "reportOptions": { "dateGranularity": "DAY", "asinGranularity": "SKU" },
    })
}

/// The single SP-API error of an error body.
pub async fn sp_error(response: Response) -> Value {
    let body: Value = response.json().await.expect("SP-API errors are JSON");
    let errors = body["errors"].as_array().expect("errors is an array");
    assert_eq!(errors.len(), 1, "one error in {body}");
    errors[0].clone()
}

/// An example payload from `testdata/amazon-api/` (copied from the team's
/// shared protocol folder, so tests pass on any checkout).
pub fn example(name: &str) -> Value {
    serde_json::from_str(&example_text(name)).expect("example files are JSON")
}

/// An example file's text, from the same folder as [`example`].
pub fn example_text(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/amazon-api")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the example {} failed: {e}", path.display()))
}
