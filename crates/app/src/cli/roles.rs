//! `amzsync serve | api | worker | scheduler`: the long-running roles. The
//! embedded default (`serve`) runs all three parts in one process; a
//! distributed deployment runs `api`, `worker` and `scheduler` processes on
//! as many machines as it needs, sharing PostgreSQL and the queue.

use anyhow::Context;
use clap::Args;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use amzsync_web::AppState;

use crate::config::Config;
use crate::wiring::{App, worker_options};

/// Which parts a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub workers: bool,
    pub scheduler: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        api: true,
        workers: true,
        scheduler: true,
    };
    pub const API: Roles = Roles {
        api: true,
        workers: false,
        scheduler: false,
    };
    pub const WORKER: Roles = Roles {
        api: false,
        workers: true,
        scheduler: false,
    };
    pub const SCHEDULER: Roles = Roles {
        api: false,
        workers: false,
        scheduler: true,
    };
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address for the API and dashboard (overrides `listen` / AMZSYNC_LISTEN).
    #[arg(long)]
    listen: Option<String>,
}

impl ListenArgs {
    pub fn address(&self, config: &Config) -> String {
        self.listen.clone().unwrap_or_else(|| config.listen.clone())
    }
}

pub async fn run(config: &Config, roles: Roles, listen: Option<String>) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    let listener = match (roles.api, listen) {
        (true, Some(address)) => Some(
            TcpListener::bind(&address)
                .await
                .with_context(|| format!("listening on {address} (listen)"))?,
        ),
        _ => None,
    };
    let metrics_listener = match &config.metrics_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("listening on {address} (metrics_listen)"))?,
        ),
        None => None,
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        stop.cancel();
    });
    let result = run_until(&app, config, roles, listener, metrics_listener, shutdown).await;
    app.close().await;
    result
}

/// Runs the parts until `shutdown` (or until one of them fails, which stops
/// the others: a process that can no longer do its job should exit and be
/// restarted, not linger half alive).
pub async fn run_until(
    app: &App,
    config: &Config,
    roles: Roles,
    listener: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut parts: JoinSet<anyhow::Result<&'static str>> = JoinSet::new();
    if let Some(listener) = metrics_listener {
        let address = listener.local_addr().context("reading the metrics address")?;
        tracing::info!(%address, "serving /healthz, /readyz and /metrics");
        // Printed like the API's address, so a port chosen by the system
        // (`:0`) can be found.
        eprintln!("amzsync: metrics at http://{address}/metrics");
        let state = AppState::new(app.db.clone(), app.engine.clone());
        let stop = shutdown.clone();
        parts.spawn(async move {
            amzsync_web::serve_ops(listener, state, stop)
                .await
                .context("serving metrics (metrics_listen)")?;
            Ok("metrics")
        });
    }
    if let Some(listener) = listener {
        let address = listener.local_addr().context("reading the listening address")?;
        tracing::info!(%address, "serving the API and dashboard");
        eprintln!("amzsync: API and dashboard at http://{address}/ (docs at /docs)");
        let state = AppState::new(app.db.clone(), app.engine.clone());
        let stop = shutdown.clone();
        parts.spawn(async move {
            amzsync_web::serve(listener, state, stop)
                .await
                .context("serving HTTP")?;
            Ok("api")
        });
    }
    if roles.workers {
        let engine = app.engine.clone();
        let options = worker_options(config);
        let stop = shutdown.clone();
        parts.spawn(async move {
            engine
                .run_workers(options, stop)
                .await
                .context("running workers")?;
            Ok("workers")
        });
    }
    if roles.scheduler {
        let engine = app.engine.clone();
        let stop = shutdown.clone();
        parts.spawn(async move {
            engine
                .run_scheduler(stop)
                .await
                .context("running the scheduler")?;
            Ok("scheduler")
        });
    }
    let mut first_error = None;
    while let Some(joined) = parts.join_next().await {
        let outcome = joined.context("a part of the process panicked").and_then(|r| r);
        match outcome {
            Ok(part) if !shutdown.is_cancelled() => {
                first_error.get_or_insert_with(|| anyhow::anyhow!("{part} stopped unexpectedly"));
                shutdown.cancel();
            }
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
                shutdown.cancel();
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Ctrl-C, or SIGTERM from a service manager.
pub async fn wait_for_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
