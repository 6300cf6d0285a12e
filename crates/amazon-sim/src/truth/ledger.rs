//! The inventory ledger (`GET_LEDGER_SUMMARY_VIEW_DATA`, daily, by country): one
//! row per SKU and disposition per day, derived from the MYI snapshots so both
//! reports tell the same story.
//!
//! The MYI snapshot of a date is the stock at the start of that day, so a day's
//! starting balance is that day's snapshot and its ending balance the next day's.
//! Movements explain the difference: customer shipments follow the day's units
//! ordered (sales and traffic truth), damage moves units from SELLABLE to the
//! unsellable disposition, and receipts (or extra shipments) close the gap, so
//! ending = starting + the sum of the movements on every row.

use chrono::NaiveDate;

use crate::rng::Rng;
use crate::truth::inventory::InventoryRow;
use crate::truth::sales_traffic::SkuSalesAndTraffic;

/// One row of the daily ledger summary (PROTOCOL.md §4.2.1). Outflows are negative.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerRow {
    /// `Date`.
    pub date: NaiveDate,
    /// `FNSKU`.
    pub fnsku: String,
    /// `ASIN`.
    pub asin: String,
    /// `MSKU`: the seller SKU.
    pub msku: String,
    /// `Title`.
    pub title: String,
    /// `Disposition`: `SELLABLE`, `CUSTOMER_DAMAGED`, `DEFECTIVE` or
    /// `WAREHOUSE_DAMAGED`.
    pub disposition: &'static str,
    /// `Starting Warehouse Balance`.
    pub starting_warehouse_balance: i64,
    /// `In Transit Between Warehouses`.
    pub in_transit_between_warehouses: i64,
    /// `Receipts`.
    pub receipts: i64,
    /// `Customer Shipments` (≤ 0).
    pub customer_shipments: i64,
    /// `Customer Returns`.
    pub customer_returns: i64,
    /// `Vendor Returns`.
    pub vendor_returns: i64,
    /// `Warehouse Transfer In/Out`.
    pub warehouse_transfer_in_out: i64,
    /// `Found`.
    pub found: i64,
    /// `Lost`.
    pub lost: i64,
    /// `Damaged`: negative on SELLABLE, positive on the damaged disposition.
    pub damaged: i64,
    /// `Disposed` (≤ 0).
    pub disposed: i64,
    /// `Other Events`.
    pub other_events: i64,
    /// `Ending Warehouse Balance`.
    pub ending_warehouse_balance: i64,
    /// `Unknown Events`.
    pub unknown_events: i64,
    /// `Location`: the marketplace's country code (COUNTRY aggregation).
    pub location: String,
}

impl LedgerRow {
    /// The sum of all movement columns; `starting + movements() == ending`.
    pub fn movements(&self) -> i64 {
        self.in_transit_between_warehouses
            + self.receipts
            + self.customer_shipments
            + self.customer_returns
            + self.vendor_returns
            + self.warehouse_transfer_in_out
            + self.found
            + self.lost
            + self.damaged
            + self.disposed
            + self.other_events
            + self.unknown_events
    }
}

impl LedgerRow {
    /// Adds a later day of the same SKU and disposition: its movements add up and
    /// its ending balance becomes this row's, so a period's row still has ending
    /// = starting + movements (one day's end is the next day's start).
    pub(crate) fn absorb(&mut self, later: &LedgerRow) {
        self.in_transit_between_warehouses += later.in_transit_between_warehouses;
        self.receipts += later.receipts;
        self.customer_shipments += later.customer_shipments;
        self.customer_returns += later.customer_returns;
        self.vendor_returns += later.vendor_returns;
        self.warehouse_transfer_in_out += later.warehouse_transfer_in_out;
        self.found += later.found;
        self.lost += later.lost;
        self.damaged += later.damaged;
        self.disposed += later.disposed;
        self.other_events += later.other_events;
        self.unknown_events += later.unknown_events;
        self.ending_warehouse_balance = later.ending_warehouse_balance;
    }
}

