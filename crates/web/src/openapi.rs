//! The frame of the OpenAPI document: title, tags and the bearer security
//! scheme. Paths and schemas come from the handlers (`#[utoipa::path]`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "amzsync",
        description = "Amazon seller data (FBA inventory, Sales & Traffic, Sponsored Products) \
            synced into your own database. Every `/api/v1` route needs `Authorization: Bearer <token>`.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "stores", description = "Seller accounts and their credentials (write-only)"),
        (name = "sync", description = "Triggering syncs and their status"),
        (name = "sync-tasks", description = "The history of syncs (FR-5)"),
        (name = "data", description = "The synced data, as JSON or CSV"),
        (name = "admin", description = "Users and API tokens (admin role)"),
        (name = "operations", description = "Probes and metrics (no token)"),
    )
)]
struct Frame;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("amzs_<random>")
                    .description(Some("An API token from `amzsync token create` or the admin API"))
                    .build(),
            ),
        );
    }
}

pub(crate) fn frame() -> utoipa::openapi::OpenApi {
    Frame::openapi()
}
