//! Command-line interface: one module per command.

mod config;
mod demo;
mod migrate;
pub(crate) mod roles;
pub(crate) mod sim;
mod stores;
mod sync;
mod tokens;
mod users;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use amzsync_db::Db;

use crate::cli::roles::Roles;
use crate::config::{Config, Database, LogFormat};

/// amzsync keeps Amazon sellers' own data in their own SQL database.
#[derive(Debug, Parser)]
#[command(name = "amzsync", version, about)]
pub struct Cli {
    /// TOML configuration file (also AMZSYNC_CONFIG). Environment variables
    /// AMZSYNC_<KEY> override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply database migrations (they also run at every start).
    Migrate,
    /// Manage users (tenants).
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    /// Manage stores (seller accounts).
    #[command(subcommand)]
    Stores(stores::StoresCommand),
    /// The whole product in a minute: start the Amazon simulator, connect a
    /// demo store, sync all three kinds with progress bars, then serve the
    /// dashboard.
    Demo(demo::DemoArgs),
    /// API, dashboard, workers and scheduler in one process (the embedded default).
    Serve(roles::ListenArgs),
    /// The API and dashboard only.
    Api(roles::ListenArgs),
    /// Sync workers only.
    Worker,
    /// The scheduler only.
    Scheduler,
    /// Sync one store now, in the foreground, with progress bars.
    Sync(sync::SyncArgs),
    /// Run the Amazon simulator as a local server (development, demo, tests).
    Sim(sim::SimArgs),
    /// The configuration: its reference, or the effective values.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let command = match self.command {
            // Before loading: the reference needs no configuration, and `show` loads it itself.
            Command::Config(cmd) => return cmd.run(self.config.as_deref()),
            command => command,
        };
        let config = Config::load(self.config.as_deref())?;
        // Long-running roles log what they do; one-off commands only warn, so
        // their output (and progress bars) stay readable.
        let long_running = matches!(
            command,
            Command::Serve(_) | Command::Api(_) | Command::Worker | Command::Scheduler
        );
        init_logging(&config, if long_running { "info" } else { "warn" });
        let command = match command {
            Command::Config(_) => unreachable!("handled before the configuration is loaded"),
            // Commands that build the whole app (or need no database) run on their own.
            Command::Sim(args) => return sim::run(args).await,
            Command::Demo(args) => return demo::run(&config, args).await,
            Command::Serve(args) => {
                return roles::run(&config, Roles::ALL, Some(args.address(&config))).await;
            }
            Command::Api(args) => return roles::run(&config, Roles::API, Some(args.address(&config))).await,
            Command::Worker => return roles::run(&config, Roles::WORKER, None).await,
            Command::Scheduler => return roles::run(&config, Roles::SCHEDULER, None).await,
            Command::Sync(args) => return sync::run(&config, args).await,
            Command::Migrate => DbCommand::Migrate,
            Command::Users(cmd) => DbCommand::Users(cmd),
            Command::Tokens(cmd) => DbCommand::Tokens(cmd),
            Command::Stores(cmd) => DbCommand::Stores(cmd),
        };
        let db = open_db(&config).await?;
        let result = match command {
            DbCommand::Migrate => migrate::run(&db).await,
            DbCommand::Users(cmd) => cmd.run(&db).await,
            DbCommand::Tokens(cmd) => cmd.run(&db).await,
            DbCommand::Stores(cmd) => cmd.run(&db).await,
        };
        db.close().await;
        result
    }
}

/// Commands that only need the database.
enum DbCommand {
    Migrate,
    Users(users::UsersCommand),
    Tokens(tokens::TokensCommand),
    Stores(stores::StoresCommand),
}

/// Logs go to stderr, so stdout stays for the command's output.
fn init_logging(config: &Config, default: &str) {
    let filter = EnvFilter::try_from_env("AMZSYNC_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.without_time().try_init(),
    };
}

/// Opens the configured database and brings its schema up to date.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let cipher = config.cipher()?;
    let db = match config.database() {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
            }
            Db::open_sqlite(&path, cipher)
                .await
                .with_context(|| format!("opening the SQLite database {}", path.display()))?
        }
        Database::Postgres(url) => Db::connect_postgres(&url, config.database_max_connections, cipher)
            .await
            .context("connecting to PostgreSQL (database_url)")?,
    };
    db.migrate().await.context("applying database migrations")?;
    // Everything the process stamps, plans and schedules follows the
    // simulated clock when one is configured (the engine derives the rest).
    let db = match &config.clock {
        Some(clock) => db.with_clock(std::sync::Arc::new(clock.clock()?)),
        None => db,
    };
    Ok(db)
}
