//! Reports API 2021-06-30 (PROTOCOL.md §3): create, get, list, cancel, the
//! document URL, and the streaming download of the document into the
//! synchronous parsers of [`crate::sp`].
//!
//! Reuse before create: `createReport` costs a token of a one-per-minute bucket,
//! Amazon refuses to regenerate near-real-time FBA reports within ~30 minutes,
//! and a create that timed out may have happened anyway. So
//! [`Reports::request_report`] first looks for a matching queued, running or
//! recent finished report ([`Reports::find_reusable_report`]) and never resends
//! a create that may have reached Amazon.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt as _;
use reqwest::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::client::{Client, SpRequest};
use crate::document::{self, DocumentError, Encoded};
use crate::error::Error;
use crate::sp::SellingPartner;
use crate::throttle::Operation;

const REPORTS: [&str; 3] = ["reports", "2021-06-30", "reports"];
const DOCUMENTS: [&str; 3] = ["reports", "2021-06-30", "documents"];

/// The most of a FATAL report's error document kept in [`Error::ReportFatal`].
const ERROR_DOCUMENT_LIMIT: u64 = 64 * 1024;

/// `CreateReportSpecification`: what report to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportSpecification {
    /// e.g. `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`.
    pub report_type: String,
    /// One to 25 marketplace ids (exactly one for some types).
    pub marketplace_ids: Vec<String>,
    /// Start of the data window; `None` for snapshot reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_start_time: Option<DateTime<Utc>>,
    /// End of the data window; `None` for snapshot reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_end_time: Option<DateTime<Utc>>,
    /// Type-specific options; Amazon types every value as a string.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub report_options: BTreeMap<String, String>,
}

impl CreateReportSpecification {
    /// A report of `report_type` for the marketplaces, with no window or options.
    pub fn new(
        report_type: impl Into<String>,
        marketplace_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            report_type: report_type.into(),
            marketplace_ids: marketplace_ids.into_iter().map(Into::into).collect(),
            data_start_time: None,
            data_end_time: None,
            report_options: BTreeMap::new(),
        }
    }

    /// Covers `start..=end`. For a "daily" report that is `D T00:00:00Z` to
    /// `D T23:59:59Z`: Amazon rounds a window outward to every day it touches.
    #[must_use]
    pub fn window(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.data_start_time = Some(start);
        self.data_end_time = Some(end);
        self
    }

    /// Adds a report option.
    #[must_use]
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.report_options.insert(key.into(), value.into());
        self
    }
}

/// `CreateReportResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportResponse {
    /// The new report's id, unique per seller.
    pub report_id: String,
}

/// `processingStatus` (PROTOCOL.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessingStatus {
    /// Waiting to be processed; the only state that can be cancelled.
    InQueue,
    /// Being generated.
    InProgress,
    /// Finished with a document.
    Done,
    /// Cancelled, or no data to report.
    Cancelled,
    /// Failed; may carry an error document.
    Fatal,
}

impl ProcessingStatus {
    /// Amazon's spelling, e.g. `IN_QUEUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::InQueue => "IN_QUEUE",
            ProcessingStatus::InProgress => "IN_PROGRESS",
            ProcessingStatus::Done => "DONE",
            ProcessingStatus::Cancelled => "CANCELLED",
            ProcessingStatus::Fatal => "FATAL",
        }
    }

    /// Whether the report will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ProcessingStatus::Done | ProcessingStatus::Cancelled | ProcessingStatus::Fatal
        )
    }
}

/// `Report`: a report request and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The report id.
    pub report_id: String,
    /// The report type.
    pub report_type: String,
    /// When it was requested.
    pub created_time: DateTime<Utc>,
    /// Where it is in its lifecycle.
    pub processing_status: ProcessingStatus,
    /// Its marketplaces.
    #[serde(default)]
    pub marketplace_ids: Vec<String>,
    /// Effective start of the data window.
    #[serde(default)]
    pub data_start_time: Option<DateTime<Utc>>,
    /// Effective end of the data window.
    #[serde(default)]
    pub data_end_time: Option<DateTime<Utc>>,
    /// The schedule that created it, if any.
    #[serde(default)]
    pub report_schedule_id: Option<String>,
    /// When processing started.
    #[serde(default)]
    pub processing_start_time: Option<DateTime<Utc>>,
    /// When processing ended.
    #[serde(default)]
    pub processing_end_time: Option<DateTime<Utc>>,
    /// The document: the report on `DONE`, the error document on `FATAL`.
    #[serde(default)]
    pub report_document_id: Option<String>,
}

