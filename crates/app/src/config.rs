//! `app::Config`: defaults in code, then an optional TOML file (`--config` or
//! `AMZSYNC_CONFIG`), then `AMZSYNC_…` environment variables (`__` nests). Values
//! are parsed into real types here, so a bad one stops start-up naming its key.

pub mod reference;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use amzsync_db::{Cipher, KEY_LEN};

/// Everything amzsync can be configured with.
///
/// The doc comment of each field is that key's entry in the configuration
/// reference (docs/deployment.md, `amzsync config reference`): write it for
/// the person configuring amzsync, and name the checks `validate` makes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Embedded mode's directory (relative to the working directory):
    /// `amzsync.db` and the generated `encryption.key`. Created if missing.
    #[schema(value_type = String)]
    pub data_dir: PathBuf,
    /// `postgres://…` or `postgresql://…` switches to PostgreSQL;
    /// `sqlite://path` (or `sqlite:path`) names another SQLite file. Anything
    /// else is refused. Unset: `<data_dir>/amzsync.db`.
    pub database_url: Option<String>,
    /// PostgreSQL pool size per process, at least 1. (SQLite uses 8.)
    pub database_max_connections: u32,
    /// Key for stores' secrets: base64 of exactly 32 bytes
    /// (`head -c 32 /dev/urandom | base64`), the same for every process of a
    /// deployment. Wins over `encryption_key_file`.
    #[serde(serialize_with = "redact")]
    #[schema(value_type = Option<String>)]
    pub encryption_key: Option<SecretString>,
    /// A file holding that key (base64). Must exist; never created. With
    /// neither key setting: SQLite uses `<data_dir>/encryption.key` (created
    /// on first start, 0600); PostgreSQL refuses to start.
    #[schema(value_type = Option<String>)]
    pub encryption_key_file: Option<PathBuf>,
    /// `text` for people (without timestamps, which journald adds) or `json`
    /// for log collectors. The level comes from `AMZSYNC_LOG`.
    pub log_format: LogFormat,
    /// HTTP address of `serve` and `api` (and `demo`): an IP and a port
    /// (`localhost:8080` is refused). `--listen` overrides it.
    pub listen: String,
    /// A second HTTP address (an IP and a port; port `0` lets the system pick,
    /// and the address is printed on stderr as
    /// `amzsync: metrics at http://…/metrics`) where `worker`, `scheduler`,
    /// `serve` and `api` serve only `/healthz`, `/readyz` and `/metrics`,
    /// without a token. Unset: `worker` and `scheduler` serve no HTTP at all.
    /// Keep it on a private interface.
    pub metrics_listen: Option<String>,
    /// `database`: the job queue lives in the data's own SQLite file or
    /// PostgreSQL database (a task and its job commit together). `redis`: on
    /// `redis_url`.
    pub queue: QueueKind,
    /// A Redis server. When set, every process shares Amazon rate limits and
    /// LWA access tokens through it (and must reach it at start); required
    /// with `queue = "redis"`. Must start with `redis://` (TLS to Redis is not
    /// supported by this build).
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (rate limits and tokens under
    /// `<namespace>:amazon:`).
    pub redis_namespace: String,
    /// Jobs one worker process (`serve`, `worker`, `sync`) runs at once, at
    /// least 1.
    pub worker_concurrency: u32,
    /// Seconds between a worker's heartbeats, at least 1. After three missed
    /// ones the worker is presumed dead and another worker re-runs the jobs it
    /// held.
    pub worker_heartbeat_seconds: u64,
    /// How amzsync reaches Amazon.
    pub amazon: AmazonConfig,
    /// How syncs are planned, retried and scheduled.
    pub sync: SyncConfig,
    /// A simulated clock, for running against the simulator only.
    pub clock: Option<ClockConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueueKind {
    Database,
    Redis,
}

/// The `[amazon]` table.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AmazonConfig {
    /// The LWA application used for stores without one of their own. Set with
    /// the secret or not at all. Without it, such stores' syncs fail
    /// (`internal`).
    pub lwa_client_id: Option<String>,
    /// The client secret of that LWA application.
    #[serde(serialize_with = "redact")]
    // utoipa would serialize the default on its own, where `redact` does not apply.
    #[schema(value_type = Option<String>, default = json!(null))]
    pub lwa_client_secret: Option<SecretString>,
    /// One base URL for LWA, SP-API and Ads in every region instead of
    /// Amazon's hosts: for the simulator (`amzsync sim`), never for
    /// production. Must be a URL.
    pub endpoint: Option<String>,
}

