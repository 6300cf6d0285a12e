//! The resume point of a sync task, stored as JSON in `sync_tasks.checkpoint`.
//!
//! A task is planned into **units**, one Amazon report each (inventory: one
//! per marketplace; business: one per marketplace and day; advertising: one
//! per Ads profile, report type and window of at most 31 days). Each unit records
//! the Amazon report id as soon as it is known, so a retry or a redelivery
//! polls the same report instead of requesting another (FR-7), and whether its
//! rows are in the database. The format (`version` 1):
//!
//! ```json
//! {"version": 1,
//!  "units": [{"marketplace_id": "ATVPDKIKX0DER", "date": "2026-03-01",
//!             "state": "requested", "report_id": "5012", "rows": 0, "failed": 0}],
//!  "row_errors": ["ATVPDKIKX0DER 2026-03-01 line 3: afn-fulfillable-quantity: not a number"],
//!  "skipped_final_days": 23}
//! ```
//!
//! `skipped_final_days` counts the days of the window planned without a
//! report because they were already final and synced (`plan`).
//!
//! An advertising task also lists the Ads profiles it discovered (the
//! currency and marketplace its rows are stored under), and its units name
//! their profile, report and last day (`date` is the first):
//!
//! ```json
//! {"version": 1,
//!  "profiles": [{"profile_id": 3141592653589793, "marketplace_id": "ATVPDKIKX0DER",
//!                "currency": "USD"}],
//!  "units": [{"marketplace_id": "ATVPDKIKX0DER", "date": "2026-02-08", "end": "2026-03-09",
//!             "profile_id": 3141592653589793, "report": "advertised_product",
//!             "state": "requested", "report_id": "0c4f…", "rows": 0, "failed": 0}]}
//! ```
//!
//! A business unit has a second report, the CHILD-granularity Sales &
//! Traffic report of the same marketplace and day (`child_report_id`); its
//! rows are stored in the transaction of the SKU rows. An inventory backfill
//! plans ledger units (`"ledger": true`) over windows of days (`date` the
//! first, `end` the last).
//!
//! Unit states: `planned` (no report yet) → `requested` (report id known) →
//! `done` (rows committed, in the same transaction as the checkpoint that
//! says so) | `no_data` (Amazon cancelled the report: no data for that day).
//! A `FATAL` (SP-API) or `FAILED` (Ads) report sends its unit back to
//! `planned`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many malformed-row reasons a task keeps (the count is always exact).
pub const MAX_ROW_ERRORS: usize = 5;

/// Where a sync task stands, per report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version, 1.
    pub version: u32,
    /// The Ads profiles an advertising task covers (empty for other kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<AdsProfile>,
    /// The reports of the task, in the order they are worked on.
    pub units: Vec<Unit>,
    /// The first [`MAX_ROW_ERRORS`] reasons rows were skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_errors: Vec<String>,
    /// Days of the window not requested because they are final and were
    /// fetched after they became final (counted per marketplace or Ads
    /// profile; see `plan`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_final_days: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An Ads profile of an advertising task: what its rows are stored under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdsProfile {
    /// Amazon's profile id (the `-Scope` of its calls).
    pub profile_id: i64,
    /// Its marketplace (one of the store's).
    pub marketplace_id: String,
    /// The currency of its money columns.
    pub currency: String,
}

/// The Sponsored Products reports an advertising task requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdsReport {
    /// spAdvertisedProduct by advertiser: the per-SKU snapshot.
    AdvertisedProduct,
    /// spCampaigns by campaign.
    Campaigns,
    /// spCampaigns by campaign and ad group.
    AdGroups,
    /// spTargeting.
    Targeting,
    /// spSearchTerm.
    SearchTerms,
}

impl AdsReport {
    /// Every report, in the order a window's units are planned.
    pub const ALL: [AdsReport; 5] = [
        AdsReport::AdvertisedProduct,
        AdsReport::Campaigns,
        AdsReport::AdGroups,
        AdsReport::Targeting,
        AdsReport::SearchTerms,
    ];

    /// `spCampaigns/adGroup`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            AdsReport::AdvertisedProduct => "spAdvertisedProduct",
            AdsReport::Campaigns => "spCampaigns/campaign",
            AdsReport::AdGroups => "spCampaigns/adGroup",
            AdsReport::Targeting => "spTargeting",
            AdsReport::SearchTerms => "spSearchTerm",
        }
    }
}