/// getReports filters (PROTOCOL.md §3.4). `report_types` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// One to ten report types.
    pub report_types: Vec<String>,
    /// Statuses to include; all when empty.
    pub processing_statuses: Vec<ProcessingStatus>,
    /// Marketplaces (match any); all when empty.
    pub marketplace_ids: Vec<String>,
    /// 1 to 100 reports per page (Amazon's default: 10).
    pub page_size: Option<u32>,
    /// Created at or after (Amazon's default: 90 days ago).
    pub created_since: Option<DateTime<Utc>>,
    /// Created at or before (Amazon's default: now).
    pub created_until: Option<DateTime<Utc>>,
}

impl ReportFilter {
    fn query(&self) -> Vec<(&'static str, String)> {
        // Arrays are comma-separated (Swagger 2 `csv`, PROTOCOL.md §2.7).
        let csv = |items: Vec<&str>| items.join(",");
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut query = vec![(
            "reportTypes",
            csv(self.report_types.iter().map(String::as_str).collect()),
        )];
        if !self.processing_statuses.is_empty() {
            let statuses = self.processing_statuses.iter().map(|s| s.as_str()).collect();
            query.push(("processingStatuses", csv(statuses)));
        }
        if !self.marketplace_ids.is_empty() {
            let ids = self.marketplace_ids.iter().map(String::as_str).collect();
            query.push(("marketplaceIds", csv(ids)));
        }
        if let Some(n) = self.page_size {
            query.push(("pageSize", n.to_string()));
        }
        if let Some(t) = &self.created_since {
            query.push(("createdSince", time(t)));
        }
        if let Some(t) = &self.created_until {
            query.push(("createdUntil", time(t)));
        }
        query
    }
}

/// One getReports call: the first page of a filter, or a later page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetReportsRequest {
    /// The first page.
    Filter(ReportFilter),
    /// A later page. Amazon requires `nextToken` to be the only parameter.
    NextToken(String),
}

/// `GetReportsResponse`: one page of reports, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetReportsResponse {
    /// The reports of this page.
    #[serde(default)]
    pub reports: Vec<Report>,
    /// Present when more pages follow.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// `ReportDocument`: where to download a document, for the next five minutes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDocument {
    /// The document id.
    pub report_document_id: String,
    /// A pre-signed URL, valid about five minutes. Fetch it with no Amazon auth.
    pub url: String,
    /// `GZIP` when the document is compressed (the body is sniffed anyway).
    #[serde(default)]
    pub compression_algorithm: Option<String>,
}

/// The report [`Reports::request_report`] settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedReport {
    /// Its id.
    pub report_id: String,
    /// Whether it already existed (found through getReports) rather than created.
    pub reused: bool,
}

/// The Reports API acting for one seller. Obtained from [`Client::reports`].
#[derive(Debug, Clone, Copy)]
pub struct Reports<'a> {
    client: &'a Client,
    seller: &'a SellingPartner,
    /// The charset of downloads that declare none and are not UTF-8.
    fallback_charset: Option<&'static str>,
}

impl<'a> Reports<'a> {
    pub(crate) fn new(client: &'a Client, seller: &'a SellingPartner) -> Self {
        Self {
            client,
            seller,
            fallback_charset: None,
        }
    }

    /// The same, downloading documents of `marketplace_id`: a document that
    /// declares no charset and is not UTF-8 is read in the marketplace's
    /// legacy charset ([`document::fallback_charset_for`]: Shift_JIS in
    /// Japan) instead of Windows-1252.
    #[must_use]
    pub fn for_marketplace(self, marketplace_id: &str) -> Self {
        Self {
            fallback_charset: document::fallback_charset_for(marketplace_id),
            ..self
        }
    }

    /// `createReport`. Repeated only after a 429 (Amazon did not act on it);
    /// any other failure is returned, since the report may exist regardless:
    /// look for it with [`Self::find_reusable_report`] before creating again.
    pub async fn create_report(&self, specification: &CreateReportSpecification) -> Result<String, Error> {
        let body = serde_json::to_value(specification).map_err(|source| Error::Decode {
            operation: Operation::CreateReport.name(),
            source,
        })?;
        let response: CreateReportResponse = self
            .client
            .sp_json(
                self.seller,
                SpRequest {
                    operation: Operation::CreateReport,
                    method: Method::POST,
                    path: &REPORTS,
                    query: Vec::new(),
                    body: Some(&body),
                    idempotent: false,
                },
            )
            .await?;
        tracing::debug!(
            report_id = response.report_id,
            report_type = specification.report_type,
            "Report requested."
        );
        Ok(response.report_id)
    }

