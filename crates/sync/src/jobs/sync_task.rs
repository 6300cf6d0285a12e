//! The `sync_task` job: advances one sync task as far as it can go now.
//!
//! Every delivery claims the task row (a conditional UPDATE with a lease; no
//! claim means another delivery owns it or it is finished), reads its
//! [checkpoint](crate::checkpoint), and then:
//!
//! 1. **plans** it on the first delivery (one unit per report);
//! 2. **requests** every report not requested yet (reusing a matching recent
//!    report, so a crash between `createReport` and the checkpoint costs no
//!    second report), checkpointing each report id at once;
//! 3. **polls** every requested report: not ready → later; `DONE` →
//!    download, parse, convert and upsert its rows in one short transaction,
//!    then checkpoint the unit done; `CANCELLED` → the unit has no data;
//!    `FATAL` → the unit is planned again and the task retries after Amazon's
//!    cooldown;
//! 4. **finishes** when every unit is done: success with the counts.
//!
//! A report not ready is a `Snooze` (no attempt spent, FR-7). Failures are
//! settled by their class: see [`Run::settle_failure`].
//!
//! Two gaps of the data layer shape this file (see the README):
//! - there is no `succeed` inside a transaction, so the last unit's rows
//!   commit and `succeed` follows at once. A crash in between leaves the task
//!   running with that unit not checkpointed; the next claim (after the
//!   lease) ingests the unit again, which the natural-key upsert makes
//!   harmless, and then succeeds;
//! - there is no way to release a lease, so a snooze lasts at least until the
//!   lease taken at the claim has expired, or the next delivery could not
//!   claim the task.

use std::time::Duration;

use amzsync_amazon::sp::reports::Reports;
use amzsync_amazon::{Client, Error as AmazonError, LwaApp, SellingPartner};
use amzsync_db::{
    BusinessMetricRow, Error as DbError, InventoryRow, Scope, Snapshots, Store, StoreStatus, SyncTask,
};
use amzsync_domain::{ErrorClass, SyncKind, SyncTaskId, TaskStatus};
use amzsync_jobs::{Delivery, Outcome};
use chrono::{DateTime, TimeDelta, Utc};
use tracing::Instrument as _;

use crate::checkpoint::{Checkpoint, Unit, UnitState};
use crate::engine::Engine;
use crate::failure::Failure;
use crate::plan;
use crate::reports::{self, Fetched};

/// Stored in the queue: never rename.
pub(crate) const KIND: &str = "sync_task";

/// How long to wait before looking again at a task whose claim was refused
/// for a reason that passes quickly (a race with another delivery).
const RECHECK: Duration = Duration::from_secs(1);

pub(crate) async fn run(engine: &Engine, delivery: &Delivery) -> Outcome {
    let inner = &engine.inner;
    let id = SyncTaskId(delivery.job.sync_task_id);
    let now = engine.now();
    let lease_until = now + delta(inner.settings.lease);
    let owner = format!("{}/{}", inner.worker, delivery.id);
    let task = match inner.db.sync_tasks().claim(id, &owner, lease_until).await {
        Ok(Some(task)) => task,
        Ok(None) => return not_claimed(engine, id).await,
        Err(e) => {
            tracing::warn!(task_id = %id, error = %e, "claiming the sync task failed");
            return Outcome::Retry {
                after: inner.settings.retry_delay,
                error: Box::new(e),
            };
        }
    };
    let span = tracing::info_span!(
        "sync_task",
        store_id = %task.store_id,
        task_id = %task.id,
        kind = %task.sync_type,
        attempt = delivery.attempt,
    );
    let mut run = Run {
        engine,
        task: &task,
        delivery,
        lease_until,
        progressed: false,
    };
    async move {
        let result = run.advance().await;
        run.settle(result).await
    }
    .instrument(span)
    .await
}

/// The claim was refused: decide from the row whether anything is left.
async fn not_claimed(engine: &Engine, id: SyncTaskId) -> Outcome {
    match engine.inner.db.sync_tasks().get(Scope::All, id).await {
        // Finished: a duplicate or late delivery, nothing to do.
        Ok(task) if !task.status.is_active() => Outcome::Done,
        // Someone holds the lease: the owner itself (a snooze shorter than
        // its lease) or another worker. Look again once it expires; if the
        // task is finished by then, that look is a no-op.
        Ok(SyncTask {
            status: TaskStatus::Running,
            lease_expires_at: Some(until),
            ..
        }) => Outcome::Snooze(until_after(engine.now(), until).max(RECHECK)),
        Ok(_) => Outcome::Snooze(RECHECK),
        Err(DbError::NotFound { .. }) => Outcome::Done,
        Err(e) => Outcome::Retry {
            after: engine.inner.settings.retry_delay,
            error: Box::new(e),
        },
    }
}