/// The `[clock]` table: every clock of the process (the schedules, the
/// windows, task records, usage plans and token lifetimes) runs on simulated
/// time, so days of schedules pass in minutes against the simulator (the
/// chaos suite, soaks, demos). Every process of a deployment, and the
/// simulator, must be given the same three values; `amazon.endpoint` is
/// required, since Amazon's own limits and days run on real time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// A simulated clock for runs against the simulator only (requires
    /// `amazon.endpoint`): simulated seconds per real second, above 0 and at
    /// most 100,000 (1,440 is a day a minute). Schedules, windows, task
    /// records, usage plans and token lifetimes then run on simulated time;
    /// `sync.lease_seconds` and `sync.reconcile_grace_seconds` stay real time.
    /// Give every process (and the simulator) the same three `clock` values.
    pub speed: f64,
    /// The simulated time at `clock.origin` (RFC 3339, e.g.
    /// `2026-01-01T00:00:00Z`).
    pub start: chrono::DateTime<chrono::Utc>,
    /// A real instant (RFC 3339), such as when the simulator started.
    pub origin: chrono::DateTime<chrono::Utc>,
}

/// The fastest simulated clock accepted: a real millisecond is then about
/// two simulated minutes, still finer than any delay the engine plans.
pub const MAX_CLOCK_SPEED: f64 = 100_000.0;

impl ClockConfig {
    /// The clock these values describe.
    pub fn clock(&self) -> anyhow::Result<amzsync_domain::SimulatedClock> {
        amzsync_domain::SimulatedClock::new(self.start, self.origin, self.speed)
            .map_err(|e| anyhow::anyhow!("invalid configuration: clock.speed: {e}"))
    }
}

/// The `[sync]` table.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// IANA time zone of the cron expressions (and of the daily archival), or
    /// `marketplace`: each store's crons in its own zone, that of its
    /// marketplace whose day ends last (the archival in UTC), so that with
    /// stores in several regions each store's yesterday arrives by its own
    /// morning.
    pub time_zone: String,
    /// When inventory syncs for every active store.
    pub inventory_cron: String,
    /// When Sales & Traffic syncs.
    pub business_cron: String,
    /// When advertising syncs start for every active store with an Ads
    /// authorization.
    pub advertising_cron: String,
    /// Days each business sync re-pulls (Amazon restates a week), and the age
    /// at which a day is final and, once fetched, not requested again; 1 to
    /// 60. A store's own `business_lookback_days` overrides it.
    pub business_lookback_days: u32,
    /// The same for advertising (attribution restates); 1 to 60. A store's
    /// own `ads_lookback_days` overrides it.
    pub ads_lookback_days: u32,
    /// Days a store's first business or advertising sync backfills, at least 1.
    pub first_run_backfill_days: u32,
    /// Retries of a `transient`, `throttled` or `report_fatal` failure after
    /// the first attempt.
    pub retries: u32,
    /// Delay before such a retry (unless Amazon said how long to wait).
    pub retry_delay_seconds: u64,
    /// Delay between polls of a report Amazon is still generating (spends no
    /// retry).
    pub poll_delay_seconds: u64,
    /// How long a report may stay not ready before it is given up and the
    /// task retried with a new one (spending a retry), at least 30 (Amazon
    /// refuses a second near-real-time inventory report within half an
    /// hour): Amazon's reports have sat queued for days.
    pub report_deadline_minutes: u64,
    /// How long a claimed task belongs to the worker that claimed it, at
    /// least 1: a dead worker's task is taken over once it expires. It must
    /// outlast one delivery's work, including rate-limit waits (up to 10 s
    /// each) and the download of its largest report, or a slow delivery can
    /// lose its task to another worker.
    pub lease_seconds: u64,
    /// How long a task may be overdue for its job (pending past its retry
    /// time or creation, running past its lease) before every scheduler
    /// pass's reconciler enqueues another, at least 1. Keep it above your
    /// queue's usual backlog: re-ringing a task whose job is only late costs
    /// one harmless extra delivery.
    pub reconcile_grace_seconds: u64,
    /// Rows dated more than this many days ago move to the `_archive` tables
    /// (nightly, 04:30 in `sync.time_zone`, UTC when it is `marketplace`).
    /// At least 32.
    pub retention_days: u32,
    /// An `http(s)://` URL that receives alerts as JSON (a failed task, a
    /// store needing re-authorization, stale data; see
    /// [operations.md](operations.md#alerts-and-webhooks)); unset: alerts are
    /// only logged.
    pub alert_webhook_url: Option<String>,
    /// Hours without a successful inventory or business sync before a store's
    /// data is reported stale.
    pub stale_after_hours: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            time_zone: "UTC".into(),
            inventory_cron: "0 2 * * *".into(),
            business_cron: "30 2 * * *".into(),
            advertising_cron: "0 3 * * *".into(),
            business_lookback_days: 7,
            ads_lookback_days: 14,
            first_run_backfill_days: 30,
            retries: 3,
            retry_delay_seconds: 300,
            poll_delay_seconds: 60,
            report_deadline_minutes: 240,
            lease_seconds: 300,
            reconcile_grace_seconds: 600,
            retention_days: 90,
            alert_webhook_url: None,
            stale_after_hours: 36,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