    /// `getReport`.
    pub async fn get_report(&self, report_id: &str) -> Result<Report, Error> {
        self.client
            .sp_json(
                self.seller,
                self.read_request(Operation::GetReport, &[&REPORTS[..], &[report_id]].concat()),
            )
            .await
    }

    /// `getReports`: one page.
    pub async fn get_reports(&self, request: &GetReportsRequest) -> Result<GetReportsResponse, Error> {
        let query = match request {
            GetReportsRequest::Filter(filter) => filter.query(),
            // The request builder percent-encodes it: tokens contain `+`, `/`
            // and `=`, and Amazon rejects them raw (PROTOCOL.md §2.7).
            GetReportsRequest::NextToken(token) => vec![("nextToken", token.clone())],
        };
        let mut request = self.read_request(Operation::GetReports, &REPORTS);
        request.query = query;
        self.client.sp_json(self.seller, request).await
    }

    /// `getReports`, every page.
    pub async fn list_reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, Error> {
        let mut reports = Vec::new();
        let mut request = GetReportsRequest::Filter(filter.clone());
        loop {
            let page = self.get_reports(&request).await?;
            reports.extend(page.reports);
            match page.next_token {
                Some(token) => request = GetReportsRequest::NextToken(token),
                None => return Ok(reports),
            }
        }
    }

    /// `cancelReport`: only a report still `IN_QUEUE` can be cancelled.
    pub async fn cancel_report(&self, report_id: &str) -> Result<(), Error> {
        let path = [&REPORTS[..], &[report_id]].concat();
        let mut request = self.read_request(Operation::CancelReport, &path);
        request.method = Method::DELETE;
        self.client.sp_call(self.seller, request).await.map(drop)
    }

    /// `getReportDocument`: a fresh download URL.
    pub async fn get_report_document(&self, report_document_id: &str) -> Result<ReportDocument, Error> {
        self.client
            .sp_json(
                self.seller,
                self.read_request(
                    Operation::GetReportDocument,
                    &[&DOCUMENTS[..], &[report_document_id]].concat(),
                ),
            )
            .await
    }

    /// A report that already answers `specification`: same type, marketplaces
    /// and data window, created within `max_age`, and queued, running or done
    /// (newest first). getReports does not return `reportOptions`, so only reuse
    /// this way report types that are always requested with the same options.
    /// Stops at the first match to spend as few getReports calls as possible.
    pub async fn find_reusable_report(
        &self,
        specification: &CreateReportSpecification,
        max_age: Duration,
    ) -> Result<Option<Report>, Error> {
        let now = self.client.clock().now();
        let since = chrono::TimeDelta::from_std(max_age)
            .ok()
            .and_then(|age| now.checked_sub_signed(age));
        let filter = ReportFilter {
            report_types: vec![specification.report_type.clone()],
            processing_statuses: vec![
                ProcessingStatus::InQueue,
                ProcessingStatus::InProgress,
                ProcessingStatus::Done,
            ],
            marketplace_ids: specification.marketplace_ids.clone(),
            page_size: Some(100),
            created_since: since,
            created_until: None,
        };
        let mut request = GetReportsRequest::Filter(filter);
        loop {
            let page = self.get_reports(&request).await?;
            if let Some(report) = page.reports.into_iter().find(|r| answers(specification, r)) {
                return Ok(Some(report));
            }
            match page.next_token {
                Some(token) => request = GetReportsRequest::NextToken(token),
                None => return Ok(None),
            }
        }
    }

    /// The id of a report answering `specification`: a reusable one created
    /// within `reuse_within` if there is one, a new one otherwise.
    pub async fn request_report(
        &self,
        specification: &CreateReportSpecification,
        reuse_within: Duration,
    ) -> Result<RequestedReport, Error> {
        if let Some(report) = self.find_reusable_report(specification, reuse_within).await? {
            tracing::debug!(report_id = report.report_id, "Reusing an existing report.");
            return Ok(RequestedReport {
                report_id: report.report_id,
                reused: true,
            });
        }
        Ok(RequestedReport {
            report_id: self.create_report(specification).await?,
            reused: false,
        })
    }

