//! One [`Client`] per (region, LWA application), built on first use and shared
//! by every task of the process. All of them share one token cache and one
//! rate limiter (traits of `amzsync-amazon`, so a Redis implementation can be
//! plugged in to share quotas and tokens across processes, FR-8).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use amzsync_amazon::lwa::{AccessToken, TokenCache, TokenKey};
use amzsync_amazon::throttle::RateLimiter;
use amzsync_amazon::{Client, Clock, Config, Endpoints, LwaApp, Region as AmazonRegion};
use amzsync_db::StoreCredentials;
use amzsync_domain::{ErrorClass, Region};
use secrecy::ExposeSecret;

use crate::failure::Failure;
use crate::settings::AmazonSettings;

#[derive(Debug, Clone)]
pub(crate) struct Clients {
    settings: AmazonSettings,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn TokenCache>,
    limiter: Arc<dyn RateLimiter>,
    built: Arc<Mutex<HashMap<(Region, String), Built>>>,
}

#[derive(Debug, Clone)]
struct Built {
    /// The secret the client was built with: a store whose secret was
    /// rotated gets a new client rather than the stale one.
    secret: String,
    client: Client,
}

impl Clients {
    pub(crate) fn new(
        settings: AmazonSettings,
        clock: Arc<dyn Clock>,
        tokens: Arc<dyn TokenCache>,
        limiter: Arc<dyn RateLimiter>,
    ) -> Self {
        Self {
            settings,
            clock,
            tokens,
            limiter,
            built: Arc::default(),
        }
    }

    /// The global LWA application, if configured.
    pub(crate) fn global_app(&self) -> Option<&LwaApp> {
        self.settings.lwa_app.as_ref()
    }

    /// The client of a store: its region, acting as the store's own LWA
    /// application or else the global one (the Ads API is called as the same
    /// application).
    pub(crate) fn for_store(
        &self,
        region: Region,
        credentials: &StoreCredentials,
    ) -> Result<Client, Failure> {
        let app = match (&credentials.sp_api_client_id, &credentials.sp_api_client_secret) {
            (Some(client_id), Some(client_secret)) => LwaApp {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            },
            _ => self.global_app().cloned().ok_or_else(|| {
                Failure::new(
                    ErrorClass::Internal,
                    "no LWA application: configure amazon.lwa_client_id and amazon.lwa_client_secret, or set them on the store",
                )
            })?,
        };
        self.get(region, &app)
            .map_err(|e| Failure::amazon("building the Amazon client", &e))
    }

    /// The access token cached for `key`, fresh or not.
    pub(crate) async fn cached_token(&self, key: &TokenKey) -> Option<AccessToken> {
        self.tokens.get(key).await
    }

    /// The client for `region` acting as `app`.
    pub(crate) fn get(&self, region: Region, app: &LwaApp) -> Result<Client, amzsync_amazon::Error> {
        let key = (region, app.client_id.clone());
        let secret = app.client_secret.expose_secret();
        // A poisoned map only means a panic elsewhere mid-insert; the map
        // itself is still consistent.
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = built.get(&key)
            && b.secret == secret
        {
            return Ok(b.client.clone());
        }
        let amazon_region = match region {
            Region::Na => AmazonRegion::NorthAmerica,
            Region::Eu => AmazonRegion::Europe,
            Region::Fe => AmazonRegion::FarEast,
        };
        let mut config = Config::new(amazon_region, app.clone());
        config.endpoints = self
            .settings
            .endpoints
            .get(&region)
            .cloned()
            .unwrap_or_else(|| Endpoints::for_region(amazon_region));
        config.timeouts = self.settings.timeouts;
        config.max_permit_wait = self.settings.max_permit_wait;
        let client = Client::builder(config)
            .clock(Arc::clone(&self.clock))
            .token_cache(Arc::clone(&self.tokens))
            .rate_limiter(Arc::clone(&self.limiter))
            .observer(Arc::new(crate::telemetry::CallMetrics))
            .build()?;
        built.insert(
            key,
            Built {
                secret: secret.to_owned(),
                client: client.clone(),
            },
        );
        Ok(client)
    }
}
