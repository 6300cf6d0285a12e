#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// The engine and its settings: what the app wires and the API calls.
mod clock;
mod engine;
mod error;
mod settings;

// Planning and bookkeeping of a sync task.
pub mod checkpoint;
pub mod plan;

// Talking to Amazon: clients per region and app, failure classes, report kinds.
mod clients;
mod failure;
mod reports;
mod verify;

// The queue's jobs (one file each) and the scheduler role.
mod jobs;
mod reconciler;
mod scheduler;

// Shared limits (FR-8), archival (FR-9), alerts and metrics (FR-10).
pub mod alerts;
mod archival;
mod housekeeping;
mod redis_limiter;
mod redis_tokens;
pub mod telemetry;

pub use alerts::{Alert, AlertSettings, Alerts};
pub use archival::ArchivalReport;
pub use clock::AmazonTime;
pub use engine::{Engine, EngineBuilder, QUEUE};
pub use error::{Error, TriggerError};
pub use housekeeping::{HousekeepingReport, HousekeepingSettings};
pub use reconciler::ReconcileReport;
pub use redis_limiter::{RedisRateLimiter, Reservation};
pub use redis_tokens::RedisTokenCache;
pub use scheduler::TickReport;
pub use settings::{AmazonSettings, MARKETPLACE_TIME_ZONE, ScheduleSettings, SyncSettings};
pub use verify::{CheckOutcome, Verification, VerifiedProfile};

/// Job kind strings, as stored in the queue (for operators and tests).
pub mod job_kinds {
    /// Advances one sync task.
    pub const SYNC_TASK: &str = crate::jobs::sync_task::KIND;
    /// One cron tick for one store and sync kind.
    pub const SCHEDULED_SYNC: &str = crate::jobs::scheduled_sync::KIND;
    /// The daily archival of old snapshot rows (FR-9).
    pub const ARCHIVE: &str = crate::archival::KIND;
}
