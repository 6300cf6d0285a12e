//! `GET_LEDGER_SUMMARY_VIEW_DATA`: the inventory "bank statement" per day (or
//! week, month), used to backfill inventory history. Unlike MYI, every header
//! and value is double-quoted, dates are `MM/DD/YYYY` and outflows are
//! negative (PROTOCOL.md §4.2.1).

use std::io::Read;

use chrono::NaiveDate;

use super::tsv::{self, Line, Quoting, Rows};
use crate::document::DocumentError;
use crate::parse::Parsed;

/// One row: one FNSKU, disposition and location over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The day (or first day of the period).
    pub date: NaiveDate,
    /// Fulfillment network SKU.
    pub fnsku: Option<String>,
    /// ASIN.
    pub asin: Option<String>,
    /// Seller SKU (`MSKU` in the file).
    pub msku: String,
    /// Product title.
    pub title: Option<String>,
    /// `SELLABLE`, `CUSTOMER_DAMAGED`, `DEFECTIVE`, …
    pub disposition: String,
    /// Units at the start of the period.
    pub starting_warehouse_balance: i64,
    /// Units moving between fulfillment centers.
    pub in_transit_between_warehouses: Option<i64>,
    /// Units received.
    pub receipts: Option<i64>,
    /// Units shipped to customers (negative).
    pub customer_shipments: Option<i64>,
    /// Units returned by customers.
    pub customer_returns: Option<i64>,
    /// Units returned to the seller (negative).
    pub vendor_returns: Option<i64>,
    /// Net transfers.
    pub warehouse_transfer_in_out: Option<i64>,
    /// Units found.
    pub found: Option<i64>,
    /// Units lost (negative).
    pub lost: Option<i64>,
    /// Units damaged.
    pub damaged: Option<i64>,
    /// Units disposed of (negative).
    pub disposed: Option<i64>,
    /// Other adjustments.
    pub other_events: Option<i64>,
    /// Units at the end of the period.
    pub ending_warehouse_balance: i64,
    /// Events Amazon could not classify.
    pub unknown_events: Option<i64>,
    /// Country code (COUNTRY aggregation) or fulfillment center (FC).
    pub location: Option<String>,
}

const COLUMNS: &[&str] = &[
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
];

const REQUIRED: &[&str] = &[
    "Date",
    "MSKU",
    "Disposition",
    "Starting Warehouse Balance",
    "Ending Warehouse Balance",
];

fn balance(l: &Line<'_>, column: usize) -> Result<i64, String> {
    tsv::int(l, column, COLUMNS[column])?.ok_or_else(|| format!("{} is empty", COLUMNS[column]))
}

fn parse(l: &Line<'_>) -> Result<LedgerRow, String> {
    let date_text = tsv::text(l, 0, "Date")?;
    let date = NaiveDate::parse_from_str(&date_text, "%m/%d/%Y")
        .map_err(|_| format!("Date: {date_text:?} is not MM/DD/YYYY"))?;
    let n = |c: usize| tsv::int(l, c, COLUMNS[c]);
    Ok(LedgerRow {
        date,
        fnsku: tsv::opt_text(l, 1),
        asin: tsv::opt_text(l, 2),
        msku: tsv::text(l, 3, "MSKU")?,
        title: tsv::opt_text(l, 4),
        disposition: tsv::text(l, 5, "Disposition")?,
        starting_warehouse_balance: balance(l, 6)?,
        in_transit_between_warehouses: n(7)?,
        receipts: n(8)?,
        customer_shipments: n(9)?,
        customer_returns: n(10)?,
        vendor_returns: n(11)?,
        warehouse_transfer_in_out: n(12)?,
        found: n(13)?,
        lost: n(14)?,
        damaged: n(15)?,
        disposed: n(16)?,
        other_events: n(17)?,
        ending_warehouse_balance: balance(l, 18)?,
        unknown_events: n(19)?,
        location: tsv::opt_text(l, 20),
    })
}

/// The rows of a decoded (UTF-8) document, as they are read.
pub fn rows<R: Read>(
    text: R,
) -> Result<impl Iterator<Item = Result<Parsed<LedgerRow>, DocumentError>>, DocumentError> {
    Rows::new(text, Quoting::Double, COLUMNS, REQUIRED, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/amazon-api/ledger_summary_daily.tsv"
    );

    #[test]
    fn the_example_file_is_read_with_its_quotes_dates_and_negative_outflows() {
        let file = std::fs::File::open(EXAMPLE).unwrap();
        let rows: Vec<LedgerRow> = rows(file).unwrap().map(|r| r.unwrap().row().unwrap()).collect();
        assert_eq!(rows.len(), 3);
        let mug = &rows[0];
        assert_eq!(mug.date, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
        assert_eq!(mug.msku, "MUG-RED-12OZ");
        assert_eq!(mug.disposition, "SELLABLE");
        assert_eq!(
            (mug.starting_warehouse_balance, mug.ending_warehouse_balance),
            (128, 135)
        );
        assert_eq!(mug.customer_shipments, Some(-5));
        assert_eq!(mug.damaged, Some(-1));
        assert_eq!(mug.location.as_deref(), Some("US"));
        assert_eq!(
            rows[2].title.as_deref(),
            Some("Men's T-Shirt, Black, Size M \"Classic Fit\"")
        );
    }

    #[test]
    fn a_bad_date_skips_only_its_row() {
        let doc = "\"Date\"\t\"MSKU\"\t\"Disposition\"\t\"Starting Warehouse Balance\"\t\"Ending Warehouse Balance\"\n\
                   \"2024-05-01\"\t\"A\"\t\"SELLABLE\"\t\"1\"\t\"1\"\n\
                   \"05/02/2024\"\t\"B\"\t\"SELLABLE\"\t\"1\"\t\"2\"\n";
        let parsed: Vec<_> = rows(doc.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert!(matches!(&parsed[0], Parsed::Skipped(e) if e.line == 2 && e.reason.contains("MM/DD/YYYY")));
        assert!(matches!(&parsed[1], Parsed::Row(r) if r.msku == "B" && r.ending_warehouse_balance == 2));
    }

    /// Found with the property `every_inventory_line_is_a_row_or_a_counted_skip`
    /// (the ledger shares the TSV reader): a quoted value spanning lines, blank
    /// lines and CRLF line ends leave each row on its own first line.
    #[test]
    fn skipped_rows_name_their_own_line_in_crlf_files_with_multiline_values() {
        let doc = "\"Date\"\t\"MSKU\"\t\"Disposition\"\t\"Starting Warehouse Balance\"\t\"Ending Warehouse Balance\"\r\n\
                   \"05/01/2024\"\t\"A\r\nB\"\t\"SELLABLE\"\t\"1\"\t\"1\"\r\n\
                   \r\n\
                   \"2024-05-02\"\t\"C\"\t\"SELLABLE\"\t\"1\"\t\"2\"\r\n";
        let parsed: Vec<_> = rows(doc.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert!(
            matches!(&parsed[0], Parsed::Row(r) if r.msku == "A\r\nB"),
            "{parsed:?}"
        );
        assert!(
            matches!(&parsed[1], Parsed::Skipped(e) if e.line == 5),
            "{parsed:?}"
        );
    }
}
