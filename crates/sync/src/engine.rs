//! [`Engine`]: the handle the API, the CLI and the worker and scheduler roles
//! share. It triggers syncs (task row and job together), retries failed
//! tasks, handles queue deliveries and runs the workers and the scheduler.

use std::sync::Arc;

use amzsync_amazon::lwa::{InProcessTokenCache, TokenCache};
use amzsync_amazon::throttle::{InProcessRateLimiter, RateLimiter};
use amzsync_amazon::{Clock as AmazonClock, SystemClock as AmazonSystemClock};
use amzsync_db::{
    Db, Engine as DbEngine, Error as DbError, NewSyncTask, RawConnection, Scope, Store, StoreStatus,
    SyncTask, SyncTasks,
};
use amzsync_domain::{Clock, Marketplace, StoreId, SyncKind, SyncTaskId, SyncWindow, Trigger};
use amzsync_jobs::{
    CancellationToken, Connection, Delivery, Job, Options, Outcome, Queue, QueueName, Schedule, WorkerOptions,
};
use chrono::{DateTime, Offset as _, Utc};
use ulid::Ulid;

use crate::checkpoint::Checkpoint;
use crate::clients::Clients;
use crate::error::{Error, TriggerError};
use crate::jobs;
use crate::plan;
use crate::settings::{AmazonSettings, MARKETPLACE_TIME_ZONE, SyncSettings};

/// The queue the engine's jobs go to. Never renamed: queued jobs would be
/// orphaned.
pub const QUEUE: QueueName = QueueName::new("sync");

/// Priority of jobs of manual triggers and retries: FR-4 "manual triggers
/// outrank scheduled ones" (SQL queues; Redis ignores priority).
pub(crate) const MANUAL_PRIORITY: u8 = 10;

/// The sync engine. Cheap to clone: every field is a handle.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) queue: Queue,
    pub(crate) settings: SyncSettings,
    pub(crate) clients: Clients,
    pub(crate) clock: Arc<dyn Clock>,
    /// This process's name in task leases (`worker-<ulid>`).
    pub(crate) worker: String,
    pub(crate) schedules: Vec<KindSchedule>,
    /// Archival, alerts and monitoring (`housekeeping.rs`).
    pub(crate) ops: crate::housekeeping::Ops,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("queue", &self.inner.queue)
            .field("worker", &self.inner.worker)
            .finish_non_exhaustive()
    }
}

/// A sync kind's cron schedule for the stores whose own zone ([`store_zone`])
/// is `zone`, or for every store (`None`: one configured time zone).
pub(crate) struct KindSchedule {
    pub(crate) kind: SyncKind,
    pub(crate) zone: Option<&'static str>,
    pub(crate) schedule: Schedule,
}

/// The zone whose night is a store's own at `at`: that of its marketplace
/// whose day ends last (the furthest west). Ticking by the primary
/// marketplace's would ask a store whose other marketplace lies further
/// west (an Indian primary beside Britain) for a day not yet over there.
/// UTC for a store of no known marketplace, which store validation rules
/// out.
pub(crate) fn store_zone(store: &Store, at: DateTime<Utc>) -> &'static str {
    store
        .marketplaces
        .iter()
        .chain([&store.marketplace_id])
        .filter_map(|id| Marketplace::by_id(id))
        .map(|m| m.time_zone())
        .min_by_key(|zone| {
            zone.parse::<chrono_tz::Tz>()
                .map_or(0, |tz| at.with_timezone(&tz).offset().fix().local_minus_utc())
        })
        .unwrap_or("UTC")
}

/// Builds an [`Engine`] with other parts than the defaults.
pub struct EngineBuilder {
    db: Db,
    queue: Queue,
    amazon: AmazonSettings,
    sync: SyncSettings,
    amazon_clock: Option<Arc<dyn AmazonClock>>,
    token_cache: Option<Arc<dyn TokenCache>>,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// Archival, alerts and monitoring (`housekeeping.rs`).
    pub(crate) ops: crate::housekeeping::OpsBuilder,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder").finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// The clock of the Amazon clients: token expiry, rate-limit permits and
    /// their waits (tests move a simulated one).
    #[must_use]
    pub fn amazon_clock(mut self, clock: Arc<dyn AmazonClock>) -> Self {
        self.amazon_clock = Some(clock);
        self
    }