    /// What a polled report means for the caller: `Ok(None)` while it is queued
    /// or running, `Ok(Some(document id))` when done, [`Error::ReportCancelled`]
    /// (no data) or [`Error::ReportFatal`] with the text of Amazon's error
    /// document when it has one.
    pub async fn ready_document(&self, report: &Report) -> Result<Option<String>, Error> {
        match report.processing_status {
            ProcessingStatus::InQueue | ProcessingStatus::InProgress => Ok(None),
            ProcessingStatus::Done => match &report.report_document_id {
                Some(id) => Ok(Some(id.clone())),
                // Amazon broke its own contract; like a server failure, it may
                // be fine when asked again.
                None => Err(Error::Server {
                    status: StatusCode::BAD_GATEWAY,
                }),
            },
            ProcessingStatus::Cancelled => Err(Error::ReportCancelled {
                report_id: report.report_id.clone(),
            }),
            ProcessingStatus::Fatal => {
                let error_document = match &report.report_document_id {
                    None => None,
                    Some(id) => match self.download(id, read_error_document).await {
                        Ok(text) => Some(text),
                        Err(error) => {
                            tracing::warn!(report_id = report.report_id, %error, "Fetching a FATAL report's error document failed.");
                            None
                        }
                    },
                };
                Err(Error::ReportFatal {
                    report_id: report.report_id.clone(),
                    error_document,
                })
            }
        }
    }

    /// Fetches a fresh URL for a document, downloads it and hands the decoded
    /// text to `parse`. See [`Self::read_document`].
    pub async fn download<T, F>(&self, report_document_id: &str, parse: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn Read>) -> Result<T, DocumentError> + Send + 'static,
    {
        let document = self.get_report_document(report_document_id).await?;
        self.read_document(&document, parse).await
    }

    /// Downloads a document (plain GET, no Amazon auth: the URL is pre-signed)
    /// and hands its text to `parse` as it arrives: gunzipped when it is gzip
    /// (sniffed), transcoded to UTF-8 from the `charset` of its `Content-Type`
    /// (without one: UTF-8 if it is, else the marketplace's fallback set by
    /// [`Self::for_marketplace`], else Windows-1252).
    ///
    /// `parse` runs on a blocking thread, reading from the network stream, so
    /// memory stays flat whatever the size; it passes rows on as they come (to
    /// a callback, or a bounded channel's `blocking_send`). An error it returns,
    /// or a cut download, means the document was not read as a whole.
    ///
    /// A URL that expired (403 from the download host) is replaced once through
    /// getReportDocument.
    pub async fn read_document<T, F>(&self, document: &ReportDocument, parse: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn Read>) -> Result<T, DocumentError> + Send + 'static,
    {
        let (response, compression) = match self.client.open_presigned(&document.url).await? {
            Some(response) => (response, document.compression_algorithm.clone()),
            None => {
                tracing::debug!(
                    report_document_id = document.report_document_id,
                    "The document URL was refused (expired); fetching a fresh one."
                );
                let fresh = self.get_report_document(&document.report_document_id).await?;
                let response =
                    self.client
                        .open_presigned(&fresh.url)
                        .await?
                        .ok_or_else(|| Error::Forbidden {
                            code: "AccessDenied".into(),
                            message: "The download host refused a fresh report document URL.".into(),
                            details: String::new(),
                        })?;
                (response, fresh.compression_algorithm)
            }
        };
        stream_into(response, compression, self.fallback_charset, parse).await
    }

    fn read_request<'p>(&self, operation: Operation, path: &'p [&'p str]) -> SpRequest<'p> {
        SpRequest {
            operation,
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            idempotent: true,
        }
    }
}

/// Streams a download's body through [`document::decode`] into `parse` on a
/// blocking thread. The parsers are synchronous `Read`ers; the bridge blocks a
/// `spawn_blocking` thread on the async stream, a chunk at a time, so memory
/// stays flat whatever the size. Shared with the Ads reports.
pub(crate) async fn stream_into<T, F>(
    response: reqwest::Response,
    compression: Option<String>,
    fallback_charset: Option<&'static str>,
    parse: F,
) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(Box<dyn Read>) -> Result<T, DocumentError> + Send + 'static,
{
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Box::pin(response.bytes_stream().map_err(io::Error::other));
    let reader = SyncIoBridge::new(StreamReader::new(body));
    let task = tokio::task::spawn_blocking(move || {
        let how = Encoded {
            compression: compression.as_deref(),
            content_type: content_type.as_deref(),
            fallback_charset,
        };
        let (text, integrity) = document::decode_checked(reader, &how)?;
        // A parser failing on garbage inflated from a damaged download
        // would call the document corrupt, which fails the task for good.
        parse(text).map_err(|e| integrity.judge(e))
    });
    match task.await {
        Ok(result) => result.map_err(Error::Document),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::Document(DocumentError::Io(io::Error::other(e)))),
    }
}

