//! Issue 8, chaos: three workers and two schedulers on PostgreSQL and Redis,
//! the simulator throttling, failing, truncating downloads and leaving
//! reports stuck, while the driver SIGKILLs a random process and starts a new
//! one in its place after every few reports ingested. At the end every task
//! is settled, every successful one holds exactly Amazon's data, and no usage
//! plan was exceeded.
//!
//! The short form runs in CI; `scripts/chaos.sh` runs the long form:
//! `AMZSYNC_TEST_CHAOS_STORES` (default 6), `AMZSYNC_TEST_CHAOS_SECONDS`
//! (how long the kills go on at most, default 30), `AMZSYNC_TEST_CHAOS_SEED`.
//!
//! Time is real: the processes plan and pace by the wall clock, so this
//! covers one round of scheduled syncs (each scheduler's catch-up of the
//! day's ticks, repeated by every restarted scheduler), not days of them.

use std::collections::BTreeMap;
use std::time::Duration;

use amzsync_amazon_sim::{FaultRates, Faults, Operation};
use amzsync_domain::{SyncKind, TaskStatus};
use tokio::time::Instant;

use crate::harness::{Deployment, Proc, QueueOn, Role, Setup, wait_until};
use crate::truth::{Checked, check};

/// Reports ingested (anywhere) between two kills.
const KILL_EVERY_UNITS: i64 = 3;

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|e| panic!("{name} must be a whole number, got {v:?}: {e}")),
        Err(_) => default,
    }
}

fn chaos_faults() -> Faults {
    let everywhere = FaultRates {
        server_error: 0.03,
        throttle: 0.03,
        slow: 0.05,
        latency: Duration::from_millis(300),
        ..FaultRates::default()
    };
    Faults::everywhere(everywhere)
        .operation(
            Operation::CreateReport,
            FaultRates {
                report_stuck: 0.2,
                stuck_for: Duration::from_secs(4),
                ..everywhere
            },
        )
        .operation(
            Operation::DownloadReportDocument,
            FaultRates {
                truncated: 0.15,
                ..everywhere
            },
        )
}

/// A small seeded generator (xorshift), so a seed replays the same choice
/// of victims.
struct Victims(u64);

impl Victims {
    fn pick(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_kills_and_faults_lose_and_duplicate_nothing() {
    let stores = u32::try_from(setting("AMZSYNC_TEST_CHAOS_STORES", 6)).expect("a store count");
    let seconds = setting("AMZSYNC_TEST_CHAOS_SECONDS", 30);
    let seed = setting("AMZSYNC_TEST_CHAOS_SEED", 7);
    let dep = Deployment::start(Setup {
        stores,
        skus: 20,
        queue: QueueOn::Database,
        lease_seconds: 8,
        // Faults hit several calls per attempt; enough attempts that most
        // tasks get through, while a task that does not must fail cleanly.
        retries: 6,
        seed,
    })
    .await;
    dep.sim.set_faults(chaos_faults());
    let mut procs: Vec<Proc> = [
        Role::Worker,
        Role::Worker,
        Role::Worker,
        Role::Scheduler,
        Role::Scheduler,
    ]
    .into_iter()
    .map(|role| dep.spawn(role))
    .collect();
    let expected_tasks = 2 * stores as usize; // inventory and business per store
    let started = Instant::now();

    let mut victims = Victims(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut kills = BTreeMap::<&str, u32>::new();
    let mut progress_at_last_kill = 0;
    let kill_phase_ends = Instant::now() + Duration::from_secs(seconds);
    loop {
        let tasks = dep.tasks().await;
        let settled = tasks.len() >= expected_tasks && tasks.iter().all(|t| !t.status.is_active());
        if settled || Instant::now() >= kill_phase_ends {
            break;
        }
        let progress: i64 = tasks.iter().map(|t| i64::from(t.progress_done)).sum();
        if progress >= progress_at_last_kill + KILL_EVERY_UNITS {
            let i = victims.pick(procs.len());
            let role = procs[i].role;
            procs.swap_remove(i).kill();
            procs.push(dep.spawn(role));
            *kills.entry(role.command()).or_default() += 1;
            progress_at_last_kill = progress;
        }
        for p in &mut procs {
            p.assert_running();
        }
        // Polling the database is how the driver sees progress.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let tasks = wait_until(
        "every task settles",
        Duration::from_secs(90),
        &mut procs,
        || async {
            let tasks = dep.tasks().await;
            (tasks.len() >= expected_tasks && tasks.iter().all(|t| !t.status.is_active())).then_some(tasks)
        },
    )
    .await;
    drop(procs);
    let elapsed = started.elapsed();

    let mut per_store_kind: BTreeMap<(i64, SyncKind), usize> = BTreeMap::new();
    let mut checked = Checked::default();
    let (mut succeeded, mut failed, mut retries) = (0, 0, 0);
    for t in &tasks {
        *per_store_kind.entry((t.store_id.0, t.sync_type)).or_default() += 1;
        retries += t.retry_count;
        match t.status {
            TaskStatus::Success => {
                succeeded += 1;
                checked += check(&dep, t).await;
            }
            TaskStatus::Failed => {
                failed += 1;
                assert!(
                    t.error_class.is_some() && t.error_message.as_deref().is_some_and(|m| !m.is_empty()),
                    "a failed task says why: {t:?}"
                );
            }
            other => panic!("task {} ended {other}", t.id),
        }
    }
    let violations = dep.violations();
    let faults: u64 = dep
        .stores
        .iter()
        .flat_map(|c| {
            Operation::all()
                .iter()
                .map(|&op| dep.sim.stats(&c.seller_id, op).injected)
        })
        .sum();
    eprintln!(
        "chaos: {stores} stores, {} tasks ({succeeded} success, {failed} failed), kills {kills:?}, \
         retries {retries}, faults injected {faults}, rows checked {}, mismatches {}, \
         usage-plan violations {}, {:.0?}",
        tasks.len(),
        checked.rows,
        checked.mismatches,
        violations.len(),
        elapsed
    );
    assert_eq!(
        tasks.len(),
        expected_tasks,
        "one task per store and kind: {per_store_kind:?}"
    );
    assert!(
        per_store_kind.values().all(|&n| n == 1),
        "each tick enqueued once: {per_store_kind:?}"
    );
    assert_eq!(
        checked.mismatches, 0,
        "successful tasks hold Amazon's data exactly"
    );
    assert!(violations.is_empty(), "usage plans exceeded: {violations:?}");
    assert!(succeeded > 0, "something got through the chaos");
    assert!(kills.values().sum::<u32>() > 0, "the driver killed processes");
}
