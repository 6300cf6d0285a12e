//! The SP-API side of a sync task (inventory, Sales & Traffic): the reports
//! of a unit through the Reports API, their documents read by the report
//! kind's module. A business unit has two reports (by SKU and by child ASIN,
//! see [`crate::reports::business`]) whose rows are stored together; an
//! inventory unit is the MYI snapshot or, in a backfill, a ledger window.

use amzsync_amazon::Error as AmazonError;
use amzsync_amazon::sp::reports::{CreateReportSpecification, Reports};
use amzsync_domain::{StoreId, SyncKind};
use chrono::{DateTime, Utc};

use super::{Polled, Stage};
use crate::checkpoint::{Unit, UnitState};
use crate::reports::{self, Batch, Rows};

/// The unit's main report.
pub(super) fn specification(kind: SyncKind, unit: &Unit) -> CreateReportSpecification {
    match kind {
        SyncKind::Inventory if unit.ledger => {
            reports::ledger::specification(&unit.marketplace_id, unit.date, unit.end.unwrap_or(unit.date))
        }
        SyncKind::Inventory => reports::inventory::specification(&unit.marketplace_id),
        SyncKind::Business | SyncKind::Advertising => {
            reports::business::specification(&unit.marketplace_id, unit.date)
        }
    }
}

/// The unit's second report, if its kind has one (business: by child ASIN).
pub(super) fn child_specification(kind: SyncKind, unit: &Unit) -> Option<CreateReportSpecification> {
    (kind == SyncKind::Business)
        .then(|| reports::business::child_specification(&unit.marketplace_id, unit.date))
}

/// Whether some report of the unit is still to be requested: a planned
/// unit, or a business unit checkpointed before child-ASIN reports existed.
pub(super) fn needs_request(kind: SyncKind, unit: &Unit) -> bool {
    unit.state == UnitState::Planned
        || (unit.state == UnitState::Requested
            && kind == SyncKind::Business
            && unit.child_report_id.is_none())
}

/// Requests a report or, given `reuse_within`, first looks for a matching
/// one requested within it (a crash between `createReport` and the
/// checkpoint costs no second report). Returns its id.
pub(super) async fn request(
    reports: &Reports<'_>,
    specification: &CreateReportSpecification,
    unit: &Unit,
    reuse_within: Option<std::time::Duration>,
) -> Result<String, AmazonError> {
    let Some(reuse_within) = reuse_within else {
        let report_id = reports.create_report(specification).await?;
        tracing::debug!(unit = %unit.label(), %report_id, "report requested");
        return Ok(report_id);
    };
    let requested = reports.request_report(specification, reuse_within).await?;
    tracing::debug!(unit = %unit.label(), report_id = %requested.report_id, reused = requested.reused, "report requested");
    Ok(requested.report_id)
}

/// Where one report stands.
enum Generation {
    Done {
        document_id: String,
        /// When Amazon made the report: the moment a snapshot shows.
        created: DateTime<Utc>,
    },
    Pending,
    Cancelled,
}

async fn generation(reports: &Reports<'_>, report_id: &str) -> Result<Generation, AmazonError> {
    let report = reports.get_report(report_id).await?;
    match reports.ready_document(&report).await {
        Ok(None) => Ok(Generation::Pending),
        Ok(Some(document_id)) => Ok(Generation::Done {
            document_id,
            created: report.created_time,
        }),
        Err(AmazonError::ReportCancelled { .. }) => Ok(Generation::Cancelled),
        Err(e) => Err(e),
    }
}

/// Polls the unit's reports; downloads and converts their rows when all are
/// done. A business day whose SKU report Amazon cancelled has no data; one
/// whose child-ASIN report alone was cancelled keeps its SKU rows.
pub(super) async fn poll(
    reports: &Reports<'_>,
    kind: SyncKind,
    store: StoreId,
    unit: &Unit,
) -> Result<Polled, (Stage, AmazonError)> {
    let polling = |e| (Stage::Polling, e);
    let main = generation(reports, unit.report_id.as_deref().unwrap_or_default())
        .await
        .map_err(polling)?;
    let (document_id, created) = match main {
        Generation::Pending => return Ok(Polled::NotReady),
        Generation::Cancelled => return Ok(Polled::NoData),
        Generation::Done { document_id, created } => (document_id, created),
    };
    let child_document_id = match &unit.child_report_id {
        Some(child) => match generation(reports, child).await.map_err(polling)? {
            Generation::Pending => return Ok(Polled::NotReady),
            Generation::Cancelled => None,
            Generation::Done { document_id, .. } => Some(document_id),
        },
        None => None,
    };
    let marketplace_id = unit.marketplace_id.clone();
    // An inventory snapshot is the stock when Amazon made the report, so it
    // belongs to that day in the marketplace, which is the planned day
    // unless the task ran late (retries, a dead worker's lease) past the
    // marketplace's midnight, or found an earlier task's report.
    let date = match kind {
        SyncKind::Inventory if !unit.ledger => crate::plan::today_in(&marketplace_id, created),
        _ => unit.date,
    };
    let end = unit.end.unwrap_or(unit.date);
    // Japanese flat files often declare no charset and are Shift_JIS.
    let reports = reports.for_marketplace(&unit.marketplace_id);
    let downloading = |e| (Stage::Downloading, e);
    let fetched: Batch = match kind {
        SyncKind::Inventory if unit.ledger => reports
            .download(&document_id, move |text| {
                reports::ledger::read(text, store, &marketplace_id, (date, end)).map(|f| f.map(Rows::Ledger))
            })
            .await
            .map_err(downloading)?,
        SyncKind::Inventory => reports
            .download(&document_id, move |text| {
                reports::inventory::read(text, store, &marketplace_id, date).map(|f| {
                    f.map(|rows| Rows::Inventory {
                        day: reports::ReportDay {
                            store,
                            marketplace_id: marketplace_id.clone(),
                            date,
                        },
                        rows,
                    })
                })
            })
            .await
            .map_err(downloading)?,
        SyncKind::Business | SyncKind::Advertising => {
            let skus = {
                let marketplace_id = marketplace_id.clone();
                reports
                    .download(&document_id, move |text| {
                        reports::business::read(text, store, &marketplace_id, date)
                    })
                    .await
                    .map_err(downloading)?
            };
            let day = reports::ReportDay {
                store,
                marketplace_id: marketplace_id.clone(),
                date,
            };
            let with_asins = child_document_id.is_some();
            let asins = match child_document_id {
                Some(child) => reports
                    .download(&child, move |text| {
                        reports::business::read_child(text, store, &marketplace_id, date)
                    })
                    .await
                    .map_err(downloading)?,
                None => reports::Fetched::default(),
            };
            let mut skipped = skus.skipped;
            skipped.extend(asins.skipped.into_iter().map(|s| format!("by child ASIN: {s}")));
            Batch {
                rows: Rows::Business {
                    day,
                    with_asins,
                    skus: skus.rows,
                    asins: asins.rows,
                },
                skipped,
            }
        }
    };
    Ok(Polled::Ready(fetched))
}
