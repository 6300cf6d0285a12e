//! An Ads reporting v3 report and its state machine (PROTOCOL.md §5.4):
//! `PENDING` → `PROCESSING` → `COMPLETED` | `FAILED`, advanced by polls or the
//! simulated clock like the SP-API reports, plus the Sponsored Products report types with the columns each
//! accepts and how their rows are rendered.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::faults::AdsReportOutcome;
use crate::stream::Pieces;
use crate::timing::{ReportTiming, Stage, held};
use crate::truth::ads::Grain;
use crate::truth::{AdsRow, Conversions, Truth};

/// The Sponsored Products report types the simulator generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdsReportType {
    AdvertisedProduct,
    Campaigns,
    Targeting,
    SearchTerm,
}

const CAMPAIGN_COLUMNS: [&str; 6] = [
    "campaignName",
    "campaignId",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignBudgetCurrencyCode",
];
const TARGET_COLUMNS: [&str; 10] = [
    "keywordId",
    "keyword",
    "keywordType",
    "matchType",
    "targeting",
    "keywordBid",
    "adKeywordStatus",
    "adGroupName",
    "adGroupId",
    "portfolioId",
];
/// Columns spTargeting, spSearchTerm and spAdvertisedProduct add to the shared
/// metrics (§5.7).
const OTHER_SKU_COLUMNS: [&str; 2] = ["salesOtherSku7d", "unitsSoldOtherSku7d"];
const WINDOWS: [&str; 4] = ["1d", "7d", "14d", "30d"];

impl AdsReportType {
    pub(crate) fn parse(id: &str) -> Option<Self> {
        [
            Self::AdvertisedProduct,
            Self::Campaigns,
            Self::Targeting,
            Self::SearchTerm,
        ]
        .into_iter()
        .find(|t| t.as_str() == id)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AdvertisedProduct => "spAdvertisedProduct",
            Self::Campaigns => "spCampaigns",
            Self::Targeting => "spTargeting",
            Self::SearchTerm => "spSearchTerm",
        }
    }

    /// How far back data can be requested. PROTOCOL.md §5.7 lists 95 days, and one
    /// source 65 for search terms, which the simulator assumes to be safe.
    pub(crate) fn retention_days(self) -> i64 {
        match self {
            Self::SearchTerm => 65,
            _ => 95,
        }
    }

    /// The grain of a `groupBy`, or `None` when the type does not accept it (or
    /// the simulator does not generate it, like `campaignPlacement`).
    pub(crate) fn grain(self, group_by: &[String]) -> Option<Grain> {
        let is = |values: &[&str]| {
            group_by.len() == values.len() && values.iter().all(|v| group_by.iter().any(|g| g == v))
        };
        match self {
            Self::AdvertisedProduct => is(&["advertiser"]).then_some(Grain::Ad),
            Self::Targeting => is(&["targeting"]).then_some(Grain::Target),
            Self::SearchTerm => is(&["searchTerm"]).then_some(Grain::SearchTerm),
            Self::Campaigns if is(&["campaign"]) => Some(Grain::Campaign),
            Self::Campaigns if is(&["adGroup"]) || is(&["campaign", "adGroup"]) => Some(Grain::AdGroup),
            Self::Campaigns => None,
        }
    }

    /// Whether `column` may be requested with this type and `groupBy`.
    pub(crate) fn accepts(self, group_by: &[String], column: &str) -> bool {
        if is_metric(column) || matches!(column, "date" | "startDate" | "endDate") {
            return true;
        }
        let grouped = |g: &str| group_by.iter().any(|v| v == g);
        match self {
            Self::AdvertisedProduct => {
                OTHER_SKU_COLUMNS.contains(&column)
                    || CAMPAIGN_COLUMNS.contains(&column)
                    || [
                        "adGroupName",
                        "adGroupId",
                        "adId",
                        "portfolioId",
                        "advertisedAsin",
                        "advertisedSku",
                    ]
                    .contains(&column)
            }
            Self::Campaigns => {
                column == "campaignBiddingStrategy"
                    || (grouped("campaign") && CAMPAIGN_COLUMNS.contains(&column))
                    || (grouped("adGroup") && ["adGroupName", "adGroupId", "adStatus"].contains(&column))
            }
            Self::Targeting => {
                OTHER_SKU_COLUMNS.contains(&column)
                    || CAMPAIGN_COLUMNS.contains(&column)
                    || TARGET_COLUMNS.contains(&column)
            }
            Self::SearchTerm => {
                column == "searchTerm"
                    || OTHER_SKU_COLUMNS.contains(&column)
                    || CAMPAIGN_COLUMNS.contains(&column)
                    || TARGET_COLUMNS.contains(&column)
            }
        }
    }
}

