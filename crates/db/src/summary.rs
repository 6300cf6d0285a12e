//! The per-SKU summary of a store over a date range (FR-11 data): sales,
//! traffic and advertising summed per marketplace and SKU, with the SKU's
//! current inventory, and the ratios derived from them (ACoS, TACoS, weeks of
//! cover). The API, its CSV export and the dashboard's inventory table all
//! read this one computation.
//!
//! One statement per engine: the three snapshot tables (archive included, so
//! a range reaching archived days is whole) are grouped in the database. Money
//! is summed exactly: PostgreSQL sums `NUMERIC`; SQLite stores decimals as
//! text and its `SUM` would turn them into floats, so there each group's
//! amounts come back joined (`group_concat`) and are added up as `Decimal`s.

use amzsync_domain::{Marketplace, StoreId};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::db::on_pool;
use crate::snapshots::archive_union;
use crate::{ArchivedTable, Engine, Error, Result, Snapshots};

/// Decimal places of ACoS and TACoS (fractions: `0.2500` is 25 %).
const RATIO_DP: u32 = 4;
/// Decimal places of average weekly units and weeks of cover.
const WEEKS_DP: u32 = 2;

/// One SKU in one marketplace over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuSummary {
    pub marketplace_id: String,
    pub sku: String,
    pub asin: Option<String>,
    pub product_name: Option<String>,
    /// The rows' currency; the marketplace's when the SKU has no money rows.
    pub currency: String,
    /// Ordered product sales (Sales & Traffic).
    pub sales: Decimal,
    pub units: i64,
    pub sessions: i64,
    pub page_views: i64,
    /// Sponsored Products spend and 7-day attributed sales.
    pub ad_spend: Decimal,
    pub ad_sales: Decimal,
    /// The SKU's newest inventory snapshot in its marketplace, if it has one.
    pub inventory: Option<CurrentInventory>,
    /// Days in the range, both ends included: the base of the averages.
    pub days: u32,
}

/// A SKU's inventory on the newest day its marketplace has a snapshot for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentInventory {
    pub date: NaiveDate,
    pub fulfillable: i64,
    /// Working + shipped + receiving.
    pub inbound: i64,
    pub reserved: i64,
}

impl CurrentInventory {
    /// What weeks of cover counts: sellable now or on its way.
    pub fn available(&self) -> i64 {
        self.fulfillable + self.inbound
    }
}

fn ratio(numerator: Decimal, denominator: Decimal, dp: u32) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    // A fixed scale, so every value of a column reads alike ("14.00", "0.93").
    numerator.checked_div(denominator).map(|r| {
        let mut r = r.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(dp);
        r
    })
}

impl SkuSummary {
    /// Advertising cost of sales: ad spend / ad sales; `None` without ad sales.
    pub fn acos(&self) -> Option<Decimal> {
        ratio(self.ad_spend, self.ad_sales, RATIO_DP)
    }

    /// Total advertising cost of sales: ad spend / all sales; `None` without sales.
    pub fn tacos(&self) -> Option<Decimal> {
        ratio(self.ad_spend, self.sales, RATIO_DP)
    }

    /// Units ordered per week, averaged over the range.
    pub fn average_weekly_units(&self) -> Decimal {
        ratio(Decimal::from(self.units * 7), Decimal::from(self.days), WEEKS_DP)
            .expect("a range has at least one day")
    }

