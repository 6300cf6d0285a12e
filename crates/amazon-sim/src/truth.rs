//! Ground truth: the figures the simulated Amazon holds for a seller, exactly as a
//! correct sync must end up storing them. Reports are rendered from the same
//! functions, so comparing synced rows with these is a complete check.

pub(crate) mod ads;
pub(crate) mod catalog;
pub(crate) mod inventory;
pub(crate) mod ledger;
pub(crate) mod sales_traffic;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::Error;
use crate::marketplace::Marketplace;
use crate::server::Shared;

pub use ads::{AdsMetrics, AdsProfile, AdsRow, Conversions};
pub use catalog::Product;
pub use inventory::InventoryRow;
pub use ledger::LedgerRow;
pub use sales_traffic::{AsinGranularity, DateTotals, SalesAndTrafficDay, SkuSalesAndTraffic};

/// Read access to a simulator's ground truth. Obtained from
/// [`crate::Simulator::truth`]; cheap to clone.
///
/// Figures of recent days are restated as simulated time passes, as Amazon's are
/// (PROTOCOL.md §4.4.4, §5.8): sales and traffic settle over
/// [`crate::Config::restatement_days`], Ads attribution grows for 30 days after
/// the click. The truth answers as of the simulated now, or as of another
/// instant through [`Truth::as_of`].
#[derive(Debug, Clone)]
pub struct Truth {
    pub(crate) shared: Arc<Shared>,
    /// `None` reads the clock at each call.
    as_of: Option<DateTime<Utc>>,
}

