//! Report documents: pre-signed-looking download URLs that expire like S3's, and
//! the bytes behind them (TSV or JSON, gzip when the type is, in the marketplace's
//! charset). Documents are generated on download from the ground truth as streams
//! ([`crate::stream`]), one SKU at a time, so a 100,000-SKU report is served in
//! the same memory as a ten-SKU one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};
use url::Url;

use crate::faults::{BodyFault, Failure, Faults};
use crate::marketplace::Marketplace;
use crate::report::{Ending, ProcessingStatus, Report, ReportType};
use crate::rng::hash;
use crate::server::Shared;
use crate::stream::{self, Document, Sabotage};
use crate::truth::catalog::Catalog;
use crate::truth::sales_traffic::DateGranularity;
use crate::truth::{
    AsinGranularity, DateTotals, InventoryRow, LedgerRow, SkuSalesAndTraffic, Truth, inventory, ledger,
    sales_traffic,
};
use crate::usage_plan::Operation;

/// Documents live under the simulator's own control prefix, never on an Amazon
/// path: on Amazon they come from S3, a different host.
pub(crate) const DOWNLOAD_ROUTE: &str = "/_sim/documents/{document_id}";

const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// A URL for `document_id` issued at `now`, valid for the configured lifetime.
pub(crate) fn signed_url(shared: &Shared, document_id: &str, now: DateTime<Utc>) -> Url {
    let mut url = shared
        .base_url
        .join(&format!("_sim/documents/{document_id}"))
        .expect("a document id is a valid URL path segment");
    presign(
        shared.config.seed,
        &mut url,
        document_id,
        now,
        shared.config.document_url_lifetime.as_secs(),
    );
    url
}

