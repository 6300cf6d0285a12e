//! Benchmarks of the sync engine against the simulator (issue 5), printed
//! figures rather than timed tests. `cargo bench -p amzsync-sync --bench sync`
//! runs `overhead` and `backfill`; `BENCH_ONLY=overhead,backfill` picks some.
//! The multi-process parts, `fleet` (issue 5) and `soak` (issue 8), run only
//! when named (`BENCH_ONLY=fleet`): they take minutes. See `sync/fleet.rs`.
//!
//! - **overhead**: a 1,000-SKU inventory sync (`BENCH_SKUS`) against a
//!   simulator with no report delays, on the embedded SQLite database. The
//!   simulator runs on a thread of its own, so the process's CPU time minus
//!   that thread's is our own work (engine, client, parser, database); the
//!   rest of the wall time is waiting for "Amazon" (the simulator's work and
//!   the loopback). Target: our own work under 1 s. Median of `BENCH_RUNS`.
//! - **backfill**: a store's first business sync (30 days of Sales & Traffic,
//!   two reports per day, by SKU and by child ASIN) and first advertising
//!   sync (30 days, five report types) with Amazon's real usage plans and
//!   typical report delays, on a simulated clock: every wait (a permit, a poll's delay) moves simulated
//!   time instead of the wall, so the figure is the schedule our engine
//!   produces, not how fast this machine is. Compared with the lower bound
//!   the usage plans and delays impose, computed here from the same plans.
//!   Target: within 10% of the bound, no more Amazon calls than needed.
//!
//! Deliveries are made directly (`Engine::handle`, as the tests' `drive`
//! does) rather than through queue workers, so the queue's polling interval
//! is not counted as ours or Amazon's.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use amzsync_amazon_sim::{Config as SimConfig, Operation, ReportTiming, Simulator};
use amzsync_domain::{SyncKind, TaskStatus};
use amzsync_sync::SyncSettings;
use amzsync_test_support::TestDb;
use amzsync_test_support::proc_stats::{current_thread_id, live_threads_cpu_secs, thread_cpu_secs};

#[path = "sync/fleet.rs"]
mod fleet;

#[allow(dead_code, reason = "the bench uses a part of the tests' harness")]
#[path = "../tests/sync/harness.rs"]
mod harness;

use harness::{QueueOn, SELLER, US, World, pinned};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Amazon's typical Sales & Traffic generation (PROTOCOL §3.9: "minutes for
/// sales & traffic"): half a minute queued, a minute and a half in progress.
const SP_REPORT: ReportTiming = ReportTiming::Duration {
    in_queue: Duration::from_secs(30),
    in_progress: Duration::from_secs(90),
};
/// Ads reports typically take ~1–10 minutes (PROTOCOL §5.9).
const ADS_REPORT: ReportTiming = ReportTiming::Duration {
    in_queue: Duration::from_secs(60),
    in_progress: Duration::from_secs(4 * 60),
};
/// Days of a first run's backfill (FR-2, FR-3).
const BACKFILL_DAYS: u32 = 30;

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The fleet's and soak's worker and scheduler processes are this binary.
    if let Ok(role) = std::env::var("BENCH_ROLE") {
        return fleet::child_main(&role);
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let named = |name: &str| only.split(',').any(|o| o.trim() == name);
    let wanted = |name: &str| only.is_empty() || named(name);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), BoxError> = runtime.block_on(async {
        if wanted("overhead") {
            overhead().await?;
        }
        if wanted("backfill") {
            backfill().await?;
        }
        if named("fleet") {
            fleet::fleet().await?;
        }
        if named("soak") {
            fleet::soak().await?;
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_number(name: &str, default: u32) -> Result<u32, BoxError> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|e| format!("{name}={v:?} is not a positive number: {e}").into()),
        Err(_) => Ok(default),
    }
}

