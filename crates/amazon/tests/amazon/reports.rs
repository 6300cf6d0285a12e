//! The Reports API end to end: request (or reuse), poll, download, parse, and
//! the ways a report ends without data.

use std::time::Duration;

use amzsync_amazon::sp::fba_inventory::{self, InventoryRow};
use amzsync_amazon::sp::reports::{
    CreateReportSpecification, ProcessingStatus, ReportDocument, ReportFilter, Reports,
};
use amzsync_amazon::sp::sales_traffic::{self, SalesAndTrafficByAsin};
use amzsync_amazon::{DocumentError, Error, Parsed};
use amzsync_amazon_sim::{Operation, ReportOutcome};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::harness::{DE, JP, MYI, SALES, SELLER, TestWorld, US, example, serve_document};

/// Hours a report stays worth reusing in these tests.
const REUSE_WITHIN: Duration = Duration::from_secs(3600);

fn sales_spec(day: NaiveDate) -> CreateReportSpecification {
    let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("valid time"));
    let end = Utc.from_utc_datetime(&day.and_hms_opt(23, 59, 59).expect("valid time"));
    CreateReportSpecification::new(SALES, [US])
        .window(start, end)
        .option("dateGranularity", "DAY")
        .option("asinGranularity", "SKU")
}

/// Requests a report, polls it to the end and returns its document id.
async fn finished_document(t: &TestWorld, spec: &CreateReportSpecification) -> Result<String, Error> {
    let requested = t.reports().request_report(spec, REUSE_WITHIN).await?;
    let report = t.poll_until_terminal(&requested.report_id).await;
    let document_id = t.reports().ready_document(&report).await?;
    Ok(document_id.expect("a terminal report that is neither FATAL nor CANCELLED has a document"))
}

/// Downloads an MYI document, passing rows through a bounded channel as a
/// caller ingesting them would.
async fn inventory_rows(t: &TestWorld, document_id: &str) -> Vec<InventoryRow> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let reports = t.reports();
    let download = reports.download(document_id, move |text| {
        for row in fba_inventory::rows(text)? {
            let row = row?;
            if tx.blocking_send(row).is_err() {
                break;
            }
        }
        Ok(())
    });
    let collect = async {
        let mut rows = Vec::new();
        while let Some(row) = rx.recv().await {
            rows.push(row);
        }
        rows
    };
    let (downloaded, rows) = tokio::join!(download, collect);
    downloaded.expect("the document downloads and parses");
    rows.into_iter()
        .map(|row| match row {
            Parsed::Row(row) => row,
            Parsed::Skipped(e) => panic!("the simulator's rows are well formed: {e}"),
        })
        .collect()
}

fn cents(amount: Decimal) -> i64 {
    (amount * Decimal::from(100)).try_into().expect("whole cents")
}

async fn assert_inventory_matches_truth(marketplace: &str) {
    let t = TestWorld::start().await;

    let document_id = finished_document(&t, &CreateReportSpecification::new(MYI, [marketplace]))
        .await
        .expect("the report finishes");
    let rows = inventory_rows(&t, &document_id).await;

    let truth = t
        .sim
        .truth()
        .inventory(SELLER, marketplace)
        .expect("the seller sells there");
    assert_eq!(rows.len(), truth.len());
    for (row, expected) in rows.iter().zip(&truth) {
        assert_eq!(row.sku, expected.sku);
        assert_eq!(row.fnsku.as_deref(), Some(expected.fnsku.as_str()));
        assert_eq!(row.asin.as_deref(), Some(expected.asin.as_str()));
        assert_eq!(row.product_name.as_deref(), Some(expected.product_name.as_str()));
        assert_eq!(row.your_price.map(cents), Some(expected.your_price_cents));
        let quantities = [
            (row.afn_fulfillable_quantity, expected.afn_fulfillable_quantity),
            (row.afn_unsellable_quantity, expected.afn_unsellable_quantity),
            (row.afn_reserved_quantity, expected.afn_reserved_quantity),
            (row.afn_warehouse_quantity, expected.afn_warehouse_quantity),
            (row.afn_total_quantity, expected.afn_total_quantity),
            (
                row.afn_inbound_working_quantity,
                expected.afn_inbound_working_quantity,
            ),
            (
                row.afn_inbound_shipped_quantity,
                expected.afn_inbound_shipped_quantity,
            ),
            (
                row.afn_inbound_receiving_quantity,
                expected.afn_inbound_receiving_quantity,
            ),
            (row.afn_researching_quantity, expected.afn_researching_quantity),
        ];
        for (got, want) in quantities {
            assert_eq!(got, Some(i64::from(want)), "sku {}", row.sku);
        }
        assert_eq!(
            row.mfn_fulfillable_quantity,
            expected.mfn_fulfillable_quantity.map(i64::from)
        );
    }
}

