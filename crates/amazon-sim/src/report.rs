//! A report request and its processing state machine (PROTOCOL.md §3.3, §3.9):
//! `IN_QUEUE` → `IN_PROGRESS` → `DONE` | `CANCELLED` | `FATAL`, advanced by polls or
//! by the simulated clock ([`crate::ReportTiming`]), so tests control it without
//! waiting and a live server completes reports over time.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::timing::{ReportTiming, Stage, held};

/// Report types the simulator generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportType {
    /// `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`: TSV inventory snapshot.
    FbaMyiUnsuppressedInventory,
    /// `GET_SALES_AND_TRAFFIC_REPORT`: JSON sales and traffic.
    SalesAndTraffic,
    /// `GET_LEDGER_SUMMARY_VIEW_DATA`: quoted TSV inventory ledger, daily by
    /// country.
    LedgerSummaryView,
}

impl ReportType {
    /// Amazon's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::FbaMyiUnsuppressedInventory => "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
            ReportType::SalesAndTraffic => "GET_SALES_AND_TRAFFIC_REPORT",
            ReportType::LedgerSummaryView => "GET_LEDGER_SUMMARY_VIEW_DATA",
        }
    }

    /// The type with this Amazon name, if the simulator generates it.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::FbaMyiUnsuppressedInventory,
            Self::SalesAndTraffic,
            Self::LedgerSummaryView,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }

    /// Whether the document is delivered gzip-compressed (`compressionAlgorithm:
    /// GZIP`). MYI flat files usually come uncompressed and sales and traffic JSON
    /// usually compressed (PROTOCOL.md §4.1, §4.4), so the simulator serves both
    /// shapes and a client must honour the field.
    pub(crate) fn is_gzip(self) -> bool {
        matches!(self, ReportType::SalesAndTraffic)
    }

    /// Near-real-time FBA reports are regenerated at most every ~30 minutes.
    pub(crate) fn is_near_real_time(self) -> bool {
        matches!(self, ReportType::FbaMyiUnsuppressedInventory)
    }
}

/// `processingStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingStatus {
    /// `IN_QUEUE`.
    InQueue,
    /// `IN_PROGRESS`.
    InProgress,
    /// `DONE`.
    Done,
    /// `CANCELLED`.
    Cancelled,
    /// `FATAL`.
    Fatal,
}

impl ProcessingStatus {
    /// Amazon's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::InQueue => "IN_QUEUE",
            ProcessingStatus::InProgress => "IN_PROGRESS",
            ProcessingStatus::Done => "DONE",
            ProcessingStatus::Cancelled => "CANCELLED",
            ProcessingStatus::Fatal => "FATAL",
        }
    }

    /// Parses Amazon's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::InQueue,
            Self::InProgress,
            Self::Done,
            Self::Cancelled,
            Self::Fatal,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether polling can stop.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled | Self::Fatal)
    }
}

/// Where a report goes once processing ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    Done,
    Cancelled,
    Fatal { error_details: Option<String> },
}

#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) id: String,
    pub(crate) seller: String,
    pub(crate) report_type: ReportType,
    pub(crate) marketplace_ids: Vec<String>,
    pub(crate) data_start: DateTime<Utc>,
    pub(crate) data_end: DateTime<Utc>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) options: BTreeMap<String, String>,
    pub(crate) timing: ReportTiming,
    /// Until when a fault keeps the report in processing
    /// ([`crate::FaultRates::report_stuck`]).
    pub(crate) stuck_until: Option<DateTime<Utc>>,
    pub(crate) polls_seen: u32,
    /// How far processing has come when last observed; only moves forward.
    pub(crate) stage: Stage,
    pub(crate) ending: Ending,
    pub(crate) cancelled: bool,
    pub(crate) processing_start: Option<DateTime<Utc>>,
    pub(crate) processing_end: Option<DateTime<Utc>>,
    /// Assigned at creation, shown only once the report has a document.
    pub(crate) document_id: String,
}

impl Report {
    /// The status when last observed ([`Report::observe`]): queued, in progress,
    /// or the ending once the timing has run out.
    pub(crate) fn status(&self) -> ProcessingStatus {
        if self.cancelled {
            return ProcessingStatus::Cancelled;
        }
        match self.stage {
            Stage::Queued => ProcessingStatus::InQueue,
            Stage::Processing => ProcessingStatus::InProgress,
            Stage::Finished => match self.ending {
                Ending::Done => ProcessingStatus::Done,
                Ending::Cancelled => ProcessingStatus::Cancelled,
                Ending::Fatal { .. } => ProcessingStatus::Fatal,
            },
        }
    }

    /// One `getReport` call: moves the state machine on.
    pub(crate) fn poll(&mut self, now: DateTime<Utc>) {
        self.polls_seen = self.polls_seen.saturating_add(1);
        self.observe(now);
    }

    /// Moves the state machine to where its timing says it is at `now`, and stamps
    /// `processingStartTime`/`processingEndTime` the first time a status that has
    /// them is seen. Every handler that shows a report observes it first, so a
    /// time-driven report is complete whoever looks.
    pub(crate) fn observe(&mut self, now: DateTime<Utc>) {
        if self.cancelled {
            return;
        }
        let stage = self.timing.stage(self.polls_seen, self.created, now);
        self.stage = self.stage.max(held(stage, self.stuck_until, now));
        let status = self.status();
        if status == ProcessingStatus::InProgress || status.is_terminal() {
            self.processing_start.get_or_insert(now);
        }
        if status.is_terminal() {
            self.processing_end.get_or_insert(now);
        }
    }

    pub(crate) fn cancel(&mut self, now: DateTime<Utc>) {
        self.cancelled = true;
        self.processing_end = Some(now);
    }

    /// The document id a client may see: DONE always, FATAL when it has an error
    /// document, never before a terminal status or on CANCELLED.
    pub(crate) fn visible_document_id(&self) -> Option<&str> {
        match (self.status(), &self.ending) {
            (ProcessingStatus::Done, _) => Some(&self.document_id),
            (
                ProcessingStatus::Fatal,
                Ending::Fatal {
                    error_details: Some(_),
                },
            ) => Some(&self.document_id),
            _ => None,
        }
    }

    /// The `Report` JSON object of PROTOCOL.md §3.2.
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "reportId": self.id,
            "reportType": self.report_type.as_str(),
            "marketplaceIds": self.marketplace_ids,
            "dataStartTime": timestamp(self.data_start),
            "dataEndTime": timestamp(self.data_end),
            "createdTime": timestamp(self.created),
            "processingStatus": self.status().as_str(),
        });
        let object = v
            .as_object_mut()
            .expect("json! of an object literal is an object");
        if let Some(t) = self.processing_start {
            object.insert("processingStartTime".into(), timestamp(t).into());
        }
        if let Some(t) = self.processing_end {
            object.insert("processingEndTime".into(), timestamp(t).into());
        }
        if let Some(id) = self.visible_document_id() {
            object.insert("reportDocumentId".into(), id.into());
        }
        v
    }
}

/// Amazon writes report times with an explicit offset: `2024-05-02T10:00:00+00:00`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}
