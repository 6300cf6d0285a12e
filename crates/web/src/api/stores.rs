//! `/amazon/stores`: seller accounts. Secrets go in (create, update) and never
//! come out: a store shows only whether each secret is set.

use amzsync_db::{LwaClient, NewStore, Store, StoreUpdate};
use amzsync_domain::{Marketplace, Region};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::responses::{
    BadRequest, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::extract::{Json, StoreIdPath};
use crate::{ApiError, AppState, Caller};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_store, list_stores))
        .routes(routes!(get_store, update_store, delete_store))
        .routes(routes!(deactivate_store))
        .routes(routes!(verify_store))
}

/// A store as the API shows it: no secret, only whether each one is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    #[schema(example = 1)]
    pub id: i64,
    pub store_name: String,
    /// `na`, `eu` or `fe`.
    #[schema(example = "na")]
    pub region: &'static str,
    /// The primary marketplace.
    #[schema(example = "ATVPDKIKX0DER")]
    pub marketplace_id: String,
    /// Every marketplace of the store, the primary one first.
    pub marketplaces: Vec<String>,
    #[schema(example = "A3EXAMPLESELLER")]
    pub seller_id: String,
    pub has_sp_api_refresh_token: bool,
    pub has_advertising_api_refresh_token: bool,
    pub sp_api_client_id: Option<String>,
    pub has_sp_api_client_secret: bool,
    /// Whether the store syncs: a deactivated store syncs nothing, scheduled
    /// or manual (a trigger is a 409 `store_inactive`).
    pub is_active: bool,
    /// `idle`, `syncing`, `error` or `needs_reauth`.
    #[schema(example = "idle")]
    pub sync_status: &'static str,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_sync_error: Option<String>,
    /// Days a later business sync re-pulls, and after which a day is final
    /// and, once synced, not requested again; `null`: the configured default
    /// (`sync.business_lookback_days`).
    #[schema(example = 7, minimum = 1, maximum = 60)]
    pub business_lookback_days: Option<u32>,
    /// The same for advertising; `null`: `sync.ads_lookback_days`.
    #[schema(example = 14, minimum = 1, maximum = 60)]
    pub ads_lookback_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Store> for StoreView {
    fn from(s: Store) -> Self {
        StoreView {
            id: s.id.0,
            store_name: s.store_name,
            region: s.region.as_str(),
            marketplace_id: s.marketplace_id,
            marketplaces: s.marketplaces,
            seller_id: s.seller_id,
            has_sp_api_refresh_token: s.has_sp_api_refresh_token,
            has_advertising_api_refresh_token: s.has_advertising_api_refresh_token,
            sp_api_client_id: s.sp_api_client_id,
            has_sp_api_client_secret: s.has_sp_api_client_secret,
            is_active: s.is_active,
            sync_status: s.sync_status.as_str(),
            last_sync_at: s.last_sync_at,
            last_sync_error: s.last_sync_error,
            business_lookback_days: s.business_lookback_days,
            ads_lookback_days: s.ads_lookback_days,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The caller's stores.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreList {
    pub items: Vec<StoreView>,
}

/// A new store. Secrets are write-only: they are encrypted at rest and never returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStore {
    #[schema(example = "My US store")]
    pub store_name: String,
    /// `na`, `eu` or `fe`.
    #[schema(example = "na")]
    pub region: String,
    /// Marketplace ids (or country codes), all in the store's region; the first is the primary one.
    #[schema(example = json!(["ATVPDKIKX0DER"]))]
    pub marketplaces: Vec<String>,
    #[schema(example = "A3EXAMPLESELLER")]
    pub seller_id: String,
    #[schema(value_type = String, write_only)]
    pub sp_api_refresh_token: SecretString,
    #[schema(value_type = Option<String>, write_only)]
    pub advertising_api_refresh_token: Option<SecretString>,
    /// The store's own LWA application; leave out to use the configured one.
    pub sp_api_client_id: Option<String>,
    #[schema(value_type = Option<String>, write_only)]
    pub sp_api_client_secret: Option<SecretString>,
    /// Days a later business sync re-pulls (1 to 60); leave out for the
    /// configured default.
    #[schema(minimum = 1, maximum = 60)]
    pub business_lookback_days: Option<u32>,
    /// Days a later advertising sync re-pulls (1 to 60); leave out for the
    /// configured default.
    #[schema(minimum = 1, maximum = 60)]
    pub ads_lookback_days: Option<u32>,
}

/// A change to a store, applied all or nothing. Fields left out stay as they
/// are. New credentials clear "needs re-authorization". The region and the
/// seller id identify the store and cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStore {
    pub store_name: Option<String>,
    /// Every marketplace, the primary one first; all in the store's region.
    pub marketplaces: Option<Vec<String>>,
    pub is_active: Option<bool>,
    #[schema(value_type = Option<String>, write_only)]
    pub sp_api_refresh_token: Option<SecretString>,
    #[schema(value_type = Option<String>, write_only)]
    pub advertising_api_refresh_token: Option<SecretString>,
    /// The store's own LWA application (with `sp_api_client_secret`).
    pub sp_api_client_id: Option<String>,
    #[schema(value_type = Option<String>, write_only)]
    pub sp_api_client_secret: Option<SecretString>,
    /// `true`: drop the store's own LWA application and use the configured one.
    pub use_global_lwa_client: Option<bool>,
    /// Days a later business sync re-pulls (1 to 60); `null` returns to the
    /// configured default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 60)]
    pub business_lookback_days: Option<Option<u32>>,
    /// Days a later advertising sync re-pulls (1 to 60); `null` returns to
    /// the configured default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 60)]
    pub ads_lookback_days: Option<Option<u32>>,
}

