//! Sales & Traffic (FR-2) from `GET_SALES_AND_TRAFFIC_REPORT` at SKU
//! granularity, plus child-ASIN traffic from the same report at CHILD
//! granularity. The by-ASIN section of a report sums its whole window, so the
//! engine requests one report per day and stores its rows under that day.
//!
//! Why a second report per day rather than child-ASIN rows summed from the
//! SKU rows: at SKU granularity Amazon leaves out every SKU without an order
//! (PROTOCOL §4.4.4), so an ASIN that had sessions but sold nothing, the
//! traffic a seller most needs to see, would be missing, and the percentages
//! (buy box, session shares) of several SKUs cannot be recombined exactly.
//! `asinGranularity` takes one value, so no single report carries both. The
//! cost is a second `createReport` and download per marketplace and day; a
//! daily run's few days stay within `createReport`'s burst, a 30-day first
//! backfill takes about twice as long.

use amzsync_amazon::sp::reports::CreateReportSpecification;
use amzsync_amazon::sp::sales_traffic::{self, SalesAndTrafficByAsin, SalesByAsin, TrafficByAsin};
use amzsync_amazon::{DocumentError, Parsed};
use amzsync_db::{AsinTrafficRow, BusinessMetricRow, SalesTrafficMetrics};
use amzsync_domain::StoreId;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

use super::Fetched;

pub(crate) const REPORT_TYPE: &str = "GET_SALES_AND_TRAFFIC_REPORT";

/// One day, by SKU. Amazon rounds the window outward to whole days, so the
/// day is sent as `00:00:00Z..23:59:59Z` (PROTOCOL §4.4).
pub(crate) fn specification(marketplace_id: &str, day: NaiveDate) -> CreateReportSpecification {
    one_day(marketplace_id, day, "SKU")
}

/// The same day by child ASIN, ending a second earlier: `getReports` does
/// not return `reportOptions`, so a report is reused by type, marketplace and
/// window alone (`Reports::find_reusable_report`), and with the same window
/// the SKU and CHILD reports of a day would be taken for each other. Amazon
/// uses only the date part of this report's window (PROTOCOL §4.4.1), so
/// `23:59:58Z` is the same day.
pub(crate) fn child_specification(marketplace_id: &str, day: NaiveDate) -> CreateReportSpecification {
    one_day_until(marketplace_id, day, "CHILD", 58)
}

fn one_day(marketplace_id: &str, day: NaiveDate, asin_granularity: &str) -> CreateReportSpecification {
    one_day_until(marketplace_id, day, asin_granularity, 59)
}

fn one_day_until(
    marketplace_id: &str,
    day: NaiveDate,
    asin_granularity: &str,
    last_second: u32,
) -> CreateReportSpecification {
    let start = Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN));
    let end = Utc.from_utc_datetime(
        &day.and_hms_opt(23, 59, last_second)
            .unwrap_or(day.and_time(NaiveTime::MIN)),
    );
    CreateReportSpecification::new(REPORT_TYPE, [marketplace_id])
        .window(start, end)
        .option("dateGranularity", "DAY")
        .option("asinGranularity", asin_granularity)
}

/// Reads a downloaded Sales & Traffic document (on the download's blocking
/// thread). A document for another day or marketplace than asked is corrupt:
/// storing it under our day would be silently wrong data.
pub(crate) fn read(
    text: Box<dyn std::io::Read>,
    store: StoreId,
    marketplace_id: &str,
    day: NaiveDate,
) -> Result<Fetched<BusinessMetricRow>, DocumentError> {
    read_with(text, marketplace_id, day, |row| {
        convert(row, store, marketplace_id, day)
    })
}

/// Reads a downloaded CHILD-granularity document like [`read`]. A child ASIN
/// given twice is kept once (the second is skipped and counted): the day has
/// one row per ASIN.
pub(crate) fn read_child(
    text: Box<dyn std::io::Read>,
    store: StoreId,
    marketplace_id: &str,
    day: NaiveDate,
) -> Result<Fetched<AsinTrafficRow>, DocumentError> {
    let mut seen = std::collections::HashSet::new();
    read_with(text, marketplace_id, day, |row| {
        let row = convert_child(row, store, marketplace_id, day)?;
        if seen.insert(row.child_asin.clone()) {
            Ok(row)
        } else {
            Err(format!("child ASIN {} appears twice", row.child_asin))
        }
    })
}

