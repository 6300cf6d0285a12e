//! `/amazon/stores/{store_id}/inventory|business-metrics|ads-metrics|summary`:
//! the synced snapshot rows and the per-SKU summary over a range, as JSON or
//! CSV (`?format=csv` or `Accept: text/csv`).

use amzsync_db::{AdsMetricRow, BusinessMetricRow, InventoryRow, SkuSummary, Stamped};
use amzsync_domain::{Marketplace, StoreId};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::responses::{BadRequest, NotFound, Unauthorized, Unprocessable};
use crate::extract::{Query, StoreIdPath, parse_field, require_field};
use crate::tabular::{Format, render};
use crate::{ApiError, AppState, Caller};

/// The longest range one request may read (a year and a day, so a leap year fits).
const MAX_RANGE_DAYS: i64 = 366;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inventory))
        .routes(routes!(business_metrics))
        .routes(routes!(ads_metrics))
        .routes(routes!(summary))
}

/// `?date=&marketplace_id=&format=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    /// The day of the snapshot; each marketplace's newest one when left out.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// Only this marketplace (an id, or a country code).
    #[param(value_type = Option<String>)]
    pub marketplace_id: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<String>,
}

/// `?from=&to=&marketplace_id=&format=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// The first day (required).
    #[param(value_type = String, format = Date)]
    pub from: Option<String>,
    /// The last day, included (required); at most 366 days after `from`.
    #[param(value_type = String, format = Date)]
    pub to: Option<String>,
    /// Only this marketplace (an id, or a country code).
    #[param(value_type = Option<String>)]
    pub marketplace_id: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<String>,
}

/// A validated date range.
struct Range {
    from: NaiveDate,
    to: NaiveDate,
}