/// Tells a field sent as `null` (`Some(None)`: back to the default) from one
/// left out (`None`, by `serde(default)`: unchanged).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Connects a store.
#[utoipa::path(post, path = "/stores", tag = "stores", request_body = CreateStore,
    responses(
        (status = 201, description = "Created; `Location` names it", body = StoreView,
            headers(("Location" = String, description = "The new store's URL"))),
        BadRequest, Unauthorized, Unprocessable, PayloadTooLarge, UnsupportedMediaType,
        (status = 409, description = "This seller already has a store in this region", body = crate::error::ErrorBody),
    ))]
async fn create_store(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateStore>,
) -> Result<impl IntoResponse, ApiError> {
    let new = body.into_new_store(&caller)?;
    let store = state.db.stores().create(new).await?;
    let location = format!("/api/v1/amazon/stores/{}", store.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(StoreView::from(store)),
    ))
}

impl CreateStore {
    pub(crate) fn into_new_store(self, caller: &Caller) -> Result<NewStore, ApiError> {
        let region: Region = self
            .region
            .parse()
            .map_err(|e: amzsync_domain::ParseRegionError| {
                ApiError::unprocessable("region", e.to_string())
            })?;
        let marketplaces = parse_marketplaces(&self.marketplaces)?;
        Ok(NewStore {
            user_id: caller.0.id,
            store_name: self.store_name,
            region,
            marketplaces,
            seller_id: self.seller_id,
            sp_api_refresh_token: non_empty("sp_api_refresh_token", self.sp_api_refresh_token)?,
            advertising_api_refresh_token: self
                .advertising_api_refresh_token
                .map(|s| non_empty("advertising_api_refresh_token", s))
                .transpose()?,
            sp_api_client_id: self.sp_api_client_id,
            sp_api_client_secret: self
                .sp_api_client_secret
                .map(|s| non_empty("sp_api_client_secret", s))
                .transpose()?,
            business_lookback_days: self.business_lookback_days,
            ads_lookback_days: self.ads_lookback_days,
        })
    }
}

/// An empty secret would only fail later, at Amazon, as "revoked".
fn non_empty(field: &'static str, secret: SecretString) -> Result<SecretString, ApiError> {
    if secret.expose_secret().trim().is_empty() {
        return Err(ApiError::unprocessable(field, "must not be empty"));
    }
    Ok(secret)
}

/// The caller's stores, oldest first.
#[utoipa::path(get, path = "/stores", tag = "stores",
    responses((status = 200, description = "The caller's stores", body = StoreList), Unauthorized))]
