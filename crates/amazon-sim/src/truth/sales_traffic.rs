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

impl DateTotals {
    /// The totals of a period (a `WEEK` or `MONTH` entry of
    /// `salesAndTrafficByDate`) from those of its days: counts and amounts add
    /// up, the buy-box share is averaged by page views, and the daily averages
    /// (offer count, parent items) are averaged over the days. \[UNC\] Amazon does
    /// not document how it derives the last two for a period.
    pub fn combine(days: &[DateTotals]) -> DateTotals {
        let sum = |f: fn(&DateTotals) -> u32| days.iter().map(f).sum::<u32>();
        let cents = |f: fn(&DateTotals) -> i64| days.iter().map(f).sum::<i64>();
        let views: u64 = days
            .iter()
            .map(|d| u64::from(d.browser_page_views + d.mobile_app_page_views))
            .sum();
        let weighted: f64 = days
            .iter()
            .map(|d| d.buy_box_percentage * f64::from(d.browser_page_views + d.mobile_app_page_views))
            .sum();
        let mean = |f: fn(&DateTotals) -> u32| {
            let n = u32::try_from(days.len()).unwrap_or(u32::MAX).max(1);
            (sum(f) + n / 2) / n
        };
        DateTotals {
            ordered_product_sales_cents: cents(|d| d.ordered_product_sales_cents),
            units_ordered: sum(|d| d.units_ordered),
            total_order_items: sum(|d| d.total_order_items),
            units_refunded: sum(|d| d.units_refunded),
            claims_granted: sum(|d| d.claims_granted),
            claims_amount_cents: cents(|d| d.claims_amount_cents),
            shipped_product_sales_cents: cents(|d| d.shipped_product_sales_cents),
            units_shipped: sum(|d| d.units_shipped),
            orders_shipped: sum(|d| d.orders_shipped),
            browser_page_views: sum(|d| d.browser_page_views),
            mobile_app_page_views: sum(|d| d.mobile_app_page_views),
            browser_sessions: sum(|d| d.browser_sessions),
            mobile_app_sessions: sum(|d| d.mobile_app_sessions),
            buy_box_percentage: if views == 0 {
                0.0
            } else {
                round2(weighted / views as f64)
            },
            average_offer_count: mean(|d| d.average_offer_count),
            average_parent_items: mean(|d| d.average_parent_items),
            feedback_received: sum(|d| d.feedback_received),
            negative_feedback_received: sum(|d| d.negative_feedback_received),
        }
    }
}

/// `reportOptions.dateGranularity`: how `salesAndTrafficByDate` splits the window
/// (PROTOCOL.md §4.4.1). It does not touch `salesAndTrafficByAsin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DateGranularity {
    #[default]
    Day,
    /// Weeks from Sunday to Saturday.
    Week,
    Month,
}

