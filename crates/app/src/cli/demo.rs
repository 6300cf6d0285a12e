//! `amzsync demo`: the whole product on one machine in a minute. It starts
//! the Amazon simulator in this process, connects a demo store to it, syncs
//! inventory, sales & traffic and advertising with progress bars, prints what
//! landed, then serves the dashboard and the API (and keeps syncing on
//! schedule) until Ctrl-C. Running it again reuses the demo store.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use amzsync_amazon_sim::{Seller, Simulator};
use amzsync_db::{Db, Error, NewStore, Scope, Store, StoreUpdate};
use amzsync_domain::{Marketplace, Region, SyncKind, UserId};

use crate::cli::roles::{self, Roles};
use crate::cli::sim::live_config;
use crate::cli::sync::sync_in_foreground;
use crate::config::Config;
use crate::wiring::{AmazonOverrides, App};

const DEMO_USER: &str = "demo";
const DEMO_SELLER: &str = "ADEMOSELLER";
/// Simulated seconds per real second: Amazon's one-report-a-minute usage
/// plans pass in a second, so the demo shows real pacing without the wait.
const SPEED: f64 = 60.0;
const MARKETPLACES: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after the first syncs instead of serving the dashboard.
    #[arg(long)]
    no_serve: bool,
    /// SKUs per marketplace of the demo store.
    #[arg(long, default_value_t = 40)]
    skus: u32,
    /// Address for the dashboard (overrides `listen`).
    #[arg(long)]
    listen: Option<String>,
}

/// The Amazon client's view of time: the simulator's live clock, so usage
/// plans refill and tokens expire at the simulator's pace.
#[derive(Debug)]
struct SimulatedTime {
    sim: Arc<Simulator>,
}

impl amzsync_amazon::Clock for SimulatedTime {
    fn now(&self) -> DateTime<Utc> {
        self.sim.now()
    }

    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration.div_f64(SPEED)))
    }
}

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let mut sim_config = live_config(1, SPEED, 30)?;
    // Today's data, not the simulator's pinned test date.
    sim_config.start = None;
    let sim_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("starting the simulator")?;
    let sim = Arc::new(Simulator::start(sim_listener, sim_config).context("starting the simulator")?);
    let mut seller = Seller::new(DEMO_SELLER);
    for m in MARKETPLACES {
        seller = seller.marketplace(m, args.skus);
    }
    let credentials = sim
        .add_seller(seller)
        .context("adding the demo seller to the simulator")?;
    eprintln!("simulated Amazon at {}", sim.base_url());

    let mut config = config.clone();
    config.amazon.endpoint = Some(sim.base_url().to_string());
    config.amazon.lwa_client_id = Some(credentials.client_id.clone());
    config.amazon.lwa_client_secret = Some(SecretString::from(credentials.client_secret.clone()));
    // Three days instead of a month keep the first run short: with two Sales
    // & Traffic reports per marketplace and day, 12 reports and the two
    // inventory ones stay within createReport's burst of 15, so nothing
    // waits for the usage plan's one a minute (a second at 60×; a month's
    // backfill would take about a minute). Every run re-pulls the whole
    // lookback, so it is three days too.
    // Polls and retries at the simulator's pace.
    config.sync.first_run_backfill_days = 3;
    config.sync.business_lookback_days = 3;
    config.sync.poll_delay_seconds = 1;
    config.sync.retry_delay_seconds = 2;
    let overrides = AmazonOverrides {
        clock: Some(Arc::new(SimulatedTime {
            sim: Arc::clone(&sim),
        })),
        // Waits are simulated time, slept at 60× speed.
        max_permit_wait: Some(Duration::from_secs(6 * 3600)),
    };
    let app = App::build_with(&config, overrides).await?;
    let result = demo(&app, &config, &args, &credentials).await;
    app.close().await;
    result
}

async fn demo(
    app: &App,
    config: &Config,
    args: &DemoArgs,
    credentials: &amzsync_amazon_sim::Credentials,
) -> anyhow::Result<()> {
    let user = demo_user(&app.db).await?;
    let store = demo_store(&app.db, user, credentials).await?;
    println!(
        "demo store {}: {} (seller {}, marketplaces US and CA)",
        store.id, store.store_name, store.seller_id
    );

    let kinds = [SyncKind::Inventory, SyncKind::Business, SyncKind::Advertising];
    let tasks = sync_in_foreground(app, config, store.id, &kinds, None).await?;
    println!("landed in {}:", database_name(config));
    for task in &tasks {
        println!(
            "  {:<12} {:>7} rows  ({})",
            task.sync_type.to_string(),
            task.records_synced,
            task.status
        );
    }
    if args.no_serve {
        return Ok(());
    }
    let (_, token) = app.db.tokens().create(user, "demo dashboard").await?;
    let address = args.listen.clone().unwrap_or_else(|| config.listen.clone());
    let listener = TcpListener::bind(&address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    let url = format!("http://{}/", listener.local_addr()?);
    println!("dashboard: {url}  (sign in with the token below; Ctrl-C stops)");
    println!("{}", token.expose_secret());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        roles::wait_for_signal().await;
        stop.cancel();
    });
    roles::run_until(app, config, Roles::ALL, Some(listener), None, shutdown).await
}

async fn demo_user(db: &Db) -> anyhow::Result<UserId> {
    match db.users().by_name(DEMO_USER).await {
        Ok(u) => Ok(u.id),
        Err(Error::NotFound { .. }) => Ok(db.users().create(DEMO_USER, true).await?.id),
        Err(e) => Err(e.into()),
    }
}

/// The demo store, created once; later runs give it the new simulator's
/// credentials (the simulator lives only as long as the demo).
async fn demo_store(
    db: &Db,
    user: UserId,
    credentials: &amzsync_amazon_sim::Credentials,
) -> anyhow::Result<Store> {
    let sp = SecretString::from(credentials.refresh_token.clone());
    let ads = SecretString::from(credentials.ads_refresh_token.clone());
    let existing = db
        .stores()
        .list(Scope::Owner(user))
        .await?
        .into_iter()
        .find(|s| s.seller_id == DEMO_SELLER);
    let store = match existing {
        Some(store) => {
            let change = StoreUpdate {
                is_active: Some(true),
                sp_api_refresh_token: Some(sp),
                advertising_api_refresh_token: Some(ads),
                ..StoreUpdate::default()
            };
            db.stores().update(Scope::All, store.id, change).await?
        }
        None => db
            .stores()
            .create(NewStore {
                user_id: user,
                store_name: "Demo store (US, CA)".into(),
                region: Region::Na,
                marketplaces: MARKETPLACES
                    .iter()
                    .map(|id| Marketplace::by_id(id).expect("demo marketplaces are known"))
                    .collect(),
                seller_id: DEMO_SELLER.into(),
                sp_api_refresh_token: sp,
                advertising_api_refresh_token: Some(ads),
                sp_api_client_id: None,
                sp_api_client_secret: None,
                business_lookback_days: None,
                ads_lookback_days: None,
            })
            .await
            .context("adding the demo store")?,
    };
    Ok(store)
}

fn database_name(config: &Config) -> String {
    match config.database() {
        crate::config::Database::Sqlite(p) => p.display().to_string(),
        crate::config::Database::Postgres(_) => "PostgreSQL (database_url)".to_owned(),
    }
}
