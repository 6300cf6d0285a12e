//! Queue depth for metrics and retention of finished jobs, read from the
//! backend's own tables or keys (apalis 1.0 has no portable API for either:
//! its `Metrics` output differs per backend and its SQLite `vacuum_before`
//! compares integer timestamps with text, so it deletes regardless of age).

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::AsyncCommands as _;

use crate::{Error, Queue, queue::Store};

/// How deep a queue is, for metrics and the stuck-queue alert (STACK §1.4.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs due now and not yet taken by a worker (including SQL jobs whose
    /// queue-level attempt failed and that will be fetched again).
    pub pending: u64,
    /// Jobs waiting for a future `run_at` (snoozes and retries among them).
    pub scheduled: u64,
    /// Jobs taken by a worker (fetched or running).
    pub running: u64,
    /// How long the oldest pending job has been due. `None` if nothing is
    /// pending, and on Redis when the only pending jobs sit in the active
    /// list, which stores no timestamps.
    pub oldest_pending_age: Option<Duration>,
}

/// The SQL backends' statuses: `Pending`/`Failed` (attempts left) wait,
/// `Queued`/`Running` are held by a worker.
const SQLITE_STATS: &str = "
WITH live AS (
    SELECT status, run_at FROM Jobs
    WHERE job_type = ?1
      AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))
)
SELECT
    COALESCE(SUM(status IN ('Pending', 'Failed') AND run_at <= ?2), 0),
    COALESCE(SUM(status IN ('Pending', 'Failed') AND run_at > ?2), 0),
    COALESCE(SUM(status IN ('Queued', 'Running')), 0),
    MIN(CASE WHEN status IN ('Pending', 'Failed') AND run_at <= ?2 THEN run_at END)
FROM live";

const POSTGRES_STATS: &str = "
WITH live AS (
    SELECT status, EXTRACT(EPOCH FROM run_at)::int8 AS run_at FROM apalis.jobs
    WHERE job_type = $1
      AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))
)
SELECT
    COUNT(*) FILTER (WHERE status IN ('Pending', 'Failed') AND run_at <= $2),
    COUNT(*) FILTER (WHERE status IN ('Pending', 'Failed') AND run_at > $2),
    COUNT(*) FILTER (WHERE status IN ('Queued', 'Running')),
    MIN(run_at) FILTER (WHERE status IN ('Pending', 'Failed') AND run_at <= $2)
FROM live";

/// Finished rows: done (including acked snoozes and retries), killed, or
/// failed with no attempts left.
const SQLITE_VACUUM: &str = "
DELETE FROM Jobs
WHERE job_type = ?1
  AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))
  AND done_at < ?2";

const POSTGRES_VACUUM: &str = "
DELETE FROM apalis.jobs
WHERE job_type = $1
  AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))
  AND done_at < to_timestamp($2)";

impl Queue {
    /// Depth of this queue as of `now`.
    pub async fn stats(&self, now: DateTime<Utc>) -> Result<Stats, Error> {
        let now_s = now.timestamp();
        let (pending, scheduled, running, oldest): (i64, i64, i64, Option<i64>) = match &self.store {
            Store::Sqlite(pool) => {
                sqlx::query_as(SQLITE_STATS)
                    .bind(&self.stored_name)
                    .bind(now_s)
                    .fetch_one(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_as(POSTGRES_STATS)
                    .bind(&self.stored_name)
                    .bind(now_s)
                    .fetch_one(pool)
                    .await?
            }
            Store::Redis(conn) => return self.redis_stats(&mut conn.clone(), now_s).await,
        };
        Ok(Stats {
            pending: count(pending),
            scheduled: count(scheduled),
            running: count(running),
            oldest_pending_age: oldest.map(|due| age(now_s, due)),
        })
    }

    async fn redis_stats(
        &self,
        conn: &mut apalis_redis::ConnectionManager,
        now_s: i64,
    ) -> Result<Stats, Error> {
        let config = self.redis_config();
        // Every push lands in the scheduled set (score = run_at); a worker's
        // fetch moves due ones to the active list and takes them at once.
        let scheduled_set = config.scheduled_jobs_set();
        let active: u64 = conn.llen(config.active_jobs_list()).await?;
        let due: u64 = conn.zcount(&scheduled_set, "-inf", now_s).await?;
        let later: u64 = conn.zcount(&scheduled_set, format!("({now_s}"), "+inf").await?;
        let oldest: Vec<(String, i64)> = conn
            .zrangebyscore_limit_withscores(&scheduled_set, "-inf", now_s, 0, 1)
            .await?;
        let workers: Vec<String> = conn.zrange(config.workers_set(), 0, -1).await?;
        let mut running = 0u64;
        for worker in workers {
            let held: u64 = conn
                .scard(format!("{}:{worker}", config.inflight_jobs_set()))
                .await?;
            running += held;
        }
        Ok(Stats {
            pending: active + due,
            scheduled: later,
            running,
            oldest_pending_age: oldest.first().map(|(_, due)| age(now_s, *due)),
        })
    }

    /// Deletes finished jobs (done, killed, or failed for good) that finished
    /// more than `older_than` before `now`; returns how many. History lives in
    /// `sync_tasks`, so queue rows are disposable (STACK §1.5.7).
    ///
    /// SQL backends only; on Redis it is [`Error::Unsupported`] (apalis-redis'
    /// own vacuum scans every job hash and leaves the done/dead sets and the
    /// idempotency keys behind).
    pub async fn vacuum(&self, older_than: Duration, now: DateTime<Utc>) -> Result<u64, Error> {
        let cutoff = now.timestamp() - i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let deleted = match &self.store {
            Store::Sqlite(pool) => sqlx::query(SQLITE_VACUUM)
                .bind(&self.stored_name)
                .bind(cutoff)
                .execute(pool)
                .await?
                .rows_affected(),
            Store::Postgres(pool) => sqlx::query(POSTGRES_VACUUM)
                .bind(&self.stored_name)
                .bind(cutoff as f64)
                .execute(pool)
                .await?
                .rows_affected(),
            Store::Redis(_) => {
                return Err(Error::Unsupported {
                    operation: "vacuum",
                    backend: "redis",
                });
            }
        };
        Ok(deleted)
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn age(now_s: i64, due_s: i64) -> Duration {
    Duration::from_secs(u64::try_from(now_s - due_s).unwrap_or(0))
}
