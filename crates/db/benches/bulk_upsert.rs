//! Bulk upsert throughput of `Snapshots::upsert_inventory` against each
//! engine's floor, in one run:
//!
//! - PostgreSQL: a text `COPY` into the empty table (the floor the targets
//!   were set against; the API itself loads by binary `COPY` now, so phase A
//!   can pass it), then the API into the empty table (phase A, inserts), then
//!   the same rows again (phase B, a full re-sync where every row conflicts);
//! - SQLite: the plainest fast `INSERT` into the empty table (the floor), then
//!   phases A and B through the API.
//!
//! Run with `cargo bench -p amzsync-db --bench bulk_upsert`. Environment:
//! - `BENCH_ROWS`: rows per phase (default 1,000,000 = 1,000 stores x 1,000 SKUs);
//! - `AMZSYNC_BENCH_DATABASE_URL`: an admin URL of a PostgreSQL server allowed
//!   to create databases (default `postgres://postgres@127.0.0.1:5432/postgres`;
//!   append `?host=/var/run/postgresql` to go through the Unix socket);
//! - `BENCH_ENGINES`: `postgres`, `sqlite` or both (default), comma separated;
//! - `BENCH_SQLITE_FLOOR_CHUNK`: rows per statement of the SQLite floor.
//!
//! Memory: rows are generated one batch at a time and dropped after it, so the
//! peak RSS of each phase should not depend on `BENCH_ROWS`; each phase prints
//! its peak after the first 50,000 rows and at its end.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Instant;

use amzsync_db::{Cipher, Db, InventoryRow, NewStore, Snapshots};
use amzsync_domain::{Marketplace, Region, StoreId};
use amzsync_test_support::proc_stats::{cpu_secs, peak_rss_kb, reset_peak_rss};
use chrono::{DateTime, NaiveDate, Utc};
use futures::FutureExt as _;
use secrecy::SecretString;
use sqlx::{Connection as _, PgConnection};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

const DEFAULT_ROWS: usize = 1_000_000;
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// 1,000 SKUs per store is a mid-sized seller's FBA catalogue, so 1M rows is
/// 1,000 stores' daily inventory: the scale the ingest path is sized for.
const SKUS_PER_STORE: usize = 1_000;
/// Rows per transaction in every phase. A sync commits one report page or
/// report chunk at a time; 10,000 rows is that order of size, and it keeps the
/// client's memory bounded whatever the total.
const BATCH_ROWS: usize = 10_000;
/// Where each phase samples its peak RSS a first time, to compare with the
/// peak at its end: equal figures mean memory does not grow with row count.
const MEMORY_MARK_ROWS: usize = 50_000;
/// `COPY` data is sent in pieces of this size rather than one message per
/// batch, so the server parses rows while the client encodes the next ones and
/// the client never holds more than this much text.
const COPY_SEND_BYTES: usize = 256 * 1024;
/// Rows per statement of the SQLite floor: the fastest measured on a 2-core
/// machine (50,000 rows; rows/s by rows per statement: 100: 148k, 250: 163k,
/// 500: 165k, 1,000: 128k, 1,800: 106k). Shorter statements pay more per-call
/// overhead; longer ones cost more to bind than they save.
const DEFAULT_SQLITE_FLOOR_CHUNK: usize = 500;
/// SQLite's limit on bound parameters in one statement.
const SQLITE_MAX_PARAMS: usize = 32_766;

/// The columns every phase writes (all but the generated `inbound_quantity`),
/// in the order the API binds them.
const COLUMNS: &str = "store_id, marketplace_id, date, sku, asin, fnsku, product_name, \
    condition, fulfillable_quantity, inbound_working_quantity, inbound_shipped_quantity, \
    inbound_receiving_quantity, reserved_quantity, unfulfillable_quantity, \
    researching_quantity, total_quantity, created_at, updated_at";
const COLUMN_COUNT: usize = 18;

// One runtime thread: the benchmark loop is sequential, and on 2 cores a second
// worker would only compete with the PostgreSQL backend or SQLite's own thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("bulk_upsert: {msg}");
            ExitCode::FAILURE
        }
    }
}

