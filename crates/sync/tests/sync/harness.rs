//! A world per test: a simulator with one seller, a test database on one
//! engine, the queue on that database (or on Redis), a store connected to the
//! seller, and an engine whose every clock is the simulator's.
//!
//! Tests drive the engine deterministically with [`World::drive`], which
//! plays the queue's part (snooze and retry move the simulated clock instead
//! of waiting), or through real workers with [`World::run_workers_until`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::lwa::InProcessTokenCache;
use amzsync_amazon::{Endpoints, LwaApp};
use amzsync_amazon_sim::{Config as SimConfig, Credentials, Seller, Simulator};
use amzsync_db::{Db, Engine as DbEngine, NewStore, Scope, Store, SyncTask};
use amzsync_domain::{Clock, Marketplace, Region, SyncKind, SyncTaskId, TaskStatus, Trigger};
use amzsync_jobs::{Backend, CancellationToken, Delivery, Job, Outcome, Queue, WorkerOptions};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings, job_kinds};
use amzsync_test_support::{RedisNamespace, TestDb, new_user};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::future::BoxFuture;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use ulid::Ulid;

pub const SELLER: &str = "A3SYNCTESTSELLER";
pub const US: &str = "ATVPDKIKX0DER";
pub const CA: &str = "A2EUQ1WTGCTBG2";
/// Long enough for a slow CI machine, short enough to fail a hung test.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The simulator's clock, as the engine's, the database's and the Amazon
/// client's clock: a client's wait moves the simulated time, never the wall.
#[derive(Debug, Clone)]
pub struct SimClock(pub Arc<Simulator>);

impl SimClock {
    pub fn advance(&self, by: Duration) {
        self.0.advance(by);
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

impl amzsync_amazon::Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Where the queue lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOn {
    /// The test database (SQLite file or PostgreSQL database).
    Database,
    /// Redis, under a random key prefix.
    Redis,
}

pub struct World {
    /// Kept for its lifetime: dropping it removes the database.
    _test_db: TestDb,
    /// Kept for its lifetime: dropping it empties the Redis queue's keys.
    _redis: Option<RedisNamespace>,
    pub db: Db,
    pub sim: Arc<Simulator>,
    pub clock: SimClock,
    pub engine: Engine,
    /// The queue; its delays run on the wall clock (`stats(Utc::now())`).
    pub queue: Queue,
    pub store: Store,
    pub credentials: Credentials,
    settings: SyncSettings,
}

/// What [`World::drive`] saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Trace {
    pub deliveries: u32,
    pub snoozes: u32,
    /// Delays of the `Retry` outcomes, in order.
    pub retries: Vec<Duration>,
    /// Whether the last outcome was `Fail`.
    pub failed: bool,
}

impl World {
    /// A world on `test_db` with the queue in the same database, report
    /// polls as in `SimConfig` (2) and restatement off, so ground truth is
    /// the same whenever it is read.
    pub async fn new(test_db: TestDb) -> World {
        Self::with(
            test_db,
            QueueOn::Database,
            SimConfig::default(),
            SyncSettings::default(),
        )
        .await
    }

    /// A world whose simulator restates the last `days` days as its clock
    /// moves (Sales & Traffic), so ground truth depends on when it is read.
    pub async fn restating(test_db: TestDb, days: u32) -> World {
        let config = SimConfig {
            restatement_days: days,
            ..pinned(SimConfig::default())
        };
        Self::on(
            test_db,
            QueueOn::Database,
            start_sim(config).await,
            &[(US, 12), (CA, 5)],
            SyncSettings::default(),
        )
        .await
    }

    /// A world with restatement off, whatever `sim_config` says.
    pub async fn with(
        test_db: TestDb,
        queue_on: QueueOn,
        sim_config: SimConfig,
        settings: SyncSettings,
    ) -> World {
        let sim = start_sim(pinned(sim_config)).await;
        Self::on(test_db, queue_on, sim, &[(US, 12), (CA, 5)], settings).await
    }