impl RangeQuery {
    fn range(&self) -> Result<Range, ApiError> {
        let from: NaiveDate = require_field("from", self.from.as_deref())?;
        let to: NaiveDate = require_field("to", self.to.as_deref())?;
        if from > to {
            return Err(ApiError::unprocessable(
                "from",
                format!("from ({from}) is after to ({to})"),
            ));
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(ApiError::unprocessable(
                "to",
                format!("a range is at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Range { from, to })
    }
}

/// The marketplace filter, as the marketplace id rows carry.
fn marketplace(raw: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    Ok(parse_field::<Marketplace>("marketplace_id", raw)?.map(|m| m.id()))
}

/// Another tenant's store must answer 404 before any row is read.
async fn visible_store(state: &AppState, caller: &Caller, id: StoreId) -> Result<StoreId, ApiError> {
    Ok(state.db.stores().get(caller.scope(), id).await?.id)
}

/// A date-range endpoint's request, checked in the order all of them answer
/// (format, range, marketplace, then the store's visibility), and its answer.
struct RangeRequest {
    format: Format,
    range: Range,
    market: Option<&'static str>,
    store: StoreId,
}

impl RangeRequest {
    async fn check(
        state: &AppState,
        caller: &Caller,
        id: StoreId,
        q: &RangeQuery,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        let format = Format::negotiate(q.format.as_deref(), headers)?;
        let range = q.range()?;
        let market = marketplace(q.marketplace_id.as_deref())?;
        let store = visible_store(state, caller, id).await?;
        Ok(RangeRequest {
            format,
            range,
            market,
            store,
        })
    }

    /// `items` in the negotiated format; a CSV download is named
    /// `<what>-<store>-<from>-<to>`.
    fn render<T: Serialize>(&self, what: &str, items: Vec<T>) -> Result<Response, ApiError> {
        let name = format!("{what}-{}-{}-{}", self.store, self.range.from, self.range.to);
        render(self.format, &name, items)
    }
}

/// One SKU's FBA inventory in one marketplace on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryItem {
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub fnsku: Option<String>,
    pub product_name: Option<String>,
    pub condition: Option<String>,
    pub fulfillable_quantity: i64,
    pub inbound_working_quantity: i64,
    pub inbound_shipped_quantity: i64,
    pub inbound_receiving_quantity: i64,
    pub reserved_quantity: i64,
    pub unfulfillable_quantity: i64,
    pub researching_quantity: i64,
    pub total_quantity: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<Stamped<InventoryRow>> for InventoryItem {
    fn from(s: Stamped<InventoryRow>) -> Self {
        let r = s.row;
        InventoryItem {
            marketplace_id: r.marketplace_id,
            date: r.date,
            sku: r.sku,
            asin: r.asin,
            fnsku: r.fnsku,
            product_name: r.product_name,
            condition: r.condition,
            fulfillable_quantity: r.fulfillable_quantity,
            inbound_working_quantity: r.inbound_working_quantity,
            inbound_shipped_quantity: r.inbound_shipped_quantity,
            inbound_receiving_quantity: r.inbound_receiving_quantity,
            reserved_quantity: r.reserved_quantity,
            unfulfillable_quantity: r.unfulfillable_quantity,
            researching_quantity: r.researching_quantity,
            total_quantity: r.total_quantity,
            updated_at: s.updated_at,
        }
    }
}

/// Inventory rows, as JSON (`{ "items": [...] }`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryItems {
    pub items: Vec<InventoryItem>,
}

/// The store's FBA inventory on one day, per marketplace and SKU.
#[utoipa::path(get, path = "/stores/{store_id}/inventory", tag = "data",
    params(("store_id" = i64, Path, description = "The store"), InventoryQuery),
    responses(
        (status = 200, description = "The rows", content(
            (InventoryItems = "application/json"),
            (String = "text/csv"),
        )),
        BadRequest, Unauthorized, NotFound,
    ))]
async fn inventory(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
    Query(q): Query<InventoryQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = Format::negotiate(q.format.as_deref(), &headers)?;
    let market = marketplace(q.marketplace_id.as_deref())?;
    let store = visible_store(&state, &caller, id).await?;
    let snapshots = state.db.snapshots();
    let (rows, name) = match q.date.as_deref() {
        Some(_) => {
            let date: NaiveDate = require_field("date", q.date.as_deref())?;
            let rows = snapshots.inventory_on(store, date, market).await?;
            (rows, format!("inventory-{store}-{date}"))
        }
        // Without a date: each marketplace's newest snapshot, which is what
        // "inventory" means to a seller.
        None => {
            let rows = snapshots.inventory_latest(store, market).await?;
            (rows, format!("inventory-{store}-latest"))
        }
    };
    let items: Vec<InventoryItem> = rows.into_iter().map(Into::into).collect();
    render(format, &name, items)
}

/// One SKU's Sales & Traffic in one marketplace on one day. Money is a decimal string.
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessMetricItem {
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub parent_asin: Option<String>,
    pub currency: String,
    #[schema(value_type = String, example = "123.45")]
    pub ordered_product_sales: Decimal,
    #[schema(value_type = Option<String>)]
    pub ordered_product_sales_b2b: Option<Decimal>,
    pub units_ordered: i64,
    pub units_ordered_b2b: Option<i64>,
    pub total_order_items: i64,
    pub total_order_items_b2b: Option<i64>,
    pub sessions: i64,
    pub page_views: i64,
    #[schema(value_type = Option<String>)]
    pub session_percentage: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub page_views_percentage: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub buy_box_percentage: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub unit_session_percentage: Option<Decimal>,
    pub updated_at: DateTime<Utc>,
}

impl From<Stamped<BusinessMetricRow>> for BusinessMetricItem {
    fn from(s: Stamped<BusinessMetricRow>) -> Self {
        let r = s.row;
        BusinessMetricItem {
            marketplace_id: r.marketplace_id,
            date: r.date,
            sku: r.sku,
            asin: r.asin,
            parent_asin: r.parent_asin,
            currency: r.metrics.currency,
            ordered_product_sales: r.metrics.ordered_product_sales,
            ordered_product_sales_b2b: r.metrics.ordered_product_sales_b2b,
            units_ordered: r.metrics.units_ordered,
            units_ordered_b2b: r.metrics.units_ordered_b2b,
            total_order_items: r.metrics.total_order_items,
            total_order_items_b2b: r.metrics.total_order_items_b2b,
            sessions: r.metrics.sessions,
            page_views: r.metrics.page_views,
            session_percentage: r.metrics.session_percentage,
            page_views_percentage: r.metrics.page_views_percentage,
            buy_box_percentage: r.metrics.buy_box_percentage,
            unit_session_percentage: r.metrics.unit_session_percentage,
            updated_at: s.updated_at,
        }
    }
}

/// Sales & Traffic rows, as JSON (`{ "items": [...] }`).
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessMetricItems {
    pub items: Vec<BusinessMetricItem>,
}

/// The store's Sales & Traffic per SKU per day over a date range.
#[utoipa::path(get, path = "/stores/{store_id}/business-metrics", tag = "data",
    params(("store_id" = i64, Path, description = "The store"), RangeQuery),
    responses(
        (status = 200, description = "The rows", content(
            (BusinessMetricItems = "application/json"),
            (String = "text/csv"),
        )),
        BadRequest, Unauthorized, NotFound, Unprocessable,
    ))]
async fn business_metrics(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
    Query(q): Query<RangeQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RangeRequest::check(&state, &caller, id, &q, &headers).await?;
    let rows = state
        .db
        .snapshots()
        .business_between(r.store, r.range.from, r.range.to, r.market)
        .await?;
    r.render(
        "business-metrics",
        rows.into_iter().map(BusinessMetricItem::from).collect(),
    )
}

/// One advertised SKU's Sponsored Products results in one marketplace on one day
/// (7-day attribution). Money is a decimal string.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdsMetricItem {
    pub marketplace_id: String,
    pub date: NaiveDate,
    pub sku: String,
    pub asin: Option<String>,
    pub currency: String,
    pub impressions: i64,
    pub clicks: i64,
    #[schema(value_type = String, example = "12.34")]
    pub spend: Decimal,
    #[schema(value_type = String, example = "56.78")]
    pub sales_7d: Decimal,
    pub orders_7d: i64,
    pub units_7d: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<Stamped<AdsMetricRow>> for AdsMetricItem {
    fn from(s: Stamped<AdsMetricRow>) -> Self {
        let r = s.row;
        AdsMetricItem {
            marketplace_id: r.marketplace_id,
            date: r.date,
            sku: r.sku,
            asin: r.asin,
            currency: r.currency,
            impressions: r.impressions,
            clicks: r.clicks,
            spend: r.spend,
            sales_7d: r.sales_7d,
            orders_7d: r.orders_7d,
            units_7d: r.units_7d,
            updated_at: s.updated_at,
        }
    }
}

