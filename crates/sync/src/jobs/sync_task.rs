//! The `sync_task` job: advances one sync task as far as it can go now.
//!
//! Every delivery claims the task row (a conditional UPDATE with a lease; no
//! claim means another delivery owns it, it is snoozed or waiting for a retry
//! until later, in which case this delivery snoozes until then, or it is
//! finished), reads its [checkpoint](crate::checkpoint), and then:
//!
//! 1. **plans** it on the first delivery (one unit per report, or per day's
//!    pair of Sales & Traffic reports; an inventory window before today is a
//!    ledger backfill; advertising first discovers the store's Ads profiles,
//!    [`ads::discover`]), leaving out days already final and synced by
//!    earlier tasks ([`plan::Synced`]);
//! 2. **requests** every report not requested yet (reusing a matching recent
//!    report, or the report an Ads 425 names, so a crash between the request
//!    and the checkpoint costs no second report); the checkpoint is written
//!    before each SP-API request (which marks the report as possibly sent)
//!    and once after the last, so each write also carries the ids obtained
//!    since the one before ([`Run::flush`]);
//! 3. **polls** every requested report: not ready → later; done → download,
//!    parse and convert its rows, then upsert them **and** checkpoint the
//!    unit done in one transaction, which for the task's last unit also
//!    records the success (so neither can exist without the other);
//!    `CANCELLED` → the unit has no data; `FATAL` / Ads `FAILED` → the unit is
//!    planned again and the task retries after a delay;
//! 4. is **finished** when that transaction commits.
//!
//! A report not ready is a snooze: the delivery gives its lease up until the
//! next poll ([`SyncTasks::release`]), so nobody claims the task before then
//! and the follow-up delivery claims it at once; no attempt is spent (FR-7).
//! Failures are settled by their class: see [`Run::settle_failure`].
//!
//! The SP-API and the Ads API sides live in [`sp`] and [`ads`].

mod ads;
mod sp;

use std::time::{Duration, Instant};

use amzsync_amazon::ads::{Ads, AdsAccount};
use amzsync_amazon::sp::reports::{CreateReportSpecification, Reports};
use amzsync_amazon::{Client, Error as AmazonError, SellingPartner};
use amzsync_db::{Error as DbError, Lease, Scope, Store, StoreCredentials, StoreStatus, SyncTask, SyncTasks};
use amzsync_domain::{ErrorClass, SyncKind, SyncTaskId, SyncWindow, TaskStatus};
use amzsync_jobs::{Delivery, Outcome};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tracing::Instrument as _;

use crate::checkpoint::{AdsProfile, AdsReport, Checkpoint, Unit, UnitState};
use crate::engine::Engine;
use crate::failure::Failure;
use crate::plan;
use crate::reports::advertising::Context;
use crate::reports::{Batch, Rows};

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
        owner,
        progressed: false,
        succeeded: false,
        unsaved: false,
        given_up: None,
        last_write: Instant::now(),
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
        // Leased by another worker, or snoozed until its next poll (a
        // duplicate delivery): look again once that time has come; if the
        // task is finished by then, that look is a no-op.
        Ok(SyncTask {
            status: TaskStatus::Running,
            lease_expires_at: Some(until),
            ..
        }) => Outcome::Snooze(until_after(engine.now(), until).max(RECHECK)),
        // Waiting for its retry delay (an early or duplicate delivery, a
        // re-ring): this delivery becomes the one at the due time, so the
        // task is neither started early nor left without a job.
        Ok(SyncTask {
            status: TaskStatus::Pending,
            next_attempt_at: Some(until),
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

/// Where a task's reports come from.
enum Source<'a> {
    /// The SP-API's Reports API (inventory, business).
    Sp(Reports<'a>),
    /// The Ads API's reporting v3 (advertising).
    Ads(Ads<'a>),
}

/// What polling a report found.
pub(super) enum Polled {
    /// Still being generated.
    NotReady,
    /// Downloaded and converted.
    Ready(Batch),
    /// Amazon cancelled it: no data (SP-API).
    NoData,
}

/// Which step of a poll failed, for the message.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stage {
    Polling,
    Downloading,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Polling => "polling",
            Stage::Downloading => "downloading",
        })
    }
}