fn read_with<T>(
    text: Box<dyn std::io::Read>,
    marketplace_id: &str,
    day: NaiveDate,
    mut convert: impl FnMut(SalesAndTrafficByAsin) -> Result<T, String>,
) -> Result<Fetched<T>, DocumentError> {
    let mut fetched = Fetched::default();
    let summary = sales_traffic::read(text, |item| match item {
        Parsed::Row(row) => match convert(row) {
            Ok(row) => fetched.rows.push(row),
            Err(reason) => fetched.skipped.push(reason),
        },
        Parsed::Skipped(e) => fetched.skipped.push(e.to_string()),
    })?;
    if let Some(spec) = &summary.specification
        && (spec.data_start_time != day
            || spec.data_end_time != day
            || !spec.marketplace_ids.iter().any(|m| m == marketplace_id))
    {
        return Err(DocumentError::Corrupt(format!(
            "asked for {marketplace_id} on {day}, got {:?} {}..{}",
            spec.marketplace_ids, spec.data_start_time, spec.data_end_time
        )));
    }
    Ok(fetched)
}

/// A by-ASIN item at SKU granularity as our row. Without a SKU the item cannot
/// be keyed: it is skipped and counted.
fn convert(
    item: SalesAndTrafficByAsin,
    store: StoreId,
    marketplace_id: &str,
    day: NaiveDate,
) -> Result<BusinessMetricRow, String> {
    let sku = item
        .sku
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("item of parent ASIN {} has no sku", item.parent_asin))?;
    Ok(BusinessMetricRow {
        store_id: store,
        marketplace_id: marketplace_id.to_owned(),
        date: day,
        sku,
        asin: item.child_asin,
        parent_asin: Some(item.parent_asin),
        metrics: metrics(item.sales_by_asin, item.traffic_by_asin),
    })
}

/// A by-ASIN item at CHILD granularity as our row. Without a child ASIN the
/// item cannot be keyed: it is skipped and counted.
fn convert_child(
    item: SalesAndTrafficByAsin,
    store: StoreId,
    marketplace_id: &str,
    day: NaiveDate,
) -> Result<AsinTrafficRow, String> {
    let child_asin = item
        .child_asin
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("item of parent ASIN {} has no child ASIN", item.parent_asin))?;
    Ok(AsinTrafficRow {
        store_id: store,
        marketplace_id: marketplace_id.to_owned(),
        date: day,
        child_asin,
        parent_asin: item.parent_asin,
        metrics: metrics(item.sales_by_asin, item.traffic_by_asin),
    })
}

