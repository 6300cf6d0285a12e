//! Sponsored Products advertising of one Ads profile (a seller in a marketplace):
//! campaigns → ad groups → ads (SKUs of the seller's catalog) and targets (keywords
//! or auto-targeting expressions) → search terms, generated from the seed.
//!
//! The only figures are one fact per (ad, target, search term, day). Every report
//! type is a sum of those facts at its own grain, so spCampaigns, spTargeting,
//! spSearchTerm and spAdvertisedProduct agree with each other exactly as Amazon's
//! do: clicks, cost and sales add up across types; spSearchTerm impressions are
//! lower because it keeps only impressions that led to a click (PROTOCOL.md §5.7).
//!
//! Amazon attributes a sale to the day of the click, so a day's conversions keep
//! growing for up to 30 days after it; the N-day metrics are final after N days
//! (§5.8). [`rows`] takes the day's age and shows only the orders attributed by
//! then; impressions, clicks and cost are final at once.

use chrono::NaiveDate;

use crate::marketplace::Marketplace;
use crate::rng::{Rng, hash};
use crate::truth::catalog::Catalog;

/// One Ads API advertising profile: a seller account in one marketplace
/// (`GET /v2/profiles`, PROTOCOL.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdsProfile {
    /// `profileId`, the value of `Amazon-Advertising-API-Scope`.
    pub profile_id: i64,
    /// `accountInfo.id`: the SP-API seller id.
    pub seller_id: String,
    /// `accountInfo.marketplaceStringId`.
    pub marketplace_id: String,
    /// `countryCode`; the Ads API writes `UK` for Britain, not `GB`.
    pub country_code: &'static str,
    /// `currencyCode`.
    pub currency_code: &'static str,
    /// `timezone` (IANA).
    pub timezone: &'static str,
}

/// Conversions attributed within one window after the click (1, 7, 14 or 30 days).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Conversions {
    /// `purchasesNd`: orders.
    pub purchases: u64,
    /// `unitsSoldClicksNd`.
    pub units_sold: u64,
    /// `salesNd`, in hundredths of the currency unit.
    pub sales_cents: i64,
    /// `purchasesSameSkuNd`.
    pub purchases_same_sku: u64,
    /// `unitsSoldSameSkuNd`.
    pub units_sold_same_sku: u64,
    /// `attributedSalesSameSkuNd`, in hundredths of the currency unit.
    pub sales_same_sku_cents: i64,
}

impl Conversions {
    fn add(&mut self, other: &Self) {
        self.purchases += other.purchases;
        self.units_sold += other.units_sold;
        self.sales_cents += other.sales_cents;
        self.purchases_same_sku += other.purchases_same_sku;
        self.units_sold_same_sku += other.units_sold_same_sku;
        self.sales_same_sku_cents += other.sales_same_sku_cents;
    }
}

/// The metrics every Sponsored Products report type shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AdsMetrics {
    /// `impressions`.
    pub impressions: u64,
    /// `clicks`.
    pub clicks: u64,
    /// `cost` (and `spend`), in hundredths of the currency unit.
    pub cost_cents: i64,
    /// The `…1d` columns.
    pub d1: Conversions,
    /// The `…7d` columns, the sellers' standard attribution window.
    pub d7: Conversions,
    /// The `…14d` columns.
    pub d14: Conversions,
    /// The `…30d` columns.
    pub d30: Conversions,
}

impl AdsMetrics {
    pub(crate) fn add(&mut self, other: &Self) {
        self.impressions += other.impressions;
        self.clicks += other.clicks;
        self.cost_cents += other.cost_cents;
        self.d1.add(&other.d1);
        self.d7.add(&other.d7);
        self.d14.add(&other.d14);
        self.d30.add(&other.d30);
    }

    fn is_empty(&self) -> bool {
        self.impressions == 0 && self.clicks == 0
    }
}

