//! The control API under `/_sim/`: the knobs of [`crate::Simulator`] over HTTP, for
//! drivers in another process (the browser tests and the chaos suite run the real
//! binary). Never on an Amazon path, so a client cannot reach it by mistake.
//!
//! Bodies and answers are JSON with snake_case fields, like the Rust API they
//! mirror; errors are `{"error": …}` with 400 (bad input) or 404 (unknown seller,
//! profile or marketplace).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::{AdsReportOutcome, FaultRates, Faults, Pending, ReportOutcome, SellerFaults};
use crate::report::timestamp;
use crate::seller::Seller;
use crate::server::Shared;
use crate::timing::ReportTiming;
use crate::truth::Truth;
use crate::usage_plan::Operation;

/// The control routes, merged into the simulator's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/sellers", post(add_seller))
        .route("/_sim/grants/revoke", post(revoke_grant))
        .route("/_sim/faults", put(set_faults).delete(clear_faults))
        .route("/_sim/faults/throttle", post(throttle))
        .route("/_sim/faults/fail-next", post(fail_next))
        .route("/_sim/faults/next-report", post(next_report))
        .route("/_sim/faults/next-ads-report", post(next_ads_report))
        .route("/_sim/report-timing", put(report_timing))
        .route("/_sim/ads-report-timing", put(ads_report_timing))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance))
        .route("/_sim/stats", get(stats))
        .route("/_sim/violations", get(violations))
        .route("/_sim/truth/products", get(truth_products))
        .route("/_sim/truth/inventory", get(truth_inventory))
        .route("/_sim/truth/sales-and-traffic", get(truth_sales_and_traffic))
        .route("/_sim/truth/ledger", get(truth_ledger))
        .route("/_sim/truth/ads-profiles", get(truth_ads_profiles))
        .route("/_sim/truth/ads", get(truth_ads))
}

/// A control API error: `{"error": …}`.
#[derive(Debug)]
pub(crate) struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<crate::Error> for ControlError {
    fn from(error: crate::Error) -> Self {
        let status = match error {
            crate::Error::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::NOT_FOUND,
        };
        Self(status, error.to_string())
    }
}

fn bad_request(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// A JSON body, with a 400 naming the problem instead of axum's plain-text one.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("invalid body: {e}")))
}

fn operation(name: &str) -> Result<Operation, ControlError> {
    Operation::from_name(name).ok_or_else(|| bad_request(format!("unknown operation {name}")))
}

#[derive(Debug, Deserialize)]
struct NewSeller {
    seller_id: String,
    marketplaces: Vec<NewListing>,
}

#[derive(Debug, Deserialize)]
struct NewListing {
    marketplace_id: String,
    sku_count: u32,
}

