//! Operations endpoints: liveness, readiness and Prometheus metrics. They need
//! no token: probes and scrapers carry none, and they reveal no tenant data.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up (it answers).
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The process is up", body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// The process can serve: the database and the job queue answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database or the job queue does not answer (`not_ready`)",
            body = crate::error::ErrorBody),
    ))]
async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    let not_ready = |what: &str| ApiError::Invalid {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "not_ready",
        field: None,
        message: format!("{what} does not answer"),
    };
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness check failed: the database does not answer");
        return Err(not_ready("the database"));
    }
    // The cheapest question the queue answers on every backend (one
    // aggregate over the live jobs on SQL, a few counts on Redis): a trigger
    // needs the queue as much as the database.
    let queue = state.engine.queue();
    if let Err(err) = queue.stats(chrono::Utc::now()).await {
        tracing::warn!(error = %err, backend = queue.backend_name(), "readiness check failed: the job queue does not answer");
        return Err(not_ready("the job queue"));
    }
    Ok(axum::Json(Health { status: "ok" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Upkeep drains histogram buckets; doing it on scrape needs no background task.
    state.metrics.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}