/// Appends S3-style pre-signing parameters for the object `key`, so the query
/// string is the only credential a download needs, as on S3.
pub(crate) fn presign(seed: u64, url: &mut Url, key: &str, now: DateTime<Utc>, lifetime_secs: u64) {
    let date = now.format(AMZ_DATE).to_string();
    let expires = lifetime_secs.to_string();
    url.query_pairs_mut()
        .append_pair("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
        .append_pair("X-Amz-Date", &date)
        .append_pair("X-Amz-Expires", &expires)
        .append_pair("X-Amz-Signature", &signature(seed, key, &date, &expires));
}

fn signature(seed: u64, key: &str, date: &str, expires: &str) -> String {
    format!("{:016x}", hash(seed, &["document-url", key, date, expires]))
}

/// Checks a pre-signed query for `key`: `Some` is the S3 error to answer with.
pub(crate) fn presigned_refusal(
    shared: &Shared,
    key: &str,
    query: &BTreeMap<String, String>,
) -> Option<Response> {
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let (date, expires) = (field("X-Amz-Date"), field("X-Amz-Expires"));
    if field("X-Amz-Signature") != signature(shared.config.seed, key, date, expires) {
        return Some(s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    let issued = NaiveDateTime::parse_from_str(date, AMZ_DATE).map(|t| t.and_utc());
    let lifetime = expires.parse::<i64>().map(chrono::Duration::seconds);
    match (issued, lifetime) {
        (Ok(issued), Ok(lifetime)) if shared.clock.now() <= issued + lifetime => None,
        _ => Some(s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired",
        )),
    }
}

/// `GET <document url>`: no Amazon auth; the query string is the credential.
pub(crate) async fn download(
    State(shared): State<Arc<Shared>>,
    Path(document_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(refused) = presigned_refusal(&shared, &document_id, &query) {
        return refused;
    }

    let report = {
        let mut world = shared.world();
        world.observe_reports(shared.clock.now());
        world
            .reports
            .iter()
            .find(|r| r.visible_document_id() == Some(document_id.as_str()))
            .cloned()
    };
    let Some(report) = report else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    // The document holds the figures as they were when Amazon generated it, not
    // as they have been restated since.
    let truth = Truth::new(Arc::clone(&shared)).as_of(report.processing_end.unwrap_or(report.created));
    let gzip = report.report_type.is_gzip() && report.status() == ProcessingStatus::Done;
    let seller = report.seller.clone();
    deliver(
        &shared,
        (&seller, &document_id),
        Operation::DownloadReportDocument,
        gzip,
        move || render(&truth, &report),
    )
    .await
}

/// Serves a download after chance had its say: S3's 500 or 503 (`SlowDown`, also
/// for a throttle), a delay, or a fault of the body (cut short, corrupted, the
/// connection closed or stalled part-way). A cut or corrupted gzip body is
/// still a complete 200 response, so only a client that checks what it decodes
/// (gzip trailer, JSON) notices, as with a real bad transfer; a cut flat file
/// announces its whole length, so the HTTP client sees it end early.
///
/// `render` generates the document; it is called a second time, to count the
/// bytes, only when a body fault needs its length to place the offset.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    (seller, key): (&str, &str),
    op: Operation,
    gzip: bool,
    render: impl Fn() -> Result<Document, crate::Error>,
) -> Response {
    let seed = shared.config.seed;
    let (failure, delay, body_fault, n) = {
        let mut world = shared.world();
        let n = world.count_call(seller, op);
        let faults = world.faults(&shared.config);
        let decision = faults.decide(seed, seller, op, n);
        // Resets and timeouts of a download strike mid-body (below), not instead
        // of the answer.
        let failure = decision
            .failure
            .filter(|f| matches!(f, Failure::ServerError | Failure::Unavailable | Failure::Throttle));
        let body_fault = match failure {
            None => faults.body_fault(seed, (seller, key), op, n, gzip),
            Some(_) => None,
        };
        let stats = world.stats_mut(seller, op);
        match failure {
            Some(Failure::ServerError) => stats.failed += 1,
            Some(_) => stats.unavailable += 1,
            None => {}
        }
        stats.slowed += u64::from(decision.delay.is_some());
        stats.injected += u64::from(failure.is_some()) + u64::from(decision.delay.is_some());
        (failure, decision.delay, body_fault, n)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(shared.clock.real(delay)).await;
    }
    match failure {
        Some(Failure::ServerError) => {
            return s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            );
        }
        Some(_) => {
            return s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            );
        }
        None => {}
    }
    let rendered = render().and_then(|document| {
        let Some(fault) = body_fault else {
            return Ok((document, None));
        };
        // The offset depends on the length, which only a full generation tells;
        // counting it keeps memory flat at the price of generating twice.
        let len = stream::length(render()?.pieces)?;
        if len < 2 || (fault == BodyFault::Corrupt && len < 20) {
            return Ok((document, None));
        }
        let mut offset = Faults::offset(seed, key, n, len);
        if fault == BodyFault::Corrupt {
            // Inside the deflate data: past the 10-byte header, before the 8-byte
            // trailer, where a flipped byte cannot go unnoticed.
            offset = offset.clamp(10, len - 9);
        }
        let stall = match fault {
            BodyFault::Stall(hang) => shared.clock.hang(hang),
            _ => Duration::ZERO,
        };
        let sabotage = Sabotage {
            fault,
            offset,
            len,
            stall,
            stop: shared.stop.clone(),
        };
        Ok((document, Some(sabotage)))
    });
    let (document, sabotage) = match rendered {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::error!(key, %error, "Rendering a document failed.");
            return s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            );
        }
    };
    if let Some(sabotage) = &sabotage {
        let mut world = shared.world();
        let stats = world.stats_mut(seller, op);
        stats.injected += 1;
        match sabotage.fault {
            BodyFault::Truncate => stats.truncated += 1,
            BodyFault::Corrupt => stats.corrupted += 1,
            BodyFault::Reset => stats.reset += 1,
            BodyFault::Stall(_) => stats.timed_out += 1,
        }
    }
    // S3 always says how long an object is. A flat file has no end of its
    // own (no gzip trailer, no closing bracket), so a cut one is only seen as
    // fewer bytes than announced: announce them, or the cut would be a
    // shorter but valid document that no client could tell from a real one.
    let announced = sabotage
        .as_ref()
        .filter(|s| !gzip && s.fault == BodyFault::Truncate)
        .map(|s| s.len);
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, document.content_type)],
        stream::body(document.pieces, sabotage),
    )
        .into_response();
    if let Some(len) = announced {
        response.headers_mut().insert(header::CONTENT_LENGTH, len.into());
    }
    response
}

