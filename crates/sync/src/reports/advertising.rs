//! Advertising (FR-3) from Sponsored Products reporting v3: which report to
//! ask for ([`request`]), how far back Amazon keeps each ([`earliest`]), and
//! how its rows become ours ([`read`]).
//!
//! - spAdvertisedProduct rows (one per SKU, ad group and day) are summed per
//!   SKU and day into `ads_metric_snapshots`: spend = `cost`, sales =
//!   `sales7d`, orders = `purchases7d`, units = `unitsSoldClicks7d`,
//!   impressions, clicks (the seller console's 7-day attribution, PROTOCOL
//!   §5.8);
//! - spCampaigns (by campaign, by ad group), spTargeting and spSearchTerm rows
//!   are stored as they are, per day, keyed by Amazon's ids.
//!
//! Money is in the profile's currency.

use std::collections::BTreeMap;
use std::io::Read;

use amzsync_amazon::ads::report_rows::{
    self, AdGroupRow, AdvertisedProductRow, CampaignRow, Metrics, SearchTermRow, TargetingRow,
};
use amzsync_amazon::ads::reporting::{self, CreateReportRequest, ReportType};
use amzsync_amazon::{DocumentError, Parsed};
use amzsync_db::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetricRow, AdsMetrics, AdsRange, AdsSearchTermRow, AdsTargetingRow,
};
use amzsync_domain::StoreId;
use chrono::{Days, NaiveDate};
use serde::de::DeserializeOwned;

use super::{Batch, Fetched, Rows};
use crate::checkpoint::{AdsProfile, AdsReport};

/// The client's report type of ours.
fn report_type(report: AdsReport) -> ReportType {
    match report {
        AdsReport::AdvertisedProduct => ReportType::AdvertisedProduct,
        AdsReport::Campaigns => ReportType::Campaigns,
        AdsReport::AdGroups => ReportType::AdGroups,
        AdsReport::Targeting => ReportType::Targeting,
        AdsReport::SearchTerms => ReportType::SearchTerm,
    }
}

/// A DAILY report of `report` over `start..=end` (at most 31 days), with
/// the columns the client's row types read.
pub(crate) fn request(report: AdsReport, start: NaiveDate, end: NaiveDate) -> CreateReportRequest {
    CreateReportRequest::daily(report_type(report), start, end)
}

/// Days Amazon keeps a report type (95; 65 for search terms, PROTOCOL §5.7).
pub(crate) fn retention_days(report: AdsReport) -> u32 {
    report_type(report).retention_days()
}

/// The first day that can be asked for, `today` being the profile's: a day
/// short of the retention, so a profile whose day is ahead of ours is safe.
pub(crate) fn earliest(report: AdsReport, today: NaiveDate) -> NaiveDate {
    today - Days::new(u64::from(retention_days(report).saturating_sub(1)))
}

/// The most days one Ads report may span.
pub(crate) const MAX_DAYS: u32 = reporting::MAX_RANGE_DAYS;

/// What a report's rows are stored under.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) store: StoreId,
    pub(crate) profile: AdsProfile,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
}

impl Context {
    /// The stored rows a report of this context replaces.
    pub(crate) fn range(&self) -> AdsRange {
        AdsRange {
            store: self.store,
            profile_id: self.profile.profile_id,
            marketplace_id: self.profile.marketplace_id.clone(),
            start: self.start,
            end: self.end,
        }
    }
}

