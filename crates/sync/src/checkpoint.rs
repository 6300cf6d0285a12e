//! The resume point of a sync task, stored as JSON in `sync_tasks.checkpoint`.
//!
//! A task is planned into **units**, one Amazon report each (inventory: one
//! per marketplace; business: one per marketplace and day). Each unit records
//! the Amazon report id as soon as it is known, so a retry or a redelivery
//! polls the same report instead of requesting another (FR-7), and whether its
//! rows are in the database. The format (`version` 1):
//!
//! ```json
//! {"version": 1,
//!  "units": [{"marketplace_id": "ATVPDKIKX0DER", "date": "2026-03-01",
//!             "state": "requested", "report_id": "5012", "rows": 0, "failed": 0}],
//!  "row_errors": ["ATVPDKIKX0DER 2026-03-01 line 3: afn-fulfillable-quantity: not a number"]}
//! ```
//!
//! Unit states: `planned` (no report yet) → `requested` (report id known) →
//! `done` (rows committed) | `no_data` (Amazon cancelled the report: no data
//! for that day). A `FATAL` report sends its unit back to `planned`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How many malformed-row reasons a task keeps (the count is always exact).
pub const MAX_ROW_ERRORS: usize = 5;

/// Where a sync task stands, per report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version, 1.
    pub version: u32,
    /// The reports of the task, in the order they are worked on.
    pub units: Vec<Unit>,
    /// The first [`MAX_ROW_ERRORS`] reasons rows were skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_errors: Vec<String>,
}

/// One Amazon report of a task: one marketplace, one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The marketplace the report covers.
    pub marketplace_id: String,
    /// The day (marketplace time) its rows are stored under.
    pub date: NaiveDate,
    /// Where the unit is.
    pub state: UnitState,
    /// Amazon's report id, once requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
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
            state: UnitState::Planned,
            report_id: None,
            rows: 0,
            failed: 0,
        }
    }

    /// Whether nothing is left to do for this unit.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, UnitState::Done | UnitState::NoData)
    }

    /// `ATVPDKIKX0DER 2026-03-01`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.marketplace_id, self.date)
    }
}

impl Checkpoint {
    /// A plan of `units`.
    pub fn new(units: Vec<Unit>) -> Self {
        Self {
            version: 1,
            units,
            row_errors: Vec::new(),
        }
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
