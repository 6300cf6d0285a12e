//! Snapshot rows (FR-1, FR-2, FR-3): one per store, marketplace, day and SKU,
//! upserted in bulk and never duplicated.

use amzsync_domain::StoreId;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::bulk::{self, BulkRow, Kind, RowWriter, Table};
use crate::db::on_pool;
use crate::decimal::OptDec;
use crate::{Db, Dec, Result, Tx};

/// One SKU's FBA inventory in one marketplace on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct InventoryRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub fnsku: Option<String>,
    pub product_name: Option<String>,
    pub condition: Option<String>,
    pub fulfillable_quantity: i64,
    pub inbound_working_quantity: i64,
    pub inbound_shipped_quantity: i64,
    pub inbound_receiving_quantity: i64,
    pub reserved_quantity: i64,
    pub unfulfillable_quantity: i64,
    pub researching_quantity: i64,
    pub total_quantity: i64,
}

pub(crate) static INVENTORY: Table = Table {
    name: "inventory_snapshots",
    key: &["store_id", "marketplace_id", "date", "sku"],
    columns: &[
        ("store_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("date", Kind::Date),
        ("sku", Kind::Text),
        ("asin", Kind::Text),
        ("fnsku", Kind::Text),
        ("product_name", Kind::Text),
        ("condition", Kind::Text),
        ("fulfillable_quantity", Kind::BigInt),
        ("inbound_working_quantity", Kind::BigInt),
        ("inbound_shipped_quantity", Kind::BigInt),
        ("inbound_receiving_quantity", Kind::BigInt),
        ("reserved_quantity", Kind::BigInt),
        ("unfulfillable_quantity", Kind::BigInt),
        ("researching_quantity", Kind::BigInt),
        ("total_quantity", Kind::BigInt),
    ],
};

impl BulkRow for InventoryRow {
    const TABLE: &'static Table = &INVENTORY;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .text(Some(&self.marketplace_id))
            .date(self.date)
            .text(Some(&self.sku))
            .text(self.asin.as_deref())
            .text(self.fnsku.as_deref())
            .text(self.product_name.as_deref())
            .text(self.condition.as_deref())
            .int(self.fulfillable_quantity)
            .int(self.inbound_working_quantity)
            .int(self.inbound_shipped_quantity)
            .int(self.inbound_receiving_quantity)
            .int(self.reserved_quantity)
            .int(self.unfulfillable_quantity)
            .int(self.researching_quantity)
            .int(self.total_quantity);
    }
}

/// One SKU's Sales & Traffic in one marketplace on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BusinessMetricRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub parent_asin: Option<String>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: SalesTrafficMetrics,
}

/// The figures of one Sales & Traffic item, by SKU ([`BusinessMetricRow`])
/// or by child ASIN (`AsinTrafficRow`): the same columns in both tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SalesTrafficMetrics {
    pub currency: String,
    #[sqlx(try_from = "Dec")]
    pub ordered_product_sales: Decimal,
    #[sqlx(try_from = "OptDec")]
    pub ordered_product_sales_b2b: Option<Decimal>,
    pub units_ordered: i64,
    pub units_ordered_b2b: Option<i64>,
    pub total_order_items: i64,
    pub total_order_items_b2b: Option<i64>,
    pub sessions: i64,
    pub page_views: i64,
    #[sqlx(try_from = "OptDec")]
    pub session_percentage: Option<Decimal>,
    #[sqlx(try_from = "OptDec")]
    pub page_views_percentage: Option<Decimal>,
    #[sqlx(try_from = "OptDec")]
    pub buy_box_percentage: Option<Decimal>,
    #[sqlx(try_from = "OptDec")]
    pub unit_session_percentage: Option<Decimal>,
}

impl SalesTrafficMetrics {
    /// Writes the columns in the order of [`sales_traffic_columns!`].
    pub(crate) fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.text(Some(&self.currency))
            .dec(self.ordered_product_sales)
            .dec(self.ordered_product_sales_b2b)
            .int(self.units_ordered)
            .int(self.units_ordered_b2b)
            .int(self.total_order_items)
            .int(self.total_order_items_b2b)
            .int(self.sessions)
            .int(self.page_views)
            .dec(self.session_percentage)
            .dec(self.page_views_percentage)
            .dec(self.buy_box_percentage)
            .dec(self.unit_session_percentage);
    }
}