/// The text of a FATAL report's error document, capped.
fn read_error_document(text: Box<dyn Read>) -> Result<String, DocumentError> {
    let mut out = String::new();
    text.take(ERROR_DOCUMENT_LIMIT)
        .read_to_string(&mut out)
        .map_err(DocumentError::Io)?;
    Ok(out)
}

/// Whether `report` holds what `specification` asks for.
fn answers(specification: &CreateReportSpecification, report: &Report) -> bool {
    let mut wanted = specification.marketplace_ids.clone();
    let mut have = report.marketplace_ids.clone();
    wanted.sort();
    have.sort();
    // A snapshot report (no window asked) matches any window.
    let same_window = specification
        .data_start_time
        .is_none_or(|t| report.data_start_time == Some(t))
        && specification
            .data_end_time
            .is_none_or(|t| report.data_end_time == Some(t));
    report.report_type == specification.report_type
        && wanted == have
        && same_window
        && report.processing_status != ProcessingStatus::Fatal
        && report.processing_status != ProcessingStatus::Cancelled
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn report(json: &str) -> Report {
        serde_json::from_str(json).expect("a valid Report")
    }

    #[test]
    fn reports_parse_offsets_and_zulu_times_and_ignore_unknown_fields() {
        let r = report(
            r#"{"reportId":"1","reportType":"T","createdTime":"2024-05-02T10:00:00+00:00",
                "processingStatus":"IN_QUEUE","dataStartTime":"2024-05-01T00:00:00.000Z","newField":1}"#,
        );
        assert_eq!(r.processing_status, ProcessingStatus::InQueue);
        assert_eq!(
            r.data_start_time,
            Some(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).single().expect("valid"))
        );
        assert_eq!(r.report_document_id, None);
    }

    #[test]
    fn get_reports_filters_are_comma_separated_and_times_are_utc() {
        let filter = ReportFilter {
            report_types: vec!["A".into(), "B".into()],
            processing_statuses: vec![ProcessingStatus::InQueue, ProcessingStatus::Done],
            created_since: Utc.with_ymd_and_hms(2024, 5, 2, 9, 30, 0).single(),
            ..ReportFilter::default()
        };
        assert_eq!(
            filter.query(),
            vec![
                ("reportTypes", "A,B".to_owned()),
                ("processingStatuses", "IN_QUEUE,DONE".to_owned()),
                ("createdSince", "2024-05-02T09:30:00Z".to_owned()),
            ]
        );
    }

    #[test]
    fn a_report_answers_a_specification_of_the_same_type_marketplaces_and_window() {
        let day = |d| Utc.with_ymd_and_hms(2024, 5, d, 0, 0, 0).single().expect("valid");
        let spec = CreateReportSpecification::new("T", ["B", "A"]).window(day(1), day(2));
        let done = Report {
            report_id: "1".into(),
            report_type: "T".into(),
            created_time: day(3),
            processing_status: ProcessingStatus::Done,
            marketplace_ids: vec!["A".into(), "B".into()],
            data_start_time: Some(day(1)),
            data_end_time: Some(day(2)),
            report_schedule_id: None,
            processing_start_time: None,
            processing_end_time: None,
            report_document_id: Some("d".into()),
        };
        assert!(answers(&spec, &done));
        let other_window = Report {
            data_end_time: Some(day(3)),
            ..done.clone()
        };
        assert!(!answers(&spec, &other_window));
        let fatal = Report {
            processing_status: ProcessingStatus::Fatal,
            ..done
        };
        assert!(!answers(&spec, &fatal));
        // A snapshot request matches whatever window Amazon recorded.
        assert!(answers(
            &CreateReportSpecification::new("T", ["A", "B"]),
            &other_window
        ));
    }

    #[test]
    fn a_create_request_leaves_out_what_was_not_asked() {
        let body = serde_json::to_value(CreateReportSpecification::new("T", ["A"])).expect("serializes");
        assert_eq!(
            body,
            serde_json::json!({"reportType": "T", "marketplaceIds": ["A"]})
        );
    }
}
