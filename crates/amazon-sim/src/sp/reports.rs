//! Reports API 2021-06-30 handlers: createReport, getReport, getReports,
//! cancelReport and getReportDocument (PROTOCOL.md §3).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::document;
use crate::faults::ReportOutcome;
use crate::marketplace::Marketplace;
use crate::report::{Ending, ProcessingStatus, Report, ReportType};
use crate::rng::{Rng, hash};
use crate::server::Shared;
use crate::sp::{Caller, SpError, admit};
use crate::timing::{ReportTiming, Stage, stuck_until};
use crate::truth::AsinGranularity;
use crate::truth::sales_traffic::DateGranularity;
use crate::usage_plan::Operation;
use crate::world::{ReportPage, World};

/// `CreateReportSpecification`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateReportSpecification {
    report_type: String,
    marketplace_ids: Vec<String>,
    data_start_time: Option<String>,
    data_end_time: Option<String>,
    /// Amazon's model types the values as strings only.
    report_options: Option<BTreeMap<String, String>>,
}

/// Sales and traffic for a start date more than two years back ends CANCELLED
/// (PROTOCOL.md §3.3, M-SAT).
const SALES_AND_TRAFFIC_HISTORY_DAYS: i64 = 730;

const COOLDOWN_DETAILS: &str = "Report generation was rejected: a report of this type was generated less than 30 minutes ago for this seller and marketplace.";

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::CreateReport).await?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(SpError::unsupported_media_type());
    }
    let spec: CreateReportSpecification =
        serde_json::from_slice(&body).map_err(|e| SpError::invalid_input(&caller, e.to_string()))?;
    let now = shared.clock.now();

    let Some(report_type) = ReportType::parse(&spec.report_type) else {
        return Err(SpError::invalid_input(
            &caller,
            format!(
                "Report type {} is not supported by the simulator.",
                spec.report_type
            ),
        ));
    };
    if spec.marketplace_ids.is_empty() || spec.marketplace_ids.len() > 25 {
        return Err(SpError::invalid_input(
            &caller,
            "marketplaceIds must contain between 1 and 25 items.",
        ));
    }
    if let Some(bad) = spec
        .marketplace_ids
        .iter()
        .find(|id| Marketplace::by_id(id).is_none())
    {
        return Err(SpError::invalid_input(
            &caller,
            format!("Invalid marketplaceId: {bad}"),
        ));
    }
    let data_start = parse_time(&caller, "dataStartTime", spec.data_start_time.as_deref())?.unwrap_or(now);
    let data_end = parse_time(&caller, "dataEndTime", spec.data_end_time.as_deref())?.unwrap_or(now);
    if data_start > now || data_end > now {
        return Err(SpError::invalid_input(
            &caller,
            "dataStartTime and dataEndTime must not be in the future.",
        ));
    }
    if data_start > data_end {
        return Err(SpError::invalid_input(
            &caller,
            "dataStartTime must not be after dataEndTime.",
        ));
    }
    let options = spec.report_options.unwrap_or_default();
    match report_type {
        ReportType::SalesAndTraffic => check_sales_and_traffic_options(&caller, &options)?,
        ReportType::LedgerSummaryView => check_ledger_options(&caller, &options)?,
        ReportType::FbaMyiUnsuppressedInventory => {}
    }

    let config = &shared.config;
    let mut world = shared.world();
    let timing = world
        .pending
        .report_timing
        .or(config.report_timing)
        .unwrap_or(ReportTiming::Polls(config.report_polls));
    let forced = match world.pending.next_outcomes.pop_front() {
        Some(outcome) => Some(outcome),
        None => {
            let n = world.stats_mut(&caller.seller, Operation::CreateReport).calls;
            let chance =
                world
                    .faults(config)
                    .report_outcome(config.seed, &caller.seller, Operation::CreateReport, n);
            if chance.is_some() {
                let stats = world.stats_mut(&caller.seller, Operation::CreateReport);
                stats.forced_outcomes += 1;
                stats.injected += 1;
            }
            chance
        }
    };
    let stuck = {
        let n = world.stats_mut(&caller.seller, Operation::CreateReport).calls;
        let stuck = world
            .faults(config)
            .stuck(config.seed, &caller.seller, Operation::CreateReport, n);
        if stuck.is_some() {
            let stats = world.stats_mut(&caller.seller, Operation::CreateReport);
            stats.stuck += 1;
            stats.injected += 1;
        }
        stuck
    };
    let ending = match forced {
        Some(ReportOutcome::Done) => Ending::Done,
        Some(ReportOutcome::Cancelled) => Ending::Cancelled,
        Some(ReportOutcome::Fatal) => Ending::Fatal {
            error_details: Some("Report generation failed (forced by the simulator).".to_owned()),
        },
        Some(ReportOutcome::FatalWithoutDocument) => Ending::Fatal { error_details: None },
        None => natural_ending(
            &mut world,
            config.nrt_cooldown,
            &caller.seller,
            report_type,
            &spec.marketplace_ids,
            data_start,
            now,
        ),
    };
    let sequence = world.next_sequence();
    let id = report_id(config.seed, sequence);
    let document_id = document_id(config.seed, &id, &spec.marketplace_ids[0]);
    tracing::debug!(seller = caller.seller, report_id = id, report_type = report_type.as_str(), ending = ?ending, "Report created.");
    let mut report = Report {
        id: id.clone(),
        seller: caller.seller.clone(),
        report_type,
        marketplace_ids: spec.marketplace_ids,
        data_start,
        data_end,
        created: now,
        options,
        timing,
        stuck_until: stuck_until(now, stuck),
        polls_seen: 0,
        stage: Stage::Queued,
        ending,
        cancelled: false,
        processing_start: None,
        processing_end: None,
        document_id,
    };
    report.observe(now);
    world.reports.push(report);
    drop(world);

    Ok(caller.json(StatusCode::ACCEPTED, &json!({ "reportId": id })))
}

