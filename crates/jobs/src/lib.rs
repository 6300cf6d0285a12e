#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod error;
mod job;
mod queue;
mod schedule;
mod stats;
mod worker;

pub use error::{BoxError, Error};
pub use job::{Enqueued, Job, Options, QueueName};
pub use queue::{Backend, Connection, Queue};
pub use schedule::{Schedule, Tick};
pub use stats::Stats;
pub use worker::{Delivery, Outcome, WorkerOptions};

/// Re-exported so callers can build a shutdown signal without naming tokio-util.
pub use tokio_util::sync::CancellationToken;