/// How far a delivery got.
enum Step {
    /// Every unit is finished and the task succeeded.
    Finished,
    /// Some report is not ready yet.
    Waiting,
}

/// One delivery's work on one claimed task.
struct Run<'a> {
    engine: &'a Engine,
    task: &'a SyncTask,
    delivery: &'a Delivery,
    lease_until: DateTime<Utc>,
    /// Whether this delivery moved the task forward (a report requested or
    /// a unit finished); a throttle after progress is pacing, not a fault.
    progressed: bool,
}

impl Run<'_> {
    async fn advance(&mut self) -> Result<Step, Failure> {
        let inner = &self.engine.inner;
        let store = inner
            .db
            .stores()
            .get(Scope::All, self.task.store_id)
            .await
            .map_err(|e| Failure::db("loading the store", &e))?;
        let mut checkpoint = match Checkpoint::read(&self.task.checkpoint) {
            Ok(Some(checkpoint)) => checkpoint,
            Ok(None) => self.plan(&store).await?,
            Err(e) => {
                return Err(Failure::new(
                    ErrorClass::Internal,
                    format!("the task's checkpoint is unreadable: {e}"),
                ));
            }
        };
        let (client, seller) = self.amazon(&store).await?;
        let reports = client.reports(&seller);

        for i in 0..checkpoint.units.len() {
            if checkpoint.units[i].state == UnitState::Planned {
                self.request(&reports, &mut checkpoint, i).await?;
            }
        }
        let mut waiting = false;
        for i in 0..checkpoint.units.len() {
            if checkpoint.units[i].state == UnitState::Requested {
                waiting |= !self.poll(&reports, &mut checkpoint, i).await?;
            }
        }
        if checkpoint.is_complete() {
            self.finish(&store, &checkpoint).await?;
            Ok(Step::Finished)
        } else {
            debug_assert!(waiting, "an unfinished task has a report to wait for");
            Ok(Step::Waiting)
        }
    }

    /// The first delivery: the reports the task needs.
    async fn plan(&self, store: &Store) -> Result<Checkpoint, Failure> {
        let window = match (self.task.window_start, self.task.window_end) {
            (Some(start), Some(end)) => amzsync_domain::SyncWindow::new(start, end)
                .map_err(|e| Failure::new(ErrorClass::Internal, format!("the task's window: {e}")))?,
            _ => {
                return Err(Failure::new(ErrorClass::Internal, "the task has no window"));
            }
        };
        let checkpoint = Checkpoint::new(plan::units(
            self.task.sync_type,
            &store.marketplaces,
            window,
            self.engine.now(),
        ));
        self.save(&checkpoint).await?;
        // Best effort: the dashboard's store status, not the task's truth.
        if let Err(e) = self
            .engine
            .inner
            .db
            .stores()
            .set_status(store.id, StoreStatus::Syncing, None)
            .await
        {
            tracing::warn!(error = %e, "could not mark the store as syncing");
        }
        tracing::info!(reports = checkpoint.units.len(), "sync planned");
        Ok(checkpoint)
    }

    /// The client and seller identity of the store, with its decrypted
    /// refresh token and its own or the global LWA application.
    async fn amazon(&self, store: &Store) -> Result<(Client, SellingPartner), Failure> {
        let inner = &self.engine.inner;
        let credentials = inner
            .db
            .stores()
            .credentials(Scope::All, store.id)
            .await
            .map_err(|e| match e {
                DbError::Secret { .. } => Failure::new(ErrorClass::Internal, e.to_string()),
                other => Failure::db("loading the store's credentials", &other),
            })?;
        let refresh_token = credentials.sp_api_refresh_token.ok_or_else(|| {
            Failure::new(
                ErrorClass::Unauthorized,
                "the store has no SP-API refresh token: authorize it again",
            )
        })?;
        let app = match (credentials.sp_api_client_id, credentials.sp_api_client_secret) {
            (Some(client_id), Some(client_secret)) => LwaApp {
                client_id,
                client_secret,
            },
            _ => inner.clients.global_app().cloned().ok_or_else(|| {
                Failure::new(
                    ErrorClass::Internal,
                    "no LWA application: configure amazon.lwa_client_id and amazon.lwa_client_secret, or set them on the store",
                )
            })?,
        };
        let client = inner
            .clients
            .get(store.region, &app)
            .map_err(|e| Failure::amazon("building the Amazon client", &e))?;
        Ok((
            client,
            SellingPartner::new(store.seller_id.clone(), refresh_token),
        ))
    }

    /// Requests the report of unit `i` and checkpoints its id at once.
    async fn request(
        &mut self,
        reports: &Reports<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
    ) -> Result<(), Failure> {
        let unit = &checkpoint.units[i];
        let specification = match self.task.sync_type {
            SyncKind::Inventory => reports::inventory::specification(&unit.marketplace_id),
            SyncKind::Business | SyncKind::Advertising => {
                reports::business::specification(&unit.marketplace_id, unit.date)
            }
        };
        let requested = reports
            .request_report(&specification, self.engine.inner.settings.report_reuse_within)
            .await
            .map_err(|e| Failure::amazon(&format!("requesting the report for {}", unit.label()), &e))?;
        tracing::debug!(unit = %unit.label(), report_id = %requested.report_id, reused = requested.reused, "report requested");
        let unit = &mut checkpoint.units[i];
        unit.report_id = Some(requested.report_id);
        unit.state = UnitState::Requested;
        self.progressed = true;
        self.save(checkpoint).await
    }

    /// Polls the report of unit `i`; ingests it when ready. `Ok(false)`
    /// while it is not ready.
    async fn poll(
        &mut self,
        reports: &Reports<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
    ) -> Result<bool, Failure> {
        let label = checkpoint.units[i].label();
        let report_id = checkpoint.units[i].report_id.clone().unwrap_or_default();
        let report = match reports.get_report(&report_id).await {
            Ok(report) => report,
            // The checkpointed report is gone: request a new one next time.
            Err(AmazonError::NotFound) => {
                self.replan(checkpoint, i).await?;
                return Err(Failure::amazon(
                    &format!("polling report {report_id} for {label}"),
                    &AmazonError::NotFound,
                ));
            }
            Err(e) => {
                return Err(Failure::amazon(
                    &format!("polling report {report_id} for {label}"),
                    &e,
                ));
            }
        };
        match reports.ready_document(&report).await {
            Ok(None) => Ok(false),
            Ok(Some(document_id)) => {
                self.ingest(reports, checkpoint, i, &document_id).await?;
                Ok(true)
            }
            Err(AmazonError::ReportCancelled { .. }) => {
                // FR-7: Amazon cancels a report that has no data. The day is
                // finished with zero rows, and the task says so.
                tracing::info!(unit = %label, report_id, "no data from Amazon (report cancelled)");
                checkpoint.units[i].state = UnitState::NoData;
                self.progressed = true;
                self.save(checkpoint).await?;
                Ok(true)
            }
            Err(e @ AmazonError::ReportFatal { .. }) => {
                // A FATAL report never recovers: the retry requests a new one.
                self.replan(checkpoint, i).await?;
                Err(Failure::amazon(&format!("report {report_id} for {label}"), &e))
            }
            Err(e) => Err(Failure::amazon(&format!("report {report_id} for {label}"), &e)),
        }
    }

    async fn replan(&self, checkpoint: &mut Checkpoint, i: usize) -> Result<(), Failure> {
        let unit = &mut checkpoint.units[i];
        unit.state = UnitState::Planned;
        unit.report_id = None;
        self.save(checkpoint).await
    }

    /// Downloads, parses and stores the rows of unit `i` in one transaction.
    ///
    /// The rows of one report (one marketplace, one day) are buffered before
    /// the transaction opens rather than streamed into it: on SQLite a write
    /// transaction holds the file's lock, and a download can take minutes.
    async fn ingest(
        &mut self,
        reports: &Reports<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
        document_id: &str,
    ) -> Result<(), Failure> {
        let unit = checkpoint.units[i].clone();
        let store = self.task.store_id;
        let doing = format!("downloading the report for {}", unit.label());
        let batch = self.engine.inner.settings.batch_size;
        let (stored, skipped) = match self.task.sync_type {
            SyncKind::Inventory => {
                let Unit {
                    marketplace_id, date, ..
                } = unit.clone();
                let fetched: Fetched<InventoryRow> = reports
                    .download(document_id, move |text| {
                        reports::inventory::read(text, store, &marketplace_id, date)
                    })
                    .await
                    .map_err(|e| Failure::amazon(&doing, &e))?;
                let n = self.store_rows(&fetched.rows, batch).await?;
                (n, fetched.skipped)
            }
            SyncKind::Business | SyncKind::Advertising => {
                let Unit {
                    marketplace_id, date, ..
                } = unit.clone();
                let fetched: Fetched<BusinessMetricRow> = reports
                    .download(document_id, move |text| {
                        reports::business::read(text, store, &marketplace_id, date)
                    })
                    .await
                    .map_err(|e| Failure::amazon(&doing, &e))?;
                let n = self.store_rows(&fetched.rows, batch).await?;
                (n, fetched.skipped)
            }
        };
        if !skipped.is_empty() {
            tracing::warn!(unit = %unit.label(), skipped = skipped.len(), first = %skipped[0], "malformed rows skipped");
        }
        tracing::info!(unit = %unit.label(), rows = stored, "report ingested");
        checkpoint.note_row_errors(&unit.label(), &skipped);
        let u = &mut checkpoint.units[i];
        u.rows = stored;
        u.failed = i64::try_from(skipped.len()).unwrap_or(i64::MAX);
        u.state = UnitState::Done;
        self.progressed = true;
        self.save(checkpoint).await
    }

    /// Upserts `rows` in batches inside one transaction.
    async fn store_rows<T: SnapshotRow>(&self, rows: &[T], batch: usize) -> Result<i64, Failure> {
        let db = &self.engine.inner.db;
        let mut tx = db.begin().await.map_err(|e| Failure::db("storing rows", &e))?;
        for chunk in rows.chunks(batch) {
            T::upsert(&mut tx, chunk)
                .await
                .map_err(|e| Failure::db("storing rows", &e))?;
        }
        tx.commit().await.map_err(|e| Failure::db("storing rows", &e))?;
        Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
    }

    /// Every unit is finished: record the summary, then success with the
    /// counts (see the module doc on why these are two statements).
    async fn finish(&self, store: &Store, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let tasks = self.engine.inner.db.sync_tasks();
        self.save(checkpoint).await?;
        tasks
            .succeed(self.task.id, checkpoint.rows(), checkpoint.failed())
            .await
            .map_err(|e| Failure::db("recording success", &e))?;
        tracing::info!(rows = checkpoint.rows(), failed = checkpoint.failed(), summary = %checkpoint.summary(), "sync succeeded");
        if let Err(e) = self
            .engine
            .inner
            .db
            .stores()
            .set_status(store.id, StoreStatus::Idle, None)
            .await
        {
            tracing::warn!(error = %e, "could not mark the store as idle");
        }
        Ok(())
    }

    /// Records the checkpoint and progress (units finished of all).
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let done = i32::try_from(checkpoint.finished()).unwrap_or(i32::MAX);
        let total = i32::try_from(checkpoint.units.len()).unwrap_or(i32::MAX);
        self.engine
            .inner
            .db
            .sync_tasks()
            .record_progress(
                self.task.id,
                done,
                total,
                Some(&checkpoint.summary()),
                &checkpoint.to_json(),
            )
            .await
            .map_err(|e| Failure::db("recording progress", &e))
    }

    async fn settle(&self, result: Result<Step, Failure>) -> Outcome {
        let poll_delay = self.engine.inner.settings.poll_delay;
        match result {
            Ok(Step::Finished) => Outcome::Done,
            Ok(Step::Waiting) => {
                tracing::debug!("reports not ready; polling again later");
                Outcome::Snooze(self.snooze(poll_delay))
            }
            Err(failure) => self.settle_failure(failure).await,
        }
    }

    /// A snooze of at least `delay` that outlasts this delivery's lease, so
    /// the next delivery can claim the task.
    fn snooze(&self, delay: Duration) -> Duration {
        delay.max(until_after(self.engine.now(), self.lease_until) + Duration::from_secs(1))
    }

    /// FR-7 by error class:
    /// - unauthorized: fail at once, the store needs re-authorization;
    /// - throttled after progress in this delivery: snooze for Amazon's wait
    ///   (pacing a long backfill through a quota is not a fault);
    /// - transient, throttled and FATAL: fail the attempt and put the task
    ///   back to pending (`retry_count` + 1), then retry after the configured
    ///   delay, Amazon's `retry_after`, or the FATAL cooldown; on the last
    ///   attempt, fail for good;
    /// - anything else: fail for good.
    async fn settle_failure(&self, failure: Failure) -> Outcome {
        let inner = &self.engine.inner;
        let settings = &inner.settings;
        let tasks = inner.db.sync_tasks();
        let id = self.task.id;
        let class = failure.class;
        let message = failure.message;
        if class == ErrorClass::Throttled && self.progressed {
            let wait = failure.retry_after.unwrap_or(settings.poll_delay);
            tracing::info!(?wait, %message, "throttled after progress; continuing later");
            return Outcome::Snooze(self.snooze(wait));
        }
        let last_attempt = self.delivery.attempt > settings.retries;
        if class.is_retryable() && !last_attempt {
            let after = match class {
                ErrorClass::ReportFatal => settings.fatal_cooldown,
                _ => failure.retry_after.unwrap_or(settings.retry_delay),
            };
            tracing::warn!(%class, %message, ?after, "sync attempt failed; retrying");
            let note = format!(
                "attempt {} failed ({class}): {message}; retrying in {}s",
                self.delivery.attempt,
                after.as_secs()
            );
            let recorded = async {
                // The steps saved progress as they went: keep it, add the note.
                let now = tasks.get(Scope::All, id).await?;
                tasks
                    .record_progress(
                        id,
                        now.progress_done,
                        now.progress_total,
                        Some(&note),
                        &now.checkpoint,
                    )
                    .await?;
                tasks.fail(id, class, &message).await?;
                tasks.retry(Scope::All, id).await
            }
            .await;
            return match recorded {
                Ok(_) => Outcome::Retry {
                    after,
                    error: message.into(),
                },
                // Another task took the (store, kind) slot while this one was
                // failed for a moment: it stays failed, with its error.
                Err(DbError::SyncAlreadyActive { task_id }) => {
                    tracing::info!(other = %task_id, "another task of this kind started; this one stays failed");
                    Outcome::Done
                }
                // The row could not be updated (database down): run the
                // attempt again later; the claim's lease will have expired.
                Err(e) => Outcome::Retry {
                    after: settings.retry_delay,
                    error: format!("{message}; and recording it failed: {e}").into(),
                },
            };
        }
        tracing::warn!(%class, %message, "sync failed");
        if let Err(e) = tasks.fail(id, class, &message).await {
            return Outcome::Retry {
                after: settings.retry_delay,
                error: format!("{message}; and recording it failed: {e}").into(),
            };
        }
        let status = if class == ErrorClass::Unauthorized {
            StoreStatus::NeedsReauth
        } else {
            StoreStatus::Error
        };
        if let Err(e) = inner
            .db
            .stores()
            .set_status(self.task.store_id, status, Some(&message))
            .await
        {
            tracing::warn!(error = %e, "could not update the store's status");
        }
        Outcome::Fail(message.into())
    }
}

/// A snapshot row type and its bulk upsert, so `store_rows` serves each.
trait SnapshotRow: Sized + Sync {
    fn upsert<'t>(
        tx: &'t mut amzsync_db::Tx,
        rows: &'t [Self],
    ) -> impl std::future::Future<Output = amzsync_db::Result<u64>> + Send + 't;
}

impl SnapshotRow for InventoryRow {
    fn upsert<'t>(
        tx: &'t mut amzsync_db::Tx,
        rows: &'t [Self],
    ) -> impl std::future::Future<Output = amzsync_db::Result<u64>> + Send + 't {
        Snapshots::upsert_inventory(tx, rows)
    }
}

impl SnapshotRow for BusinessMetricRow {
    fn upsert<'t>(
        tx: &'t mut amzsync_db::Tx,
        rows: &'t [Self],
    ) -> impl std::future::Future<Output = amzsync_db::Result<u64>> + Send + 't {
        Snapshots::upsert_business(tx, rows)
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// How long from `now` until `at` (zero if past).
fn until_after(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}