/// S3 answers in XML ([UNC] exact body, PROTOCOL.md §3.9).
pub(crate) fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The document of a report, generated as a stream from the ground truth as of
/// `truth`: the report's content when `DONE`, the error document when `FATAL`.
pub(crate) fn render(truth: &Truth, report: &Report) -> Result<Document, crate::Error> {
    if report.status() == ProcessingStatus::Fatal {
        let details = match &report.ending {
            Ending::Fatal {
                error_details: Some(d),
            } => d.clone(),
            _ => String::new(),
        };
        let bytes = json!({ "errorDetails": details }).to_string().into_bytes();
        return Ok(Document {
            content_type: "application/json; charset=UTF-8".to_owned(),
            pieces: Box::new(std::iter::once(Ok(bytes))),
        });
    }
    let document = match report.report_type {
        ReportType::FbaMyiUnsuppressedInventory => render_inventory(truth, report)?,
        ReportType::SalesAndTraffic => render_sales_and_traffic(truth, report)?,
        ReportType::LedgerSummaryView => render_ledger(truth, report)?,
    };
    Ok(if report.report_type.is_gzip() {
        Document {
            content_type: document.content_type,
            pieces: stream::gzipped(document.pieces),
        }
    } else {
        document
    })
}

/// The 21 core MYI columns in Amazon's order (PROTOCOL.md §4.1).
pub(crate) const INVENTORY_COLUMNS: [&str; 21] = [
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "your-price",
    "mfn-listing-exists",
    "mfn-fulfillable-quantity",
    "afn-listing-exists",
    "afn-warehouse-quantity",
    "afn-fulfillable-quantity",
    "afn-unsellable-quantity",
    "afn-reserved-quantity",
    "afn-total-quantity",
    "per-unit-volume",
    "afn-inbound-working-quantity",
    "afn-inbound-shipped-quantity",
    "afn-inbound-receiving-quantity",
    "afn-researching-quantity",
    "afn-reserved-future-supply",
    "afn-future-supply-buyable",
];

fn render_inventory(truth: &Truth, report: &Report) -> Result<Document, crate::Error> {
    // An MYI request for several marketplaces gets the first one the seller sells in.
    let seller = &report.seller;
    let catalog = report
        .marketplace_ids
        .iter()
        .find_map(|id| truth.catalog(seller, id).ok())
        .ok_or_else(|| crate::Error::UnknownSeller(seller.clone()))?;
    let marketplace = catalog.marketplace();
    let whole = marketplace.whole_currency();
    let charset = FlatFileCharset::of(marketplace);
    let eol = charset.eol();
    let (seed, date) = (truth.shared.config.seed, marketplace.local_date(report.created));

    let header = format!("{}{eol}", INVENTORY_COLUMNS.join("\t"));
    let rows = catalog.iter().map(move |product| {
        let row = inventory::row(seed, catalog.seller(), marketplace.id, date, &product);
        Ok(inventory_line(&row, whole, eol))
    });
    Ok(Document {
        content_type: charset.content_type(&truth.shared.config),
        pieces: stream::batched(std::iter::once(Ok(header)).chain(rows), charset.encoder()),
    })
}

/// One MYI line, fields tab-separated in [`INVENTORY_COLUMNS`] order, ending in
/// `eol`. Written into one buffer: it is the whole of a large inventory file.
fn inventory_line(row: &InventoryRow, whole_currency: bool, eol: &str) -> String {
    use std::fmt::Write as _;
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let mut line = String::with_capacity(160);
    let _ = write!(
        line,
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
        row.sku,
        row.fnsku,
        row.asin,
        row.product_name,
        row.condition,
        decimal(row.your_price_cents, whole_currency),
        yes_no(row.mfn_listing_exists),
    );
    if let Some(q) = row.mfn_fulfillable_quantity {
        let _ = write!(line, "{q}");
    }
    let _ = write!(
        line,
        "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}{eol}",
        yes_no(row.afn_listing_exists),
        row.afn_warehouse_quantity,
        row.afn_fulfillable_quantity,
        row.afn_unsellable_quantity,
        row.afn_reserved_quantity,
        row.afn_total_quantity,
        decimal(i64::from(row.per_unit_volume_hundredths), false),
        row.afn_inbound_working_quantity,
        row.afn_inbound_shipped_quantity,
        row.afn_inbound_receiving_quantity,
        row.afn_researching_quantity,
        row.afn_reserved_future_supply,
        row.afn_future_supply_buyable,
    );
    line
}