/// One delivery's work on one claimed task.
struct Run<'a> {
    engine: &'a Engine,
    task: &'a SyncTask,
    delivery: &'a Delivery,
    /// This delivery's name in the lease.
    owner: String,
    /// Whether this delivery moved the task forward (a report requested or
    /// a unit finished); a throttle after progress is pacing, not a fault.
    progressed: bool,
    /// Whether this delivery committed the task's success.
    succeeded: bool,
    /// Whether the checkpoint in hand has changes not written yet (a plan, a
    /// report id): written by the next [`Run::save`], [`Run::flush`] or
    /// [`Run::commit`].
    unsaved: bool,
    /// The first report this delivery gave up at its deadline
    /// ([`Run::not_ready`]): the delivery's failure once every report has
    /// been polled, so all the overdue ones are planned again for one retry.
    given_up: Option<Failure>,
    /// When this delivery last wrote the task (its claim, at first); every
    /// write renews the lease, which is real time.
    last_write: Instant,
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
        let stored = Checkpoint::read(&self.task.checkpoint).map_err(|e| {
            Failure::new(
                ErrorClass::Internal,
                format!("the task's checkpoint is unreadable: {e}"),
            )
        })?;
        let credentials = self.credentials(&store).await?;
        let client = self.client(&store, &credentials)?;
        if self.task.sync_type == SyncKind::Advertising {
            let token = credentials.advertising_api_refresh_token.ok_or_else(|| {
                Failure::new(
                    ErrorClass::Unauthorized,
                    "the store has no Advertising API refresh token: authorize the Ads API for it",
                )
            })?;
            let account = AdsAccount::new(token);
            let ads = client.ads(&account);
            let checkpoint = match stored {
                Some(checkpoint) => checkpoint,
                None => {
                    let profiles = ads::discover(&ads, &inner.db, &store).await?;
                    let window = self.window()?;
                    let synced = self.synced(window).await?;
                    let plan = plan::ads_units(
                        &profiles,
                        window,
                        self.engine.now(),
                        plan::lookback_days(SyncKind::Advertising, &store, &inner.settings),
                        &synced,
                    );
                    let mut checkpoint = Checkpoint::new(plan.units);
                    checkpoint.skipped_final_days = plan.skipped_final_days;
                    checkpoint.profiles = profiles;
                    self.planned(&store, &checkpoint).await?;
                    checkpoint
                }
            };
            self.work(&store, &Source::Ads(ads), checkpoint).await
        } else {
            let token = credentials.sp_api_refresh_token.ok_or_else(|| {
                Failure::new(
                    ErrorClass::Unauthorized,
                    "the store has no SP-API refresh token: authorize it again",
                )
            })?;
            let seller = SellingPartner::new(store.seller_id.clone(), token);
            let checkpoint = match stored {
                Some(checkpoint) => checkpoint,
                None => {
                    let kind = self.task.sync_type;
                    let window = self.window()?;
                    let primary = store.marketplaces.first().map_or("", String::as_str);
                    let checkpoint = if kind == SyncKind::Inventory
                        && plan::is_ledger_backfill(primary, window, self.task.created_at)
                    {
                        Checkpoint::new(plan::ledger_units(&store.marketplaces, window))
                    } else {
                        let synced = match kind {
                            SyncKind::Business => self.synced(window).await?,
                            _ => plan::Synced::default(),
                        };
                        let plan = plan::units(
                            kind,
                            &store.marketplaces,
                            window,
                            self.engine.now(),
                            plan::lookback_days(kind, &store, &inner.settings),
                            &synced,
                        );
                        let mut checkpoint = Checkpoint::new(plan.units);
                        checkpoint.skipped_final_days = plan.skipped_final_days;
                        checkpoint
                    };
                    self.planned(&store, &checkpoint).await?;
                    checkpoint
                }
            };
            self.work(&store, &Source::Sp(client.reports(&seller)), checkpoint)
                .await
        }
    }

    /// Requests what is not requested yet, then polls what is.
    ///
    /// A throttled call (the usage plan has no permit soon, or Amazon said
    /// 429) ends its loop but not the delivery: the reports already requested
    /// are still polled and fetched, because those calls have plans of their
    /// own. A backfill of more reports than `createReport`'s burst thus
    /// downloads its first days while it waits to request the next ones,
    /// instead of holding a worker through a minute per request and only then
    /// downloading (the `sync` bench measures the schedule against the bound
    /// the usage plans impose). The task then waits for the sooner of the
    /// next permit and the next poll.
    async fn work(
        &mut self,
        store: &Store,
        source: &Source<'_>,
        mut checkpoint: Checkpoint,
    ) -> Result<Step, Failure> {
        let mut throttled = None;
        let mut failed = None;
        for i in 0..checkpoint.units.len() {
            let unit = &checkpoint.units[i];
            let unrequested = match source {
                Source::Sp(_) => sp::needs_request(self.task.sync_type, unit),
                Source::Ads(_) => unit.state == UnitState::Planned,
            };
            if unrequested {
                match self.request(source, &mut checkpoint, i).await {
                    Ok(()) => {}
                    Err(f) if f.class == ErrorClass::Throttled => {
                        throttled = Some(f);
                        break;
                    }
                    Err(f) => {
                        failed = Some(f);
                        break;
                    }
                }
            }
        }
        // The ids requested above are on record before Amazon is called
        // again, and whatever ends this delivery; a failure is settled as
        // itself even if that write fails too (a delivery that lost the task
        // writes nothing).
        if let Some(f) = failed {
            return Err(self.flush_before(&checkpoint, f).await);
        }
        self.flush(&checkpoint).await?;
        let mut waiting = false;
        for i in 0..checkpoint.units.len() {
            if checkpoint.units[i].state == UnitState::Requested {
                match self.poll(source, &mut checkpoint, i).await {
                    Ok(ready) => waiting |= !ready,
                    Err(f) if f.class == ErrorClass::Throttled => {
                        throttled.get_or_insert(f);
                        break;
                    }
                    // Reports given up before it are planned again on record.
                    Err(f) => return Err(self.flush_before(&checkpoint, f).await),
                }
            }
        }
        // A deadline started by a poll (a checkpoint from before deadlines)
        // must outlive this delivery.
        self.flush(&checkpoint).await?;
        if let Some(given_up) = self.given_up.take() {
            return Err(given_up);
        }
        if let Some(mut throttle) = throttled {
            if waiting {
                // Reports are being generated: the task waits for Amazon
                // anyway, so the throttle is pacing, and a poll may be due
                // before the permit.
                let poll = self.engine.inner.settings.poll_delay;
                throttle.retry_after = Some(throttle.retry_after.map_or(poll, |wait| wait.min(poll)));
                throttle.paced = true;
            }
            return Err(throttle);
        }
        if !checkpoint.is_complete() {
            debug_assert!(waiting, "an unfinished task has a report to wait for");
            return Ok(Step::Waiting);
        }
        // Finished here unless the last unit's commit already did it (a
        // task whose last report was done before this delivery, say).
        if !self.succeeded {
            self.commit(&checkpoint, None).await?;
        }
        // Best effort: the dashboard's store status, not the task's truth.
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
        Ok(Step::Finished)
    }

    /// The task's window.
    fn window(&self) -> Result<SyncWindow, Failure> {
        match (self.task.window_start, self.task.window_end) {
            (Some(start), Some(end)) => SyncWindow::new(start, end)
                .map_err(|e| Failure::new(ErrorClass::Internal, format!("the task's window: {e}"))),
            _ => Err(Failure::new(ErrorClass::Internal, "the task has no window")),
        }
    }

    /// What earlier successful tasks of this kind fetched over `window`.
    async fn synced(&self, window: SyncWindow) -> Result<plan::Synced, Failure> {
        self.engine
            .synced(self.task.store_id, self.task.sync_type, window)
            .await
            .map_err(|e| Failure::db("reading what earlier syncs fetched", &e))
    }

    /// Takes the first delivery's plan; it is written with the first
    /// request's checkpoint (a crash before then plans again, as a first
    /// delivery).
    async fn planned(&mut self, store: &Store, checkpoint: &Checkpoint) -> Result<(), Failure> {
        self.unsaved = true;
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
        tracing::info!(
            reports = checkpoint.units.len(),
            skipped_final_days = checkpoint.skipped_final_days,
            "sync planned"
        );
        Ok(())
    }

    /// The store's decrypted credentials.
    async fn credentials(&self, store: &Store) -> Result<StoreCredentials, Failure> {
        self.engine
            .inner
            .db
            .stores()
            .credentials(Scope::All, store.id)
            .await
            .map_err(|e| match e {
                DbError::Secret { .. } => Failure::new(ErrorClass::Internal, e.to_string()),
                other => Failure::db("loading the store's credentials", &other),
            })
    }

    /// The client of the store's region acting as its own or the global LWA
    /// application (the Ads API is called as the same application).
    fn client(&self, store: &Store, credentials: &StoreCredentials) -> Result<Client, Failure> {
        self.engine.inner.clients.for_store(store.region, credentials)
    }

    /// Requests the reports of unit `i` not requested yet. Their ids are
    /// written before the next SP-API request (see [`Run::request_sp`]), at
    /// the end of the requests, or once half a lease has passed without a
    /// write, which keeps the lease of a long run of paced Ads requests.
    async fn request(
        &mut self,
        source: &Source<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
    ) -> Result<(), Failure> {
        let unit = checkpoint.units[i].clone();
        match source {
            Source::Sp(reports) => {
                let kind = self.task.sync_type;
                let child = sp::child_specification(kind, &unit);
                if unit.report_id.is_none() {
                    let id = self
                        .request_sp(
                            reports,
                            checkpoint,
                            i,
                            Report::Main,
                            &sp::specification(kind, &unit),
                        )
                        .await?;
                    // Written before the child-ASIN report is requested.
                    checkpoint.units[i].report_id = Some(id);
                    self.progressed = true;
                    self.unsaved = true;
                }
                if let Some(child) = child.filter(|_| unit.child_report_id.is_none()) {
                    let id = self
                        .request_sp(reports, checkpoint, i, Report::Child, &child)
                        .await?;
                    checkpoint.units[i].child_report_id = Some(id);
                    self.progressed = true;
                }
            }
            // No write before an Ads request: one that reached Amazon
            // without its id written is answered 425 with that id when
            // asked again (while the report is being made), so the ids of a
            // task's Ads requests are written once, after the last.
            Source::Ads(api) => {
                let (profile, report, end) = ads_unit(checkpoint, i)?;
                let id = ads::request(api, &profile, report, unit.date, end)
                    .await
                    .map_err(|e| {
                        Failure::amazon(&format!("requesting the report for {}", unit.label()), &e)
                    })?;
                checkpoint.units[i].report_id = Some(id);
                self.progressed = true;
            }
        }
        let unit = &mut checkpoint.units[i];
        unit.state = UnitState::Requested;
        unit.waiting_since.get_or_insert(self.engine.now());
        self.unsaved = true;
        if self.last_write.elapsed() > self.engine.inner.settings.lease / 2 {
            self.save(checkpoint).await?;
        }
        Ok(())
    }

    /// Requests one SP-API report of unit `i` (its main or child-ASIN one).
    /// Whether the request may have reached Amazon is recorded before it is
    /// sent, so a delivery that died before saving the report id looks for
    /// that report next time instead of making a second one; a report never
    /// sent skips the look (`getReports` has the tightest plan of all: 10,
    /// then one per 45 s). A near-real-time inventory report is looked for
    /// always: Amazon makes it at most once per half hour (a second request
    /// ends FATAL), so one made for an earlier task is worth finding.
    async fn request_sp(
        &mut self,
        reports: &Reports<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
        which: Report,
        specification: &CreateReportSpecification,
    ) -> Result<String, Failure> {
        let sent_before = which.sent(&checkpoint.units[i]);
        if !sent_before {
            *which.sent_mut(&mut checkpoint.units[i]) = true;
            self.unsaved = true;
        }
        self.flush(checkpoint).await?;
        let look = sent_before || self.task.sync_type == SyncKind::Inventory;
        let settings = &self.engine.inner.settings;
        // Never as far back as the report deadline: a report that old and
        // still found is one given up (Run::not_ready), still queued.
        let reuse = look.then_some(settings.report_reuse_within.min(settings.report_deadline));
        let unit = &checkpoint.units[i];
        match sp::request(reports, specification, unit, reuse).await {
            Ok(report_id) => Ok(report_id),
            Err(e) => {
                let failure = Failure::amazon(&format!("requesting the report for {}", unit.label()), &e);
                if matches!(e, AmazonError::Paced { .. }) && !sent_before {
                    // Nothing reached Amazon: the next try needs no lookup.
                    // Saved now, as a paced delivery may end without another
                    // write.
                    *which.sent_mut(&mut checkpoint.units[i]) = false;
                    self.save(checkpoint).await?;
                }
                Err(failure)
            }
        }
    }

    /// Polls the report of unit `i`; stores its rows when it is ready.
    /// `Ok(false)` while it is not ready.
    async fn poll(
        &mut self,
        source: &Source<'_>,
        checkpoint: &mut Checkpoint,
        i: usize,
    ) -> Result<bool, Failure> {
        let unit = checkpoint.units[i].clone();
        let label = unit.label();
        // Both ids of a business unit: either report may be the one that failed.
        let report_id = [&unit.report_id, &unit.child_report_id]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" + ");
        let polled = match source {
            Source::Sp(reports) => sp::poll(reports, self.task.sync_type, self.task.store_id, &unit).await,
            Source::Ads(api) => {
                let (profile, report, end) = ads_unit(checkpoint, i)?;
                let ctx = Context {
                    store: self.task.store_id,
                    profile,
                    start: unit.date,
                    end,
                };
                ads::poll(api, ctx, report, &report_id).await
            }
        };
        match polled {
            Ok(Polled::NotReady) => {
                self.not_ready(checkpoint, i, &report_id, &label);
                Ok(false)
            }
            Ok(Polled::NoData) => {
                // FR-7: Amazon cancels a report that has no data. The day is
                // finished with zero rows, and the task says so.
                tracing::info!(unit = %label, report_id, "no data from Amazon (report cancelled)");
                checkpoint.units[i].state = UnitState::NoData;
                self.progressed = true;
                self.commit(checkpoint, None).await?;
                Ok(true)
            }
            Ok(Polled::Ready(fetched)) => {
                let skipped = &fetched.skipped;
                if let Some(first) = skipped.first() {
                    tracing::warn!(unit = %label, skipped = skipped.len(), %first, "malformed rows skipped");
                }
                checkpoint.note_row_errors(&label, skipped);
                let u = &mut checkpoint.units[i];
                // A snapshot is dated by the day Amazon made its report (sp.rs).
                if let Rows::Inventory { day, .. } = &fetched.rows
                    && day.date != u.date
                {
                    tracing::info!(unit = %label, day = %day.date, "inventory snapshot taken on a later day than planned");
                    u.date = day.date;
                }
                u.rows = i64::try_from(fetched.rows.len()).unwrap_or(i64::MAX);
                u.failed = i64::try_from(skipped.len()).unwrap_or(i64::MAX);
                u.state = UnitState::Done;
                self.progressed = true;
                self.commit(checkpoint, Some(&fetched.rows)).await?;
                tracing::info!(unit = %label, rows = fetched.rows.len(), "report ingested");
                Ok(true)
            }
            Err((stage, e)) => {
                // A report that vanished or failed for good never recovers:
                // the retry requests a new one.
                match &e {
                    AmazonError::ReportFatal { report_id, .. } => {
                        self.replan(checkpoint, i, Some(report_id)).await?;
                    }
                    AmazonError::NotFound => self.replan(checkpoint, i, None).await?,
                    _ => {}
                }
                Err(Failure::amazon(
                    &format!("{stage} report {report_id} for {label}"),
                    &e,
                ))
            }
        }
    }

    /// The report of unit `i` is not ready: poll it again later, unless it
    /// has been waited for past the report deadline (from its request; from
    /// this first poll for a unit requested before deadlines were kept).
    /// Then it is given up: the unit is planned afresh and the delivery ends
    /// failing `transient` once every report has been polled
    /// ([`Run::given_up`]), so the retry asks for new reports. Reports have
    /// sat queued for days (PROTOCOL.md §3.3), and one that never finishes
    /// must not hold its store and kind for good; the retries bound the
    /// tries.
    fn not_ready(&mut self, checkpoint: &mut Checkpoint, i: usize, report_id: &str, label: &str) {
        let now = self.engine.now();
        let deadline = self.engine.inner.settings.report_deadline;
        let unit = &mut checkpoint.units[i];
        let since = *unit.waiting_since.get_or_insert_with(|| {
            self.unsaved = true;
            now
        });
        if (now - since).to_std().unwrap_or_default() < deadline {
            return;
        }
        tracing::warn!(unit = %label, report_id, since = %since, "report given up: not ready by its deadline");
        forget(unit, None);
        // A lookup before the new request would find the same report, still
        // queued, and take it again.
        unit.sent = false;
        unit.child_sent = false;
        self.unsaved = true;
        self.given_up.get_or_insert_with(|| {
            Failure::new(
                ErrorClass::Transient,
                format!(
                    "report {report_id} for {label} still not ready {} min after it was requested \
                     (sync.report_deadline_minutes): given up",
                    deadline.as_secs() / 60
                ),
            )
        });
    }

    /// Plans unit `i` again, forgetting the report that `failed` (every
    /// report of the unit when it is not known which): the other report of
    /// a business unit is still good and is polled again as it is.
    async fn replan(
        &mut self,
        checkpoint: &mut Checkpoint,
        i: usize,
        failed: Option<&str>,
    ) -> Result<(), Failure> {
        forget(&mut checkpoint.units[i], failed);
        self.save(checkpoint).await
    }

    /// Upserts `rows` and records `checkpoint` in one transaction, and when
    /// the checkpoint is complete the task's success too: a unit is done
    /// exactly when its rows are stored, and the task succeeds exactly when
    /// its last rows are.
    ///
    /// The rows of one report are buffered before the transaction opens
    /// rather than streamed into it: on SQLite a write transaction holds the
    /// file's lock, and a download can take minutes.
    async fn commit(&mut self, checkpoint: &Checkpoint, rows: Option<&Rows>) -> Result<(), Failure> {
        let inner = &self.engine.inner;
        let id = self.task.id;
        let storing = |e: DbError| Failure::db("storing rows", &e);
        let mut tx = inner.db.begin().await.map_err(storing)?;
        if let Some(rows) = rows {
            rows.upsert(&mut tx, inner.settings.batch_size)
                .await
                .map_err(storing)?;
        }
        let summary = checkpoint.summary();
        let (done, total) = progress(checkpoint);
        SyncTasks::record_progress_in(
            &mut tx,
            id,
            Some(self.lease()),
            done,
            total,
            Some(&summary),
            &checkpoint.to_json(),
        )
        .await
        .map_err(storing)?;
        let complete = checkpoint.is_complete();
        if complete {
            SyncTasks::succeed_in(
                &mut tx,
                id,
                checkpoint.rows(),
                checkpoint.failed(),
                Some(&summary),
            )
            .await
            .map_err(|e| Failure::db("recording success", &e))?;
        }
        tx.commit().await.map_err(storing)?;
        self.unsaved = false;
        self.last_write = Instant::now();
        if complete {
            self.succeeded = true;
            tracing::info!(rows = checkpoint.rows(), failed = checkpoint.failed(), %summary, "sync succeeded");
            self.engine.on_task_succeeded(self.task, checkpoint.rows());
        }
        Ok(())
    }

    /// Records the checkpoint and progress (units finished of all) when no
    /// rows go with them (a report requested, or planned again).
    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let (done, total) = progress(checkpoint);
        self.engine
            .inner
            .db
            .sync_tasks()
            .record_progress(
                self.task.id,
                Some(self.lease()),
                done,
                total,
                Some(&checkpoint.summary()),
                &checkpoint.to_json(),
            )
            .await
            .map_err(|e| Failure::db("recording progress", &e))?;
        self.unsaved = false;
        self.last_write = Instant::now();
        Ok(())
    }

    /// `failure`, after writing what the checkpoint has not written yet (the
    /// reports requested or given up before it): settled as itself even if
    /// that write fails too, and nothing written by a delivery that lost
    /// the task.
    async fn flush_before(&mut self, checkpoint: &Checkpoint, failure: Failure) -> Failure {
        if !failure.lease_lost
            && let Err(e) = self.flush(checkpoint).await
        {
            tracing::warn!(error = %e.message, "could not record the checkpoint before a failure");
        }
        failure
    }

    /// Writes the checkpoint if it has changes not written yet.
    async fn flush(&mut self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        if self.unsaved {
            self.save(checkpoint).await?;
        }
        Ok(())
    }

    /// This delivery's hold on the task, renewed to a full lease from now by
    /// every write of progress: a delivery that keeps making progress keeps
    /// its task however long it runs, and one that lost it (its lease expired
    /// and another delivery claimed the task) writes nothing more.
    fn lease(&self) -> Lease<'_> {
        Lease {
            owner: &self.owner,
            until: self.engine.now() + delta(self.engine.inner.settings.lease),
        }
    }

    async fn settle(&self, result: Result<Step, Failure>) -> Outcome {
        let poll_delay = self.engine.inner.settings.poll_delay;
        match result {
            Ok(Step::Finished) => Outcome::Done,
            Ok(Step::Waiting) => {
                tracing::debug!("reports not ready; polling again later");
                self.snooze(poll_delay).await
            }
            Err(failure) => self.settle_failure(failure).await,
        }
    }

    /// Gives the lease up until `delay` from now and asks the queue for a
    /// delivery then, which claims the task at once; a duplicate delivery
    /// before then is refused the claim and waits too. Should the release
    /// fail, the snooze outlasts the lease instead: a claim or a renewal never
    /// holds the task longer than `lease` from the moment it was made.
    async fn snooze(&self, delay: Duration) -> Outcome {
        let now = self.engine.now();
        let released = self
            .engine
            .inner
            .db
            .sync_tasks()
            .release(self.task.id, &self.owner, now + delta(delay))
            .await;
        match released {
            Ok(()) => Outcome::Snooze(delay),
            Err(e) => {
                tracing::warn!(error = %e, "could not release the task's lease; waiting for it to expire");
                Outcome::Snooze(delay.max(self.engine.inner.settings.lease + Duration::from_secs(1)))
            }
        }
    }

    /// FR-7 by error class:
    /// - unauthorized: fail at once, the store needs re-authorization;
    /// - throttled after progress in this delivery, or paced by our own
    ///   usage-plan accounting (nothing was sent), or while reports are being
    ///   generated: snooze for the wait (pacing a long backfill through a
    ///   quota is not a fault and spends no attempt);
    /// - transient, throttled and FATAL / FAILED: schedule a retry (the task
    ///   goes back to pending with `retry_count` + 1, its error and trigger
    ///   kept) after the configured delay, Amazon's `retry_after`, or for an
    ///   SP-API FATAL report Amazon's cooldown; on the last attempt, fail for
    ///   good;
    /// - anything else: fail for good.
    async fn settle_failure(&self, failure: Failure) -> Outcome {
        let inner = &self.engine.inner;
        let settings = &inner.settings;
        let tasks = inner.db.sync_tasks();
        let id = self.task.id;
        let class = failure.class;
        let message = failure.message;
        if failure.lease_lost {
            // Another delivery owns the task now and carries on from the
            // checkpoint; this one must not touch it again.
            tracing::warn!(%message, "the task was taken over by another delivery; stopping");
            return Outcome::Done;
        }
        if class == ErrorClass::Throttled && (self.progressed || failure.paced) {
            let wait = failure.retry_after.unwrap_or(settings.poll_delay);
            tracing::info!(?wait, %message, "throttled after progress; continuing later");
            return self.snooze(wait).await;
        }
        let last_attempt = self.delivery.attempt > settings.retries;
        if class.is_retryable() && !last_attempt {
            let after = match class {
                // The SP-API refuses to regenerate a FATAL report for a
                // while; the Ads API names no such cooldown for FAILED.
                ErrorClass::ReportFatal if self.task.sync_type != SyncKind::Advertising => {
                    settings.fatal_cooldown
                }
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
                        Some(self.lease()),
                        now.progress_done,
                        now.progress_total,
                        Some(&note),
                        &now.checkpoint,
                    )
                    .await?;
                tasks
                    .schedule_retry(id, class, &message, self.engine.now() + delta(after))
                    .await
            }
            .await;
            return match recorded {
                Ok(()) => {
                    self.engine.on_task_retrying(self.task);
                    Outcome::Retry {
                        after,
                        error: message.into(),
                    }
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
        // Counted and alerted (and a needs-reauth alert for a refused grant).
        self.engine.on_task_failed(self.task, class, &message).await;
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

/// The Ads profile, report and last day of unit `i` of an advertising task.
fn ads_unit(checkpoint: &Checkpoint, i: usize) -> Result<(AdsProfile, AdsReport, NaiveDate), Failure> {
    let unit = &checkpoint.units[i];
    let profile = unit.profile_id.and_then(|id| checkpoint.profile(id));
    match (profile, unit.report, unit.end) {
        (Some(profile), Some(report), Some(end)) => Ok((profile.clone(), report, end)),
        _ => Err(Failure::new(
            ErrorClass::Internal,
            format!(
                "the checkpoint's unit {} lacks its Ads profile, report or window",
                unit.label()
            ),
        )),
    }
}

/// Puts `unit` back to planned, forgetting the report that `failed` (every
/// report of the unit when it is not known which).
fn forget(unit: &mut Unit, failed: Option<&str>) {
    unit.state = UnitState::Planned;
    unit.waiting_since = None;
    for id in [&mut unit.report_id, &mut unit.child_report_id] {
        if failed.is_none_or(|f| id.as_deref() == Some(f)) {
            *id = None;
        }
    }
}

/// Units finished and all, for `progress_done` / `progress_total`.
fn progress(checkpoint: &Checkpoint) -> (i32, i32) {
    (
        i32::try_from(checkpoint.finished()).unwrap_or(i32::MAX),
        i32::try_from(checkpoint.units.len()).unwrap_or(i32::MAX),
    )
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// How long from `now` until `at` (zero if past).
fn until_after(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

/// Which SP-API report of a unit: the main one, or a business day's
/// child-ASIN one.
#[derive(Debug, Clone, Copy)]
enum Report {
    Main,
    Child,
}

impl Report {
    fn sent(self, unit: &Unit) -> bool {
        match self {
            Report::Main => unit.sent,
            Report::Child => unit.child_sent,
        }
    }

    fn sent_mut(self, unit: &mut Unit) -> &mut bool {
        match self {
            Report::Main => &mut unit.sent,
            Report::Child => &mut unit.child_sent,
        }
    }
}
