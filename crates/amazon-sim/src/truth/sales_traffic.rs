//! Sales and traffic per SKU per day (`GET_SALES_AND_TRAFFIC_REPORT`), generated per
//! (seed, seller, marketplace, date).
//!
//! Figures keep realistic relationships: order items ≤ sessions, units ≥ order
//! items, sales = units × price, page views ≥ sessions.
//!
//! Amazon's figures for a day are incomplete at first and keep changing for about
//! a week (up to 72 h to be complete, restated for a week: PROTOCOL.md §4.4.4).
//! [`restate`] derives a day's provisional figures from its final ones and its age,
//! so they only grow towards the final values and reach them after the window.

use chrono::NaiveDate;

use crate::rng::Rng;
use crate::truth::catalog::Product;

/// One SKU's figures for one day, as `salesAndTrafficByAsin` reports them at SKU
/// granularity for a one-day window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SkuSalesAndTraffic {
    /// `parentAsin`.
    pub parent_asin: String,
    /// `childAsin`.
    pub child_asin: String,
    /// `sku`.
    pub sku: String,
    /// `salesByAsin.unitsOrdered`.
    pub units_ordered: u32,
    /// `salesByAsin.orderedProductSales.amount`, in hundredths of the currency unit.
    pub ordered_product_sales_cents: i64,
    /// `salesByAsin.totalOrderItems`.
    pub total_order_items: u32,
    /// `trafficByAsin.browserSessions`.
    pub browser_sessions: u32,
    /// `trafficByAsin.mobileAppSessions`.
    pub mobile_app_sessions: u32,
    /// `trafficByAsin.browserPageViews`.
    pub browser_page_views: u32,
    /// `trafficByAsin.mobileAppPageViews`.
    pub mobile_app_page_views: u32,
    /// `trafficByAsin.buyBoxPercentage` (percent, two decimals).
    pub buy_box_percentage: f64,
}

impl SkuSalesAndTraffic {
    /// `trafficByAsin.sessions`.
    pub fn sessions(&self) -> u32 {
        self.browser_sessions + self.mobile_app_sessions
    }

    /// `trafficByAsin.pageViews`.
    pub fn page_views(&self) -> u32 {
        self.browser_page_views + self.mobile_app_page_views
    }
}

/// The account-wide figures of one day (`salesAndTrafficByDate`), over all SKUs
/// including those without orders.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DateTotals {
    /// `salesByDate.orderedProductSales`, in hundredths of the currency unit.
    pub ordered_product_sales_cents: i64,
    /// `salesByDate.unitsOrdered`.
    pub units_ordered: u32,
    /// `salesByDate.totalOrderItems`.
    pub total_order_items: u32,
    /// `salesByDate.unitsRefunded`.
    pub units_refunded: u32,
    /// `salesByDate.claimsGranted`.
    pub claims_granted: u32,
    /// `salesByDate.claimsAmount`, in hundredths of the currency unit.
    pub claims_amount_cents: i64,
    /// `salesByDate.shippedProductSales`, in hundredths of the currency unit.
    pub shipped_product_sales_cents: i64,
    /// `salesByDate.unitsShipped`.
    pub units_shipped: u32,
    /// `salesByDate.ordersShipped`.
    pub orders_shipped: u32,
    /// `trafficByDate.browserPageViews`.
    pub browser_page_views: u32,
    /// `trafficByDate.mobileAppPageViews`.
    pub mobile_app_page_views: u32,
    /// `trafficByDate.browserSessions`.
    pub browser_sessions: u32,
    /// `trafficByDate.mobileAppSessions`.
    pub mobile_app_sessions: u32,
    /// `trafficByDate.buyBoxPercentage`.
    pub buy_box_percentage: f64,
    /// `trafficByDate.averageOfferCount`.
    pub average_offer_count: u32,
    /// `trafficByDate.averageParentItems`.
    pub average_parent_items: u32,
    /// `trafficByDate.feedbackReceived`.
    pub feedback_received: u32,
    /// `trafficByDate.negativeFeedbackReceived`.
    pub negative_feedback_received: u32,
}

/// One day of sales and traffic for one seller and marketplace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SalesAndTrafficDay {
    /// The day.
    pub date: NaiveDate,
    /// Currency of every amount.
    pub currency_code: String,
    /// The account-wide totals.
    pub totals: DateTotals,
    /// Every SKU with at least one unit ordered, in catalog order. SKU granularity
    /// omits SKUs with traffic but no orders, as Amazon does (PROTOCOL.md §4.4.4).
    pub skus: Vec<SkuSalesAndTraffic>,
}

