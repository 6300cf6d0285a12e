//! Archival (FR-9): rows older than the retention move from the snapshot and
//! detail tables to their `_archive` twins, one transaction per batch, so a
//! row is always in exactly one of the two and reads that include the archive
//! (`db.snapshots()`) never miss it.
//!
//! Each batch is `INSERT INTO <table>_archive … SELECT` then `DELETE` of the
//! same rows, in one transaction. The two statements must see the same rows:
//! SQLite's `BEGIN IMMEDIATE` already excludes other writers, and on
//! PostgreSQL the transaction runs at `REPEATABLE READ`, so both statements
//! read one snapshot and a concurrent change to a selected row aborts the
//! batch (to be moved on the next run) instead of deleting a row that was not
//! archived. Generated columns (`inventory_snapshots.inbound_quantity`) are
//! never inserted: the archive computes its own.

use chrono::NaiveDate;

use crate::db::on_tx;
use crate::{Db, Engine, Result};

/// A table with an `_archive` twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArchivedTable {
    InventorySnapshots,
    BusinessMetricSnapshots,
    AdsMetricSnapshots,
    AdsCampaignMetrics,
    AdsAdGroupMetrics,
    AdsTargetingMetrics,
    AdsSearchTermMetrics,
    AsinTrafficSnapshots,
    InventoryLedgerDaily,
}

const STAMPS: &[&str] = &["created_at", "updated_at"];

impl ArchivedTable {
    /// Every archived table, snapshots first.
    pub const ALL: [ArchivedTable; 9] = [
        ArchivedTable::InventorySnapshots,
        ArchivedTable::BusinessMetricSnapshots,
        ArchivedTable::AdsMetricSnapshots,
        ArchivedTable::AdsCampaignMetrics,
        ArchivedTable::AdsAdGroupMetrics,
        ArchivedTable::AdsTargetingMetrics,
        ArchivedTable::AdsSearchTermMetrics,
        ArchivedTable::AsinTrafficSnapshots,
        ArchivedTable::InventoryLedgerDaily,
    ];

    /// The live table's name; the archive is `<name>_archive`.
    pub fn name(self) -> &'static str {
        match self {
            ArchivedTable::InventorySnapshots => "inventory_snapshots",
            ArchivedTable::BusinessMetricSnapshots => "business_metric_snapshots",
            ArchivedTable::AdsMetricSnapshots => "ads_metric_snapshots",
            ArchivedTable::AdsCampaignMetrics => "ads_campaign_metrics",
            ArchivedTable::AdsAdGroupMetrics => "ads_ad_group_metrics",
            ArchivedTable::AdsTargetingMetrics => "ads_targeting_metrics",
            ArchivedTable::AdsSearchTermMetrics => "ads_search_term_metrics",
            ArchivedTable::AsinTrafficSnapshots => "asin_traffic_snapshots",
            ArchivedTable::InventoryLedgerDaily => "inventory_ledger_daily",
        }
    }

    /// The primary key, as in the migrations.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            ArchivedTable::InventorySnapshots
            | ArchivedTable::BusinessMetricSnapshots
            | ArchivedTable::AdsMetricSnapshots => &["store_id", "marketplace_id", "date", "sku"],
            ArchivedTable::AdsCampaignMetrics => &["store_id", "profile_id", "date", "campaign_id"],
            ArchivedTable::AdsAdGroupMetrics => {
                &["store_id", "profile_id", "date", "campaign_id", "ad_group_id"]
            }
            ArchivedTable::AdsTargetingMetrics => &[
                "store_id",
                "profile_id",
                "date",
                "campaign_id",
                "ad_group_id",
                "keyword_id",
            ],
            ArchivedTable::AdsSearchTermMetrics => &[
                "store_id",
                "profile_id",
                "date",
                "campaign_id",
                "ad_group_id",
                "keyword_id",
                "search_term",
            ],
            ArchivedTable::AsinTrafficSnapshots => &["store_id", "marketplace_id", "date", "child_asin"],
            ArchivedTable::InventoryLedgerDaily => &[
                "store_id",
                "marketplace_id",
                "date",
                "sku",
                "fnsku",
                "disposition",
                "location",
            ],
        }
    }

    /// The stored columns that are not part of the key and not generated,
    /// without `created_at` and `updated_at`. A test checks these lists
    /// against both schemas, so a column added by a migration cannot be
    /// silently dropped by archival.
    fn values(self) -> &'static [&'static str] {
        match self {
            ArchivedTable::InventorySnapshots => &[
                "asin",
                "fnsku",
                "product_name",
                "condition",
                "fulfillable_quantity",
                "inbound_working_quantity",
                "inbound_shipped_quantity",
                "inbound_receiving_quantity",
                "reserved_quantity",
                "unfulfillable_quantity",
                "researching_quantity",
                "total_quantity",
            ],
            ArchivedTable::BusinessMetricSnapshots => &[
                "asin",
                "parent_asin",
                "currency",
                "ordered_product_sales",
                "ordered_product_sales_b2b",
                "units_ordered",
                "units_ordered_b2b",
                "total_order_items",
                "total_order_items_b2b",
                "sessions",
                "page_views",
                "session_percentage",
                "page_views_percentage",
                "buy_box_percentage",
                "unit_session_percentage",
            ],
            ArchivedTable::AdsMetricSnapshots => &[
                "asin",
                "currency",
                "impressions",
                "clicks",
                "spend",
                "sales_7d",
                "orders_7d",
                "units_7d",
            ],
            ArchivedTable::AdsCampaignMetrics => &[
                "marketplace_id",
                "campaign_name",
                "campaign_status",
                "budget_amount",
                "budget_type",
                "currency",
                "impressions",
                "clicks",
                "spend",
                "sales_7d",
                "orders_7d",
                "units_7d",
            ],
            ArchivedTable::AdsAdGroupMetrics => &[
                "marketplace_id",
                "campaign_name",
                "ad_group_name",
                "ad_status",
                "currency",
                "impressions",
                "clicks",
                "spend",
                "sales_7d",
                "orders_7d",
                "units_7d",
            ],
            ArchivedTable::AdsTargetingMetrics => &[
                "marketplace_id",
                "keyword",
                "keyword_type",
                "match_type",
                "targeting",
                "currency",
                "impressions",
                "clicks",
                "spend",
                "sales_7d",
                "orders_7d",
                "units_7d",
            ],
            ArchivedTable::AdsSearchTermMetrics => &[
                "marketplace_id",
                "keyword",
                "match_type",
                "currency",
                "impressions",
                "clicks",
                "spend",
                "sales_7d",
                "orders_7d",
                "units_7d",
            ],
            ArchivedTable::AsinTrafficSnapshots => &[
                "parent_asin",
                "currency",
                "ordered_product_sales",
                "ordered_product_sales_b2b",
                "units_ordered",
                "units_ordered_b2b",
                "total_order_items",
                "total_order_items_b2b",
                "sessions",
                "page_views",
                "session_percentage",
                "page_views_percentage",
                "buy_box_percentage",
                "unit_session_percentage",
            ],
            ArchivedTable::InventoryLedgerDaily => &[
                "asin",
                "title",
                "starting_warehouse_balance",
                "in_transit_between_warehouses",
                "receipts",
                "customer_shipments",
                "customer_returns",
                "vendor_returns",
                "warehouse_transfer_in_out",
                "found",
                "lost",
                "damaged",
                "disposed",
                "other_events",
                "ending_warehouse_balance",
                "unknown_events",
            ],
        }
    }

    /// Every column archival copies (key, values, stamps), in that order.
    pub fn copied_columns(self) -> Vec<&'static str> {
        let mut columns = self.key().to_vec();
        columns.extend_from_slice(self.values());
        columns.extend_from_slice(STAMPS);
        columns
    }

    /// `INSERT … SELECT` of one batch into the archive. A key already archived
    /// (a day synced again after it was archived, then archived again) takes
    /// the live row's values: the live row is the newer one. `$1` cutoff,
    /// `$2` batch size, `$3` archived_at.
    fn insert_sql(self) -> String {
        let table = self.name();
        let key = self.key().join(", ");
        let columns = self.copied_columns().join(", ");
        let updates = self
            .values()
            .iter()
            .chain(STAMPS)
            .chain(&["archived_at"])
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {table}_archive ({columns}, archived_at)
             SELECT {columns}, $3 FROM {table} WHERE ({key}) IN ({batch})
             ON CONFLICT ({key}) DO UPDATE SET {updates}",
            batch = self.batch_sql()
        )
    }

    /// `DELETE` of the same batch. `$1` cutoff, `$2` batch size.
    fn delete_sql(self) -> String {
        let table = self.name();
        let key = self.key().join(", ");
        format!(
            "DELETE FROM {table} WHERE ({key}) IN ({batch})",
            batch = self.batch_sql()
        )
    }

    /// The keys of the next batch: the oldest rows first, so an interrupted
    /// run leaves a clean boundary by date.
    fn batch_sql(self) -> String {
        let table = self.name();
        let key = self.key().join(", ");
        format!("SELECT {key} FROM {table} WHERE date < $1 ORDER BY {key} LIMIT $2")
    }
}

