//! Many stores synced by worker processes (issues 5 and 8).
//!
//! - **fleet**: `BENCH_STORES` stores (100) of `BENCH_SKUS` SKUs (1,000),
//!   each with a first inventory, business and advertising sync of
//!   `BENCH_DAYS` days (3) queued at once on PostgreSQL, worked off by one
//!   worker process and then by two, each on a fresh database and simulator.
//!   A quarter of the stores with one worker is run first, so the peak memory
//!   of a worker can be compared at two fleet sizes (it should be flat: a
//!   worker holds a few tasks at once, never the fleet). Each worker process
//!   runs `BENCH_CONCURRENCY` (4, the product's `worker_concurrency` default)
//!   deliveries at once; `BENCH_SPEED` (60) is the simulator's speed.
//! - **soak**: `SOAK_STORES` stores (1,000) of `SOAK_SKUS` SKUs (5), a
//!   scheduler and `SOAK_WORKERS` worker processes (2) running the product's
//!   daily schedules on a simulated clock `SOAK_SPEED` times real time (1,440:
//!   a day a minute) for `SOAK_SECONDS` (600). Every `SOAK_SAMPLE_SECONDS` (5)
//!   it samples each process's resident memory and open file descriptors and
//!   the database's PostgreSQL connections, then says whether they are flat
//!   or growing. `scripts/soak.sh` runs it.
//!
//! A worker is this bench binary executed again with `BENCH_ROLE=worker` (or
//! `scheduler`): the engine and the queue's workers as `amzsync worker` wires
//! them (the bench cannot run the `app` binary, which depends on this crate),
//! so each worker's peak RSS is its own (`VmHWM`). The simulator serves from a
//! thread of this process with a live clock at `BENCH_SPEED` (60 for the
//! fleet): usage plans refill, tokens expire and reports take their minutes
//! (Sales & Traffic 2, Ads 5) in simulated time, compressed. Each process's
//! Amazon clock is the same simulated time, computed from an instant the
//! simulator and the wall clock agreed on (as the demo does in-process). In
//! the fleet the database's clock stays the wall clock, as in production;
//! the soak's processes put it on the simulated clock too, so the scheduler's
//! cron ticks come days at a time.
//!
//! What bounds the 2-worker ratio here: the machine has two cores, shared by
//! PostgreSQL (every row, the queue's polling and locking), the simulator
//! (generating and serialising every report) and the workers, and one
//! worker's four deliveries at once keep them about three quarters busy (the
//! rest is the run's first seconds, when every report is still being made).
//! A second worker process finds little CPU left, so on this machine the
//! ratio measures the cores; where PostgreSQL and Amazon are elsewhere each
//! worker brings its own. The bench prints each process's CPU, so what the
//! fleet costs, and whether two workers cost more than one for the same
//! work, can be read off either way. Each run prints, per kind, the median
//! and longest task time: mostly Amazon's report delay, which no number of
//! workers shortens.

use std::io::Read as _;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use amzsync_amazon::{Endpoints, LwaApp};
use amzsync_amazon_sim::{ClockMode, Config as SimConfig, Seller, Simulator};
use amzsync_db::{Cipher, Db, NewStore, Scope};
use amzsync_domain::{Marketplace, Region, SimulatedClock, SyncKind, Trigger};
use amzsync_jobs::{Backend, CancellationToken, Queue, WorkerOptions};
use amzsync_sync::{AmazonSettings, AmazonTime, Engine, QUEUE, SyncSettings};
use amzsync_test_support::proc_stats::{cpu_secs, machine_cpu_secs, open_fds_of, peak_rss_kb_of, rss_kb_of};
use amzsync_test_support::{TestDb, new_user};
use chrono::DateTime;
use secrecy::ExposeSecret as _;

use super::{ADS_REPORT, BoxError, SP_REPORT, SimThread, env_number};

const US: &str = "ATVPDKIKX0DER";
/// The variable that makes this binary a child process of a role.
const ROLE: &str = "BENCH_ROLE";
/// Connections of each child's pool (the app's default worker settings
/// leave them to `database.max_connections`; the procs tests use 6).
const CHILD_CONNECTIONS: u32 = 6;

