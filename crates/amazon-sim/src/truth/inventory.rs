//! FBA inventory snapshots: one `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA` row per
//! SKU, generated per (seed, seller, marketplace, date).

use chrono::NaiveDate;

use crate::rng::Rng;
use crate::truth::catalog::Product;

/// One row of the MYI report (the 21 core columns of PROTOCOL.md §4.1).
///
/// Quantities keep Amazon's usual relationships: warehouse = fulfillable +
/// unsellable + reserved; total = warehouse + inbound (working, shipped, receiving)
/// + researching.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InventoryRow {
    /// `sku`.
    pub sku: String,
    /// `fnsku`.
    pub fnsku: String,
    /// `asin`.
    pub asin: String,
    /// `product-name`.
    pub product_name: String,
    /// `condition`.
    pub condition: String,
    /// `your-price`, in hundredths of the currency unit (cents; yen ×100).
    pub your_price_cents: i64,
    /// `mfn-listing-exists`.
    pub mfn_listing_exists: bool,
    /// `mfn-fulfillable-quantity`; empty in the file when there is no MFN offer.
    pub mfn_fulfillable_quantity: Option<u32>,
    /// `afn-listing-exists`.
    pub afn_listing_exists: bool,
    /// `afn-warehouse-quantity`.
    pub afn_warehouse_quantity: u32,
    /// `afn-fulfillable-quantity`.
    pub afn_fulfillable_quantity: u32,
    /// `afn-unsellable-quantity`.
    pub afn_unsellable_quantity: u32,
    /// `afn-reserved-quantity`.
    pub afn_reserved_quantity: u32,
    /// `afn-total-quantity`.
    pub afn_total_quantity: u32,
    /// `per-unit-volume`, in hundredths (the file writes `0.03`).
    pub per_unit_volume_hundredths: u32,
    /// `afn-inbound-working-quantity`.
    pub afn_inbound_working_quantity: u32,
    /// `afn-inbound-shipped-quantity`.
    pub afn_inbound_shipped_quantity: u32,
    /// `afn-inbound-receiving-quantity`.
    pub afn_inbound_receiving_quantity: u32,
    /// `afn-researching-quantity`.
    pub afn_researching_quantity: u32,
    /// `afn-reserved-future-supply`.
    pub afn_reserved_future_supply: u32,
    /// `afn-future-supply-buyable`.
    pub afn_future_supply_buyable: u32,
}

/// The snapshot of every product, in catalog order.
pub(crate) fn snapshot(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    products: impl IntoIterator<Item = Product>,
) -> Vec<InventoryRow> {
    products
        .into_iter()
        .map(|p| row(seed, seller, marketplace_id, date, &p))
        .collect()
}

/// One SKU's row of the snapshot of `date`: depends on nothing but the SKU, so a
/// report can stream the snapshot without holding it.
pub(crate) fn row(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    p: &Product,
) -> InventoryRow {
    let date_label = date.to_string();
    let mut r = Rng::keyed(seed, &["inventory", seller, marketplace_id, &date_label, &p.sku]);
    let n = |r: &mut Rng, hi: u64| u32::try_from(r.below(hi + 1)).unwrap_or(0);
    // Some SKUs are out of stock: real files list them with zeros.
    let in_stock = r.chance(85);
    let fulfillable = if in_stock { n(&mut r, 40 * p.popularity) } else { 0 };
    let unsellable = if r.chance(20) { n(&mut r, 5) } else { 0 };
    let reserved = if in_stock { n(&mut r, 2 * p.popularity) } else { 0 };
    let inbound = r.chance(30);
    let working = if inbound { n(&mut r, 20) } else { 0 };
    let shipped = if inbound { n(&mut r, 60) } else { 0 };
    let receiving = if inbound { n(&mut r, 15) } else { 0 };
    let researching = if r.chance(10) { n(&mut r, 2) } else { 0 };
    let mfn = r.chance(10);
    let warehouse = fulfillable + unsellable + reserved;
    InventoryRow {
        sku: p.sku.clone(),
        fnsku: p.fnsku.clone(),
        asin: p.asin.clone(),
        product_name: p.name.clone(),
        condition: p.condition.to_owned(),
        your_price_cents: p.price_cents,
        mfn_listing_exists: mfn,
        mfn_fulfillable_quantity: mfn.then(|| n(&mut r, 30)),
        afn_listing_exists: true,
        afn_warehouse_quantity: warehouse,
        afn_fulfillable_quantity: fulfillable,
        afn_unsellable_quantity: unsellable,
        afn_reserved_quantity: reserved,
        afn_total_quantity: warehouse + working + shipped + receiving + researching,
        per_unit_volume_hundredths: p.volume_hundredths,
        afn_inbound_working_quantity: working,
        afn_inbound_shipped_quantity: shipped,
        afn_inbound_receiving_quantity: receiving,
        afn_researching_quantity: researching,
        afn_reserved_future_supply: 0,
        afn_future_supply_buyable: 0,
    }
}