/// An item's sales and traffic as our columns, the same at both granularities.
fn metrics(sales: SalesByAsin, traffic: TrafficByAsin) -> SalesTrafficMetrics {
    SalesTrafficMetrics {
        currency: sales.ordered_product_sales.currency_code,
        ordered_product_sales: sales.ordered_product_sales.amount,
        ordered_product_sales_b2b: sales.ordered_product_sales_b2b.map(|a| a.amount),
        units_ordered: sales.units_ordered,
        units_ordered_b2b: sales.units_ordered_b2b,
        total_order_items: sales.total_order_items,
        total_order_items_b2b: sales.total_order_items_b2b,
        sessions: traffic.sessions,
        page_views: traffic.page_views,
        session_percentage: traffic.session_percentage,
        page_views_percentage: traffic.page_views_percentage,
        buy_box_percentage: traffic.buy_box_percentage,
        unit_session_percentage: traffic.unit_session_percentage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","dataStartTime":"2026-03-01","dataEndTime":"2026-03-01","marketplaceIds":["ATVPDKIKX0DER"],"reportOptions":{"asinGranularity":"SKU"}},
      "salesAndTrafficByDate": [],
      "salesAndTrafficByAsin": [
        {"parentAsin":"P1","childAsin":"C1","sku":"A","salesByAsin":{"unitsOrdered":2,"orderedProductSales":{"amount":"19.90","currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4,"buyBoxPercentage":100.0}},
        {"parentAsin":"P2","childAsin":"C2","salesByAsin":{"unitsOrdered":1,"orderedProductSales":{"amount":1,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4}}
      ]}"#;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    #[test]
    fn a_one_day_report_becomes_rows_of_that_day_and_items_without_sku_are_skipped() {
        let fetched = read(
            Box::new(DOC.as_bytes()),
            StoreId(3),
            "ATVPDKIKX0DER",
            day("2026-03-01"),
        )
        .expect("readable");
        assert_eq!(fetched.rows.len(), 1);
        let row = &fetched.rows[0];
        assert_eq!(
            (row.sku.as_str(), row.date, row.metrics.units_ordered),
            ("A", day("2026-03-01"), 2)
        );
        assert_eq!(row.metrics.ordered_product_sales.to_string(), "19.90");
        assert_eq!(row.asin.as_deref(), Some("C1"));
        assert_eq!(fetched.skipped, ["item of parent ASIN P2 has no sku"]);
    }

    #[test]
    fn a_child_report_becomes_one_row_per_child_asin_and_repeats_are_skipped() {
        let doc = r#"{"reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","dataStartTime":"2026-03-01","dataEndTime":"2026-03-01","marketplaceIds":["ATVPDKIKX0DER"],"reportOptions":{"asinGranularity":"CHILD"}},
          "salesAndTrafficByDate": [],
          "salesAndTrafficByAsin": [
            {"parentAsin":"P1","childAsin":"C1","salesByAsin":{"unitsOrdered":0,"orderedProductSales":{"amount":0,"currencyCode":"USD"},"totalOrderItems":0},"trafficByAsin":{"sessions":7,"pageViews":9,"buyBoxPercentage":95.5}},
            {"parentAsin":"P1","childAsin":"C1","salesByAsin":{"unitsOrdered":1,"orderedProductSales":{"amount":1,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":1,"pageViews":1}},
            {"parentAsin":"P2","salesByAsin":{"unitsOrdered":1,"orderedProductSales":{"amount":1,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4}}
          ]}"#;
        let fetched = read_child(
            Box::new(doc.as_bytes()),
            StoreId(3),
            "ATVPDKIKX0DER",
            day("2026-03-01"),
        )
        .expect("readable");
        assert_eq!(fetched.rows.len(), 1);
        let row = &fetched.rows[0];
        assert_eq!(
            (
                row.child_asin.as_str(),
                row.parent_asin.as_str(),
                row.metrics.units_ordered,
                row.metrics.sessions
            ),
            ("C1", "P1", 0, 7)
        );
        assert_eq!(
            fetched.skipped,
            [
                "child ASIN C1 appears twice",
                "item of parent ASIN P2 has no child ASIN"
            ]
        );
        let other_day = read_child(
            Box::new(doc.as_bytes()),
            StoreId(3),
            "ATVPDKIKX0DER",
            day("2026-03-02"),
        );
        assert!(matches!(other_day, Err(DocumentError::Corrupt(_))));
    }

    #[test]
    fn the_sku_and_child_reports_of_a_day_cannot_be_taken_for_each_other() {
        let sku = specification("ATVPDKIKX0DER", day("2026-03-01"));
        let child = child_specification("ATVPDKIKX0DER", day("2026-03-01"));
        assert_eq!(sku.data_start_time, child.data_start_time);
        assert_ne!(sku.data_end_time, child.data_end_time);
        assert_eq!(
            child.data_end_time.map(|t| t.date_naive()),
            Some(day("2026-03-01"))
        );
        assert_eq!(
            child.report_options.get("asinGranularity").map(String::as_str),
            Some("CHILD")
        );
    }

    #[test]
    fn a_report_for_another_day_is_refused() {
        let err = read(
            Box::new(DOC.as_bytes()),
            StoreId(3),
            "ATVPDKIKX0DER",
            day("2026-03-02"),
        )
        .unwrap_err();
        assert!(matches!(err, DocumentError::Corrupt(_)), "{err}");
    }
}
