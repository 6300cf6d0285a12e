//! `amzsync sync`: one store's syncs in the foreground, with progress bars,
//! ending with a summary. The tasks go through the queue like any other
//! (so a worker elsewhere could finish them); this process runs workers of
//! its own until they end.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use amzsync_db::{Db, Scope, SyncTask};
use amzsync_domain::{StoreId, SyncKind, SyncTaskId, SyncWindow, TaskStatus, Trigger};
use amzsync_sync::{Engine, TriggerError};

use crate::config::Config;
use crate::wiring::{App, worker_options};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Inventory,
    Business,
    Advertising,
    All,
}

impl KindArg {
    fn kinds(self) -> Vec<SyncKind> {
        match self {
            KindArg::Inventory => vec![SyncKind::Inventory],
            KindArg::Business => vec![SyncKind::Business],
            KindArg::Advertising => vec![SyncKind::Advertising],
            KindArg::All => vec![SyncKind::Inventory, SyncKind::Business, SyncKind::Advertising],
        }
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The store's id.
    #[arg(long)]
    store: String,
    /// What to sync.
    #[arg(long, value_enum, default_value = "all")]
    kind: KindArg,
    /// First day of the window (YYYY-MM-DD); default: each kind's own window.
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    /// Last day of the window (YYYY-MM-DD).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
}

pub async fn run(config: &Config, args: SyncArgs) -> anyhow::Result<()> {
    let store: StoreId = args.store.parse()?;
    let window = match (args.from, args.to) {
        (Some(from), Some(to)) => Some(SyncWindow::new(from, to).context("--from/--to")?),
        _ => None,
    };
    let app = App::build(config).await?;
    let result = sync_in_foreground(&app, config, store, &args.kind.kinds(), window).await;
    app.close().await;
    let tasks = result?;
    let failed = tasks.iter().filter(|t| t.status == TaskStatus::Failed).count();
    if failed > 0 {
        bail!("{failed} of {} syncs failed", tasks.len());
    }
    Ok(())
}

/// Triggers each kind for the store, runs workers in this process until every
/// task has ended, shows their progress, and prints a summary.
pub async fn sync_in_foreground(
    app: &App,
    config: &Config,
    store: StoreId,
    kinds: &[SyncKind],
    window: Option<SyncWindow>,
) -> anyhow::Result<Vec<SyncTask>> {
    let mut followed = Vec::new();
    for &kind in kinds {
        match trigger_or_follow(&app.engine, store, kind, window).await {
            Ok(id) => followed.push((kind, id)),
            Err(TriggerError::Unsupported { reason, .. }) => {
                eprintln!("{kind}: skipped ({reason})");
            }
            Err(e) => return Err(e).with_context(|| format!("starting the {kind} sync of store {store}")),
        }
    }
    let shutdown = CancellationToken::new();
    let workers = {
        let engine = app.engine.clone();
        let options = worker_options(config);
        let stop = shutdown.clone();
        tokio::spawn(async move { engine.run_workers(options, stop).await })
    };
    let followed_result = tokio::select! {
        tasks = follow(&app.db, &followed) => tasks,
        () = crate::cli::roles::wait_for_signal() => Err(anyhow::anyhow!(
            "interrupted; the tasks stay queued and any worker will finish them"
        )),
    };
    shutdown.cancel();
    workers
        .await
        .context("the workers panicked")?
        .context("running workers")?;
    let tasks = followed_result?;
    for task in &tasks {
        println!("{}", summary(task));
    }
    Ok(tasks)
}

/// A manual trigger, or the task already running for this kind (a second
/// `amzsync sync` joins the first instead of failing).
async fn trigger_or_follow(
    engine: &Engine,
    store: StoreId,
    kind: SyncKind,
    window: Option<SyncWindow>,
) -> Result<SyncTaskId, TriggerError> {
    match engine
        .trigger(Scope::All, store, kind, window, Trigger::Manual)
        .await
    {
        Ok(task) => Ok(task.id),
        Err(TriggerError::AlreadyRunning { task_id }) => Ok(task_id),
        Err(e) => Err(e),
    }
}

/// Progress bars until every task has ended; returns the tasks as they ended.
pub async fn follow(db: &Db, tasks: &[(SyncKind, SyncTaskId)]) -> anyhow::Result<Vec<SyncTask>> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:32}] {pos}/{len} {wide_msg}")
        .expect("the progress template is valid")
        .progress_chars("=> ");
    let handles: Vec<ProgressBar> = tasks
        .iter()
        .map(|(kind, _)| {
            let bar = bars.add(ProgressBar::new(1));
            bar.set_style(style.clone());
            bar.set_prefix(kind.to_string());
            bar
        })
        .collect();
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticker.tick().await;
        let mut current = Vec::with_capacity(tasks.len());
        for ((_, id), bar) in tasks.iter().zip(&handles) {
            let task = db
                .sync_tasks()
                .get(Scope::All, *id)
                .await
                .context("reading a task's progress")?;
            bar.set_length(u64::try_from(task.progress_total.max(1)).unwrap_or(1));
            bar.set_position(u64::try_from(task.progress_done.max(0)).unwrap_or(0));
            bar.set_message(status_line(&task));
            if !task.status.is_active() && !bar.is_finished() {
                bar.finish();
            }
            current.push(task);
        }
        if current.iter().all(|t| !t.status.is_active()) {
            return Ok(current);
        }
    }
}

fn status_line(task: &SyncTask) -> String {
    let detail = task
        .error_message
        .as_deref()
        .or(task.progress_message.as_deref())
        .unwrap_or("");
    format!("{} {} rows {}", task.status, task.records_synced, detail)
}

fn summary(task: &SyncTask) -> String {
    let window = match (task.window_start, task.window_end) {
        (Some(a), Some(b)) if a == b => format!(" for {a}"),
        (Some(a), Some(b)) => format!(" for {a}..{b}"),
        _ => String::new(),
    };
    let mut line = format!(
        "{}{}: {} — {} rows synced, {} rows failed (task {})",
        task.sync_type, window, task.status, task.records_synced, task.records_failed, task.id
    );
    if let Some(class) = task.error_class {
        line.push_str(&format!(
            "; {class}: {}",
            task.error_message.as_deref().unwrap_or("")
        ));
    } else if let Some(message) = &task.progress_message {
        line.push_str(&format!("; {message}"));
    }
    line
}
