//! What the scheduler does besides cron ticks of syncs, once per pass: queue
//! the day's archival (FR-9), re-ring tasks no job came for (the
//! reconciler), sample the queue's depth into metrics and look for stale data
//! to alert on (FR-10). Also the engine's builder hooks for
//! these ([`EngineBuilder::housekeeping`], [`EngineBuilder::alerts`]) and the
//! one-call firing points for the task handler ([`Engine::on_task_failed`] and
//! friends).

use std::sync::Mutex;
use std::time::Duration;

use amzsync_db::{Scope, SyncTask};
use amzsync_domain::{ErrorClass, StoreId};
use amzsync_jobs::{Enqueued, Schedule, Stats};
use chrono::{DateTime, TimeDelta, Utc};

use crate::alerts::{Alert, Alerts};
use crate::engine::{Engine, EngineBuilder};
use crate::error::Error;
use crate::reconciler::ReconcileReport;

/// Archival and monitoring settings.
#[derive(Debug, Clone)]
pub struct HousekeepingSettings {
    /// Days of snapshot rows kept in the live tables (FR-9: 90).
    pub retention_days: u32,
    /// Rows moved per transaction.
    pub archive_batch: u32,
    /// When the daily archival runs: a cron expression in the schedule's
    /// time zone, UTC when that is per store (after the night's syncs).
    pub archive_schedule: String,
    /// How often the scheduler looks for stale data.
    pub stale_check_interval: Duration,
}

impl Default for HousekeepingSettings {
    fn default() -> Self {
        Self {
            retention_days: 90,
            archive_batch: 5_000,
            archive_schedule: "30 4 * * *".to_owned(),
            stale_check_interval: Duration::from_secs(15 * 60),
        }
    }
}

/// What the builder collects.
#[derive(Debug, Default)]
pub(crate) struct OpsBuilder {
    settings: HousekeepingSettings,
    alerts: Option<Alerts>,
}

impl OpsBuilder {
    pub(crate) fn build(self, time_zone: &str) -> Result<Ops, Error> {
        let archive_schedule =
            Schedule::new(&self.settings.archive_schedule, time_zone).map_err(|e| Error::Config {
                key: "sync.housekeeping.archive_schedule",
                message: e.to_string(),
            })?;
        if self.settings.archive_batch == 0 {
            return Err(Error::Config {
                key: "sync.housekeeping.archive_batch",
                message: "must be at least 1".into(),
            });
        }
        Ok(Ops {
            settings: self.settings,
            archive_schedule,
            alerts: self.alerts.unwrap_or_default(),
            last_stale_check: Mutex::new(None),
        })
    }
}

/// The engine's housekeeping state.
#[derive(Debug)]
pub(crate) struct Ops {
    pub(crate) settings: HousekeepingSettings,
    archive_schedule: Schedule,
    pub(crate) alerts: Alerts,
    last_stale_check: Mutex<Option<DateTime<Utc>>>,
}

impl EngineBuilder {
    /// Archival and monitoring settings (defaults: 90 days, daily at 04:30).
    #[must_use]
    pub fn housekeeping(mut self, settings: HousekeepingSettings) -> Self {
        self.ops.settings = settings;
        self
    }

    /// Where alerts go (default: logged only).
    #[must_use]
    pub fn alerts(mut self, alerts: Alerts) -> Self {
        self.ops.alerts = Some(alerts);
        self
    }
}

/// What one housekeeping pass did.
#[derive(Debug, Clone, Default)]
pub struct HousekeepingReport {
    /// The archival tick enqueued (or found enqueued), if one fell due.
    pub archival: Option<Enqueued>,
    /// What the reconciler did, if it could run.
    pub reconciled: Option<ReconcileReport>,
    /// The queue's depth, if it could be read.
    pub queue: Option<Stats>,
    /// Stale-data alerts fired (`None`: no check this pass).
    pub stale: Option<Vec<Alert>>,
}

impl Engine {
    /// The alert handle, for the places that fire alerts.
    pub fn alerts(&self) -> &Alerts {
        &self.inner.ops.alerts
    }

    /// The housekeeping settings.
    pub fn housekeeping_settings(&self) -> &HousekeepingSettings {
        &self.inner.ops.settings
    }