    /// Fulfillable + inbound units over the average weekly units (`inventory
    /// × days / (units × 7)`, computed whole before rounding); `None` without
    /// inventory or without units ordered in the range.
    pub fn weeks_of_cover(&self) -> Option<Decimal> {
        let inventory = self.inventory?;
        ratio(
            Decimal::from(inventory.available()) * Decimal::from(self.days),
            Decimal::from(self.units * 7),
            WEEKS_DP,
        )
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    marketplace_id: String,
    sku: String,
    asin: Option<String>,
    product_name: Option<String>,
    currency: Option<String>,
    sales: Option<String>,
    units: i64,
    sessions: i64,
    page_views: i64,
    ad_spend: Option<String>,
    ad_sales: Option<String>,
    inventory_date: Option<NaiveDate>,
    fulfillable: Option<i64>,
    inbound: Option<i64>,
    reserved: Option<i64>,
}

/// The exact sum of what the engine's money aggregate returned: one decimal
/// (PostgreSQL) or a comma-separated list of them (SQLite).
fn money(raw: Option<&str>, column: &'static str) -> Result<Decimal> {
    let mut sum = Decimal::ZERO;
    for part in raw.unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        let amount = Decimal::from_str_exact(part.trim()).map_err(|e| Error::Invalid {
            field: column,
            message: format!("stored amount {part:?} is not a decimal: {e}"),
        })?;
        sum = sum.checked_add(amount).ok_or(Error::Invalid {
            field: column,
            message: "the sum overflows a decimal".into(),
        })?;
    }
    Ok(sum.normalize())
}

impl Snapshots<'_> {
    /// Every SKU of the store with sales, traffic or advertising between
    /// `from` and `to` (both included) or with current inventory, in one
    /// marketplace or all, by marketplace and SKU.
    pub async fn summary(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
        marketplace: Option<&str>,
    ) -> Result<Vec<SkuSummary>> {
        let days = u32::try_from((to - from).num_days() + 1)
            .ok()
            .filter(|d| *d > 0)
            .ok_or_else(|| Error::Invalid {
                field: "from",
                message: format!("from ({from}) is after to ({to})"),
            })?;
        let sql = summary_sql(self.0.engine());
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .bind(marketplace)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|r| {
                let inventory = match (r.inventory_date, r.fulfillable) {
                    (Some(date), Some(fulfillable)) => Some(CurrentInventory {
                        date,
                        fulfillable,
                        inbound: r.inbound.unwrap_or(0),
                        reserved: r.reserved.unwrap_or(0),
                    }),
                    _ => None,
                };
                let currency = r.currency.unwrap_or_else(|| {
                    Marketplace::by_id(&r.marketplace_id)
                        .map(|m| m.currency().to_owned())
                        .unwrap_or_default()
                });
                Ok(SkuSummary {
                    sales: money(r.sales.as_deref(), "ordered_product_sales")?,
                    ad_spend: money(r.ad_spend.as_deref(), "spend")?,
                    ad_sales: money(r.ad_sales.as_deref(), "sales_7d")?,
                    marketplace_id: r.marketplace_id,
                    sku: r.sku,
                    asin: r.asin,
                    product_name: r.product_name,
                    currency,
                    units: r.units,
                    sessions: r.sessions,
                    page_views: r.page_views,
                    inventory,
                    days,
                })
            })
            .collect()
    }
}