/// One Amazon report of a task: one marketplace and one day (SP-API), or one
/// Ads profile, report type and window (advertising).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The marketplace the report covers.
    pub marketplace_id: String,
    /// The day (marketplace time) its rows are stored under; the first day
    /// of an Ads report's window.
    pub date: NaiveDate,
    /// The last day of an Ads report's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// The Ads profile of an advertising report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<i64>,
    /// Which Ads report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<AdsReport>,
    /// An inventory ledger report over `date..=end` rather than the MYI
    /// snapshot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ledger: bool,
    /// Where the unit is.
    pub state: UnitState,
    /// Amazon's report id, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// Whether a request for this unit's report may have reached Amazon: set
    /// (and saved) before the request, so a delivery that died between the
    /// request and saving the report id looks for that report instead of
    /// making a second one. A unit never sent skips the look (`getReports`
    /// has the tightest usage plan of all, 10 and then one per 45 s).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
    /// The same for a business unit's child-ASIN report.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub child_sent: bool,
    /// A business unit's CHILD-granularity report id, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_report_id: Option<String>,
    /// When its report was requested (the engine's clock), which starts
    /// [`crate::SyncSettings::report_deadline`]; for a unit requested before
    /// deadlines were kept, when a poll first found its report not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<DateTime<Utc>>,
    /// Rows stored.
    #[serde(default)]
    pub rows: i64,
    /// Rows skipped as malformed.
    #[serde(default)]
    pub failed: i64,
}

/// The state of one [`Unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// No report requested yet.
    Planned,
    /// Report requested; not ingested yet.
    Requested,
    /// Rows committed.
    Done,
    /// Amazon cancelled the report: it had no data.
    NoData,
}

impl Unit {
    /// A unit with nothing requested yet.
    pub fn planned(marketplace_id: impl Into<String>, date: NaiveDate) -> Self {
        Self {
            marketplace_id: marketplace_id.into(),
            date,
            end: None,
            profile_id: None,
            report: None,
            ledger: false,
            state: UnitState::Planned,
            report_id: None,
            sent: false,
            child_sent: false,
            child_report_id: None,
            waiting_since: None,
            rows: 0,
            failed: 0,
        }
    }

    /// Whether nothing is left to do for this unit.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, UnitState::Done | UnitState::NoData)
    }

    /// An Ads report of `profile` over `start..=end`, nothing requested yet.
    pub fn planned_ads(profile: &AdsProfile, report: AdsReport, start: NaiveDate, end: NaiveDate) -> Self {
        Self {
            end: Some(end),
            profile_id: Some(profile.profile_id),
            report: Some(report),
            ..Self::planned(profile.marketplace_id.clone(), start)
        }
    }

    /// The inventory ledger of one marketplace over `start..=end`, nothing
    /// requested yet.
    pub fn planned_ledger(marketplace_id: impl Into<String>, start: NaiveDate, end: NaiveDate) -> Self {
        Self {
            end: Some(end),
            ledger: true,
            ..Self::planned(marketplace_id, start)
        }
    }

    /// `ATVPDKIKX0DER 2026-03-01`, or for an Ads report
    /// `ATVPDKIKX0DER spTargeting 2026-02-08..2026-03-09`, or for a ledger
    /// `ATVPDKIKX0DER ledger 2026-02-01..2026-02-28`, for messages.
    pub fn label(&self) -> String {
        match (self.report, self.end) {
            (Some(report), Some(end)) => {
                format!("{} {} {}..{}", self.marketplace_id, report.name(), self.date, end)
            }
            (None, Some(end)) if self.ledger => {
                format!("{} ledger {}..{}", self.marketplace_id, self.date, end)
            }
            _ => format!("{} {}", self.marketplace_id, self.date),
        }
    }
}

impl Checkpoint {
    /// A plan of `units`.
    pub fn new(units: Vec<Unit>) -> Self {
        Self {
            version: 1,
            profiles: Vec::new(),
            units,
            row_errors: Vec::new(),
            skipped_final_days: 0,
        }
    }

    /// The Ads profile `id` of this task.
    pub fn profile(&self, id: i64) -> Option<&AdsProfile> {
        self.profiles.iter().find(|p| p.profile_id == id)
    }

    /// The checkpoint stored in a task: `None` for a task not planned yet
    /// (the column holds `{}` or `null`), an error for one we cannot read.
    pub fn read(value: &serde_json::Value) -> Result<Option<Self>, serde_json::Error> {
        match value {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::Object(map) if map.is_empty() => Ok(None),
            other => Checkpoint::deserialize(other).map(Some),
        }
    }

