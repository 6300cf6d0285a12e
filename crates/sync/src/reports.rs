//! Report kinds the engine ingests: what to ask Amazon for, and how its rows
//! become snapshot rows. `amazon` owns the wire format and the parsers; these
//! modules only convert its types into ours (STYLE §2).

use amzsync_db::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetricRow, AdsRange, AdsSearchTermRow, AdsTable, AdsTargetingRow,
    AsinTrafficRow, BusinessMetricRow, DayTable, InventoryRow, LedgerRow, Snapshots, Tx,
};

pub(crate) mod advertising;
pub(crate) mod business;
pub(crate) mod inventory;
pub(crate) mod ledger;

/// The rows of one report document, converted, and the reasons the others
/// were skipped (malformed in the document, or unusable for us).
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    pub(crate) rows: Vec<T>,
    pub(crate) skipped: Vec<String>,
}

impl<T> Default for Fetched<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

impl<T> Fetched<T> {
    /// The rows as one batch of their table.
    pub(crate) fn map(self, rows: impl FnOnce(Vec<T>) -> Rows) -> Batch {
        Batch {
            rows: rows(self.rows),
            skipped: self.skipped,
        }
    }
}

/// The rows of one report, ready for their table, and the reasons others
/// were skipped.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) rows: Rows,
    pub(crate) skipped: Vec<String>,
}

/// The (store, marketplace, day) whose stored rows a report replaces (see
/// `Snapshots::clear_day`).
#[derive(Debug)]
pub(crate) struct ReportDay {
    pub(crate) store: amzsync_domain::StoreId,
    pub(crate) marketplace_id: String,
    pub(crate) date: chrono::NaiveDate,
}

impl ReportDay {
    async fn clear(&self, tx: &mut Tx, table: DayTable) -> amzsync_db::Result<()> {
        Snapshots::clear_day(tx, table, self.store, &self.marketplace_id, self.date).await
    }
}

/// The converted rows of one report, for the table they go to.
#[derive(Debug)]
pub(crate) enum Rows {
    /// A marketplace's snapshot of a day, replacing what was stored for it.
    Inventory {
        day: ReportDay,
        rows: Vec<InventoryRow>,
    },
    /// A day's SKU rows and its child-ASIN rows, stored together, replacing
    /// what was stored for that day; the child-ASIN rows only when their
    /// report was fetched (`with_asins`: one Amazon cancelled leaves them).
    Business {
        day: ReportDay,
        with_asins: bool,
        skus: Vec<BusinessMetricRow>,
        asins: Vec<AsinTrafficRow>,
    },
    Ledger(Vec<LedgerRow>),
    /// An Ads report's rows, replacing what was stored for its profile and
    /// days (`Snapshots::clear_ads`).
    AdsProducts {
        range: AdsRange,
        rows: Vec<AdsMetricRow>,
    },
    AdsCampaigns {
        range: AdsRange,
        rows: Vec<AdsCampaignRow>,
    },
    AdsAdGroups {
        range: AdsRange,
        rows: Vec<AdsAdGroupRow>,
    },
    AdsTargeting {
        range: AdsRange,
        rows: Vec<AdsTargetingRow>,
    },
    AdsSearchTerms {
        range: AdsRange,
        rows: Vec<AdsSearchTermRow>,
    },
}

impl Rows {
    pub(crate) fn len(&self) -> usize {
        match self {
            Rows::Inventory { rows, .. } => rows.len(),
            Rows::Business { skus, asins, .. } => skus.len() + asins.len(),
            Rows::Ledger(r) => r.len(),
            Rows::AdsProducts { rows, .. } => rows.len(),
            Rows::AdsCampaigns { rows, .. } => rows.len(),
            Rows::AdsAdGroups { rows, .. } => rows.len(),
            Rows::AdsTargeting { rows, .. } => rows.len(),
            Rows::AdsSearchTerms { rows, .. } => rows.len(),
        }
    }

    /// Upserts the rows inside `tx`, `batch` rows per statement.
    pub(crate) async fn upsert(&self, tx: &mut Tx, batch: usize) -> amzsync_db::Result<()> {
        match self {
            Rows::Inventory { day, rows } => {
                day.clear(tx, DayTable::Inventory).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_inventory(tx, chunk).await?;
                }
            }
            Rows::Business {
                day,
                with_asins,
                skus,
                asins,
            } => {
                day.clear(tx, DayTable::Business).await?;
                if *with_asins {
                    day.clear(tx, DayTable::AsinTraffic).await?;
                }
                for chunk in skus.chunks(batch) {
                    Snapshots::upsert_business(tx, chunk).await?;
                }
                for chunk in asins.chunks(batch) {
                    Snapshots::upsert_asin_traffic(tx, chunk).await?;
                }
            }
            Rows::Ledger(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ledger(tx, chunk).await?;
                }
            }
            Rows::AdsProducts { range, rows } => {
                Snapshots::clear_ads(tx, AdsTable::Products, range).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads(tx, chunk).await?;
                }
            }
            Rows::AdsCampaigns { range, rows } => {
                Snapshots::clear_ads(tx, AdsTable::Campaigns, range).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_campaigns(tx, chunk).await?;
                }
            }
            Rows::AdsAdGroups { range, rows } => {
                Snapshots::clear_ads(tx, AdsTable::AdGroups, range).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_ad_groups(tx, chunk).await?;
                }
            }
            Rows::AdsTargeting { range, rows } => {
                Snapshots::clear_ads(tx, AdsTable::Targeting, range).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_targeting(tx, chunk).await?;
                }
            }
            Rows::AdsSearchTerms { range, rows } => {
                Snapshots::clear_ads(tx, AdsTable::SearchTerms, range).await?;
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_search_terms(tx, chunk).await?;
                }
            }
        }
        Ok(())
    }
}