/// The ledger columns in Amazon's order, with the recent trailing `Store`
/// (PROTOCOL.md §4.2.1).
pub(crate) const LEDGER_COLUMNS: [&str; 22] = [
    "Date",
    "FNSKU",
    "ASIN",
    "MSKU",
    "Title",
    "Disposition",
    "Starting Warehouse Balance",
    "In Transit Between Warehouses",
    "Receipts",
    "Customer Shipments",
    "Customer Returns",
    "Vendor Returns",
    "Warehouse Transfer In/Out",
    "Found",
    "Lost",
    "Damaged",
    "Disposed",
    "Other Events",
    "Ending Warehouse Balance",
    "Unknown Events",
    "Location",
    "Store",
];

/// Unlike MYI, every ledger header and value is double-quoted with inner quotes
/// doubled, dates are `MM/DD/YYYY` and outflows negative. Charset and line ends
/// follow the marketplace as for MYI.
fn render_ledger(truth: &Truth, report: &Report) -> Result<Document, crate::Error> {
    let seller = &report.seller;
    let catalog = report
        .marketplace_ids
        .iter()
        .find_map(|id| truth.catalog(seller, id).ok())
        .ok_or_else(|| crate::Error::UnknownSeller(seller.clone()))?;
    let marketplace = catalog.marketplace();
    let charset = FlatFileCharset::of(marketplace);
    let eol = charset.eol();
    let quote = |field: &str| format!("\"{}\"", field.replace('"', "\"\""));
    let header = format!("{}{eol}", LEDGER_COLUMNS.map(quote).join("\t"));
    let (first, last) = (report.data_start.date_naive(), report.data_end.date_naive());
    // MONTHLY is Amazon's default: a row per SKU and disposition per calendar
    // month, dated `MM/YYYY` ([UNC] observed in Seller Central's export only).
    let monthly = report.options.get("aggregatedByTimePeriod").map(String::as_str) != Some("DAILY");
    let (periods, date_format) = if monthly {
        (ledger::months(first, last), "%m/%Y")
    } else {
        let days = first.iter_days().take_while(|d| *d <= last).map(|d| (d, d));
        (days.collect(), "%m/%d/%Y")
    };
    let content_type = charset.content_type(&truth.shared.config);
    let truth = truth.clone();
    // Period by period, SKU by SKU: each SKU's rows need only its own snapshot
    // rows and sales.
    let rows = periods.into_iter().flat_map(move |period| {
        let (truth, catalog) = (truth.clone(), catalog.clone());
        catalog.iter().map(move |product| {
            let rows = truth.ledger_sku_period(
                catalog.seller(),
                marketplace.country,
                marketplace.id,
                period,
                &product,
            );
            let mut text = String::new();
            for row in rows {
                let fields = ledger_line(row, date_format);
                text.push_str(&fields.iter().map(|f| quote(f)).collect::<Vec<_>>().join("\t"));
                text.push_str(eol);
            }
            Ok(text)
        })
    });
    Ok(Document {
        content_type,
        pieces: stream::batched(std::iter::once(Ok(header)).chain(rows), charset.encoder()),
    })
}

fn ledger_line(row: LedgerRow, date_format: &str) -> Vec<String> {
    let numbers = [
        row.starting_warehouse_balance,
        row.in_transit_between_warehouses,
        row.receipts,
        row.customer_shipments,
        row.customer_returns,
        row.vendor_returns,
        row.warehouse_transfer_in_out,
        row.found,
        row.lost,
        row.damaged,
        row.disposed,
        row.other_events,
        row.ending_warehouse_balance,
        row.unknown_events,
    ];
    let mut fields = vec![
        row.date.format(date_format).to_string(),
        row.fnsku,
        row.asin,
        row.msku,
        row.title,
        row.disposition.to_owned(),
    ];
    fields.extend(numbers.iter().map(i64::to_string));
    fields.push(row.location);
    fields.push(String::new());
    fields
}