async fn list_stores(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<StoreList>, ApiError> {
    let stores = state.db.stores().list(caller.scope()).await?;
    Ok(axum::Json(StoreList {
        items: stores.into_iter().map(StoreView::from).collect(),
    }))
}

/// One store.
#[utoipa::path(get, path = "/stores/{store_id}", tag = "stores",
    params(("store_id" = i64, Path, description = "The store")),
    responses((status = 200, description = "The store", body = StoreView), BadRequest, Unauthorized, NotFound))]
async fn get_store(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
) -> Result<axum::Json<StoreView>, ApiError> {
    let store = state.db.stores().get(caller.scope(), id).await?;
    Ok(axum::Json(store.into()))
}

/// Renames, changes marketplaces, rotates credentials or turns the store's
/// syncs on or off, all or nothing.
#[utoipa::path(patch, path = "/stores/{store_id}", tag = "stores", request_body = UpdateStore,
    params(("store_id" = i64, Path, description = "The store")),
    responses(
        (status = 200, description = "The updated store", body = StoreView),
        BadRequest, Unauthorized, NotFound, Unprocessable, PayloadTooLarge, UnsupportedMediaType,
    ))]
async fn update_store(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
    Json(body): Json<UpdateStore>,
) -> Result<axum::Json<StoreView>, ApiError> {
    let change = body.into_change()?;
    let store = state.db.stores().update(caller.scope(), id, change).await?;
    Ok(axum::Json(store.into()))
}

impl UpdateStore {
    pub(crate) fn into_change(self) -> Result<StoreUpdate, ApiError> {
        let marketplaces = self
            .marketplaces
            .map(|list| parse_marketplaces(&list))
            .transpose()?;
        let lwa_client = match (
            self.use_global_lwa_client,
            self.sp_api_client_id,
            self.sp_api_client_secret,
        ) {
            (Some(true), None, None) => Some(LwaClient::Global),
            (Some(true), _, _) => {
                return Err(ApiError::unprocessable(
                    "use_global_lwa_client",
                    "cannot be combined with sp_api_client_id or sp_api_client_secret",
                ));
            }
            (_, Some(client_id), Some(secret)) => Some(LwaClient::Own {
                client_id,
                client_secret: non_empty("sp_api_client_secret", secret)?,
            }),
            (_, Some(_), None) => {
                return Err(ApiError::unprocessable(
                    "sp_api_client_secret",
                    "a store's own LWA client needs both the client id and the client secret",
                ));
            }
            (_, None, Some(_)) => {
                return Err(ApiError::unprocessable(
                    "sp_api_client_id",
                    "a store's own LWA client needs both the client id and the client secret",
                ));
            }
            (_, None, None) => None,
        };
        Ok(StoreUpdate {
            store_name: self.store_name,
            marketplaces,
            is_active: self.is_active,
            sp_api_refresh_token: self
                .sp_api_refresh_token
                .map(|s| non_empty("sp_api_refresh_token", s))
                .transpose()?,
            advertising_api_refresh_token: self
                .advertising_api_refresh_token
                .map(|s| non_empty("advertising_api_refresh_token", s))
                .transpose()?,
            lwa_client,
            business_lookback_days: self.business_lookback_days,
            ads_lookback_days: self.ads_lookback_days,
        })
    }
}

/// Marketplace ids or country codes, each error naming its position.
fn parse_marketplaces(list: &[String]) -> Result<Vec<Marketplace>, ApiError> {
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            m.parse::<Marketplace>()
                .map_err(|e| ApiError::unprocessable(format!("marketplaces[{i}]"), e.to_string()))
        })
        .collect()
}

/// Stops the store's syncs, scheduled and manual (its data and history stay).
#[utoipa::path(post, path = "/stores/{store_id}/deactivate", tag = "stores",
    params(("store_id" = i64, Path, description = "The store")),
    responses((status = 200, description = "The deactivated store", body = StoreView), BadRequest, Unauthorized, NotFound))]
async fn deactivate_store(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
) -> Result<axum::Json<StoreView>, ApiError> {
    let store = state.db.stores().set_active(caller.scope(), id, false).await?;
    Ok(axum::Json(store.into()))
}