fn env_f64(name: &str, default: f64) -> Result<f64, BoxError> {
    match std::env::var(name) {
        Ok(v) => match v.parse::<f64>() {
            Ok(n) if n > 0.0 => Ok(n),
            _ => Err(format!("{name}={v:?} is not a positive number").into()),
        },
        Err(_) => Ok(default),
    }
}

fn env_string(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("{name} is not set (the parent bench sets it)").into())
}

fn millis_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The simulator's live clock as another process computes it: the simulated
/// instant at one wall-clock instant, and the speed since (what `[clock]`
/// gives an `amzsync` process).
#[derive(Debug, Clone, Copy)]
struct LiveClock {
    sim_ms: i64,
    wall_ms: i64,
    speed: f64,
}

impl LiveClock {
    fn of(sim: &Simulator, speed: f64) -> Self {
        LiveClock {
            wall_ms: millis_now(),
            sim_ms: sim.now().timestamp_millis(),
            speed,
        }
    }

    fn encode(self) -> String {
        format!("{},{},{}", self.sim_ms, self.wall_ms, self.speed)
    }

    fn decode(text: &str) -> Result<Self, BoxError> {
        let bad = || format!("BENCH_CLOCK={text:?} is not sim_ms,wall_ms,speed");
        let mut parts = text.split(',');
        let mut next = || parts.next().ok_or_else(bad);
        Ok(LiveClock {
            sim_ms: next()?.parse().map_err(|_| bad())?,
            wall_ms: next()?.parse().map_err(|_| bad())?,
            speed: next()?.parse().map_err(|_| bad())?,
        })
    }

    /// The product's clock for these values.
    fn clock(self) -> Result<SimulatedClock, BoxError> {
        let at =
            |ms: i64| DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("{ms} ms is not a time"));
        Ok(SimulatedClock::new(
            at(self.sim_ms)?,
            at(self.wall_ms)?,
            self.speed,
        )?)
    }
}

/// How the processes of a run sync: windows of `days`, polls and retries
/// after a second or two (simulated when the database follows the simulated
/// clock: the queue then waits them at its speed), the lease and the
/// reconciler's grace in real time (the engine stretches them to a simulated
/// clock).
fn settings(days: u32) -> SyncSettings {
    let mut settings = SyncSettings {
        first_run_backfill_days: days,
        business_lookback_days: days,
        ads_lookback_days: days,
        poll_delay: Duration::from_secs(1),
        retry_delay: Duration::from_secs(2),
        lease: Duration::from_secs(60),
        reconcile_grace: Duration::from_secs(600),
        ..SyncSettings::default()
    };
    // A pass a second: at a day a minute, a 30 s interval would be half a day.
    settings.schedule.check_interval = Duration::from_secs(1);
    settings
}

/// The simulator of a run: a live clock at `speed`, today's date, Amazon's
/// typical report delays, final figures at once.
fn sim_config(speed: f64) -> SimConfig {
    SimConfig {
        clock: ClockMode::Live { speed },
        start: None,
        report_timing: Some(SP_REPORT),
        ads_report_timing: Some(ADS_REPORT),
        restatement_days: 0,
        ads_restatement: false,
        ..SimConfig::default()
    }
}