/// `$1` store, `$2` from, `$3` to, `$4` marketplace or NULL.
fn summary_sql(engine: Engine) -> String {
    let sum_money = |column: &str| match engine {
        Engine::Postgres => format!("CAST(SUM({column}) AS TEXT)"),
        Engine::Sqlite => format!("group_concat({column}, ',')"),
    };
    let range = "store_id = $1 AND date BETWEEN $2 AND $3 AND ($4 IS NULL OR marketplace_id = $4)";
    let business = archive_union(
        "business_metric_snapshots",
        ArchivedTable::BusinessMetricSnapshots.key(),
        "marketplace_id, sku, asin, currency, ordered_product_sales, units_ordered, sessions, page_views",
        range,
    );
    let ads = archive_union(
        "ads_metric_snapshots",
        ArchivedTable::AdsMetricSnapshots.key(),
        "marketplace_id, sku, asin, currency, spend, sales_7d",
        range,
    );
    format!(
        "WITH b AS (
            SELECT marketplace_id, sku, MAX(asin) AS asin, MAX(currency) AS currency,
                {sales} AS sales, CAST(SUM(units_ordered) AS BIGINT) AS units,
                CAST(SUM(sessions) AS BIGINT) AS sessions, CAST(SUM(page_views) AS BIGINT) AS page_views
            FROM ({business}) bu GROUP BY marketplace_id, sku
        ), a AS (
            SELECT marketplace_id, sku, MAX(asin) AS asin, MAX(currency) AS currency,
                {spend} AS ad_spend, {ad_sales} AS ad_sales
            FROM ({ads}) au GROUP BY marketplace_id, sku
        ), i AS (
            -- Current inventory: the newest snapshot day of each marketplace
            -- (archived days are past the retention, never current).
            SELECT s.marketplace_id, s.sku, s.asin, s.product_name, s.date, s.fulfillable_quantity,
                s.inbound_quantity, s.reserved_quantity
            FROM inventory_snapshots s
            WHERE s.store_id = $1 AND ($4 IS NULL OR s.marketplace_id = $4)
              AND s.date = (SELECT MAX(x.date) FROM inventory_snapshots x
                            WHERE x.store_id = $1 AND x.marketplace_id = s.marketplace_id)
        ), k AS (
            SELECT marketplace_id, sku FROM b
            UNION SELECT marketplace_id, sku FROM a
            UNION SELECT marketplace_id, sku FROM i
        )
        SELECT k.marketplace_id, k.sku, COALESCE(i.asin, b.asin, a.asin) AS asin, i.product_name,
            COALESCE(b.currency, a.currency) AS currency,
            b.sales, COALESCE(b.units, 0) AS units, COALESCE(b.sessions, 0) AS sessions,
            COALESCE(b.page_views, 0) AS page_views, a.ad_spend, a.ad_sales,
            i.date AS inventory_date, i.fulfillable_quantity AS fulfillable,
            i.inbound_quantity AS inbound, i.reserved_quantity AS reserved
        FROM k
        LEFT JOIN b ON b.marketplace_id = k.marketplace_id AND b.sku = k.sku
        LEFT JOIN a ON a.marketplace_id = k.marketplace_id AND a.sku = k.sku
        LEFT JOIN i ON i.marketplace_id = k.marketplace_id AND i.sku = k.sku
        ORDER BY k.marketplace_id, k.sku",
        sales = sum_money("ordered_product_sales"),
        spend = sum_money("spend"),
        ad_sales = sum_money("sales_7d"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(units: i64, days: u32, available: Option<i64>) -> SkuSummary {
        SkuSummary {
            marketplace_id: "ATVPDKIKX0DER".into(),
            sku: "S".into(),
            asin: None,
            product_name: None,
            currency: "USD".into(),
            sales: Decimal::new(10000, 2),
            units,
            sessions: 0,
            page_views: 0,
            ad_spend: Decimal::new(1000, 2),
            ad_sales: Decimal::ZERO,
            inventory: available.map(|a| CurrentInventory {
                date: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
                fulfillable: a,
                inbound: 0,
                reserved: 0,
            }),
            days,
        }
    }

    #[test]
    fn ratios_without_a_denominator_are_none() {
        let s = summary(0, 30, Some(10));
        assert_eq!(s.acos(), None);
        assert_eq!(s.tacos(), Some(Decimal::new(1000, 4)));
        assert_eq!(s.weeks_of_cover(), None);
        assert_eq!(s.average_weekly_units(), Decimal::ZERO);
        assert_eq!(summary(5, 30, None).weeks_of_cover(), None);
    }

    #[test]
    fn weeks_of_cover_is_computed_whole_before_rounding() {
        // 100 units in 30 days: 23.33… a week; 70 units cover 70 × 30 / 700 = 3 weeks.
        let s = summary(100, 30, Some(70));
        assert_eq!(s.average_weekly_units(), Decimal::new(2333, 2));
        assert_eq!(s.weeks_of_cover(), Some(Decimal::new(300, 2)));
    }

    #[test]
    fn sqlite_amounts_are_added_exactly() {
        let sum = money(Some("0.1,0.2,10.005"), "spend").unwrap();
        assert_eq!(sum, Decimal::new(10305, 3));
        assert_eq!(money(None, "spend").unwrap(), Decimal::ZERO);
        assert!(money(Some("1.0,x"), "spend").is_err());
    }
}
