//! Sponsored Products reporting v3 (PROTOCOL.md §5.4–§5.7): create a report,
//! poll it, download its `GZIP_JSON` file and parse its rows as they stream in.
//!
//! - One report covers at most 31 days; [`CreateReportRequest::windows`] (and
//!   [`date_windows`]) split a longer range.
//! - Creating is not idempotent. A create Amazon already has in progress is
//!   answered 425 with the earlier report's id in the text; that report is
//!   checked (same type, columns and dates: Amazon has flagged a SUMMARY and a
//!   DAILY request as duplicates of each other) and reused, so a 425 right after
//!   a 429 retry loop, when the throttled request was accepted after all, costs
//!   nothing.
//! - A COMPLETED report carries a pre-signed URL that expires about an hour
//!   after the poll that minted it; a refused download gets the report again for
//!   a fresh URL, once.
//! - `FAILED` (and any status this client does not know, as the protocol notes
//!   advise) is [`Error::ReportFatal`] with Amazon's `failureReason`.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ads::AdsAccount;
use crate::ads::report_rows;
use crate::client::{AdsRequest, Client};
use crate::document::DocumentError;
use crate::error::Error;
use crate::parse::Parsed;
use crate::sp::reports::stream_into;
use crate::throttle::Operation;

const REPORTS: [&str; 2] = ["reporting", "reports"];

/// The documented request type of createAsyncReport (PROTOCOL.md §5.2).
const CREATE_CONTENT_TYPE: &str = "application/vnd.createasyncreportrequest.v3+json";
const CREATE_ACCEPT: &str = "application/vnd.createasyncreportresponse.v3+json";
const GET_ACCEPT: &str = "application/vnd.getasyncreportresponse.v3+json";
const DELETE_ACCEPT: &str = "application/vnd.deleteasyncreportresponse.v3+json";

/// The longest range one Sponsored Products report may cover, in days, both
/// ends included (PROTOCOL.md §5.7).
pub const MAX_RANGE_DAYS: u32 = 31;

/// The metric columns every default request asks for: what a seller's console
/// shows, at the 7-day attribution of Sponsored Products (PROTOCOL.md §5.8),
/// read by [`report_rows::Metrics`].
const METRICS: [&str; 7] = [
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "unitsSoldClicks7d",
    "sales7d",
    "campaignBudgetCurrencyCode",
];

/// The Sponsored Products reports the sync reads, each with the grouping its
/// row type in [`report_rows`] expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportType {
    /// `spAdvertisedProduct` by `advertiser`: spend and sales per advertised
    /// SKU ([`report_rows::AdvertisedProductRow`]).
    AdvertisedProduct,
    /// `spCampaigns` by `campaign` ([`report_rows::CampaignRow`]).
    Campaigns,
    /// `spCampaigns` by `campaign` and `adGroup` ([`report_rows::AdGroupRow`]).
    AdGroups,
    /// `spTargeting` by `targeting`: keywords and product/auto targets
    /// ([`report_rows::TargetingRow`]).
    Targeting,
    /// `spSearchTerm` by `searchTerm` ([`report_rows::SearchTermRow`]).
    SearchTerm,
}

impl ReportType {
    /// `configuration.reportTypeId`.
    pub fn report_type_id(self) -> &'static str {
        match self {
            ReportType::AdvertisedProduct => "spAdvertisedProduct",
            ReportType::Campaigns | ReportType::AdGroups => "spCampaigns",
            ReportType::Targeting => "spTargeting",
            ReportType::SearchTerm => "spSearchTerm",
        }
    }

    /// `configuration.groupBy`.
    pub fn group_by(self) -> &'static [&'static str] {
        match self {
            ReportType::AdvertisedProduct => &["advertiser"],
            ReportType::Campaigns => &["campaign"],
            ReportType::AdGroups => &["campaign", "adGroup"],
            ReportType::Targeting => &["targeting"],
            ReportType::SearchTerm => &["searchTerm"],
        }
    }

    /// The columns of a DAILY request: what the type's row in [`report_rows`]
    /// reads, plus the shared metrics.
    pub fn default_columns(self) -> Vec<&'static str> {
        let own: &[&str] = match self {
            ReportType::AdvertisedProduct => &[
                "date",
                "campaignId",
                "adGroupId",
                "adId",
                "advertisedSku",
                "advertisedAsin",
            ],
            ReportType::Campaigns => &[
                "date",
                "campaignId",
                "campaignName",
                "campaignStatus",
                "campaignBudgetAmount",
                "campaignBudgetType",
            ],
            ReportType::AdGroups => &[
                "date",
                "campaignId",
                "adGroupId",
                "campaignName",
                "adGroupName",
                "adStatus",
            ],
            ReportType::Targeting => &[
                "date",
                "campaignId",
                "adGroupId",
                "keywordId",
                "keyword",
                "keywordType",
                "matchType",
                "targeting",
            ],
            ReportType::SearchTerm => &[
                "date",
                "campaignId",
                "adGroupId",
                "keywordId",
                "searchTerm",
                "keyword",
                "matchType",
            ],
        };
        own.iter().chain(METRICS.iter()).copied().collect()
    }

    /// How many days back Amazon keeps the data: 95, and 65 for search terms
    /// (one source says so; assumed to be safe, PROTOCOL.md §5.7).
    pub fn retention_days(self) -> u32 {
        match self {
            ReportType::SearchTerm => 65,
            _ => 95,
        }
    }
}