/// A database, simulator and stores for child processes to work on.
struct Deployment {
    sim: SimThread,
    db: Db,
    engine: Engine,
    env: Vec<(&'static str, String)>,
    /// Last: dropped once the processes are gone.
    _test_db: TestDb,
}

impl Deployment {
    async fn start(
        stores: u32,
        skus: u32,
        days: u32,
        speed: f64,
        simulated_db: bool,
    ) -> Result<Self, BoxError> {
        let sim = SimThread::start(sim_config(speed))?;
        let test_db = TestDb::postgres().await;
        let key = Cipher::generate_key();
        let db = test_db.reopen_with(Cipher::new(&key)).await;
        let clock = LiveClock::of(&sim.sim, speed);
        let db = if simulated_db {
            db.with_clock(Arc::new(clock.clock()?))
        } else {
            db
        };
        let pool = db
            .postgres_pool()
            .ok_or("TestDb::postgres is PostgreSQL")?
            .clone();
        let queue = Queue::connect(Backend::Postgres(pool), QUEUE).await?;
        queue.setup().await?;
        // Triggers only, as the API would; it never runs a job.
        let engine = Engine::new(db.clone(), queue, AmazonSettings::default(), settings(days))?;
        let user = new_user(&db, "fleet").await;
        let us = Marketplace::by_id(US).ok_or("the US marketplace is known")?;
        for n in 1..=stores {
            let seller_id = format!("AFLEETSELLER{n:05}");
            let credentials = sim
                .sim
                .add_seller(Seller::new(&seller_id).marketplace(US, skus))?;
            db.stores()
                .create(NewStore {
                    user_id: user.id,
                    store_name: format!("Fleet store {n}"),
                    region: Region::Na,
                    marketplaces: vec![us],
                    seller_id,
                    sp_api_refresh_token: credentials.refresh_token.into(),
                    advertising_api_refresh_token: Some(credentials.ads_refresh_token.into()),
                    sp_api_client_id: None,
                    sp_api_client_secret: None,
                    business_lookback_days: None,
                    ads_lookback_days: None,
                })
                .await?;
        }
        let hex: String = key.expose_secret().iter().map(|b| format!("{b:02x}")).collect();
        let config = sim.sim.config();
        let env = vec![
            ("BENCH_DATABASE_URL", test_db.url()),
            ("BENCH_KEY", hex),
            ("BENCH_SIM_URL", sim.sim.base_url().to_string()),
            ("BENCH_LWA_ID", config.client_id.clone()),
            ("BENCH_LWA_SECRET", config.client_secret.clone()),
            ("BENCH_CLOCK", clock.encode()),
            ("BENCH_DAYS", days.to_string()),
            ("BENCH_SIMULATED_DB", simulated_db.to_string()),
        ];
        Ok(Deployment {
            sim,
            db,
            engine,
            env,
            _test_db: test_db,
        })
    }

    fn spawn(&self, role: &str) -> Result<ChildProc, BoxError> {
        let child = Command::new(std::env::current_exe()?)
            .env(ROLE, role)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            // Closed by this process's exit, whatever ends it: the child
            // stops then instead of outliving the bench.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(ChildProc {
            pid: child.id(),
            child,
            role: role.to_owned(),
        })
    }

    fn pool(&self) -> &sqlx::PgPool {
        self.db.postgres_pool().expect("the deployment is on PostgreSQL")
    }

    /// `(active, failed, succeeded, rows)` of every task so far.
    async fn tally(&self) -> Result<(i64, i64, i64, i64), BoxError> {
        let row: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'running')), \
                    count(*) FILTER (WHERE status = 'failed'), \
                    count(*) FILTER (WHERE status = 'success'), \
                    COALESCE(sum(records_synced) FILTER (WHERE status = 'success'), 0)::BIGINT \
             FROM sync_tasks",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row)
    }

    /// Per kind: the median and longest time from a task's first claim to its
    /// end, in seconds. A task's time is mostly Amazon's report delay and the
    /// queue's hops, not work; the longest bounds the run's tail.
    async fn task_times(&self) -> Result<Vec<(String, f64, f64)>, BoxError> {
        let rows: Vec<(String, f64, f64)> = sqlx::query_as(
            "SELECT sync_type, \
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM end_time - start_time))::FLOAT8, \
                    max(extract(epoch FROM end_time - start_time))::FLOAT8 \
             FROM sync_tasks WHERE status = 'success' GROUP BY sync_type ORDER BY sync_type",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// Connections to this deployment's database, ours included.
    async fn connections(&self) -> Result<i64, BoxError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }

    /// CPU seconds of each PostgreSQL backend serving this database now.
    async fn backends_cpu(&self) -> Result<Vec<(i32, f64)>, BoxError> {
        let pids: Vec<(i32,)> =
            sqlx::query_as("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                .fetch_all(self.pool())
                .await?;
        Ok(pids
            .into_iter()
            .filter_map(|(pid,)| Some((pid, cpu_secs(Some(u32::try_from(pid).ok()?))?)))
            .collect())
    }

    /// The first error of a failed task, to show why.
    async fn a_failure(&self) -> Result<Option<String>, BoxError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT sync_type, error_message FROM sync_tasks WHERE status = 'failed' LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(kind, message)| format!("{kind}: {}", message.unwrap_or_default())))
    }
}

