//! The simulator's ground truth as our rows, and the stored rows in the same
//! shape: what a sync of a (store, marketplace, day) must have stored, for
//! the sync tests and the multi-process tests alike.

use amzsync_amazon_sim::{Simulator, SkuSalesAndTraffic};
use amzsync_db::{BusinessMetricRow, Db, InventoryRow, SalesTrafficMetrics};
use amzsync_domain::StoreId;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The simulator's inventory snapshot of `date` for `seller` in
/// `marketplace`, as our rows of `store`, by SKU.
pub fn expected_inventory(
    sim: &Simulator,
    seller: &str,
    store: StoreId,
    marketplace: &str,
    date: NaiveDate,
) -> Vec<InventoryRow> {
    let mut rows: Vec<InventoryRow> = sim
        .truth()
        .inventory_on(seller, marketplace, date)
        .expect("the seller sells there")
        .into_iter()
        .map(|t| InventoryRow {
            store_id: store,
            marketplace_id: marketplace.to_owned(),
            date,
            sku: t.sku,
            asin: Some(t.asin),
            fnsku: Some(t.fnsku),
            product_name: Some(t.product_name),
            condition: Some(t.condition),
            fulfillable_quantity: t.afn_fulfillable_quantity.into(),
            inbound_working_quantity: t.afn_inbound_working_quantity.into(),
            inbound_shipped_quantity: t.afn_inbound_shipped_quantity.into(),
            inbound_receiving_quantity: t.afn_inbound_receiving_quantity.into(),
            reserved_quantity: t.afn_reserved_quantity.into(),
            unfulfillable_quantity: t.afn_unsellable_quantity.into(),
            researching_quantity: t.afn_researching_quantity.into(),
            total_quantity: t.afn_total_quantity.into(),
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

/// The stored inventory of `store` in `marketplace` on `date`, by SKU.
pub async fn stored_inventory(
    db: &Db,
    store: StoreId,
    marketplace: &str,
    date: NaiveDate,
) -> Vec<InventoryRow> {
    let mut rows: Vec<InventoryRow> = db
        .snapshots()
        .inventory_on(store, date, Some(marketplace))
        .await
        .expect("reading inventory")
        .into_iter()
        .map(|s| s.row)
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

/// The simulator's Sales & Traffic of `day` as our row fields that it knows:
/// every field but the two share-of-marketplace percentages, which the
/// report derives. By SKU.
pub fn expected_business(
    sim: &Simulator,
    seller: &str,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<BusinessMetricRow> {
    let truth = sim
        .truth()
        .sales_and_traffic(seller, marketplace, day)
        .expect("the seller sells there");
    let mut rows: Vec<BusinessMetricRow> = truth
        .skus
        .iter()
        .map(|s| BusinessMetricRow {
            store_id: store,
            marketplace_id: marketplace.to_owned(),
            date: day,
            sku: s.sku.clone(),
            asin: Some(s.child_asin.clone()),
            parent_asin: Some(s.parent_asin.clone()),
            metrics: expected_metrics(&truth.currency_code, s),
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

/// The stored Sales & Traffic of `store` in `marketplace` on `day`, by SKU,
/// in the shape of [`expected_business`]: the two share-of-marketplace
/// percentages (which every stored row must have) blanked and decimals
/// normalized (`93.50` = `93.5`).
pub async fn stored_business(
    db: &Db,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<BusinessMetricRow> {
    let mut rows: Vec<BusinessMetricRow> = db
        .snapshots()
        .business_between(store, day, day, Some(marketplace))
        .await
        .expect("reading business rows")
        .into_iter()
        .map(|s| {
            let mut row = s.row;
            comparable(&mut row.metrics);
            row
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

/// The figures the simulator knows of one item, by SKU or by child ASIN:
/// all but the two share-of-marketplace percentages, which the report derives.
pub fn expected_metrics(currency: &str, s: &SkuSalesAndTraffic) -> SalesTrafficMetrics {
    SalesTrafficMetrics {
        currency: currency.to_owned(),
        ordered_product_sales: Decimal::new(s.ordered_product_sales_cents, 2),
        ordered_product_sales_b2b: None,
        units_ordered: s.units_ordered.into(),
        units_ordered_b2b: None,
        total_order_items: s.total_order_items.into(),
        total_order_items_b2b: None,
        sessions: s.sessions().into(),
        page_views: s.page_views().into(),
        session_percentage: None,
        page_views_percentage: None,
        buy_box_percentage: Some(decimal(s.buy_box_percentage)),
        unit_session_percentage: Some(unit_session_percentage(s)),
    }
}

/// Stored figures in the shape of [`expected_metrics`]: the two
/// share-of-marketplace percentages (which every stored row must have)
/// blanked, and decimals normalized (`93.50` = `93.5`).
pub fn comparable(m: &mut SalesTrafficMetrics) {
    assert!(
        m.session_percentage.is_some() && m.page_views_percentage.is_some(),
        "a stored row has both share-of-marketplace percentages: {m:?}"
    );
    m.session_percentage = None;
    m.page_views_percentage = None;
    m.buy_box_percentage = m.buy_box_percentage.map(|d| d.normalize());
    m.unit_session_percentage = m.unit_session_percentage.map(|d| d.normalize());
}

/// `unitSessionPercentage` as the simulator writes it.
fn unit_session_percentage(s: &SkuSalesAndTraffic) -> Decimal {
    let (units, sessions) = (f64::from(s.units_ordered), f64::from(s.sessions()));
    if sessions == 0.0 {
        Decimal::ZERO
    } else {
        decimal((units * 100.0 / sessions * 100.0).round() / 100.0)
    }
}

/// A simulator float as the exact decimal it prints, normalized.
fn decimal(f: f64) -> Decimal {
    f.to_string()
        .parse::<Decimal>()
        .expect("a finite number")
        .normalize()
}