/// A bulk table's columns: the given key and identity columns, then those of
/// [`SalesTrafficMetrics`].
macro_rules! sales_traffic_columns {
    ($($column:expr),* $(,)?) => {
        &[
            $($column,)*
            ("currency", Kind::Text),
            ("ordered_product_sales", Kind::Numeric),
            ("ordered_product_sales_b2b", Kind::Numeric),
            ("units_ordered", Kind::BigInt),
            ("units_ordered_b2b", Kind::BigInt),
            ("total_order_items", Kind::BigInt),
            ("total_order_items_b2b", Kind::BigInt),
            ("sessions", Kind::BigInt),
            ("page_views", Kind::BigInt),
            ("session_percentage", Kind::Numeric),
            ("page_views_percentage", Kind::Numeric),
            ("buy_box_percentage", Kind::Numeric),
            ("unit_session_percentage", Kind::Numeric),
        ]
    };
}
pub(crate) use sales_traffic_columns;

pub(crate) static BUSINESS: Table = Table {
    name: "business_metric_snapshots",
    key: &["store_id", "marketplace_id", "date", "sku"],
    columns: sales_traffic_columns![
        ("store_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("date", Kind::Date),
        ("sku", Kind::Text),
        ("asin", Kind::Text),
        ("parent_asin", Kind::Text),
    ],
};

impl BulkRow for BusinessMetricRow {
    const TABLE: &'static Table = &BUSINESS;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .text(Some(&self.marketplace_id))
            .date(self.date)
            .text(Some(&self.sku))
            .text(self.asin.as_deref())
            .text(self.parent_asin.as_deref());
        self.metrics.write(w);
    }
}

/// One advertised SKU's Sponsored Products results in one marketplace on one
/// day, over all its campaigns, at the 7-day attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsMetricRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub currency: String,
    pub impressions: i64,
    pub clicks: i64,
    #[sqlx(try_from = "Dec")]
    pub spend: Decimal,
    #[sqlx(try_from = "Dec")]
    pub sales_7d: Decimal,
    pub orders_7d: i64,
    pub units_7d: i64,
}

pub(crate) static ADS: Table = Table {
    name: "ads_metric_snapshots",
    key: &["store_id", "marketplace_id", "date", "sku"],
    columns: &[
        ("store_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("date", Kind::Date),
        ("sku", Kind::Text),
        ("asin", Kind::Text),
        ("currency", Kind::Text),
        ("impressions", Kind::BigInt),
        ("clicks", Kind::BigInt),
        ("spend", Kind::Numeric),
        ("sales_7d", Kind::Numeric),
        ("orders_7d", Kind::BigInt),
        ("units_7d", Kind::BigInt),
    ],
};

impl BulkRow for AdsMetricRow {
    const TABLE: &'static Table = &ADS;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .text(Some(&self.marketplace_id))
            .date(self.date)
            .text(Some(&self.sku))
            .text(self.asin.as_deref())
            .text(Some(&self.currency))
            .int(self.impressions)
            .int(self.clicks)
            .dec(self.spend)
            .dec(self.sales_7d)
            .int(self.orders_7d)
            .int(self.units_7d);
    }
}

/// A stored row with the times it was first and last written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Stamped<T> {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub row: T,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Snapshot tables (`db.snapshots()`).
#[derive(Debug, Clone, Copy)]
pub struct Snapshots<'a>(pub(crate) &'a Db);

impl Db {
    pub fn snapshots(&self) -> Snapshots<'_> {
        Snapshots(self)
    }
}

/// The columns of an inventory snapshot, in [`InventoryRow`]'s order then
/// its stamps.
const INVENTORY_COLUMNS: &str = "store_id, marketplace_id, date, sku, asin, fnsku, product_name, condition,
    fulfillable_quantity, inbound_working_quantity, inbound_shipped_quantity,
    inbound_receiving_quantity, reserved_quantity, unfulfillable_quantity,
    researching_quantity, total_quantity, created_at, updated_at";

