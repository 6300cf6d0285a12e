//! What a successful task must have stored: the simulator's ground truth for
//! each marketplace and day of its window, as our rows, compared with the
//! rows in the database field by field.

use amzsync_db::{BusinessMetricRow, InventoryRow};
use amzsync_domain::{StoreId, SyncKind, SyncWindow, TaskStatus};
use amzsync_sync::checkpoint::{Checkpoint, UnitState};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use amzsync_db::SyncTask;

use crate::harness::Deployment;

/// Rows compared and (marketplace, day) units that differed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub rows: usize,
    pub mismatches: usize,
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, other: Checked) {
        self.rows += other.rows;
        self.mismatches += other.mismatches;
    }
}

/// Compares every (marketplace, day) of a successful task with the truth;
/// differences are printed, so a failing run says where.
pub async fn check(dep: &Deployment, task: &SyncTask) -> Checked {
    assert_eq!(
        task.status,
        TaskStatus::Success,
        "only successful tasks have data to check"
    );
    let seller = &dep.seller_of(task).seller_id;
    let store = task.store_id;
    let window = SyncWindow::new(
        task.window_start.expect("a task has a window"),
        task.window_end.expect("a task has a window"),
    )
    .expect("an ordered window");
    // An inventory snapshot is dated by the day Amazon made its report,
    // which a task running late puts after its window: the checkpoint says.
    let units: Vec<(String, NaiveDate)> = match task.sync_type {
        SyncKind::Inventory => {
            let checkpoint: Checkpoint =
                serde_json::from_value(task.checkpoint.clone()).expect("a task's checkpoint reads back");
            checkpoint
                .units
                .iter()
                .filter(|u| u.state == UnitState::Done)
                .map(|u| (u.marketplace_id.clone(), u.date))
                .collect()
        }
        _ => dep
            .seller_of(task)
            .store
            .marketplaces
            .iter()
            .flat_map(|m| window.iter_days().map(move |day| (m.clone(), day)))
            .collect(),
    };
    let mut checked = Checked::default();
    for (marketplace, day) in &units {
        let (marketplace, day) = (marketplace, *day);
        {
            let (rows, difference) = match task.sync_type {
                SyncKind::Inventory => compare(
                    &expected_inventory(dep, seller, store, marketplace, day),
                    &stored_inventory(dep, store, marketplace, day).await,
                ),
                SyncKind::Business => compare(
                    &expected_business(dep, seller, store, marketplace, day),
                    &stored_business(dep, store, marketplace, day).await,
                ),
                SyncKind::Advertising => panic!("these stores have no Ads authorization"),
            };
            checked.rows += rows;
            if let Some(difference) = difference {
                checked.mismatches += 1;
                eprintln!(
                    "MISMATCH {} {seller} {marketplace} {day}: {difference}",
                    task.sync_type
                );
            }
        }
    }
    checked
}

/// Rows stored, and what differs from the expected rows if anything does
/// (the truth must not be empty: a day without data proves nothing).
fn compare<T: PartialEq + std::fmt::Debug>(expected: &[T], stored: &[T]) -> (usize, Option<String>) {
    assert!(!expected.is_empty(), "the simulator sells something every day");
    if expected == stored {
        return (stored.len(), None);
    }
    let first = expected.iter().zip(stored).find(|(e, s)| e != s);
    let difference = format!(
        "expected {} rows, stored {}; first difference: {first:?}",
        expected.len(),
        stored.len()
    );
    (stored.len(), Some(difference))
}

fn expected_inventory(
    dep: &Deployment,
    seller: &str,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<InventoryRow> {
    let mut rows: Vec<InventoryRow> = dep
        .sim
        .truth()
        .inventory_on(seller, marketplace, day)
        .expect("the seller sells there")
        .into_iter()
        .map(|t| InventoryRow {
            store_id: store,
            marketplace_id: marketplace.to_owned(),
            date: day,
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

async fn stored_inventory(
    dep: &Deployment,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<InventoryRow> {
    let mut rows: Vec<InventoryRow> = dep
        .db
        .snapshots()
        .inventory_on(store, day, Some(marketplace))
        .await
        .expect("reading inventory")
        .into_iter()
        .map(|s| s.row)
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

/// The simulator's figures as the row fields it knows: all but the two
/// share-of-marketplace percentages, which the report derives.
fn expected_business(
    dep: &Deployment,
    seller: &str,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<BusinessMetricRow> {
    let truth = dep
        .sim
        .truth()
        .sales_and_traffic(seller, marketplace, day)
        .expect("the seller sells there");
    let mut rows: Vec<BusinessMetricRow> = truth
        .skus
        .iter()
        .map(|s| {
            let sessions = i64::from(s.sessions());
            let units = i64::from(s.units_ordered);
            BusinessMetricRow {
                store_id: store,
                marketplace_id: marketplace.to_owned(),
                date: day,
                sku: s.sku.clone(),
                asin: Some(s.child_asin.clone()),
                parent_asin: Some(s.parent_asin.clone()),
                currency: truth.currency_code.clone(),
                ordered_product_sales: Decimal::new(s.ordered_product_sales_cents, 2),
                ordered_product_sales_b2b: None,
                units_ordered: units,
                units_ordered_b2b: None,
                total_order_items: s.total_order_items.into(),
                total_order_items_b2b: None,
                sessions,
                page_views: s.page_views().into(),
                session_percentage: None,
                page_views_percentage: None,
                buy_box_percentage: Some(decimal(s.buy_box_percentage)),
                unit_session_percentage: Some(if sessions == 0 {
                    Decimal::ZERO
                } else {
                    decimal(((units as f64) * 100.0 / sessions as f64 * 100.0).round() / 100.0)
                }),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}

fn decimal(f: f64) -> Decimal {
    f.to_string()
        .parse::<Decimal>()
        .expect("a finite number")
        .normalize()
}

/// Stored rows with the derived percentages blanked and decimals normalized
/// (`93.50` = `93.5`), as [`expected_business`] has them.
async fn stored_business(
    dep: &Deployment,
    store: StoreId,
    marketplace: &str,
    day: NaiveDate,
) -> Vec<BusinessMetricRow> {
    let mut rows: Vec<BusinessMetricRow> = dep
        .db
        .snapshots()
        .business_between(store, day, day, Some(marketplace))
        .await
        .expect("reading business rows")
        .into_iter()
        .map(|s| {
            let mut row = s.row;
            row.session_percentage = None;
            row.page_views_percentage = None;
            row.buy_box_percentage = row.buy_box_percentage.map(|d| d.normalize());
            row.unit_session_percentage = row.unit_session_percentage.map(|d| d.normalize());
            row
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows
}
