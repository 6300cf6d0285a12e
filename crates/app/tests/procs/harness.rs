//! A distributed deployment per test: a PostgreSQL database, a Redis
//! namespace, the simulator (in this process, over real HTTP on port 0, its
//! clock live, so the `amzsync` processes' clock and Amazon's agree: real
//! time, or a simulated clock all of them are given) with one seller per
//! store, and the stores connected to them. `amzsync worker` and `amzsync scheduler` processes are spawned from
//! it; each is SIGKILLed and reaped when its [`Proc`] is dropped, whatever
//! ends the test.

use std::fs::File;
use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use amzsync_amazon_sim::{ClockMode, Config as SimConfig, Operation, ReportTiming, Seller, Simulator};
use amzsync_db::{Cipher, Db, NewStore, Scope, Store, SyncTask, SyncTaskFilter};
use amzsync_domain::{Marketplace, Region};
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings};
use amzsync_test_support::{RedisNamespace, TestDb, new_user};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::time::Instant;

pub const US: &str = "ATVPDKIKX0DER";
pub const CA: &str = "A2EUQ1WTGCTBG2";

/// Where the processes' job queue lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOn {
    /// The PostgreSQL database of the data (a task and its job commit together).
    Database,
    /// Redis, under the test's namespace.
    Redis,
}

/// How a deployment is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    pub stores: u32,
    /// SKUs per marketplace (each store sells in the US and Canada).
    pub skus: u32,
    pub queue: QueueOn,
    /// `sync.lease_seconds` of the processes.
    pub lease_seconds: u64,
    /// `sync.retries` of the processes.
    pub retries: u32,
    pub seed: u64,
    /// A simulated clock for the simulator and the processes (`[clock]`);
    /// `None`: real time.
    pub clock: Option<Simulated>,
}

/// A simulated clock: `start` when the deployment starts, then `speed` times
/// real time.
#[derive(Debug, Clone, Copy)]
pub struct Simulated {
    pub speed: f64,
    pub start: DateTime<Utc>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            stores: 1,
            skus: 10,
            queue: QueueOn::Database,
            lease_seconds: 10,
            retries: 3,
            seed: 1,
            clock: None,
        }
    }
}

/// A store of the deployment and the simulated seller behind it.
#[derive(Debug, Clone)]
pub struct Connected {
    pub store: Store,
    pub seller_id: String,
}

/// The process roles the tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Worker,
    Scheduler,
    /// `amzsync serve`: API, dashboard, workers and scheduler in one process.
    Serve,
}

impl Role {
    /// The `amzsync` subcommand of the role.
    pub fn command(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Scheduler => "scheduler",
            Role::Serve => "serve",
        }
    }
}

pub struct Deployment {
    pub sim: Arc<Simulator>,
    /// The database, opened with the key the processes are given.
    pub db: Db,
    pub stores: Vec<Connected>,
    env: Vec<(String, String)>,
    spawned: AtomicU32,
    setup: Setup,
    /// Logs and data directories of the processes; their tails are printed
    /// when a test fails.
    dir: tempfile::TempDir,
    _redis: RedisNamespace,
    /// Last: the database is dropped once everything else is.
    _test_db: TestDb,
}

