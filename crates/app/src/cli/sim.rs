//! `amzsync sim`: the Amazon simulator as a long-running local server, for
//! development, the demo and the browser tests. Its clock runs live (scaled by
//! `--speed`), so tokens expire, usage plans refill and reports complete while
//! nobody drives it; `/_sim/…` lets another process steer it.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use amzsync_amazon_sim::{ClockMode, Config, ReportTiming, Seller, Simulator};

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9900", conflicts_with = "port")]
    listen: String,
    /// Port on 127.0.0.1 to listen on (instead of --listen).
    #[arg(long)]
    port: Option<u16>,
    /// Seed of the generated world (same seed, same data).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Sellers (stores) to create up front (more can be added through
    /// `POST /_sim/sellers`).
    #[arg(long, visible_alias = "stores", default_value_t = 1)]
    sellers: u32,
    /// SKUs per marketplace of each seller.
    #[arg(long, default_value_t = 100)]
    skus: u32,
    /// Simulated seconds a report spends queued and then in progress.
    #[arg(long, default_value_t = 30)]
    report_seconds: u64,
}

/// The simulator's settings for a live server.
pub fn live_config(seed: u64, speed: f64, report_seconds: u64) -> anyhow::Result<Config> {
    anyhow::ensure!(
        speed.is_finite() && speed > 0.0,
        "--speed must be a positive number, got {speed}"
    );
    let half = Duration::from_secs(report_seconds / 2);
    let timing = ReportTiming::Duration {
        in_queue: half,
        in_progress: half,
    };
    Ok(Config {
        seed,
        clock: ClockMode::Live { speed },
        report_timing: Some(timing),
        ads_report_timing: Some(timing),
        ..Config::default()
    })
}

/// A seller id for the `n`-th simulated seller: upper-case letters and
/// digits, like Amazon's.
pub fn seller_id(n: u32) -> String {
    format!("ASIMSELLER{n:04}")
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let config = live_config(args.seed, args.speed, args.report_seconds)?;
    let address = match args.port {
        Some(port) => format!("127.0.0.1:{port}"),
        None => args.listen.clone(),
    };
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    let sim = Simulator::start(listener, config).context("starting the simulator")?;
    println!("Amazon simulator at {}", sim.base_url());
    println!("LWA token URL: {}", sim.token_url());
    for n in 1..=args.sellers {
        let seller = Seller::new(seller_id(n))
            .marketplace("ATVPDKIKX0DER", args.skus)
            .marketplace("A2EUQ1WTGCTBG2", args.skus);
        let c = sim.add_seller(seller).context("adding a simulated seller")?;
        println!(
            "seller {}: sp_api_refresh_token={} advertising_api_refresh_token={}",
            c.seller_id, c.refresh_token, c.ads_refresh_token
        );
        if n == 1 {
            println!("LWA client: id={} secret={}", c.client_id, c.client_secret);
        }
    }
    // What puts amzsync processes on this simulator's clock (`[clock]`), so
    // that their schedules and usage plans run at its speed too.
    println!(
        "its clock for amzsync: AMZSYNC_CLOCK__SPEED={} AMZSYNC_CLOCK__START={} AMZSYNC_CLOCK__ORIGIN={}",
        args.speed,
        sim.now().to_rfc3339(),
        chrono::Utc::now().to_rfc3339()
    );
    println!("control API: {}_sim/  (Ctrl-C stops)", sim.base_url());
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    stop.cancelled().await;
    sim.shutdown().await.context("stopping the simulator")
}
