//! Faults tests inject on purpose: throttled or failing calls and forced report
//! outcomes. Each knob is consumed by the calls it affects, so a test states exactly
//! how many calls misbehave.

use std::collections::{HashMap, VecDeque};

use crate::usage_plan::Operation;

/// How a report ends once its polls are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportOutcome {
    /// `DONE` with a document.
    Done,
    /// `CANCELLED`, as Amazon does when there is no data.
    Cancelled,
    /// `FATAL` with an error document (`{"errorDetails": …}`).
    Fatal,
    /// `FATAL` without a `reportDocumentId`.
    FatalWithoutDocument,
}

/// How an Ads report ends once its polls are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdsReportOutcome {
    /// `COMPLETED` with a download URL.
    Completed,
    /// `FAILED` with a `failureReason`.
    Failed,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Calls of an operation still to answer with 429, whatever the usage plan says.
    pub(crate) throttle: HashMap<Operation, u32>,
    /// Calls of an operation still to answer with 500.
    pub(crate) fail: HashMap<Operation, u32>,
    /// Polls that reports created from now on take; `None` uses the config.
    pub(crate) report_polls: Option<u32>,
    /// Outcomes forced on the next created reports, in order.
    pub(crate) next_outcomes: VecDeque<ReportOutcome>,
    /// Polls that Ads reports created from now on take; `None` uses the config.
    pub(crate) ads_report_polls: Option<u32>,
    /// Outcomes forced on the next created Ads reports, in order.
    pub(crate) next_ads_outcomes: VecDeque<AdsReportOutcome>,
}

impl Faults {
    /// Consumes one pending fault of the kind in `pending` for `op`, if any.
    pub(crate) fn take(pending: &mut HashMap<Operation, u32>, op: Operation) -> bool {
        match pending.get_mut(&op) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}