/// What one `salesAndTrafficByAsin` row stands for (`reportOptions.asinGranularity`,
/// PROTOCOL.md §4.4.2, §4.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AsinGranularity {
    /// One row per parent ASIN (Amazon's default): `childAsin` and `sku` absent.
    #[default]
    Parent,
    /// One row per child ASIN, including ASINs with traffic but no orders; `sku`
    /// absent.
    Child,
    /// One row per SKU, only SKUs with orders.
    Sku,
}

impl AsinGranularity {
    /// Amazon's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parent => "PARENT",
            Self::Child => "CHILD",
            Self::Sku => "SKU",
        }
    }

    /// Parses Amazon's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Parent, Self::Child, Self::Sku]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// The by-ASIN rows at `granularity` from every SKU's figures (of a day or summed
/// over a range), in catalog order of first appearance. Rows above SKU level sum
/// their SKUs and leave the finer identifiers empty; the buy-box share is averaged
/// by page views. SKU rows need an order, CHILD and PARENT rows traffic or an
/// order, as Amazon's (PROTOCOL.md §4.4.4).
pub(crate) fn by_asin(skus: &[SkuSalesAndTraffic], granularity: AsinGranularity) -> Vec<SkuSalesAndTraffic> {
    if granularity == AsinGranularity::Sku {
        return skus.iter().filter(|s| s.units_ordered > 0).cloned().collect();
    }
    let mut rows: Vec<SkuSalesAndTraffic> = Vec::new();
    for sku in skus {
        let key = SkuSalesAndTraffic {
            child_asin: if granularity == AsinGranularity::Child {
                sku.child_asin.clone()
            } else {
                String::new()
            },
            sku: String::new(),
            ..sku.clone()
        };
        match rows
            .iter_mut()
            .find(|r| r.parent_asin == key.parent_asin && r.child_asin == key.child_asin)
        {
            Some(row) => add(row, sku),
            None => rows.push(key),
        }
    }
    rows.retain(|r| r.units_ordered > 0 || r.sessions() > 0);
    rows
}

/// Adds one set of figures to a running sum; the buy-box share is averaged by page
/// views.
pub(crate) fn add(sum: &mut SkuSalesAndTraffic, more: &SkuSalesAndTraffic) {
    let buy_box = weighted_buy_box(&[sum.clone(), more.clone()]);
    sum.units_ordered += more.units_ordered;
    sum.ordered_product_sales_cents += more.ordered_product_sales_cents;
    sum.total_order_items += more.total_order_items;
    sum.browser_sessions += more.browser_sessions;
    sum.mobile_app_sessions += more.mobile_app_sessions;
    sum.browser_page_views += more.browser_page_views;
    sum.mobile_app_page_views += more.mobile_app_page_views;
    sum.buy_box_percentage = buy_box;
}

/// All SKUs of the day, including those without orders (the totals need them).
pub(crate) fn all_skus(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    products: &[Product],
) -> Vec<SkuSalesAndTraffic> {
    let date_label = date.to_string();
    products
        .iter()
        .map(|p| {
            let mut r = Rng::keyed(seed, &["sales", seller, marketplace_id, &date_label, &p.sku]);
            let small = |r: &mut Rng, hi: u64| u32::try_from(r.below(hi + 1)).unwrap_or(0);
            let browser_sessions = small(&mut r, 4 * p.popularity);
            let mobile_app_sessions = small(&mut r, 4 * p.popularity);
            let browser_page_views = browser_sessions + small(&mut r, u64::from(browser_sessions / 2));
            let mobile_app_page_views =
                mobile_app_sessions + small(&mut r, u64::from(mobile_app_sessions / 2));
            let sessions = browser_sessions + mobile_app_sessions;
            // About one session in ten orders; some orders carry two units.
            let total_order_items =
                u32::try_from((0..sessions).filter(|_| r.chance(10)).count()).unwrap_or(0);
            let extra_units = if total_order_items > 0 && r.chance(20) {
                small(&mut r, u64::from(total_order_items))
            } else {
                0
            };
            let units_ordered = total_order_items + extra_units;
            let buy_box_percentage = if sessions == 0 {
                0.0
            } else {
                r.between(8500, 10000) as f64 / 100.0
            };
            SkuSalesAndTraffic {
                parent_asin: p.parent_asin.clone(),
                child_asin: p.asin.clone(),
                sku: p.sku.clone(),
                units_ordered,
                ordered_product_sales_cents: i64::from(units_ordered) * p.price_cents,
                total_order_items,
                browser_sessions,
                mobile_app_sessions,
                browser_page_views,
                mobile_app_page_views,
                buy_box_percentage,
            }
        })
        .collect()
}

