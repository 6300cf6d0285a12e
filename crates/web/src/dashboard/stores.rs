//! Store management: add a store, update its credentials, turn scheduled
//! syncs off and on, delete it after a confirmation. The forms go through the
//! API's own validation ([`CreateStore`], [`UpdateStore`]), so both faces
//! accept and refuse the same things. Secrets are write-only: the forms never
//! show one back, not even after a refused submission.

use amzsync_db::Store;
use amzsync_domain::{Region, StoreId};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::i18n::Text;
use super::page::{Chrome, render, respond};
use super::parse_id;
use super::session::Viewer;
use crate::api::stores::{CreateStore, UpdateStore};
use crate::{ApiError, AppState};

/// The new-store form's fields, as posted.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewStoreForm {
    #[serde(default)]
    store_name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    marketplaces: String,
    #[serde(default)]
    seller_id: String,
    #[serde(default)]
    sp_api_refresh_token: String,
    #[serde(default)]
    advertising_api_refresh_token: String,
    #[serde(default)]
    sp_api_client_id: String,
    #[serde(default)]
    sp_api_client_secret: String,
}

fn secret(raw: &str) -> Option<SecretString> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| SecretString::from(raw.to_owned()))
}

fn text(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.to_owned())
}

#[derive(Debug)]
struct RegionChoice {
    value: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/store_new.html")]
struct NewStorePage {
    chrome: Chrome,
    t: &'static Text,
    store_name: String,
    marketplaces: String,
    seller_id: String,
    sp_api_client_id: String,
    regions: Vec<RegionChoice>,
    error: Option<String>,
}

fn new_store_page(viewer: &Viewer, uri: &Uri, form: &NewStoreForm, error: Option<String>) -> NewStorePage {
    let t = viewer.lang.text();
    let region = if form.region.is_empty() {
        "na"
    } else {
        form.region.as_str()
    };
    NewStorePage {
        chrome: Chrome::for_viewer(viewer, uri, "add", t.add_store_title),
        t,
        store_name: form.store_name.clone(),
        marketplaces: form.marketplaces.clone(),
        seller_id: form.seller_id.clone(),
        sp_api_client_id: form.sp_api_client_id.clone(),
        regions: [Region::Na, Region::Eu, Region::Fe]
            .into_iter()
            .map(|r| RegionChoice {
                value: r.as_str(),
                selected: r.as_str() == region,
            })
            .collect(),
        error,
    }
}

/// What a refused submission says: the API's message, naming the field.
fn refusal(err: &ApiError) -> Option<String> {
    match err {
        ApiError::Invalid { field, message, .. } => Some(match field {
            Some(f) => format!("{f}: {message}"),
            None => message.clone(),
        }),
        ApiError::Conflict { message, .. } => Some(message.clone()),
        _ => None,
    }
}

pub(crate) async fn new_form(viewer: Viewer, uri: Uri) -> Response {
    render(
        StatusCode::OK,
        &new_store_page(&viewer, &uri, &NewStoreForm::default(), None),
    )
}

/// `POST /stores`: creates the store and opens its page; a refusal shows the
/// form again with the reason (and without the secrets).
pub(crate) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Form(form): Form<NewStoreForm>,
) -> Response {
    let request = CreateStore {
        store_name: form.store_name.trim().to_owned(),
        region: form.region.trim().to_owned(),
        marketplaces: form
            .marketplaces
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        seller_id: form.seller_id.trim().to_owned(),
        sp_api_refresh_token: SecretString::from(form.sp_api_refresh_token.trim().to_owned()),
        advertising_api_refresh_token: secret(&form.advertising_api_refresh_token),
        sp_api_client_id: text(&form.sp_api_client_id),
        sp_api_client_secret: secret(&form.sp_api_client_secret),
        // The form has no lookback fields: the configured defaults apply.
        business_lookback_days: None,
        ads_lookback_days: None,
    };
    let created = match request.into_new_store(&viewer.caller()) {
        Ok(new) => state.db.stores().create(new).await.map_err(ApiError::from),
        Err(err) => Err(err),
    };
    match created {
        Ok(store) => {
            tracing::info!(store_id = %store.id, "store added from the dashboard");
            Redirect::to(&format!("/stores/{}", store.id)).into_response()
        }
        Err(err) => match refusal(&err) {
            Some(message) => {
                let status = err.into_response().status();
                render(status, &new_store_page(&viewer, &uri, &form, Some(message)))
            }
            None => respond(&viewer, &uri, Err(err)),
        },
    }
}

#[derive(Template)]
#[template(path = "dashboard/store_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    t: &'static Text,
    store: Store,
    needs_reauth: bool,
    saved: bool,
    error: Option<String>,
    verification: Option<VerifyView>,
}

/// A verification's result, as the settings page shows it.
struct VerifyView {
    valid: bool,
    rows: Vec<VerifyRow>,
    /// "US (123…), CA (456…)", or empty.
    profiles: String,
}

struct VerifyRow {
    /// `sp-api` or `advertising` (in `data-test`).
    key: &'static str,
    api: &'static str,
    /// `valid`, `not_configured` or `failed`.
    status: &'static str,
    /// The badge's colour: a task status's.
    badge: &'static str,
    status_label: &'static str,
    class_label: Option<&'static str>,
    message: Option<String>,
}

