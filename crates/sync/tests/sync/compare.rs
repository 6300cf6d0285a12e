//! Our rows as the simulator's ground truth says they must be, and as they are
//! stored: one definition per table, shared by the end-to-end tests (which
//! assert equality) and the accuracy suite (which counts rows and mismatches).
//! Every function returns rows sorted by the table's natural key.

use std::collections::BTreeMap;
use std::fmt::Debug;

use amzsync_amazon_sim::{AdsProfile, AdsRow, AsinGranularity};
use amzsync_db::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetricRow, AdsMetrics, AdsSearchTermRow, AdsTargetingRow,
    AsinTrafficRow, BusinessMetricRow, InventoryRow, Stamped,
};
use amzsync_domain::SyncWindow;
use amzsync_test_support::truth;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::harness::{SELLER, World};

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn count(n: u64) -> i64 {
    i64::try_from(n).expect("a count fits")
}

pub fn rows<T>(stamped: Vec<Stamped<T>>) -> Vec<T> {
    stamped.into_iter().map(|s| s.row).collect()
}

/// Rows compared and the ones that differ, over a whole run.
#[derive(Debug, Default)]
pub struct Tally {
    pub compared: usize,
    /// One line per row found on one side only (a changed row is one line
    /// for each side, the stored and the true).
    pub mismatches: Vec<String>,
}

impl Tally {
    /// Compares two lists as sets of rows, so a missing or extra row is
    /// named as such instead of shifting the rest of its list.
    pub fn compare<T: PartialEq + Debug>(&mut self, what: &str, stored: &[T], expected: &[T]) {
        self.compared += stored.len().max(expected.len());
        if stored == expected {
            return;
        }
        // By `PartialEq`, not by `Debug` text: decimals equal in value may
        // differ in scale (`76` and `76.00`). Quadratic, but only for a list
        // that differs.
        for row in stored.iter().filter(|r| !expected.contains(r)) {
            self.mismatches.push(format!("{what}: stored only {row:?}"));
        }
        for row in expected.iter().filter(|r| !stored.contains(r)) {
            self.mismatches.push(format!("{what}: in the truth only {row:?}"));
        }
    }

    pub fn add(&mut self, other: Tally) {
        self.compared += other.compared;
        self.mismatches.extend(other.mismatches);
    }
}

// ---- FR-1: inventory ----

/// The simulator's snapshot of today (the simulated clock's UTC date).
pub fn expected_inventory(world: &World, marketplace_id: &str) -> Vec<InventoryRow> {
    expected_inventory_on(world, marketplace_id, world.today())
}

pub async fn stored_inventory(world: &World, marketplace_id: &str) -> Vec<InventoryRow> {
    stored_inventory_on(world, marketplace_id, world.today()).await
}

/// The simulator's snapshot of `date` for a marketplace, as our rows.
pub fn expected_inventory_on(world: &World, marketplace_id: &str, date: NaiveDate) -> Vec<InventoryRow> {
    truth::expected_inventory(&world.sim, SELLER, world.store.id, marketplace_id, date)
}

pub async fn stored_inventory_on(world: &World, marketplace_id: &str, date: NaiveDate) -> Vec<InventoryRow> {
    truth::stored_inventory(&world.db, world.store.id, marketplace_id, date).await
}

// ---- FR-2: business reports ----

