//! `AppState`: the cheap handles every handler shares.

use std::sync::Arc;

use amzsync_db::Db;
use amzsync_domain::Clock;
use amzsync_sync::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

/// What handlers need, cloned into every request: each field is a handle
/// (a pool, an `Arc`), so a clone costs a few reference counts.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    /// The sync engine: triggers and retries record the task and enqueue its
    /// job together; `/readyz` asks its queue.
    pub engine: Engine,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Computes durations and freshness; tests hold it still. (Task ids and
    /// windows are the engine's, on the database's clock.)
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// State over `db` and the sync `engine` (built on the same database,
    /// its queue set up), with the process-wide Prometheus recorder and the
    /// database's clock.
    pub fn new(db: Db, engine: Engine) -> Self {
        let clock = db.clock();
        Self {
            db,
            engine,
            metrics: crate::telemetry::prometheus(),
            clock,
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