impl Snapshots<'_> {
    /// Upserts inventory rows inside `tx` (so the caller can commit them with
    /// the task's status).
    pub async fn upsert_inventory(tx: &mut Tx, rows: &[InventoryRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_business(tx: &mut Tx, rows: &[BusinessMetricRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_ads(tx: &mut Tx, rows: &[AdsMetricRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    /// A store's inventory on one day (in one marketplace, or all), by
    /// marketplace and SKU; archived rows included.
    pub async fn inventory_on(
        &self,
        store: StoreId,
        date: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<InventoryRow>>> {
        let sql = with_archive(
            "inventory_snapshots",
            INVENTORY.key,
            INVENTORY_COLUMNS,
            "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)",
            "date, marketplace_id, sku",
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<InventoryRow>>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(date)
            .bind(date)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// A store's current inventory: each marketplace's newest snapshot (in
    /// one marketplace, or all), by marketplace and SKU. Amazon dates a
    /// snapshot by its marketplace's day, so a store's marketplaces in
    /// different zones (Britain and Germany) can have different newest
    /// days; the store's newest day alone would leave some out. Archived
    /// days are past the retention, never current.
    pub async fn inventory_latest(
        &self,
        store: StoreId,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<InventoryRow>>> {
        let sql = format!(
            "SELECT {INVENTORY_COLUMNS} FROM inventory_snapshots s
             WHERE s.store_id = $1 AND ($2 IS NULL OR s.marketplace_id = $2)
               AND s.date = (SELECT MAX(x.date) FROM inventory_snapshots x
                             WHERE x.store_id = $1 AND x.marketplace_id = s.marketplace_id)
             ORDER BY marketplace_id, sku"
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<InventoryRow>>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(store.0)
        .bind(marketplace)
        .fetch_all(p)
        .await)?;
        Ok(rows)
    }

    /// A store's Sales & Traffic rows between two days (both included), in one
    /// marketplace or all; archived rows included.
    pub async fn business_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<BusinessMetricRow>>> {
        let sql = with_archive(
            "business_metric_snapshots",
            BUSINESS.key,
            "store_id, marketplace_id, date, sku, asin, parent_asin, currency,
                ordered_product_sales, ordered_product_sales_b2b, units_ordered, units_ordered_b2b,
                total_order_items, total_order_items_b2b, sessions, page_views, session_percentage,
                page_views_percentage, buy_box_percentage, unit_session_percentage,
                created_at, updated_at",
            "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)",
            "date, marketplace_id, sku",
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<BusinessMetricRow>>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// A store's advertising rows between two days (both included), in one
    /// marketplace or all; archived rows included.
    pub async fn ads_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<AdsMetricRow>>> {
        let sql = with_archive(
            "ads_metric_snapshots",
            ADS.key,
            "store_id, marketplace_id, date, sku, asin, currency, impressions, clicks,
                spend, sales_7d, orders_7d, units_7d, created_at, updated_at",
            "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)",
            "date, marketplace_id, sku",
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<AdsMetricRow>>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}

/// A read of `table` and its archive twin. A key present in both (a day
/// re-synced after it was archived) is read from the live table only.
pub(crate) fn with_archive(table: &str, key: &[&str], columns: &str, condition: &str, order: &str) -> String {
    format!(
        "SELECT {columns} FROM ({union}) u ORDER BY {order}",
        union = archive_union(table, key, columns, condition)
    )
}

/// The rows of `table` and its archive twin matching `condition`, unordered,
/// for use as a subquery (aggregates read it like one table).
pub(crate) fn archive_union(table: &str, key: &[&str], columns: &str, condition: &str) -> String {
    let same_key: Vec<String> = key.iter().map(|k| format!("l.{k} = a.{k}")).collect();
    format!(
        "SELECT {columns} FROM {table} WHERE {condition}
         UNION ALL
         SELECT {columns} FROM {table}_archive a WHERE {condition}
           AND NOT EXISTS (SELECT 1 FROM {table} l WHERE {same})",
        same = same_key.join(" AND "),
    )
}
