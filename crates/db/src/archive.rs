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

use crate::bulk::Table;
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

    /// The table as the bulk path writes it: its name, natural key and
    /// columns are the ones archival copies.
    fn table(self) -> &'static Table {
        match self {
            ArchivedTable::InventorySnapshots => &crate::snapshots::INVENTORY,
            ArchivedTable::BusinessMetricSnapshots => &crate::snapshots::BUSINESS,
            ArchivedTable::AdsMetricSnapshots => &crate::snapshots::ADS,
            ArchivedTable::AdsCampaignMetrics => &crate::ads::CAMPAIGNS,
            ArchivedTable::AdsAdGroupMetrics => &crate::ads::AD_GROUPS,
            ArchivedTable::AdsTargetingMetrics => &crate::ads::TARGETING,
            ArchivedTable::AdsSearchTermMetrics => &crate::ads::SEARCH_TERMS,
            ArchivedTable::AsinTrafficSnapshots => &crate::history::ASIN_TRAFFIC,
            ArchivedTable::InventoryLedgerDaily => &crate::history::LEDGER,
        }
    }

    /// The live table's name; the archive is `<name>_archive`.
    pub fn name(self) -> &'static str {
        self.table().name
    }

    /// The primary key, as in the migrations.
    pub fn key(self) -> &'static [&'static str] {
        self.table().key
    }

    /// The stored columns that are not part of the key and not generated,
    /// without `created_at` and `updated_at`: every column the bulk path
    /// writes beyond the key. A test checks them against both schemas, so a
    /// column added by a migration cannot be silently dropped by archival.
    fn values(self) -> Vec<&'static str> {
        let table = self.table();
        table
            .columns
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !table.key.contains(name))
            .collect()
    }

    /// Every column archival copies (key, values, stamps), in that order.
    pub fn copied_columns(self) -> Vec<&'static str> {
        let mut columns = self.key().to_vec();
        columns.extend(self.values());
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