/// The figures of a day `age` days old (at the instant the truth answers for): the
/// final ones once `window` days have passed, otherwise a deterministic share of
/// them that grows with age. Each SKU keeps its relationships: order items ≤
/// sessions ≤ page views, units ≥ order items, sales = units × price.
pub(crate) fn restate(
    seed: u64,
    (seller, marketplace_id, date): (&str, &str, NaiveDate),
    age: i64,
    window: u32,
    skus: Vec<SkuSalesAndTraffic>,
) -> Vec<SkuSalesAndTraffic> {
    if age >= i64::from(window) {
        return skus;
    }
    // Share of the final figures known, in per mille, by age: most of the gap
    // closes in the first 72 h, the rest is small restatement.
    let (lo, hi) = match age {
        ..=0 => (600, 900),
        1 => (800, 970),
        2 => (900, 990),
        _ => (970, 1000),
    };
    let (date_label, age_label) = (date.to_string(), age.to_string());
    skus.into_iter()
        .map(|s| {
            let mut r = Rng::keyed(
                seed,
                &["restate", seller, marketplace_id, &date_label, &age_label, &s.sku],
            );
            let share = r.between(lo, hi);
            let part = |n: u32| u32::try_from(u64::from(n) * share / 1000).unwrap_or(n);
            let browser_sessions = part(s.browser_sessions);
            let mobile_app_sessions = part(s.mobile_app_sessions);
            let total_order_items = part(s.total_order_items).min(browser_sessions + mobile_app_sessions);
            let units_ordered = total_order_items + part(s.units_ordered - s.total_order_items);
            let price = if s.units_ordered == 0 {
                0
            } else {
                s.ordered_product_sales_cents / i64::from(s.units_ordered)
            };
            SkuSalesAndTraffic {
                units_ordered,
                ordered_product_sales_cents: i64::from(units_ordered) * price,
                total_order_items,
                browser_sessions,
                mobile_app_sessions,
                browser_page_views: part(s.browser_page_views).max(browser_sessions),
                mobile_app_page_views: part(s.mobile_app_page_views).max(mobile_app_sessions),
                ..s
            }
        })
        .collect()
}

/// The account totals of a day, from all its SKUs.
pub(crate) fn totals(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    skus: &[SkuSalesAndTraffic],
) -> DateTotals {
    let mut r = Rng::keyed(seed, &["sales-day", seller, marketplace_id, &date.to_string()]);
    let sum = |f: fn(&SkuSalesAndTraffic) -> u32| skus.iter().map(f).sum::<u32>();
    let units_ordered = sum(|s| s.units_ordered);
    let total_order_items = sum(|s| s.total_order_items);
    let sales: i64 = skus.iter().map(|s| s.ordered_product_sales_cents).sum();
    let units_shipped = units_ordered - u32::try_from(r.below(u64::from(units_ordered / 4) + 1)).unwrap_or(0);
    let orders_shipped = total_order_items.min(units_shipped);
    let shipped_product_sales_cents = if units_ordered == 0 {
        0
    } else {
        sales * i64::from(units_shipped) / i64::from(units_ordered)
    };
    let mut parents: Vec<&str> = skus
        .iter()
        .filter(|s| s.sessions() > 0)
        .map(|s| s.parent_asin.as_str())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let feedback_received = u32::try_from(r.below(3)).unwrap_or(0);
    DateTotals {
        ordered_product_sales_cents: sales,
        units_ordered,
        total_order_items,
        units_refunded: u32::try_from(r.below(u64::from(units_ordered / 8) + 1)).unwrap_or(0),
        claims_granted: 0,
        claims_amount_cents: 0,
        shipped_product_sales_cents,
        units_shipped,
        orders_shipped,
        browser_page_views: sum(|s| s.browser_page_views),
        mobile_app_page_views: sum(|s| s.mobile_app_page_views),
        browser_sessions: sum(|s| s.browser_sessions),
        mobile_app_sessions: sum(|s| s.mobile_app_sessions),
        buy_box_percentage: weighted_buy_box(skus),
        average_offer_count: u32::try_from(r.between(1, 15)).unwrap_or(1),
        average_parent_items: u32::try_from(parents.len()).unwrap_or(u32::MAX),
        feedback_received,
        negative_feedback_received: if feedback_received > 0 && r.chance(10) {
            1
        } else {
            0
        },
    }
}

/// Buy-box share weighted by page views, rounded to two decimals.
pub(crate) fn weighted_buy_box(skus: &[SkuSalesAndTraffic]) -> f64 {
    let views: u64 = skus.iter().map(|s| u64::from(s.page_views())).sum();
    if views == 0 {
        return 0.0;
    }
    let weighted: f64 = skus
        .iter()
        .map(|s| s.buy_box_percentage * f64::from(s.page_views()))
        .sum();
    round2(weighted / views as f64)
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