/// One row of ground truth at some report grain. Fields below the grain are `None`:
/// an spCampaigns row by campaign has no ad group, an spTargeting row no ad.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdsRow {
    /// The day the metrics belong to.
    pub date: NaiveDate,
    /// `campaignId`.
    pub campaign_id: i64,
    /// `campaignName`.
    pub campaign_name: String,
    /// `campaignStatus`: `ENABLED` or `PAUSED`.
    pub campaign_status: &'static str,
    /// `campaignBudgetAmount`, in hundredths of the currency unit.
    pub campaign_budget_cents: i64,
    /// `campaignBiddingStrategy`.
    pub campaign_bidding_strategy: &'static str,
    /// `adGroupId`.
    pub ad_group_id: Option<i64>,
    /// `adGroupName`.
    pub ad_group_name: Option<String>,
    /// `adStatus` of the ad group (spCampaigns by ad group).
    pub ad_group_status: Option<&'static str>,
    /// `adId` (spAdvertisedProduct).
    pub ad_id: Option<i64>,
    /// `advertisedSku`.
    pub advertised_sku: Option<String>,
    /// `advertisedAsin`.
    pub advertised_asin: Option<String>,
    /// `keywordId` (spTargeting, spSearchTerm): the keyword or target id.
    pub keyword_id: Option<i64>,
    /// `keyword`; `None` for auto-targeting expressions, which Amazon writes as null.
    pub keyword: Option<String>,
    /// `keywordType`: `BROAD`, `PHRASE`, `EXACT` or `TARGETING_EXPRESSION_PREDEFINED`.
    pub keyword_type: Option<&'static str>,
    /// `matchType`.
    pub match_type: Option<&'static str>,
    /// `targeting`: the keyword text or the expression (`close-match`, …).
    pub targeting: Option<String>,
    /// `keywordBid`, in hundredths of the currency unit.
    pub keyword_bid_cents: Option<i64>,
    /// `adKeywordStatus`.
    pub keyword_status: Option<&'static str>,
    /// `searchTerm` (spSearchTerm).
    pub search_term: Option<String>,
    /// The metrics, summed over everything below the grain.
    pub metrics: AdsMetrics,
}

/// The grain of a report: what one row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    Campaign,
    AdGroup,
    Ad,
    Target,
    SearchTerm,
}

#[derive(Debug, Clone)]
pub(crate) struct Campaign {
    id: i64,
    name: String,
    status: &'static str,
    budget_cents: i64,
    ad_groups: Vec<AdGroup>,
}

#[derive(Debug, Clone)]
struct AdGroup {
    id: i64,
    name: String,
    status: &'static str,
    ads: Vec<Ad>,
    targets: Vec<Target>,
}

#[derive(Debug, Clone)]
struct Ad {
    id: i64,
    sku: String,
    asin: String,
    price_cents: i64,
    popularity: u64,
}

#[derive(Debug, Clone)]
struct Target {
    id: i64,
    keyword: Option<String>,
    keyword_type: &'static str,
    targeting: String,
    bid_cents: i64,
    search_terms: Vec<String>,
}

const AUTO_TARGETS: [&str; 4] = ["close-match", "loose-match", "substitutes", "complements"];
const BIDDING_STRATEGY: &str = "Dynamic bids - down only";

/// The profile id of a seller in a marketplace: 16 digits, stable for the seed.
pub(crate) fn profile_id(seed: u64, seller: &str, marketplace_id: &str) -> i64 {
    let n = hash(seed, &["ads-profile", seller, marketplace_id]) % 8_000_000_000_000_000;
    1_000_000_000_000_000 + i64::try_from(n).unwrap_or(0)
}

pub(crate) fn profile(seed: u64, seller: &str, marketplace: &Marketplace) -> AdsProfile {
    AdsProfile {
        profile_id: profile_id(seed, seller, marketplace.id),
        seller_id: seller.to_owned(),
        marketplace_id: marketplace.id.to_owned(),
        country_code: if marketplace.country == "GB" {
            "UK"
        } else {
            marketplace.country
        },
        currency_code: marketplace.currency,
        timezone: timezone(marketplace.country),
    }
}

/// Amazon's profile time zones (PROTOCOL.md §5.3 shows `America/Los_Angeles` for
/// the US and CA and `Europe/Paris` for DE).
fn timezone(country: &str) -> &'static str {
    match country {
        "US" | "CA" => "America/Los_Angeles",
        "MX" => "America/Mexico_City",
        "BR" => "America/Sao_Paulo",
        "GB" | "IE" => "Europe/London",
        "TR" => "Europe/Istanbul",
        "AE" => "Asia/Dubai",
        "SA" => "Asia/Riyadh",
        "EG" => "Africa/Cairo",
        "IN" => "Asia/Kolkata",
        "ZA" => "Africa/Johannesburg",
        "JP" => "Asia/Tokyo",
        "AU" => "Australia/Sydney",
        "SG" => "Asia/Singapore",
        _ => "Europe/Paris",
    }
}