impl Truth {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, as_of: None }
    }

    /// The same truth as it stood at `instant`: what a report generated then
    /// contained. Later instants see recent days restated.
    #[must_use]
    pub fn as_of(&self, instant: DateTime<Utc>) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            as_of: Some(instant),
        }
    }

    /// The instant this truth answers for.
    pub fn now(&self) -> DateTime<Utc> {
        self.as_of.unwrap_or_else(|| self.shared.clock.now())
    }

    /// Whole days from `date` to the UTC date of [`Truth::now`]: how long the
    /// figures of `date` have had to settle.
    fn age(&self, date: NaiveDate) -> i64 {
        (self.now().date_naive() - date).num_days()
    }

    /// The seller's catalog in a marketplace.
    pub fn products(&self, seller: &str, marketplace_id: &str) -> Result<Vec<Product>, Error> {
        Ok(self.catalog(seller, marketplace_id)?.iter().collect())
    }

    /// The seller's catalog in a marketplace, generated on demand.
    pub(crate) fn catalog(&self, seller: &str, marketplace_id: &str) -> Result<catalog::Catalog, Error> {
        let (marketplace, count) = self.listing(seller, marketplace_id)?;
        Ok(catalog::Catalog::new(
            self.shared.config.seed,
            seller,
            marketplace,
            count,
        ))
    }

    /// The FBA inventory snapshot a `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA` report
    /// requested now would contain: the snapshot of the marketplace's date on
    /// the simulated clock.
    pub fn inventory(&self, seller: &str, marketplace_id: &str) -> Result<Vec<InventoryRow>, Error> {
        let today = self.today_in(marketplace_id)?;
        self.inventory_on(seller, marketplace_id, today)
    }

    /// The marketplace's date at [`Truth::now`].
    pub fn today_in(&self, marketplace_id: &str) -> Result<NaiveDate, Error> {
        crate::marketplace::Marketplace::by_id(marketplace_id)
            .map(|m| m.local_date(self.now()))
            .ok_or_else(|| Error::UnknownMarketplace(marketplace_id.to_owned()))
    }

    /// The FBA inventory snapshot of a given date of the marketplace.
    pub fn inventory_on(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> Result<Vec<InventoryRow>, Error> {
        let products = self.catalog(seller, marketplace_id)?.iter();
        Ok(inventory::snapshot(
            self.shared.config.seed,
            seller,
            marketplace_id,
            date,
            products,
        ))
    }

    /// One day of sales and traffic at SKU granularity, as a one-day
    /// `GET_SALES_AND_TRAFFIC_REPORT` requested now contains it: provisional for
    /// the last [`crate::Config::restatement_days`] days, final before.
    pub fn sales_and_traffic(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> Result<SalesAndTrafficDay, Error> {
        let (marketplace, _) = self.listing(seller, marketplace_id)?;
        let all = self.all_skus(seller, marketplace_id, date)?;
        let totals = sales_traffic::totals(self.shared.config.seed, seller, marketplace_id, date, &all);
        Ok(SalesAndTrafficDay {
            date,
            currency_code: marketplace.currency.to_owned(),
            totals,
            skus: all.into_iter().filter(|s| s.units_ordered > 0).collect(),
        })
    }

    /// The `salesAndTrafficByAsin` rows of a one-day report at `granularity`. At
    /// CHILD granularity `sku` is empty; at PARENT `child_asin` and `sku` are.
    /// [`Truth::sales_and_traffic`] is the SKU granularity with the day's totals.
    pub fn sales_and_traffic_by_asin(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
        granularity: AsinGranularity,
    ) -> Result<Vec<SkuSalesAndTraffic>, Error> {
        let all = self.all_skus(seller, marketplace_id, date)?;
        Ok(sales_traffic::by_asin(&all, granularity))
    }

    /// The inventory ledger of one day (`GET_LEDGER_SUMMARY_VIEW_DATA`, daily,
    /// COUNTRY): starting balances are the MYI snapshot of `date`, ending balances
    /// that of the next day.
    pub fn ledger(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> Result<Vec<LedgerRow>, Error> {
        let (marketplace, _) = self.listing(seller, marketplace_id)?;
        let seed = self.shared.config.seed;
        let mut rows = Vec::new();
        for product in self.catalog(seller, marketplace_id)?.iter() {
            let sku = self.ledger_sku(seller, marketplace_id, date, &product);
            ledger::sku_rows(
                seed,
                date,
                marketplace.country,
                (&sku.0, &sku.1, &sku.2),
                &mut rows,
            );
        }
        Ok(rows)
    }

    /// The inventory ledger of the days `first..=last` summed (a
    /// `GET_LEDGER_SUMMARY_VIEW_DATA` row with `aggregatedByTimePeriod=MONTHLY`
    /// holds a calendar month of the window): per SKU and disposition, the
    /// starting balance of the first day, the movements of all days and the
    /// ending balance of the last, dated `first`.
    pub fn ledger_period(
        &self,
        seller: &str,
        marketplace_id: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<LedgerRow>, Error> {
        let (marketplace, _) = self.listing(seller, marketplace_id)?;
        let mut rows = Vec::new();
        for product in self.catalog(seller, marketplace_id)?.iter() {
            rows.extend(self.ledger_sku_period(
                seller,
                marketplace.country,
                marketplace_id,
                (first, last),
                &product,
            ));
        }
        Ok(rows)
    }

    /// One SKU's ledger rows of the days `first..=last`, summed per disposition.
    pub(crate) fn ledger_sku_period(
        &self,
        seller: &str,
        country: &str,
        marketplace_id: &str,
        (first, last): (NaiveDate, NaiveDate),
        product: &Product,
    ) -> Vec<LedgerRow> {
        let seed = self.shared.config.seed;
        let daily = first.iter_days().take_while(|d| *d <= last).flat_map(|day| {
            let (open, close, sold) = self.ledger_sku(seller, marketplace_id, day, product);
            let mut rows = Vec::with_capacity(2);
            ledger::sku_rows(seed, day, country, (&open, &close, &sold), &mut rows);
            rows
        });
        ledger::sum_period(first, daily)
    }

    /// What one SKU's ledger rows of `date` derive from: its MYI rows of `date`
    /// and the next day, and its final sales of the day. Shipments are final
    /// figures: the ledger must keep ending = starting + movements with the MYI
    /// snapshots, which are not restated.
    pub(crate) fn ledger_sku(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
        product: &Product,
    ) -> (InventoryRow, InventoryRow, SkuSalesAndTraffic) {
        let seed = self.shared.config.seed;
        let next = date.succ_opt().unwrap_or(date);
        (
            inventory::row(seed, seller, marketplace_id, date, product),
            inventory::row(seed, seller, marketplace_id, next, product),
            sales_traffic::sku(seed, seller, marketplace_id, date, product),
        )
    }

    /// The seller's Ads profiles: one per marketplace it sells in, in the order the
    /// marketplaces were added.
    pub fn ads_profiles(&self, seller: &str) -> Result<Vec<AdsProfile>, Error> {
        let world = self.shared.world();
        let spec = world
            .sellers
            .get(seller)
            .ok_or_else(|| Error::UnknownSeller(seller.to_owned()))?;
        Ok(spec
            .marketplaces
            .iter()
            .filter_map(|(id, _)| Marketplace::by_id(id))
            .map(|m| ads::profile(self.shared.config.seed, seller, m))
            .collect())
    }

    /// The profile with this id, whichever seller owns it.
    pub fn ads_profile(&self, profile_id: i64) -> Result<AdsProfile, Error> {
        let world = self.shared.world();
        world
            .sellers
            .values()
            .flat_map(|s| {
                s.marketplaces
                    .iter()
                    .map(move |(m, _)| (s.id.as_str(), m.as_str()))
            })
            .filter_map(|(seller, m)| Marketplace::by_id(m).map(|m| (seller, m)))
            .find(|(seller, m)| ads::profile_id(self.shared.config.seed, seller, m.id) == profile_id)
            .map(|(seller, m)| ads::profile(self.shared.config.seed, seller, m))
            .ok_or(Error::UnknownProfile(profile_id))
    }

    /// spAdvertisedProduct rows of one day: one per ad (campaign, ad group, SKU).
    pub fn ads_advertised_product(&self, profile_id: i64, date: NaiveDate) -> Result<Vec<AdsRow>, Error> {
        self.ads_rows(profile_id, date, ads::Grain::Ad)
    }

    /// spCampaigns rows grouped by `campaign` for one day.
    pub fn ads_campaigns(&self, profile_id: i64, date: NaiveDate) -> Result<Vec<AdsRow>, Error> {
        self.ads_rows(profile_id, date, ads::Grain::Campaign)
    }

    /// spCampaigns rows grouped by `adGroup` (or `campaign` and `adGroup`) for one
    /// day.
    pub fn ads_ad_groups(&self, profile_id: i64, date: NaiveDate) -> Result<Vec<AdsRow>, Error> {
        self.ads_rows(profile_id, date, ads::Grain::AdGroup)
    }

    /// spTargeting rows of one day: one per keyword or targeting expression.
    pub fn ads_targeting(&self, profile_id: i64, date: NaiveDate) -> Result<Vec<AdsRow>, Error> {
        self.ads_rows(profile_id, date, ads::Grain::Target)
    }

    /// spSearchTerm rows of one day: one per (target, search term) with clicks.
    pub fn ads_search_terms(&self, profile_id: i64, date: NaiveDate) -> Result<Vec<AdsRow>, Error> {
        self.ads_rows(profile_id, date, ads::Grain::SearchTerm)
    }

    pub(crate) fn ads_rows(
        &self,
        profile_id: i64,
        date: NaiveDate,
        grain: ads::Grain,
    ) -> Result<Vec<AdsRow>, Error> {
        let profile = self.ads_profile(profile_id)?;
        let (marketplace, _) = self.listing(&profile.seller_id, &profile.marketplace_id)?;
        let products = self.catalog(&profile.seller_id, &profile.marketplace_id)?;
        let seed = self.shared.config.seed;
        let campaigns = ads::campaigns(seed, profile_id, marketplace, &products);
        let age = if self.shared.config.ads_restatement {
            self.age(date)
        } else {
            i64::MAX
        };
        Ok(ads::rows(
            seed,
            &campaigns,
            date,
            age,
            grain,
            marketplace.whole_currency(),
        ))
    }

    /// Every SKU of the day as of [`Truth::now`], restated like Amazon's figures.
    pub(crate) fn all_skus(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> Result<Vec<SkuSalesAndTraffic>, Error> {
        let catalog = self.catalog(seller, marketplace_id)?;
        Ok(catalog
            .iter()
            .map(|p| self.sku_on(seller, marketplace_id, date, &p))
            .collect())
    }

    /// One SKU's figures of the day as of [`Truth::now`], restated like Amazon's:
    /// what reports stream one SKU at a time.
    pub(crate) fn sku_on(
        &self,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
        product: &Product,
    ) -> SkuSalesAndTraffic {
        let seed = self.shared.config.seed;
        sales_traffic::restate(
            seed,
            (seller, marketplace_id, date),
            self.age(date),
            self.shared.config.restatement_days,
            sales_traffic::sku(seed, seller, marketplace_id, date, product),
        )
    }

    pub(crate) fn listing(
        &self,
        seller: &str,
        marketplace_id: &str,
    ) -> Result<(&'static Marketplace, u32), Error> {
        let marketplace = Marketplace::by_id(marketplace_id)
            .ok_or_else(|| Error::UnknownMarketplace(marketplace_id.to_owned()))?;
        let world = self.shared.world();
        let spec = world
            .sellers
            .get(seller)
            .ok_or_else(|| Error::UnknownSeller(seller.to_owned()))?;
        let count = spec
            .sku_count(marketplace_id)
            .ok_or_else(|| Error::MarketplaceNotEnabled {
                seller: seller.to_owned(),
                marketplace: marketplace_id.to_owned(),
            })?;
        Ok((marketplace, count))
    }
}