/// Sums one SKU's daily rows of a period, in day order, into one row per
/// disposition dated the period's first day. A disposition that appears only
/// later in the period started it at zero: a day without its row had none of it.
pub(crate) fn sum_period(first: NaiveDate, daily: impl IntoIterator<Item = LedgerRow>) -> Vec<LedgerRow> {
    let mut rows: Vec<LedgerRow> = Vec::with_capacity(2);
    for row in daily {
        match rows.iter_mut().find(|r| r.disposition == row.disposition) {
            Some(sum) => sum.absorb(&row),
            None => rows.push(LedgerRow { date: first, ..row }),
        }
    }
    rows
}

/// The calendar months of `first..=last`, each clipped to the window, as (first
/// day, last day). [UNC] Whether Amazon widens a MONTHLY window to whole months
/// is undocumented; clipping keeps the file to the days asked for.
pub(crate) fn months(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    use chrono::Datelike as _;
    let mut months: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        match months.last_mut() {
            Some((start, end)) if (start.year(), start.month()) == (day.year(), day.month()) => *end = day,
            _ => months.push((day, day)),
        }
    }
    months
}

const UNSELLABLE: [&str; 3] = ["CUSTOMER_DAMAGED", "DEFECTIVE", "WAREHOUSE_DAMAGED"];

/// One SKU's rows of the day (SELLABLE, and its damaged disposition when it has
/// unsellable stock), from its opening and closing snapshot rows and its sales:
/// nothing else, so the ledger streams one SKU at a time.
pub(crate) fn sku_rows(
    seed: u64,
    date: NaiveDate,
    country: &str,
    (open, close, sold): (&InventoryRow, &InventoryRow, &SkuSalesAndTraffic),
    rows: &mut Vec<LedgerRow>,
) {
    let date_label = date.to_string();
    let mut r = Rng::keyed(seed, &["ledger", &date_label, &open.sku]);
    let sellable = |row: &InventoryRow| i64::from(row.afn_fulfillable_quantity + row.afn_reserved_quantity);
    let (open_bad, close_bad) = (
        i64::from(open.afn_unsellable_quantity),
        i64::from(close.afn_unsellable_quantity),
    );
    let damaged = (close_bad - open_bad).max(0);
    let base = LedgerRow {
        date,
        fnsku: open.fnsku.clone(),
        asin: open.asin.clone(),
        msku: open.sku.clone(),
        title: open.product_name.clone(),
        disposition: "SELLABLE",
        starting_warehouse_balance: sellable(open),
        in_transit_between_warehouses: 0,
        receipts: 0,
        customer_shipments: -i64::from(sold.units_ordered),
        customer_returns: i64::from(r.chance(10)),
        vendor_returns: 0,
        warehouse_transfer_in_out: 0,
        found: 0,
        lost: 0,
        damaged: -damaged,
        disposed: 0,
        other_events: 0,
        ending_warehouse_balance: sellable(close),
        unknown_events: 0,
        location: country.to_owned(),
    };
    let mut row = base.clone();
    let gap = row.ending_warehouse_balance - row.starting_warehouse_balance - row.movements();
    if gap >= 0 {
        row.receipts = gap;
    } else {
        row.customer_shipments += gap;
    }
    rows.push(row);
    if open_bad > 0 || close_bad > 0 {
        // One damaged disposition per SKU, so its balance carries over days.
        let mut per_sku = Rng::keyed(seed, &["ledger-disposition", &open.sku]);
        let disposition = *per_sku.pick(&UNSELLABLE);
        rows.push(LedgerRow {
            disposition,
            starting_warehouse_balance: open_bad,
            customer_shipments: 0,
            customer_returns: 0,
            damaged,
            disposed: (close_bad - open_bad).min(0),
            ending_warehouse_balance: close_bad,
            ..base
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_split_the_window_at_calendar_months_and_clip_to_it() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            months(day("2024-01-30"), day("2024-03-02")),
            [
                (day("2024-01-30"), day("2024-01-31")),
                (day("2024-02-01"), day("2024-02-29")),
                (day("2024-03-01"), day("2024-03-02"))
            ]
        );
    }
}