    /// One scheduler pass's housekeeping for the window `(after, now]`:
    /// enqueue the archival if its daily tick fell due, re-ring stranded
    /// tasks ([`Engine::reconcile`]), sample the queue, and
    /// check for stale data when the check interval has passed. Failures are
    /// logged: a pass never stops the scheduler.
    pub async fn housekeeping(&self, after: DateTime<Utc>, now: DateTime<Utc>) -> HousekeepingReport {
        let mut report = HousekeepingReport::default();
        if let Some(tick) = self.inner.ops.archive_schedule.latest_due(after, now) {
            match self.enqueue_archival(&tick).await {
                Ok(enqueued) => report.archival = Some(enqueued),
                Err(error) => tracing::warn!(%error, "could not enqueue the archival"),
            }
        }
        match self.reconcile(now).await {
            Ok(reconciled) => report.reconciled = Some(reconciled),
            Err(error) => tracing::warn!(%error, "could not reconcile stranded sync tasks"),
        }
        match self.sample_queue_metrics().await {
            Ok(stats) => report.queue = Some(stats),
            Err(error) => tracing::warn!(%error, "could not read the queue's depth"),
        }
        if self.stale_check_due(now) {
            match self.check_stale_data(now).await {
                Ok(alerts) => report.stale = Some(alerts),
                Err(error) => tracing::warn!(%error, "could not check for stale data"),
            }
        }
        report
    }

    fn stale_check_due(&self, now: DateTime<Utc>) -> bool {
        let interval =
            TimeDelta::from_std(self.inner.ops.settings.stale_check_interval).unwrap_or(TimeDelta::MAX);
        let mut last = self
            .inner
            .ops
            .last_stale_check
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|l| now - l < interval) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Reads the queue's depth and records it in the metrics. The queue
    /// schedules by the wall clock, so its depth is taken as of the real now
    /// even when the engine runs on a simulated clock.
    pub async fn sample_queue_metrics(&self) -> Result<Stats, Error> {
        let stats = self.queue().stats(Utc::now()).await?;
        crate::telemetry::queue_sampled(self.queue().name().as_str(), &stats);
        Ok(stats)
    }

    /// Fires a stale-data alert for every active store whose last successful
    /// sync of a checked kind ended longer ago than the threshold (once per
    /// episode), and returns them.
    pub async fn check_stale_data(&self, now: DateTime<Utc>) -> Result<Vec<Alert>, Error> {
        let alerts = self.alerts();
        let freshness = self.db().freshness(&alerts.settings().stale_kinds).await?;
        let stale = alerts.newly_stale(&freshness, now);
        for alert in &stale {
            alerts.fire(alert.clone());
        }
        Ok(stale)
    }
}

/// The firing points of alerts and task metrics, one call each, for the
/// places in the task handler where a task ends (see the README).
impl Engine {
    /// A task failed for good (after `SyncTasks::fail`): counts it and alerts
    /// with the store's name; when `class` is [`ErrorClass::Unauthorized`],
    /// also alerts that the store needs re-authorization. Returns once the
    /// alerts are queued; delivery runs in the background.
    pub async fn on_task_failed(&self, task: &SyncTask, class: ErrorClass, message: &str) {
        crate::telemetry::task_finished(task.sync_type, "failed", self.task_duration(task), 0);
        let name = self.store_name(task.store_id).await;
        let alerts = self.alerts();
        alerts.task_failed(task.store_id, &name, task.id, task.sync_type, class, message);
        if class == ErrorClass::Unauthorized {
            alerts.needs_reauth(task.store_id, &name, Some(task.id), message);
        }
    }

    /// A task's attempt failed and it will run again: counted, no alert
    /// (FR-7 retries are expected; the final failure alerts).
    pub fn on_task_retrying(&self, task: &SyncTask) {
        crate::telemetry::task_finished(task.sync_type, "retrying", self.task_duration(task), 0);
    }

    /// A task succeeded with `rows` rows written.
    pub fn on_task_succeeded(&self, task: &SyncTask, rows: i64) {
        let rows = u64::try_from(rows).unwrap_or(0);
        crate::telemetry::task_finished(task.sync_type, "success", self.task_duration(task), rows);
    }

    fn task_duration(&self, task: &SyncTask) -> Duration {
        let started = task.start_time.unwrap_or(task.created_at);
        (self.now() - started).to_std().unwrap_or_default()
    }

    /// The store's name for an alert; its id if it cannot be read (an alert
    /// without a name beats no alert).
    async fn store_name(&self, store_id: StoreId) -> String {
        match self.db().stores().get(Scope::All, store_id).await {
            Ok(store) => store.store_name,
            Err(error) => {
                tracing::warn!(%store_id, %error, "could not read the store's name for an alert");
                format!("store {store_id}")
            }
        }
    }
}
