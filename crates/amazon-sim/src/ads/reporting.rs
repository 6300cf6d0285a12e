//! Ads reporting v3 handlers (PROTOCOL.md §5.4–§5.7): createAsyncReport,
//! getAsyncReport, deleteAsyncReport, and the pre-signed GZIP_JSON download.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ads::{AdsError, admit, json_response};
use crate::ads_report::{AdsReport, AdsReportType, AdsStatus, TimeUnit};
use crate::document::{deliver, presign, presigned_refusal, s3_error};
use crate::faults::{AdsReportOutcome, ReportOutcome};
use crate::rng::Rng;
use crate::server::Shared;
use crate::stream::{self, Document};
use crate::timing::{ReportTiming, Stage, stuck_until};
use crate::truth::Truth;
use crate::usage_plan::Operation;

/// Downloads live under the simulator's control prefix; on Amazon they come from
/// S3 (`offline-report-storage-…`), a different host.
pub(crate) const DOWNLOAD_ROUTE: &str = "/_sim/ads-reports/{report_id}/report.json.gz";

/// The longest range one Sponsored Products report may cover, in days (§5.7).
const MAX_RANGE_DAYS: i64 = 31;

/// `CreateAsyncReportRequest`; every field optional here so that a missing one is
/// a 400 naming it rather than a serde message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    name: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    configuration: Option<Configuration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    ad_product: Option<String>,
    group_by: Option<Vec<String>>,
    columns: Option<Vec<String>>,
    report_type_id: Option<String>,
    time_unit: Option<String>,
    format: Option<String>,
    filters: Option<Value>,
}

