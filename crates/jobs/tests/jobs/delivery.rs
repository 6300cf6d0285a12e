//! The same handler on every backend: outcomes, idempotency and shutdown.

use std::{sync::Arc, time::Instant};

use amzsync_jobs::{Enqueued, Job, Options, Outcome};
use tokio::sync::{Notify, mpsc};
use ulid::Ulid;

use crate::{
    on_each_backend,
    support::{Engine, Worker, World, fast_options, idle, next, recording, stats_until},
};

on_each_backend!(
    the_handler_runs_an_enqueued_job_once,
    an_idempotency_key_or_a_repeated_sync_task_adds_no_second_job,
    a_snoozed_job_is_delivered_again_later_without_spending_an_attempt,
    an_idle_worker_takes_a_job_that_falls_due_between_its_heartbeats,
    a_retried_job_runs_again_until_its_attempts_are_spent,
    a_re_rung_job_continues_from_the_attempt_it_is_given,
    a_failed_job_is_never_delivered_again,
    a_panicking_handler_fails_its_job_and_the_worker_goes_on,
    shutdown_lets_the_job_in_hand_finish_and_takes_no_more,
);

async fn the_handler_runs_an_enqueued_job_once(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let sync_task = Ulid::generate();
    let job = Job::new("request_report", sync_task)
        .with_args(&serde_json::json!({"report": "inventory"}))
        .expect("json args");
    assert_eq!(
        queue.enqueue(&job, Options::default()).await.expect("enqueue"),
        Enqueued::Added(sync_task)
    );

    let (handler, mut rx) = recording(|_| Outcome::Done);
    let worker = Worker::start(&queue, fast_options(), handler);
    let delivery = next(&mut rx).await;
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(delivery.job, job);
    assert_eq!(
        delivery.id, sync_task,
        "the first delivery's id is the sync task id"
    );
    assert_eq!(delivery.attempt, 1);
    assert!(rx.try_recv().is_err(), "delivered once");
}

async fn an_idempotency_key_or_a_repeated_sync_task_adds_no_second_job(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let keyed = Options::default().idempotency_key("orders:store-1:2026-01-01");

    let first = queue
        .enqueue(&Job::new("k", Ulid::generate()), keyed.clone())
        .await
        .expect("enqueue");
    let same_key = queue
        .enqueue(&Job::new("k", Ulid::generate()), keyed)
        .await
        .expect("enqueue");
    let task = Job::new("k", Ulid::generate());
    let once = queue.enqueue(&task, Options::default()).await.expect("enqueue");
    let twice = queue.enqueue(&task, Options::default()).await.expect("enqueue");
    let rerung = queue
        .enqueue(&task, Options::default().fresh_id())
        .await
        .expect("enqueue");

    assert!(first.is_added());
    assert_eq!(same_key, Enqueued::Duplicate);
    assert!(once.is_added());
    assert_eq!(twice, Enqueued::Duplicate);
    assert!(rerung.is_added(), "a fresh id is a deliberate second delivery");
    let stats = queue.stats(chrono::Utc::now()).await.expect("stats");
    assert_eq!(stats.pending + stats.scheduled, 3, "{stats:?}");
}

async fn a_snoozed_job_is_delivered_again_later_without_spending_an_attempt(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let sync_task = Ulid::generate();
    queue
        .enqueue(&Job::new("poll_report", sync_task), Options::default())
        .await
        .expect("enqueue");

    let (handler, mut rx) = recording(|d| {
        if d.id == d.job.sync_task_id {
            Outcome::Snooze(std::time::Duration::from_secs(1))
        } else {
            Outcome::Done
        }
    });
    let worker = Worker::start(&queue, fast_options(), handler);
    let first = next(&mut rx).await;
    let snoozed_at = Instant::now();
    let second = next(&mut rx).await;
    let waited = snoozed_at.elapsed();
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(first.attempt, 1);
    assert_eq!(second.attempt, 1, "a snooze spends no attempt");
    assert_eq!(second.job, first.job);
    assert_ne!(second.id, first.id, "the follow-up is a new delivery");
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "delivered again after {waited:?}"
    );
    assert!(rx.try_recv().is_err());
}

/// A worker with nothing to do looks again every `poll_interval`, not only
/// when it heartbeats: apalis' interval strategy stopped waking it after its
/// first tick, so a snoozed report poll waited up to a heartbeat (10 s by
/// default). The heartbeat here is far beyond the test's deadline.
async fn an_idle_worker_takes_a_job_that_falls_due_between_its_heartbeats(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let options = amzsync_jobs::WorkerOptions {
        heartbeat: std::time::Duration::from_secs(3600),
        ..fast_options()
    };
    let (handler, mut rx) = recording(|_| Outcome::Done);
    let worker = Worker::start(&queue, options, handler);
    // Due in two or three seconds (the backends keep whole seconds): the
    // worker has found the queue empty by then and waits for its next look.
    let sync_task = Ulid::generate();
    let due = chrono::Utc::now() + chrono::TimeDelta::seconds(3);
    queue
        .enqueue(
            &Job::new("poll_report", sync_task),
            Options::default().run_at(due),
        )
        .await
        .expect("enqueue");

    let delivery = next(&mut rx).await;
    worker.stop().await;
    assert_eq!(delivery.id, sync_task);
}