/// The simulator's figures as our row fields that it knows (see
/// `truth::expected_business`).
pub fn expected_business(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<BusinessMetricRow> {
    truth::expected_business(&world.sim, SELLER, world.store.id, marketplace_id, day)
}

/// Stored rows in the shape of [`expected_business`].
pub async fn stored_business(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<BusinessMetricRow> {
    truth::stored_business(&world.db, world.store.id, marketplace_id, day).await
}

/// The simulator's child-ASIN figures of a day (a one-day CHILD report) as
/// our rows, the share-of-marketplace percentages left out as for SKUs.
pub fn expected_asins(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<AsinTrafficRow> {
    let truth = world.sim.truth();
    let currency = truth
        .sales_and_traffic(SELLER, marketplace_id, day)
        .expect("the seller sells there")
        .currency_code;
    let mut rows: Vec<AsinTrafficRow> = truth
        .sales_and_traffic_by_asin(SELLER, marketplace_id, day, AsinGranularity::Child)
        .expect("the seller sells there")
        .iter()
        .map(|s| AsinTrafficRow {
            store_id: world.store.id,
            marketplace_id: marketplace_id.to_owned(),
            date: day,
            child_asin: s.child_asin.clone(),
            parent_asin: s.parent_asin.clone(),
            metrics: truth::expected_metrics(&currency, s),
        })
        .collect();
    rows.sort_by(|a, b| a.child_asin.cmp(&b.child_asin));
    rows
}

/// Stored child-ASIN rows, normalized as [`stored_business`] does.
pub async fn stored_asins(world: &World, marketplace_id: &str, day: NaiveDate) -> Vec<AsinTrafficRow> {
    world
        .db
        .snapshots()
        .asin_traffic_between(world.store.id, day, day, Some(marketplace_id))
        .await
        .expect("reading child-ASIN rows")
        .into_iter()
        .map(|s| {
            let mut row = s.row;
            truth::comparable(&mut row.metrics);
            row
        })
        .collect()
}

// ---- FR-3: advertising ----

/// Our metrics of a truth row: spend = cost, the 7-day conversions.
fn metrics(row: &AdsRow) -> AdsMetrics {
    let m = &row.metrics;
    AdsMetrics {
        impressions: count(m.impressions),
        clicks: count(m.clicks),
        spend: cents(m.cost_cents),
        sales_7d: cents(m.d7.sales_cents),
        orders_7d: count(m.d7.purchases),
        units_7d: count(m.d7.units_sold),
    }
}

pub fn ads_profiles(world: &World) -> Vec<AdsProfile> {
    world
        .sim
        .truth()
        .ads_profiles(SELLER)
        .expect("the seller advertises")
}

/// The report grains of the Ads API that the detail tables store.
#[derive(Debug, Clone, Copy)]
enum Grain {
    Products,
    Campaigns,
    AdGroups,
    Targeting,
    SearchTerms,
}

/// The truth of every profile and day of `from..=to`, one report grain.
fn ads_truth(world: &World, from: NaiveDate, to: NaiveDate, grain: Grain) -> Vec<(AdsProfile, AdsRow)> {
    let truth = world.sim.truth();
    let mut out = Vec::new();
    for p in ads_profiles(world) {
        for day in SyncWindow::new(from, to).expect("ordered").iter_days() {
            let rows = match grain {
                Grain::Products => truth.ads_advertised_product(p.profile_id, day),
                Grain::Campaigns => truth.ads_campaigns(p.profile_id, day),
                Grain::AdGroups => truth.ads_ad_groups(p.profile_id, day),
                Grain::Targeting => truth.ads_targeting(p.profile_id, day),
                Grain::SearchTerms => truth.ads_search_terms(p.profile_id, day),
            }
            .expect("a known profile");
            out.extend(rows.into_iter().map(|r| (p.clone(), r)));
        }
    }
    out
}

/// The truth's spAdvertisedProduct rows summed per marketplace, day and SKU.
pub fn expected_products(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsMetricRow> {
    let mut sums: BTreeMap<(String, NaiveDate, String), AdsMetricRow> = BTreeMap::new();
    for (p, r) in ads_truth(world, from, to, Grain::Products) {
        let sku = r.advertised_sku.clone().expect("an advertised product has a SKU");
        let m = metrics(&r);
        let sum = sums
            .entry((p.marketplace_id.clone(), r.date, sku.clone()))
            .or_insert_with(|| AdsMetricRow {
                store_id: world.store.id,
                marketplace_id: p.marketplace_id.clone(),
                date: r.date,
                sku,
                asin: r.advertised_asin.clone(),
                currency: p.currency_code.to_owned(),
                impressions: 0,
                clicks: 0,
                spend: Decimal::ZERO,
                sales_7d: Decimal::ZERO,
                orders_7d: 0,
                units_7d: 0,
            });
        sum.impressions += m.impressions;
        sum.clicks += m.clicks;
        sum.spend += m.spend;
        sum.sales_7d += m.sales_7d;
        sum.orders_7d += m.orders_7d;
        sum.units_7d += m.units_7d;
    }
    sums.into_values().collect()
}

/// Stored per-SKU ads rows with their stamps, in the order of [`expected_products`].
pub async fn stored_products(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<Stamped<AdsMetricRow>> {
    let mut rows = world
        .db
        .snapshots()
        .ads_between(world.store.id, from, to, None)
        .await
        .expect("reading ads rows");
    rows.sort_by(|a, b| {
        (&a.row.marketplace_id, a.row.date, &a.row.sku).cmp(&(&b.row.marketplace_id, b.row.date, &b.row.sku))
    });
    rows
}

fn campaign_key(r: &AdsCampaignRow) -> (i64, NaiveDate, i64) {
    (r.profile_id, r.date, r.campaign_id)
}

pub fn expected_campaigns(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsCampaignRow> {
    let mut rows: Vec<AdsCampaignRow> = ads_truth(world, from, to, Grain::Campaigns)
        .into_iter()
        .map(|(p, r)| AdsCampaignRow {
            store_id: world.store.id,
            profile_id: p.profile_id,
            date: r.date,
            campaign_id: r.campaign_id,
            marketplace_id: p.marketplace_id.clone(),
            campaign_name: Some(r.campaign_name.clone()),
            campaign_status: Some(r.campaign_status.to_owned()),
            budget_amount: Some(cents(r.campaign_budget_cents)),
            budget_type: Some("DAILY_BUDGET".to_owned()),
            currency: p.currency_code.to_owned(),
            metrics: metrics(&r),
        })
        .collect();
    rows.sort_by_key(campaign_key);
    rows
}

pub async fn stored_campaigns(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsCampaignRow> {
    let snapshots = world.db.snapshots();
    let stored = snapshots.ads_campaigns_between(world.store.id, from, to).await;
    let mut rows = rows(stored.expect("reading campaigns"));
    rows.sort_by_key(campaign_key);
    rows
}

fn ad_group_key(r: &AdsAdGroupRow) -> (i64, NaiveDate, i64, i64) {
    (r.profile_id, r.date, r.campaign_id, r.ad_group_id)
}

pub fn expected_ad_groups(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsAdGroupRow> {
    let mut rows: Vec<AdsAdGroupRow> = ads_truth(world, from, to, Grain::AdGroups)
        .into_iter()
        .map(|(p, r)| AdsAdGroupRow {
            store_id: world.store.id,
            profile_id: p.profile_id,
            date: r.date,
            campaign_id: r.campaign_id,
            ad_group_id: r.ad_group_id.expect("an ad group row has its id"),
            marketplace_id: p.marketplace_id.clone(),
            campaign_name: Some(r.campaign_name.clone()),
            ad_group_name: r.ad_group_name.clone(),
            ad_status: r.ad_group_status.map(str::to_owned),
            currency: p.currency_code.to_owned(),
            metrics: metrics(&r),
        })
        .collect();
    rows.sort_by_key(ad_group_key);
    rows
}

pub async fn stored_ad_groups(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsAdGroupRow> {
    let snapshots = world.db.snapshots();
    let stored = snapshots.ads_ad_groups_between(world.store.id, from, to).await;
    let mut rows = rows(stored.expect("reading ad groups"));
    rows.sort_by_key(ad_group_key);
    rows
}

fn targeting_key(r: &AdsTargetingRow) -> (i64, NaiveDate, i64, i64, i64) {
    (r.profile_id, r.date, r.campaign_id, r.ad_group_id, r.keyword_id)
}

pub fn expected_targeting(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsTargetingRow> {
    let mut rows: Vec<AdsTargetingRow> = ads_truth(world, from, to, Grain::Targeting)
        .into_iter()
        .map(|(p, r)| AdsTargetingRow {
            store_id: world.store.id,
            profile_id: p.profile_id,
            date: r.date,
            campaign_id: r.campaign_id,
            ad_group_id: r.ad_group_id.expect("a target's ad group"),
            keyword_id: r.keyword_id.expect("a target's id"),
            marketplace_id: p.marketplace_id.clone(),
            keyword: r.keyword.clone(),
            keyword_type: r.keyword_type.map(str::to_owned),
            match_type: r.match_type.map(str::to_owned),
            targeting: r.targeting.clone(),
            currency: p.currency_code.to_owned(),
            metrics: metrics(&r),
        })
        .collect();
    rows.sort_by_key(targeting_key);
    rows
}

pub async fn stored_targeting(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsTargetingRow> {
    let snapshots = world.db.snapshots();
    let stored = snapshots.ads_targeting_between(world.store.id, from, to).await;
    let mut rows = rows(stored.expect("reading targeting"));
    rows.sort_by_key(targeting_key);
    rows
}

fn search_term_key(r: &AdsSearchTermRow) -> (i64, NaiveDate, i64, i64, i64, String) {
    (
        r.profile_id,
        r.date,
        r.campaign_id,
        r.ad_group_id,
        r.keyword_id,
        r.search_term.clone(),
    )
}

pub fn expected_search_terms(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsSearchTermRow> {
    let mut rows: Vec<AdsSearchTermRow> = ads_truth(world, from, to, Grain::SearchTerms)
        .into_iter()
        .map(|(p, r)| AdsSearchTermRow {
            store_id: world.store.id,
            profile_id: p.profile_id,
            date: r.date,
            campaign_id: r.campaign_id,
            ad_group_id: r.ad_group_id.expect("a search term's ad group"),
            keyword_id: r.keyword_id.expect("a search term's target"),
            search_term: r.search_term.clone().expect("a search term"),
            marketplace_id: p.marketplace_id.clone(),
            keyword: r.keyword.clone(),
            match_type: r.match_type.map(str::to_owned),
            currency: p.currency_code.to_owned(),
            metrics: metrics(&r),
        })
        .collect();
    rows.sort_by_key(search_term_key);
    rows
}

pub async fn stored_search_terms(world: &World, from: NaiveDate, to: NaiveDate) -> Vec<AdsSearchTermRow> {
    let snapshots = world.db.snapshots();
    let stored = snapshots.ads_search_terms_between(world.store.id, from, to).await;
    let mut rows = rows(stored.expect("reading search terms"));
    rows.sort_by_key(search_term_key);
    rows
}

/// Every ads table over `from..=to` against the truth as of now.
pub async fn tally_ads(world: &World, from: NaiveDate, to: NaiveDate) -> Tally {
    let mut tally = Tally::default();
    let products = rows(stored_products(world, from, to).await);
    tally.compare("ads products", &products, &expected_products(world, from, to));
    let campaigns = stored_campaigns(world, from, to).await;
    tally.compare("ads campaigns", &campaigns, &expected_campaigns(world, from, to));
    let ad_groups = stored_ad_groups(world, from, to).await;
    tally.compare("ads ad groups", &ad_groups, &expected_ad_groups(world, from, to));
    let targeting = stored_targeting(world, from, to).await;
    tally.compare("ads targeting", &targeting, &expected_targeting(world, from, to));
    let terms = stored_search_terms(world, from, to).await;
    tally.compare(
        "ads search terms",
        &terms,
        &expected_search_terms(world, from, to),
    );
    tally
}