#[tokio::test]
async fn an_inventory_report_goes_from_request_to_rows_equal_to_the_ground_truth() {
    assert_inventory_matches_truth(US).await;
}

#[tokio::test]
async fn a_european_inventory_report_in_cp1252_decodes_to_the_ground_truth() {
    assert_inventory_matches_truth(DE).await;
}

#[tokio::test]
async fn a_gzipped_sales_and_traffic_report_matches_the_ground_truth_of_its_day() {
    let t = TestWorld::start().await;
    let day = NaiveDate::from_ymd_opt(2024, 4, 28).expect("a valid date");

    let document_id = finished_document(&t, &sales_spec(day))
        .await
        .expect("the report finishes");
    let (summary, items) = t
        .reports()
        .download(&document_id, |text| {
            let mut items: Vec<SalesAndTrafficByAsin> = Vec::new();
            let summary = sales_traffic::read(text, |item| match item {
                Parsed::Row(item) => items.push(item),
                Parsed::Skipped(e) => panic!("the simulator's items are well formed: {e}"),
            })?;
            Ok((summary, items))
        })
        .await
        .expect("the document downloads and parses");

    let truth = t
        .sim
        .truth()
        .sales_and_traffic(SELLER, US, day)
        .expect("the seller sells in the US");
    assert_eq!(items.len(), truth.skus.len());
    for (item, expected) in items.iter().zip(&truth.skus) {
        assert_eq!(item.sku.as_deref(), Some(expected.sku.as_str()));
        assert_eq!(item.child_asin.as_deref(), Some(expected.child_asin.as_str()));
        assert_eq!(
            item.sales_by_asin.units_ordered,
            i64::from(expected.units_ordered)
        );
        assert_eq!(
            item.sales_by_asin.total_order_items,
            i64::from(expected.total_order_items)
        );
        assert_eq!(
            cents(item.sales_by_asin.ordered_product_sales.amount),
            expected.ordered_product_sales_cents
        );
        assert_eq!(item.traffic_by_asin.sessions, i64::from(expected.sessions()));
        assert_eq!(item.traffic_by_asin.page_views, i64::from(expected.page_views()));
    }
    assert_eq!(summary.by_date.len(), 1);
    let by_date = &summary.by_date[0];
    assert_eq!(by_date.date, day);
    assert_eq!(
        by_date.sales_by_date.units_ordered,
        i64::from(truth.totals.units_ordered)
    );
    assert_eq!(
        cents(by_date.sales_by_date.ordered_product_sales.amount),
        truth.totals.ordered_product_sales_cents
    );
    assert_eq!(
        by_date.sales_by_date.ordered_product_sales.currency_code,
        truth.currency_code
    );
}

#[tokio::test]
async fn a_matching_report_is_reused_instead_of_created_again() {
    let t = TestWorld::start().await;
    t.sim.set_report_polls(6);
    let day = NaiveDate::from_ymd_opt(2024, 4, 28).expect("a valid date");
    let first = t
        .reports()
        .request_report(&sales_spec(day), REUSE_WITHIN)
        .await
        .expect("requested");

    let same = t
        .reports()
        .request_report(&sales_spec(day), REUSE_WITHIN)
        .await
        .expect("requested");
    let other_day = t
        .reports()
        .request_report(&sales_spec(day.pred_opt().expect("a valid date")), REUSE_WITHIN)
        .await
        .expect("requested");

    assert!(!first.reused);
    assert_eq!(
        (same.report_id.as_str(), same.reused),
        (first.report_id.as_str(), true)
    );
    assert!(!other_day.reused);
    assert_ne!(other_day.report_id, first.report_id);
    assert_eq!(t.sim.stats(SELLER, Operation::CreateReport).calls, 2);
}