/// The shared metric columns the simulator generates (§5.7).
fn is_metric(column: &str) -> bool {
    if matches!(column, "impressions" | "clicks" | "cost" | "spend") {
        return true;
    }
    let prefixes = [
        "purchasesSameSku",
        "unitsSoldSameSku",
        "attributedSalesSameSku",
        "purchases",
        "unitsSoldClicks",
        "sales",
    ];
    prefixes.iter().any(|p| {
        column
            .strip_prefix(p)
            .is_some_and(|window| WINDOWS.contains(&window))
    })
}

/// `DAILY` gives one row per day with a `date` column; `SUMMARY` one row for the
/// range with `startDate` and `endDate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Daily,
    Summary,
}

/// `status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdsStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl AdsStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

const FAILURE_REASON: &str = "Report generation failed due to an internal error. Please retry.";

#[derive(Debug, Clone)]
pub(crate) struct AdsReport {
    pub(crate) id: String,
    pub(crate) seller: String,
    pub(crate) profile_id: i64,
    pub(crate) name: Option<String>,
    pub(crate) report_type: AdsReportType,
    pub(crate) grain: Grain,
    /// The request's `configuration`, echoed back with `filters: null` when absent.
    pub(crate) configuration: Value,
    pub(crate) columns: Vec<String>,
    pub(crate) time_unit: TimeUnit,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: NaiveDate,
    pub(crate) currency: &'static str,
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) last_status: AdsStatus,
    pub(crate) timing: ReportTiming,
    /// Until when a fault keeps the report `PROCESSING`
    /// ([`crate::FaultRates::report_stuck`]).
    pub(crate) stuck_until: Option<DateTime<Utc>>,
    pub(crate) polls_seen: u32,
    /// How far processing has come when last observed; only moves forward.
    pub(crate) stage: Stage,
    pub(crate) outcome: AdsReportOutcome,
    pub(crate) generated: Option<DateTime<Utc>>,
    /// Bytes of the gzip file, computed the first time it is asked for.
    pub(crate) file_size: Option<u64>,
    pub(crate) deleted: bool,
}

impl AdsReport {
    /// Like the SP-API reports: `PENDING` while queued, `PROCESSING`, then the
    /// outcome, as last observed.
    pub(crate) fn status(&self) -> AdsStatus {
        match self.stage {
            Stage::Queued => AdsStatus::Pending,
            Stage::Processing => AdsStatus::Processing,
            Stage::Finished => match self.outcome {
                AdsReportOutcome::Completed => AdsStatus::Completed,
                AdsReportOutcome::Failed => AdsStatus::Failed,
            },
        }
    }

    /// Whether a new identical request is a duplicate of this one (425).
    pub(crate) fn is_in_flight(&self) -> bool {
        !self.deleted && matches!(self.status(), AdsStatus::Pending | AdsStatus::Processing)
    }

    /// One `getAsyncReport` call: moves the state machine on.
    pub(crate) fn poll(&mut self, now: DateTime<Utc>) {
        self.polls_seen = self.polls_seen.saturating_add(1);
        self.observe(now);
    }

    /// Moves the state machine to where its timing says it is at `now`; stamps
    /// `updatedAt` when the status changes and `generatedAt` on completion.
    pub(crate) fn observe(&mut self, now: DateTime<Utc>) {
        if self.deleted {
            return;
        }
        let stage = self.timing.stage(self.polls_seen, self.created, now);
        self.stage = self.stage.max(held(stage, self.stuck_until, now));
        let status = self.status();
        if status != self.last_status {
            self.last_status = status;
            self.updated = now;
        }
        if status == AdsStatus::Completed {
            self.generated.get_or_insert(now);
        }
    }

