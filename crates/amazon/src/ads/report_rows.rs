//! Rows of Sponsored Products reports (reporting v3, `GZIP_JSON`: a top-level
//! JSON array of objects, PROTOCOL.md §5.5, §5.7). Ids are 64-bit integers in
//! the JSON and stay `i64`; money is exact. Metrics are read at the 7-day
//! attribution a seller's console shows (§5.8): `purchases7d` are orders,
//! `unitsSoldClicks7d` units, `sales7d` sales, `cost` spend.

use std::io::Read;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::document::DocumentError;
use crate::json_stream::{EachElement, Text};
use crate::number::{decimal, opt_decimal};
use crate::parse::Parsed;
use crate::sp::sales_traffic::json_error;

/// The metrics every Sponsored Products report row carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// The day (`timeUnit` DAILY); absent in SUMMARY rows.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// First day of a SUMMARY row.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Last day of a SUMMARY row.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Impressions.
    #[serde(default)]
    pub impressions: i64,
    /// Clicks.
    #[serde(default)]
    pub clicks: i64,
    /// Spend.
    #[serde(default = "zero", deserialize_with = "decimal")]
    pub cost: Decimal,
    /// Orders within 7 days of a click.
    #[serde(default, rename = "purchases7d")]
    pub purchases_7d: i64,
    /// Units within 7 days of a click.
    #[serde(default, rename = "unitsSoldClicks7d")]
    pub units_sold_clicks_7d: i64,
    /// Sales within 7 days of a click.
    #[serde(default = "zero", rename = "sales7d", deserialize_with = "decimal")]
    pub sales_7d: Decimal,
}

fn zero() -> Decimal {
    Decimal::ZERO
}

/// `spAdvertisedProduct`, grouped by `advertiser`: one advertised SKU in one
/// ad group on one day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvertisedProductRow {
    /// Campaign id.
    pub campaign_id: i64,
    /// Ad group id.
    pub ad_group_id: i64,
    /// Ad id.
    #[serde(default)]
    pub ad_id: Option<i64>,
    /// Seller SKU advertised.
    pub advertised_sku: String,
    /// ASIN advertised.
    #[serde(default)]
    pub advertised_asin: Option<String>,
    /// Currency of the money columns.
    #[serde(default)]
    pub campaign_budget_currency_code: Option<String>,
    /// Metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `spCampaigns` grouped by `campaign`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRow {
    /// Campaign id.
    pub campaign_id: i64,
    /// Name (it can change; the id is the key).
    #[serde(default)]
    pub campaign_name: Option<String>,
    /// `ENABLED`, `PAUSED`, `ARCHIVED`.
    #[serde(default)]
    pub campaign_status: Option<String>,
    /// Daily budget.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub campaign_budget_amount: Option<Decimal>,
    /// Budget type.
    #[serde(default)]
    pub campaign_budget_type: Option<String>,
    /// Currency of the money columns.
    #[serde(default)]
    pub campaign_budget_currency_code: Option<String>,
    /// Metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `spCampaigns` grouped by `campaign` and `adGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdGroupRow {
    /// Campaign id.
    pub campaign_id: i64,
    /// Ad group id.
    pub ad_group_id: i64,
    /// Campaign name.
    #[serde(default)]
    pub campaign_name: Option<String>,
    /// Ad group name.
    #[serde(default)]
    pub ad_group_name: Option<String>,
    /// Ad group status.
    #[serde(default)]
    pub ad_status: Option<String>,
    /// Currency of the money columns.
    #[serde(default)]
    pub campaign_budget_currency_code: Option<String>,
    /// Metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `spTargeting`: one keyword or product/auto target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetingRow {
    /// Campaign id.
    pub campaign_id: i64,
    /// Ad group id.
    pub ad_group_id: i64,
    /// Keyword or target id.
    pub keyword_id: i64,
    /// The keyword text; `null` for auto and product targets.
    #[serde(default)]
    pub keyword: Option<String>,
    /// `BROAD`, `PHRASE`, `EXACT`, `TARGETING_EXPRESSION`, `TARGETING_EXPRESSION_PREDEFINED`.
    #[serde(default)]
    pub keyword_type: Option<String>,
    /// Match type.
    #[serde(default)]
    pub match_type: Option<String>,
    /// The targeting expression (`close-match` for auto targets).
    #[serde(default)]
    pub targeting: Option<String>,
    /// Currency of the money columns.
    #[serde(default)]
    pub campaign_budget_currency_code: Option<String>,
    /// Metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// `spSearchTerm`: what customers searched for, per keyword or target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchTermRow {
    /// Campaign id.
    pub campaign_id: i64,
    /// Ad group id.
    pub ad_group_id: i64,
    /// Keyword or target id.
    pub keyword_id: i64,
    /// The search; `*` for placements without one.
    pub search_term: String,
    /// The keyword that matched.
    #[serde(default)]
    pub keyword: Option<String>,
    /// Match type.
    #[serde(default)]
    pub match_type: Option<String>,
    /// Currency of the money columns.
    #[serde(default)]
    pub campaign_budget_currency_code: Option<String>,
    /// Metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Reads a decoded report, calling `on_row` for each row as it is parsed;