struct Config {
    rows: usize,
    admin_url: String,
    postgres: bool,
    sqlite: bool,
    sqlite_floor_chunk: usize,
}

impl Config {
    fn from_env() -> Res<Self> {
        let rows = match std::env::var("BENCH_ROWS") {
            Ok(v) => v
                .replace(['_', ','], "")
                .parse()
                .map_err(|e| format!("BENCH_ROWS={v:?}: {e}"))?,
            Err(_) => DEFAULT_ROWS,
        };
        if rows == 0 {
            return Err("BENCH_ROWS must be at least 1".into());
        }
        let engines = std::env::var("BENCH_ENGINES").unwrap_or_else(|_| "postgres,sqlite".into());
        let engines: Vec<String> = engines
            .split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .collect();
        if let Some(bad) = engines
            .iter()
            .find(|e| !["postgres", "pg", "sqlite"].contains(&e.as_str()))
        {
            return Err(format!("BENCH_ENGINES: unknown engine {bad:?} (postgres, sqlite)").into());
        }
        let chunk = match std::env::var("BENCH_SQLITE_FLOOR_CHUNK") {
            Ok(v) => v
                .parse()
                .map_err(|e| format!("BENCH_SQLITE_FLOOR_CHUNK={v:?}: {e}"))?,
            Err(_) => DEFAULT_SQLITE_FLOOR_CHUNK,
        };
        let max_chunk = SQLITE_MAX_PARAMS / COLUMN_COUNT;
        if chunk == 0 || chunk > max_chunk {
            return Err(format!("BENCH_SQLITE_FLOOR_CHUNK must be 1 to {max_chunk}").into());
        }
        Ok(Self {
            rows,
            admin_url: std::env::var("AMZSYNC_BENCH_DATABASE_URL")
                .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned()),
            postgres: engines.iter().any(|e| e == "postgres" || e == "pg"),
            sqlite: engines.iter().any(|e| e == "sqlite"),
            sqlite_floor_chunk: chunk,
        })
    }

    fn stores(&self) -> usize {
        self.rows.div_ceil(SKUS_PER_STORE)
    }
}

