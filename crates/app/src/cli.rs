//! Command-line interface: one module per command.

mod demo;
mod migrate;
mod sim;
mod stores;
mod tokens;
mod users;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use amzsync_db::Db;

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
    /// Set up a demo user and store in the embedded database and list them.
    Demo,
    /// Run the Amazon simulator as a local server (development, demo, tests).
    Sim(sim::SimArgs),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = Config::load(self.config.as_deref())?;
        init_logging(&config);
        let command = match self.command {
            // The simulator needs no database.
            Command::Sim(args) => return sim::run(args).await,
            other => DbCommand(other),
        };
        let db = open_db(&config).await?;
        let result = command.run(&db, &config).await;
        db.close().await;
        result
    }
}

/// A command that works on the database.
struct DbCommand(Command);

impl DbCommand {
    async fn run(self, db: &Db, config: &Config) -> anyhow::Result<()> {
        match self.0 {
            Command::Migrate => migrate::run(db).await,
            Command::Users(cmd) => cmd.run(db).await,
            Command::Tokens(cmd) => cmd.run(db).await,
            Command::Stores(cmd) => cmd.run(db).await,
            Command::Demo => demo::run(db, config).await,
            Command::Sim(args) => sim::run(args).await,
        }
    }
}

/// Logs go to stderr, so stdout stays for the command's output.
fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_env("AMZSYNC_LOG").unwrap_or_else(|_| EnvFilter::new("warn,amzsync=info"));
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
    Ok(db)
}