/// Advertising rows, as JSON (`{ "items": [...] }`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdsMetricItems {
    pub items: Vec<AdsMetricItem>,
}

/// The store's Sponsored Products results per SKU per day over a date range.
#[utoipa::path(get, path = "/stores/{store_id}/ads-metrics", tag = "data",
    params(("store_id" = i64, Path, description = "The store"), RangeQuery),
    responses(
        (status = 200, description = "The rows", content(
            (AdsMetricItems = "application/json"),
            (String = "text/csv"),
        )),
        BadRequest, Unauthorized, NotFound, Unprocessable,
    ))]
async fn ads_metrics(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
    Query(q): Query<RangeQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RangeRequest::check(&state, &caller, id, &q, &headers).await?;
    let rows = state
        .db
        .snapshots()
        .ads_between(r.store, r.range.from, r.range.to, r.market)
        .await?;
    r.render("ads-metrics", rows.into_iter().map(AdsMetricItem::from).collect())
}

/// One SKU in one marketplace over the range. Money and ratios are decimal
/// strings; a ratio without its denominator is null.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryItem {
    pub marketplace_id: String,
    pub sku: String,
    pub asin: Option<String>,
    pub product_name: Option<String>,
    #[schema(example = "USD")]
    pub currency: String,
    /// Ordered product sales (Sales & Traffic).
    #[schema(value_type = String, example = "1234.50")]
    pub sales: Decimal,
    pub units: i64,
    pub sessions: i64,
    pub page_views: i64,
    /// Sponsored Products spend.
    #[schema(value_type = String, example = "120.00")]
    pub ad_spend: Decimal,
    /// Sponsored Products sales attributed within 7 days.
    #[schema(value_type = String, example = "480.00")]
    pub ad_sales: Decimal,
    /// Ad spend / ad sales, as a fraction (`0.25` is 25 %); null without ad sales.
    #[schema(value_type = Option<String>, example = "0.2500")]
    pub acos: Option<Decimal>,
    /// Ad spend / sales, as a fraction; null without sales.
    #[schema(value_type = Option<String>, example = "0.0972")]
    pub tacos: Option<Decimal>,
    /// The day of the newest inventory snapshot in the marketplace; null (and
    /// the quantities too) when the SKU is not in it.
    pub inventory_date: Option<NaiveDate>,
    pub fulfillable_quantity: Option<i64>,
    /// Working + shipped + receiving.
    pub inbound_quantity: Option<i64>,
    pub reserved_quantity: Option<i64>,
    /// Units ordered per week over the range.
    #[schema(value_type = String, example = "23.33")]
    pub average_weekly_units: Decimal,
    /// (Fulfillable + inbound) / average weekly units; null without inventory or without units ordered.
    #[schema(value_type = Option<String>, example = "3.00")]
    pub weeks_of_cover: Option<Decimal>,
}

impl From<SkuSummary> for SummaryItem {
    fn from(s: SkuSummary) -> Self {
        SummaryItem {
            acos: s.acos(),
            tacos: s.tacos(),
            average_weekly_units: s.average_weekly_units(),
            weeks_of_cover: s.weeks_of_cover(),
            inventory_date: s.inventory.map(|i| i.date),
            fulfillable_quantity: s.inventory.map(|i| i.fulfillable),
            inbound_quantity: s.inventory.map(|i| i.inbound),
            reserved_quantity: s.inventory.map(|i| i.reserved),
            marketplace_id: s.marketplace_id,
            sku: s.sku,
            asin: s.asin,
            product_name: s.product_name,
            currency: s.currency,
            sales: s.sales,
            units: s.units,
            sessions: s.sessions,
            page_views: s.page_views,
            ad_spend: s.ad_spend,
            ad_sales: s.ad_sales,
        }
    }
}

/// The summary, as JSON (`{ "items": [...] }`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryItems {
    pub items: Vec<SummaryItem>,
}

/// Per SKU over a date range: sales, traffic, advertising, ACoS, TACoS, and
/// current inventory with weeks of cover. Archived days are included.
#[utoipa::path(get, path = "/stores/{store_id}/summary", tag = "data",
    params(("store_id" = i64, Path, description = "The store"), RangeQuery),
    responses(
        (status = 200, description = "One row per marketplace and SKU", content(
            (SummaryItems = "application/json"),
            (String = "text/csv"),
        )),
        BadRequest, Unauthorized, NotFound, Unprocessable,
    ))]
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
    Query(q): Query<RangeQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = RangeRequest::check(&state, &caller, id, &q, &headers).await?;
    let rows = state
        .db
        .snapshots()
        .summary(r.store, r.range.from, r.range.to, r.market)
        .await?;
    r.render("summary", rows.into_iter().map(SummaryItem::from).collect())
}