/// Deletes the store with its sync history and synced data.
#[utoipa::path(delete, path = "/stores/{store_id}", tag = "stores",
    params(("store_id" = i64, Path, description = "The store")),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, NotFound))]
async fn delete_store(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
) -> Result<StatusCode, ApiError> {
    state.db.stores().delete(caller.scope(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a check of one API's credentials found.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialCheck {
    /// `valid` (Amazon accepted them), `not_configured` (the store has none:
    /// nothing was checked) or `failed`.
    #[schema(example = "failed")]
    pub status: &'static str,
    /// When failed: the error class a sync would record (`unauthorized`: the
    /// store needs re-authorization; `transient`, `throttled`: try again).
    #[schema(example = "unauthorized")]
    pub error_class: Option<&'static str>,
    /// When failed: what failed.
    #[schema(example = "refreshing the SP-API token: Login with Amazon refused the grant: invalid_grant")]
    pub message: Option<String>,
}

impl From<&amzsync_sync::CheckOutcome> for CredentialCheck {
    fn from(outcome: &amzsync_sync::CheckOutcome) -> Self {
        use amzsync_sync::CheckOutcome as O;
        match outcome {
            O::Valid => CredentialCheck {
                status: "valid",
                error_class: None,
                message: None,
            },
            O::NotConfigured => CredentialCheck {
                status: "not_configured",
                error_class: None,
                message: None,
            },
            O::Failed { class, message } => CredentialCheck {
                status: "failed",
                error_class: Some(class.as_str()),
                message: Some(message.clone()),
            },
        }
    }
}

/// An Ads profile of the store's seller that the Ads authorization reaches.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedProfileView {
    #[schema(example = 3_245_000_000_000_000_i64)]
    pub profile_id: i64,
    #[schema(example = "ATVPDKIKX0DER")]
    pub marketplace_id: String,
    #[schema(example = "US")]
    pub country_code: String,
}

/// The result of verifying a store's credentials against Amazon.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    #[schema(example = 1)]
    pub store_id: i64,
    pub checked_at: DateTime<Utc>,
    /// Whether every credential the store has works (the SP-API one is required).
    pub valid: bool,
    /// The SP-API refresh token: a real Login with Amazon refresh.
    pub sp_api: CredentialCheck,
    /// The Advertising API refresh token: a real refresh and the profile
    /// discovery a sync does; valid only if it reaches a seller profile of
    /// the store's seller in one of its marketplaces.
    pub advertising: CredentialCheck,
    /// The Ads profiles found (empty unless `advertising` is valid).
    pub ads_profiles: Vec<VerifiedProfileView>,
}

impl From<amzsync_sync::Verification> for Verification {
    fn from(v: amzsync_sync::Verification) -> Self {
        Verification {
            store_id: v.store_id.0,
            checked_at: v.checked_at,
            valid: v.all_valid(),
            sp_api: (&v.sp_api).into(),
            advertising: (&v.advertising).into(),
            ads_profiles: v
                .ads_profiles
                .into_iter()
                .map(|p| VerifiedProfileView {
                    profile_id: p.profile_id,
                    marketplace_id: p.marketplace_id,
                    country_code: p.country_code,
                })
                .collect(),
        }
    }
}

/// Checks the store's credentials with Amazon now: a real Login with Amazon
/// refresh of each refresh token, and Ads profile discovery. Nothing is
/// synced or stored. The answer is 200 whatever Amazon says; `valid` and each
/// check tell what works.
#[utoipa::path(post, path = "/stores/{store_id}/verify", tag = "stores",
    params(("store_id" = i64, Path, description = "The store")),
    responses((status = 200, description = "What works and what fails", body = Verification),
        BadRequest, Unauthorized, NotFound))]
async fn verify_store(
    State(state): State<AppState>,
    caller: Caller,
    StoreIdPath(id): StoreIdPath,
) -> Result<axum::Json<Verification>, ApiError> {
    let verification = state.engine.verify(caller.scope(), id).await?;
    Ok(axum::Json(verification.into()))
}