/// Only what the simulator can generate is accepted; anything else fails loudly
/// rather than producing a document that differs from Amazon's.
fn check_sales_and_traffic_options(
    caller: &Caller,
    options: &BTreeMap<String, String>,
) -> Result<(), SpError> {
    for (key, value) in options {
        let supported = match key.as_str() {
            "dateGranularity" => DateGranularity::parse(value).is_some(),
            "asinGranularity" => AsinGranularity::parse(value).is_some(),
            _ => false,
        };
        if !supported {
            return Err(SpError::invalid_input(
                caller,
                format!(
                    "reportOptions {key}={value} is not simulated yet (only dateGranularity DAY, WEEK or MONTH; asinGranularity PARENT, CHILD or SKU)."
                ),
            ));
        }
    }
    Ok(())
}

/// The ledger is simulated by country, daily or monthly (Amazon's default when
/// the option is absent); note the two spellings, `aggregateBy…` and
/// `aggregatedBy…`, which are both Amazon's (PROTOCOL.md §4.2.1).
fn check_ledger_options(caller: &Caller, options: &BTreeMap<String, String>) -> Result<(), SpError> {
    for (key, value) in options {
        let supported = match key.as_str() {
            "aggregateByLocation" => value == "COUNTRY",
            "aggregatedByTimePeriod" => value == "DAILY" || value == "MONTHLY",
            _ => false,
        };
        if !supported {
            return Err(SpError::invalid_input(
                caller,
                format!(
                    "reportOptions {key}={value} is not simulated yet (only aggregateByLocation=COUNTRY, aggregatedByTimePeriod DAILY or MONTHLY)."
                ),
            ));
        }
    }
    Ok(())
}