/// `1499` → `14.99`; yen prices are stored ×100 too and written without decimals.
fn decimal(hundredths: i64, whole: bool) -> String {
    if whole {
        (hundredths / 100).to_string()
    } else {
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// An amount as JSON: `{"amount": 74.95, "currencyCode": "USD"}`.
fn amount(cents: i64, currency: &str) -> Value {
    json!({ "amount": cents as f64 / 100.0, "currencyCode": currency })
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        sales_traffic::round2(part as f64 * 100.0 / whole as f64)
    }
}

fn render_sales_and_traffic(truth: &Truth, report: &Report) -> Result<Document, crate::Error> {
    let marketplace_id = &report.marketplace_ids[0];
    let catalog = truth.catalog(&report.seller, marketplace_id)?;
    // Only the date part of the window counts (PROTOCOL.md §4.4.1).
    let (first, last) = (report.data_start.date_naive(), report.data_end.date_naive());
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let granularity = report
        .options
        .get("asinGranularity")
        .and_then(|g| AsinGranularity::parse(g))
        .unwrap_or_default();
    let periods = report
        .options
        .get("dateGranularity")
        .and_then(|g| DateGranularity::parse(g))
        .unwrap_or_default()
        .periods(first, last, truth.now().date_naive());
    let specification = json!({
        "reportType": ReportType::SalesAndTraffic.as_str(),
        "reportOptions": report.options,
        "dataStartTime": first.to_string(),
        "dataEndTime": last.to_string(),
        "marketplaceIds": report.marketplace_ids,
    });
    let text = SalesAndTrafficText {
        truth: truth.clone(),
        catalog,
        days,
        periods,
        granularity,
        specification,
        stage: Stage::Start,
        sessions: (0, 0),
        page_views: (0, 0),
        grouper: sales_traffic::AsinGrouper::new(granularity),
        rows_written: 0,
    };
    Ok(Document {
        content_type: "application/json; charset=UTF-8".to_owned(),
        pieces: stream::batched(text, |s| s.as_bytes().to_vec()),
    })
}

/// Where the sales and traffic JSON is in its writing.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Start,
    /// Writing the by-date entry of the period with this index.
    Dates(usize),
    /// Writing by-ASIN rows from the SKU with this catalog index.
    Asins(usize),
    Done,
}

/// The sales and traffic JSON as text pieces, in Amazon's member order
/// (`reportSpecification`, `salesAndTrafficByDate`, `salesAndTrafficByAsin`).
/// A by-date entry sums one day over the catalog; by-ASIN rows sum each SKU over
/// the days (§4.4.3) and group adjacent SKUs; their shares need the window's
/// totals, which the by-date entries, written first, have summed by then. Only
/// running sums and one group are held, whatever the size of the catalog.
struct SalesAndTrafficText {
    truth: Truth,
    catalog: Catalog,
    /// The requested days: what by-ASIN rows sum.
    days: Vec<NaiveDate>,
    /// The by-date entries' days: a day each for `DAY`, whole weeks or months
    /// around the window for `WEEK` and `MONTH`.
    periods: Vec<Vec<NaiveDate>>,
    granularity: AsinGranularity,
    specification: Value,
    stage: Stage,
    /// Browser and mobile sessions over the window.
    sessions: (u64, u64),
    /// Browser and mobile page views over the window.
    page_views: (u64, u64),
    grouper: sales_traffic::AsinGrouper,
    rows_written: usize,
}

/// SKUs generated per by-ASIN piece.
const SKUS_PER_PIECE: usize = 256;

impl Iterator for SalesAndTrafficText {
    type Item = Result<String, crate::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.stage {
            Stage::Start => {
                self.stage = Stage::Dates(0);
                Some(Ok(format!(
                    "{{\"reportSpecification\":{},\"salesAndTrafficByDate\":[",
                    self.specification
                )))
            }
            Stage::Dates(i) => match self.periods.get(i).cloned() {
                Some(period) => {
                    self.stage = Stage::Dates(i + 1);
                    let separator = if i == 0 { "" } else { "," };
                    Some(Ok(format!("{separator}{}", self.by_date(&period))))
                }
                None => {
                    self.stage = Stage::Asins(0);
                    Some(Ok("],\"salesAndTrafficByAsin\":[".to_owned()))
                }
            },
            Stage::Asins(start) => {
                let end = (start + SKUS_PER_PIECE).min(self.catalog.len());
                let mut text = String::new();
                for index in start..end {
                    let product = self.catalog.product(index);
                    let summed = self.summed(&product);
                    if let Some(row) = self.grouper.push(summed) {
                        self.write_row(&mut text, &row);
                    }
                }
                if end == self.catalog.len() {
                    if let Some(row) = self.grouper.finish() {
                        self.write_row(&mut text, &row);
                    }
                    text.push_str("]}");
                    self.stage = Stage::Done;
                } else {
                    self.stage = Stage::Asins(end);
                }
                Some(Ok(text))
            }
            Stage::Done => None,
        }
    }
}

