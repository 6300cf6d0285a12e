//! The scheduler role (FR-4): turns due cron ticks into `scheduled_sync` jobs
//! for every active store that does not need re-authorization.
//!
//! Every scheduler process may run: a tick's idempotency key
//! (`scheduled_sync:<kind>:<store>:<tick>`) makes the second enqueue a no-op,
//! so no singleton is needed. On start a scheduler catches up the latest tick
//! missed in [`crate::ScheduleSettings::catch_up`] per store and kind (once:
//! if it was enqueued before the restart, the key makes it a duplicate).

use amzsync_db::{Scope, StoreStatus};
use amzsync_jobs::{CancellationToken, Enqueued, Job};
use chrono::{DateTime, TimeDelta, Utc};
use ulid::Ulid;

use crate::engine::{Engine, store_zone};
use crate::error::Error;
use crate::jobs::scheduled_sync::{KIND, TickArgs};

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Ticks enqueued by this pass.
    pub enqueued: u32,
    /// Ticks another pass (or process) had already enqueued.
    pub duplicates: u32,
}

impl Engine {
    /// Runs the scheduler until `shutdown`: a catch-up pass, then a pass
    /// every [`crate::ScheduleSettings::check_interval`]. Time comes from the
    /// engine's clock; a failed pass is logged and its window tried again.
    pub async fn run_scheduler(&self, shutdown: CancellationToken) -> Result<(), Error> {
        let schedule = &self.settings().schedule;
        let catch_up = TimeDelta::from_std(schedule.catch_up).unwrap_or(TimeDelta::days(1));
        let mut after = self.now() - catch_up;
        loop {
            let now = self.now();
            // Archival tick, queue depth, stale data (housekeeping.rs).
            self.housekeeping(after, now).await;
            match self.enqueue_due_ticks(after, now).await {
                Ok(report) => {
                    if report.enqueued > 0 {
                        tracing::info!(
                            enqueued = report.enqueued,
                            duplicates = report.duplicates,
                            "scheduled syncs enqueued"
                        );
                    }
                    after = now;
                }
                Err(e) => tracing::warn!(error = %e, "scheduler pass failed; trying again"),
            }
            // Waiting between passes is this role's whole job; it holds no
            // worker and no lock. Waking at the next tick (not up to an
            // interval late) matters most under a simulated clock, where an
            // interval of real time can be hours of schedule.
            let wait = self
                .until_next_tick(self.now(), schedule.check_interval)
                .unwrap_or(schedule.check_interval);
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The real time from `now` until just after the next sync tick, if one
    /// falls due within `horizon` of real time.
    fn until_next_tick(
        &self,
        now: DateTime<Utc>,
        horizon: std::time::Duration,
    ) -> Option<std::time::Duration> {
        let speed = self.inner.clock.speed();
        let ahead = TimeDelta::from_std(horizon.mul_f64(speed)).ok()?;
        let next = self
            .inner
            .schedules
            .iter()
            .filter_map(|s| s.schedule.due_ticks(now, now + ahead).first().map(|t| t.at))
            .min()?;
        let simulated = (next - now).to_std().ok()?;
        // A millisecond past it, so the pass it wakes finds the tick due.
        Some(simulated.div_f64(speed) + std::time::Duration::from_millis(1))
    }

    /// Enqueues, for each sync kind whose schedule fell due in
    /// `(after, until]`, its latest tick for every schedulable store (of the
    /// schedule's zone, when the crons are read in each store's).
    pub async fn enqueue_due_ticks(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<TickReport, Error> {
        let mut report = TickReport::default();
        let due: Vec<_> = self
            .inner
            .schedules
            .iter()
            .filter_map(|s| {
                s.schedule
                    .latest_due(after, until)
                    .map(|tick| (s.kind, s.zone, tick))
            })
            .collect();
        if due.is_empty() {
            return Ok(report);
        }
        let stores = self.db().stores().list(Scope::All).await?;
        for store in stores
            .iter()
            .filter(|s| s.is_active && s.sync_status != StoreStatus::NeedsReauth)
        {
            // Only crons read in each store's zone need the store's.
            let zone = due
                .iter()
                .any(|(_, z, _)| z.is_some())
                .then(|| store_zone(store, until));
            for (kind, _, tick) in due.iter().filter(|(_, z, _)| z.is_none() || *z == zone) {
                let job = Job::new(KIND, Ulid::generate()).with_args(&TickArgs {
                    store_id: store.id,
                    kind: *kind,
                    tick: tick.at,
                })?;
                let scope = format!("{kind}:{}", store.id);
                match self.queue().enqueue_tick(&job, &scope, tick).await? {
                    Enqueued::Added(_) => report.enqueued += 1,
                    Enqueued::Duplicate => report.duplicates += 1,
                }
            }
        }
        Ok(report)
    }
}
