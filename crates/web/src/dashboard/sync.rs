//! One store's one sync kind as a card: status badge, last sync, records,
//! freshness, progress, and the "Sync now" button. The card is also a
//! fragment (`GET /stores/{id}/sync/{kind}`) that the page's script polls
//! while a task is active, and what `POST` answers to the script.
//!
//! The button calls the same [`record_manual_sync`] as the API's trigger (the
//! engine records the task and queues its job), so a second click while a
//! task is active is the same 409, shown on the card; so are a deactivated
//! store (409) and a kind the store cannot sync (422).

use amzsync_db::Scope;
use amzsync_domain::{StoreId, SyncKind, TaskStatus};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};

use super::i18n::{Lang, Text};
use super::page::{render, respond, when};
use super::parse_id;
use super::session::{Viewer, is_fetch};
use crate::api::sync::record_manual_sync;
use crate::{ApiError, AppState};

/// Data older than this is marked stale.
const STALE_AFTER_HOURS: i64 = 48;

/// The path segment of each kind, in the order cards are shown.
pub(crate) const KINDS: [SyncKind; 3] = [SyncKind::Inventory, SyncKind::Business, SyncKind::Advertising];

/// What a card shows, already in the reader's language.
#[derive(Debug)]
pub(crate) struct KindCard {
    pub store_id: i64,
    pub kind: &'static str,
    pub label: &'static str,
    /// `never`, `pending`, `running`, `success` or `failed`: the badge's class.
    pub status: &'static str,
    pub status_label: &'static str,
    pub is_active: bool,
    pub last_sync: Option<String>,
    pub last_sync_iso: Option<String>,
    pub records_synced: Option<i64>,
    pub records_failed: Option<i64>,
    pub freshness: Option<String>,
    pub is_stale: bool,
    pub progress: Option<Progress>,
    pub task_id: Option<String>,
    pub error: Option<String>,
    /// A message about the last click (the 409), if any.
    pub notice: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct Progress {
    pub done: i32,
    pub total: i32,
    pub message: Option<String>,
}

impl KindCard {
    pub(crate) async fn load(
        state: &AppState,
        scope: Scope,
        store: StoreId,
        kind: SyncKind,
        t: &'static Text,
        now: DateTime<Utc>,
    ) -> Result<KindCard, ApiError> {
        let tasks = state.db.sync_tasks();
        let latest = tasks.latest(scope, store, kind, None).await?;
        let last_success = tasks
            .latest(scope, store, kind, Some(TaskStatus::Success))
            .await?;
        let fresh_at = last_success.as_ref().and_then(|t| t.end_time);
        let status = latest.as_ref().map(|t| t.status);
        let last_at = latest
            .as_ref()
            .map(|t| t.end_time.or(t.start_time).unwrap_or(t.created_at));
        let is_active = status.is_some_and(TaskStatus::is_active);
        Ok(KindCard {
            store_id: store.0,
            kind: slug(kind),
            label: t.kind(kind),
            status: status.map_or("never", TaskStatus::as_str),
            status_label: t.task_status(status),
            is_active,
            last_sync: last_at.map(when),
            last_sync_iso: last_at.map(|at| at.to_rfc3339()),
            records_synced: latest.as_ref().map(|t| t.records_synced),
            records_failed: latest.as_ref().map(|t| t.records_failed).filter(|n| *n > 0),
            freshness: fresh_at.map(|at| t.ago((now - at).num_seconds().max(0))),
            is_stale: fresh_at.is_some_and(|at| (now - at).num_hours() >= STALE_AFTER_HOURS),
            progress: latest.as_ref().filter(|_| is_active).map(|t| Progress {
                done: t.progress_done,
                total: t.progress_total,
                message: t.progress_message.clone(),
            }),
            task_id: latest.as_ref().map(|t| t.id.to_string()),
            error: latest
                .as_ref()
                .filter(|t| t.status == TaskStatus::Failed)
                .and_then(|t| t.error_message.clone()),
            notice: None,
        })
    }

    /// Percent done, when the engine has said how much there is.
    pub(crate) fn percent(&self) -> Option<i32> {
        self.progress
            .as_ref()
            .filter(|p| p.total > 0)
            .map(|p| (p.done.clamp(0, p.total) * 100) / p.total)
    }
}

/// The kind's spelling in dashboard paths.
pub(crate) fn slug(kind: SyncKind) -> &'static str {
    kind.as_str()
}

#[derive(Template)]
#[template(path = "dashboard/kind_card_fragment.html")]
struct CardFragment<'a> {
    t: &'static Text,
    card: &'a KindCard,
}

fn fragment(status: StatusCode, lang: Lang, card: &KindCard) -> Response {
    render(status, &CardFragment { t: lang.text(), card })
}

fn parse_kind(raw: &str) -> Result<SyncKind, ApiError> {
    parse_id(raw, "sync kind")
}

/// `GET /stores/{store_id}/sync/{kind}`: the card alone, for polling.
pub(crate) async fn card(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Path((store, kind)): Path<(String, String)>,
) -> Response {
    let result = async {
        let store: StoreId = parse_id(&store, "store")?;
        let kind = parse_kind(&kind)?;
        let scope = viewer.caller().scope();
        // Another tenant's store is a 404 even before it has any task.
        state.db.stores().get(scope, store).await?;
        let card = KindCard::load(&state, scope, store, kind, viewer.lang.text(), state.clock.now()).await?;
        Ok(fragment(StatusCode::OK, viewer.lang, &card))
    }
    .await;
    respond(&viewer, &uri, result)
}

/// `POST /stores/{store_id}/sync/{kind}`: starts a manual sync. The script
/// gets the new card (200) or the card with the refusal's message (409,
/// 422); a plain form post goes back to where it came from.
pub(crate) async fn trigger(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    headers: HeaderMap,
    Path((store, kind)): Path<(String, String)>,
) -> Response {
    let result = async {
        let store: StoreId = parse_id(&store, "store")?;
        let kind = parse_kind(&kind)?;
        let caller = viewer.caller();
        let outcome = record_manual_sync(&state, &caller, store, kind, None).await;
        let t = viewer.lang.text();
        let fetch = is_fetch(&headers);
        // The engine's refusals a person can act on are shown on the card;
        // without a script only the 409 of a running sync goes back to the
        // overview, anything else is an error page.
        let refused = match outcome {
            Ok(_) => None,
            Err(ApiError::Conflict {
                code: "sync_already_running",
                ..
            }) => Some((StatusCode::CONFLICT, t.sync_already_running)),
            Err(ApiError::Conflict {
                code: "store_inactive",
                ..
            }) if fetch => Some((StatusCode::CONFLICT, t.sync_store_inactive)),
            Err(ApiError::Invalid {
                code: "sync_unsupported",
                ..
            }) if fetch => Some((StatusCode::UNPROCESSABLE_ENTITY, t.sync_unsupported)),
            Err(other) => return Err(other),
        };
        if !fetch {
            let back = if refused.is_some() {
                format!("/?busy={}-{}#store-{}", store.0, slug(kind), store.0)
            } else {
                format!("/#store-{}", store.0)
            };
            return Ok(Redirect::to(&back).into_response());
        }
        let mut card = KindCard::load(&state, caller.scope(), store, kind, t, state.clock.now()).await?;
        let (status, notice) = refused.unwrap_or((StatusCode::OK, t.sync_started));
        card.notice = Some(notice);
        Ok(fragment(status, viewer.lang, &card))
    }
    .await;
    respond(&viewer, &uri, result)
}