    /// A world on a simulator already started (see [`pinned`]), whose store
    /// is a seller with `marketplaces` (id, SKU count), the first primary.
    pub async fn on(
        test_db: TestDb,
        queue_on: QueueOn,
        sim: Arc<Simulator>,
        marketplaces: &[(&str, u32)],
        settings: SyncSettings,
    ) -> World {
        // reqwest is built without a TLS provider choice (STACK.md P2).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let seller = marketplaces
            .iter()
            .fold(Seller::new(SELLER), |seller, &(id, skus)| {
                seller.marketplace(id, skus)
            });
        let credentials = sim.add_seller(seller).expect("known marketplaces are accepted");
        let clock = SimClock(Arc::clone(&sim));
        let db = test_db.db.clone().with_clock(Arc::new(clock.clone()));
        let redis = matches!(queue_on, QueueOn::Redis).then(|| RedisNamespace::new("sync"));
        let backend = match queue_on {
            QueueOn::Database => match db.engine() {
                DbEngine::Sqlite => Backend::Sqlite(db.sqlite_pool().expect("a SQLite database").clone()),
                DbEngine::Postgres => {
                    Backend::Postgres(db.postgres_pool().expect("a PostgreSQL database").clone())
                }
            },
            QueueOn::Redis => {
                let ns = redis.as_ref().expect("a namespace for the Redis queue");
                Backend::Redis {
                    url: ns.url().to_owned(),
                    namespace: ns.name().to_owned(),
                }
            }
        };
        let queue = Queue::connect(backend, QUEUE).await.unwrap_or_else(|e| {
            panic!("cannot reach the queue ({e}); start PostgreSQL and Redis with scripts/services.sh")
        });
        queue.setup().await.expect("setting the queue up");
        let user = new_user(&db, "seller-one").await;
        let store = db
            .stores()
            .create(NewStore {
                user_id: user.id,
                store_name: "Sync test store".into(),
                region: Region::Na,
                marketplaces: marketplaces
                    .iter()
                    .map(|&(id, _)| Marketplace::by_id(id).expect("a known marketplace"))
                    .collect(),
                seller_id: SELLER.into(),
                sp_api_refresh_token: SecretString::from(credentials.refresh_token.clone()),
                advertising_api_refresh_token: Some(SecretString::from(
                    credentials.ads_refresh_token.clone(),
                )),
                sp_api_client_id: None,
                sp_api_client_secret: None,
                business_lookback_days: None,
                ads_lookback_days: None,
            })
            .await
            .expect("creating the store");
        let engine = engine_for(&db, &queue, &sim, &clock, settings.clone());
        World {
            _test_db: test_db,
            _redis: redis,
            db,
            sim,
            clock,
            engine,
            queue,
            store,
            credentials,
            settings,
        }
    }

    /// Another engine on the same database, queue and simulator (a second
    /// process).
    pub fn second_engine(&self) -> Engine {
        engine_for(
            &self.db,
            &self.queue,
            &self.sim,
            &self.clock,
            self.settings.clone(),
        )
    }

    pub fn today(&self) -> NaiveDate {
        self.sim.now().date_naive()
    }

    pub async fn trigger(&self, kind: SyncKind, window: Option<amzsync_domain::SyncWindow>) -> SyncTask {
        self.engine
            .trigger(Scope::All, self.store.id, kind, window, Trigger::Manual)
            .await
            .expect("the trigger is accepted")
    }

    pub async fn task(&self, id: SyncTaskId) -> SyncTask {
        self.db
            .sync_tasks()
            .get(Scope::All, id)
            .await
            .expect("the task exists")
    }

    /// Delivers the task's job until it is done or failed, playing the
    /// queue: a snooze or a retry moves the simulated clock by its delay and
    /// delivers again (a retry as the next attempt).
    pub async fn drive(&self, id: SyncTaskId) -> (SyncTask, Trace) {
        self.drive_with(id, || {}).await
    }

