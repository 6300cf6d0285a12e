//! The same sync through real workers on each queue backend: SQLite and
//! PostgreSQL (task and job in one transaction) and Redis (job after commit).

use amzsync_amazon_sim::Config as SimConfig;
use amzsync_domain::SyncKind;
use amzsync_sync::SyncSettings;
use amzsync_test_support::TestDb;

use crate::harness::{CA, QueueOn, US, World, assert_success};
use crate::inventory::{expected_inventory, stored_inventory};

/// Reports ready at the first poll: a snooze through a real queue waits
/// real seconds, which the deterministic tests cover instead.
fn instant_reports() -> SimConfig {
    SimConfig {
        report_polls: 0,
        ..SimConfig::default()
    }
}

async fn inventory_through_workers(db: TestDb, queue_on: QueueOn) {
    let world = World::with(db, queue_on, instant_reports(), SyncSettings::default()).await;

    let task = world.trigger(SyncKind::Inventory, None).await;
    let task = world.run_workers_until(task.id, |t| !t.status.is_active()).await;

    assert_success(&task);
    assert_eq!(stored_inventory(&world, US).await, expected_inventory(&world, US));
    assert_eq!(stored_inventory(&world, CA).await, expected_inventory(&world, CA));
    let stats = world.queue.stats(chrono::Utc::now()).await.expect("stats");
    assert_eq!((stats.pending, stats.running), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_syncs_through_the_sqlite_queue() {
    inventory_through_workers(TestDb::sqlite().await, QueueOn::Database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_syncs_through_the_postgres_queue() {
    inventory_through_workers(TestDb::postgres().await, QueueOn::Database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_syncs_through_the_redis_queue() {
    inventory_through_workers(TestDb::postgres().await, QueueOn::Redis).await;
}
