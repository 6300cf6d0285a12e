//! Report documents: pre-signed-looking download URLs that expire like S3's, and
//! the bytes behind them (TSV or JSON, gzip when the type is, in the marketplace's
//! charset). Documents are rendered on download from the ground truth, so nothing
//! large is kept in memory.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use url::Url;

use crate::faults::Failure;
use crate::marketplace::Marketplace;
use crate::report::{Ending, ProcessingStatus, Report, ReportType};
use crate::rng::hash;
use crate::server::Shared;
use crate::truth::{AsinGranularity, InventoryRow, SkuSalesAndTraffic, Truth, sales_traffic};
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
    match render(&truth, &report) {
        Ok(document) => {
            deliver(
                &shared,
                (&report.seller, &document_id),
                Operation::DownloadReportDocument,
                document.content_type,
                document.bytes,
            )
            .await
        }
        Err(error) => {
            tracing::error!(report_id = report.id, %error, "Rendering a report document failed.");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

/// Serves a download's bytes after chance had its say: S3's 500 or 503 (`SlowDown`,
/// also for a throttle), a delay, or a body cut part-way. A cut body is still a
/// complete 200 response, so only a client that checks what it decodes (gzip
/// trailer, JSON, row count) notices, as with a real truncated transfer.
pub(crate) async fn deliver(
    shared: &Shared,
    (seller, key): (&str, &str),
    op: Operation,
    content_type: String,
    mut bytes: Vec<u8>,
) -> Response {
    let seed = shared.config.seed;
    let (failure, delay) = {
        let mut world = shared.world();
        let n = world.count_call(seller, op);
        let faults = world.faults(&shared.config);
        let decision = faults.decide(seed, seller, op, n);
        let cut = match decision.failure {
            None => faults.truncation(seed, key, op, n, bytes.len()),
            Some(_) => None,
        };
        let stats = world.stats_mut(seller, op);
        match decision.failure {
            Some(Failure::ServerError) => stats.failed += 1,
            Some(Failure::Unavailable | Failure::Throttle) => stats.unavailable += 1,
            None => {}
        }
        if let Some(cut) = cut {
            stats.truncated += 1;
            bytes.truncate(cut);
        }
        stats.slowed += u64::from(decision.delay.is_some());
        stats.injected += u64::from(decision.failure.is_some())
            + u64::from(decision.delay.is_some())
            + u64::from(cut.is_some());
        (decision.failure, decision.delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(shared.clock.real(delay)).await;
    }
    match failure {
        Some(Failure::ServerError) => s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Some(Failure::Unavailable | Failure::Throttle) => s3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        ),
        None => (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], bytes).into_response(),
    }
}

/// S3 answers in XML ([UNC] exact body, PROTOCOL.md §3.9).
pub(crate) fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// A document's bytes as served.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) fn render(truth: &Truth, report: &Report) -> Result<Rendered, crate::Error> {
    if report.status() == ProcessingStatus::Fatal {
        let details = match &report.ending {
            Ending::Fatal {
                error_details: Some(d),
            } => d.clone(),
            _ => String::new(),
        };
        return Ok(Rendered {
            content_type: "application/json; charset=UTF-8".to_owned(),
            bytes: json!({ "errorDetails": details }).to_string().into_bytes(),
        });
    }
    let rendered = match report.report_type {
        ReportType::FbaMyiUnsuppressedInventory => render_inventory(truth, report)?,
        ReportType::SalesAndTraffic => render_sales_and_traffic(truth, report)?,
        ReportType::LedgerSummaryView => render_ledger(truth, report)?,
    };
    Ok(if report.report_type.is_gzip() {
        Rendered {
            content_type: rendered.content_type,
            bytes: gzip(&rendered.bytes)?,
        }
    } else {
        rendered
    })
}

pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>, crate::Error> {
    // A plain gzip member with no file name, like Amazon's.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
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

fn render_inventory(truth: &Truth, report: &Report) -> Result<Rendered, crate::Error> {
    // An MYI request for several marketplaces gets the first one the seller sells in.
    let seller = &report.seller;
    let (marketplace, rows) = report
        .marketplace_ids
        .iter()
        .find_map(|id| {
            truth
                .inventory_on(seller, id, report.created.date_naive())
                .ok()
                .map(|rows| (id, rows))
        })
        .ok_or_else(|| crate::Error::UnknownSeller(seller.clone()))?;
    let marketplace = Marketplace::by_id(marketplace)
        .ok_or_else(|| crate::Error::UnknownMarketplace(marketplace.clone()))?;
    let whole = marketplace.whole_currency();
    let charset = FlatFileCharset::of(marketplace);
    let eol = charset.eol();

    let mut text = INVENTORY_COLUMNS.join("\t");
    text.push_str(eol);
    for row in &rows {
        text.push_str(&inventory_line(row, whole).join("\t"));
        text.push_str(eol);
    }
    Ok(charset.render(&truth.shared.config, &text))
}

fn inventory_line(row: &InventoryRow, whole_currency: bool) -> Vec<String> {
    let yes_no = |b: bool| if b { "Yes" } else { "No" }.to_owned();
    vec![
        row.sku.clone(),
        row.fnsku.clone(),
        row.asin.clone(),
        row.product_name.clone(),
        row.condition.clone(),
        decimal(row.your_price_cents, whole_currency),
        yes_no(row.mfn_listing_exists),
        row.mfn_fulfillable_quantity
            .map(|q| q.to_string())
            .unwrap_or_default(),
        yes_no(row.afn_listing_exists),
        row.afn_warehouse_quantity.to_string(),
        row.afn_fulfillable_quantity.to_string(),
        row.afn_unsellable_quantity.to_string(),
        row.afn_reserved_quantity.to_string(),
        row.afn_total_quantity.to_string(),
        decimal(i64::from(row.per_unit_volume_hundredths), false),
        row.afn_inbound_working_quantity.to_string(),
        row.afn_inbound_shipped_quantity.to_string(),
        row.afn_inbound_receiving_quantity.to_string(),
        row.afn_researching_quantity.to_string(),
        row.afn_reserved_future_supply.to_string(),
        row.afn_future_supply_buyable.to_string(),
    ]
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
fn render_ledger(truth: &Truth, report: &Report) -> Result<Rendered, crate::Error> {
    let seller = &report.seller;
    let (marketplace_id, marketplace) = report
        .marketplace_ids
        .iter()
        .find_map(|id| {
            let m = Marketplace::by_id(id)?;
            truth.products(seller, id).ok().map(|_| (id, m))
        })
        .ok_or_else(|| crate::Error::UnknownSeller(seller.clone()))?;
    let charset = FlatFileCharset::of(marketplace);
    let eol = charset.eol();
    let quote = |field: &str| format!("\"{}\"", field.replace('"', "\"\""));
    let mut text = LEDGER_COLUMNS.map(quote).join("\t");
    text.push_str(eol);
    let (first, last) = (report.data_start.date_naive(), report.data_end.date_naive());
    for day in first.iter_days().take_while(|d| *d <= last) {
        for row in truth.ledger(seller, marketplace_id, day)? {
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
                row.date.format("%m/%d/%Y").to_string(),
                row.fnsku,
                row.asin,
                row.msku,
                row.title,
                row.disposition.to_owned(),
            ];
            fields.extend(numbers.iter().map(i64::to_string));
            fields.push(row.location);
            fields.push(String::new());
            text.push_str(&fields.iter().map(|f| quote(f)).collect::<Vec<_>>().join("\t"));
            text.push_str(eol);
        }
    }
    Ok(charset.render(&truth.shared.config, &text))
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

fn render_sales_and_traffic(truth: &Truth, report: &Report) -> Result<Rendered, crate::Error> {
    let seller = &report.seller;
    let marketplace_id = &report.marketplace_ids[0];
    let marketplace = Marketplace::by_id(marketplace_id)
        .ok_or_else(|| crate::Error::UnknownMarketplace(marketplace_id.clone()))?;
    let currency = marketplace.currency;
    // Only the date part of the window counts (PROTOCOL.md §4.4.1).
    let (first, last) = (report.data_start.date_naive(), report.data_end.date_naive());
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();

    let mut by_date = Vec::new();
    // By-ASIN rows have no date: a multi-day window sums the days (§4.4.3).
    let mut summed: Vec<SkuSalesAndTraffic> = Vec::new();
    for &day in &days {
        let all = truth.all_skus(seller, marketplace_id, day)?;
        let totals = sales_traffic::totals(truth.shared.config.seed, seller, marketplace_id, day, &all);
        let sessions = totals.browser_sessions + totals.mobile_app_sessions;
        let page_views = totals.browser_page_views + totals.mobile_app_page_views;
        let per_item = |cents: i64, n: u32| if n == 0 { 0 } else { cents / i64::from(n) };
        by_date.push(json!({
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
        }));
        if summed.is_empty() {
            summed = all;
        } else {
            for (sum, sku) in summed.iter_mut().zip(all) {
                sales_traffic::add(sum, &sku);
            }
        }
    }

    let total = |f: fn(&SkuSalesAndTraffic) -> u32| summed.iter().map(|s| u64::from(f(s))).sum::<u64>();
    let (browser_sessions, mobile_sessions) =
        (total(|s| s.browser_sessions), total(|s| s.mobile_app_sessions));
    let (browser_views, mobile_views) = (
        total(|s| s.browser_page_views),
        total(|s| s.mobile_app_page_views),
    );
    let granularity = report
        .options
        .get("asinGranularity")
        .and_then(|g| AsinGranularity::parse(g))
        .unwrap_or_default();
    let by_asin: Vec<Value> = sales_traffic::by_asin(&summed, granularity)
        .iter()
        .map(|s| {
            let mut row = json!({
                "parentAsin": s.parent_asin,
                "salesByAsin": {
                    "unitsOrdered": s.units_ordered,
                    "orderedProductSales": amount(s.ordered_product_sales_cents, currency),
                    "totalOrderItems": s.total_order_items,
                },
                "trafficByAsin": {
                    "browserSessions": s.browser_sessions,
                    "mobileAppSessions": s.mobile_app_sessions,
                    "sessions": s.sessions(),
                    "browserSessionPercentage": percent(u64::from(s.browser_sessions), browser_sessions),
                    "mobileAppSessionPercentage": percent(u64::from(s.mobile_app_sessions), mobile_sessions),
                    "sessionPercentage": percent(u64::from(s.sessions()), browser_sessions + mobile_sessions),
                    "browserPageViews": s.browser_page_views,
                    "mobileAppPageViews": s.mobile_app_page_views,
                    "pageViews": s.page_views(),
                    "browserPageViewsPercentage": percent(u64::from(s.browser_page_views), browser_views),
                    "mobileAppPageViewsPercentage": percent(u64::from(s.mobile_app_page_views), mobile_views),
                    "pageViewsPercentage": percent(u64::from(s.page_views()), browser_views + mobile_views),
                    "buyBoxPercentage": s.buy_box_percentage,
                    "unitSessionPercentage": percent(u64::from(s.units_ordered), u64::from(s.sessions())),
                },
            });
            // childAsin only at CHILD and SKU granularity, sku only at SKU (§4.4.2).
            if granularity != AsinGranularity::Parent {
                row["childAsin"] = s.child_asin.clone().into();
            }
            if granularity == AsinGranularity::Sku {
                row["sku"] = s.sku.clone().into();
            }
            row
        })
        .collect();

    let document = json!({
        "reportSpecification": {
            "reportType": ReportType::SalesAndTraffic.as_str(),
            "reportOptions": report.options,
            "dataStartTime": first.to_string(),
            "dataEndTime": last.to_string(),
            "marketplaceIds": report.marketplace_ids,
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin,
    });
    Ok(Rendered {
        content_type: "application/json; charset=UTF-8".to_owned(),
        bytes: document.to_string().into_bytes(),
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

    fn render(self, config: &crate::Config, text: &str) -> Rendered {
        match self {
            Self::Utf8 => Rendered {
                content_type: "text/plain; charset=UTF-8".to_owned(),
                bytes: text.as_bytes().to_vec(),
            },
            Self::Cp1252 => Rendered {
                content_type: "text/plain; charset=Cp1252".to_owned(),
                bytes: to_cp1252(text),
            },
            Self::ShiftJis => Rendered {
                content_type: format!("text/plain; charset={}", config.shift_jis_charset_label),
                bytes: to_shift_jis(text),
            },
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