/// A child process of the bench; dropping it SIGKILLs and reaps it.
struct ChildProc {
    child: Child,
    pid: u32,
    role: String,
}

impl ChildProc {
    fn check_running(&mut self) -> Result<(), BoxError> {
        match self.child.try_wait()? {
            Some(status) => Err(format!("the {} process exited early with {status}", self.role).into()),
            None => Ok(()),
        }
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        // Already exited: kill fails and wait reaps it all the same.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child side: `BENCH_ROLE=worker` or `scheduler`. Runs until its stdin
/// closes.
pub fn child_main(role: &str) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(child(role)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: bench {role} process: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn child(role: &str) -> Result<(), BoxError> {
    let hex = env_string("BENCH_KEY")?;
    let key = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("-"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|e| format!("BENCH_KEY is not hex: {e}"))?;
    let clock = Arc::new(LiveClock::decode(&env_string("BENCH_CLOCK")?)?.clock()?);
    let simulated_db = env_string("BENCH_SIMULATED_DB")? == "true";
    let days = env_number("BENCH_DAYS", 3)?;
    let db = Db::connect_postgres(
        &env_string("BENCH_DATABASE_URL")?,
        CHILD_CONNECTIONS,
        Cipher::from_slice(&key)?,
    )
    .await?;
    let db = if simulated_db {
        db.with_clock(clock.clone())
    } else {
        db
    };
    let pool = db.postgres_pool().ok_or("the database is PostgreSQL")?.clone();
    let queue = Queue::connect(Backend::Postgres(pool), QUEUE).await?;
    let base: url::Url = env_string("BENCH_SIM_URL")?.parse()?;
    let endpoints = Endpoints {
        lwa_token: base.join("auth/o2/token")?,
        sp_api: base.clone(),
        ads_api: base,
    };
    let amazon = AmazonSettings {
        lwa_app: Some(LwaApp {
            client_id: env_string("BENCH_LWA_ID")?,
            client_secret: env_string("BENCH_LWA_SECRET")?.into(),
        }),
        endpoints: [(Region::Na, endpoints)].into_iter().collect(),
        ..AmazonSettings::default()
    };
    let engine = Engine::builder(db, queue, amazon, settings(days))
        .amazon_clock(Arc::new(AmazonTime(clock)))
        .build()?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        stop.cancel();
    });
    match role {
        "worker" => {
            let options = WorkerOptions {
                concurrency: env_number("BENCH_CONCURRENCY", 4)? as usize,
                // The product polls every second; a quarter keeps the queue's
                // idle wait out of the figures without flooding PostgreSQL.
                poll_interval: Duration::from_millis(250),
                ..WorkerOptions::default()
            };
            engine.run_workers(options, shutdown).await?;
        }
        "scheduler" => engine.run_scheduler(shutdown).await?,
        other => return Err(format!("{ROLE}={other:?}: expected worker or scheduler").into()),
    }
    Ok(())
}

/// What one fleet run measured.
struct Run {
    stores: u32,
    workers: u32,
    wall: f64,
    rows: i64,
    failed: i64,
    succeeded: i64,
    /// Peak RSS of each worker process, KiB.
    peaks: Vec<Option<u64>>,
    /// CPU seconds of each worker process.
    cpu: Vec<Option<f64>>,
    sim_cpu: f64,
    /// CPU seconds of the database's PostgreSQL backends.
    pg_cpu: f64,
    /// Share of the machine's cores busy (with anything, other work on the
    /// machine included).
    busy: Option<f64>,
    /// Per kind: median and longest first claim to end, seconds.
    task_times: Vec<(String, f64, f64)>,
}

impl Run {
    fn stores_per_minute(&self) -> f64 {
        f64::from(self.stores) * 60.0 / self.wall
    }

    fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.wall
    }

    fn print(&self) {
        let mib = |kb: &Option<u64>| kb.map_or("n/a".to_owned(), |kb| format!("{:.0}", kb as f64 / 1024.0));
        let secs = |s: &Option<f64>| s.map_or("n/a".to_owned(), |s| format!("{s:.1}"));
        println!(
            "{:>7} {:>7} {:>8.1} {:>10.1} {:>9.0} {:>9} {:>6}   {:<14} {:<14} {:>6.1} {:>6.1} {:>6}",
            self.workers,
            self.stores,
            self.wall,
            self.stores_per_minute(),
            self.rows_per_second(),
            self.rows,
            self.failed,
            self.peaks.iter().map(mib).collect::<Vec<_>>().join(" / "),
            self.cpu.iter().map(secs).collect::<Vec<_>>().join(" / "),
            self.sim_cpu,
            self.pg_cpu,
            self.busy
                .map_or("n/a".to_owned(), |b| format!("{:.0}%", 100.0 * b)),
        );
        let times: Vec<String> = self
            .task_times
            .iter()
            .map(|(kind, median, max)| format!("{kind} {median:.1} / {max:.1}"))
            .collect();
        println!("{:>16} task time s, median / longest: {}", "", times.join(", "));
    }
}

pub async fn fleet() -> Result<(), BoxError> {
    let stores = env_number("BENCH_STORES", 100)?.max(1);
    let skus = env_number("BENCH_SKUS", 1_000)?;
    let days = env_number("BENCH_DAYS", 3)?.max(1);
    let speed = env_f64("BENCH_SPEED", 60.0)?;
    let small = (stores / 4).max(1);
    println!(
        "== fleet: {stores} stores x {skus} SKUs, inventory + {days} days of business and advertising, \
         PostgreSQL queue, simulator at {speed}x =="
    );
    println!(
        "{:>7} {:>7} {:>8} {:>10} {:>9} {:>9} {:>6}   {:<14} {:<14} {:>6} {:>6} {:>6}",
        "workers",
        "stores",
        "wall s",
        "stores/min",
        "rows/s",
        "rows",
        "failed",
        "peak RSS MiB",
        "worker CPU s",
        "sim s",
        "PG s",
        "busy"
    );
    let mut runs = Vec::new();
    // The quarter-size run only when it is smaller (not for 1–4 stores).
    let small_run = (small < stores).then_some((small, 1));
    for (n, workers) in small_run.into_iter().chain([(stores, 1), (stores, 2)]) {
        let run = fleet_run(n, skus, days, speed, workers).await?;
        run.print();
        runs.push(run);
    }
    let one = runs.iter().rfind(|r| r.workers == 1).ok_or("a one-worker run")?;
    let two = runs.iter().find(|r| r.workers == 2).ok_or("a two-worker run")?;
    let ratio = two.stores_per_minute() / one.stores_per_minute();
    println!(
        "2 workers / 1 worker    {ratio:>5.2}x stores/min   target >= 1.6x: {}",
        if ratio >= 1.6 { "met" } else { "MISSED" }
    );
    if let Some(busy) = one.busy.filter(|b| *b > 0.0) {
        // Two workers can at best fill what one left idle (same CPU per store).
        println!(
            "machine ceiling         {:>5.2}x: one worker kept the cores {:.0}% busy",
            1.0 / busy,
            100.0 * busy
        );
    }
    if let (Some(first), Some(Some(small_peak)), Some(Some(full_peak))) = (
        runs.first().filter(|r| r.stores < stores),
        runs.first().and_then(|r| r.peaks.first().copied()),
        runs.get(1).and_then(|r| r.peaks.first().copied()),
    ) {
        let growth = full_peak as f64 / small_peak as f64;
        println!(
            "worker peak RSS         {:.0} MiB at {} stores, {:.0} MiB at {stores}: {growth:.2}x for {:.0}x the stores ({})",
            small_peak as f64 / 1024.0,
            first.stores,
            full_peak as f64 / 1024.0,
            f64::from(stores) / f64::from(first.stores),
            if growth <= 1.25 { "flat" } else { "GROWS" }
        );
    }
    for r in &runs {
        if r.succeeded != 3 * i64::from(r.stores) {
            println!(
                "note: {} stores x {} worker(s): {} tasks succeeded of {}",
                r.stores,
                r.workers,
                r.succeeded,
                3 * r.stores
            );
        }
    }
    Ok(())
}