/// The campaign tree of a profile. A quarter as many campaigns as SKUs (at least
/// one, at most twelve), alternating auto and manual, each advertising one to three
/// SKUs of the catalog.
pub(crate) fn campaigns(
    seed: u64,
    profile_id: i64,
    marketplace: &Marketplace,
    products: &Catalog,
) -> Vec<Campaign> {
    if products.is_empty() {
        return Vec::new();
    }
    let profile_label = profile_id.to_string();
    let mut r = Rng::keyed(seed, &["ads-campaigns", &profile_label]);
    let whole = marketplace.whole_currency();
    let money = |cents: i64| if whole { (cents / 100).max(1) * 100 } else { cents };
    let count = (products.len() / 4).clamp(1, 12);
    (0..count)
        .map(|c| {
            let lead = products.product(c * products.len() / count);
            let theme: String = lead.name.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            let auto = c % 2 == 0;
            let match_type = *r.pick(&["EXACT", "PHRASE", "BROAD"]);
            let name = if auto {
                format!("SP - {theme} - Auto")
            } else {
                format!("SP - {theme} - {}", title_case(match_type))
            };
            let status = if r.chance(10) { "PAUSED" } else { "ENABLED" };
            let budget_cents = money(i64::try_from(r.between(10, 100)).unwrap_or(10) * 100);
            let group_count = if auto { 1 } else { r.between(1, 2) };
            let ad_groups = (0..group_count)
                .map(|g| {
                    let ads = pick_ads(&mut r, products);
                    let keyword_base = ads[0].sku_words.clone();
                    let targets = if auto {
                        AUTO_TARGETS
                            .iter()
                            .map(|t| Target {
                                id: entity_id(&mut r),
                                keyword: None,
                                keyword_type: "TARGETING_EXPRESSION_PREDEFINED",
                                targeting: (*t).to_owned(),
                                bid_cents: money(i64::try_from(r.between(30, 150)).unwrap_or(30)),
                                search_terms: auto_search_terms(&mut r, &keyword_base),
                            })
                            .collect()
                    } else {
                        (0..r.between(2, 3))
                            .map(|k| {
                                let keyword = keyword_text(&keyword_base, k);
                                Target {
                                    id: entity_id(&mut r),
                                    keyword: Some(keyword.clone()),
                                    keyword_type: match_type,
                                    targeting: keyword.clone(),
                                    bid_cents: money(i64::try_from(r.between(40, 250)).unwrap_or(40)),
                                    search_terms: manual_search_terms(&mut r, &keyword, match_type),
                                }
                            })
                            .collect()
                    };
                    AdGroup {
                        id: entity_id(&mut r),
                        name: if auto {
                            "Auto".to_owned()
                        } else {
                            format!("{theme} {} {}", match_type.to_lowercase(), g + 1)
                        },
                        status: if r.chance(5) { "PAUSED" } else { "ENABLED" },
                        ads: ads.into_iter().map(|a| a.ad).collect(),
                        targets,
                    }
                })
                .collect();
            Campaign {
                id: entity_id(&mut r),
                name,
                status,
                budget_cents,
                ad_groups,
            }
        })
        .collect()
}

struct PickedAd {
    ad: Ad,
    sku_words: Vec<String>,
}

/// A 15-digit id like Amazon's campaign, ad group, ad and keyword ids.
fn entity_id(r: &mut Rng) -> i64 {
    i64::try_from(r.between(100_000_000_000_000, 999_999_999_999_999)).unwrap_or(1)
}

fn pick_ads(r: &mut Rng, products: &Catalog) -> Vec<PickedAd> {
    let count = usize::try_from(r.between(1, 3)).unwrap_or(1).min(products.len());
    let first = usize::try_from(r.below(products.len() as u64)).unwrap_or(0);
    (0..count)
        .map(|i| {
            let p = products.product((first + i) % products.len());
            PickedAd {
                ad: Ad {
                    id: entity_id(r),
                    sku: p.sku.clone(),
                    asin: p.asin.clone(),
                    price_cents: p.price_cents,
                    popularity: p.popularity,
                },
                sku_words: p
                    .name
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect(),
            }
        })
        .collect()
}

fn keyword_text(words: &[String], k: u64) -> String {
    let n = words.len();
    match (k, n) {
        (_, 0) => "gift".to_owned(),
        (0, _) => words[n.saturating_sub(2)..].join(" "),
        (1, _) => words.join(" "),
        _ => format!("{} {}", words[n - 1], "gift"),
    }
}

