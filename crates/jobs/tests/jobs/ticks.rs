//! Scheduler processes enqueueing cron ticks.

use amzsync_jobs::{Job, Queue, Schedule};
use ulid::Ulid;

use crate::{
    on_each_backend,
    support::{Engine, QUEUE, World},
};

on_each_backend!(two_schedulers_enqueueing_the_same_ticks_produce_one_job_per_tick);

async fn two_schedulers_enqueueing_the_same_ticks_produce_one_job_per_tick(engine: Engine) {
    let world = World::new(engine).await;
    let a = world.queue().await;
    // A second process: its own connection to the same backend.
    let b = Queue::connect(world.backend(), QUEUE).await.expect("connect");
    b.setup().await.expect("a second setup is harmless");
    let schedule = Schedule::new("0 2 * * *", "Europe/Berlin").expect("schedule");
    let last_run = chrono::DateTime::parse_from_rfc3339("2026-03-27T12:00:00Z")
        .expect("instant")
        .to_utc();
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-30T12:00:00Z")
        .expect("instant")
        .to_utc();
    let ticks = schedule.due_ticks(last_run, now);

    let mut added = 0;
    for tick in &ticks {
        // Each scheduler builds its own job (its own sync task id) for the tick.
        let (ja, jb) = (
            Job::new("sync_inventory", Ulid::generate()),
            Job::new("sync_inventory", Ulid::generate()),
        );
        let (ra, rb) = tokio::join!(
            a.enqueue_tick(&ja, "store-1", tick),
            b.enqueue_tick(&jb, "store-1", tick)
        );
        added += usize::from(ra.expect("enqueue tick").is_added())
            + usize::from(rb.expect("enqueue tick").is_added());
    }
    let other_store = a
        .enqueue_tick(
            &Job::new("sync_inventory", Ulid::generate()),
            "store-2",
            &ticks[0],
        )
        .await
        .expect("enqueue tick");
    let stats = a.stats(chrono::Utc::now()).await.expect("stats");

    assert_eq!(ticks.len(), 3);
    assert_eq!(added, ticks.len(), "one job per tick");
    assert!(other_store.is_added(), "the scope is part of the key");
    assert_eq!(stats.pending + stats.scheduled, 4, "{stats:?}");
}