fn bad_request(detail: impl Into<String>) -> AdsError {
    AdsError::v3(StatusCode::BAD_REQUEST, detail)
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, AdsError> {
    value.ok_or_else(|| bad_request(format!("{name} is required.")))
}

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdsError> {
    let caller = admit(&shared, &headers, Operation::CreateAsyncReport, true).await?;
    let profile = caller.profile()?.clone();
    // The documented vendor type, and plain JSON as production clients send (§5.2).
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(content_type.starts_with("application/vnd.createasyncreportrequest.v3+json")
        || content_type.starts_with("application/json"))
    {
        return Err(AdsError::v3(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/vnd.createasyncreportrequest.v3+json.",
        ));
    }
    let request: CreateRequest =
        serde_json::from_slice(&body).map_err(|e| bad_request(format!("Malformed request body: {e}")))?;
    let spec = validate(request, shared.clock.now().date_naive())?;

    let now = shared.clock.now();
    let mut world = shared.world();
    world.observe_reports(now);
    if let Some(existing) = world.ads_reports.iter().find(|r| {
        r.seller == caller.seller
            && r.profile_id == profile.profile_id
            && r.is_in_flight()
            && r.configuration == spec.configuration
            && (r.start_date, r.end_date) == (spec.start_date, spec.end_date)
    }) {
        return Err(AdsError::v3(
            StatusCode::from_u16(425).unwrap_or(StatusCode::CONFLICT),
            format!("The Request is a duplicate of : {}", existing.id),
        ));
    }
    let timing = world
        .pending
        .ads_report_timing
        .or(shared.config.ads_report_timing)
        .unwrap_or(ReportTiming::Polls(shared.config.report_polls));
    let outcome = match world.pending.next_ads_outcomes.pop_front() {
        Some(outcome) => outcome,
        None => {
            let (seed, op) = (shared.config.seed, Operation::CreateAsyncReport);
            let n = world.stats_mut(&caller.seller, op).calls;
            // Amazon's Ads reports end FAILED or COMPLETED; there is no CANCELLED.
            match world
                .faults(&shared.config)
                .report_outcome(seed, &caller.seller, op, n)
            {
                Some(ReportOutcome::Fatal) => {
                    let stats = world.stats_mut(&caller.seller, op);
                    stats.forced_outcomes += 1;
                    stats.injected += 1;
                    AdsReportOutcome::Failed
                }
                _ => AdsReportOutcome::Completed,
            }
        }
    };
    let stuck = {
        let (seed, op) = (shared.config.seed, Operation::CreateAsyncReport);
        let n = world.stats_mut(&caller.seller, op).calls;
        let stuck = world.faults(&shared.config).stuck(seed, &caller.seller, op, n);
        if stuck.is_some() {
            let stats = world.stats_mut(&caller.seller, op);
            stats.stuck += 1;
            stats.injected += 1;
        }
        stuck
    };
    let id = report_uuid(shared.config.seed, world.next_sequence());
    let mut report = AdsReport {
        id: id.clone(),
        seller: caller.seller.clone(),
        profile_id: profile.profile_id,
        name: spec.name,
        report_type: spec.report_type,
        grain: spec.grain,
        configuration: spec.configuration,
        columns: spec.columns,
        time_unit: spec.time_unit,
        start_date: spec.start_date,
        end_date: spec.end_date,
        currency: profile.currency_code,
        created: now,
        updated: now,
        last_status: AdsStatus::Pending,
        timing,
        stuck_until: stuck_until(now, stuck),
        polls_seen: 0,
        stage: Stage::Queued,
        outcome,
        generated: None,
        file_size: None,
        deleted: false,
    };
    report.observe(now);
    tracing::debug!(
        seller = caller.seller,
        report_id = id,
        report_type = report.report_type.as_str(),
        "Ads report created."
    );
    world.ads_reports.push(report.clone());
    drop(world);

    let body = respond_with(&shared, report)?;
    Ok(json_response(StatusCode::OK, &body))
}

/// A create request after validation.
#[derive(Debug)]
struct Spec {
    name: Option<String>,
    report_type: AdsReportType,
    grain: crate::truth::ads::Grain,
    configuration: Value,
    columns: Vec<String>,
    time_unit: TimeUnit,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

/// 400 for malformed values, ranges and retention; 422 for a configuration the
/// report type does not accept (§5.6). Columns Amazon offers but the simulator
/// does not generate are refused too, rather than answered with invented data.
fn validate(request: CreateRequest, today: NaiveDate) -> Result<Spec, AdsError> {
    let configuration = required(request.configuration, "configuration")?;
    let ad_product = required(configuration.ad_product, "configuration.adProduct")?;
    let group_by = required(configuration.group_by, "configuration.groupBy")?;
    let columns = required(configuration.columns, "configuration.columns")?;
    let report_type_id = required(configuration.report_type_id, "configuration.reportTypeId")?;
    let time_unit_name = required(configuration.time_unit, "configuration.timeUnit")?;
    let format = required(configuration.format, "configuration.format")?;
    let start = required(request.start_date, "startDate")?;
    let end = required(request.end_date, "endDate")?;

    if ad_product != "SPONSORED_PRODUCTS" {
        return Err(bad_request(format!(
            "adProduct {ad_product} is not simulated (only SPONSORED_PRODUCTS)."
        )));
    }
    if format != "GZIP_JSON" {
        return Err(bad_request(format!(
            "Invalid format {format}: only GZIP_JSON is supported."
        )));
    }
    let report_type = AdsReportType::parse(&report_type_id)
        .ok_or_else(|| bad_request(format!("Invalid reportTypeId {report_type_id}.")))?;
    let time_unit = match time_unit_name.as_str() {
        "DAILY" => TimeUnit::Daily,
        "SUMMARY" => TimeUnit::Summary,
        other => return Err(bad_request(format!("Invalid timeUnit {other}."))),
    };
    let unprocessable = |detail: String| AdsError::v3(StatusCode::UNPROCESSABLE_ENTITY, detail);
    if group_by.is_empty() || columns.is_empty() {
        return Err(bad_request("groupBy and columns must not be empty."));
    }
    let grain = report_type.grain(&group_by).ok_or_else(|| {
        unprocessable(format!(
            "groupBy {group_by:?} is not valid for {report_type_id} (or not simulated)."
        ))
    })?;
    let rejected: Vec<&str> = columns
        .iter()
        .map(String::as_str)
        .filter(|c| !report_type.accepts(&group_by, c))
        .collect();
    if !rejected.is_empty() {
        return Err(unprocessable(format!(
            "Columns {rejected:?} are not valid for {report_type_id} with groupBy {group_by:?} (or not simulated)."
        )));
    }
    // §5.5: DAILY goes with `date`, SUMMARY with `startDate`/`endDate`.
    let has = |c: &str| columns.iter().any(|v| v == c);
    match time_unit {
        TimeUnit::Daily if has("startDate") || has("endDate") => {
            return Err(bad_request(
                "startDate and endDate columns are not allowed with timeUnit DAILY; use date.",
            ));
        }
        TimeUnit::Summary if has("date") => {
            return Err(bad_request(
                "The date column is not allowed with timeUnit SUMMARY; use startDate and endDate.",
            ));
        }
        _ => {}
    }
    if configuration.filters.as_ref().is_some_and(|f| !f.is_null()) {
        return Err(unprocessable("filters are not simulated yet.".to_owned()));
    }

    let parse = |name: &str, value: &str| {
        NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| bad_request(format!("{name} {value} is not a date in the format YYYY-MM-DD.")))
    };
    let (start_date, end_date) = (parse("startDate", &start)?, parse("endDate", &end)?);
    if start_date > end_date {
        return Err(bad_request("startDate must not be after endDate."));
    }
    let days = (end_date - start_date).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(bad_request(format!(
            "startDate to endDate range ({days} days) must not exceed maximum range ({MAX_RANGE_DAYS} days)"
        )));
    }
    if end_date > today {
        return Err(bad_request(format!(
            "endDate {end_date} must not be in the future."
        )));
    }
    let retention = report_type.retention_days();
    let earliest = today - chrono::Duration::days(retention);
    if start_date < earliest {
        // [UNC] exact text: Amazon's says the date is outside the retention period.
        return Err(bad_request(format!(
            "startDate {start_date} is older than the {retention}-day retention period of {report_type_id} (earliest {earliest})."
        )));
    }

    let configuration = json!({
        "adProduct": ad_product,
        "groupBy": group_by,
        "columns": columns,
        "reportTypeId": report_type_id,
        "timeUnit": time_unit_name,
        "format": format,
        "filters": configuration.filters.unwrap_or(Value::Null),
    });
    Ok(Spec {
        name: request.name,
        report_type,
        grain,
        configuration,
        columns,
        time_unit,
        start_date,
        end_date,
    })
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(report_id): Path<String>,
) -> Result<Response, AdsError> {
    let caller = admit(&shared, &headers, Operation::GetAsyncReport, true).await?;
    let profile_id = caller.profile()?.profile_id;
    let now = shared.clock.now();
    let report = {
        let mut world = shared.world();
        let report = world
            .ads_reports
            .iter_mut()
            .find(|r| r.id == report_id && r.profile_id == profile_id && !r.deleted)
            .ok_or_else(not_found)?;
        report.poll(now);
        report.clone()
    };
    let body = respond_with(&shared, report)?;
    Ok(json_response(StatusCode::OK, &body))
}

