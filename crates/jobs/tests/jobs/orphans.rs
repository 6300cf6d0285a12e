//! A worker that dies holding a job loses it to another worker.

use amzsync_jobs::{Job, Options, Outcome};
use tokio::sync::mpsc;
use ulid::Ulid;

use crate::{
    on_each_backend,
    support::{Engine, Worker, World, fast_options, idle, next, recording, stats_until},
};

on_each_backend!(a_job_held_by_a_worker_that_stopped_heartbeating_is_run_by_another_worker);

async fn a_job_held_by_a_worker_that_stopped_heartbeating_is_run_by_another_worker(engine: Engine) {
    let world = World::new(engine).await;
    let queue = world.queue().await;
    let job = Job::new("ingest", Ulid::generate());
    queue.enqueue(&job, Options::default()).await.expect("enqueue");

    // The first worker takes the job and hangs in it, then dies: no ack, no
    // more heartbeats.
    let (taken_tx, mut taken) = mpsc::unbounded_channel();
    let doomed = Worker::start(&queue, fast_options(), move |d: amzsync_jobs::Delivery| {
        let _ = taken_tx.send(d);
        std::future::pending::<Outcome>()
    });
    let first = next(&mut taken).await;
    doomed.kill().await;

    let (handler, mut rx) = recording(|_| Outcome::Done);
    let rescuer = Worker::start(&queue, fast_options(), handler);
    let second = next(&mut rx).await;
    stats_until(&queue, idle).await;
    rescuer.stop().await;

    assert_eq!(first.job, job);
    assert_eq!(second.id, first.id, "the same queue task, delivered again");
    assert_eq!(second.job, job);
}
