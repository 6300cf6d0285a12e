//! FBA inventory (FR-1) from `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`: one
//! row per SKU, stored as that marketplace's snapshot of the day.

use amzsync_amazon::DocumentError;
use amzsync_amazon::sp::fba_inventory;
use amzsync_amazon::sp::reports::CreateReportSpecification;
use amzsync_amazon::{Parsed, sp::fba_inventory::InventoryRow as MyiRow};
use amzsync_db::InventoryRow;
use amzsync_domain::StoreId;
use chrono::NaiveDate;

use super::Fetched;

pub(crate) const REPORT_TYPE: &str = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";

/// A snapshot report has no window: Amazon reports the inventory as of now.
pub(crate) fn specification(marketplace_id: &str) -> CreateReportSpecification {
    CreateReportSpecification::new(REPORT_TYPE, [marketplace_id])
}

/// Reads a downloaded MYI document (on the download's blocking thread).
pub(crate) fn read(
    text: Box<dyn std::io::Read>,
    store: StoreId,
    marketplace_id: &str,
    date: NaiveDate,
) -> Result<Fetched<InventoryRow>, DocumentError> {
    let mut fetched = Fetched::default();
    for item in fba_inventory::rows(text)? {
        match item? {
            Parsed::Row(row) => fetched.rows.push(convert(row, store, marketplace_id, date)),
            Parsed::Skipped(e) => fetched.skipped.push(e.to_string()),
        }
    }
    Ok(fetched)
}

/// An MYI row as our snapshot row. An empty quantity cell is zero units:
/// Amazon leaves cells empty rather than writing 0 for some quantities.
/// Inbound is kept as its three parts (working + shipped + receiving).
fn convert(row: MyiRow, store: StoreId, marketplace_id: &str, date: NaiveDate) -> InventoryRow {
    let q = |v: Option<i64>| v.unwrap_or(0);
    InventoryRow {
        store_id: store,
        marketplace_id: marketplace_id.to_owned(),
        date,
        sku: row.sku,
        asin: row.asin,
        fnsku: row.fnsku,
        product_name: row.product_name,
        condition: row.condition,
        fulfillable_quantity: q(row.afn_fulfillable_quantity),
        inbound_working_quantity: q(row.afn_inbound_working_quantity),
        inbound_shipped_quantity: q(row.afn_inbound_shipped_quantity),
        inbound_receiving_quantity: q(row.afn_inbound_receiving_quantity),
        reserved_quantity: q(row.afn_reserved_quantity),
        unfulfillable_quantity: q(row.afn_unsellable_quantity),
        researching_quantity: q(row.afn_researching_quantity),
        total_quantity: q(row.afn_total_quantity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_myi_document_becomes_snapshot_rows_and_bad_lines_are_counted() {
        let doc = "sku\tfnsku\tasin\tproduct-name\tcondition\tyour-price\tmfn-listing-exists\tmfn-fulfillable-quantity\tafn-listing-exists\tafn-warehouse-quantity\tafn-fulfillable-quantity\tafn-unsellable-quantity\tafn-reserved-quantity\tafn-total-quantity\tper-unit-volume\tafn-inbound-working-quantity\tafn-inbound-shipped-quantity\tafn-inbound-receiving-quantity\tafn-researching-quantity\n\
            MUG-1\tX001\tB001\tMug\tNew\t9.99\tNo\t\tYes\t10\t7\t1\t2\t16\t0.03\t1\t2\t3\t0\n\
            BAD\tX002\tB002\tBad\tNew\t9.99\tNo\t\tYes\tten\tx\t1\t2\t16\t0.03\t1\t2\t3\t0\n";
        let date = NaiveDate::from_ymd_opt(2026, 3, 10).expect("valid date");
        let fetched = read(Box::new(doc.as_bytes()), StoreId(7), "ATVPDKIKX0DER", date).expect("readable");
        assert_eq!(fetched.rows.len(), 1, "{:?}", fetched.skipped);
        let row = &fetched.rows[0];
        assert_eq!(row.sku, "MUG-1");
        assert_eq!(
            (
                row.fulfillable_quantity,
                row.unfulfillable_quantity,
                row.reserved_quantity,
                row.inbound_working_quantity + row.inbound_shipped_quantity + row.inbound_receiving_quantity,
                row.total_quantity
            ),
            (7, 1, 2, 6, 16)
        );
        assert_eq!(fetched.skipped.len(), 1);
        assert!(fetched.skipped[0].starts_with("line 3"), "{:?}", fetched.skipped);
    }
}
