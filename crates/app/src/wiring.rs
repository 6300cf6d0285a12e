//! The composition root: from a [`Config`] to the running parts. Every role
//! (serve, api, worker, scheduler, sync, demo) starts from [`App::build`], so
//! they cannot disagree about how the pieces fit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use url::Url;

use amzsync_amazon::{Clock as AmazonClock, Endpoints, LwaApp};
use amzsync_db::{Db, Engine as DbEngine};
use amzsync_domain::Region;
use amzsync_jobs::{Backend, Queue, WorkerOptions};
use amzsync_sync::{
    AlertSettings, Alerts, AmazonSettings, AmazonTime, Engine, HousekeepingSettings, RedisRateLimiter,
    RedisTokenCache, ScheduleSettings, SyncSettings,
};

use crate::config::{Config, QueueKind};

/// Everything a role needs, built once.
pub struct App {
    pub db: Db,
    pub engine: Engine,
}

/// What only the demo changes: the simulator's clock for the Amazon client
/// (its usage plans and token lifetimes run on simulated time).
#[derive(Default)]
pub struct AmazonOverrides {
    pub clock: Option<Arc<dyn AmazonClock>>,
    pub max_permit_wait: Option<Duration>,
}

impl App {
    /// Opens the database (migrating it), connects the queue (setting it up)
    /// and builds the sync engine.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with(config, AmazonOverrides::default()).await
    }

    pub async fn build_with(config: &Config, overrides: AmazonOverrides) -> anyhow::Result<Self> {
        let db = crate::cli::open_db(config).await?;
        let queue = connect_queue(config, &db).await?;
        let mut amazon = amazon_settings(config)?;
        if let Some(wait) = overrides.max_permit_wait {
            amazon.max_permit_wait = wait;
        }
        let mut builder = Engine::builder(db.clone(), queue, amazon, sync_settings(config))
            .housekeeping(HousekeepingSettings {
                retention_days: config.sync.retention_days,
                ..HousekeepingSettings::default()
            })
            .alerts(Alerts::new(alert_settings(config)?));
        // Simulated time (the demo's simulator, or `[clock]`) drives the
        // Amazon client too: usage plans and token lifetimes are counted on it.
        let simulated: Option<Arc<dyn AmazonClock>> = overrides.clock.clone().or_else(|| {
            config
                .clock
                .is_some()
                .then(|| Arc::new(AmazonTime(db.clock())) as Arc<dyn AmazonClock>)
        });
        if let Some(clock) = simulated.clone() {
            builder = builder.amazon_clock(clock);
        }
        // With Redis, every worker on every machine draws from one usage plan
        // per seller and shares one access token per grant (FR-8).
        if let Some(url) = &config.redis_url {
            let namespace = format!("{}:amazon", config.redis_namespace);
            let mut limiter = RedisRateLimiter::connect(url, namespace.clone())
                .await
                .context("connecting to Redis for shared rate limits (redis_url)")?;
            if let Some(clock) = simulated.clone() {
                limiter = limiter.with_clock(clock);
            }
            let clock: Arc<dyn AmazonClock> =
                simulated.unwrap_or_else(|| Arc::new(amzsync_amazon::SystemClock));
            let tokens = RedisTokenCache::connect(url, namespace)
                .await
                .context("connecting to Redis for shared access tokens (redis_url)")?
                .freshness(clock, Duration::from_secs(60));
            builder = builder
                .rate_limiter(Arc::new(limiter))
                .token_cache(Arc::new(tokens));
        }
        // The recorder first, so the metrics' descriptions land in it (the
        // API's /metrics renders this same process-wide recorder).
        let _ = amzsync_web::prometheus();
        amzsync_sync::telemetry::describe();
        let engine = builder.build().context("building the sync engine")?;
        Ok(App { db, engine })
    }

    pub async fn close(self) {
        self.db.close().await;
    }
}

async fn connect_queue(config: &Config, db: &Db) -> anyhow::Result<Queue> {
    let backend = match config.queue {
        QueueKind::Database => match db.engine() {
            DbEngine::Sqlite => {
                Backend::Sqlite(db.sqlite_pool().expect("an SQLite Db has an SQLite pool").clone())
            }
            DbEngine::Postgres => Backend::Postgres(
                db.postgres_pool()
                    .expect("a PostgreSQL Db has a PostgreSQL pool")
                    .clone(),
            ),
        },
        QueueKind::Redis => Backend::Redis {
            url: config
                .redis_url
                .clone()
                .context("redis_url is required with queue = \"redis\"")?,
            namespace: config.redis_namespace.clone(),
        },
    };
    let queue = Queue::connect(backend, amzsync_sync::QUEUE)
        .await
        .context("connecting to the job queue")?;
    queue.setup().await.context("setting up the job queue")?;
    Ok(queue)
}

/// With `amazon.endpoint` set (the simulator), every region uses it.
fn amazon_settings(config: &Config) -> anyhow::Result<AmazonSettings> {
    let lwa_app = match (&config.amazon.lwa_client_id, &config.amazon.lwa_client_secret) {
        (Some(id), Some(secret)) => Some(LwaApp {
            client_id: id.clone(),
            client_secret: secret.expose_secret().to_owned().into(),
        }),
        _ => None,
    };
    let mut endpoints = HashMap::new();
    if let Some(base) = &config.amazon.endpoint {
        let base = Url::parse(base).context("amazon.endpoint")?;
        let one = Endpoints {
            lwa_token: base.join("auth/o2/token").context("amazon.endpoint")?,
            sp_api: base.clone(),
            ads_api: base,
        };
        for region in Region::ALL {
            endpoints.insert(region, one.clone());
        }
    }
    Ok(AmazonSettings {
        lwa_app,
        endpoints,
        ..AmazonSettings::default()
    })
}

fn sync_settings(config: &Config) -> SyncSettings {
    let s = &config.sync;
    SyncSettings {
        business_lookback_days: s.business_lookback_days,
        ads_lookback_days: s.ads_lookback_days,
        first_run_backfill_days: s.first_run_backfill_days,
        retries: s.retries,
        retry_delay: Duration::from_secs(s.retry_delay_seconds),
        poll_delay: Duration::from_secs(s.poll_delay_seconds),
        report_deadline: Duration::from_secs(s.report_deadline_minutes.saturating_mul(60)),
        lease: Duration::from_secs(s.lease_seconds),
        reconcile_grace: Duration::from_secs(s.reconcile_grace_seconds),
        schedule: ScheduleSettings {
            time_zone: s.time_zone.clone(),
            inventory: s.inventory_cron.clone(),
            business: s.business_cron.clone(),
            advertising: s.advertising_cron.clone(),
            ..ScheduleSettings::default()
        },
        ..SyncSettings::default()
    }
}

fn alert_settings(config: &Config) -> anyhow::Result<AlertSettings> {
    let webhook_url = match &config.sync.alert_webhook_url {
        Some(url) => Some(Url::parse(url).context("sync.alert_webhook_url")?),
        None => None,
    };
    Ok(AlertSettings {
        webhook_url,
        stale_after: Duration::from_secs(config.sync.stale_after_hours.saturating_mul(3600)),
        ..AlertSettings::default()
    })
}

/// Worker settings from the configuration.
pub fn worker_options(config: &Config) -> WorkerOptions {
    WorkerOptions {
        concurrency: usize::try_from(config.worker_concurrency).unwrap_or(usize::MAX),
        heartbeat: Duration::from_secs(config.worker_heartbeat_seconds),
        ..WorkerOptions::default()
    }
}