    /// The `AsyncReport` object; `download` is the URL and its expiry once
    /// `COMPLETED`.
    pub(crate) fn to_json(&self, download: Option<(&str, DateTime<Utc>)>) -> Value {
        let status = self.status();
        let (url, expires) = match download {
            Some((url, expires)) => (json!(url), json!(timestamp(expires))),
            None => (Value::Null, Value::Null),
        };
        json!({
            "configuration": self.configuration,
            "createdAt": timestamp(self.created),
            "endDate": self.end_date.to_string(),
            "failureReason": if status == AdsStatus::Failed { json!(FAILURE_REASON) } else { Value::Null },
            "fileSize": if status == AdsStatus::Completed { json!(self.file_size) } else { Value::Null },
            "generatedAt": self.generated.map(timestamp),
            "name": self.name,
            "reportId": self.id,
            "startDate": self.start_date.to_string(),
            "status": status.as_str(),
            "updatedAt": timestamp(self.updated),
            "url": url,
            "urlExpiresAt": expires,
        })
    }

    /// The report's JSON array (`[{…},{…}]`, exactly the requested columns), as
    /// pieces: one per day for a DAILY report, so only a day's rows are held; a
    /// SUMMARY sums each entity over the range, which holds one row per entity
    /// (a few hundred at most, whatever the catalog's size).
    pub(crate) fn json_pieces(&self, truth: Truth) -> Pieces {
        let days: Vec<NaiveDate> = self
            .start_date
            .iter_days()
            .take_while(|d| *d <= self.end_date)
            .collect();
        let groups: Vec<Vec<NaiveDate>> = match self.time_unit {
            TimeUnit::Daily => days.into_iter().map(|d| vec![d]).collect(),
            TimeUnit::Summary => vec![days],
        };
        let report = self.clone();
        let mut groups = groups.into_iter();
        let (mut started, mut finished, mut written) = (false, false, 0usize);
        Box::new(std::iter::from_fn(move || {
            if finished {
                return None;
            }
            let mut text = String::new();
            if !started {
                started = true;
                text.push('[');
            }
            match groups.next() {
                Some(days) => match report.rows(&truth, &days) {
                    Ok(rows) => {
                        for row in rows {
                            if written > 0 {
                                text.push(',');
                            }
                            written += 1;
                            text.push_str(&row.to_string());
                        }
                    }
                    Err(error) => {
                        finished = true;
                        return Some(Err(error));
                    }
                },
                None => {
                    finished = true;
                    text.push(']');
                }
            }
            Some(Ok(text.into_bytes()))
        }))
    }

    /// The rows of `days`, as Amazon's JSON objects: each day's rows for a DAILY
    /// report, the rows summed over them for a SUMMARY.
    pub(crate) fn rows(&self, truth: &Truth, days: &[NaiveDate]) -> Result<Vec<Value>, crate::Error> {
        let mut out = Vec::new();
        match self.time_unit {
            TimeUnit::Daily => {
                for &day in days {
                    for row in truth.ads_rows(self.profile_id, day, self.grain)? {
                        out.push(self.object(&row));
                    }
                }
            }
            TimeUnit::Summary => {
                // Sum each entity over the range, in the order entities first appear.
                let mut summed: Vec<AdsRow> = Vec::new();
                let mut index = HashMap::new();
                for &day in days {
                    for row in truth.ads_rows(self.profile_id, day, self.grain)? {
                        let key = (
                            row.campaign_id,
                            row.ad_group_id,
                            row.ad_id,
                            row.keyword_id,
                            row.search_term.clone(),
                        );
                        match index.get(&key) {
                            Some(&i) => {
                                let total: &mut AdsRow = &mut summed[i];
                                total.metrics.add(&row.metrics);
                            }
                            None => {
                                index.insert(key, summed.len());
                                summed.push(row);
                            }
                        }
                    }
                }
                out.extend(summed.iter().map(|row| self.object(row)));
            }
        }
        Ok(out)
    }

    fn object(&self, row: &AdsRow) -> Value {
        let mut object = Map::new();
        for column in &self.columns {
            object.insert(column.clone(), self.value(row, column));
        }
        Value::Object(object)
    }