    /// Where access tokens are cached (the process-wide cache by default; a
    /// Redis cache shares them between processes).
    #[must_use]
    pub fn token_cache(mut self, cache: Arc<dyn TokenCache>) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// The rate limiter of every client (in-process by default; a Redis
    /// limiter shares sellers' quotas between processes, FR-8).
    #[must_use]
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Checks the settings and builds the engine.
    pub fn build(self) -> Result<Engine, Error> {
        let mut sync = self.sync;
        let schedule = &sync.schedule;
        let mut schedules = Vec::new();
        // Per store zone: one schedule per kind and zone a store can be in.
        let by_marketplace = schedule.time_zone == MARKETPLACE_TIME_ZONE;
        let zones: Vec<Option<&'static str>> = if by_marketplace {
            let mut zones: Vec<&'static str> = Marketplace::all()
                .iter()
                .map(|m| m.time_zone())
                .chain(["UTC"])
                .collect();
            zones.sort_unstable();
            zones.dedup();
            zones.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for (kind, key, expression) in [
            (
                SyncKind::Inventory,
                "sync.schedule.inventory",
                &schedule.inventory,
            ),
            (SyncKind::Business, "sync.schedule.business", &schedule.business),
            (
                SyncKind::Advertising,
                "sync.schedule.advertising",
                &schedule.advertising,
            ),
        ] {
            for &zone in &zones {
                let parsed = Schedule::new(expression, zone.unwrap_or(&schedule.time_zone)).map_err(|e| {
                    Error::Config {
                        key,
                        message: e.to_string(),
                    }
                })?;
                schedules.push(KindSchedule {
                    kind,
                    zone,
                    schedule: parsed,
                });
            }
        }
        let archive_zone = if by_marketplace {
            "UTC".to_owned()
        } else {
            schedule.time_zone.clone()
        };
        if sync.reconcile_grace.is_zero() {
            return Err(Error::Config {
                key: "sync.reconcile_grace",
                message: "must be longer than zero: a task's job needs time to be delivered".into(),
            });
        }
        if sync.report_deadline.is_zero() {
            return Err(Error::Config {
                key: "sync.report_deadline",
                message: "must be longer than zero: a report needs time to be made".into(),
            });
        }
        if sync.batch_size == 0 {
            return Err(Error::Config {
                key: "sync.batch_size",
                message: "must be at least 1".into(),
            });
        }
        // Under a simulated clock (the simulator at speed), the lease and the
        // reconciler's grace still measure how long a process may be silent,
        // which is real time; everything downstream reads spans on the
        // engine's clock, so they are stretched to it here, once. The queue
        // waits by the wall clock, so it shortens the engine's delays.
        let speed = self.db.clock().speed();
        let stretch = |d: std::time::Duration| {
            std::time::Duration::try_from_secs_f64(d.as_secs_f64() * speed)
                .unwrap_or(std::time::Duration::MAX)
        };
        sync.lease = stretch(sync.lease);
        sync.reconcile_grace = stretch(sync.reconcile_grace);
        let queue = self.queue.clock_speed(speed);
        let amazon_clock = self.amazon_clock.unwrap_or_else(|| Arc::new(AmazonSystemClock));
        let tokens = self
            .token_cache
            .unwrap_or_else(|| InProcessTokenCache::global() as Arc<dyn TokenCache>);
        let limiter = self
            .rate_limiter
            .unwrap_or_else(|| Arc::new(InProcessRateLimiter::new(Arc::clone(&amazon_clock))));
        let ops = self.ops.build(&archive_zone)?;
        // Every call to Amazon asks for a permit: counted here (FR-10).
        let limiter: Arc<dyn RateLimiter> = Arc::new(crate::telemetry::Metered(limiter));
        let clock = self.db.clock();
        Ok(Engine {
            inner: Arc::new(Inner {
                clients: Clients::new(self.amazon, amazon_clock, tokens, limiter),
                db: self.db,
                queue,
                settings: sync,
                clock,
                worker: format!("worker-{}", Ulid::generate()),
                schedules,
                ops,
            }),
        })
    }
}

impl Engine {
    /// An engine with the default clock, token cache and rate limiter. The
    /// queue should be [`QUEUE`] on the backend of the configuration, set up.
    pub fn new(db: Db, queue: Queue, amazon: AmazonSettings, sync: SyncSettings) -> Result<Self, Error> {
        Self::builder(db, queue, amazon, sync).build()
    }

