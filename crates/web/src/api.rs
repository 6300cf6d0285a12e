//! `/api/v1`: one module per HTTP resource. The Amazon-facing paths keep the
//! `/amazon` prefix of PRODUCT.md FR-11, which existing clients call.

pub(crate) mod admin;
mod data;
pub(crate) mod stores;
pub(crate) mod sync;
pub(crate) mod sync_tasks;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    let amazon = OpenApiRouter::new()
        .merge(stores::router())
        .merge(sync::router())
        .merge(sync_tasks::router())
        .merge(data::router());
    OpenApiRouter::new()
        .nest("/amazon", amazon)
        .nest("/admin", admin::router())
}