async fn a_retried_job_runs_again_until_its_attempts_are_spent(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    queue
        .enqueue(&Job::new("download", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");

    let (handler, mut rx) = recording(|_| Outcome::Retry {
        after: std::time::Duration::ZERO,
        error: "HTTP 503".into(),
    });
    let options = fast_options();
    let worker = Worker::start(&queue, options.clone(), handler);
    let mut attempts = Vec::new();
    for _ in 0..options.max_attempts {
        let d = next(&mut rx).await;
        attempts.push((d.attempt, d.is_last_attempt()));
    }
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(attempts, [(1, false), (2, false), (3, true)]);
    assert!(rx.try_recv().is_err(), "no delivery after the last attempt");
}

async fn a_re_rung_job_continues_from_the_attempt_it_is_given(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    // A task that had spent an attempt when its follow-up was lost.
    queue
        .enqueue(
            &Job::new("download", Ulid::generate()),
            Options::default().fresh_id().attempt(2),
        )
        .await
        .expect("enqueue");

    let (handler, mut rx) = recording(|_| Outcome::Retry {
        after: std::time::Duration::ZERO,
        error: "HTTP 503".into(),
    });
    let worker = Worker::start(&queue, fast_options(), handler);
    let mut attempts = Vec::new();
    for _ in 0..2 {
        let d = next(&mut rx).await;
        attempts.push((d.attempt, d.is_last_attempt()));
    }
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(attempts, [(2, false), (3, true)]);
    assert!(rx.try_recv().is_err(), "no delivery after the last attempt");
}

async fn a_failed_job_is_never_delivered_again(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    queue
        .enqueue(&Job::new("ingest", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");
    let survivor = Job::new("ingest", Ulid::generate());

    let (handler, mut rx) = recording(|d| {
        if d.job.kind == "ingest" && d.attempt == 1 && d.job.args.is_null() {
            Outcome::Fail("grant revoked".into())
        } else {
            Outcome::Done
        }
    });
    let worker = Worker::start(&queue, fast_options(), handler);
    let failed = next(&mut rx).await;
    stats_until(&queue, idle).await;
    // The worker is still healthy: a later job runs.
    let survivor = survivor.with_args(&1).expect("json args");
    queue
        .enqueue(&survivor, Options::default())
        .await
        .expect("enqueue");
    let later = next(&mut rx).await;
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(failed.attempt, 1);
    assert_eq!(later.job, survivor, "the failed job was not delivered again");
    assert!(rx.try_recv().is_err());
}

async fn shutdown_lets_the_job_in_hand_finish_and_takes_no_more(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let in_hand = Job::new("long", Ulid::generate());
    queue
        .enqueue(&in_hand, Options::default())
        .await
        .expect("enqueue");

    let release = Arc::new(Notify::new());
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (finished_tx, mut finished) = mpsc::unbounded_channel();
    let handler = {
        let release = release.clone();
        move |d: amzsync_jobs::Delivery| {
            let (release, started_tx, finished_tx) =
                (release.clone(), started_tx.clone(), finished_tx.clone());
            async move {
                let _ = started_tx.send(d.clone());
                release.notified().await;
                let _ = finished_tx.send(d);
                Outcome::Done
            }
        }
    };
    let worker = Worker::start(&queue, fast_options(), handler);
    let running = next(&mut started).await;
    let stopping = tokio::spawn(worker.stop());
    release.notify_one();
    tokio::time::timeout(crate::support::DEADLINE, stopping)
        .await
        .expect("the worker stops before the deadline")
        .expect("stopping does not panic");
    let done = finished
        .try_recv()
        .expect("the job in hand finished before the worker returned");

    queue
        .enqueue(&Job::new("after", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");
    let stats = queue.stats(chrono::Utc::now()).await.expect("stats");

    assert_eq!(running.job, in_hand);
    assert_eq!(done.job, in_hand);
    assert_eq!(stats.running, 0, "the job in hand was acked: {stats:?}");
    assert_eq!(
        stats.pending + stats.scheduled,
        1,
        "nobody takes the later job: {stats:?}"
    );
    assert!(started.try_recv().is_err());
}

async fn a_panicking_handler_fails_its_job_and_the_worker_goes_on(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    queue
        .enqueue(&Job::new("boom", Ulid::generate()), Options::default())
        .await
        .expect("enqueue");

    let (handler, mut rx) = recording(|d| {
        assert_ne!(d.job.kind, "boom", "the handler panics on this job");
        Outcome::Done
    });
    let worker = Worker::start(&queue, fast_options(), handler);
    stats_until(&queue, idle).await;
    let survivor = Job::new("fine", Ulid::generate());
    queue
        .enqueue(&survivor, Options::default())
        .await
        .expect("enqueue");
    let delivered = next(&mut rx).await;
    stats_until(&queue, idle).await;
    worker.stop().await;

    assert_eq!(
        delivered.job, survivor,
        "the panicking job was not delivered again"
    );
    assert!(rx.try_recv().is_err());
}