impl DateGranularity {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "DAY" => Some(Self::Day),
            "WEEK" => Some(Self::Week),
            "MONTH" => Some(Self::Month),
            _ => None,
        }
    }

    /// The periods of the by-date section for the window `first..=last`, each as
    /// its days: the window widened to whole periods (§4.4.1), but never past
    /// `today`, which has no figures yet beyond its own.
    pub(crate) fn periods(self, first: NaiveDate, last: NaiveDate, today: NaiveDate) -> Vec<Vec<NaiveDate>> {
        use chrono::Datelike as _;
        let start_of = |day: NaiveDate| match self {
            Self::Day => day,
            Self::Week => day - chrono::Duration::days(i64::from(day.weekday().num_days_from_sunday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        };
        let (from, to) = match self {
            Self::Day => (first, last),
            _ => {
                let mut to = last;
                while let Some(next) = to.succ_opt().filter(|n| start_of(*n) == start_of(last)) {
                    to = next;
                }
                (start_of(first), to.min(today.max(last)))
            }
        };
        let mut periods: Vec<Vec<NaiveDate>> = Vec::new();
        for day in from.iter_days().take_while(|d| *d <= to) {
            match periods.last_mut() {
                Some(period) if start_of(period[0]) == start_of(day) => period.push(day),
                _ => periods.push(vec![day]),
            }
        }
        periods
    }
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
/// over a range), in catalog order. Rows above SKU level sum their SKUs and leave
/// the finer identifiers empty; the buy-box share is averaged by page views. SKU
/// rows need an order, CHILD and PARENT rows traffic or an order, as Amazon's
/// (PROTOCOL.md §4.4.4).
pub(crate) fn by_asin(skus: &[SkuSalesAndTraffic], granularity: AsinGranularity) -> Vec<SkuSalesAndTraffic> {
    let mut grouper = AsinGrouper::new(granularity);
    let mut rows: Vec<SkuSalesAndTraffic> = skus.iter().filter_map(|s| grouper.push(s.clone())).collect();
    rows.extend(grouper.finish());
    rows
}

/// Groups SKU figures, fed in catalog order, into by-ASIN rows one at a time, so a
/// report of any size is grouped in constant memory. A variation family's SKUs are
/// adjacent in the catalog (three per parent) and a child ASIN belongs to one SKU,
/// so a group is a run of adjacent SKUs with the same key.
#[derive(Debug)]
pub(crate) struct AsinGrouper {
    granularity: AsinGranularity,
    current: Option<SkuSalesAndTraffic>,
}

impl AsinGrouper {
    pub(crate) fn new(granularity: AsinGranularity) -> Self {
        Self {
            granularity,
            current: None,
        }
    }

    /// Adds the next SKU; returns a finished row when this SKU starts a new group.
    pub(crate) fn push(&mut self, sku: SkuSalesAndTraffic) -> Option<SkuSalesAndTraffic> {
        if self.granularity == AsinGranularity::Sku {
            return (sku.units_ordered > 0).then_some(sku);
        }
        let key = SkuSalesAndTraffic {
            child_asin: if self.granularity == AsinGranularity::Child {
                sku.child_asin
            } else {
                String::new()
            },
            sku: String::new(),
            ..sku
        };
        match &mut self.current {
            Some(row) if row.parent_asin == key.parent_asin && row.child_asin == key.child_asin => {
                add(row, &key);
                None
            }
            _ => self.current.replace(key).filter(Self::shown),
        }
    }

    /// The last group, if it is shown.
    pub(crate) fn finish(&mut self) -> Option<SkuSalesAndTraffic> {
        self.current.take().filter(Self::shown)
    }

    fn shown(row: &SkuSalesAndTraffic) -> bool {
        row.units_ordered > 0 || row.sessions() > 0
    }
}

/// Adds one set of figures to a running sum; the buy-box share is averaged by page
/// views.
pub(crate) fn add(sum: &mut SkuSalesAndTraffic, more: &SkuSalesAndTraffic) {
    let views = u64::from(sum.page_views()) + u64::from(more.page_views());
    let buy_box = if views == 0 {
        0.0
    } else {
        round2(
            (sum.buy_box_percentage * f64::from(sum.page_views())
                + more.buy_box_percentage * f64::from(more.page_views()))
                / views as f64,
        )
    };
    sum.units_ordered += more.units_ordered;
    sum.ordered_product_sales_cents += more.ordered_product_sales_cents;
    sum.total_order_items += more.total_order_items;
    sum.browser_sessions += more.browser_sessions;
    sum.mobile_app_sessions += more.mobile_app_sessions;
    sum.browser_page_views += more.browser_page_views;
    sum.mobile_app_page_views += more.mobile_app_page_views;
    sum.buy_box_percentage = buy_box;
}

/// One SKU's final figures of the day: depends on nothing but the SKU, so reports
/// generate them one at a time.
pub(crate) fn sku(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    p: &Product,
) -> SkuSalesAndTraffic {
    let date_label = date.to_string();
    let mut r = Rng::keyed(seed, &["sales", seller, marketplace_id, &date_label, &p.sku]);
    let small = |r: &mut Rng, hi: u64| u32::try_from(r.below(hi + 1)).unwrap_or(0);
    let browser_sessions = small(&mut r, 4 * p.popularity);
    let mobile_app_sessions = small(&mut r, 4 * p.popularity);
    let browser_page_views = browser_sessions + small(&mut r, u64::from(browser_sessions / 2));
    let mobile_app_page_views = mobile_app_sessions + small(&mut r, u64::from(mobile_app_sessions / 2));
    let sessions = browser_sessions + mobile_app_sessions;
    // About one session in ten orders; some orders carry two units.
    let total_order_items = u32::try_from((0..sessions).filter(|_| r.chance(10)).count()).unwrap_or(0);
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
    s: SkuSalesAndTraffic,
) -> SkuSalesAndTraffic {
    if age >= i64::from(window) {
        return s;
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
}

/// The account totals of a day, from all its SKUs.
pub(crate) fn totals(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: NaiveDate,
    skus: &[SkuSalesAndTraffic],
) -> DateTotals {
    let mut sum = TotalsSum::default();
    skus.iter().for_each(|s| sum.add(s));
    sum.totals(seed, seller, marketplace_id, date)
}

/// Running sums of a day's SKUs, fed one at a time in catalog order, from which
/// [`TotalsSum::totals`] derives the day's totals: a report of any size sums its
/// day without holding it.
#[derive(Debug, Clone, Default)]
pub(crate) struct TotalsSum {
    units_ordered: u32,
    total_order_items: u32,
    sales_cents: i64,
    browser_page_views: u32,
    mobile_app_page_views: u32,
    browser_sessions: u32,
    mobile_app_sessions: u32,
    views: u64,
    weighted_buy_box: f64,
    /// Parent ASINs with traffic; a family's SKUs are adjacent, so counting
    /// changes of parent counts them.
    parents: u32,
    last_parent: Option<String>,
}

impl TotalsSum {
    pub(crate) fn add(&mut self, s: &SkuSalesAndTraffic) {
        self.units_ordered += s.units_ordered;
        self.total_order_items += s.total_order_items;
        self.sales_cents += s.ordered_product_sales_cents;
        self.browser_page_views += s.browser_page_views;
        self.mobile_app_page_views += s.mobile_app_page_views;
        self.browser_sessions += s.browser_sessions;
        self.mobile_app_sessions += s.mobile_app_sessions;
        self.views += u64::from(s.page_views());
        self.weighted_buy_box += s.buy_box_percentage * f64::from(s.page_views());
        if s.sessions() > 0 && self.last_parent.as_deref() != Some(s.parent_asin.as_str()) {
            self.parents += 1;
            self.last_parent = Some(s.parent_asin.clone());
        }
    }

    pub(crate) fn totals(
        &self,
        seed: u64,
        seller: &str,
        marketplace_id: &str,
        date: NaiveDate,
    ) -> DateTotals {
        let mut r = Rng::keyed(seed, &["sales-day", seller, marketplace_id, &date.to_string()]);
        let (units_ordered, total_order_items, sales) =
            (self.units_ordered, self.total_order_items, self.sales_cents);
        let units_shipped =
            units_ordered - u32::try_from(r.below(u64::from(units_ordered / 4) + 1)).unwrap_or(0);
        let orders_shipped = total_order_items.min(units_shipped);
        let shipped_product_sales_cents = if units_ordered == 0 {
            0
        } else {
            sales * i64::from(units_shipped) / i64::from(units_ordered)
        };
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
            browser_page_views: self.browser_page_views,
            mobile_app_page_views: self.mobile_app_page_views,
            browser_sessions: self.browser_sessions,
            mobile_app_sessions: self.mobile_app_sessions,
            buy_box_percentage: if self.views == 0 {
                0.0
            } else {
                round2(self.weighted_buy_box / self.views as f64)
            },
            average_offer_count: u32::try_from(r.between(1, 15)).unwrap_or(1),
            average_parent_items: self.parents,
            feedback_received,
            negative_feedback_received: if feedback_received > 0 && r.chance(10) {
                1
            } else {
                0
            },
        }
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn spans(periods: &[Vec<NaiveDate>]) -> Vec<(String, String)> {
        periods
            .iter()
            .map(|p| (p[0].to_string(), p[p.len() - 1].to_string()))
            .collect()
    }

    #[test]
    fn weeks_run_sunday_to_saturday_and_months_are_calendar_months_never_past_today() {
        let today = day("2024-05-02");
        let weeks = DateGranularity::Week.periods(day("2024-04-27"), day("2024-04-28"), today);
        assert_eq!(
            spans(&weeks),
            [
                ("2024-04-21".into(), "2024-04-27".into()),
                ("2024-04-28".into(), "2024-05-02".into())
            ]
        );
        let months = DateGranularity::Month.periods(day("2024-02-10"), day("2024-03-01"), today);
        assert_eq!(
            spans(&months),
            [
                ("2024-02-01".into(), "2024-02-29".into()),
                ("2024-03-01".into(), "2024-03-31".into())
            ]
        );
        let days = DateGranularity::Day.periods(day("2024-04-27"), day("2024-04-28"), today);
        assert_eq!(days, [vec![day("2024-04-27")], vec![day("2024-04-28")]]);
    }

    #[test]
    fn adjacent_skus_of_a_family_make_one_parent_row_and_empty_rows_are_left_out() {
        let sku = |parent: &str, child: &str, units: u32, sessions: u32| SkuSalesAndTraffic {
            parent_asin: parent.into(),
            child_asin: child.into(),
            sku: format!("SKU-{child}"),
            units_ordered: units,
            ordered_product_sales_cents: i64::from(units) * 100,
            total_order_items: units,
            browser_sessions: sessions,
            mobile_app_sessions: 0,
            browser_page_views: sessions,
            mobile_app_page_views: 0,
            buy_box_percentage: if sessions > 0 { 90.0 } else { 0.0 },
        };
        let skus = [
            sku("P1", "C1", 1, 3),
            sku("P1", "C2", 0, 1),
            sku("P2", "C3", 0, 0),
            sku("P3", "C4", 2, 2),
        ];
        let parents = by_asin(&skus, AsinGranularity::Parent);
        let rows: Vec<(&str, u32, u32)> = parents
            .iter()
            .map(|r| (r.parent_asin.as_str(), r.units_ordered, r.sessions()))
            .collect();
        assert_eq!(rows, [("P1", 1, 4), ("P3", 2, 2)]);
        assert_eq!(by_asin(&skus, AsinGranularity::Child).len(), 3);
        assert_eq!(by_asin(&skus, AsinGranularity::Sku).len(), 2);
    }
}
