//! Queue depth and retention.

use std::time::Duration;

use amzsync_jobs::{Job, Options, Outcome};
use chrono::{TimeDelta, Utc};
use ulid::Ulid;

use crate::{
    on_each_backend,
    support::{Engine, Worker, World, fast_options, idle, next, recording, stats_until},
};

on_each_backend!(
    stats_count_due_and_scheduled_jobs_and_the_oldest_wait,
    a_queue_on_a_fast_clock_waits_its_share_of_real_time,
    vacuum_deletes_only_finished_jobs_older_than_the_cutoff
);

async fn stats_count_due_and_scheduled_jobs_and_the_oldest_wait(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let empty = queue.stats(Utc::now()).await.expect("stats");
    queue
        .enqueue(&Job::new("a", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");
    queue
        .enqueue(
            &Job::new("b", Ulid::generate()),
            Options::default().run_after(Duration::from_secs(3600)),
        )
        .await
        .expect("enqueue");

    let later = queue
        .stats(Utc::now() + TimeDelta::seconds(60))
        .await
        .expect("stats");

    assert_eq!(empty, amzsync_jobs::Stats::default());
    assert_eq!(
        (later.pending, later.scheduled, later.running),
        (1, 1, 0),
        "{later:?}"
    );
    let age = later.oldest_pending_age.expect("an age for the due job");
    assert!(
        (Duration::from_secs(58)..=Duration::from_secs(62)).contains(&age),
        "{age:?}"
    );
}

async fn a_queue_on_a_fast_clock_waits_its_share_of_real_time(engine: Engine) {
    let world = World::new(engine).await;
    // A simulated clock at 3,600×: an hour of it is a second of real time.
    let queue = world.queue().await.clock_speed(3600.0);
    let enqueued = Utc::now();
    queue
        .enqueue(
            &Job::new("a", Ulid::generate()),
            Options::default().run_after(Duration::from_secs(3600)),
        )
        .await
        .expect("enqueue");
    // Due within two real seconds (run_at has second resolution), not an hour.
    let soon = queue
        .stats(enqueued + TimeDelta::seconds(3))
        .await
        .expect("stats");
    assert_eq!((soon.pending, soon.scheduled), (1, 0), "{soon:?}");
    let now = queue.stats(enqueued).await.expect("stats");
    assert_eq!((now.pending, now.scheduled), (0, 1), "{now:?}");
}

async fn vacuum_deletes_only_finished_jobs_older_than_the_cutoff(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    if engine == Engine::Redis {
        assert!(
            queue.vacuum(Duration::ZERO, Utc::now()).await.is_err(),
            "not offered on Redis"
        );
        return;
    }
    queue
        .enqueue(&Job::new("a", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");
    let (handler, mut rx) = recording(|_| Outcome::Done);
    let worker = Worker::start(&queue, fast_options(), handler);
    next(&mut rx).await;
    stats_until(&queue, idle).await;
    worker.stop().await;
    queue
        .enqueue(&Job::new("b", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");

    let week = Duration::from_secs(7 * 24 * 3600);
    let too_young = queue.vacuum(week, Utc::now()).await.expect("vacuum");
    let old_enough = queue
        .vacuum(week, Utc::now() + TimeDelta::days(8))
        .await
        .expect("vacuum");
    let stats = queue.stats(Utc::now()).await.expect("stats");

    assert_eq!(too_young, 0);
    assert_eq!(old_enough, 1, "the done job goes");
    assert_eq!(stats.pending, 1, "the pending job stays: {stats:?}");
}
