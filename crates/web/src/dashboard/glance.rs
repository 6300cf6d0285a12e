//! `/stores/{store_id}`: one store at a glance. Its sync cards, charts of the
//! last 30 days in one marketplace (daily sales, ad spend, ad sales, ACoS,
//! TACoS), and its newest inventory with weeks of cover.
//!
//! Definitions (also on the page):
//! - sales: `ordered_product_sales` of Sales & Traffic, summed over SKUs;
//! - ad spend and ad sales: Sponsored Products `spend` and `sales_7d`;
//! - ACoS = ad spend / ad sales; TACoS = ad spend / sales (days without the
//!   denominator have no value);
//! - the inventory table is the API's per-SKU summary over the 30 days
//!   (`Snapshots::summary`): average weekly units = units ordered × 7 / 30;
//!   weeks of cover = (fulfillable + inbound) / average weekly units; none
//!   (a dash) when nothing was ordered.
//!
//! One marketplace at a time: marketplaces have their own currencies, so
//! their money is never added up.

use std::collections::HashMap;

use amzsync_db::SkuSummary;
use amzsync_domain::{Marketplace, StoreId};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

use super::chart::{Chart, Style, Unit, has_data};
use super::i18n::Text;
use super::overview::{StoreSummary, country};
use super::page::{Chrome, render, respond};
use super::parse_id;
use super::session::Viewer;
use super::sync::{KINDS, KindCard};
use crate::{ApiError, AppState};

/// The charts' span, in days, ending today in the marketplace shown.
const DAYS: u64 = 30;
/// Below this many weeks of cover a SKU is marked low.
const LOW_COVER_WEEKS: Decimal = Decimal::TWO;
/// The inventory table shows the most urgent SKUs first, at most this many.
const MAX_INVENTORY_ROWS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GlanceQuery {
    marketplace: Option<String>,
}

#[derive(Debug)]
struct MarketplaceTab {
    code: String,
    href: String,
    current: bool,
}

#[derive(Debug)]
struct ChartView {
    test_id: &'static str,
    title: &'static str,
    summary: String,
    /// The finished SVG (every label escaped by `chart`), or `None` without data.
    svg: Option<String>,
}

#[derive(Debug)]
struct InventoryLine {
    sku: String,
    product: String,
    fulfillable: i64,
    inbound: i64,
    reserved: i64,
    avg_weekly_units: String,
    weeks_of_cover: Option<String>,
    is_low: bool,
}