async fn fleet_run(stores: u32, skus: u32, days: u32, speed: f64, workers: u32) -> Result<Run, BoxError> {
    let deadline = Duration::from_secs(u64::from(env_number("BENCH_DEADLINE_SECONDS", 1800)?));
    let dep = Deployment::start(stores, skus, days, speed, false).await?;
    for store in dep.db.stores().list(Scope::All).await? {
        for kind in [SyncKind::Inventory, SyncKind::Business, SyncKind::Advertising] {
            dep.engine
                .trigger(Scope::All, store.id, kind, None, Trigger::Scheduled)
                .await?;
        }
    }
    let sim_cpu = dep.sim.cpu_secs();
    let pg_before = dep.backends_cpu().await?;
    let machine = machine_cpu_secs();
    let started = Instant::now();
    let mut procs = (0..workers)
        .map(|_| dep.spawn("worker"))
        .collect::<Result<Vec<_>, _>>()?;
    let (failed, succeeded, rows) = loop {
        let (active, failed, succeeded, rows) = dep.tally().await?;
        if active == 0 {
            break (failed, succeeded, rows);
        }
        for p in &mut procs {
            p.check_running()?;
        }
        if started.elapsed() > deadline {
            return Err(format!(
                "{stores} stores with {workers} worker(s): {active} tasks still active after {deadline:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let peaks = procs.iter().map(|p| peak_rss_kb_of(p.pid)).collect();
    let cpu = procs.iter().map(|p| cpu_secs(Some(p.pid))).collect();
    let sim_cpu = dep.sim.cpu_secs() - sim_cpu;
    let pg_cpu = dep
        .backends_cpu()
        .await?
        .iter()
        .map(|(pid, secs)| secs - pg_before.iter().find(|(p, _)| p == pid).map_or(0.0, |(_, s)| *s))
        .sum();
    let busy = match (machine, machine_cpu_secs()) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => Some((b1 - b0) / (t1 - t0)),
        _ => None,
    };
    if failed > 0 {
        eprintln!(
            "{failed} tasks failed, e.g. {}",
            dep.a_failure().await?.unwrap_or_default()
        );
    }
    drop(procs);
    let task_times = dep.task_times().await?;
    Ok(Run {
        stores,
        workers,
        wall,
        rows,
        failed,
        succeeded,
        peaks,
        cpu,
        sim_cpu,
        pg_cpu,
        busy,
        task_times,
    })
}

/// One sample of the soak.
struct Sample {
    at: f64,
    /// Resident memory (KiB) and open descriptors of each process.
    procs: Vec<(Option<u64>, Option<usize>)>,
    connections: i64,
}

pub async fn soak() -> Result<(), BoxError> {
    let stores = env_number("SOAK_STORES", 1_000)?.max(1);
    let skus = env_number("SOAK_SKUS", 5)?;
    let workers = env_number("SOAK_WORKERS", 2)?.max(1);
    let seconds = env_number("SOAK_SECONDS", 600)?;
    let every = env_number("SOAK_SAMPLE_SECONDS", 5)?.max(1);
    let speed = env_f64("SOAK_SPEED", 1_440.0)?;
    let days = env_number("SOAK_DAYS", 2)?.max(1);
    println!(
        "== soak: {stores} stores x {skus} SKUs, a scheduler and {workers} workers, daily schedules, \
         {:.1} simulated days in {seconds} s ({speed}x), a sample every {every} s ==",
        f64::from(seconds) * speed / 86_400.0
    );
    let dep = Deployment::start(stores, skus, days, speed, true).await?;
    let mut procs = vec![dep.spawn("scheduler")?];
    for _ in 0..workers {
        procs.push(dep.spawn("worker")?);
    }
    let names: Vec<String> = procs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                p.role.clone()
            } else {
                format!("{}-{i}", p.role)
            }
        })
        .collect();
    println!(
        "{:>6} {:>16} {:>8} {:>6} {:>6}  {} {:>5}",
        "t s",
        "simulated",
        "done",
        "active",
        "failed",
        names
            .iter()
            .map(|n| format!("{:>18}", format!("{n} MiB/fds")))
            .collect::<String>(),
        "pg"
    );
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut next = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(u64::from(seconds)) {
        if started.elapsed() >= next {
            for p in &mut procs {
                p.check_running()?;
            }
            let (active, failed, succeeded, _) = dep.tally().await?;
            let sample = Sample {
                at: started.elapsed().as_secs_f64(),
                procs: procs
                    .iter()
                    .map(|p| (rss_kb_of(p.pid), open_fds_of(p.pid)))
                    .collect(),
                connections: dep.connections().await?,
            };
            println!(
                "{:>6.0} {:>16} {:>8} {:>6} {:>6}  {} {:>5}",
                sample.at,
                dep.sim.sim.now().format("%m-%d %H:%M"),
                succeeded,
                active,
                failed,
                sample
                    .procs
                    .iter()
                    .map(|(rss, fds)| format!(
                        "{:>18}",
                        format!(
                            "{}/{}",
                            rss.map_or("n/a".into(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
                            fds.map_or("n/a".into(), |n| n.to_string())
                        )
                    ))
                    .collect::<String>(),
                sample.connections
            );
            samples.push(sample);
            next += Duration::from_secs(u64::from(every));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, failed, succeeded, rows) = dep.tally().await?;
    drop(procs);
    println!("tasks: {succeeded} succeeded ({rows} rows), {failed} failed");
    if failed > 0 {
        println!("  e.g. {}", dep.a_failure().await?.unwrap_or_default());
    }
    verdict(&names, &samples);
    Ok(())
}

/// Flat or growing, per series: the mean of the last third of the samples
/// against the first third's, after a warm-up (the first fifth: pools fill,
/// allocators reach their working set, the first day's catch-up runs).
fn verdict(names: &[String], samples: &[Sample]) {
    let settled = &samples[samples.len() / 5..];
    let third = settled.len() / 3;
    if third == 0 {
        println!("verdict: too few samples for a trend (run longer)");
        return;
    }
    let (first, last) = (&settled[..third], &settled[settled.len() - third..]);
    let mean = |part: &[Sample], f: &dyn Fn(&Sample) -> Option<f64>| {
        let values: Vec<f64> = part.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let mut growing = Vec::new();
    let mut judge = |what: String, unit: &str, slack: f64, f: &dyn Fn(&Sample) -> Option<f64>| {
        let (Some(a), Some(b)) = (mean(first, f), mean(last, f)) else {
            println!("{what:<24} n/a");
            return;
        };
        // Growth beyond 10% and beyond a small absolute slack (an allocator
        // arena, a pool's idle connection) is a trend; less is noise.
        let grows = b > a * 1.10 && b - a > slack;
        println!(
            "{what:<24} first third {a:>9.1} {unit}   last third {b:>9.1} {unit}   {}",
            if grows { "GROWING" } else { "flat" }
        );
        if grows {
            growing.push(what);
        }
    };
    for (i, name) in names.iter().enumerate() {
        judge(format!("{name} RSS"), "MiB", 4.0, &|s: &Sample| {
            s.procs[i].0.map(|kb| kb as f64 / 1024.0)
        });
        judge(format!("{name} open fds"), "   ", 4.0, &|s: &Sample| {
            s.procs[i].1.map(|n| n as f64)
        });
    }
    judge("PostgreSQL connections".into(), "   ", 2.0, &|s: &Sample| {
        Some(s.connections as f64)
    });
    if growing.is_empty() {
        println!("verdict: flat");
    } else {
        println!("verdict: GROWING ({})", growing.join(", "));
    }
}