#[tokio::test]
async fn a_finished_snapshot_report_is_reused_so_amazons_30_minute_lock_is_not_hit() {
    let t = TestWorld::start().await;
    let spec = CreateReportSpecification::new(MYI, [US]);
    let first = finished_document(&t, &spec).await.expect("the report finishes");
    t.clock.advance(Duration::from_secs(10 * 60));

    let again = finished_document(&t, &spec).await;

    assert_eq!(again.expect("the earlier report is reused"), first);
    assert_eq!(t.sim.stats(SELLER, Operation::CreateReport).calls, 1);
}

#[tokio::test]
async fn a_fatal_report_is_returned_with_the_text_of_its_error_document() {
    let t = TestWorld::start().await;
    t.sim.force_next_report(ReportOutcome::Fatal);

    let result = finished_document(&t, &CreateReportSpecification::new(MYI, [US])).await;

    match result {
        Err(Error::ReportFatal {
            error_document: Some(text),
            ..
        }) => assert!(text.contains("\"errorDetails\""), "{text}"),
        other => panic!("expected FATAL with an error document, got {other:?}"),
    }
}

#[tokio::test]
async fn a_fatal_report_without_an_error_document_is_still_fatal() {
    let t = TestWorld::start().await;
    t.sim.force_next_report(ReportOutcome::FatalWithoutDocument);

    let result = finished_document(&t, &CreateReportSpecification::new(MYI, [US])).await;

    assert!(
        matches!(
            result,
            Err(Error::ReportFatal {
                error_document: None,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_cancelled_report_means_no_data() {
    let t = TestWorld::start().await;
    t.sim.force_next_report(ReportOutcome::Cancelled);

    let result = finished_document(&t, &CreateReportSpecification::new(MYI, [US])).await;

    assert!(matches!(result, Err(Error::ReportCancelled { .. })), "{result:?}");
    assert!(result.is_err_and(|e| !e.is_retryable()));
}

#[tokio::test]
async fn a_queued_report_can_be_cancelled() {
    let t = TestWorld::start().await;
    t.sim.set_report_polls(4);
    let report_id = t
        .reports()
        .create_report(&CreateReportSpecification::new(MYI, [US]))
        .await
        .expect("createReport succeeds");

    t.reports()
        .cancel_report(&report_id)
        .await
        .expect("cancelReport succeeds");

    let report = t
        .reports()
        .get_report(&report_id)
        .await
        .expect("getReport succeeds");
    assert_eq!(report.processing_status, ProcessingStatus::Cancelled);
}

#[tokio::test]
async fn an_expired_document_url_is_replaced_by_a_fresh_one() {
    let t = TestWorld::start().await;
    let document_id = finished_document(&t, &CreateReportSpecification::new(MYI, [US]))
        .await
        .expect("the report finishes");
    let document = t
        .reports()
        .get_report_document(&document_id)
        .await
        .expect("a URL");
    // Pre-signed URLs live five minutes.
    t.clock.advance(Duration::from_secs(301));

    let rows = t
        .reports()
        .read_document(&document, |text| Ok(fba_inventory::rows(text)?.count()))
        .await;

    // The seller lists 12 SKUs in the US.
    assert_eq!(rows.expect("the document is read"), 12);
    assert_eq!(t.sim.stats(SELLER, Operation::GetReportDocument).calls, 2);
}

#[tokio::test]
async fn a_500_on_get_report_is_retried() {
    let t = TestWorld::start().await;
    let report_id = t
        .reports()
        .create_report(&CreateReportSpecification::new(MYI, [US]))
        .await
        .expect("createReport succeeds");
    t.sim.fail_next(Operation::GetReport);

    let report = t.reports().get_report(&report_id).await;

    assert!(report.is_ok(), "{report:?}");
    let stats = t.sim.stats(SELLER, Operation::GetReport);
    assert_eq!((stats.calls, stats.failed), (2, 1));
}

#[tokio::test]
async fn a_500_on_create_report_is_not_sent_again_blindly() {
    let t = TestWorld::start().await;
    t.sim.fail_next(Operation::CreateReport);

    let result = t
        .reports()
        .create_report(&CreateReportSpecification::new(MYI, [US]))
        .await;

    assert!(matches!(result, Err(Error::Server { .. })), "{result:?}");
    assert!(result.is_err_and(|e| e.is_retryable()));
    assert_eq!(t.sim.stats(SELLER, Operation::CreateReport).calls, 1);
}

#[tokio::test]
async fn listing_reports_follows_every_url_encoded_next_token() {
    let t = TestWorld::start().await;
    let first_day = NaiveDate::from_ymd_opt(2024, 4, 20).expect("a valid date");
    for day in first_day.iter_days().take(5) {
        t.reports()
            .create_report(&sales_spec(day))
            .await
            .expect("createReport succeeds");
    }

    let reports = t
        .reports()
        .list_reports(&ReportFilter {
            report_types: vec![SALES.into()],
            marketplace_ids: vec![US.into()],
            page_size: Some(2),
            ..ReportFilter::default()
        })
        .await
        .expect("every page is read");

    assert_eq!(reports.len(), 5);
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).calls, 3);
}

#[tokio::test]
async fn an_unknown_report_is_not_found() {
    let t = TestWorld::start().await;

    let result = t.reports().get_report("999").await;

    assert!(matches!(result, Err(Error::NotFound)), "{result:?}");
}

#[tokio::test]
async fn an_invalid_request_keeps_amazons_message() {
    let t = TestWorld::start().await;

    let result = t
        .reports()
        .create_report(&CreateReportSpecification::new("GET_NO_SUCH_REPORT", [US]))
        .await;

    assert!(
        matches!(&result, Err(Error::InvalidInput { message }) if message.contains("GET_NO_SUCH_REPORT")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_truncated_gzip_download_is_a_retryable_error_and_not_a_short_document() {
    let t = TestWorld::start().await;
    let whole = example("sales_and_traffic_sku_day.json.gz");
    let (url, _host) = serve_document(
        whole[..whole.len() / 2].to_vec(),
        "application/json; charset=UTF-8",
    )
    .await;
    let document = ReportDocument {
        report_document_id: "amzn1.spdoc.1.4.na.cut".into(),
        url: url.to_string(),
        compression_algorithm: Some("GZIP".into()),
    };

    let result = t
        .reports()
        .read_document(&document, |text| {
            let mut items = 0;
            sales_traffic::read(text, |_| items += 1)?;
            Ok(items)
        })
        .await;

    assert!(
        matches!(&result, Err(Error::Document(DocumentError::Truncated(_)))),
        "{result:?}"
    );
    assert!(result.is_err_and(|e| e.is_retryable()));
}

#[tokio::test]
async fn a_japanese_download_without_a_charset_is_read_as_shift_jis() {
    let t = TestWorld::start().await;
    let tsv = "sku\tasin\tproduct-name\tafn-fulfillable-quantity\tafn-unsellable-quantity\tafn-reserved-quantity\tafn-inbound-working-quantity\tafn-inbound-shipped-quantity\tafn-inbound-receiving-quantity\n\
               MUG-RED\tB07EXAMPL1\t赤いマグカップ 350ml\t5\t0\t0\t0\t0\t0\n";
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(tsv);
    assert!(!unmappable);
    // Served with no charset, as some Japanese documents are.
    let (url, _host) = serve_document(sjis.into_owned(), "text/plain").await;
    let document = ReportDocument {
        report_document_id: "amzn1.spdoc.1.4.fe.sjis".into(),
        url: url.to_string(),
        compression_algorithm: None,
    };
    let japanese = product_names(t.reports().for_marketplace(JP), &document).await;
    assert_eq!(japanese, vec![Some("赤いマグカップ 350ml".to_owned())]);

    // Elsewhere the fallback stays Windows-1252: the same bytes are mojibake.
    let american = product_names(t.reports().for_marketplace(US), &document).await;
    assert_ne!(american, japanese);
}

async fn product_names(reports: Reports<'_>, document: &ReportDocument) -> Vec<Option<String>> {
    reports
        .read_document(document, |text| {
            fba_inventory::rows(text)?
                .map(|p| Ok(p?.row().and_then(|r| r.product_name)))
                .collect::<Result<Vec<_>, DocumentError>>()
        })
        .await
        .expect("the document is read")
}