    /// [`World::drive`], calling `on_retry` before each retry is delivered
    /// (to change what the simulator does between attempts).
    pub async fn drive_with(&self, id: SyncTaskId, mut on_retry: impl FnMut()) -> (SyncTask, Trace) {
        let max_attempts = self.settings.retries + 1;
        let mut delivery = Delivery {
            job: Job::new(job_kinds::SYNC_TASK, id.0),
            id: id.0,
            attempt: 1,
            max_attempts,
        };
        let mut trace = Trace::default();
        for _ in 0..200 {
            trace.deliveries += 1;
            match self.engine.handle(delivery.clone()).await {
                Outcome::Done => return (self.task(id).await, trace),
                Outcome::Fail(_) => {
                    trace.failed = true;
                    return (self.task(id).await, trace);
                }
                Outcome::Snooze(after) => {
                    trace.snoozes += 1;
                    self.clock.advance(after);
                }
                Outcome::Retry { after, .. } => {
                    trace.retries.push(after);
                    if delivery.attempt >= max_attempts {
                        trace.failed = true;
                        return (self.task(id).await, trace);
                    }
                    self.clock.advance(after);
                    on_retry();
                    delivery.attempt += 1;
                }
            }
            delivery.id = Ulid::generate();
        }
        panic!("task {id} did not finish in 200 deliveries: {trace:?}");
    }

    /// Starts real queue workers; cancel the token and await the handle to
    /// stop them.
    pub fn start_workers(&self) -> (CancellationToken, JoinHandle<Result<(), amzsync_sync::Error>>) {
        let shutdown = CancellationToken::new();
        let engine = self.engine.clone();
        let options = WorkerOptions {
            concurrency: 2,
            poll_interval: Duration::from_millis(50),
            ..WorkerOptions::default()
        };
        let worker = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { engine.run_workers(options, shutdown).await }
        });
        (shutdown, worker)
    }

    /// Runs real queue workers until `done` holds for the task, or fails the
    /// test at the deadline.
    pub async fn run_workers_until(&self, id: SyncTaskId, done: impl Fn(&SyncTask) -> bool) -> SyncTask {
        let (shutdown, worker) = self.start_workers();
        let task = wait_for(|| async {
            let task = self.task(id).await;
            done(&task).then_some(task)
        })
        .await;
        shutdown.cancel();
        worker
            .await
            .expect("the worker task does not panic")
            .expect("the worker stops cleanly");
        task
    }
}

async fn start_sim(config: SimConfig) -> Arc<Simulator> {
    Arc::new(
        Simulator::start_local(config)
            .await
            .expect("the simulator starts on port 0"),
    )
}

/// `config` with the clock pinned to a fixed instant and restatement off, so
/// ground truth is the same whenever it is read.
pub fn pinned(config: SimConfig) -> SimConfig {
    SimConfig {
        start: Some(
            Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0)
                .single()
                .expect("valid instant"),
        ),
        restatement_days: 0,
        ..config
    }
}

fn engine_for(db: &Db, queue: &Queue, sim: &Simulator, clock: &SimClock, settings: SyncSettings) -> Engine {
    let endpoints = Endpoints {
        lwa_token: sim.token_url(),
        sp_api: sim.base_url().clone(),
        ads_api: sim.base_url().clone(),
    };
    let amazon = AmazonSettings {
        lwa_app: Some(LwaApp {
            client_id: sim.config().client_id.clone(),
            client_secret: sim.config().client_secret.clone().into(),
        }),
        endpoints: [(Region::Na, endpoints)].into_iter().collect(),
        ..AmazonSettings::default()
    };
    Engine::builder(db.clone(), queue.clone(), amazon, settings)
        .amazon_clock(Arc::new(clock.clone()))
        // Its own cache: tests sharing a process must not share tokens.
        .token_cache(Arc::new(InProcessTokenCache::new()))
        .build()
        .expect("the engine builds")
}

/// Polls `check` until it yields, failing the test at [`DEADLINE`].
pub async fn wait_for<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts the task succeeded, with a readable message if not.
pub fn assert_success(task: &SyncTask) {
    assert_eq!(
        task.status,
        TaskStatus::Success,
        "task failed: {:?} {:?} / {:?}",
        task.error_class,
        task.error_message,
        task.progress_message
    );
}
