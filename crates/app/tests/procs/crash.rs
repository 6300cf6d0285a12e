//! Issue 5, crash: a worker process SIGKILLed in the middle of ingesting
//! loses nothing; another worker finishes the task once the lease expires,
//! from the checkpoint, without requesting a report again.

use std::time::Duration;

use amzsync_amazon_sim::{FaultRates, Faults, Operation};
use amzsync_db::Scope;
use amzsync_domain::{SyncKind, SyncWindow, TaskStatus, Trigger};
use amzsync_sync::plan;
use chrono::Days;

use crate::harness::{Deployment, Role, Setup, US, wait_until};
use crate::truth::check;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_ingest_loses_nothing_and_its_reports_are_not_requested_again() {
    let dep = Deployment::start(Setup {
        skus: 300,
        lease_seconds: 3,
        ..Setup::default()
    })
    .await;
    let seller = dep.stores[0].seller_id.clone();
    // Every download takes two seconds, so a kill lands while one is in
    // flight, with reports of the task already ingested and others not.
    dep.sim.set_faults(Faults::default().operation(
        Operation::DownloadReportDocument,
        FaultRates {
            slow: 1.0,
            latency: Duration::from_secs(2),
            ..FaultRates::default()
        },
    ));
    let engine = dep.engine().await;
    // Yesterday where the store's primary marketplace is, as the engine
    // reckons it: for hours after midnight UTC, the US is still a day behind.
    let yesterday = plan::today_in(US, dep.sim.now()) - Days::new(1);
    let window = SyncWindow::new(yesterday - Days::new(1), yesterday).expect("an ordered window");
    let task = engine
        .trigger(
            Scope::All,
            dep.stores[0].store.id,
            SyncKind::Business,
            Some(window),
            Trigger::Manual,
        )
        .await
        .expect("the trigger is accepted");
    let units = 4; // two days in two marketplaces
    // Each a pair of Sales & Traffic reports: by SKU and by child ASIN.
    let reports = 2 * units;

    let mut first = vec![dep.spawn(Role::Worker)];
    let mid_ingest = wait_until(
        "some reports ingested, not all",
        Duration::from_secs(60),
        &mut first,
        || async {
            let t = dep.db.sync_tasks().get(Scope::All, task.id).await.ok()?;
            (t.status == TaskStatus::Running && t.progress_done >= 1 && t.progress_done < units).then_some(t)
        },
    )
    .await;
    first.pop().expect("the first worker").kill();

    let killed = dep
        .db
        .sync_tasks()
        .get(Scope::All, task.id)
        .await
        .expect("the task");
    assert_eq!(
        killed.status,
        TaskStatus::Running,
        "the dead worker still holds it"
    );
    assert!(killed.progress_done < units, "{killed:?}");
    let created_before = dep.sim.stats(&seller, Operation::CreateReport).calls;
    assert_eq!(
        created_before, reports as u64,
        "every report was requested before the kill"
    );
    dep.sim.clear_faults();

    let mut second = vec![dep.spawn(Role::Worker)];
    let done = wait_until(
        "the second worker finishes the task",
        Duration::from_secs(90),
        &mut second,
        || async {
            let t = dep.db.sync_tasks().get(Scope::All, task.id).await.ok()?;
            (!t.status.is_active()).then_some(t)
        },
    )
    .await;

    assert_eq!(done.status, TaskStatus::Success, "{done:?}");
    assert_eq!((done.progress_done, done.progress_total), (units, units));
    assert_eq!(done.retry_count, 0, "a crash is not a failed attempt: {done:?}");
    assert_eq!(
        dep.sim.stats(&seller, Operation::CreateReport).calls,
        created_before,
        "the resumed units polled the checkpointed reports instead of requesting new ones"
    );
    let checked = check(&dep, &done).await;
    assert_eq!(checked.mismatches, 0, "stored rows equal the simulator's truth");
    // The child-ASIN rows (compared field by field in the sync crate's
    // tests) count too: each stored once under its key.
    let asin_rows = dep
        .db
        .snapshots()
        .asin_traffic_between(dep.stores[0].store.id, window.start(), window.end(), None)
        .await
        .expect("reading child-ASIN rows")
        .len();
    assert_eq!(
        i64::try_from(checked.rows + asin_rows).unwrap(),
        done.records_synced,
        "no row counted twice"
    );
    assert!(
        mid_ingest.progress_done >= 1,
        "the kill came after rows were committed: {mid_ingest:?}"
    );
    assert!(dep.violations().is_empty(), "{:?}", dep.violations());
}