    fn value(&self, row: &AdsRow, column: &str) -> Value {
        let m = &row.metrics;
        match column {
            "date" => json!(row.date.to_string()),
            "startDate" => json!(self.start_date.to_string()),
            "endDate" => json!(self.end_date.to_string()),
            "campaignId" => json!(row.campaign_id),
            "campaignName" => json!(row.campaign_name),
            "campaignStatus" => json!(row.campaign_status),
            "campaignBudgetAmount" => money(row.campaign_budget_cents),
            "campaignBudgetType" => json!("DAILY_BUDGET"),
            "campaignBudgetCurrencyCode" => json!(self.currency),
            "campaignBiddingStrategy" => json!(row.campaign_bidding_strategy),
            "portfolioId" => Value::Null,
            "adGroupId" => json!(row.ad_group_id),
            "adGroupName" => json!(row.ad_group_name),
            "adStatus" => json!(row.ad_group_status),
            "adId" => json!(row.ad_id),
            "advertisedSku" => json!(row.advertised_sku),
            "advertisedAsin" => json!(row.advertised_asin),
            "keywordId" => json!(row.keyword_id),
            "keyword" => json!(row.keyword),
            "keywordType" => json!(row.keyword_type),
            "matchType" => json!(row.match_type),
            "targeting" => json!(row.targeting),
            "keywordBid" => row.keyword_bid_cents.map_or(Value::Null, money),
            "adKeywordStatus" => json!(row.keyword_status),
            "searchTerm" => json!(row.search_term),
            "impressions" => json!(m.impressions),
            "clicks" => json!(m.clicks),
            "cost" | "spend" => money(m.cost_cents),
            "salesOtherSku7d" => money(m.d7.sales_cents - m.d7.sales_same_sku_cents),
            "unitsSoldOtherSku7d" => json!(m.d7.units_sold - m.d7.units_sold_same_sku),
            _ => conversion(window_of(m, column), column),
        }
    }
}

/// The conversions of the window a column names (`sales14d` → 14 days).
fn window_of<'a>(m: &'a crate::truth::AdsMetrics, column: &str) -> &'a Conversions {
    match column {
        c if c.ends_with("30d") => &m.d30,
        c if c.ends_with("14d") => &m.d14,
        c if c.ends_with("7d") => &m.d7,
        _ => &m.d1,
    }
}

/// A conversion column (`purchases7d`, `attributedSalesSameSku30d`, …).
fn conversion(c: &Conversions, column: &str) -> Value {
    let name = column.trim_end_matches(|ch: char| ch.is_ascii_digit() || ch == 'd');
    match name {
        "purchases" => json!(c.purchases),
        "unitsSoldClicks" => json!(c.units_sold),
        "sales" => money(c.sales_cents),
        "purchasesSameSku" => json!(c.purchases_same_sku),
        "unitsSoldSameSku" => json!(c.units_sold_same_sku),
        "attributedSalesSameSku" => money(c.sales_same_sku_cents),
        _ => Value::Null,
    }
}

/// Money as a JSON number with at most two decimals (`13.44`).
fn money(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

/// Ads writes times with milliseconds and `Z`: `2024-05-04T09:00:01.223Z`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::truth::AdsMetrics;

    #[test]
    fn every_accepted_conversion_column_renders_its_window() {
        let mut m = AdsMetrics::default();
        m.d1.sales_cents = 100;
        m.d7.sales_cents = 700;
        m.d14.purchases_same_sku = 14;
        m.d30.sales_same_sku_cents = 3000;
        assert_eq!(conversion(window_of(&m, "sales1d"), "sales1d"), json!(1.0));
        assert_eq!(conversion(window_of(&m, "sales7d"), "sales7d"), json!(7.0));
        assert_eq!(
            conversion(window_of(&m, "purchasesSameSku14d"), "purchasesSameSku14d"),
            json!(14)
        );
        assert_eq!(
            conversion(
                window_of(&m, "attributedSalesSameSku30d"),
                "attributedSalesSameSku30d"
            ),
            json!(30.0)
        );
        for prefix in [
            "purchases",
            "unitsSoldClicks",
            "sales",
            "purchasesSameSku",
            "unitsSoldSameSku",
            "attributedSalesSameSku",
        ] {
            for window in WINDOWS {
                let column = format!("{prefix}{window}");
                assert!(is_metric(&column), "{column}");
                assert!(!conversion(window_of(&m, &column), &column).is_null(), "{column}");
            }
        }
        assert!(!is_metric("sales2d"));
        assert!(!is_metric("costPerClick"));
    }

    #[test]
    fn campaigns_accept_ad_group_columns_only_when_grouped_by_ad_group() {
        let by = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let campaigns = AdsReportType::Campaigns;
        assert!(campaigns.accepts(&by(&["campaign", "adGroup"]), "adGroupId"));
        assert!(!campaigns.accepts(&by(&["campaign"]), "adGroupId"));
        assert_eq!(
            campaigns.grain(&by(&["adGroup", "campaign"])),
            Some(Grain::AdGroup)
        );
        assert_eq!(campaigns.grain(&by(&["campaignPlacement"])), None);
        assert_eq!(AdsReportType::SearchTerm.retention_days(), 65);
    }
}