impl SalesAndTrafficText {
    fn seller(&self) -> &str {
        self.catalog.seller()
    }

    fn marketplace_id(&self) -> &'static str {
        self.catalog.marketplace().id
    }

    /// One SKU's figures summed over the window's days.
    fn summed(&self, product: &crate::truth::Product) -> SkuSalesAndTraffic {
        let mut days = self.days.iter();
        let first = days.next().copied().unwrap_or_default();
        let mut sum = self
            .truth
            .sku_on(self.seller(), self.marketplace_id(), first, product);
        for &day in days {
            let more = self
                .truth
                .sku_on(self.seller(), self.marketplace_id(), day, product);
            sales_traffic::add(&mut sum, &more);
        }
        sum
    }

    /// The `salesAndTrafficByDate` entry of a period (a day, week or month),
    /// each day summed over the catalog. The requested days' totals add up to the
    /// window's, which the by-ASIN shares need.
    fn by_date(&mut self, period: &[NaiveDate]) -> Value {
        let mut days = Vec::with_capacity(period.len());
        for &day in period {
            let mut sum = sales_traffic::TotalsSum::default();
            for product in self.catalog.iter() {
                sum.add(
                    &self
                        .truth
                        .sku_on(self.seller(), self.marketplace_id(), day, &product),
                );
            }
            let totals = sum.totals(
                self.truth.shared.config.seed,
                self.seller(),
                self.marketplace_id(),
                day,
            );
            if self.days.contains(&day) {
                self.sessions.0 += u64::from(totals.browser_sessions);
                self.sessions.1 += u64::from(totals.mobile_app_sessions);
                self.page_views.0 += u64::from(totals.browser_page_views);
                self.page_views.1 += u64::from(totals.mobile_app_page_views);
            }
            days.push(totals);
        }
        let totals = match days.as_slice() {
            [one] => one.clone(),
            many => DateTotals::combine(many),
        };
        by_date_entry(period[0], &totals, self.catalog.marketplace().currency)
    }

    fn write_row(&mut self, text: &mut String, s: &SkuSalesAndTraffic) {
        let currency = self.catalog.marketplace().currency;
        let (browser_sessions, mobile_sessions) = self.sessions;
        let (browser_views, mobile_views) = self.page_views;
        let row = AsinRow {
            parent_asin: &s.parent_asin,
            // childAsin only at CHILD and SKU granularity, sku only at SKU (§4.4.2).
            child_asin: (self.granularity != AsinGranularity::Parent).then_some(s.child_asin.as_str()),
            sku: (self.granularity == AsinGranularity::Sku).then_some(s.sku.as_str()),
            sales_by_asin: SalesByAsin {
                units_ordered: s.units_ordered,
                ordered_product_sales: Amount::new(s.ordered_product_sales_cents, currency),
                total_order_items: s.total_order_items,
            },
            traffic_by_asin: TrafficByAsin {
                browser_sessions: s.browser_sessions,
                mobile_app_sessions: s.mobile_app_sessions,
                sessions: s.sessions(),
                browser_session_percentage: percent(u64::from(s.browser_sessions), browser_sessions),
                mobile_app_session_percentage: percent(u64::from(s.mobile_app_sessions), mobile_sessions),
                session_percentage: percent(u64::from(s.sessions()), browser_sessions + mobile_sessions),
                browser_page_views: s.browser_page_views,
                mobile_app_page_views: s.mobile_app_page_views,
                page_views: s.page_views(),
                browser_page_views_percentage: percent(u64::from(s.browser_page_views), browser_views),
                mobile_app_page_views_percentage: percent(u64::from(s.mobile_app_page_views), mobile_views),
                page_views_percentage: percent(u64::from(s.page_views()), browser_views + mobile_views),
                buy_box_percentage: s.buy_box_percentage,
                unit_session_percentage: percent(u64::from(s.units_ordered), u64::from(s.sessions())),
            },
        };
        if self.rows_written > 0 {
            text.push(',');
        }
        self.rows_written += 1;
        // Serialized straight from borrowed fields: the by-ASIN section is the bulk
        // of the document, and building a `Value` per row would cost more than
        // generating its figures.
        if let Ok(json) = serde_json::to_string(&row) {
            text.push_str(&json);
        }
    }
}