/// Reads a downloaded report of `report` (on the download's blocking thread).
///
/// A malformed spAdvertisedProduct row fails the document: its SKU's sum
/// would be missing a part and stored as if it were whole. Malformed detail
/// rows are skipped and counted like other reports' rows.
pub(crate) fn read(report: AdsReport, text: Box<dyn Read>, ctx: &Context) -> Result<Batch, DocumentError> {
    Ok(match report {
        AdsReport::AdvertisedProduct => {
            let ads: Fetched<(NaiveDate, AdvertisedProductRow)> = rows(text, |r: AdvertisedProductRow| {
                let date = day(&r.metrics, ctx)?;
                Ok((date, r))
            })?;
            if let Some(first) = ads.skipped.first() {
                return Err(DocumentError::Corrupt(format!(
                    "{} malformed spAdvertisedProduct rows, the first: {first}",
                    ads.skipped.len()
                )));
            }
            Batch {
                rows: Rows::AdsProducts {
                    range: ctx.range(),
                    rows: per_sku(ads.rows, ctx),
                },
                skipped: Vec::new(),
            }
        }
        AdsReport::Campaigns => {
            let f = rows(text, |r: CampaignRow| {
                Ok(AdsCampaignRow {
                    store_id: ctx.store,
                    profile_id: ctx.profile.profile_id,
                    date: day(&r.metrics, ctx)?,
                    campaign_id: r.campaign_id,
                    marketplace_id: ctx.profile.marketplace_id.clone(),
                    campaign_name: r.campaign_name,
                    campaign_status: r.campaign_status,
                    budget_amount: r.campaign_budget_amount,
                    budget_type: r.campaign_budget_type,
                    currency: ctx.profile.currency.clone(),
                    metrics: metrics(&r.metrics),
                })
            })?;
            f.map(|rows| Rows::AdsCampaigns {
                range: ctx.range(),
                rows,
            })
        }
        AdsReport::AdGroups => {
            let f = rows(text, |r: AdGroupRow| {
                Ok(AdsAdGroupRow {
                    store_id: ctx.store,
                    profile_id: ctx.profile.profile_id,
                    date: day(&r.metrics, ctx)?,
                    campaign_id: r.campaign_id,
                    ad_group_id: r.ad_group_id,
                    marketplace_id: ctx.profile.marketplace_id.clone(),
                    campaign_name: r.campaign_name,
                    ad_group_name: r.ad_group_name,
                    ad_status: r.ad_status,
                    currency: ctx.profile.currency.clone(),
                    metrics: metrics(&r.metrics),
                })
            })?;
            f.map(|rows| Rows::AdsAdGroups {
                range: ctx.range(),
                rows,
            })
        }
        AdsReport::Targeting => {
            let f = rows(text, |r: TargetingRow| {
                Ok(AdsTargetingRow {
                    store_id: ctx.store,
                    profile_id: ctx.profile.profile_id,
                    date: day(&r.metrics, ctx)?,
                    campaign_id: r.campaign_id,
                    ad_group_id: r.ad_group_id,
                    keyword_id: r.keyword_id,
                    marketplace_id: ctx.profile.marketplace_id.clone(),
                    keyword: r.keyword,
                    keyword_type: r.keyword_type,
                    match_type: r.match_type,
                    targeting: r.targeting,
                    currency: ctx.profile.currency.clone(),
                    metrics: metrics(&r.metrics),
                })
            })?;
            f.map(|rows| Rows::AdsTargeting {
                range: ctx.range(),
                rows,
            })
        }
        AdsReport::SearchTerms => {
            let f = rows(text, |r: SearchTermRow| {
                Ok(AdsSearchTermRow {
                    store_id: ctx.store,
                    profile_id: ctx.profile.profile_id,
                    date: day(&r.metrics, ctx)?,
                    campaign_id: r.campaign_id,
                    ad_group_id: r.ad_group_id,
                    keyword_id: r.keyword_id,
                    search_term: r.search_term,
                    marketplace_id: ctx.profile.marketplace_id.clone(),
                    keyword: r.keyword,
                    match_type: r.match_type,
                    currency: ctx.profile.currency.clone(),
                    metrics: metrics(&r.metrics),
                })
            })?;
            f.map(|rows| Rows::AdsSearchTerms {
                range: ctx.range(),
                rows,
            })
        }
    })
}

/// Parses every row of type `R` and converts it; a row that does not parse
/// or convert is skipped with its reason.
fn rows<R: DeserializeOwned, T>(
    text: Box<dyn Read>,
    mut convert: impl FnMut(R) -> Result<T, String>,
) -> Result<Fetched<T>, DocumentError> {
    let mut fetched = Fetched::default();
    report_rows::read(text, |parsed: Parsed<R>| match parsed {
        Parsed::Row(row) => match convert(row) {
            Ok(row) => fetched.rows.push(row),
            Err(reason) => fetched.skipped.push(reason),
        },
        Parsed::Skipped(e) => fetched.skipped.push(e.to_string()),
    })?;
    Ok(fetched)
}

/// The row's day, which must be one of the report's: a DAILY report dates
/// every row, and a row of another day would overwrite a day we did not ask
/// for.
fn day(m: &Metrics, ctx: &Context) -> Result<NaiveDate, String> {
    match m.date {
        Some(d) if d >= ctx.start && d <= ctx.end => Ok(d),
        Some(d) => Err(format!(
            "a row dated {d}, outside the report's {}..{}",
            ctx.start, ctx.end
        )),
        None => Err("a row without a date (not a DAILY report)".to_owned()),
    }
}

fn metrics(m: &Metrics) -> AdsMetrics {
    AdsMetrics {
        impressions: m.impressions,
        clicks: m.clicks,
        spend: m.cost,
        sales_7d: m.sales_7d,
        orders_7d: m.purchases_7d,
        units_7d: m.units_sold_clicks_7d,
    }
}

