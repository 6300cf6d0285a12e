//! Report kinds the engine ingests: what to ask Amazon for, and how its rows
//! become snapshot rows. `amazon` owns the wire format and the parsers; these
//! modules only convert its types into ours (STYLE §2).

use amzsync_db::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetricRow, AdsSearchTermRow, AdsTargetingRow, AsinTrafficRow,
    BusinessMetricRow, InventoryRow, LedgerRow, Snapshots, Tx,
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

/// The (store, marketplace, day) a business unit's rows replace; `asins`
/// when its child-ASIN report was fetched too (one Amazon cancelled leaves
/// that day's child-ASIN rows as they were).
#[derive(Debug)]
pub(crate) struct BusinessDay {
    pub(crate) store: amzsync_domain::StoreId,
    pub(crate) marketplace_id: String,
    pub(crate) date: chrono::NaiveDate,
    pub(crate) asins: bool,
}

/// The converted rows of one report, for the table they go to.
#[derive(Debug)]
pub(crate) enum Rows {
    Inventory(Vec<InventoryRow>),
    /// A day's SKU rows and its child-ASIN rows, stored together, replacing
    /// what was stored for that day (see `Snapshots::clear_business_day`).
    Business {
        day: BusinessDay,
        skus: Vec<BusinessMetricRow>,
        asins: Vec<AsinTrafficRow>,
    },
    Ledger(Vec<LedgerRow>),
    AdsProducts(Vec<AdsMetricRow>),
    AdsCampaigns(Vec<AdsCampaignRow>),
    AdsAdGroups(Vec<AdsAdGroupRow>),
    AdsTargeting(Vec<AdsTargetingRow>),
    AdsSearchTerms(Vec<AdsSearchTermRow>),
}

impl Rows {
    pub(crate) fn len(&self) -> usize {
        match self {
            Rows::Inventory(r) => r.len(),
            Rows::Business { skus, asins, .. } => skus.len() + asins.len(),
            Rows::Ledger(r) => r.len(),
            Rows::AdsProducts(r) => r.len(),
            Rows::AdsCampaigns(r) => r.len(),
            Rows::AdsAdGroups(r) => r.len(),
            Rows::AdsTargeting(r) => r.len(),
            Rows::AdsSearchTerms(r) => r.len(),
        }
    }

    /// Upserts the rows inside `tx`, `batch` rows per statement.
    pub(crate) async fn upsert(&self, tx: &mut Tx, batch: usize) -> amzsync_db::Result<()> {
        match self {
            Rows::Inventory(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_inventory(tx, chunk).await?;
                }
            }
            Rows::Business { day, skus, asins } => {
                Snapshots::clear_business_day(tx, day.store, &day.marketplace_id, day.date, day.asins)
                    .await?;
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
            Rows::AdsProducts(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads(tx, chunk).await?;
                }
            }
            Rows::AdsCampaigns(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_campaigns(tx, chunk).await?;
                }
            }
            Rows::AdsAdGroups(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_ad_groups(tx, chunk).await?;
                }
            }
            Rows::AdsTargeting(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_targeting(tx, chunk).await?;
                }
            }
            Rows::AdsSearchTerms(rows) => {
                for chunk in rows.chunks(batch) {
                    Snapshots::upsert_ads_search_terms(tx, chunk).await?;
                }
            }
        }
        Ok(())
    }
}
