//! Sales and traffic per SKU per day (`GET_SALES_AND_TRAFFIC_REPORT`), generated per
//! (seed, seller, marketplace, date).
//!
//! Figures keep realistic relationships: order items ≤ sessions, units ≥ order
//! items, sales = units × price, page views ≥ sessions.

use chrono::NaiveDate;

use crate::rng::Rng;
use crate::truth::catalog::Product;

/// One SKU's figures for one day, as `salesAndTrafficByAsin` reports them at SKU
/// granularity for a one-day window.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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