/// One `salesAndTrafficByAsin` row, in the member order of Amazon's schema.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AsinRow<'a> {
    parent_asin: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_asin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    sales_by_asin: SalesByAsin<'a>,
    traffic_by_asin: TrafficByAsin,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SalesByAsin<'a> {
    units_ordered: u32,
    ordered_product_sales: Amount<'a>,
    total_order_items: u32,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TrafficByAsin {
    browser_sessions: u32,
    mobile_app_sessions: u32,
    sessions: u32,
    browser_session_percentage: f64,
    mobile_app_session_percentage: f64,
    session_percentage: f64,
    browser_page_views: u32,
    mobile_app_page_views: u32,
    page_views: u32,
    browser_page_views_percentage: f64,
    mobile_app_page_views_percentage: f64,
    page_views_percentage: f64,
    buy_box_percentage: f64,
    unit_session_percentage: f64,
}

/// `{"amount": 74.95, "currencyCode": "USD"}`, like [`amount`].
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Amount<'a> {
    amount: f64,
    currency_code: &'a str,
}

impl<'a> Amount<'a> {
    fn new(cents: i64, currency: &'a str) -> Self {
        Self {
            amount: cents as f64 / 100.0,
            currency_code: currency,
        }
    }
}

/// The `salesAndTrafficByDate` entry of a day's totals.
fn by_date_entry(day: NaiveDate, totals: &DateTotals, currency: &str) -> Value {
    let sessions = totals.browser_sessions + totals.mobile_app_sessions;
    let page_views = totals.browser_page_views + totals.mobile_app_page_views;
    let per_item = |cents: i64, n: u32| if n == 0 { 0 } else { cents / i64::from(n) };
    json!({
        "date": day.to_string(),
        "salesByDate": {
            "orderedProductSales": amount(totals.ordered_product_sales_cents, currency),
            "unitsOrdered": totals.units_ordered,
            "totalOrderItems": totals.total_order_items,
            "averageSalesPerOrderItem": amount(per_item(totals.ordered_product_sales_cents, totals.total_order_items), currency),
            "averageUnitsPerOrderItem": if totals.total_order_items == 0 { 0.0 } else { sales_traffic::round2(f64::from(totals.units_ordered) / f64::from(totals.total_order_items)) },
            "averageSellingPrice": amount(per_item(totals.ordered_product_sales_cents, totals.units_ordered), currency),
            "unitsRefunded": totals.units_refunded,
            "refundRate": percent(u64::from(totals.units_refunded), u64::from(totals.units_ordered)),
            "claimsGranted": totals.claims_granted,
            "claimsAmount": amount(totals.claims_amount_cents, currency),
            "shippedProductSales": amount(totals.shipped_product_sales_cents, currency),
            "unitsShipped": totals.units_shipped,
            "ordersShipped": totals.orders_shipped,
        },
        "trafficByDate": {
            "browserPageViews": totals.browser_page_views,
            "mobileAppPageViews": totals.mobile_app_page_views,
            "pageViews": page_views,
            "browserSessions": totals.browser_sessions,
            "mobileAppSessions": totals.mobile_app_sessions,
            "sessions": sessions,
            "buyBoxPercentage": totals.buy_box_percentage,
            "orderItemSessionPercentage": percent(u64::from(totals.total_order_items), u64::from(sessions)),
            "unitSessionPercentage": percent(u64::from(totals.units_ordered), u64::from(sessions)),
            "averageOfferCount": totals.average_offer_count,
            "averageParentItems": totals.average_parent_items,
            "feedbackReceived": totals.feedback_received,
            "negativeFeedbackReceived": totals.negative_feedback_received,
            "receivedNegativeFeedbackRate": percent(u64::from(totals.negative_feedback_received), u64::from(totals.feedback_received)),
        },
    })
}