    /// As JSON for the task row.
    pub fn to_json(&self) -> serde_json::Value {
        // A struct of strings, numbers and dates always serializes.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Units finished (done or no data).
    pub fn finished(&self) -> usize {
        self.units.iter().filter(|u| u.is_finished()).count()
    }

    /// Whether every unit is finished.
    pub fn is_complete(&self) -> bool {
        self.units.iter().all(Unit::is_finished)
    }

    /// Rows stored over all units.
    pub fn rows(&self) -> i64 {
        self.units.iter().map(|u| u.rows).sum()
    }

    /// Rows skipped over all units.
    pub fn failed(&self) -> i64 {
        self.units.iter().map(|u| u.failed).sum()
    }

    /// Keeps the first reasons rows were skipped.
    pub fn note_row_errors(&mut self, unit: &str, reasons: &[String]) {
        let room = MAX_ROW_ERRORS.saturating_sub(self.row_errors.len());
        self.row_errors
            .extend(reasons.iter().take(room).map(|r| format!("{unit} {r}")));
    }

    /// A one-line account for `progress_message`: rows, days without data,
    /// skipped rows with their first reasons.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "{} rows from {} of {} reports",
            self.rows(),
            self.finished(),
            self.units.len()
        )];
        let empty: Vec<String> = self
            .units
            .iter()
            .filter(|u| u.state == UnitState::NoData)
            .map(Unit::label)
            .collect();
        if !empty.is_empty() {
            parts.push(format!("no data from Amazon for {}", empty.join(", ")));
        }
        if self.skipped_final_days > 0 {
            parts.push(format!(
                "{} days already final and synced, not requested again",
                self.skipped_final_days
            ));
        }
        if self.failed() > 0 {
            parts.push(format!(
                "{} malformed rows skipped ({})",
                self.failed(),
                self.row_errors.join("; ")
            ));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    #[test]
    fn an_unplanned_task_has_no_checkpoint_and_a_planned_one_round_trips() {
        assert_eq!(Checkpoint::read(&serde_json::json!({})).ok(), Some(None));
        assert_eq!(Checkpoint::read(&serde_json::Value::Null).ok(), Some(None));
        let mut cp = Checkpoint::new(vec![Unit::planned("ATVPDKIKX0DER", day("2026-03-01"))]);
        cp.units[0].state = UnitState::Requested;
        cp.units[0].report_id = Some("42".into());
        let back = Checkpoint::read(&cp.to_json())
            .expect("readable")
            .expect("planned");
        assert_eq!(back, cp);
        assert!(
            cp.to_json().to_string().contains(r#""state":"requested""#),
            "{}",
            cp.to_json()
        );
    }

    #[test]
    fn an_ads_unit_names_its_profile_report_and_window_and_sp_units_stay_as_they_were() {
        let profile = AdsProfile {
            profile_id: 3_141_592_653_589_793,
            marketplace_id: "ATVPDKIKX0DER".into(),
            currency: "USD".into(),
        };
        let unit = Unit::planned_ads(
            &profile,
            AdsReport::AdGroups,
            day("2026-02-08"),
            day("2026-03-09"),
        );
        assert_eq!(
            unit.label(),
            "ATVPDKIKX0DER spCampaigns/adGroup 2026-02-08..2026-03-09"
        );
        let mut cp = Checkpoint::new(vec![unit]);
        cp.profiles.push(profile);
        let json = cp.to_json().to_string();
        assert!(json.contains(r#""report":"ad_groups""#), "{json}");
        assert!(json.contains(r#""profile_id":3141592653589793"#), "{json}");
        assert_eq!(Checkpoint::read(&cp.to_json()).ok(), Some(Some(cp.clone())));
        let sp = Checkpoint::new(vec![Unit::planned("US", day("2026-03-01"))])
            .to_json()
            .to_string();
        assert!(!sp.contains("profile") && !sp.contains("end"), "{sp}");
    }

    #[test]
    fn the_summary_names_days_without_data_and_the_first_row_errors() {
        let mut cp = Checkpoint::new(vec![
            Unit::planned("US", day("2026-03-01")),
            Unit::planned("US", day("2026-03-02")),
        ]);
        cp.units[0].state = UnitState::Done;
        cp.units[0].rows = 10;
        cp.units[0].failed = 7;
        cp.units[1].state = UnitState::NoData;
        let reasons: Vec<String> = (1..=7).map(|i| format!("line {i}: bad")).collect();
        cp.note_row_errors("US 2026-03-01", &reasons);
        assert_eq!(cp.row_errors.len(), MAX_ROW_ERRORS);
        let summary = cp.summary();
        assert!(summary.starts_with("10 rows from 2 of 2 reports"), "{summary}");
        assert!(
            summary.contains("no data from Amazon for US 2026-03-02"),
            "{summary}"
        );
        assert!(
            summary.contains("7 malformed rows skipped (US 2026-03-01 line 1: bad"),
            "{summary}"
        );
        assert!(cp.is_complete());
    }
}