/// The outcome Amazon would reach on its own: CANCELLED when there is no data,
/// FATAL inside the near-real-time regeneration window or for a multi-marketplace
/// sales and traffic request, DONE otherwise.
fn natural_ending(
    world: &mut World,
    cooldown: Option<std::time::Duration>,
    seller: &str,
    report_type: ReportType,
    marketplace_ids: &[String],
    data_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Ending {
    let sells_in = |id: &String| {
        world
            .sellers
            .get(seller)
            .and_then(|s| s.sku_count(id))
            .is_some_and(|n| n > 0)
    };
    match report_type {
        ReportType::SalesAndTraffic => {
            if marketplace_ids.len() != 1 {
                return Ending::Fatal {
                    error_details: Some(
                        "GET_SALES_AND_TRAFFIC_REPORT accepts exactly one marketplaceId.".to_owned(),
                    ),
                };
            }
            let too_old =
                (now.date_naive() - data_start.date_naive()).num_days() > SALES_AND_TRAFFIC_HISTORY_DAYS;
            if too_old || !sells_in(&marketplace_ids[0]) {
                return Ending::Cancelled;
            }
            Ending::Done
        }
        ReportType::LedgerSummaryView => {
            if marketplace_ids.iter().any(&sells_in) {
                Ending::Done
            } else {
                Ending::Cancelled
            }
        }
        ReportType::FbaMyiUnsuppressedInventory => {
            let Some(marketplace) = marketplace_ids.iter().find(|id| sells_in(id)) else {
                return Ending::Cancelled;
            };
            let key = (seller.to_owned(), marketplace.clone(), report_type);
            if let (Some(cooldown), Some(last), true) = (
                cooldown,
                world.last_generated.get(&key),
                report_type.is_near_real_time(),
            ) && now - *last < chrono::Duration::from_std(cooldown).unwrap_or(chrono::Duration::MAX)
            {
                return Ending::Fatal {
                    error_details: Some(COOLDOWN_DETAILS.to_owned()),
                };
            }
            world.last_generated.insert(key, now);
            Ending::Done
        }
    }
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(report_id): Path<String>,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::GetReport).await?;
    let now = shared.clock.now();
    let mut world = shared.world();
    let report = world
        .report_mut(&caller.seller, &report_id)
        .ok_or_else(|| SpError::not_found(&caller))?;
    report.poll(now);
    let body = report.to_json();
    drop(world);
    Ok(caller.json(StatusCode::OK, &body))
}

pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(report_id): Path<String>,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::CancelReport).await?;
    let now = shared.clock.now();
    let mut world = shared.world();
    let report = world
        .report_mut(&caller.seller, &report_id)
        .ok_or_else(|| SpError::not_found(&caller))?;
    report.observe(now);
    if report.status() != ProcessingStatus::InQueue {
        // [UNC] exact code/text; Amazon only cancels reports still IN_QUEUE.
        return Err(SpError::invalid_input(
            &caller,
            format!(
                "Report {report_id} is {} and can no longer be cancelled.",
                report.status().as_str()
            ),
        ));
    }
    report.cancel(now);
    drop(world);
    Ok(caller.empty(StatusCode::OK))
}

pub(crate) async fn get_document(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(document_id): Path<String>,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::GetReportDocument).await?;
    let mut world = shared.world();
    world.observe_reports(shared.clock.now());
    let report = world
        .reports
        .iter()
        .find(|r| r.seller == caller.seller && r.visible_document_id() == Some(document_id.as_str()))
        .ok_or_else(|| SpError::not_found(&caller))?;
    let is_report_content = report.status() == ProcessingStatus::Done;
    let gzip = is_report_content && report.report_type.is_gzip();
    drop(world);

    let url = document::signed_url(&shared, &document_id, shared.clock.now());
    let mut body = json!({ "reportDocumentId": document_id, "url": url.as_str() });
    if gzip {
        body["compressionAlgorithm"] = "GZIP".into();
    }
    Ok(caller.json(StatusCode::OK, &body))
}

/// getReports filters, after validation.
#[derive(Debug)]
struct Filters {
    report_types: Vec<String>,
    statuses: Option<Vec<ProcessingStatus>>,
    marketplace_ids: Option<Vec<String>>,
    created_since: DateTime<Utc>,
    created_until: DateTime<Utc>,
    page_size: usize,
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::GetReports).await?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let now = shared.clock.now();

    let mut world = shared.world();
    world.observe_reports(now);
    let page = if let Some((_, token)) = params.iter().find(|(k, _)| k == "nextToken") {
        // Amazon rejects nextToken combined with anything else (PROTOCOL.md §3.4).
        if params.len() > 1 {
            return Err(SpError::invalid_input(
                &caller,
                "When nextToken is provided, it must be the only parameter.",
            ));
        }
        world
            .report_pages
            .get(token)
            .filter(|p| p.seller == caller.seller)
            .cloned()
            .ok_or_else(|| SpError::invalid_input(&caller, "Next token is invalid or expired."))?
    } else {
        let filters = parse_filters(&caller, &params, now)?;
        let report_ids = world
            .reports
            .iter()
            .rev() // newest first
            .filter(|r| r.seller == caller.seller && is_selected(r, &filters))
            .map(|r| r.id.clone())
            .collect();
        ReportPage {
            seller: caller.seller.clone(),
            report_ids,
            page_size: filters.page_size,
        }
    };

    let (this_page, rest) = page
        .report_ids
        .split_at(page.page_size.min(page.report_ids.len()));
    let reports: Vec<_> = this_page
        .iter()
        .filter_map(|id| {
            world
                .reports
                .iter()
                .find(|r| r.seller == caller.seller && &r.id == id)
                .map(Report::to_json)
        })
        .collect();
    let mut body = json!({ "reports": reports });
    if !rest.is_empty() {
        let sequence = world.next_sequence();
        let token = next_token(shared.config.seed, sequence);
        world.report_pages.insert(
            token.clone(),
            ReportPage {
                seller: caller.seller.clone(),
                report_ids: rest.to_vec(),
                page_size: page.page_size,
            },
        );
        body["nextToken"] = token.into();
    }
    drop(world);
    Ok(caller.json(StatusCode::OK, &body))
}