/// returns how many rows there were (read or skipped).
pub fn read<T: DeserializeOwned, R: Read>(
    text: R,
    on_row: impl FnMut(Parsed<T>),
) -> Result<u64, DocumentError> {
    match crate::json_stream::take(text)? {
        Text::Whole(bytes) => read_from(serde_json::Deserializer::from_slice(&bytes), on_row),
        Text::Stream(reader) => read_from(serde_json::Deserializer::from_reader(reader), on_row),
    }
}

fn read_from<'de, T: DeserializeOwned, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    mut on_row: impl FnMut(Parsed<T>),
) -> Result<u64, DocumentError> {
    let mut each = EachElement::new(&mut on_row);
    serde::de::DeserializeSeed::deserialize(&mut each, &mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(each.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Encoded, decode};

    const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/amazon-api");

    fn rows<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<Parsed<T>>, DocumentError> {
        let mut out = Vec::new();
        read(decode(body, &Encoded::default())?, |p| out.push(p))?;
        Ok(out)
    }

    #[test]
    fn advertised_product_rows_keep_ids_and_exact_money() {
        let gz = std::fs::read(format!("{EXAMPLES}/ads_sp_advertised_product_daily.json.gz")).unwrap();
        let rows: Vec<AdvertisedProductRow> =
            rows(&gz).unwrap().into_iter().map(|p| p.row().unwrap()).collect();
        let first = &rows[0];
        assert_eq!(first.campaign_id, 144_512_345_678_901);
        assert_eq!(first.advertised_sku, "MUG-RED-12OZ");
        assert_eq!(first.metrics.date, NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(first.metrics.cost.to_string(), "13.44");
        assert_eq!(first.metrics.sales_7d.to_string(), "44.97");
        assert_eq!(
            (first.metrics.purchases_7d, first.metrics.units_sold_clicks_7d),
            (3, 3)
        );
        assert_eq!(rows[1].metrics.cost.to_string(), "8.1");
    }

    #[test]
    fn targeting_rows_accept_null_keywords_and_summary_dates() {
        let json = std::fs::read(format!("{EXAMPLES}/ads_sp_targeting_summary.json")).unwrap();
        let rows: Vec<TargetingRow> = rows(&json)
            .unwrap()
            .into_iter()
            .map(|p| p.row().unwrap())
            .collect();
        assert_eq!(rows[0].keyword.as_deref(), Some("red coffee mug"));
        assert_eq!(rows[1].keyword, None);
        assert_eq!(rows[1].targeting.as_deref(), Some("close-match"));
        assert_eq!(rows[1].metrics.start_date, NaiveDate::from_ymd_opt(2024, 4, 1));
        assert_eq!(rows[1].metrics.sales_7d.to_string(), "466.12");
    }

    #[test]
    fn an_empty_report_has_no_rows() {
        let gz = std::fs::read(format!("{EXAMPLES}/ads_empty_report.json.gz")).unwrap();
        assert!(rows::<CampaignRow>(&gz).unwrap().is_empty());
    }

    #[test]
    fn a_bad_row_is_skipped_and_a_cut_document_fails() {
        let doc = br#"[{"campaignId":1,"adGroupId":2,"keywordId":3,"searchTerm":"mug","cost":1.5},
                       {"campaignId":"x","adGroupId":2,"keywordId":3,"searchTerm":"mug"},
                       {"campaignId":1,"adGroupId":2,"keywordId":4,"searchTerm":"*","clicks":2}]"#;
        let parsed: Vec<Parsed<SearchTermRow>> = rows(doc).unwrap();
        assert!(matches!(&parsed[1], Parsed::Skipped(e) if e.line == 2 && e.reason.contains("invalid type")));
        assert_eq!(parsed.iter().filter(|p| matches!(p, Parsed::Row(_))).count(), 2);
        let cut = &doc[..doc.len() - 20];
        assert!(matches!(
            rows::<SearchTermRow>(cut),
            Err(DocumentError::Truncated(_))
        ));
    }
}
