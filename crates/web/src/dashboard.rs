//! The dashboard (FR-12): server-rendered pages for people, next to the API.
//!
//! Pages are askama templates (`templates/dashboard/`), checked at compile
//! time and HTML-escaped by default; the stylesheet and the one small script
//! are compiled in (`assets/dashboard/`), so the binary serves everything and
//! no page loads anything from another site. Handlers stay thin: they call the
//! same `db` queries and the same trigger and retry functions as the API.
//!
//! ```text
//! session.rs   the API token in an HttpOnly cookie -> Viewer; dashboard Config
//! i18n.rs      English and Simplified Chinese: one catalogue per language
//! page.rs      the page frame, rendering, error pages
//! sign_in.rs   /sign-in, /sign-out, /lang
//! overview.rs  /: every store and where each sync kind stands
//! sync.rs      the per-kind card, its sync button and its live status fragment
//! history.rs   /history, /tasks/{id}: filters, sorting, paging, error details, retry
//! stores.rs    add a store, update credentials, scheduled syncs on/off, delete
//! glance.rs    /stores/{id}: the store's charts and inventory with weeks of cover
//! chart.rs     SVG charts rendered on the server
//! assets.rs    the embedded stylesheet and script
//! ```

mod assets;
mod chart;
mod glance;
mod history;
mod i18n;
mod overview;
mod page;
mod session;
mod sign_in;
mod stores;
mod sync;

pub use session::{Config, SecureCookies};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, middleware};

use crate::AppState;

/// Every dashboard route, at the root of the site (the API lives under `/api/v1`).
pub(crate) fn router(config: Config) -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/lang", get(sign_in::switch_language))
        .route("/history", get(history::page))
        .route("/tasks/{task_id}", get(history::task))
        .route("/tasks/{task_id}/retry", post(history::retry))
        .route("/stores", post(stores::create))
        .route("/stores/new", get(stores::new_form))
        .route("/stores/{store_id}", get(glance::page))
        .route("/stores/{store_id}/settings", get(stores::settings))
        .route("/stores/{store_id}/credentials", post(stores::update_credentials))
        .route("/stores/{store_id}/active", post(stores::set_active))
        .route("/stores/{store_id}/verify", post(stores::verify))
        .route(
            "/stores/{store_id}/delete",
            get(stores::confirm_delete).post(stores::delete),
        )
        .route(
            "/stores/{store_id}/sync/{kind}",
            get(sync::card).post(sync::trigger),
        )
        .route("/assets/{file}", get(assets::serve))
        .layer(Extension(config))
        .layer(middleware::map_response(protect))
}

/// Headers that keep the pages to themselves: only our own scripts, styles
/// and forms; not framed; content types as declared; no caching of pages
/// that show a tenant's data.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A `{store_id}` or `{task_id}` that does not parse names nothing: 404, like
/// a store that does not exist or is another tenant's.
fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, crate::ApiError> {
    raw.parse().map_err(|_| crate::ApiError::not_found(what))
}
