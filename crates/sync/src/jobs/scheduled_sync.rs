//! The `scheduled_sync` job: one cron tick for one store and sync kind,
//! enqueued by the scheduler under an idempotency key so that any number of
//! scheduler processes add it once (FR-4). Its handler triggers the sync as
//! `scheduled`; a sync already pending or running (a manual one, say) wins and
//! the tick is done.

use amzsync_db::{Scope, SyncTaskFilter};
use amzsync_domain::{StoreId, SyncKind, Trigger};
use amzsync_jobs::{Delivery, Outcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::engine::Engine;
use crate::error::TriggerError;

/// Stored in the queue: never rename.
pub(crate) const KIND: &str = "scheduled_sync";

/// The job's arguments. Its `sync_task_id` is only a fresh ULID for the
/// queue (the task does not exist yet; the trigger creates it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TickArgs {
    pub(crate) store_id: StoreId,
    pub(crate) kind: SyncKind,
    pub(crate) tick: DateTime<Utc>,
}

pub(crate) async fn run(engine: &Engine, delivery: &Delivery) -> Outcome {
    let args: TickArgs = match delivery.job.args() {
        Ok(args) => args,
        Err(e) => return Outcome::Fail(Box::new(e)),
    };
    let span = tracing::info_span!("scheduled_sync", store_id = %args.store_id, kind = %args.kind, tick = %args.tick);
    // A tick is delivered at least once: a worker that dies after the
    // trigger commits but before the queue hears of it has the tick delivered
    // again, maybe after its sync finished, when the trigger would start a
    // second one. A scheduled sync of the kind created since the tick is the
    // tick's (or a later tick's, which serves it as well).
    match started_since_tick(engine, &args).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!(parent: &span, "scheduled sync already started for this tick");
            return Outcome::Done;
        }
        Err(e) => {
            return Outcome::Retry {
                after: engine.settings().retry_delay,
                error: Box::new(e),
            };
        }
    }
    let triggered = engine
        .trigger(Scope::All, args.store_id, args.kind, None, Trigger::Scheduled)
        .instrument(span.clone())
        .await;
    match triggered {
        Ok(task) => {
            tracing::info!(parent: &span, task_id = %task.id, "scheduled sync started");
            Outcome::Done
        }
        // The tick has nothing to do: say why and finish.
        Err(
            e @ (TriggerError::AlreadyRunning { .. }
            | TriggerError::StoreNotFound
            | TriggerError::StoreInactive
            | TriggerError::NeedsReauth
            | TriggerError::Unsupported { .. }
            | TriggerError::InvalidWindow(_)),
        ) => {
            tracing::info!(parent: &span, reason = %e, "scheduled sync skipped");
            Outcome::Done
        }
        Err(e) => Outcome::Retry {
            after: engine.settings().retry_delay,
            error: Box::new(e),
        },
    }
}

/// Whether a scheduled sync of the tick's store and kind was created at or
/// after the tick.
async fn started_since_tick(engine: &Engine, args: &TickArgs) -> Result<bool, amzsync_db::Error> {
    let filter = SyncTaskFilter {
        store_id: Some(args.store_id),
        kind: Some(args.kind),
        status: None,
    };
    // Newest first: the tasks since the tick come first, and a day holds
    // few of them.
    let recent = engine.db().sync_tasks().list(Scope::All, &filter, 1, 50).await?;
    Ok(recent
        .items
        .iter()
        .any(|t| t.trigger == Trigger::Scheduled && t.created_at >= args.tick))
}
