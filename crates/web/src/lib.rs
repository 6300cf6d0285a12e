#![doc = include_str!("../README.md")]

mod api;
mod auth;
mod dashboard;
mod error;
mod extract;
#[doc(hidden)]
pub mod fuzzing;
mod openapi;
mod ops;
mod state;
mod tabular;
mod telemetry;

pub use auth::{Admin, Caller};
pub use dashboard::{Config as DashboardConfig, SecureCookies};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use state::AppState;
pub use telemetry::prometheus;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

/// Every route: the API, the operations endpoints, `/openapi.json`, `/docs`
/// and the dashboard (with its default [`DashboardConfig`]).
pub fn router(state: AppState) -> Router {
    router_with(state, DashboardConfig::default())
}

/// [`router`] with the dashboard's settings (cookies' `Secure` flag).
pub fn router_with(state: AppState, dashboard: DashboardConfig) -> Router {
    let (routes, document) = documented().split_for_parts();
    // Swagger UI's assets are compiled in (feature `vendored`): /docs works offline.
    let docs = SwaggerUi::new("/docs").url("/openapi.json", document);
    let app = routes
        .merge(docs)
        .merge(dashboard::router(dashboard))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::Invalid {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                field: None,
                message: "this route does not accept that method".into(),
            }
        })
        .with_state(state);
    telemetry::instrument(app)
}

/// Serves [`router`] on `listener` until `shutdown` is cancelled, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Only the operations endpoints (`/healthz`, `/readyz`, `/metrics`): for
/// processes without the API (`amzsync worker`, `amzsync scheduler`), so
/// their metrics can be scraped without exposing anything else.
pub fn ops_router(state: AppState) -> Router {
    let (routes, _) = OpenApiRouter::new().merge(ops::router()).split_for_parts();
    let app = routes
        .fallback(|| async { ApiError::not_found("route") })
        .with_state(state);
    telemetry::instrument(app)
}

/// Serves [`ops_router`] on `listener` until `shutdown` is cancelled.
pub async fn serve_ops(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, ops_router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// The OpenAPI document, as `/openapi.json` serves it (for tooling and tests).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The routes that carry their own OpenAPI description, in one place so the
/// served document and [`openapi`] cannot drift apart.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::frame())
        .merge(ops::router())
        .nest("/api/v1", api::router())
}