/// `configuration` of a report request, echoed back on every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportConfiguration {
    /// `SPONSORED_PRODUCTS`.
    pub ad_product: String,
    /// Grouping dimensions.
    pub group_by: Vec<String>,
    /// The columns, which are exactly the keys of each row.
    pub columns: Vec<String>,
    /// `spAdvertisedProduct`, `spCampaigns`, …
    pub report_type_id: String,
    /// `DAILY` (a `date` column, one row per day) or `SUMMARY` (`startDate` and
    /// `endDate` columns, one row for the range).
    pub time_unit: String,
    /// `GZIP_JSON`, the only format.
    pub format: String,
    /// Type-specific filters (`[{field, values}]`); `null` when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<serde_json::Value>,
}

impl ReportConfiguration {
    /// Whether two configurations ask for the same rows: order of columns and
    /// groupings does not matter.
    fn same_as(&self, other: &ReportConfiguration) -> bool {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let filters = |f: &Option<serde_json::Value>| f.clone().filter(|v| !v.is_null());
        self.ad_product == other.ad_product
            && self.report_type_id == other.report_type_id
            && self.time_unit == other.time_unit
            && self.format == other.format
            && sorted(&self.group_by) == sorted(&other.group_by)
            && sorted(&self.columns) == sorted(&other.columns)
            && filters(&self.filters) == filters(&other.filters)
    }
}

/// `CreateAsyncReportRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportRequest {
    /// Free text, shown in Amazon's console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First day, included.
    pub start_date: NaiveDate,
    /// Last day, included; at most [`MAX_RANGE_DAYS`] after `start_date`.
    pub end_date: NaiveDate,
    /// What to report.
    pub configuration: ReportConfiguration,
}

impl CreateReportRequest {
    /// A DAILY `GZIP_JSON` Sponsored Products report of `report_type` with its
    /// [`ReportType::default_columns`], for `start..=end`.
    pub fn daily(report_type: ReportType, start_date: NaiveDate, end_date: NaiveDate) -> Self {
        Self {
            name: Some(format!(
                "amzsync {} {start_date}..{end_date}",
                report_type.report_type_id()
            )),
            start_date,
            end_date,
            configuration: ReportConfiguration {
                ad_product: "SPONSORED_PRODUCTS".into(),
                group_by: report_type.group_by().iter().map(|g| (*g).to_owned()).collect(),
                columns: report_type
                    .default_columns()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                report_type_id: report_type.report_type_id().into(),
                time_unit: "DAILY".into(),
                format: "GZIP_JSON".into(),
                filters: None,
            },
        }
    }

    /// Replaces the columns (they become the keys of each row).
    #[must_use]
    pub fn columns(mut self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.configuration.columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// The same request split into consecutive ranges of at most
    /// [`MAX_RANGE_DAYS`] days; the request itself when it is short enough.
    pub fn windows(&self) -> Vec<CreateReportRequest> {
        let split = date_windows(self.start_date, self.end_date, MAX_RANGE_DAYS);
        if split.len() == 1 {
            return vec![self.clone()];
        }
        split
            .into_iter()
            .map(|(start_date, end_date)| CreateReportRequest {
                name: self
                    .name
                    .as_ref()
                    .map(|name| format!("{name} [{start_date}..{end_date}]")),
                start_date,
                end_date,
                configuration: self.configuration.clone(),
            })
            .collect()
    }
}

/// `start..=end` cut into consecutive windows of at most `max_days` days, both
/// ends included; empty when `start` is after `end`.
pub fn date_windows(start: NaiveDate, end: NaiveDate, max_days: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let span = chrono::Days::new(u64::from(max_days.max(1) - 1));
    let mut windows = Vec::new();
    let mut from = start;
    while from <= end {
        let to = from.checked_add_days(span).map_or(end, |t| t.min(end));
        windows.push((from, to));
        match to.succ_opt() {
            Some(next) => from = next,
            None => break,
        }
    }
    windows
}

/// `status` of an `AsyncReport`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(from = "String")]
pub enum ReportStatus {
    /// Queued; the only state that can be deleted.
    Pending,
    /// Being generated.
    Processing,
    /// Done, with a download URL.
    Completed,
    /// Failed, with a `failureReason`.
    Failed,
    /// A status this client does not know (some clients have seen `FAILURE`);
    /// treated as a failure.
    Other(String),
}

impl From<String> for ReportStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "PENDING" => ReportStatus::Pending,
            "PROCESSING" => ReportStatus::Processing,
            "COMPLETED" => ReportStatus::Completed,
            "FAILED" => ReportStatus::Failed,
            _ => ReportStatus::Other(s),
        }
    }
}

