//! Inventory history (FR-1's backfill) from `GET_LEDGER_SUMMARY_VIEW_DATA`,
//! daily and by country: one row per SKU, FNSKU, disposition and location per
//! day, stored under the row's own day in `inventory_ledger_daily` (why not in
//! the snapshots: see that table's migration).

use std::collections::HashSet;

use amzsync_amazon::sp::ledger::{self, LedgerRow as AmazonLedgerRow};
use amzsync_amazon::sp::reports::CreateReportSpecification;
use amzsync_amazon::{DocumentError, Parsed};
use amzsync_db::LedgerRow;
use amzsync_domain::StoreId;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

use super::Fetched;

pub(crate) const REPORT_TYPE: &str = "GET_LEDGER_SUMMARY_VIEW_DATA";

/// The days `start..=end`, a row per day. The time option is spelled
/// `aggregatedBy…` and the location one `aggregateBy…` (PROTOCOL §4.2.1);
/// without the time option Amazon sums whole months.
pub(crate) fn specification(
    marketplace_id: &str,
    start: NaiveDate,
    end: NaiveDate,
) -> CreateReportSpecification {
    let from = Utc.from_utc_datetime(&start.and_time(NaiveTime::MIN));
    let to = Utc.from_utc_datetime(
        &end.and_hms_opt(23, 59, 59)
            .unwrap_or(end.and_time(NaiveTime::MIN)),
    );
    CreateReportSpecification::new(REPORT_TYPE, [marketplace_id])
        .window(from, to)
        .option("aggregateByLocation", "COUNTRY")
        .option("aggregatedByTimePeriod", "DAILY")
}

/// Reads a downloaded ledger document (on the download's blocking thread).
/// A row dated outside `start..=end` is skipped and counted rather than
/// stored: Amazon has been seen to add a neighbouring day to a window
/// (PROTOCOL §3.8), which may be partial and would overwrite that day's
/// complete row from its own report. A key given twice is kept once.
pub(crate) fn read(
    text: Box<dyn std::io::Read>,
    store: StoreId,
    marketplace_id: &str,
    (start, end): (NaiveDate, NaiveDate),
) -> Result<Fetched<LedgerRow>, DocumentError> {
    let mut fetched = Fetched::default();
    let mut seen = HashSet::new();
    for item in ledger::rows(text)? {
        match item? {
            Parsed::Row(row) if row.date < start || row.date > end => fetched.skipped.push(format!(
                "{} {} is dated {}, outside the window {start}..{end}",
                row.msku, row.disposition, row.date
            )),
            Parsed::Row(row) => {
                let row = convert(row, store, marketplace_id);
                let key = (
                    row.date,
                    row.sku.clone(),
                    row.fnsku.clone(),
                    row.disposition.clone(),
                    row.location.clone(),
                );
                if seen.insert(key) {
                    fetched.rows.push(row);
                } else {
                    fetched.skipped.push(format!(
                        "{} {} {} {} appears twice on {}",
                        row.sku, row.fnsku, row.disposition, row.location, row.date
                    ));
                }
            }
            Parsed::Skipped(e) => fetched.skipped.push(e.to_string()),
        }
    }
    Ok(fetched)
}

fn convert(row: AmazonLedgerRow, store: StoreId, marketplace_id: &str) -> LedgerRow {
    LedgerRow {
        store_id: store,
        marketplace_id: marketplace_id.to_owned(),
        date: row.date,
        sku: row.msku,
        fnsku: row.fnsku.unwrap_or_default(),
        disposition: row.disposition,
        location: row.location.unwrap_or_default(),
        asin: row.asin,
        title: row.title,
        starting_warehouse_balance: row.starting_warehouse_balance,
        in_transit_between_warehouses: row.in_transit_between_warehouses,
        receipts: row.receipts,
        customer_shipments: row.customer_shipments,
        customer_returns: row.customer_returns,
        vendor_returns: row.vendor_returns,
        warehouse_transfer_in_out: row.warehouse_transfer_in_out,
        found: row.found,
        lost: row.lost,
        damaged: row.damaged,
        disposed: row.disposed,
        other_events: row.other_events,
        ending_warehouse_balance: row.ending_warehouse_balance,
        unknown_events: row.unknown_events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    #[test]
    fn ledger_rows_are_stored_under_their_day_and_strays_and_repeats_are_counted() {
        let header = "\"Date\"\t\"FNSKU\"\t\"ASIN\"\t\"MSKU\"\t\"Title\"\t\"Disposition\"\t\"Starting Warehouse Balance\"\t\"Customer Shipments\"\t\"Ending Warehouse Balance\"\t\"Location\"\n";
        let doc = format!(
            "{header}\
             \"03/01/2026\"\t\"X001\"\t\"B001\"\t\"MUG\"\t\"Mug \"\"12oz\"\"\"\t\"SELLABLE\"\t\"10\"\t\"-3\"\t\"7\"\t\"US\"\n\
             \"03/02/2026\"\t\"X001\"\t\"B001\"\t\"MUG\"\t\"Mug\"\t\"SELLABLE\"\t\"7\"\t\"\"\t\"7\"\t\"US\"\n\
             \"03/02/2026\"\t\"X001\"\t\"B001\"\t\"MUG\"\t\"Mug\"\t\"SELLABLE\"\t\"7\"\t\"\"\t\"7\"\t\"US\"\n\
             \"03/03/2026\"\t\"X001\"\t\"B001\"\t\"MUG\"\t\"Mug\"\t\"SELLABLE\"\t\"7\"\t\"0\"\t\"7\"\t\"US\"\n"
        );
        let fetched = read(
            Box::new(std::io::Cursor::new(doc.into_bytes())),
            StoreId(4),
            "ATVPDKIKX0DER",
            (day("2026-03-01"), day("2026-03-02")),
        )
        .expect("readable");
        let rows: Vec<(NaiveDate, i64, Option<i64>, i64)> = fetched
            .rows
            .iter()
            .map(|r| {
                (
                    r.date,
                    r.starting_warehouse_balance,
                    r.customer_shipments,
                    r.ending_warehouse_balance,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (day("2026-03-01"), 10, Some(-3), 7),
                (day("2026-03-02"), 7, None, 7)
            ]
        );
        assert_eq!(fetched.rows[0].title.as_deref(), Some("Mug \"12oz\""));
        assert_eq!(
            (fetched.rows[0].fnsku.as_str(), fetched.rows[0].location.as_str()),
            ("X001", "US")
        );
        assert_eq!(fetched.skipped.len(), 2, "{:?}", fetched.skipped);
        assert!(
            fetched.skipped[0].contains("appears twice"),
            "{:?}",
            fetched.skipped
        );
        assert!(
            fetched.skipped[1].contains("outside the window"),
            "{:?}",
            fetched.skipped
        );
    }
}