fn redact<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some("[redacted]"),
        None => s.serialize_none(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("amzsync-data"),
            database_url: None,
            database_max_connections: 10,
            encryption_key: None,
            encryption_key_file: None,
            log_format: LogFormat::Text,
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            queue: QueueKind::Database,
            redis_url: None,
            redis_namespace: "amzsync".into(),
            worker_concurrency: 4,
            worker_heartbeat_seconds: 10,
            amazon: AmazonConfig::default(),
            sync: SyncConfig::default(),
            clock: None,
        }
    }
}

/// Where the data lives, decided from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Environment variables with our prefix that are not configuration keys:
/// the config file's path, CLI inputs and the test harness's settings.
fn is_config_key(key: &str) -> bool {
    !(key == "config"
        || key == "log"
        || key.starts_with("store_")
        || key.starts_with("test_")
        || key.starts_with("bench_"))
}

impl Config {
    /// Loads the configuration: defaults, then `file` (or `AMZSYNC_CONFIG`), then
    /// the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("AMZSYNC_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &file {
            if !path.is_file() {
                bail!("configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("AMZSYNC_")
                .split("__")
                .filter(|k| is_config_key(&k.as_str().to_ascii_lowercase())),
        );
        let config: Config = figment.extract().map_err(|e| {
            // figment names the key and where its value came from; keep all of it on one line.
            let all: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!("invalid configuration: {}", all.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database_url
            && !["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|p| url.starts_with(p))
        {
            bail!(
                "invalid configuration: database_url must start with postgres://, postgresql:// or sqlite: (got {url:?})"
            );
        }
        if self.database_max_connections == 0 {
            bail!("invalid configuration: database_max_connections must be at least 1");
        }
        if let Some(key) = &self.encryption_key {
            decode_key(key.expose_secret()).context("invalid configuration: encryption_key")?;
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "invalid configuration: listen must be an address like 127.0.0.1:8080 (got {:?})",
                self.listen
            );
        }
        if let Some(address) = &self.metrics_listen
            && address.parse::<std::net::SocketAddr>().is_err()
        {
            bail!(
                "invalid configuration: metrics_listen must be an address like 127.0.0.1:9100 (got {address:?})"
            );
        }
        match (&self.queue, &self.redis_url) {
            (QueueKind::Redis, None) => {
                bail!("invalid configuration: redis_url is required with queue = \"redis\"")
            }
            // The Redis client is built without TLS (one crypto stack, no
            // OpenSSL), so rediss:// could only fail later, at connect.
            (_, Some(url)) if !url.starts_with("redis://") => {
                bail!(
                    "invalid configuration: redis_url must start with redis:// (got {url:?}); TLS to Redis is not supported"
                )
            }
            _ => {}
        }
        if self.worker_concurrency == 0 {
            bail!("invalid configuration: worker_concurrency must be at least 1");
        }
        if self.worker_heartbeat_seconds == 0 {
            bail!("invalid configuration: worker_heartbeat_seconds must be at least 1");
        }
        if let Some(endpoint) = &self.amazon.endpoint {
            url::Url::parse(endpoint)
                .with_context(|| format!("invalid configuration: amazon.endpoint {endpoint:?}"))?;
        }
        if self.amazon.lwa_client_id.is_some() != self.amazon.lwa_client_secret.is_some() {
            bail!("invalid configuration: amazon.lwa_client_id and amazon.lwa_client_secret go together");
        }
        if let Some(clock) = &self.clock {
            clock.clock()?;
            if clock.speed > MAX_CLOCK_SPEED {
                bail!(
                    "invalid configuration: clock.speed must be at most {MAX_CLOCK_SPEED} (got {})",
                    clock.speed
                );
            }
            if self.amazon.endpoint.is_none() {
                bail!(
                    "invalid configuration: [clock] needs amazon.endpoint: a simulated clock is for the simulator, \
                     never for Amazon, whose usage plans and days run on real time"
                );
            }
        }
        let sync = &self.sync;
        for (key, expression) in [
            ("sync.inventory_cron", &sync.inventory_cron),
            ("sync.business_cron", &sync.business_cron),
            ("sync.advertising_cron", &sync.advertising_cron),
        ] {
            // Per store zone, every zone is a valid IANA one: the expression is
            // what can be wrong.
            let zone = if sync.time_zone == amzsync_sync::MARKETPLACE_TIME_ZONE {
                "UTC"
            } else {
                &sync.time_zone
            };
            amzsync_jobs::Schedule::new(expression, zone)
                .map_err(|e| anyhow::anyhow!("invalid configuration: {key} (in sync.time_zone): {e}"))?;
        }
        if let Some(url) = &sync.alert_webhook_url {
            let parsed = url::Url::parse(url)
                .with_context(|| format!("invalid configuration: sync.alert_webhook_url {url:?}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("invalid configuration: sync.alert_webhook_url must be an http(s) URL");
            }
        }
        if sync.reconcile_grace_seconds == 0 {
            bail!("invalid configuration: sync.reconcile_grace_seconds must be at least 1");
        }
        if sync.report_deadline_minutes < 30 {
            bail!("invalid configuration: sync.report_deadline_minutes must be at least 30");
        }
        if sync.retention_days < 32 {
            // Business and advertising re-pull up to 30 days; archiving inside
            // that window would split a day between the live and archive tables.
            bail!("invalid configuration: sync.retention_days must be at least 32");
        }
        if sync.lease_seconds == 0 {
            bail!("invalid configuration: sync.lease_seconds must be at least 1");
        }
        if sync.first_run_backfill_days == 0 {
            bail!("invalid configuration: sync.first_run_backfill_days must be at least 1");
        }
        // The same bounds as a store's own lookbacks (the schema's CHECK).
        let bounds = amzsync_db::LOOKBACK_DAYS;
        for (key, days) in [
            ("sync.business_lookback_days", sync.business_lookback_days),
            ("sync.ads_lookback_days", sync.ads_lookback_days),
        ] {
            if !bounds.contains(&days) {
                bail!(
                    "invalid configuration: {key} must be {} to {} days (got {days})",
                    bounds.start(),
                    bounds.end()
                );
            }
        }
        Ok(())
    }

    pub fn database(&self) -> Database {
        match self.database_url.as_deref() {
            Some(url) if url.starts_with("postgres") => Database::Postgres(url.to_owned()),
            Some(url) => {
                let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
                Database::Sqlite(PathBuf::from(path))
            }
            None => Database::Sqlite(self.data_dir.join("amzsync.db")),
        }
    }

    /// The cipher for stores' secrets. In the embedded default, a key file is
    /// generated in the data directory on first use (mode 0600). With
    /// PostgreSQL the key must be configured: processes on other machines could
    /// not read a file generated here, and secrets they wrote would be lost.
    pub fn cipher(&self) -> anyhow::Result<Cipher> {
        if let Some(key) = &self.encryption_key {
            return Ok(Cipher::new(&decode_key(key.expose_secret())?));
        }
        let (path, may_create) = match (&self.encryption_key_file, self.database()) {
            (Some(path), _) => (path.clone(), false),
            (None, Database::Sqlite(_)) => (self.data_dir.join("encryption.key"), true),
            (None, Database::Postgres(_)) => bail!(
                "invalid configuration: encryption_key (or encryption_key_file) is required with PostgreSQL, \
                 so every process of the deployment encrypts with the same key; generate one with \
                 `head -c 32 /dev/urandom | base64`"
            ),
        };
        if !path.exists() && may_create {
            write_new_key(&path)?;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the encryption key file {}", path.display()))?;
        let key =
            decode_key(text.trim()).with_context(|| format!("encryption key file {}", path.display()))?;
        Ok(Cipher::new(&key))
    }
}

fn decode_key(text: &str) -> anyhow::Result<SecretBox<[u8; KEY_LEN]>> {
    let raw = STANDARD.decode(text.trim()).context("must be base64")?;
    let bytes: [u8; KEY_LEN] = raw
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("must be {KEY_LEN} bytes once base64-decoded, got {}", raw.len()))?;
    Ok(SecretBox::new(Box::new(bytes)))
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = Cipher::generate_key();
    // create_new: never overwrite a key, or every stored secret becomes unreadable.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the encryption key file {}", path.display()))?;
    writeln!(file, "{}", STANDARD.encode(key.expose_secret()))?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new encryption key; back it up with the database");
    Ok(())
}

#[cfg(test)]
// figment's Jail hands closures its own large error type; nothing to shrink here.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn no_configuration_means_a_sqlite_file_in_the_data_dir() {
        Jail::expect_with(|_| {
            let c = Config::load(None).unwrap();
            assert_eq!(
                c.database(),
                Database::Sqlite(PathBuf::from("amzsync-data/amzsync.db"))
            );
            Ok(())
        });
    }

    #[test]
    fn the_file_is_overridden_by_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "amzsync.toml",
                "data_dir = \"/from/file\"\ndatabase_max_connections = 3\n",
            )?;
            jail.set_env("AMZSYNC_DATA_DIR", "/from/env");
            let c = Config::load(Some(Path::new("amzsync.toml"))).unwrap();
            assert_eq!(c.data_dir, PathBuf::from("/from/env"));
            assert_eq!(c.database_max_connections, 3);
            Ok(())
        });
    }

    #[test]
    fn a_postgres_url_switches_engines() {
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_DATABASE_URL", "postgres://u@h/db");
            let c = Config::load(None).unwrap();
            assert_eq!(c.database(), Database::Postgres("postgres://u@h/db".into()));
            let err = c.cipher().unwrap_err().to_string();
            assert!(err.contains("encryption_key"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_their_key() {
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_DATABASE_MAX_CONNECTIONS", "many");
            let err = format!("{:#}", Config::load(None).unwrap_err()).to_lowercase();
            assert!(err.contains("database_max_connections"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_DATABASE_URL", "mysql://x");
            let err = format!("{:#}", Config::load(None).unwrap_err());
            assert!(err.contains("database_url"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_ENCRYPTION_KEY", "c2hvcnQ=");
            let err = format!("{:#}", Config::load(None).unwrap_err());
            assert!(
                err.contains("encryption_key") && err.contains("32 bytes"),
                "{err}"
            );
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("amzsync.toml", "data_dri = \"typo\"\n")?;
            let err = format!("{:#}", Config::load(Some(Path::new("amzsync.toml"))).unwrap_err());
            assert!(err.contains("data_dri"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn nested_tables_come_from_the_file_and_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "amzsync.toml",
                "queue = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n[sync]\nretries = 5\ntime_zone = \"Europe/Berlin\"\n",
            )?;
            jail.set_env("AMZSYNC_AMAZON__ENDPOINT", "http://127.0.0.1:9900");
            jail.set_env("AMZSYNC_SYNC__BUSINESS_LOOKBACK_DAYS", "10");
            jail.set_env("AMZSYNC_SYNC__LEASE_SECONDS", "20");
            let c = Config::load(Some(Path::new("amzsync.toml"))).unwrap();
            assert_eq!(c.sync.lease_seconds, 20);
            assert_eq!(c.queue, QueueKind::Redis);
            assert_eq!(c.sync.retries, 5);
            assert_eq!(c.sync.business_lookback_days, 10);
            assert_eq!(
                c.sync.inventory_cron, "0 2 * * *",
                "defaults fill the rest of a table"
            );
            assert_eq!(c.amazon.endpoint.as_deref(), Some("http://127.0.0.1:9900"));
            Ok(())
        });
    }

    #[test]
    fn the_crons_can_follow_each_stores_marketplace() {
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_SYNC__TIME_ZONE", "marketplace");
            let c = Config::load(None).unwrap();
            assert_eq!(c.sync.time_zone, "marketplace");
            jail.set_env("AMZSYNC_SYNC__INVENTORY_CRON", "61 2 * * *");
            let err = format!("{:#}", Config::load(None).unwrap_err());
            assert!(err.contains("sync.inventory_cron"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn bad_nested_values_name_their_key() {
        for (key, value, needle) in [
            ("AMZSYNC_SYNC__INVENTORY_CRON", "every day", "sync.inventory_cron"),
            ("AMZSYNC_SYNC__TIME_ZONE", "Mars/Olympus", "sync."),
            ("AMZSYNC_QUEUE", "rabbit", "queue"),
            ("AMZSYNC_LISTEN", "localhost", "listen"),
            ("AMZSYNC_METRICS_LISTEN", "9100", "metrics_listen"),
            ("AMZSYNC_AMAZON__ENDPOINT", "not a url", "amazon.endpoint"),
            ("AMZSYNC_AMAZON__LWA_CLIENT_ID", "x", "lwa_client_secret"),
            (
                "AMZSYNC_SYNC__ALERT_WEBHOOK_URL",
                "ftp://alerts.example",
                "sync.alert_webhook_url",
            ),
            ("AMZSYNC_SYNC__RETENTION_DAYS", "10", "sync.retention_days"),
            ("AMZSYNC_SYNC__LEASE_SECONDS", "0", "sync.lease_seconds"),
            (
                "AMZSYNC_WORKER_HEARTBEAT_SECONDS",
                "0",
                "worker_heartbeat_seconds",
            ),
            (
                "AMZSYNC_SYNC__RECONCILE_GRACE_SECONDS",
                "0",
                "sync.reconcile_grace_seconds",
            ),
            (
                "AMZSYNC_SYNC__REPORT_DEADLINE_MINUTES",
                "20",
                "sync.report_deadline_minutes",
            ),
            ("AMZSYNC_REDIS_URL", "rediss://cache.example:6380", "redis_url"),
            ("AMZSYNC_CLOCK__SPEED", "fast", "clock"),
        ] {
            Jail::expect_with(|jail| {
                jail.set_env(key, value);
                let err = format!("{:#}", Config::load(None).unwrap_err()).to_lowercase();
                assert!(err.contains(needle), "{key}: {err}");
                Ok(())
            });
        }
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_QUEUE", "redis");
            let err = format!("{:#}", Config::load(None).unwrap_err());
            assert!(err.contains("redis_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_simulated_clock_is_for_the_simulator_only() {
        let clock = |jail: &mut Jail, speed: &str| {
            jail.set_env("AMZSYNC_CLOCK__SPEED", speed);
            jail.set_env("AMZSYNC_CLOCK__START", "2026-01-01T00:00:00Z");
            jail.set_env("AMZSYNC_CLOCK__ORIGIN", "2026-11-29T18:00:00Z");
        };
        Jail::expect_with(|jail| {
            clock(jail, "1440");
            let err = format!("{:#}", Config::load(None).unwrap_err());
            assert!(err.contains("amazon.endpoint"), "{err}");
            jail.set_env("AMZSYNC_AMAZON__ENDPOINT", "http://127.0.0.1:9900");
            let c = Config::load(None).unwrap();
            let simulated = c.clock.expect("the clock table").clock().unwrap();
            use amzsync_domain::Clock as _;
            assert_eq!(simulated.speed(), 1440.0);
            let origin = "2026-11-29T18:01:00Z".parse().unwrap();
            assert_eq!(simulated.at(origin).to_rfc3339(), "2026-01-02T00:00:00+00:00");
            Ok(())
        });
        for (speed, needle) in [("0", "positive"), ("-2", "positive"), ("1000000", "at most")] {
            Jail::expect_with(|jail| {
                clock(jail, speed);
                jail.set_env("AMZSYNC_AMAZON__ENDPOINT", "http://127.0.0.1:9900");
                let err = format!("{:#}", Config::load(None).unwrap_err());
                assert!(
                    err.contains("clock.speed") && err.contains(needle),
                    "{speed}: {err}"
                );
                Ok(())
            });
        }
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_CLOCK__SPEED", "60");
            jail.set_env("AMZSYNC_AMAZON__ENDPOINT", "http://127.0.0.1:9900");
            let err = format!("{:#}", Config::load(None).unwrap_err()).to_lowercase();
            assert!(err.contains("clock") && err.contains("start"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_embedded_key_file_is_created_once_and_private() {
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_DATA_DIR", "data");
            let c = Config::load(None).unwrap();
            let first = c.cipher().unwrap();
            let sealed = first.encrypt(&SecretString::from("x".to_owned()), "ctx");
            let second = c.cipher().unwrap();
            assert_eq!(
                second.decrypt(&sealed, "ctx").unwrap().expose_secret(),
                "x",
                "the same key is reused"
            );
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata("data/encryption.key")
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            Ok(())
        });
    }

    #[test]
    fn debug_output_hides_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("AMZSYNC_ENCRYPTION_KEY", STANDARD.encode([7u8; 32]));
            let c = Config::load(None).unwrap();
            let shown = format!("{c:?}");
            assert!(!shown.contains(&STANDARD.encode([7u8; 32])), "{shown}");
            Ok(())
        });
    }
}
