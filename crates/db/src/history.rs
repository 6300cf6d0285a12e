//! Two histories beside the snapshots: Sales & Traffic by child ASIN (FR-2,
//! the CHILD-granularity report of a business unit) and the daily inventory
//! ledger (FR-1's backfill). Both are upserted in bulk by natural key and
//! archived like the snapshots.

use amzsync_domain::StoreId;
use chrono::NaiveDate;
use serde::Serialize;

use crate::ads::{AD_GROUPS, CAMPAIGNS, SEARCH_TERMS, TARGETING};
use crate::bulk::{self, BulkRow, Kind, RowWriter, Table};
use crate::db::{on_pool, on_tx};
use crate::snapshots::{
    ADS, BUSINESS, INVENTORY, SalesTrafficMetrics, Stamped, sales_traffic_columns, with_archive,
};
use crate::{Result, Snapshots, Tx};

/// One child ASIN's Sales & Traffic in one marketplace on one day,
/// including ASINs with traffic but no orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AsinTrafficRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub child_asin: String,
    pub parent_asin: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: SalesTrafficMetrics,
}

pub(crate) static ASIN_TRAFFIC: Table = Table {
    name: "asin_traffic_snapshots",
    key: &["store_id", "marketplace_id", "date", "child_asin"],
    columns: sales_traffic_columns![
        ("store_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("date", Kind::Date),
        ("child_asin", Kind::Text),
        ("parent_asin", Kind::Text),
    ],
};

impl BulkRow for AsinTrafficRow {
    const TABLE: &'static Table = &ASIN_TRAFFIC;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .text(Some(&self.marketplace_id))
            .date(self.date)
            .text(Some(&self.child_asin))
            .text(Some(&self.parent_asin));
        self.metrics.write(w);
    }
}

/// One row of the daily inventory ledger: one SKU's units of one FNSKU,
/// disposition and location over one day. Outflows are negative; a movement
/// Amazon left empty is `None`. `fnsku` and `location` are `""` when Amazon
/// left them empty (they are part of the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LedgerRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub fnsku: String,
    pub disposition: String,
    pub location: String,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub starting_warehouse_balance: i64,
    pub in_transit_between_warehouses: Option<i64>,
    pub receipts: Option<i64>,
    pub customer_shipments: Option<i64>,
    pub customer_returns: Option<i64>,
    pub vendor_returns: Option<i64>,
    pub warehouse_transfer_in_out: Option<i64>,
    pub found: Option<i64>,
    pub lost: Option<i64>,
    pub damaged: Option<i64>,
    pub disposed: Option<i64>,
    pub other_events: Option<i64>,
    pub ending_warehouse_balance: i64,
    pub unknown_events: Option<i64>,
}

pub(crate) static LEDGER: Table = Table {
    name: "inventory_ledger_daily",
    key: &[
        "store_id",
        "marketplace_id",
        "date",
        "sku",
        "fnsku",
        "disposition",
        "location",
    ],
    columns: &[
        ("store_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("date", Kind::Date),
        ("sku", Kind::Text),
        ("fnsku", Kind::Text),
        ("disposition", Kind::Text),
        ("location", Kind::Text),
        ("asin", Kind::Text),
        ("title", Kind::Text),
        ("starting_warehouse_balance", Kind::BigInt),
        ("in_transit_between_warehouses", Kind::BigInt),
        ("receipts", Kind::BigInt),
        ("customer_shipments", Kind::BigInt),
        ("customer_returns", Kind::BigInt),
        ("vendor_returns", Kind::BigInt),
        ("warehouse_transfer_in_out", Kind::BigInt),
        ("found", Kind::BigInt),
        ("lost", Kind::BigInt),
        ("damaged", Kind::BigInt),
        ("disposed", Kind::BigInt),
        ("other_events", Kind::BigInt),
        ("ending_warehouse_balance", Kind::BigInt),
        ("unknown_events", Kind::BigInt),
    ],
};

impl BulkRow for LedgerRow {
    const TABLE: &'static Table = &LEDGER;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .text(Some(&self.marketplace_id))
            .date(self.date)
            .text(Some(&self.sku))
            .text(Some(&self.fnsku))
            .text(Some(&self.disposition))
            .text(Some(&self.location))
            .text(self.asin.as_deref())
            .text(self.title.as_deref())
            .int(self.starting_warehouse_balance)
            .int(self.in_transit_between_warehouses)
            .int(self.receipts)
            .int(self.customer_shipments)
            .int(self.customer_returns)
            .int(self.vendor_returns)
            .int(self.warehouse_transfer_in_out)
            .int(self.found)
            .int(self.lost)
            .int(self.damaged)
            .int(self.disposed)
            .int(self.other_events)
            .int(self.ending_warehouse_balance)
            .int(self.unknown_events);
    }
}

