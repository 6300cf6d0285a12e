//! "Verify credentials": asks Amazon whether a store's secrets work, now,
//! without syncing anything. The SP-API refresh token gets a real LWA refresh
//! (a cached access token proves nothing about a grant revoked since), and
//! the Ads refresh token a real refresh plus the profile discovery a sync
//! would do. Each API gets its own answer: what works, and what fails with
//! the error class a sync would have recorded.

use amzsync_amazon::ads::AdsAccount;
use amzsync_amazon::{Client, lwa::AccessToken};
use amzsync_db::{Error as DbError, Scope, Store};
use amzsync_domain::{ErrorClass, StoreId};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::engine::Engine;
use crate::error::TriggerError;
use crate::failure::Failure;

/// What a check of one API's credentials found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Amazon accepted the credentials.
    Valid,
    /// The store has no credentials for this API: nothing was checked.
    NotConfigured,
    /// The check failed; `class` is what a sync would have recorded
    /// ([`ErrorClass::Unauthorized`]: the store needs re-authorization;
    /// [`ErrorClass::Transient`] or [`ErrorClass::Throttled`]: try again).
    Failed {
        /// The failure's class.
        class: ErrorClass,
        /// What failed, for a person.
        message: String,
    },
}

impl CheckOutcome {
    fn failed(failure: Failure) -> Self {
        CheckOutcome::Failed {
            class: failure.class,
            message: failure.message,
        }
    }

    /// Whether Amazon accepted the credentials.
    pub fn is_valid(&self) -> bool {
        matches!(self, CheckOutcome::Valid)
    }
}

/// An Ads profile of the store's seller in one of the store's marketplaces,
/// as discovery found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProfile {
    /// The profile id (`Amazon-Advertising-API-Scope`).
    pub profile_id: i64,
    /// The SP-API marketplace id.
    pub marketplace_id: String,
    /// `US`, `DE`, … as the Ads API writes it.
    pub country_code: String,
}

/// The result of [`Engine::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The store checked.
    pub store_id: StoreId,
    /// When the checks ran (the engine's clock).
    pub checked_at: DateTime<Utc>,
    /// The SP-API refresh token: a real LWA refresh.
    pub sp_api: CheckOutcome,
    /// The Ads refresh token: a real LWA refresh and profile discovery; valid
    /// only if it reaches a seller profile of the store's seller in one of
    /// its marketplaces.
    pub advertising: CheckOutcome,
    /// The profiles discovery found (empty unless `advertising` is valid).
    pub ads_profiles: Vec<VerifiedProfile>,
}

impl Verification {
    /// Whether every configured credential works (the SP-API one is required).
    pub fn all_valid(&self) -> bool {
        self.sp_api.is_valid()
            && matches!(
                self.advertising,
                CheckOutcome::Valid | CheckOutcome::NotConfigured
            )
    }
}

impl Engine {
    /// Checks a store's credentials against Amazon, with the engine's cached
    /// clients (so the calls share the process's rate limits). Nothing is
    /// stored: the store's status and tasks are left as they are.
    ///
    /// Errors are about the request, not the credentials:
    /// [`TriggerError::StoreNotFound`] for no such store (or another
    /// tenant's), [`TriggerError::Db`] when the database fails or a secret
    /// cannot be decrypted. What Amazon says is in the [`Verification`].
    pub async fn verify(&self, scope: Scope, store_id: StoreId) -> Result<Verification, TriggerError> {
        let db = &self.inner.db;
        let not_found = |e: DbError| match e {
            DbError::NotFound { .. } => TriggerError::StoreNotFound,
            other => TriggerError::Db(other),
        };
        let store = db.stores().get(scope, store_id).await.map_err(not_found)?;
        let credentials = db
            .stores()
            .credentials(scope, store_id)
            .await
            .map_err(not_found)?;
        let checked_at = self.now();
        let client = self.inner.clients.for_store(store.region, &credentials);
        let sp_api = match (&client, &credentials.sp_api_refresh_token) {
            (_, None) => CheckOutcome::NotConfigured,
            (Err(failure), Some(_)) => CheckOutcome::failed(failure.clone()),
            (Ok(client), Some(token)) => match self.refresh(client, token).await {
                Ok(_) => CheckOutcome::Valid,
                Err(e) => CheckOutcome::failed(Failure::amazon("refreshing the SP-API token", &e)),
            },
        };
        let (advertising, ads_profiles) = match (&client, &credentials.advertising_api_refresh_token) {
            (_, None) => (CheckOutcome::NotConfigured, Vec::new()),
            (Err(failure), Some(_)) => (CheckOutcome::failed(failure.clone()), Vec::new()),
            (Ok(client), Some(token)) => match self.check_ads(client, &store, token).await {
                Ok(profiles) => (CheckOutcome::Valid, profiles),
                Err(failure) => (CheckOutcome::failed(failure), Vec::new()),
            },
        };
        tracing::info!(store_id = %store_id, sp_api = ?outcome_label(&sp_api),
            advertising = ?outcome_label(&advertising), "credentials verified");
        Ok(Verification {
            store_id,
            checked_at,
            sp_api,
            advertising,
            ads_profiles,
        })
    }

    /// A real LWA refresh: the cached access token (if any) is dropped first,
    /// so LWA is asked whatever the cache holds.
    async fn refresh(
        &self,
        client: &Client,
        refresh_token: &SecretString,
    ) -> Result<AccessToken, amzsync_amazon::Error> {
        let tokens = client.tokens();
        if let Some(cached) = self.inner.clients.cached_token(&tokens.key(refresh_token)).await {
            tokens.invalidate(refresh_token, &cached).await;
        }
        tokens.access_token(refresh_token).await
    }

    async fn check_ads(
        &self,
        client: &Client,
        store: &Store,
        refresh_token: &SecretString,
    ) -> Result<Vec<VerifiedProfile>, Failure> {
        self.refresh(client, refresh_token)
            .await
            .map_err(|e| Failure::amazon("refreshing the Advertising API token", &e))?;
        let account = AdsAccount::new(refresh_token.clone());
        let all = client
            .ads(&account)
            .profiles()
            .await
            .map_err(|e| Failure::amazon("listing the Ads profiles", &e))?;
        let found: Vec<VerifiedProfile> = store
            .marketplaces
            .iter()
            .flat_map(|marketplace_id| {
                all.iter()
                    .filter(move |p| {
                        p.is_seller()
                            && p.account_info.id == store.seller_id
                            && p.marketplace_id() == marketplace_id
                    })
                    .map(|p| VerifiedProfile {
                        profile_id: p.profile_id,
                        marketplace_id: p.marketplace_id().to_owned(),
                        country_code: p.country_code.clone(),
                    })
            })
            .collect();
        if found.is_empty() {
            return Err(Failure::new(
                ErrorClass::Forbidden,
                format!(
                    "the Ads authorization reaches no seller profile of {} in {} ({} profiles in all)",
                    store.seller_id,
                    store.marketplaces.join(", "),
                    all.len()
                ),
            ));
        }
        Ok(found)
    }
}

fn outcome_label(outcome: &CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Valid => "valid",
        CheckOutcome::NotConfigured => "not_configured",
        CheckOutcome::Failed { class, .. } => class.as_str(),
    }
}