impl VerifyView {
    fn new(t: &'static Text, v: &amzsync_sync::Verification) -> Self {
        use amzsync_sync::CheckOutcome as O;
        let row = |key, api, outcome: &O| match outcome {
            O::Valid => VerifyRow {
                key,
                api,
                status: "valid",
                badge: "success",
                status_label: t.verify_valid,
                class_label: None,
                message: None,
            },
            O::NotConfigured => VerifyRow {
                key,
                api,
                status: "not_configured",
                badge: "never",
                status_label: t.verify_not_configured,
                class_label: None,
                message: None,
            },
            O::Failed { class, message } => VerifyRow {
                key,
                api,
                status: "failed",
                badge: "failed",
                status_label: t.verify_failed,
                class_label: Some(t.error_class(*class)),
                message: Some(message.clone()),
            },
        };
        VerifyView {
            valid: v.all_valid(),
            rows: vec![
                row("sp-api", t.verify_sp_api, &v.sp_api),
                row("advertising", t.verify_advertising, &v.advertising),
            ],
            profiles: v
                .ads_profiles
                .iter()
                .map(|p| format!("{} ({})", p.country_code, p.profile_id))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SettingsQuery {
    saved: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    id: StoreId,
    status: StatusCode,
    saved: bool,
    error: Option<String>,
    verification: Option<&amzsync_sync::Verification>,
) -> Result<Response, ApiError> {
    let t = viewer.lang.text();
    let store = state.db.stores().get(viewer.caller().scope(), id).await?;
    let page = SettingsPage {
        chrome: Chrome::for_viewer(
            viewer,
            uri,
            "",
            &format!("{} · {}", t.settings_title, store.store_name),
        ),
        t,
        needs_reauth: store.sync_status == amzsync_db::StoreStatus::NeedsReauth,
        store,
        saved,
        error,
        verification: verification.map(|v| VerifyView::new(t, v)),
    };
    Ok(render(status, &page))
}

pub(crate) async fn settings(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        settings_page(
            &state,
            &viewer,
            &uri,
            id,
            StatusCode::OK,
            q.saved.is_some(),
            None,
            None,
        )
        .await
    }
    .await;
    respond(&viewer, &uri, result)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CredentialsForm {
    #[serde(default)]
    sp_api_refresh_token: String,
    #[serde(default)]
    advertising_api_refresh_token: String,
    #[serde(default)]
    sp_api_client_id: String,
    #[serde(default)]
    sp_api_client_secret: String,
}

/// `POST /stores/{id}/credentials`: replaces the secrets that were filled in.
pub(crate) async fn update_credentials(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        let change = UpdateStore {
            sp_api_refresh_token: secret(&form.sp_api_refresh_token),
            advertising_api_refresh_token: secret(&form.advertising_api_refresh_token),
            sp_api_client_id: text(&form.sp_api_client_id),
            sp_api_client_secret: secret(&form.sp_api_client_secret),
            ..UpdateStore::default()
        };
        let updated = match change.into_change() {
            Ok(change) => state
                .db
                .stores()
                .update(viewer.caller().scope(), id, change)
                .await
                .map_err(ApiError::from),
            Err(err) => Err(err),
        };
        match updated {
            Ok(_) => Ok(Redirect::to(&format!("/stores/{id}/settings?saved=1")).into_response()),
            Err(err) => match refusal(&err) {
                Some(message) => {
                    let status = err.into_response().status();
                    settings_page(&state, &viewer, &uri, id, status, false, Some(message), None).await
                }
                None => Err(err),
            },
        }
    }
    .await;
    respond(&viewer, &uri, result)
}

/// `POST /stores/{id}/verify`: asks Amazon whether the store's credentials
/// work and shows the settings page with the answer (nothing is stored, so
/// there is nothing to redirect to).
pub(crate) async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        let verification = state.engine.verify(viewer.caller().scope(), id).await?;
        settings_page(
            &state,
            &viewer,
            &uri,
            id,
            StatusCode::OK,
            false,
            None,
            Some(&verification),
        )
        .await
    }
    .await;
    respond(&viewer, &uri, result)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActiveForm {
    active: Option<String>,
}

/// `POST /stores/{id}/active` with `active=true|false`.
pub(crate) async fn set_active(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        let active = form.active.as_deref() == Some("true");
        state
            .db
            .stores()
            .set_active(viewer.caller().scope(), id, active)
            .await?;
        Ok(Redirect::to(&format!("/stores/{id}/settings?saved=1")).into_response())
    }
    .await;
    respond(&viewer, &uri, result)
}

#[derive(Template)]
#[template(path = "dashboard/store_delete.html")]
struct DeletePage {
    chrome: Chrome,
    t: &'static Text,
    store: Store,
}

pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        let t = viewer.lang.text();
        let store = state.db.stores().get(viewer.caller().scope(), id).await?;
        let page = DeletePage {
            chrome: Chrome::for_viewer(&viewer, &uri, "", t.delete_confirm_title),
            t,
            store,
        };
        Ok(render(StatusCode::OK, &page))
    }
    .await;
    respond(&viewer, &uri, result)
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: StoreId = parse_id(&id, "store")?;
        state.db.stores().delete(viewer.caller().scope(), id).await?;
        tracing::info!(store_id = %id, "store deleted from the dashboard");
        Ok(Redirect::to("/").into_response())
    }
    .await;
    respond(&viewer, &uri, result)
}