impl ReportStatus {
    /// Whether the report will not change any more.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, ReportStatus::Pending | ReportStatus::Processing)
    }
}

/// `AsyncReport`: a report request and how far it got.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncReport {
    /// The report id (a UUID).
    pub report_id: String,
    /// The request's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Where it is in its lifecycle.
    pub status: ReportStatus,
    /// The request's configuration.
    #[serde(default)]
    pub configuration: Option<ReportConfiguration>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// When it was requested.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When its status last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// When it was generated (COMPLETED).
    #[serde(default)]
    pub generated_at: Option<DateTime<Utc>>,
    /// Bytes of the gzip file (COMPLETED); 22 is an empty report.
    #[serde(default)]
    pub file_size: Option<u64>,
    /// The pre-signed download URL (COMPLETED), minted by this very poll.
    #[serde(default)]
    pub url: Option<String>,
    /// When `url` stops working (about an hour after the poll).
    #[serde(default)]
    pub url_expires_at: Option<DateTime<Utc>>,
    /// Why it failed (FAILED).
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl AsyncReport {
    /// Whether this report answers `request`: same configuration and dates.
    pub fn answers(&self, request: &CreateReportRequest) -> bool {
        self.start_date == request.start_date
            && self.end_date == request.end_date
            && self
                .configuration
                .as_ref()
                .is_some_and(|c| c.same_as(&request.configuration))
    }
}

/// The report [`Reporting::create_report`] settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedReport {
    /// Its id.
    pub report_id: String,
    /// Whether Amazon named an identical report in progress (425) that is
    /// reused, rather than a new one created.
    pub reused: bool,
}

/// The id an Ads 425 names: `"The Request is a duplicate of : <uuid>"`.
pub(crate) fn duplicate_of(detail: &str) -> Option<String> {
    let lower = detail.to_ascii_lowercase();
    let at = lower.find("duplicate of")? + "duplicate of".len();
    let rest = detail[at..].trim_start().strip_prefix(':')?.trim_start();
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (id.len() == 36).then_some(id)
}

/// Reporting v3 for one profile. Obtained from [`crate::ads::Ads::reporting`].
#[derive(Debug, Clone, Copy)]
pub struct Reporting<'a> {
    client: &'a Client,
    account: &'a AdsAccount,
    profile_id: i64,
}

impl<'a> Reporting<'a> {
    pub(crate) fn new(client: &'a Client, account: &'a AdsAccount, profile_id: i64) -> Self {
        Self {
            client,
            account,
            profile_id,
        }
    }

    /// The profile the calls act for.
    pub fn profile_id(&self) -> i64 {
        self.profile_id
    }

