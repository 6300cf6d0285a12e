//! Issue 5, scale-out: two worker and two scheduler processes on PostgreSQL
//! with the queue, usage plans and access tokens on Redis, over many stores.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use amzsync_amazon_sim::Operation;
use amzsync_domain::{SyncKind, Trigger};

use crate::harness::{Deployment, Proc, QueueOn, Role, Setup, lines_with, wait_until};
use crate::truth::{Checked, check};

const STORES: u32 = 20;
/// What a worker logs when it begins a task.
const STARTED: &str = "sync planned";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_and_two_schedulers_sync_every_store_once_within_amazons_limits() {
    let dep = Deployment::start(Setup {
        stores: STORES,
        skus: 5,
        queue: QueueOn::Redis,
        lease_seconds: 60,
        ..Setup::default()
    })
    .await;

    // Each worker must take part, whatever the timing: a worker that polls
    // just after the other could otherwise find every small task taken. The
    // first worker starts the work alone, is frozen once it has begun a
    // task, and the second then starts the rest while the first holds what
    // it claimed; from then on both run.
    let mut procs = vec![dep.spawn(Role::Worker)];
    // Both schedulers catch up the latest daily tick of each kind on start,
    // for every store: the same ticks twice, which must be enqueued once.
    procs.push(dep.spawn(Role::Scheduler));
    procs.push(dep.spawn(Role::Scheduler));
    let first_log = procs[0].log_path();
    until_started("the first worker starts a task", &first_log, &mut procs).await;
    procs[0].pause();
    let second = dep.spawn(Role::Worker);
    let second_log = second.log_path();
    procs.push(second);
    until_started("the second worker starts a task", &second_log, &mut procs).await;
    procs[0].resume();
    let expected = 2 * STORES as usize; // inventory and business; no Ads authorization
    let tasks = wait_until(
        "every store's scheduled syncs finish",
        Duration::from_secs(150),
        &mut procs,
        || async {
            let tasks = dep.tasks().await;
            (tasks.len() >= expected && tasks.iter().all(|t| !t.status.is_active())).then_some(tasks)
        },
    )
    .await;
    let started_by: Vec<usize> = procs
        .iter()
        .filter(|p| p.role == Role::Worker)
        .map(|p| p.log_lines_with(STARTED))
        .collect();
    drop(procs);
    assert!(
        started_by.iter().all(|&n| n > 0),
        "both workers started tasks: {started_by:?}"
    );

    let mut per_store_kind: BTreeMap<(i64, SyncKind), usize> = BTreeMap::new();
    for t in &tasks {
        assert_eq!(t.trigger, Trigger::Scheduled, "{t:?}");
        assert_eq!(t.status, amzsync_domain::TaskStatus::Success, "{t:?}");
        *per_store_kind.entry((t.store_id.0, t.sync_type)).or_default() += 1;
    }
    assert_eq!(tasks.len(), expected, "one task per store and kind");
    assert!(
        per_store_kind.values().all(|&n| n == 1),
        "each tick enqueued once: {per_store_kind:?}"
    );

    let mut checked = Checked::default();
    for c in &dep.stores {
        let mine: Vec<_> = tasks.iter().filter(|t| t.store_id == c.store.id).collect();
        // A business unit is a pair of reports (by SKU and by child ASIN).
        let reports: i64 = mine
            .iter()
            .map(|t| i64::from(t.progress_total) * if t.sync_type == SyncKind::Business { 2 } else { 1 })
            .sum();
        let created = dep.sim.stats(&c.seller_id, Operation::CreateReport).calls;
        assert_eq!(
            created,
            u64::try_from(reports).unwrap(),
            "{}: one createReport per report planned, so no task ran twice at once",
            c.seller_id
        );
        assert_eq!(
            dep.sim.stats(&c.seller_id, Operation::Token).calls,
            1,
            "{}: one LWA refresh for all processes within the token's hour",
            c.seller_id
        );
        for t in mine {
            checked += check(&dep, t).await;
        }
    }
    assert_eq!(checked.mismatches, 0);
    assert!(
        dep.violations().is_empty(),
        "usage plans exceeded: {:?}",
        dep.violations()
    );
    eprintln!(
        "scale-out: {} stores, {} tasks (started per worker: {started_by:?}), {} rows checked, {} mismatches",
        STORES,
        tasks.len(),
        checked.rows,
        checked.mismatches
    );
}

/// Waits until the process logging to `log` has begun a task.
async fn until_started(what: &str, log: &Path, procs: &mut [Proc]) {
    wait_until(what, Duration::from_secs(60), procs, || async {
        (lines_with(log, STARTED) > 0).then_some(())
    })
    .await;
}
