//! The SP-API side of a sync task (inventory, Sales & Traffic): one report
//! per unit through the Reports API, its document read by the report kind's
//! module.

use amzsync_amazon::Error as AmazonError;
use amzsync_amazon::sp::reports::{CreateReportSpecification, Reports};
use amzsync_domain::{StoreId, SyncKind};

use super::{Polled, Stage};
use crate::checkpoint::Unit;
use crate::reports::{self, Batch, Rows};

fn specification(kind: SyncKind, unit: &Unit) -> CreateReportSpecification {
    match kind {
        SyncKind::Inventory => reports::inventory::specification(&unit.marketplace_id),
        SyncKind::Business | SyncKind::Advertising => {
            reports::business::specification(&unit.marketplace_id, unit.date)
        }
    }
}

/// Requests the unit's report, or finds a matching one requested within
/// `reuse_within` (a crash between `createReport` and the checkpoint costs
/// no second report). Returns its id.
pub(super) async fn request(
    reports: &Reports<'_>,
    kind: SyncKind,
    unit: &Unit,
    reuse_within: Option<std::time::Duration>,
) -> Result<String, AmazonError> {
    let specification = specification(kind, unit);
    let Some(reuse_within) = reuse_within else {
        let report_id = reports.create_report(&specification).await?;
        tracing::debug!(unit = %unit.label(), %report_id, "report requested");
        return Ok(report_id);
    };
    let requested = reports.request_report(&specification, reuse_within).await?;
    tracing::debug!(unit = %unit.label(), report_id = %requested.report_id, reused = requested.reused, "report requested");
    Ok(requested.report_id)
}

/// Polls the unit's report `report_id`; downloads and converts its rows when
/// it is done.
pub(super) async fn poll(
    reports: &Reports<'_>,
    kind: SyncKind,
    store: StoreId,
    unit: &Unit,
    report_id: &str,
) -> Result<Polled, (Stage, AmazonError)> {
    let report = reports
        .get_report(report_id)
        .await
        .map_err(|e| (Stage::Polling, e))?;
    let document_id = match reports.ready_document(&report).await {
        Ok(None) => return Ok(Polled::NotReady),
        Ok(Some(document_id)) => document_id,
        Err(AmazonError::ReportCancelled { .. }) => return Ok(Polled::NoData),
        Err(e) => return Err((Stage::Polling, e)),
    };
    let marketplace_id = unit.marketplace_id.clone();
    let date = unit.date;
    // Japanese flat files often declare no charset and are Shift_JIS.
    let reports = reports.for_marketplace(&unit.marketplace_id);
    let fetched: Batch = match kind {
        SyncKind::Inventory => {
            reports
                .download(&document_id, move |text| {
                    reports::inventory::read(text, store, &marketplace_id, date)
                        .map(|f| f.map(Rows::Inventory))
                })
                .await
        }
        SyncKind::Business | SyncKind::Advertising => {
            reports
                .download(&document_id, move |text| {
                    reports::business::read(text, store, &marketplace_id, date).map(|f| f.map(Rows::Business))
                })
                .await
        }
    }
    .map_err(|e| (Stage::Downloading, e))?;
    Ok(Polled::Ready(fetched))
}