async fn run() -> Res<()> {
    let started = Instant::now();
    let cfg = Config::from_env()?;
    println!(
        "amzsync bulk upsert benchmark: {} inventory rows per phase ({} stores x {} SKUs), \
         {}-row batches, one transaction per batch",
        group(cfg.rows as u64),
        group(cfg.stores() as u64),
        group(SKUS_PER_STORE.min(cfg.rows) as u64),
        group(BATCH_ROWS as u64),
    );
    println!(
        "machine: {} CPUs, load average {} at start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let mut phases = vec![generator_only(cfg.rows)];
    report_progress(&phases[0]);
    if cfg.postgres {
        phases.extend(postgres(&cfg).await?);
    }
    if cfg.sqlite {
        phases.extend(sqlite(&cfg).await?);
    }
    print_summary(&phases);
    println!(
        "total run time {:.1} s (setup and checks included); load average {} at end",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Row generation

/// Deterministic rows: row `i` is a function of its store index and SKU index
/// only, so every phase and both engines write exactly the same values.
struct Rows {
    stores: Vec<StoreId>,
    total: usize,
    date: NaiveDate,
}

/// SplitMix64: a cheap, well-mixed hash for deriving values from an index.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Rows {
    fn new(stores: Vec<StoreId>, total: usize) -> Self {
        Self {
            stores,
            total,
            date: NaiveDate::from_ymd_opt(2026, 11, 29).expect("a valid date"),
        }
    }

    fn row(&self, i: usize) -> InventoryRow {
        let (store, k) = (i / SKUS_PER_STORE, i % SKUS_PER_STORE);
        let h = mix(i as u64);
        let q = |shift: u32, modulo: u64| ((h >> shift) % modulo) as i64;
        let fulfillable = q(0, 500);
        let reserved = q(25, 40);
        let unfulfillable = q(31, 5);
        let researching = q(34, 3);
        InventoryRow {
            store_id: self.stores[store],
            marketplace_id: "ATVPDKIKX0DER".to_owned(),
            date: self.date,
            // A hashed prefix: reports do not list SKUs in key order, and keys
            // arriving sorted would flatter the B-tree (always appending to its
            // rightmost leaf). The index suffix keeps SKUs unique per store.
            sku: format!("{:04X}-SKU-{k:05}", h >> 48),
            asin: Some(format!("B0{:08X}", (h >> 8) as u32)),
            fnsku: Some(format!("X00{:07X}", (h >> 20) as u32 & 0x0fff_ffff)),
            // Catalogue titles run to 60-200 characters; this is a modest one.
            product_name: Some(format!(
                "Bench product {k} of store {store}, stainless steel, 500 ml, pack of {}",
                1 + h % 6
            )),
            condition: Some("NewItem".to_owned()),
            fulfillable_quantity: fulfillable,
            inbound_working_quantity: q(9, 20),
            inbound_shipped_quantity: q(14, 50),
            inbound_receiving_quantity: q(20, 30),
            reserved_quantity: reserved,
            unfulfillable_quantity: unfulfillable,
            researching_quantity: researching,
            total_quantity: fulfillable + reserved + unfulfillable + researching,
        }
    }

    /// Replaces `batch` with the rows from `start` on, at most one batch.
    fn fill(&self, start: usize, batch: &mut Vec<InventoryRow>) {
        batch.clear();
        let end = (start + BATCH_ROWS).min(self.total);
        batch.extend((start..end).map(|i| self.row(i)));
    }
}

// ---------------------------------------------------------------------------
// Timing and memory

struct Phase {
    engine: &'static str,
    name: &'static str,
    rows: usize,
    secs: f64,
    /// Peak RSS (kB) after the first `MEMORY_MARK_ROWS` rows, and at the end.
    rss_mark: Option<u64>,
    rss_end: Option<u64>,
    /// Whether the peaks are this phase's own (reset at its start) or the
    /// process's since it started.
    rss_own: bool,
    /// CPU seconds used by this process (for SQLite: the database too) and by
    /// the PostgreSQL backends of the bench database, during the phase. On a
    /// shared machine these say what a phase cost even when other work slowed
    /// its wall-clock time.
    cpu_client: Option<f64>,
    cpu_server: Option<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.secs
    }
}

/// The PostgreSQL server processes serving the bench database, with their CPU
/// seconds so far; empty when the server is not on this machine (its pids
/// would name unrelated local processes).
async fn backend_cpu(server: Option<&ServerProbe>) -> Res<HashMap<u32, f64>> {
    let Some(probe) = server else {
        return Ok(HashMap::new());
    };
    let pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            .fetch_all(&probe.pool)
            .await?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| {
            let pid = u32::try_from(pid).ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() == "postgres").then_some(())?;
            Some((pid, cpu_secs(Some(pid))?))
        })
        .collect())
}

/// How to find the PostgreSQL backends whose CPU a phase should report.
struct ServerProbe {
    pool: sqlx::PgPool,
}

impl ServerProbe {
    /// A probe if the server at `url` runs on this machine, else `None`.
    fn local(url: &str, pool: &sqlx::PgPool) -> Option<Self> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url).ok()?;
        let local =
            options.get_socket().is_some() || ["localhost", "127.0.0.1", "::1"].contains(&options.get_host());
        local.then(|| Self { pool: pool.clone() })
    }
}

