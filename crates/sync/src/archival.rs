//! Archival (FR-9): the daily `archive` job moves snapshot and detail rows
//! older than the retention (90 days by default) to the archive tables, one
//! transaction per batch (`amzsync_db::Archive`), where reads still find
//! them.
//!
//! The scheduler enqueues one `archive` job per day under a tick idempotency
//! key (`archive:all:<tick time>`), so however many schedulers run, the day's
//! archival is queued once; and a second run finds nothing left to move, so
//! even a duplicate would be harmless.

use amzsync_db::ArchivedTable;
use amzsync_jobs::{Delivery, Enqueued, Job, Outcome, Tick};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::engine::Engine;
use crate::error::Error;

/// Stored in the queue: never rename.
pub(crate) const KIND: &str = "archive";

/// The job's arguments: the tick it was enqueued for, for the logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ArchiveArgs {
    tick: DateTime<Utc>,
}

/// What one archival run moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivalReport {
    /// Rows dated before this day were moved.
    pub cutoff: NaiveDate,
    /// Rows moved, per table (every table, zeros included).
    pub moved: Vec<(ArchivedTable, u64)>,
}

impl ArchivalReport {
    /// Rows moved in all tables.
    pub fn total(&self) -> u64 {
        self.moved.iter().map(|(_, n)| n).sum()
    }
}

impl Engine {
    /// Moves every row dated more than `retention_days` days before today
    /// (the engine's clock, UTC) to the archive tables, in batches of
    /// [`crate::HousekeepingSettings::archive_batch`] rows per transaction.
    /// Safe to run again or concurrently: a row moves once.
    pub async fn run_archival(&self, retention_days: u32) -> Result<ArchivalReport, Error> {
        let today = self.now().date_naive();
        let cutoff = today
            .checked_sub_days(Days::new(u64::from(retention_days)))
            .unwrap_or(NaiveDate::MIN);
        let batch = self.inner.ops.settings.archive_batch;
        let mut moved = Vec::new();
        for table in ArchivedTable::ALL {
            let n = self
                .db()
                .archive()
                .archive_older_than(table, cutoff, batch)
                .await?;
            crate::telemetry::archived(table.name(), n);
            moved.push((table, n));
        }
        let report = ArchivalReport { cutoff, moved };
        tracing::info!(%cutoff, rows = report.total(), "archival finished");
        Ok(report)
    }

    /// Enqueues the archival of `tick` (once per tick however often called).
    pub async fn enqueue_archival(&self, tick: &Tick) -> Result<Enqueued, Error> {
        let job = Job::new(KIND, Ulid::generate()).with_args(&ArchiveArgs { tick: tick.at })?;
        Ok(self.queue().enqueue_tick(&job, "all", tick).await?)
    }
}

/// Handles an `archive` delivery.
pub(crate) async fn run(engine: &Engine, delivery: &Delivery) -> Outcome {
    let tick = delivery.job.args::<ArchiveArgs>().map(|a| a.tick).ok();
    let retention = engine.inner.ops.settings.retention_days;
    match engine.run_archival(retention).await {
        Ok(report) => {
            tracing::info!(?tick, rows = report.total(), "archive job done");
            Outcome::Done
        }
        // A batch that failed rolled back whole; the next attempt resumes.
        Err(e) => Outcome::Retry {
            after: engine.settings().retry_delay,
            error: Box::new(e),
        },
    }
}