async fn add_seller(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<Response, ControlError> {
    let request: NewSeller = body(&bytes)?;
    let seller = request
        .marketplaces
        .into_iter()
        .fold(Seller::new(request.seller_id), |s, m| {
            s.marketplace(m.marketplace_id, m.sku_count)
        });
    let credentials = shared.add_seller(seller)?;
    let answer = json!({
        "seller_id": credentials.seller_id,
        "refresh_token": credentials.refresh_token,
        "ads_refresh_token": credentials.ads_refresh_token,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Debug, Deserialize)]
struct Revoke {
    refresh_token: String,
}

async fn revoke_grant(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: Revoke = body(&bytes)?;
    shared.revoke_grant(&request.refresh_token);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct OperationTimes {
    operation: String,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn throttle(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: OperationTimes = body(&bytes)?;
    let op = operation(&request.operation)?;
    *shared.world().pending.throttle.entry(op).or_default() += request.times;
    Ok(StatusCode::NO_CONTENT)
}

async fn fail_next(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: OperationTimes = body(&bytes)?;
    let op = operation(&request.operation)?;
    *shared.world().pending.fail.entry(op).or_default() += request.times;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct Outcome {
    outcome: String,
}

async fn next_report(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: Outcome = body(&bytes)?;
    let outcome = match request.outcome.as_str() {
        "DONE" => ReportOutcome::Done,
        "CANCELLED" => ReportOutcome::Cancelled,
        "FATAL" => ReportOutcome::Fatal,
        "FATAL_WITHOUT_DOCUMENT" => ReportOutcome::FatalWithoutDocument,
        other => return Err(bad_request(format!("unknown report outcome {other}"))),
    };
    shared.world().pending.next_outcomes.push_back(outcome);
    Ok(StatusCode::NO_CONTENT)
}

async fn next_ads_report(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: Outcome = body(&bytes)?;
    let outcome = match request.outcome.as_str() {
        "COMPLETED" => AdsReportOutcome::Completed,
        "FAILED" => AdsReportOutcome::Failed,
        other => return Err(bad_request(format!("unknown Ads report outcome {other}"))),
    };
    shared.world().pending.next_ads_outcomes.push_back(outcome);
    Ok(StatusCode::NO_CONTENT)
}

/// [`FaultRates`] on the wire; the latency and timeout in milliseconds, how long a
/// report stays stuck in seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RatesBody {
    server_error: f64,
    unavailable: f64,
    throttle: f64,
    slow: f64,
    latency_ms: u64,
    truncated: f64,
    report_fatal: f64,
    report_cancelled: f64,
    reset: f64,
    timeout: f64,
    timeout_ms: u64,
    corrupt: f64,
    report_stuck: f64,
    stuck_seconds: u64,
}

impl RatesBody {
    fn rates(&self) -> Result<FaultRates, ControlError> {
        let probabilities = [
            self.server_error,
            self.unavailable,
            self.throttle,
            self.slow,
            self.truncated,
            self.report_fatal,
            self.report_cancelled,
            self.reset,
            self.timeout,
            self.corrupt,
            self.report_stuck,
        ];
        if probabilities.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return Err(bad_request("probabilities must be between 0 and 1"));
        }
        Ok(FaultRates {
            server_error: self.server_error,
            unavailable: self.unavailable,
            throttle: self.throttle,
            slow: self.slow,
            latency: Duration::from_millis(self.latency_ms),
            truncated: self.truncated,
            report_fatal: self.report_fatal,
            report_cancelled: self.report_cancelled,
            reset: self.reset,
            timeout: self.timeout,
            timeout_after: Duration::from_millis(self.timeout_ms),
            corrupt: self.corrupt,
            report_stuck: self.report_stuck,
            stuck_for: Duration::from_secs(self.stuck_seconds),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FaultsBody {
    all: RatesBody,
    /// Operation name → its rates.
    operations: BTreeMap<String, RatesBody>,
    /// Seller id → the store's rates.
    sellers: BTreeMap<String, SellerFaultsBody>,
}

/// [`SellerFaults`] on the wire.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SellerFaultsBody {
    all: RatesBody,
    /// Operation name → the store's rates for it.
    operations: BTreeMap<String, RatesBody>,
}

async fn set_faults(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let request: FaultsBody = body(&bytes)?;
    let mut faults = Faults::everywhere(request.all.rates()?);
    for (name, rates) in &request.operations {
        faults = faults.operation(operation(name)?, rates.rates()?);
    }
    for (seller, store) in &request.sellers {
        let mut rates = SellerFaults::everywhere(store.all.rates()?);
        for (name, op_rates) in &store.operations {
            rates = rates.operation(operation(name)?, op_rates.rates()?);
        }
        faults = faults.seller(seller.clone(), rates);
    }
    shared.world().pending.faults = Some(faults);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.world().pending = Pending {
        faults: Some(Faults::default()),
        ..Pending::default()
    };
    StatusCode::NO_CONTENT
}

/// `{"polls": n}`, `{"in_queue_seconds": a, "in_progress_seconds": b}`, or all
/// three for [`ReportTiming::PollsAndDuration`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimingBody {
    polls: Option<u32>,
    in_queue_seconds: Option<u64>,
    in_progress_seconds: Option<u64>,
}

impl TimingBody {
    fn timing(&self) -> Result<ReportTiming, ControlError> {
        let seconds = Duration::from_secs;
        match (self.polls, self.in_queue_seconds, self.in_progress_seconds) {
            (Some(polls), None, None) => Ok(ReportTiming::Polls(polls)),
            (None, Some(q), Some(p)) => Ok(ReportTiming::Duration {
                in_queue: seconds(q),
                in_progress: seconds(p),
            }),
            (Some(polls), Some(q), Some(p)) => Ok(ReportTiming::PollsAndDuration {
                polls,
                in_queue: seconds(q),
                in_progress: seconds(p),
            }),
            _ => Err(bad_request(
                "give polls, or in_queue_seconds and in_progress_seconds, or all three",
            )),
        }
    }
}

async fn report_timing(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let timing = body::<TimingBody>(&bytes)?.timing()?;
    shared.world().pending.report_timing = Some(timing);
    Ok(StatusCode::NO_CONTENT)
}

async fn ads_report_timing(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<StatusCode, ControlError> {
    let timing = body::<TimingBody>(&bytes)?.timing()?;
    shared.world().pending.ads_report_timing = Some(timing);
    Ok(StatusCode::NO_CONTENT)
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "now": timestamp(shared.clock.now()) }))
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance(
    State(shared): State<Arc<Shared>>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: Advance = body(&bytes)?;
    let by = i64::try_from(request.seconds).map_err(|_| bad_request("seconds is too large"))?;
    shared.clock.advance(chrono::Duration::seconds(by));
    Ok(Json(json!({ "now": timestamp(shared.clock.now()) })))
}

#[derive(Debug, Deserialize)]
struct StatsQuery {
    seller_id: String,
    operation: Option<String>,
}

/// `{"<operation>": CallStats, …}` for the seller: every operation it called, or
/// the one asked for (zeros when never called).
async fn stats(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<Value>, ControlError> {
    let world = shared.world();
    let of = |op: Operation| {
        world
            .stats
            .get(&(query.seller_id.clone(), op))
            .copied()
            .unwrap_or_default()
    };
    let mut answer = serde_json::Map::new();
    match &query.operation {
        Some(name) => {
            let op = operation(name)?;
            answer.insert(op.name().to_owned(), json!(of(op)));
        }
        None => {
            for &op in Operation::all() {
                let stats = of(op);
                if stats.calls > 0 {
                    answer.insert(op.name().to_owned(), json!(stats));
                }
            }
        }
    }
    Ok(Json(Value::Object(answer)))
}

/// Every (seller, operation) that found its usage plan empty:
/// `[{"seller_id", "operation", "violations"}]`, sorted. An empty list means every
/// client stayed within Amazon's plans.
async fn violations(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let world = shared.world();
    let mut rows: Vec<(&str, &'static str, u64)> = world
        .stats
        .iter()
        .filter(|(_, s)| s.violations > 0)
        .map(|((seller, op), s)| (seller.as_str(), op.name(), s.violations))
        .collect();
    rows.sort_unstable();
    Json(Value::Array(
        rows.into_iter()
            .map(|(seller, op, n)| json!({ "seller_id": seller, "operation": op, "violations": n }))
            .collect(),
    ))
}

/// Query of the ground-truth endpoints; which fields each needs is checked by it.
#[derive(Debug, Deserialize)]
struct TruthQuery {
    seller_id: Option<String>,
    marketplace_id: Option<String>,
    profile_id: Option<i64>,
    date: Option<NaiveDate>,
    /// RFC 3339 instant the truth is read as of; the simulated now by default.
    as_of: Option<DateTime<Utc>>,
    /// Ads grain: `advertised_product`, `campaigns`, `ad_groups`, `targeting`,
    /// `search_terms`.
    grain: Option<String>,
}

impl TruthQuery {
    fn truth(&self, shared: &Arc<Shared>) -> Truth {
        let truth = Truth::new(Arc::clone(shared));
        match self.as_of {
            Some(instant) => truth.as_of(instant),
            None => truth,
        }
    }

    fn seller(&self) -> Result<&str, ControlError> {
        self.seller_id
            .as_deref()
            .ok_or_else(|| bad_request("seller_id is required"))
    }

    fn marketplace(&self) -> Result<&str, ControlError> {
        self.marketplace_id
            .as_deref()
            .ok_or_else(|| bad_request("marketplace_id is required"))
    }

    fn date(&self) -> Result<NaiveDate, ControlError> {
        self.date
            .ok_or_else(|| bad_request("date (YYYY-MM-DD) is required"))
    }
}

async fn truth_products(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let rows = q.truth(&shared).products(q.seller()?, q.marketplace()?)?;
    Ok(Json(json!(rows)))
}

/// The MYI snapshot of `date`, or of the truth's today.
async fn truth_inventory(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let truth = q.truth(&shared);
    let date = match q.date {
        Some(date) => date,
        None => truth.today_in(q.marketplace()?)?,
    };
    let rows = truth.inventory_on(q.seller()?, q.marketplace()?, date)?;
    Ok(Json(json!(rows)))
}

async fn truth_sales_and_traffic(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let day = q
        .truth(&shared)
        .sales_and_traffic(q.seller()?, q.marketplace()?, q.date()?)?;
    Ok(Json(json!(day)))
}

async fn truth_ledger(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let rows = q
        .truth(&shared)
        .ledger(q.seller()?, q.marketplace()?, q.date()?)?;
    Ok(Json(json!(rows)))
}

async fn truth_ads_profiles(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let profiles = q.truth(&shared).ads_profiles(q.seller()?)?;
    Ok(Json(json!(profiles)))
}

async fn truth_ads(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<TruthQuery>,
) -> Result<Json<Value>, ControlError> {
    let truth = q.truth(&shared);
    let profile = q
        .profile_id
        .ok_or_else(|| bad_request("profile_id is required"))?;
    let date = q.date()?;
    let rows = match q.grain.as_deref().unwrap_or("advertised_product") {
        "advertised_product" => truth.ads_advertised_product(profile, date)?,
        "campaigns" => truth.ads_campaigns(profile, date)?,
        "ad_groups" => truth.ads_ad_groups(profile, date)?,
        "targeting" => truth.ads_targeting(profile, date)?,
        "search_terms" => truth.ads_search_terms(profile, date)?,
        other => return Err(bad_request(format!("unknown grain {other}"))),
    };
    Ok(Json(json!(rows)))
}