#[derive(Template)]
#[template(path = "dashboard/store.html")]
struct StorePage {
    chrome: Chrome,
    t: &'static Text,
    store: StoreSummary,
    tabs: Vec<MarketplaceTab>,
    period: String,
    charts: Vec<ChartView>,
    inventory_date: Option<String>,
    inventory: Vec<InventoryLine>,
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d * 100.0),
        _ => None,
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<GlanceQuery>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        let t = viewer.lang.text();
        let scope = viewer.caller().scope();
        let store = state.db.stores().get(scope, id).await?;
        let now = state.clock.now();
        let mut cards = Vec::new();
        for kind in KINDS {
            cards.push(KindCard::load(&state, scope, store.id, kind, t, now).await?);
        }

        let chosen = q
            .marketplace
            .as_deref()
            .and_then(|m| m.parse::<Marketplace>().ok())
            .map(|m| m.id().to_owned())
            .filter(|m| store.marketplaces.contains(m))
            .unwrap_or_else(|| store.marketplace_id.clone());
        let currency = Marketplace::by_id(&chosen).map_or("", |m| m.currency());
        let tabs = store
            .marketplaces
            .iter()
            .map(|m| MarketplaceTab {
                code: country(m),
                href: format!("/stores/{}?marketplace={}", store.id, country(m)),
                current: *m == chosen,
            })
            .collect();

        // Amazon dates a marketplace's reports by its own day, and the
        // engine plans by it: a UTC window is a day off for hours of every
        // day wherever the zone is not UTC (in the US, from midnight UTC
        // until local midnight it would end on a day not yet begun).
        let today = amzsync_sync::plan::today_in(&chosen, now);
        let from = today.checked_sub_days(Days::new(DAYS - 1)).unwrap_or(today);
        let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= today).collect();
        let index: HashMap<NaiveDate, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let snapshots = state.db.snapshots();
        let business = snapshots
            .business_between(store.id, from, today, Some(&chosen))
            .await?;
        let ads = snapshots
            .ads_between(store.id, from, today, Some(&chosen))
            .await?;

        let mut sales = vec![None::<f64>; days.len()];
        for row in &business {
            if let Some(&i) = index.get(&row.row.date) {
                *sales[i].get_or_insert(0.0) += to_f64(row.row.metrics.ordered_product_sales);
            }
        }
        let mut spend = vec![None::<f64>; days.len()];
        let mut ad_sales = vec![None::<f64>; days.len()];
        for row in &ads {
            if let Some(&i) = index.get(&row.row.date) {
                *spend[i].get_or_insert(0.0) += to_f64(row.row.spend);
                *ad_sales[i].get_or_insert(0.0) += to_f64(row.row.sales_7d);
            }
        }
        let acos: Vec<Option<f64>> = spend.iter().zip(&ad_sales).map(|(s, a)| ratio(*s, *a)).collect();
        let tacos: Vec<Option<f64>> = spend.iter().zip(&sales).map(|(s, a)| ratio(*s, *a)).collect();

        // fold from +0.0: f64's Sum of nothing is -0.0, shown as "-0.00".
        let total = |v: &[Option<f64>]| v.iter().flatten().fold(0.0, |a, b| a + b);
        let money = Unit::Money(currency);
        let overall_acos = ratio(Some(total(&spend)), Some(total(&ad_sales)));
        let overall_tacos = ratio(Some(total(&spend)), Some(total(&sales)));
        let percent_summary = |overall: Option<f64>| {
            overall.map_or_else(String::new, |v| format!("{}: {v:.1}%", t.chart_average))
        };
        let chart = |test_id: &'static str,
                     title: &'static str,
                     values: &[Option<f64>],
                     unit: Unit,
                     style: Style,
                     summary: String| {
            let svg = has_data(values).then(|| {
                Chart {
                    id: test_id,
                    title,
                    summary: &summary,
                    unit,
                    style,
                    days: &days,
                    values,
                }
                .svg()
            });
            ChartView {
                test_id,
                title,
                summary,
                svg,
            }
        };
        let money_total =
            |values: &[Option<f64>]| format!("{}: {:.2} {currency}", t.chart_total, total(values));
        let charts = vec![
            chart(
                "chart-sales",
                t.chart_sales,
                &sales,
                money.clone(),
                Style::Bars,
                money_total(&sales),
            ),
            chart(
                "chart-ad-spend",
                t.chart_ad_spend,
                &spend,
                money.clone(),
                Style::Bars,
                money_total(&spend),
            ),
            chart(
                "chart-ad-sales",
                t.chart_ad_sales,
                &ad_sales,
                money,
                Style::Bars,
                money_total(&ad_sales),
            ),
            chart(
                "chart-acos",
                t.chart_acos,
                &acos,
                Unit::Percent,
                Style::Line,
                percent_summary(overall_acos),
            ),
            chart(
                "chart-tacos",
                t.chart_tacos,
                &tacos,
                Unit::Percent,
                Style::Line,
                percent_summary(overall_tacos),
            ),
        ];

        // The API's per-SKU summary over the same 30 days: one computation
        // of weeks of cover for both.
        let mut rows: Vec<SkuSummary> = snapshots
            .summary(store.id, from, today, Some(&chosen))
            .await?
            .into_iter()
            .filter(|s| s.inventory.is_some())
            .collect();
        let inventory_date = rows.iter().filter_map(|s| s.inventory.map(|i| i.date)).max();
        // Most urgent first; SKUs that did not sell last.
        rows.sort_by(|a, b| match (a.weeks_of_cover(), b.weeks_of_cover()) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.sku.cmp(&b.sku)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.sku.cmp(&b.sku),
        });
        let inventory = rows
            .into_iter()
            .take(MAX_INVENTORY_ROWS)
            .filter_map(|s| {
                let stock = s.inventory?;
                let weeks = s.weeks_of_cover();
                Some(InventoryLine {
                    product: s.product_name.clone().or(s.asin.clone()).unwrap_or_default(),
                    avg_weekly_units: s.average_weekly_units().to_string(),
                    weeks_of_cover: weeks.map(|w| w.to_string()),
                    is_low: weeks.is_some_and(|w| w < LOW_COVER_WEEKS),
                    sku: s.sku,
                    fulfillable: stock.fulfillable,
                    inbound: stock.inbound,
                    reserved: stock.reserved,
                })
            })
            .collect();

        let page = StorePage {
            chrome: Chrome::for_viewer(&viewer, &uri, "stores", &store.store_name),
            t,
            store: StoreSummary::new(&store, cards),
            tabs,
            period: format!("{from} – {today}"),
            charts,
            inventory_date: inventory_date.map(|d| d.to_string()),
            inventory,
        };
        Ok::<_, ApiError>(render(StatusCode::OK, &page))
    }
    .await;
    respond(&viewer, &uri, result)
}