/// How a marketplace's flat files (MYI, ledger) are encoded (PROTOCOL.md §3.6):
/// Windows-1252 with CRLF in Europe and UTF-8 with LF in North America, as in the
/// example files; Shift_JIS in Japan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlatFileCharset {
    Utf8,
    Cp1252,
    ShiftJis,
}

impl FlatFileCharset {
    fn of(marketplace: &Marketplace) -> Self {
        if marketplace.flat_file_is_cp1252() {
            Self::Cp1252
        } else if marketplace.flat_file_is_shift_jis() {
            Self::ShiftJis
        } else {
            Self::Utf8
        }
    }

    /// [UNC] Japanese line ends are undocumented; CRLF like the other Windows
    /// charsets, so a client that only strips `\r` after Cp1252 fails here too.
    fn eol(self) -> &'static str {
        match self {
            Self::Utf8 => "\n",
            Self::Cp1252 | Self::ShiftJis => "\r\n",
        }
    }

    fn content_type(self, config: &crate::Config) -> String {
        match self {
            Self::Utf8 => "text/plain; charset=UTF-8".to_owned(),
            Self::Cp1252 => "text/plain; charset=Cp1252".to_owned(),
            Self::ShiftJis => format!("text/plain; charset={}", config.shift_jis_charset_label),
        }
    }

    /// Encodes a piece of text. Every piece ends at a line end and all three
    /// charsets are stateless, so pieces encode independently.
    fn encoder(self) -> fn(&str) -> Vec<u8> {
        match self {
            Self::Utf8 => |text| text.as_bytes().to_vec(),
            Self::Cp1252 => to_cp1252,
            Self::ShiftJis => to_shift_jis,
        }
    }
}

/// Encodes text as Shift_JIS in its Windows form (cp932, what Amazon's Japanese
/// files are observed in: PROTOCOL.md §3.6). Characters it cannot represent
/// become `?`, as in Amazon's EU files, rather than encoding_rs's HTML escapes.
pub(crate) fn to_shift_jis(text: &str) -> Vec<u8> {
    let mut encoder = encoding_rs::SHIFT_JIS.new_encoder();
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut rest = text;
    loop {
        let needed = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 2 + 16);
        out.reserve(needed);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = &rest[read..];
        match result {
            encoding_rs::EncoderResult::InputEmpty => return out,
            encoding_rs::EncoderResult::OutputFull => {}
            encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

/// Encodes text as Windows-1252. Characters it cannot represent become `?`, which is
/// what Amazon's own EU files do (PROTOCOL.md §3.6).
pub(crate) fn to_cp1252(text: &str) -> Vec<u8> {
    // The 0x80–0x9F block, where Windows-1252 differs from ISO-8859-1.
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8a),
        ('‹', 0x8b),
        ('Œ', 0x8c),
        ('Ž', 0x8e),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9a),
        ('›', 0x9b),
        ('œ', 0x9c),
        ('ž', 0x9e),
        ('Ÿ', 0x9f),
    ];
    text.chars()
        .map(|c| match u32::from(c) {
            n @ (0..=0x7f | 0xa0..=0xff) => u8::try_from(n).unwrap_or(b'?'),
            _ => HIGH.iter().find(|(ch, _)| *ch == c).map_or(b'?', |(_, b)| *b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_differs_from_latin_1_in_the_high_block() {
        assert_eq!(to_cp1252("Küche – Größe"), b"K\xfcche \x96 Gr\xf6\xdfe");
        assert_eq!(to_cp1252("Łódź"), b"?\xf3d?");
    }

    #[test]
    fn shift_jis_is_the_windows_form_and_unmappable_characters_become_question_marks() {
        // マ is 0x83 0x7D; the wave dash U+FF5E is cp932's 0x81 0x60.
        assert_eq!(to_shift_jis("Aマ～"), b"A\x83\x7d\x81\x60");
        assert_eq!(to_shift_jis("Küche"), b"K?che");
    }

    #[test]
    fn prices_keep_two_decimals_except_yen() {
        assert_eq!(decimal(1499, false), "14.99");
        assert_eq!(decimal(500, false), "5.00");
        assert_eq!(decimal(120_000, true), "1200");
    }
}
