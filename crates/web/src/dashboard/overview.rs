//! `/`: every store of the signed-in user and where each sync kind stands.

use amzsync_db::{Store, StoreStatus};
use amzsync_domain::Marketplace;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::page::{Chrome, render, respond};
use super::session::Viewer;
use super::sync::{KINDS, KindCard, slug};
use crate::AppState;

/// A store as the overview and the store page show it.
#[derive(Debug)]
pub(crate) struct StoreSummary {
    pub id: i64,
    pub name: String,
    pub region: &'static str,
    pub seller_id: String,
    /// Country codes (`US`), the primary marketplace first.
    pub marketplaces: Vec<String>,
    pub needs_reauth: bool,
    pub is_active: bool,
    pub cards: Vec<KindCard>,
}

impl StoreSummary {
    pub(crate) fn new(store: &Store, cards: Vec<KindCard>) -> Self {
        StoreSummary {
            id: store.id.0,
            name: store.store_name.clone(),
            region: store.region.as_str(),
            seller_id: store.seller_id.clone(),
            marketplaces: store.marketplaces.iter().map(|m| country(m)).collect(),
            needs_reauth: store.sync_status == StoreStatus::NeedsReauth,
            is_active: store.is_active,
            cards,
        }
    }
}

/// `US` for `ATVPDKIKX0DER`; an unknown id as it is.
pub(crate) fn country(marketplace_id: &str) -> String {
    Marketplace::by_id(marketplace_id).map_or_else(|| marketplace_id.to_owned(), |m| m.country().to_owned())
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    stores: Vec<StoreSummary>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OverviewQuery {
    /// `{store_id}-{kind}` whose sync button met a running task (no-script flow).
    busy: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let result = async {
        let t = viewer.lang.text();
        let scope = viewer.caller().scope();
        let now = state.clock.now();
        let mut stores = Vec::new();
        for store in state.db.stores().list(scope).await? {
            let mut cards = Vec::with_capacity(KINDS.len());
            for kind in KINDS {
                let mut card = KindCard::load(&state, scope, store.id, kind, t, now).await?;
                if q.busy.as_deref() == Some(&format!("{}-{}", store.id.0, slug(kind))) {
                    card.notice = Some(t.sync_already_running);
                }
                cards.push(card);
            }
            stores.push(StoreSummary::new(&store, cards));
        }
        let page = OverviewPage {
            chrome: Chrome::for_viewer(&viewer, &uri, "stores", t.stores_title),
            stores,
        };
        Ok(render(StatusCode::OK, &page))
    }
    .await;
    respond(&viewer, &uri, result)
}