/// Archival queries (`db.archive()`).
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a>(pub(crate) &'a Db);

impl Db {
    pub fn archive(&self) -> Archive<'_> {
        Archive(self)
    }
}

impl Archive<'_> {
    /// Moves up to `batch` rows of `table` dated before `cutoff` to its
    /// archive, in one transaction. Returns the rows moved: fewer than
    /// `batch` means nothing older is left.
    pub async fn archive_batch(&self, table: ArchivedTable, cutoff: NaiveDate, batch: u32) -> Result<u64> {
        let insert = table.insert_sql();
        let delete = table.delete_sql();
        let limit = i64::from(batch.max(1));
        let mut tx = self.0.begin().await?;
        let archived_at = tx.now;
        if self.0.engine() == Engine::Postgres {
            // Must be the transaction's first statement (see the module doc).
            on_tx!(tx, c => sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(c)
                .await
                .map(drop))?;
        }
        let inserted = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(cutoff)
            .bind(limit)
            .bind(archived_at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let deleted = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(cutoff)
            .bind(limit)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if inserted != deleted {
            // Cannot happen with one snapshot for both statements; if it
            // did, deleting without archiving would lose data: undo.
            tx.rollback().await?;
            return Err(crate::Error::InvalidState {
                message: format!(
                    "archiving {}: {inserted} rows copied but {deleted} selected for deletion",
                    table.name()
                ),
            });
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Moves every row of `table` dated before `cutoff` to its archive, `batch`
    /// rows per transaction. Returns the rows moved.
    pub async fn archive_older_than(
        &self,
        table: ArchivedTable,
        cutoff: NaiveDate,
        batch: u32,
    ) -> Result<u64> {
        let mut moved = 0;
        loop {
            let n = self.archive_batch(table, cutoff, batch).await?;
            moved += n;
            if n < u64::from(batch.max(1)) {
                return Ok(moved);
            }
        }
    }

    /// Rows of `table` (live, not archived) dated before `cutoff`: what the
    /// next archival would move.
    pub async fn count_older_than(&self, table: ArchivedTable, cutoff: NaiveDate) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE date < $1", table.name());
        let n: i64 = crate::db::on_pool!(self.0, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(cutoff)
            .fetch_one(p)
            .await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