    /// `createAsyncReport`. Repeated only after a 429 (Amazon did not act on
    /// it). A 425 naming an identical report in progress reuses that report;
    /// one that names none, or a different or failed report, is returned as
    /// [`Error::DuplicateReport`] (retry in about a minute).
    pub async fn create_report(&self, request: &CreateReportRequest) -> Result<RequestedReport, Error> {
        let body = serde_json::to_value(request).map_err(|source| Error::Decode {
            operation: Operation::CreateAsyncReport.name(),
            source,
        })?;
        let created: Result<AsyncReport, Error> = self
            .client
            .ads_json(
                self.account,
                AdsRequest {
                    operation: Operation::CreateAsyncReport,
                    method: Method::POST,
                    path: &REPORTS,
                    profile_id: Some(self.profile_id),
                    body: Some(&body),
                    content_type: CREATE_CONTENT_TYPE,
                    accept: CREATE_ACCEPT,
                    idempotent: false,
                },
            )
            .await;
        match created {
            Ok(report) => {
                tracing::debug!(
                    report_id = report.report_id,
                    report_type = request.configuration.report_type_id,
                    %request.start_date,
                    %request.end_date,
                    "Ads report requested."
                );
                Ok(RequestedReport {
                    report_id: report.report_id,
                    reused: false,
                })
            }
            Err(Error::DuplicateReport {
                report_id: Some(report_id),
                detail,
            }) => {
                let existing = self.get_report(&report_id).await?;
                let usable = matches!(
                    existing.status,
                    ReportStatus::Pending | ReportStatus::Processing | ReportStatus::Completed
                );
                if usable && existing.answers(request) {
                    tracing::debug!(report_id, "Reusing the Ads report Amazon named as a duplicate.");
                    Ok(RequestedReport {
                        report_id,
                        reused: true,
                    })
                } else {
                    Err(Error::DuplicateReport {
                        report_id: Some(report_id),
                        detail,
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// `getAsyncReport`. Each call on a COMPLETED report mints a fresh
    /// download URL.
    pub async fn get_report(&self, report_id: &str) -> Result<AsyncReport, Error> {
        let path = [&REPORTS[..], &[report_id]].concat();
        self.client
            .ads_json(
                self.account,
                AdsRequest {
                    operation: Operation::GetAsyncReport,
                    method: Method::GET,
                    path: &path,
                    profile_id: Some(self.profile_id),
                    body: None,
                    content_type: "application/json",
                    accept: GET_ACCEPT,
                    idempotent: true,
                },
            )
            .await
    }

    /// `deleteAsyncReport`: cancels a report that is still PENDING.
    pub async fn delete_report(&self, report_id: &str) -> Result<(), Error> {
        let path = [&REPORTS[..], &[report_id]].concat();
        self.client
            .ads_call(
                self.account,
                AdsRequest {
                    operation: Operation::DeleteAsyncReport,
                    method: Method::DELETE,
                    path: &path,
                    profile_id: Some(self.profile_id),
                    body: None,
                    content_type: "application/json",
                    accept: DELETE_ACCEPT,
                    idempotent: true,
                },
            )
            .await
            .map(drop)
    }

    /// What a polled report means for the caller: `Ok(false)` while it is
    /// pending or processing, `Ok(true)` when it can be downloaded,
    /// [`Error::ReportFatal`] with the `failureReason` when it FAILED (or has a
    /// status this client does not know).
    pub fn ready(&self, report: &AsyncReport) -> Result<bool, Error> {
        match &report.status {
            ReportStatus::Pending | ReportStatus::Processing => Ok(false),
            ReportStatus::Completed if report.url.is_some() => Ok(true),
            // Amazon broke its own contract; like a server failure, it may be
            // fine when asked again.
            ReportStatus::Completed => Err(Error::Server {
                status: StatusCode::BAD_GATEWAY,
            }),
            ReportStatus::Failed | ReportStatus::Other(_) => {
                let reason = report.failure_reason.clone().or_else(|| match &report.status {
                    ReportStatus::Other(status) => Some(format!("unknown status {status}")),
                    _ => None,
                });
                Err(Error::ReportFatal {
                    report_id: report.report_id.clone(),
                    error_document: reason,
                })
            }
        }
    }

    /// Downloads a COMPLETED report (a plain GET of its pre-signed URL, no
    /// Amazon headers) and hands its text to `parse` as it arrives, gunzipped
    /// (Ads files are always gzip, served without `Content-Encoding`), on a
    /// blocking thread like [`crate::sp::reports::Reports::read_document`]. A
    /// refused URL (expired) is replaced once by polling the report again.
    pub async fn download<T, F>(&self, report: &AsyncReport, parse: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn Read>) -> Result<T, DocumentError> + Send + 'static,
    {
        if !self.ready(report)? {
            return Err(Error::InvalidInput {
                message: format!("Ads report {} is not COMPLETED yet", report.report_id),
            });
        }
        let url = report
            .url
            .as_deref()
            .expect("ready() is only true for a COMPLETED report with a URL");
        let response = match self.client.open_presigned(url).await? {
            Some(response) => response,
            None => {
                tracing::debug!(
                    report_id = report.report_id,
                    "The Ads report URL was refused (expired); polling the report for a fresh one."
                );
                let fresh = self.get_report(&report.report_id).await?;
                let refused = || Error::Forbidden {
                    code: "AccessDenied".into(),
                    message: "The download host refused a fresh Ads report URL.".into(),
                    details: String::new(),
                };
                if !self.ready(&fresh)? {
                    return Err(refused());
                }
                let url = fresh.url.as_deref().ok_or_else(refused)?;
                self.client.open_presigned(url).await?.ok_or_else(refused)?
            }
        };
        stream_into(response, Some("GZIP".to_owned()), None, parse).await
    }

    /// Downloads a COMPLETED report and calls `on_row` with each row as it is
    /// parsed ([`report_rows::read`]); returns how many rows there were. `T` is
    /// the row type of the report's type, e.g.
    /// [`report_rows::AdvertisedProductRow`].
    pub async fn download_rows<T, F>(&self, report: &AsyncReport, on_row: F) -> Result<u64, Error>
    where
        T: DeserializeOwned + 'static,
        F: FnMut(Parsed<T>) + Send + 'static,
    {
        self.download(report, move |text| report_rows::read(text, on_row))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).expect("a valid date")
    }

    #[test]
    fn ranges_are_cut_into_windows_of_at_most_31_days() {
        assert_eq!(
            date_windows(day(1, 1), day(1, 31), 31),
            vec![(day(1, 1), day(1, 31))]
        );
        assert_eq!(
            date_windows(day(1, 1), day(3, 1), 31),
            vec![
                (day(1, 1), day(1, 31)),
                (day(2, 1), day(3, 2).pred_opt().expect("valid"))
            ]
        );
        assert_eq!(
            date_windows(day(1, 2), day(1, 2), 31),
            vec![(day(1, 2), day(1, 2))]
        );
        assert!(date_windows(day(1, 2), day(1, 1), 31).is_empty());
    }

    #[test]
    fn a_long_request_splits_into_consecutive_windows_with_the_same_configuration() {
        let request = CreateReportRequest::daily(ReportType::Targeting, day(2, 15), day(4, 14));
        let windows = request.windows();
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].start_date, day(2, 15));
        assert_eq!(windows[0].end_date, day(3, 16));
        assert_eq!(windows[1].start_date, day(3, 17));
        assert_eq!(windows[1].end_date, day(4, 14));
        assert!(windows.iter().all(|w| w.configuration == request.configuration));
    }

    #[test]
    fn a_create_request_has_amazons_shape() {
        let body = serde_json::to_value(CreateReportRequest::daily(
            ReportType::AdvertisedProduct,
            day(5, 1),
            day(5, 1),
        ))
        .expect("serializes");
        assert_eq!(body["startDate"], "2024-05-01");
        assert_eq!(body["configuration"]["reportTypeId"], "spAdvertisedProduct");
        assert_eq!(
            body["configuration"]["groupBy"],
            serde_json::json!(["advertiser"])
        );
        assert_eq!(body["configuration"]["timeUnit"], "DAILY");
        assert_eq!(body["configuration"]["format"], "GZIP_JSON");
        assert!(body["configuration"].get("filters").is_none());
    }

    #[test]
    fn the_duplicate_report_id_is_read_from_the_425_text() {
        assert_eq!(
            duplicate_of("The Request is a duplicate of : a15115d8-3da4-49a4-95d5-cc0a3af5f85d").as_deref(),
            Some("a15115d8-3da4-49a4-95d5-cc0a3af5f85d")
        );
        assert_eq!(duplicate_of("The Request is a duplicate of : nope"), None);
        assert_eq!(duplicate_of("Too Many Requests"), None);
    }

    #[test]
    fn the_examples_parse_and_failed_or_unknown_statuses_are_fatal() {
        let read = |name: &str| -> AsyncReport {
            let json = std::fs::read(format!(
                "{}/../../testdata/amazon-api/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("the example exists");
            serde_json::from_slice(&json).expect("the example parses")
        };
        let completed = read("ads_report_completed.json");
        assert_eq!(completed.status, ReportStatus::Completed);
        assert_eq!(completed.file_size, Some(374));
        let request = CreateReportRequest {
            name: None,
            start_date: day(5, 1),
            end_date: day(5, 1),
            configuration: completed.configuration.clone().expect("echoed"),
        };
        assert!(completed.answers(&request));
        let failed = read("ads_report_failed.json");
        assert_eq!(failed.status, ReportStatus::Failed);
        assert!(failed.failure_reason.is_some());
        assert_eq!(
            ReportStatus::from("FAILURE".to_owned()),
            ReportStatus::Other("FAILURE".into())
        );
        assert!(ReportStatus::Other("FAILURE".into()).is_terminal());
    }
}