    /// A builder to replace the defaults.
    pub fn builder(db: Db, queue: Queue, amazon: AmazonSettings, sync: SyncSettings) -> EngineBuilder {
        EngineBuilder {
            db,
            queue,
            amazon,
            sync,
            amazon_clock: None,
            token_cache: None,
            rate_limiter: None,
            ops: Default::default(),
        }
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &SyncSettings {
        &self.inner.settings
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Starts a sync of `kind` for a store: records a pending task and
    /// enqueues its job, in one transaction on an SQL queue (so neither exists
    /// without the other), the job right after the commit on Redis.
    ///
    /// Rules:
    /// - a deactivated store syncs nothing ([`TriggerError::StoreInactive`]);
    /// - advertising needs the store's Ads authorization
    ///   ([`TriggerError::Unsupported`] without one);
    /// - a store needing re-authorization refuses scheduled triggers
    ///   ([`TriggerError::NeedsReauth`]) but accepts manual ones, so a user
    ///   can check new credentials at once (a still-revoked grant fails the
    ///   task at once, at no cost);
    /// - one pending-or-running task per store and kind (FR-6):
    ///   [`TriggerError::AlreadyRunning`], and nothing is created;
    /// - without `window`, the window of the kind ([`crate::plan::window`]):
    ///   the store's lookback, reaching back to the oldest day not yet final
    ///   and synced (a first run backfills).
    pub async fn trigger(
        &self,
        scope: Scope,
        store_id: StoreId,
        kind: SyncKind,
        window: Option<SyncWindow>,
        trigger: Trigger,
    ) -> Result<SyncTask, TriggerError> {
        let db = &self.inner.db;
        let store = db.stores().get(scope, store_id).await.map_err(|e| match e {
            DbError::NotFound { .. } => TriggerError::StoreNotFound,
            other => TriggerError::Db(other),
        })?;
        if !store.is_active {
            return Err(TriggerError::StoreInactive);
        }
        if trigger == Trigger::Scheduled && store.sync_status == StoreStatus::NeedsReauth {
            return Err(TriggerError::NeedsReauth);
        }
        // Refused up front rather than failed later: the store cannot sync
        // advertising until someone authorizes the Ads API for it, and a
        // scheduled tick then skips it quietly.
        if kind == SyncKind::Advertising && !store.has_advertising_api_refresh_token {
            return Err(TriggerError::Unsupported {
                kind,
                reason: "the store has no Advertising API authorization (advertising_api_refresh_token)",
            });
        }
        let now = self.now();
        let lookback = plan::lookback_days(kind, &store, &self.inner.settings);
        // Only a default window reads the history: an explicit one is taken
        // as asked, and its final days are skipped when it is planned.
        let (synced, series) = match (
            window,
            plan::reach(kind, &store.marketplace_id, now, &self.inner.settings),
        ) {
            (None, Some(reach)) => {
                let synced = self.synced(store_id, kind, reach).await?;
                let profiles = if kind == SyncKind::Advertising {
                    db.ads_profiles()
                        .list(store_id)
                        .await?
                        .into_iter()
                        .map(|p| crate::checkpoint::AdsProfile {
                            profile_id: p.profile_id,
                            marketplace_id: p.marketplace_id,
                            currency: p.currency_code,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                (synced, plan::Series::all(kind, &store.marketplaces, &profiles))
            }
            _ => (plan::Synced::default(), Vec::new()),
        };
        let history = plan::History {
            lookback,
            synced: &synced,
            series: &series,
        };
        let window = plan::window(
            kind,
            &store.marketplace_id,
            window,
            now,
            history,
            &self.inner.settings,
        )
        .map_err(TriggerError::InvalidWindow)?;
        let new = NewSyncTask {
            id: new_task_id(now),
            store_id,
            kind,
            trigger,
            window: Some(window),
        };
        let job = Job::new(jobs::sync_task::KIND, new.id.0);
        let options = match trigger {
            Trigger::Scheduled => Options::default(),
            Trigger::Manual | Trigger::Retry => Options::default().priority(MANUAL_PRIORITY),
        };
        let task = if self.enqueues_in_transaction() {
            let mut tx = db.begin().await?;
            let task = SyncTasks::create_in(&mut tx, &new)
                .await
                .map_err(already_running)?;
            let conn = match tx.raw() {
                RawConnection::Sqlite(c) => Connection::from(c),
                RawConnection::Postgres(c) => Connection::from(c),
            };
            self.inner.queue.enqueue_in(conn, &job, options).await?;
            tx.commit().await?;
            task
        } else {
            let task = db.sync_tasks().create(&new).await.map_err(already_running)?;
            // Not atomic with the row (Redis): the task exists whatever
            // happens here, so a failed ring is logged, not returned; the
            // reconciler re-rings it after the grace (`reconciler.rs`).
            if let Err(e) = self.inner.queue.enqueue(&job, options).await {
                tracing::warn!(task_id = %task.id, error = %e, "could not enqueue the sync job; the task stays pending");
            }
            task
        };
        tracing::info!(store_id = %store_id, task_id = %task.id, kind = %kind, trigger = %trigger,
            window_start = %window.start(), window_end = %window.end(), "sync triggered");
        Ok(task)
    }

    /// Puts a failed task back to pending and enqueues it (FR-5). Its
    /// checkpoint is kept, so reports already requested are polled again
    /// rather than requested anew.
    pub async fn retry(&self, scope: Scope, task_id: SyncTaskId) -> Result<SyncTask, TriggerError> {
        let tasks = self.inner.db.sync_tasks();
        let task = match tasks.retry(scope, task_id).await {
            Ok(task) => task,
            Err(DbError::NotFound { .. }) => return Err(TriggerError::TaskNotFound),
            Err(DbError::InvalidState { .. }) => {
                let status = tasks.get(scope, task_id).await?.status;
                return Err(TriggerError::NotRetryable { status });
            }
            Err(other) => return Err(already_running(other)),
        };
        // A fresh queue id: the first delivery's id is the task id, already
        // used. The key makes a double-clicked retry ring once.
        let options = Options::default()
            .fresh_id()
            .priority(MANUAL_PRIORITY)
            .idempotency_key(format!("{task_id}:retry:{}", task.retry_count));
        self.inner
            .queue
            .enqueue(&Job::new(jobs::sync_task::KIND, task_id.0), options)
            .await?;
        Ok(task)
    }

    /// Handles one delivery of one of the engine's jobs. Idempotent: the
    /// task row decides what is left to do.
    pub async fn handle(&self, delivery: Delivery) -> Outcome {
        match delivery.job.kind.as_str() {
            jobs::sync_task::KIND => jobs::sync_task::run(self, &delivery).await,
            jobs::scheduled_sync::KIND => jobs::scheduled_sync::run(self, &delivery).await,
            crate::archival::KIND => crate::archival::run(self, &delivery).await,
            other => Outcome::Fail(format!("unknown job kind {other:?}").into()),
        }
    }

    /// Runs workers on the engine's queue until `shutdown`. The retry count
    /// of [`SyncSettings::retries`] replaces `options.max_attempts`, so one
    /// setting governs FR-7.
    pub async fn run_workers(
        &self,
        options: WorkerOptions,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let options = WorkerOptions {
            max_attempts: self.inner.settings.retries.saturating_add(1),
            ..options
        };
        let engine = self.clone();
        self.inner
            .queue
            .run(
                move |delivery| {
                    let engine = engine.clone();
                    async move { engine.handle(delivery).await }
                },
                options,
                shutdown,
            )
            .await?;
        Ok(())
    }

    /// What the store's successful tasks of `kind` overlapping `days`
    /// fetched ([`plan::Synced`]). A checkpoint we cannot read counts as
    /// nothing fetched: at worst its days are requested again.
    pub(crate) async fn synced(
        &self,
        store: StoreId,
        kind: SyncKind,
        days: SyncWindow,
    ) -> Result<plan::Synced, DbError> {
        let fetched = self
            .inner
            .db
            .sync_tasks()
            .fetched(store, kind, days.start(), days.end())
            .await?;
        let mut read = Vec::with_capacity(fetched.len());
        for f in fetched {
            match Checkpoint::read(&f.checkpoint) {
                Ok(Some(checkpoint)) => read.push((f.created_at, checkpoint)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(task_id = %f.task_id, error = %e, "unreadable checkpoint of a successful task; its days count as not synced");
                }
            }
        }
        Ok(plan::Synced::from_tasks(
            kind,
            read.iter().map(|(at, c)| (*at, c)),
            self.inner.settings.report_reuse_within,
        ))
    }

    /// Whether the task row and its job can commit together: the queue lives
    /// in the same database engine as the data (the embedded SQLite file or
    /// the PostgreSQL database).
    fn enqueues_in_transaction(&self) -> bool {
        matches!(
            (self.inner.db.engine(), self.inner.queue.backend_name()),
            (DbEngine::Sqlite, "sqlite") | (DbEngine::Postgres, "postgres")
        )
    }
}

/// A task id whose time part is the engine's clock, so ids sort like
/// `created_at` even under a simulated clock.
fn new_task_id(now: DateTime<Utc>) -> SyncTaskId {
    let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    SyncTaskId::new(ms, Ulid::generate().random())
}

fn already_running(e: DbError) -> TriggerError {
    match e {
        DbError::SyncAlreadyActive { task_id } => TriggerError::AlreadyRunning { task_id },
        other => TriggerError::Db(other),
    }
}