/// The `AsyncReport` body; a COMPLETED report gets a fresh download URL on every
/// call, valid for the configured lifetime from now (§5.5).
fn respond_with(shared: &Arc<Shared>, mut report: AdsReport) -> Result<Value, AdsError> {
    if report.status() != AdsStatus::Completed {
        return Ok(report.to_json(None));
    }
    if report.file_size.is_none() {
        // Rendered once for its size; the download renders again from the truth,
        // which is deterministic, so the sizes agree.
        // Counted as it streams, so a large report is never held.
        let size = render(shared, &report)
            .and_then(|document| stream::length(document.pieces))
            .map_err(|error| {
                tracing::error!(report_id = report.id, %error, "Rendering an Ads report failed.");
                AdsError::v3(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            })?;
        report.file_size = Some(size);
        if let Some(stored) = shared.world().ads_reports.iter_mut().find(|r| r.id == report.id) {
            stored.file_size = Some(size);
        }
    }
    let now = shared.clock.now();
    let lifetime = shared.config.ads_url_lifetime.as_secs();
    let mut url = shared
        .base_url
        .join(&format!("_sim/ads-reports/{}/report.json.gz", report.id))
        .expect("a UUID is a valid URL path segment");
    presign(shared.config.seed, &mut url, &report.id, now, lifetime);
    let expires = now + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX));
    Ok(report.to_json(Some((url.as_str(), expires))))
}

pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(report_id): Path<String>,
) -> Result<Response, AdsError> {
    let caller = admit(&shared, &headers, Operation::DeleteAsyncReport, true).await?;
    let profile_id = caller.profile()?.profile_id;
    let mut world = shared.world();
    world.observe_reports(shared.clock.now());
    let report = world
        .ads_reports
        .iter_mut()
        .find(|r| r.id == report_id && r.profile_id == profile_id && !r.deleted)
        .ok_or_else(not_found)?;
    if report.status() != AdsStatus::Pending {
        // [UNC] text; Amazon only cancels reports that are still PENDING.
        return Err(bad_request(format!(
            "Report {report_id} is {} and can no longer be deleted.",
            report.status().as_str()
        )));
    }
    report.deleted = true;
    drop(world);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "code": "200", "detail": "Report deleted.", "reportId": report_id }),
    ))
}

fn not_found() -> AdsError {
    AdsError::v3(StatusCode::NOT_FOUND, "Report not found.")
}

/// `GET <url>`: no Amazon headers, the query string is the credential. The body is
/// gzip of a JSON array served as an object, without `Content-Encoding`, like S3.
pub(crate) async fn download(
    State(shared): State<Arc<Shared>>,
    Path(report_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(refused) = presigned_refusal(&shared, &report_id, &query) {
        return refused;
    }
    let report = {
        let mut world = shared.world();
        world.observe_reports(shared.clock.now());
        world
            .ads_reports
            .iter()
            .find(|r| r.id == report_id && !r.deleted && r.status() == AdsStatus::Completed)
            .cloned()
    };
    let Some(report) = report else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let (seller, id) = (report.seller.clone(), report.id.clone());
    deliver(
        &shared,
        (&seller, &id),
        Operation::DownloadAdsReport,
        true,
        || render(&shared, &report),
    )
    .await
}

/// The report's file: gzip of a JSON array, generated a day at a time.
fn render(shared: &Arc<Shared>, report: &AdsReport) -> Result<Document, crate::Error> {
    // Figures as of generation: a download an hour later is the same file, even
    // though attribution has grown since.
    let truth = Truth::new(Arc::clone(shared)).as_of(report.generated.unwrap_or(report.created));
    Ok(Document {
        content_type: "application/octet-stream".to_owned(),
        pieces: stream::gzipped(report.json_pieces(truth)),
    })
}

/// A version-4-shaped UUID, like Amazon's report ids, stable for the seed.
fn report_uuid(seed: u64, sequence: u64) -> String {
    let mut r = Rng::keyed(seed, &["ads-report", &sequence.to_string()]);
    let (a, b) = (r.next_u64(), r.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}