/// spAdvertisedProduct rows summed per day and SKU over every campaign and
/// ad group advertising it. A whole report is summed at once, so each
/// (day, SKU) of the window is written once, complete.
fn per_sku(rows: Vec<(NaiveDate, AdvertisedProductRow)>, ctx: &Context) -> Vec<AdsMetricRow> {
    let mut sums: BTreeMap<(NaiveDate, String), AdsMetricRow> = BTreeMap::new();
    for (date, row) in rows {
        let m = metrics(&row.metrics);
        let sum = sums
            .entry((date, row.advertised_sku.clone()))
            .or_insert_with(|| AdsMetricRow {
                store_id: ctx.store,
                marketplace_id: ctx.profile.marketplace_id.clone(),
                date,
                sku: row.advertised_sku.clone(),
                asin: None,
                currency: ctx.profile.currency.clone(),
                impressions: 0,
                clicks: 0,
                spend: Default::default(),
                sales_7d: Default::default(),
                orders_7d: 0,
                units_7d: 0,
            });
        if sum.asin.is_none() {
            sum.asin = row.advertised_asin;
        }
        sum.impressions += m.impressions;
        sum.clicks += m.clicks;
        sum.spend += m.spend;
        sum.sales_7d += m.sales_7d;
        sum.orders_7d += m.orders_7d;
        sum.units_7d += m.units_7d;
    }
    sums.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    fn ctx() -> Context {
        Context {
            store: StoreId(3),
            profile: AdsProfile {
                profile_id: 3_141_592_653_589_793,
                marketplace_id: "ATVPDKIKX0DER".into(),
                currency: "USD".into(),
            },
            start: day("2026-03-01"),
            end: day("2026-03-02"),
        }
    }

    #[test]
    fn advertised_products_are_summed_per_sku_and_day_exactly() {
        let doc = r#"[
          {"date":"2026-03-01","campaignId":1,"adGroupId":10,"adId":100,"advertisedSku":"MUG","advertisedAsin":"B01","impressions":100,"clicks":3,"cost":1.1,"purchases7d":1,"unitsSoldClicks7d":2,"sales7d":19.98},
          {"date":"2026-03-01","campaignId":2,"adGroupId":20,"adId":200,"advertisedSku":"MUG","advertisedAsin":"B01","impressions":50,"clicks":1,"cost":0.2,"purchases7d":0,"unitsSoldClicks7d":0,"sales7d":0},
          {"date":"2026-03-02","campaignId":1,"adGroupId":10,"adId":100,"advertisedSku":"MUG","impressions":7,"clicks":0,"cost":0,"purchases7d":0,"unitsSoldClicks7d":0,"sales7d":0},
          {"date":"2026-03-01","campaignId":1,"adGroupId":10,"adId":101,"advertisedSku":"CUP","impressions":1,"clicks":1,"cost":0.05,"purchases7d":1,"unitsSoldClicks7d":1,"sales7d":5}
        ]"#;
        let fetched = read(AdsReport::AdvertisedProduct, Box::new(doc.as_bytes()), &ctx()).expect("readable");
        let Rows::AdsProducts { rows, .. } = fetched.rows else {
            panic!("advertised product rows");
        };
        let summary: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {} {} {}",
                    r.date, r.sku, r.impressions, r.clicks, r.spend, r.sales_7d, r.orders_7d, r.units_7d
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "2026-03-01 CUP 1 1 0.05 5 1 1",
                "2026-03-01 MUG 150 4 1.3 19.98 1 2",
                "2026-03-02 MUG 7 0 0 0 0 0",
            ]
        );
        assert_eq!(rows[1].asin.as_deref(), Some("B01"));
        assert_eq!(rows[1].currency, "USD");
    }

    #[test]
    fn a_malformed_advertised_product_row_fails_the_document_and_a_detail_row_is_skipped() {
        let bad = r#"[{"date":"2026-03-09","campaignId":1,"adGroupId":10,"advertisedSku":"MUG"}]"#;
        let err = read(AdsReport::AdvertisedProduct, Box::new(bad.as_bytes()), &ctx()).unwrap_err();
        assert!(
            matches!(err, DocumentError::Corrupt(ref m) if m.contains("outside")),
            "{err}"
        );
        let terms = r#"[{"date":"2026-03-01","campaignId":1,"adGroupId":2,"keywordId":3,"searchTerm":"mug","cost":1.5},
                       {"date":"2026-03-01","campaignId":"x","adGroupId":2,"keywordId":3,"searchTerm":"mug"}]"#;
        let fetched = read(AdsReport::SearchTerms, Box::new(terms.as_bytes()), &ctx()).expect("readable");
        assert_eq!(fetched.rows.len(), 1);
        assert_eq!(fetched.skipped.len(), 1);
    }
}