fn parse_filters(
    caller: &Caller,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Filters, SpError> {
    // Arrays are csv (Swagger 2 default); repeated keys are accepted too (§2.7).
    let list = |name: &str| -> Option<Vec<String>> {
        let values: Vec<String> = params
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        (!values.is_empty()).then_some(values)
    };
    let single = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());

    let Some(report_types) = list("reportTypes") else {
        return Err(SpError::invalid_input(
            caller,
            "Either reportTypes or nextToken is required.",
        ));
    };
    if report_types.len() > 10 {
        return Err(SpError::invalid_input(
            caller,
            "reportTypes accepts at most 10 items.",
        ));
    }
    let statuses = match list("processingStatuses") {
        None => None,
        Some(values) => Some(
            values
                .iter()
                .map(|v| {
                    ProcessingStatus::parse(v).ok_or_else(|| {
                        SpError::invalid_input(caller, format!("Invalid processingStatuses value: {v}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let marketplace_ids = list("marketplaceIds");
    if marketplace_ids.as_ref().is_some_and(|m| m.len() > 10) {
        return Err(SpError::invalid_input(
            caller,
            "marketplaceIds accepts at most 10 items.",
        ));
    }
    let page_size = match single("pageSize") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| SpError::invalid_input(caller, "pageSize must be between 1 and 100."))?,
    };
    let created_since = parse_time(caller, "createdSince", single("createdSince"))?
        .unwrap_or(now - chrono::Duration::days(90));
    let created_until = parse_time(caller, "createdUntil", single("createdUntil"))?.unwrap_or(now);
    Ok(Filters {
        report_types,
        statuses,
        marketplace_ids,
        created_since,
        created_until,
        page_size,
    })
}

fn is_selected(report: &Report, filters: &Filters) -> bool {
    filters
        .report_types
        .iter()
        .any(|t| t == report.report_type.as_str())
        && filters
            .statuses
            .as_ref()
            .is_none_or(|s| s.contains(&report.status()))
        && filters
            .marketplace_ids
            .as_ref()
            .is_none_or(|m| report.marketplace_ids.iter().any(|id| m.contains(id)))
        && report.created >= filters.created_since
        && report.created <= filters.created_until
}

/// ISO 8601 with `Z` or an offset, with or without fractional seconds.
fn parse_time(caller: &Caller, name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, SpError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    SpError::invalid_input(caller, format!("{name} is not a valid ISO 8601 date-time: {v}"))
                })
        })
        .transpose()
}

/// Long numeric strings, like production report ids.
fn report_id(seed: u64, sequence: u64) -> String {
    (600_000_000_000 + hash(seed, &["report-ids"]) % 90_000_000_000 + sequence).to_string()
}

/// `amzn1.spdoc.1.4.<region>.<uuid>.<suffix>`, the production shape.
fn document_id(seed: u64, report_id: &str, marketplace_id: &str) -> String {
    let region = Marketplace::by_id(marketplace_id).map_or("na", |m| m.region.code());
    let mut r = Rng::keyed(seed, &["document", report_id]);
    let (a, b) = (r.next_u64(), r.next_u64());
    format!(
        "amzn1.spdoc.1.4.{region}.{:08x}-{:04x}-{:04x}-{:04x}-{:012x}.T{}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff,
        r.alphanumeric(10)
    )
}

/// An opaque token that always contains `+`, `/` and `=`, so a client that does not
/// URL-encode it fails here as it would on Amazon (selling-partner-api-models#4946).
fn next_token(seed: u64, sequence: u64) -> String {
    let mut bytes = vec![0xfb, 0xff, 0xbf];
    let mut r = Rng::keyed(seed, &["next-token", &sequence.to_string()]);
    bytes.extend((0..10).map(|_| r.next_u64().to_le_bytes()[0]));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
