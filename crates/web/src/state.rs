//! `AppState`: the cheap handles every handler shares.

use std::sync::Arc;

use amzsync_db::Db;
use amzsync_domain::Clock;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::dispatch::{Dispatcher, Doorbell};

/// What handlers need, cloned into every request: each field is a handle
/// (a pool, an `Arc`), so a clone costs a few reference counts.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    /// Where recorded sync tasks are handed to the workers.
    pub dispatcher: Arc<dyn Dispatcher>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Stamps new task ids and computes freshness; tests hold it still.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// State over `db` with the in-process [`Doorbell`], the process-wide
    /// Prometheus recorder and the database's clock (so task ids and row
    /// stamps agree).
    pub fn new(db: Db) -> Self {
        let clock = db.clock();
        Self {
            db,
            dispatcher: Arc::new(Doorbell::new()),
            metrics: crate::telemetry::prometheus(),
            clock,
        }
    }

    pub fn with_dispatcher(mut self, dispatcher: Arc<dyn Dispatcher>) -> Self {
        self.dispatcher = dispatcher;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
