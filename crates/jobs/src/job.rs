//! What goes into the queue: the [`Job`] payload, the [`QueueName`] it goes
//! to, the enqueue [`Options`] and the [`Enqueued`] answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use ulid::Ulid;

use crate::Error;

/// The name of a queue, as stored in the backend.
///
/// Always an explicit constant: apalis defaults to the Rust type path
/// (`std::any::type_name`), so moving a type would orphan every queued job
/// (STACK §1.4.4). Like a job kind, a queue name is never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueName(&'static str);

impl QueueName {
    /// A queue name; keep it short, lower case, without `:` (Redis keys use it).
    pub const fn new(name: &'static str) -> Self {
        QueueName(name)
    }

    /// The name as stored.
    pub const fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for QueueName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// One queue delivery that advances a sync task.
///
/// The job carries the sync task's id and nothing the `sync_tasks` row already
/// knows (STACK §1.5): the row is the truth, the job only rings the bell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Stable kind string (`"request_report"`); stored, so never renamed.
    pub kind: String,
    /// The sync task this job advances. Serialized as its 26-character string.
    pub sync_task_id: Ulid,
    /// Optional kind-specific arguments (small: a checkpoint belongs in `sync_tasks`).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub args: serde_json::Value,
}

impl Job {
    /// A job of `kind` for the sync task `sync_task_id`, without arguments.
    pub fn new(kind: impl Into<String>, sync_task_id: Ulid) -> Self {
        Job {
            kind: kind.into(),
            sync_task_id,
            args: serde_json::Value::Null,
        }
    }

    /// The same job with `args` serialized into it.
    pub fn with_args<T: Serialize>(mut self, args: &T) -> Result<Self, Error> {
        self.args = serde_json::to_value(args)?;
        Ok(self)
    }

    /// The arguments, deserialized.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(T::deserialize(&self.args)?)
    }
}

/// How to enqueue a job. `Options::default()` runs it as soon as possible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub(crate) run_at: Option<RunAt>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) priority: u8,
    pub(crate) fresh_id: bool,
    pub(crate) attempt: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunAt {
    After(Duration),
    At(DateTime<Utc>),
}

impl Options {
    /// Do not run before `delay` has passed (second resolution: the backends
    /// store unix seconds).
    #[must_use]
    pub fn run_after(mut self, delay: Duration) -> Self {
        self.run_at = Some(RunAt::After(delay));
        self
    }

    /// Do not run before the real instant `at` (second resolution; unlike a
    /// delay, not scaled by [`crate::Queue::clock_speed`]).
    #[must_use]
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(RunAt::At(at));
        self
    }

    /// A second enqueue with the same key on the same queue is a no-op
    /// ([`Enqueued::Duplicate`]). SQL backends keep keys until the job row is
    /// vacuumed; Redis keeps them for 30 days.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Higher runs first on SQL backends. Redis ignores priority (STACK P8):
    /// use a separate queue there.
    #[must_use]
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Give this delivery a new queue task id instead of the sync task id.
    ///
    /// By default the queue task id *is* the sync task id (one id on the
    /// board and the dashboard, STACK §1.5.1), so enqueueing a sync task twice
    /// is a duplicate. A deliberate re-ring (the Redis reconciler, a manual
    /// re-run) needs a fresh id; pair it with an idempotency key such as
    /// `"{sync_task_id}:{attempt}"`.
    #[must_use]
    pub fn fresh_id(mut self) -> Self {
        self.fresh_id = true;
        self
    }

    /// Deliver the job as attempt `attempt` (from 1) rather than the first.
    ///
    /// For a re-ring of work whose earlier deliveries were lost (the
    /// reconciler): attempts live in the payload, so without this a task that
    /// had already spent retries would get all of them again.
    #[must_use]
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.attempt = Some(attempt.max(1));
        self
    }
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job with this queue task id.
    Added(Ulid),
    /// A job with the same idempotency key or task id already exists; nothing
    /// was added.
    Duplicate,
}

impl Enqueued {
    /// Whether a new job was added.
    pub fn is_added(&self) -> bool {
        matches!(self, Enqueued::Added(_))
    }
}

/// The payload as stored: the job plus how many attempts it has used.
///
/// The attempt lives in the payload, not in the queue row, because retries
/// are follow-up tasks (see `worker.rs`): apalis' own attempt counter restarts
/// at zero on each of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Envelope {
    #[serde(flatten)]
    pub(crate) job: Job,
    #[serde(default = "first_attempt")]
    pub(crate) attempt: u32,
}

fn first_attempt() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_round_trips_with_its_ulid_as_a_string() {
        let id = Ulid::generate();
        let job = Job::new("poll_report", id)
            .with_args(&serde_json::json!({"report_id": "42"}))
            .expect("json value serializes");
        let text = serde_json::to_string(&Envelope {
            job: job.clone(),
            attempt: 2,
        })
        .expect("envelope serializes");
        assert!(text.contains(&format!("\"sync_task_id\":\"{id}\"")), "{text}");
        let back: Envelope = serde_json::from_str(&text).expect("envelope deserializes");
        assert_eq!(back.job, job);
        assert_eq!(back.attempt, 2);
    }

    #[test]
    fn a_payload_without_attempt_is_a_first_attempt() {
        let id = Ulid::generate();
        let back: Envelope = serde_json::from_str(&format!(r#"{{"kind":"k","sync_task_id":"{id}"}}"#))
            .expect("minimal envelope deserializes");
        assert_eq!(back.attempt, 1);
        assert_eq!(back.job.args, serde_json::Value::Null);
    }
}