fn manual_search_terms(r: &mut Rng, keyword: &str, match_type: &str) -> Vec<String> {
    let mut terms = vec![keyword.to_owned()];
    if match_type != "EXACT" {
        for suffix in ["for men", "cheap", "set"]
            .iter()
            .take(usize::try_from(r.between(0, 2)).unwrap_or(0))
        {
            terms.push(format!("{keyword} {suffix}"));
        }
    }
    terms
}

fn auto_search_terms(r: &mut Rng, words: &[String]) -> Vec<String> {
    // Detail-page placements have no search keyword: Amazon writes `*` (§5.7).
    let mut terms = vec![format!("b0{}", r.alphanumeric(8).to_lowercase())];
    if let Some(word) = words.last() {
        terms.push(format!("{word} {}", r.pick(&["best", "sale", "2024"])));
    }
    if r.chance(30) {
        terms.push("*".to_owned());
    }
    terms
}

fn title_case(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The fact of one (ad, target, search term) on one day. Conversions only follow
/// clicks, so a fact without clicks has no cost and no sales.
fn fact(
    seed: u64,
    (date, age): (&str, i64),
    ad: &Ad,
    target: &Target,
    term: usize,
    whole_currency: bool,
) -> AdsMetrics {
    let (ad_label, target_label, term_label) = (ad.id.to_string(), target.id.to_string(), term.to_string());
    let mut r = Rng::keyed(seed, &["ads-fact", date, &ad_label, &target_label, &term_label]);
    if !r.chance(55) {
        return AdsMetrics::default();
    }
    let impressions = r.between(1, 60 * ad.popularity);
    let clicks = r.below(impressions / 20 + 2).min(impressions);
    let mut cpc = i64::try_from(r.between(
        u64::try_from(target.bid_cents / 2).unwrap_or(1),
        u64::try_from(target.bid_cents).unwrap_or(1),
    ))
    .unwrap_or(1);
    if whole_currency {
        cpc = (cpc / 100).max(1) * 100;
    }
    let orders7 = (0..clicks).filter(|_| r.chance(12)).count() as u64;
    let orders1 = orders7 - r.below(orders7 / 3 + 1);
    let late = |r: &mut Rng, orders: u64| orders + u64::from(clicks > orders && r.chance(25));
    let orders14 = late(&mut r, orders7);
    let orders30 = late(&mut r, orders14);
    // Orders attributed so far, whatever the window; each window shows at most its
    // own final count, so the 1-day figures are final after a day, the 7-day ones
    // after a week, and so on.
    // A stream of its own, so the final figures stay those of the fact's stream.
    let mut lags = Rng::keyed(seed, &["ads-lag", date, &ad_label, &target_label, &term_label]);
    let attributed = attributed_by(&mut lags, age, [orders1, orders7, orders14, orders30]);
    let (orders1, orders7, orders14, orders30) = (
        orders1.min(attributed),
        orders7.min(attributed),
        orders14.min(attributed),
        orders30.min(attributed),
    );
    let extra_units = r.below(orders7 / 2 + 1);
    let other_sku_units = u64::from(orders7 > 0 && r.chance(15));
    let conversions = |orders: u64| {
        let units = orders + extra_units.min(orders);
        let same_units = units - other_sku_units.min(units);
        let price = ad.price_cents;
        Conversions {
            purchases: orders,
            units_sold: units,
            sales_cents: i64::try_from(units).unwrap_or(0) * price,
            purchases_same_sku: orders - other_sku_units.min(orders),
            units_sold_same_sku: same_units,
            sales_same_sku_cents: i64::try_from(same_units).unwrap_or(0) * price,
        }
    };
    AdsMetrics {
        impressions,
        clicks,
        cost_cents: i64::try_from(clicks).unwrap_or(0) * cpc,
        d1: conversions(orders1),
        d7: conversions(orders7),
        d14: conversions(orders14),
        d30: conversions(orders30),
    }
}

/// How many of a day's orders are attributed `age` days after it, given the final
/// counts of the 1-, 7-, 14- and 30-day windows. Each order gets a lag inside its
/// window (the 1-day orders on the day or the next, the later ones spread over
/// their window's extra days), drawn from `r` so it is stable for the fact.
fn attributed_by(r: &mut Rng, age: i64, [d1, d7, d14, d30]: [u64; 4]) -> u64 {
    let windows = [
        (d1, 0, 1),
        (d7 - d1, 2, 7),
        (d14 - d7, 8, 14),
        (d30 - d14, 15, 30),
    ];
    let mut attributed = 0;
    for (orders, first, last) in windows {
        for _ in 0..orders {
            let lag = i64::try_from(r.between(first, last)).unwrap_or(0);
            attributed += u64::from(lag <= age);
        }
    }
    attributed
}

/// The rows of one day at `grain` when the day is `age` days old, in campaign-tree
/// order. Rows without
/// impressions are left out, as Amazon leaves them out; spSearchTerm keeps only
/// facts with clicks.
pub(crate) fn rows(
    seed: u64,
    campaigns: &[Campaign],
    date: NaiveDate,
    age: i64,
    grain: Grain,
    whole_currency: bool,
) -> Vec<AdsRow> {
    let date_label = date.to_string();
    let mut out = Vec::new();
    for campaign in campaigns {
        let base = AdsRow {
            date,
            campaign_id: campaign.id,
            campaign_name: campaign.name.clone(),
            campaign_status: campaign.status,
            campaign_budget_cents: campaign.budget_cents,
            campaign_bidding_strategy: BIDDING_STRATEGY,
            ad_group_id: None,
            ad_group_name: None,
            ad_group_status: None,
            ad_id: None,
            advertised_sku: None,
            advertised_asin: None,
            keyword_id: None,
            keyword: None,
            keyword_type: None,
            match_type: None,
            targeting: None,
            keyword_bid_cents: None,
            keyword_status: None,
            search_term: None,
            metrics: AdsMetrics::default(),
        };
        let mut campaign_row = base.clone();
        for group in &campaign.ad_groups {
            let serving = campaign.status == "ENABLED" && group.status == "ENABLED";
            // facts[ad][target][term]
            let facts: Vec<Vec<Vec<AdsMetrics>>> = group
                .ads
                .iter()
                .map(|ad| {
                    group
                        .targets
                        .iter()
                        .map(|t| {
                            (0..t.search_terms.len())
                                .map(|i| {
                                    if serving {
                                        fact(seed, (&date_label, age), ad, t, i, whole_currency)
                                    } else {
                                        AdsMetrics::default()
                                    }
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let group_row = AdsRow {
                ad_group_id: Some(group.id),
                ad_group_name: Some(group.name.clone()),
                ad_group_status: Some(group.status),
                ..base.clone()
            };
            let target_row = |t: &Target| AdsRow {
                keyword_id: Some(t.id),
                keyword: t.keyword.clone(),
                keyword_type: Some(t.keyword_type),
                match_type: Some(t.keyword_type),
                targeting: Some(t.targeting.clone()),
                keyword_bid_cents: Some(t.bid_cents),
                keyword_status: Some("ENABLED"),
                ..group_row.clone()
            };
            let mut group_total = group_row.clone();
            for per_ad in &facts {
                for per_target in per_ad {
                    for m in per_target {
                        group_total.metrics.add(m);
                    }
                }
            }
            campaign_row.metrics.add(&group_total.metrics);
            match grain {
                Grain::Campaign => {}
                Grain::AdGroup => out.push(group_total),
                Grain::Ad => {
                    for (ad, per_ad) in group.ads.iter().zip(&facts) {
                        let mut row = AdsRow {
                            ad_id: Some(ad.id),
                            advertised_sku: Some(ad.sku.clone()),
                            advertised_asin: Some(ad.asin.clone()),
                            ..group_row.clone()
                        };
                        per_ad.iter().flatten().for_each(|m| row.metrics.add(m));
                        out.push(row);
                    }
                }
                Grain::Target => {
                    for (t, target) in group.targets.iter().enumerate() {
                        let mut row = target_row(target);
                        facts
                            .iter()
                            .flat_map(|per_ad| &per_ad[t])
                            .for_each(|m| row.metrics.add(m));
                        out.push(row);
                    }
                }
                Grain::SearchTerm => {
                    for (t, target) in group.targets.iter().enumerate() {
                        for (i, term) in target.search_terms.iter().enumerate() {
                            let mut row = AdsRow {
                                search_term: Some(term.clone()),
                                ..target_row(target)
                            };
                            facts
                                .iter()
                                .map(|per_ad| &per_ad[t][i])
                                .filter(|m| m.clicks > 0)
                                .for_each(|m| row.metrics.add(m));
                            out.push(row);
                        }
                    }
                }
            }
        }
        if grain == Grain::Campaign {
            out.push(campaign_row);
        }
    }
    out.retain(|row| !row.metrics.is_empty());
    out
}