/// The columns of a table, comma-separated, then the stamps.
fn stamped_columns(table: &Table) -> String {
    let mut columns: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    columns.extend(["created_at", "updated_at"]);
    columns.join(", ")
}

/// The snapshot tables whose rows of a (store, marketplace, day) one
/// report replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayTable {
    Inventory,
    Business,
    AsinTraffic,
}

impl DayTable {
    fn name(self) -> &'static str {
        match self {
            DayTable::Inventory => INVENTORY.name,
            DayTable::Business => BUSINESS.name,
            DayTable::AsinTraffic => ASIN_TRAFFIC.name,
        }
    }
}

/// The Ads tables whose rows of a (store, profile, days) one report
/// replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdsTable {
    /// spAdvertisedProduct, summed per SKU: keyed by marketplace, not profile.
    Products,
    Campaigns,
    AdGroups,
    Targeting,
    SearchTerms,
}

impl AdsTable {
    fn name(self) -> &'static str {
        match self {
            AdsTable::Products => ADS.name,
            AdsTable::Campaigns => CAMPAIGNS.name,
            AdsTable::AdGroups => AD_GROUPS.name,
            AdsTable::Targeting => TARGETING.name,
            AdsTable::SearchTerms => SEARCH_TERMS.name,
        }
    }
}

/// What an Ads report covers: one profile (in its marketplace) over a range
/// of days, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsRange {
    pub store: StoreId,
    pub profile_id: i64,
    pub marketplace_id: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Snapshots<'_> {
    /// Deletes the rows of `range` from `table` inside `tx`, before the
    /// report covering it is stored again: a re-pulled report is the whole
    /// range, so a campaign, keyword or search term Amazon no longer lists
    /// for a day (restated to nothing) must not outlive it.
    pub async fn clear_ads(tx: &mut Tx, table: AdsTable, range: &AdsRange) -> Result<()> {
        // The per-SKU sums are keyed by marketplace, the detail rows by profile.
        let column = if table == AdsTable::Products {
            "marketplace_id"
        } else {
            "profile_id"
        };
        let sql = format!(
            "DELETE FROM {} WHERE store_id = $1 AND {column} = $2 AND date BETWEEN $3 AND $4",
            table.name()
        );
        on_tx!(tx, c => {
            let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(range.store.0);
            let query = if table == AdsTable::Products {
                query.bind(&range.marketplace_id)
            } else {
                query.bind(range.profile_id)
            };
            query.bind(range.start).bind(range.end).execute(&mut *c).await.map(drop)
        })?;
        Ok(())
    }

    /// Deletes one marketplace's rows of a day from `table` inside `tx`,
    /// before that day's report is stored again. A report is the whole day:
    /// what it no longer lists (Amazon leaves out a SKU without orders, so a
    /// SKU restated to no sales; a SKU gone from the inventory) must not
    /// outlive it, which upserting alone would allow.
    pub async fn clear_day(
        tx: &mut Tx,
        table: DayTable,
        store: StoreId,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE store_id = $1 AND marketplace_id = $2 AND date = $3",
            table.name()
        );
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(marketplace_id)
            .bind(date)
            .execute(&mut *c)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn upsert_asin_traffic(tx: &mut Tx, rows: &[AsinTrafficRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_ledger(tx: &mut Tx, rows: &[LedgerRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    /// A store's child-ASIN rows between two days (both included), in one
    /// marketplace or all, by day, marketplace and ASIN; archived rows
    /// included.
    pub async fn asin_traffic_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<AsinTrafficRow>>> {
        let sql = with_archive(
            ASIN_TRAFFIC.name,
            ASIN_TRAFFIC.key,
            &stamped_columns(&ASIN_TRAFFIC),
            "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)",
            "date, marketplace_id, child_asin",
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<AsinTrafficRow>>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// A store's ledger rows between two days (both included), in one
    /// marketplace or all, in key order; archived rows included.
    pub async fn ledger_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<Stamped<LedgerRow>>> {
        let sql = with_archive(
            LEDGER.name,
            LEDGER.key,
            &stamped_columns(&LEDGER),
            "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)",
            "date, marketplace_id, sku, fnsku, disposition, location",
        );
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Stamped<LedgerRow>>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}