/// Runs `per_batch` over all rows, one generated batch at a time. Generation is
/// inside the timed loop for every phase alike (its cost is shown separately by
/// `generator_only`), because that is how a sync produces rows too.
async fn timed<F>(
    engine: &'static str,
    name: &'static str,
    rows: &Rows,
    server: Option<&ServerProbe>,
    mut per_batch: F,
) -> Res<Phase>
where
    F: AsyncFnMut(&mut Vec<InventoryRow>) -> Res<()>,
{
    let server_before = backend_cpu(server).await?;
    let client_before = cpu_secs(None);
    let rss_own = reset_peak_rss();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut rss_mark = None;
    let mut done = 0;
    let start = Instant::now();
    while done < rows.total {
        rows.fill(done, &mut batch);
        done += batch.len();
        per_batch(&mut batch).await?;
        if rss_mark.is_none() && done >= MEMORY_MARK_ROWS.min(rows.total) {
            rss_mark = peak_rss_kb();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let rss_end = peak_rss_kb();
    let cpu_client = cpu_secs(None).zip(client_before).map(|(a, b)| a - b);
    // Backends that started during the phase count from zero.
    let cpu_server = backend_cpu(server)
        .await?
        .into_iter()
        .map(|(pid, after)| after - server_before.get(&pid).copied().unwrap_or(0.0))
        .reduce(|a, b| a + b);
    let phase = Phase {
        engine,
        name,
        rows: rows.total,
        secs,
        rss_mark,
        rss_end,
        rss_own,
        cpu_client,
        cpu_server,
    };
    report_progress(&phase);
    Ok(phase)
}

/// The client's share of every phase: generating the rows, with no database.
fn generator_only(total: usize) -> Phase {
    let client_before = cpu_secs(None);
    let rss_own = reset_peak_rss();
    let rows = Rows::new(vec![StoreId(1); total.div_ceil(SKUS_PER_STORE)], total);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut rss_mark = None;
    let mut bytes = 0usize;
    let start = Instant::now();
    let mut done = 0;
    while done < total {
        rows.fill(done, &mut batch);
        done += batch.len();
        // Touch the rows so the optimizer cannot drop the generation.
        bytes += batch.iter().map(|r| r.sku.len()).sum::<usize>();
        if rss_mark.is_none() && done >= MEMORY_MARK_ROWS.min(total) {
            rss_mark = peak_rss_kb();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    Phase {
        engine: "client",
        name: "generate rows only (no database)",
        rows: total,
        secs,
        rss_mark,
        rss_end: peak_rss_kb(),
        rss_own,
        cpu_client: cpu_secs(None).zip(client_before).map(|(a, b)| a - b),
        cpu_server: None,
    }
}

fn report_progress(p: &Phase) {
    eprintln!(
        "  done: {} {}: {} rows in {:.2} s = {} rows/s",
        p.engine,
        p.name,
        group(p.rows as u64),
        p.secs,
        group(p.rate().round() as u64)
    );
}

/// Runs `fut`, turning a panic or Ctrl-C into an error, so the caller always
/// gets to remove what it created (the PostgreSQL database).
async fn guarded<T>(fut: impl Future<Output = Res<T>>) -> Res<T> {
    tokio::select! {
        r = AssertUnwindSafe(fut).catch_unwind() => {
            r.unwrap_or_else(|_| Err("the benchmark panicked (message above)".into()))
        }
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    }
}

// ---------------------------------------------------------------------------
// Shared setup

/// Creates the stores the foreign key needs, through the API (so they are
/// valid stores), on an otherwise empty migrated database.
async fn create_stores(db: &Db, count: usize) -> Res<Vec<StoreId>> {
    let user = db.users().create("bench", false).await?;
    let us = Marketplace::by_id("ATVPDKIKX0DER").ok_or("the US marketplace is unknown")?;
    let mut ids = Vec::with_capacity(count);
    for s in 0..count {
        let store = db
            .stores()
            .create(NewStore {
                user_id: user.id,
                store_name: format!("Bench store {s}"),
                region: Region::Na,
                marketplaces: vec![us],
                seller_id: format!("ABENCH{s:06}"),
                sp_api_refresh_token: SecretString::from(format!("Atzr|bench-{s}")),
                advertising_api_refresh_token: None,
                sp_api_client_id: None,
                sp_api_client_secret: None,
                business_lookback_days: None,
                ads_lookback_days: None,
            })
            .await?;
        ids.push(store.id);
    }
    Ok(ids)
}

async fn upsert_phase(
    db: &Db,
    engine: &'static str,
    name: &'static str,
    rows: &Rows,
    server: Option<&ServerProbe>,
) -> Res<Phase> {
    timed(engine, name, rows, server, async |batch| {
        let mut tx = db.begin().await?;
        Snapshots::upsert_inventory(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------
// PostgreSQL

fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

async fn admin_exec(admin: &mut PgConnection, sql: String) -> Res<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(admin).await?;
    Ok(())
}

async fn postgres(cfg: &Config) -> Res<Vec<Phase>> {
    let mut admin = PgConnection::connect(&cfg.admin_url).await.map_err(|e| {
        format!(
            "connecting to {} (AMZSYNC_BENCH_DATABASE_URL): {e}",
            cfg.admin_url
        )
    })?;
    let name = format!("amzsync_bench_{}", std::process::id());
    admin_exec(
        &mut admin,
        format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
    )
    .await?;
    admin_exec(&mut admin, format!(r#"CREATE DATABASE "{name}""#)).await?;
    let outcome = guarded(postgres_phases(cfg, &database_url(&cfg.admin_url, &name))).await;
    // The database goes whatever happened above; WITH (FORCE) closes the
    // connections of a pool that an error left open.
    let dropped = admin_exec(
        &mut admin,
        format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
    )
    .await;
    admin.close().await.ok();
    let phases = outcome?;
    dropped.map_err(|e| format!("dropping database {name}: {e}"))?;
    Ok(phases)
}

/// Starts each timed phase from the same server state: without it, a phase
/// would pay for flushing the previous phase's dirty buffers.
async fn checkpoint(pool: &sqlx::PgPool) -> Res<()> {
    sqlx::query("CHECKPOINT").execute(pool).await?;
    Ok(())
}

async fn pg_count(pool: &sqlx::PgPool, sql: &'static str) -> Res<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

async fn postgres_phases(cfg: &Config, url: &str) -> Res<Vec<Phase>> {
    let setup = Instant::now();
    // Two connections: the benchmark uses one at a time, like one sync task.
    let db = Db::connect_postgres(url, 2, Cipher::new(&Cipher::generate_key())).await?;
    db.migrate().await?;
    let pool = db.postgres_pool().ok_or("not a PostgreSQL pool")?.clone();
    let probe = ServerProbe::local(url, &pool);
    let server = probe.as_ref();
    let rows = Rows::new(create_stores(&db, cfg.stores()).await?, cfg.rows);
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, current_setting(name) FROM pg_settings
         WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size',
                        'wal_compression', 'autovacuum', 'full_page_writes')
         ORDER BY name",
    )
    .fetch_all(&pool)
    .await?;
    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&pool).await?;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
    // The transport matters: over TCP a statement's last partial packet waits
    // for a delayed ACK unless TCP_NODELAY is set, which sqlx 0.9.0 leaves to
    // us (amzsync-db's nodelay.rs, which covers the floor's pool too).
    let transport = match options.get_socket() {
        Some(dir) => format!("Unix socket in {}", dir.display()),
        None => format!("TCP {}:{}", options.get_host(), options.get_port()),
    };
    println!(
        "PostgreSQL {version} via {transport}: {}; setup {:.1} s",
        settings
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        setup.elapsed().as_secs_f64()
    );
    let mut phases = Vec::new();
    let expected = cfg.rows as i64;

    // The floor writes into inventory_snapshots itself, emptied afterwards by
    // TRUNCATE (a new, empty file for heap and index): a copy made with LIKE
    // would lack the foreign key to amazon_stores, whose per-row check the
    // upsert pays, and so would set a floor no upsert could reach.
    checkpoint(&pool).await?;
    phases.push(pg_copy_phase(&pool, &rows, server).await?);
    let copied = pg_count(&pool, "SELECT count(*) FROM inventory_snapshots").await?;
    if copied != expected {
        return Err(format!("COPY wrote {copied} rows, expected {expected}").into());
    }
    sqlx::query("TRUNCATE inventory_snapshots").execute(&pool).await?;

    checkpoint(&pool).await?;
    phases.push(upsert_phase(&db, "PostgreSQL", "upsert A: into empty table", &rows, server).await?);
    let inserted = pg_count(&pool, "SELECT count(*) FROM inventory_snapshots").await?;
    if inserted != expected {
        return Err(format!("phase A left {inserted} rows, expected {expected}").into());
    }

    // A re-sync in production comes a day later, after autovacuum has set hint
    // bits and the visibility map; doing that here keeps phase B from paying
    // for phase A's cleanup (autovacuum may be off on a bench server).
    sqlx::query("VACUUM (ANALYZE) inventory_snapshots")
        .execute(&pool)
        .await?;
    checkpoint(&pool).await?;
    phases.push(
        upsert_phase(
            &db,
            "PostgreSQL",
            "upsert B: re-sync, all conflict",
            &rows,
            server,
        )
        .await?,
    );
    let (total, updated): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE updated_at > created_at) FROM inventory_snapshots",
    )
    .fetch_one(&pool)
    .await?;
    if total != expected || updated != expected {
        return Err(format!(
            "phase B left {total} rows of which {updated} updated, expected {expected} and {expected}"
        )
        .into());
    }
    db.close().await;
    Ok(phases)
}

/// Appends one field in COPY text format.
fn copy_text(buf: &mut Vec<u8>, value: Option<&str>) {
    let Some(s) = value else {
        buf.extend_from_slice(b"\\N");
        return;
    };
    if !s.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    for b in s.bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

fn copy_row(buf: &mut Vec<u8>, r: &InventoryRow, stamp: &str) {
    let _ = write!(buf, "{}\t", r.store_id.0);
    copy_text(buf, Some(&r.marketplace_id));
    let _ = write!(buf, "\t{}\t", r.date);
    copy_text(buf, Some(&r.sku));
    for text in [&r.asin, &r.fnsku, &r.product_name, &r.condition] {
        buf.push(b'\t');
        copy_text(buf, text.as_deref());
    }
    let _ = writeln!(
        buf,
        "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{stamp}\t{stamp}",
        r.fulfillable_quantity,
        r.inbound_working_quantity,
        r.inbound_shipped_quantity,
        r.inbound_receiving_quantity,
        r.reserved_quantity,
        r.unfulfillable_quantity,
        r.researching_quantity,
        r.total_quantity,
    );
}

/// The floor: text-format `COPY` of each batch in its own transaction, the same
/// batching and commits as the upsert phases, so the difference between them
/// is the statement, not the commit count.
async fn pg_copy_phase(pool: &sqlx::PgPool, rows: &Rows, server: Option<&ServerProbe>) -> Res<Phase> {
    let copy_sql = format!("COPY inventory_snapshots ({COLUMNS}) FROM STDIN");
    let mut buf: Vec<u8> = Vec::with_capacity(COPY_SEND_BYTES + 4096);
    timed(
        "PostgreSQL",
        "COPY floor: into empty table",
        rows,
        server,
        async |batch| {
            let stamp = pg_timestamp(Utc::now());
            let mut tx = pool.begin().await?;
            let mut copy = tx.copy_in_raw(&copy_sql).await?;
            for row in batch.iter() {
                copy_row(&mut buf, row, &stamp);
                if buf.len() >= COPY_SEND_BYTES {
                    copy.send(buf.as_slice()).await?;
                    buf.clear();
                }
            }
            if !buf.is_empty() {
                copy.send(buf.as_slice()).await?;
                buf.clear();
            }
            let n = copy.finish().await?;
            if n != batch.len() as u64 {
                return Err(format!("COPY took {n} rows of {}", batch.len()).into());
            }
            tx.commit().await?;
            Ok(())
        },
    )
    .await
}

fn pg_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

// ---------------------------------------------------------------------------
// SQLite

async fn sqlite(cfg: &Config) -> Res<Vec<Phase>> {
    let dir = tempfile::Builder::new().prefix("amzsync-bench-").tempdir()?;
    // The directory is removed when `dir` drops, whatever the outcome.
    guarded(sqlite_phases(cfg, dir.path())).await
}

async fn sqlite_phases(cfg: &Config, dir: &std::path::Path) -> Res<Vec<Phase>> {
    // Each measurement gets a fresh file made by Db::open_sqlite and migrate:
    // the same schema, pragmas (WAL, synchronous NORMAL, foreign keys) and
    // empty table for the floor as for the API, with no pages left free by a
    // previous phase.
    let (db, rows) = sqlite_db(&dir.join("floor.db"), cfg).await?;
    let floor = sqlite_floor_phase(&db, &rows, cfg).await?;
    db.close().await;
    let (db, rows) = sqlite_db(&dir.join("upsert.db"), cfg).await?;
    let phases = sqlite_upsert_phases(&db, &rows, cfg).await?;
    db.close().await;
    let mut all = vec![floor];
    all.extend(phases);
    Ok(all)
}

async fn sqlite_db(path: &std::path::Path, cfg: &Config) -> Res<(Db, Rows)> {
    let db = Db::open_sqlite(path, Cipher::new(&Cipher::generate_key())).await?;
    db.migrate().await?;
    let stores = create_stores(&db, cfg.stores()).await?;
    Ok((db, Rows::new(stores, cfg.rows)))
}

/// Empties the WAL before a phase, so no phase inherits another's checkpoint work.
async fn wal_checkpoint(pool: &sqlx::SqlitePool) -> Res<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}

async fn sqlite_count(pool: &sqlx::SqlitePool, sql: &'static str) -> Res<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// Anonymous `?` placeholders, not `$N`: SQLite finds a numbered or named
/// parameter's name by a linear scan of the statement's parameter list, and
/// sqlx asks for every parameter's name when binding, so `$N` costs time
/// quadratic in the statement's parameter count. With `?` there is no list.
/// The price is binding the shared timestamp twice per row.
fn sqlite_insert_sql(rows: usize) -> Arc<str> {
    let row = format!("({})", vec!["?"; COLUMN_COUNT].join(", "));
    format!(
        "INSERT INTO inventory_snapshots ({COLUMNS}) VALUES {}",
        vec![row; rows].join(", ")
    )
    .into()
}

/// The floor: a plain multi-row `INSERT` (no `ON CONFLICT`), prepared once per
/// statement size, with each batch in one `BEGIN IMMEDIATE` transaction as
/// `Db::begin` does. Rows are moved into the statement, not copied: this is
/// the cheapest the client side can be.
async fn sqlite_floor_phase(db: &Db, rows: &Rows, cfg: &Config) -> Res<Phase> {
    let pool = db.sqlite_pool().ok_or("not a SQLite pool")?.clone();
    let chunk = cfg.sqlite_floor_chunk;
    let mut statements: HashMap<usize, Arc<str>> = HashMap::new();
    wal_checkpoint(&pool).await?;
    let phase = timed(
        "SQLite",
        "INSERT floor: into empty table",
        rows,
        None,
        async |batch| {
            let now = Utc::now();
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut left = batch.len();
            let mut drained = batch.drain(..);
            while left > 0 {
                let take = left.min(chunk);
                left -= take;
                let sql = statements
                    .entry(take)
                    .or_insert_with(|| sqlite_insert_sql(take))
                    .clone();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in drained.by_ref().take(take) {
                    q = q
                        .bind(r.store_id.0)
                        .bind(r.marketplace_id)
                        .bind(r.date)
                        .bind(r.sku)
                        .bind(r.asin)
                        .bind(r.fnsku)
                        .bind(r.product_name)
                        .bind(r.condition)
                        .bind(r.fulfillable_quantity)
                        .bind(r.inbound_working_quantity)
                        .bind(r.inbound_shipped_quantity)
                        .bind(r.inbound_receiving_quantity)
                        .bind(r.reserved_quantity)
                        .bind(r.unfulfillable_quantity)
                        .bind(r.researching_quantity)
                        .bind(r.total_quantity)
                        .bind(now)
                        .bind(now);
                }
                q.execute(&mut *tx).await?;
            }
            drop(drained);
            tx.commit().await?;
            Ok(())
        },
    )
    .await?;
    let n = sqlite_count(&pool, "SELECT count(*) FROM inventory_snapshots").await?;
    if n != cfg.rows as i64 {
        return Err(format!("SQLite floor wrote {n} rows, expected {}", cfg.rows).into());
    }
    Ok(phase)
}

async fn sqlite_upsert_phases(db: &Db, rows: &Rows, cfg: &Config) -> Res<Vec<Phase>> {
    let pool = db.sqlite_pool().ok_or("not a SQLite pool")?.clone();
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await?;
    println!("SQLite {version}: journal_mode=WAL synchronous=NORMAL (Db::open_sqlite), default page cache");
    let expected = cfg.rows as i64;
    wal_checkpoint(&pool).await?;
    let a = upsert_phase(db, "SQLite", "upsert A: into empty table", rows, None).await?;
    let n = sqlite_count(&pool, "SELECT count(*) FROM inventory_snapshots").await?;
    if n != expected {
        return Err(format!("SQLite phase A left {n} rows, expected {expected}").into());
    }
    wal_checkpoint(&pool).await?;
    let b = upsert_phase(db, "SQLite", "upsert B: re-sync, all conflict", rows, None).await?;
    let (n, updated): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(updated_at > created_at) FROM inventory_snapshots")
            .fetch_one(&pool)
            .await?;
    if n != expected || updated != expected {
        return Err(
            format!("SQLite phase B left {n} rows of which {updated} updated, expected {expected}").into(),
        );
    }
    Ok(vec![a, b])
}

// ---------------------------------------------------------------------------
// Output

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The 1, 5 and 15 minute load averages: other work on the machine slows
/// every phase, so a result is read together with them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "?".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0))
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn print_summary(phases: &[Phase]) {
    println!();
    println!(
        "{:<11} {:<32} {:>10} {:>8} {:>9}  {:>15}  {:>15}",
        "engine", "phase", "rows", "seconds", "rows/s", "CPU s bench/PG", "peak RSS MB"
    );
    println!(
        "{:<11} {:<32} {:>10} {:>8} {:>9}  {:>15}  {:>15}",
        "", "", "", "", "", "", "@50k rows/end"
    );
    println!("{}", "-".repeat(108));
    for p in phases {
        println!(
            "{:<11} {:<32} {:>10} {:>8.2} {:>9}  {:>7} / {:<5}  {:>6} / {:<6}{}",
            p.engine,
            p.name,
            group(p.rows as u64),
            p.secs,
            group(p.rate().round() as u64),
            secs(p.cpu_client),
            secs(p.cpu_server),
            mb(p.rss_mark),
            mb(p.rss_end),
            if p.rss_own { "" } else { " (process peak)" },
        );
    }
    let rate = |engine: &str, prefix: &str| {
        phases
            .iter()
            .find(|p| p.engine == engine && p.name.starts_with(prefix))
            .map(Phase::rate)
    };
    let ratios = [
        (
            "PostgreSQL upsert into empty / COPY",
            "PostgreSQL",
            "upsert A",
            "COPY",
            Some(0.75),
        ),
        (
            "PostgreSQL re-sync / COPY",
            "PostgreSQL",
            "upsert B",
            "COPY",
            Some(0.50),
        ),
        (
            "SQLite upsert into empty / INSERT floor",
            "SQLite",
            "upsert A",
            "INSERT",
            Some(0.70),
        ),
        (
            "SQLite re-sync / INSERT floor",
            "SQLite",
            "upsert B",
            "INSERT",
            None,
        ),
    ];
    println!();
    println!("{:<42} {:>7}  {:>8}  verdict", "ratio", "value", "target");
    println!("{}", "-".repeat(70));
    for (label, engine, num, den, target) in ratios {
        let (Some(n), Some(d)) = (rate(engine, num), rate(engine, den)) else {
            continue;
        };
        let r = n / d;
        let (t, verdict) = match target {
            Some(t) if r >= t => (format!(">= {:.0}%", t * 100.0), "ok"),
            Some(t) => (format!(">= {:.0}%", t * 100.0), "BELOW TARGET"),
            None => ("-".to_owned(), "-"),
        };
        println!("{label:<42} {:>6.1}%  {t:>8}  {verdict}", r * 100.0);
    }
    println!();
    println!(
        "batches of {} rows, one transaction each; seconds include generating the rows \
         (first line: that cost alone)",
        group(BATCH_ROWS as u64)
    );
}