impl Deployment {
    pub async fn start(setup: Setup) -> Deployment {
        // reqwest is built without a TLS provider choice (STACK.md P2).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Real speed and the real now unless a simulated clock is asked for:
        // the processes plan windows, pace usage plans and time tokens by
        // the same clock as the simulator.
        let speed = setup.clock.map_or(1.0, |c| c.speed);
        let sim = Arc::new(
            Simulator::start_local(SimConfig {
                seed: setup.seed,
                clock: ClockMode::Live { speed },
                start: setup.clock.map(|c| c.start),
                // A second of real time in each state, at any speed.
                report_timing: Some(ReportTiming::Duration {
                    in_queue: Duration::from_secs_f64(speed),
                    in_progress: Duration::from_secs_f64(speed),
                }),
                // Final figures at once, so ground truth read after the run
                // is what Amazon served during it, even across midnight.
                restatement_days: 0,
                ads_restatement: false,
                ..SimConfig::default()
            })
            .await
            .expect("the simulator starts on port 0"),
        );
        let test_db = TestDb::postgres().await;
        let key = Cipher::generate_key();
        let db = test_db.reopen_with(Cipher::new(&key)).await;
        let redis = RedisNamespace::new("procs");
        let user = new_user(&db, "procs").await;
        let mut stores = Vec::new();
        let mut lwa = None;
        for n in 1..=setup.stores {
            let seller_id = format!("APROCSELLER{n:04}");
            let credentials = sim
                .add_seller(
                    Seller::new(&seller_id)
                        .marketplace(US, setup.skus)
                        .marketplace(CA, setup.skus),
                )
                .expect("known marketplaces are accepted");
            let store = db
                .stores()
                .create(NewStore {
                    user_id: user.id,
                    store_name: format!("Store {n}"),
                    region: Region::Na,
                    marketplaces: [US, CA]
                        .iter()
                        .map(|id| Marketplace::by_id(id).expect("known marketplace"))
                        .collect(),
                    seller_id: seller_id.clone(),
                    sp_api_refresh_token: SecretString::from(credentials.refresh_token.clone()),
                    // No Ads authorization: the scheduler's advertising
                    // ticks skip these stores, and each store has one grant.
                    advertising_api_refresh_token: None,
                    sp_api_client_id: None,
                    sp_api_client_secret: None,
                    business_lookback_days: None,
                    ads_lookback_days: None,
                })
                .await
                .expect("creating a store");
            lwa.get_or_insert((credentials.client_id, credentials.client_secret));
            stores.push(Connected { store, seller_id });
        }
        let (client_id, client_secret) = lwa.expect("at least one store");
        let dir = tempfile::tempdir().expect("a directory for the processes");
        let queue = match setup.queue {
            QueueOn::Database => "database",
            QueueOn::Redis => "redis",
        };
        let mut env: Vec<(String, String)> = [
            ("AMZSYNC_DATABASE_URL", test_db.url()),
            ("AMZSYNC_DATABASE_MAX_CONNECTIONS", "6".to_owned()),
            ("AMZSYNC_ENCRYPTION_KEY", STANDARD.encode(key.expose_secret())),
            ("AMZSYNC_QUEUE", queue.to_owned()),
            ("AMZSYNC_REDIS_URL", redis.url().to_owned()),
            ("AMZSYNC_REDIS_NAMESPACE", redis.name().to_owned()),
            ("AMZSYNC_DATA_DIR", dir.path().join("data").display().to_string()),
            ("AMZSYNC_AMAZON__ENDPOINT", sim.base_url().to_string()),
            ("AMZSYNC_AMAZON__LWA_CLIENT_ID", client_id),
            ("AMZSYNC_AMAZON__LWA_CLIENT_SECRET", client_secret),
            ("AMZSYNC_WORKER_HEARTBEAT_SECONDS", "1".to_owned()),
            ("AMZSYNC_SYNC__LEASE_SECONDS", setup.lease_seconds.to_string()),
            ("AMZSYNC_SYNC__RETRIES", setup.retries.to_string()),
            ("AMZSYNC_SYNC__RETRY_DELAY_SECONDS", "1".to_owned()),
            ("AMZSYNC_SYNC__POLL_DELAY_SECONDS", "1".to_owned()),
            // One day of Sales & Traffic per marketplace: two pairs of
            // reports (by SKU and by child ASIN) and two inventory reports,
            // well inside the burst of 15 of createReport and of
            // getReportDocument, which faults and kills make fetch again:
            // past the burst, both pace at one a minute of real time.
            ("AMZSYNC_SYNC__FIRST_RUN_BACKFILL_DAYS", "1".to_owned()),
            ("AMZSYNC_SYNC__BUSINESS_LOOKBACK_DAYS", "1".to_owned()),
            ("AMZSYNC_LOG", "info".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if setup.clock.is_none() {
            // On the real clock the default schedules (02:00, 02:30 and 03:00
            // UTC) would tick during a test run at that hour, adding
            // scheduled tasks to the ones a test asked for. Every kind
            // ticks daily an hour ago instead: a starting scheduler still
            // catches that tick up (the scale-out test's only tasks), and
            // the next is a day away.
            let at = Utc::now() - chrono::Duration::hours(1);
            env.extend(schedules(&format!("{} {} * * *", at.minute(), at.hour())));
        }
        if let Some(clock) = setup.clock {
            // The real instant at which the simulator's clock read `start`,
            // so the processes' clocks are the simulator's.
            let ahead = (sim.now() - clock.start).num_microseconds().unwrap_or(0) as f64 / clock.speed;
            let origin = Utc::now() - chrono::Duration::microseconds(ahead as i64);
            for (key, value) in [
                ("AMZSYNC_CLOCK__SPEED", clock.speed.to_string()),
                ("AMZSYNC_CLOCK__START", clock.start.to_rfc3339()),
                ("AMZSYNC_CLOCK__ORIGIN", origin.to_rfc3339()),
            ] {
                env.push((key.to_owned(), value));
            }
        }
        if setup.queue == QueueOn::Database {
            // Set up once here, before processes race to do it, so this
            // process can enqueue too.
            queue_on(&db).await.setup().await.expect("setting the queue up");
        }
        Deployment {
            sim,
            db,
            stores,
            env,
            spawned: AtomicU32::new(0),
            setup,
            dir,
            _redis: redis,
            _test_db: test_db,
        }
    }

    /// An engine in this process on the deployment's database queue, for
    /// triggering tasks as the API would; it never runs jobs.
    pub async fn engine(&self) -> Engine {
        assert_eq!(
            self.setup.queue,
            QueueOn::Database,
            "triggers go through the database queue"
        );
        let settings = SyncSettings {
            first_run_backfill_days: 1,
            business_lookback_days: 1,
            ..SyncSettings::default()
        };
        Engine::new(
            self.db.clone(),
            queue_on(&self.db).await,
            AmazonSettings::default(),
            settings,
        )
        .expect("the engine builds")
    }

    /// Spawns an `amzsync worker` or `amzsync scheduler` process.
    pub fn spawn(&self, role: Role) -> Proc {
        self.spawn_with(role, &[])
    }

    /// The same with more configuration (`AMZSYNC_…` variables).
    pub fn spawn_with(&self, role: Role, extra: &[(&str, &str)]) -> Proc {
        let n = self.spawned.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{n}", role.command());
        let log = self.dir.path().join(format!("{name}.log"));
        let out = File::create(&log).expect("creating a process log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_amzsync"));
        cmd.arg(role.command());
        // Nothing of the caller's environment configures the process.
        for (key, _) in std::env::vars() {
            if key.starts_with("AMZSYNC_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("sharing the log file"))
            .stderr(out);
        let child = cmd.spawn().expect("spawning the amzsync binary");
        Proc {
            child,
            role,
            name,
            log,
        }
    }

    /// Every task of the deployment.
    pub async fn tasks(&self) -> Vec<SyncTask> {
        let mut all = Vec::new();
        for page in 1.. {
            let found = self
                .db
                .sync_tasks()
                .list(Scope::All, &SyncTaskFilter::default(), page, 500)
                .await
                .expect("listing tasks");
            let last = found.items.len() < 500;
            all.extend(found.items);
            if last {
                return all;
            }
        }
        unreachable!("pages are counted until the last")
    }

    /// A configuration value the processes are given (`AMZSYNC_…`).
    pub fn setting(&self, key: &str) -> &str {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the processes are not given {key}"))
    }

    pub fn seller_of(&self, task: &SyncTask) -> &Connected {
        self.stores
            .iter()
            .find(|c| c.store.id == task.store_id)
            .expect("the task's store is one of ours")
    }

    /// `(seller, operation, violations)` of every call the simulator served
    /// beyond a usage plan.
    pub fn violations(&self) -> Vec<(String, &'static str, u64)> {
        let mut found = Vec::new();
        for c in &self.stores {
            for &op in Operation::all() {
                let v = self.sim.stats(&c.seller_id, op).violations;
                if v > 0 {
                    found.push((c.seller_id.clone(), op.name(), v));
                }
            }
        }
        found
    }

    /// Lines containing `needle` in the logs of every process spawned so far,
    /// killed ones included.
    pub fn log_lines_with(&self, needle: &str) -> Vec<String> {
        self.logs()
            .iter()
            .flat_map(|log| {
                std::fs::read_to_string(log)
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.contains(needle))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn logs(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return Vec::new();
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        logs.sort();
        logs
    }

    /// The last lines of every process's log, for a failure message.
    pub fn log_tails(&self) -> String {
        let mut text = String::new();
        for log in self.logs() {
            let lines: Vec<String> = File::open(&log)
                .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
                .unwrap_or_default();
            text.push_str(&format!("--- {} (last lines)\n", log.display()));
            for line in &lines[lines.len().saturating_sub(15)..] {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tails());
        }
    }
}

async fn queue_on(db: &Db) -> Queue {
    let pool = db.postgres_pool().expect("a PostgreSQL database").clone();
    Queue::connect(Backend::Postgres(pool), QUEUE)
        .await
        .expect("connecting to the database queue")
}

/// A running `amzsync` process. Dropping it SIGKILLs and reaps it, so no test
/// leaves a process behind, however it ends.
pub struct Proc {
    child: Child,
    pub role: Role,
    pub name: String,
    log: PathBuf,
}

impl Proc {
    /// SIGKILL, then reap: the process gets no chance to clean up, as in a
    /// power cut or the OOM killer.
    pub fn kill(mut self) {
        self.kill_and_reap();
    }

    fn kill_and_reap(&mut self) {
        // An already exited child makes kill fail; wait reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the process (SIGSTOP) until [`Proc::resume`]: it keeps what
    /// it fetched and claimed but does nothing, like a stalled machine.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused process go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {signal} {} failed: {status}", self.name);
    }

    /// The exit status if the process has stopped on its own.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("checking a child process")
    }

    /// Where the process's stdout and stderr go.
    pub fn log_path(&self) -> PathBuf {
        self.log.clone()
    }

    /// Lines of the process's log containing `needle`.
    pub fn log_lines_with(&self, needle: &str) -> usize {
        lines_with(&self.log, needle)
    }

    /// Fails the test if the process has stopped, with its log.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exited() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("{} exited with {status}:\n{log}", self.name);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Configuration that makes every sync kind tick on `cron` (in UTC).
fn schedules(cron: &str) -> Vec<(String, String)> {
    let mut env = vec![("AMZSYNC_SYNC__TIME_ZONE".to_owned(), "UTC".to_owned())];
    for kind in ["INVENTORY", "BUSINESS", "ADVERTISING"] {
        env.push((format!("AMZSYNC_SYNC__{kind}_CRON"), cron.to_owned()));
    }
    env
}

/// Configuration for a process whose test triggers every task itself: its
/// schedules neither tick during the test nor have a tick to catch up on
/// start, which could otherwise land on a store the test adds just after.
/// They tick on a day of the month ten days from today's.
pub fn no_schedules() -> Vec<(String, String)> {
    let today = Utc::now().day();
    let day = if today <= 14 { today + 10 } else { today - 10 };
    schedules(&format!("0 12 {day} * *"))
}

/// Lines of the log at `path` containing `needle` (none while it is missing).
pub fn lines_with(path: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// Polls `check` until it yields a value, failing the test after `deadline`;
/// `procs` must keep running meanwhile (a process that died on its own is the
/// failure to report, not a timeout).
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, procs: &mut [Proc], check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        for p in procs.iter_mut() {
            p.assert_running();
        }
        assert!(Instant::now() < until, "{what}: not within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