/// A simulator serving from a thread of its own (a current-thread runtime),
/// so its CPU time can be told apart from ours.
struct SimThread {
    sim: Arc<Simulator>,
    tid: u32,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimThread {
    fn start(config: SimConfig) -> Result<Self, BoxError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("simulator".into())
            .spawn(move || {
                let started = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .and_then(|rt| {
                        let sim = rt
                            .block_on(Simulator::start_local(config))
                            .map_err(|e| e.to_string())?;
                        Ok((rt, Arc::new(sim)))
                    });
                match started {
                    Ok((rt, sim)) => {
                        let _ = ready_tx.send(Ok((Arc::clone(&sim), current_thread_id())));
                        // Serves until told to stop; the server task runs here.
                        rt.block_on(async {
                            let _ = stopped.await;
                        });
                        drop(sim);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })?;
        let (sim, tid) = ready_rx.recv()??;
        Ok(Self {
            sim,
            tid: tid.ok_or("/proc/thread-self is not readable: the split needs Linux")?,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn cpu_secs(&self) -> f64 {
        thread_cpu_secs(self.tid).unwrap_or(0.0)
    }
}

impl Drop for SimThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn overhead() -> Result<(), BoxError> {
    let skus = env_number("BENCH_SKUS", 1_000)?;
    let runs = env_number("BENCH_RUNS", 5)?.max(1);
    println!("== overhead: {skus}-SKU inventory sync, no report delays, SQLite, median of {runs} ==");
    let sim = SimThread::start(pinned(SimConfig {
        report_polls: 0,
        nrt_cooldown: None,
        ..SimConfig::default()
    }))?;
    let world = World::on(
        TestDb::sqlite().await,
        QueueOn::Database,
        Arc::clone(&sim.sim),
        &[(US, skus)],
        SyncSettings::default(),
    )
    .await;
    let mut samples = Vec::new();
    for run in 0..=runs {
        // A report of the same window is reused for half an hour (FR-7
        // resume); each run must fetch a fresh one.
        world.clock.advance(Duration::from_secs(31 * 60));
        let task = world.trigger(SyncKind::Inventory, None).await;
        let (cpu0, sim0, wall) = (
            live_threads_cpu_secs().unwrap_or(0.0),
            sim.cpu_secs(),
            Instant::now(),
        );
        let (task, _) = world.drive(task.id).await;
        let wall = wall.elapsed().as_secs_f64();
        let (ours, amazon) = (
            live_threads_cpu_secs().unwrap_or(0.0) - cpu0,
            sim.cpu_secs() - sim0,
        );
        if task.status != TaskStatus::Success || task.records_synced != i64::from(skus) {
            return Err(format!(
                "run {run}: {} with {} rows (expected {skus}): {:?}",
                task.status, task.records_synced, task.error_message
            )
            .into());
        }
        // The first run also opens connections and warms caches.
        if run > 0 {
            samples.push((wall, ours - amazon, amazon));
        }
    }
    let median = |f: fn(&(f64, f64, f64)) -> f64| {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (wall, ours, amazon_cpu) = (median(|s| s.0), median(|s| s.1), median(|s| s.2));
    println!("wall                     {wall:>8.3} s");
    println!(
        "our own work (CPU)       {ours:>8.3} s   {:>5.1}% of wall   target < 1 s: {}",
        100.0 * ours / wall,
        if ours < 1.0 { "met" } else { "MISSED" }
    );
    println!(
        "waiting for Amazon       {:>8.3} s   (the simulator's CPU {amazon_cpu:.3} s, the rest loopback and idle)",
        (wall - ours).max(0.0)
    );
    println!(
        "rows                     {skus:>8}     {:.0} rows/s of our CPU",
        f64::from(skus) / ours.max(0.001)
    );
    Ok(())
}

async fn backfill() -> Result<(), BoxError> {
    println!("== backfill: first business and advertising syncs of {BACKFILL_DAYS} days, simulated clock ==");
    let world = World::on(
        TestDb::sqlite().await,
        QueueOn::Database,
        Arc::new(
            Simulator::start_local(pinned(SimConfig {
                report_timing: Some(SP_REPORT),
                ads_report_timing: Some(ADS_REPORT),
                ..SimConfig::default()
            }))
            .await?,
        ),
        &[(US, 200)],
        SyncSettings {
            first_run_backfill_days: BACKFILL_DAYS,
            ..SyncSettings::default()
        },
    )
    .await;
    let sim = &world.sim;

    // Two reports per day: Sales & Traffic by SKU and by child ASIN.
    let business_reports = 2 * BACKFILL_DAYS;
    let business_bound = sp_bound(business_reports, SP_REPORT)?;
    let (elapsed, task) = timed(&world, SyncKind::Business).await?;
    print_kind("business", elapsed, business_bound, task.records_synced);
    print_calls(
        sim,
        &[
            (Operation::CreateReport, u64::from(business_reports)),
            (Operation::GetReportDocument, u64::from(business_reports)),
            (Operation::DownloadReportDocument, u64::from(business_reports)),
            (Operation::GetReport, u64::from(business_reports)),
            (Operation::GetReports, 0),
        ],
    );

    let ads_reports = 5;
    let ads_bound = ads_bound(sim.config(), ADS_REPORT);
    let (elapsed, task) = timed(&world, SyncKind::Advertising).await?;
    print_kind("advertising", elapsed, ads_bound, task.records_synced);
    print_calls(
        sim,
        &[
            (Operation::ListProfiles, 1),
            (Operation::CreateAsyncReport, ads_reports),
            (Operation::DownloadAdsReport, ads_reports),
            (Operation::GetAsyncReport, ads_reports),
        ],
    );
    println!(
        "token                    {:>5} LWA refreshes",
        calls(sim, Operation::Token)
    );
    Ok(())
}

/// Runs a manual sync of `kind` with its default window to its end and
/// returns the simulated time it took.
async fn timed(world: &World, kind: SyncKind) -> Result<(Duration, amzsync_db::SyncTask), BoxError> {
    let start = world.sim.now();
    let task = world.trigger(kind, None).await;
    let (task, _) = world.drive(task.id).await;
    if task.status != TaskStatus::Success {
        return Err(format!("{kind} ended {}: {:?}", task.status, task.error_message).into());
    }
    Ok(((world.sim.now() - start).to_std()?, task))
}

fn print_kind(name: &str, elapsed: Duration, bound: Duration, rows: i64) {
    let ratio = elapsed.as_secs_f64() / bound.as_secs_f64();
    println!(
        "{name:<12} {:>8.0} s simulated   bound {:>6.0} s   {:>5.1}% of the bound   target <= 110%: {}   {rows} rows",
        elapsed.as_secs_f64(),
        bound.as_secs_f64(),
        100.0 * ratio,
        if ratio <= 1.10 { "met" } else { "MISSED" }
    );
}

fn calls(sim: &Simulator, op: Operation) -> u64 {
    sim.stats(SELLER, op).calls
}

fn print_calls(sim: &Simulator, expected: &[(Operation, u64)]) {
    for &(op, minimum) in expected {
        let stats = sim.stats(SELLER, op);
        println!(
            "  {:<24} {:>5} calls   minimum {minimum:>5}   throttled {:>3}   plan violations {}",
            op.name(),
            stats.calls,
            stats.throttled,
            stats.violations
        );
    }
}

/// Seconds a report of `timing` takes to be ready after its creation.
fn ready_after(timing: ReportTiming) -> Result<Duration, BoxError> {
    match timing {
        ReportTiming::Duration {
            in_queue,
            in_progress,
        } => Ok(in_queue + in_progress),
        other => Err(format!("the bound needs a report duration, not {other:?}").into()),
    }
}

/// When the `i`-th call (from 0) of an operation whose bucket starts full is
/// allowed at the earliest: the burst at once, then one per `1/rate` seconds.
fn permitted_at(i: u32, plan: amzsync_amazon_sim::UsagePlan) -> f64 {
    f64::from(i.saturating_sub(plan.burst - 1)) / plan.rate
}

/// The lower bound of `reports` SP-API reports requested,
/// generated and fetched under the default usage plans: report `i` cannot
/// be requested before `createReport`'s plan allows its `i`-th call, is ready
/// `timing` later, and its document cannot be fetched before both that and
/// `getReportDocument`'s plan allow. Polls (2/s) and downloads (no plan)
/// are taken as free.
fn sp_bound(reports: u32, timing: ReportTiming) -> Result<Duration, BoxError> {
    let create = Operation::CreateReport
        .usage_plan()
        .ok_or("createReport has a plan")?;
    let document = Operation::GetReportDocument
        .usage_plan()
        .ok_or("getReportDocument has a plan")?;
    let ready = ready_after(timing)?.as_secs_f64();
    let last = (0..reports)
        .map(|i| (permitted_at(i, create) + ready).max(permitted_at(i, document)))
        .fold(0.0, f64::max);
    Ok(Duration::from_secs_f64(last))
}

/// The lower bound of an advertising backfill: five report types of at most
/// 31 days each, requested at once (the Ads plan's burst covers them) and
/// ready `timing` later.
fn ads_bound(config: &SimConfig, timing: ReportTiming) -> Duration {
    let create = amzsync_amazon_sim::UsagePlan {
        rate: config.ads_rate,
        burst: config.ads_burst,
        header: "",
    };
    let ready = ready_after(timing).map_or(0.0, |d| d.as_secs_f64());
    Duration::from_secs_f64(
        (0..5)
            .map(|i| permitted_at(i, create) + ready)
            .fold(0.0, f64::max),
    )
}
