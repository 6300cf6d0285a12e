//! Parse throughput and peak memory of the report parsers (issue 4): printed
//! figures, not a timed test.
//!
//! `cargo bench -p amzsync-amazon --bench parse` generates, deterministically and
//! streaming to temporary files:
//!
//! - a gzip FBA inventory TSV of `BENCH_INVENTORY_ROWS` rows (1,000,000);
//! - a gzip Sales & Traffic JSON of `BENCH_SALES_ITEMS` by-ASIN items (200,000);
//! - a gzip FBA inventory TSV of about `BENCH_BIG_MB` MB uncompressed (1024; `0`
//!   skips it), to show that peak memory stays flat however large the report;
//!
//! then times `gzip -dc FILE > /dev/null` (the floor) and
//! [`document::decode`] plus the parser over the same file, in the same run,
//! keeping the best of `BENCH_REPEAT` (3) runs of each (the big file: one).
//! Throughput is in MB (10^6 bytes) of uncompressed input per second. Peak
//! RSS is the process's `VmHWM`, reset before each parse where the kernel
//! allows it (`/proc/self/clear_refs`). Targets: within 3× of the floor, peak
//! RSS under 100 MB.
//!
//! Run by `cargo test --benches` (without `--bench`), it only smoke-tests
//! itself on small files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use amzsync_amazon::Parsed;
use amzsync_amazon::document::{self, Encoded};
use amzsync_amazon::sp::{fba_inventory, sales_traffic};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Target ratio of our parse time to the gunzip floor.
const TARGET_RATIO: f64 = 3.0;
/// Target peak RSS, in MB.
const TARGET_RSS_MB: f64 = 100.0;

fn main() -> io::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let inventory_rows = setting("BENCH_INVENTORY_ROWS", if full { 1_000_000 } else { 2_000 });
    let sales_items = setting("BENCH_SALES_ITEMS", if full { 200_000 } else { 500 });
    let big_mb = setting("BENCH_BIG_MB", if full { 1024 } else { 0 });
    let repeat = setting("BENCH_REPEAT", if full { 3 } else { 1 }).max(1);
    let dir = Scratch::new()?;

    println!(
        "amzsync-amazon parse benchmark ({} build, one thread{})",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimized"
        },
        if full {
            ""
        } else {
            "; a smoke test on small files: `cargo bench` for figures"
        },
    );
    println!(
        "{:<34} {:>10} {:>10} {:>9} {:>11} {:>9} {:>8} {:>8} {:>9}",
        "case", "input MB", "gzip MB", "floor s", "floor MB/s", "parse s", "MB/s", "ratio", "rows/s"
    );
    let mut figures = Vec::new();

    let path = dir.path("inventory.tsv.gz");
    let raw = write_gzip(&path, Compression::default(), |out| {
        inventory_tsv(out, inventory_rows, u64::MAX).map(drop)
    })?;
    figures.push(measure(
        &format!("inventory TSV, {inventory_rows} rows"),
        &path,
        raw,
        repeat,
        parse_inventory,
    )?);

    let path = dir.path("sales_traffic.json.gz");
    let raw = write_gzip(&path, Compression::default(), |out| {
        sales_traffic_json(out, sales_items)
    })?;
    figures.push(measure(
        &format!("Sales & Traffic JSON, {sales_items} items"),
        &path,
        raw,
        repeat,
        parse_sales_traffic,
    )?);

    if big_mb > 0 {
        let path = dir.path("inventory_big.tsv.gz");
        // Level 1 keeps generation quick.
        let mut rows = 0;
        let raw = write_gzip(&path, Compression::fast(), |out| {
            rows = inventory_tsv(out, u64::MAX, big_mb * 1_000_000)?;
            Ok(())
        })?;
        figures.push(measure(
            &format!("inventory TSV, {rows} rows (big)"),
            &path,
            raw,
            1,
            parse_inventory,
        )?);
    }

    println!();
    for f in &figures {
        let ratio_ok = f.ratio() <= TARGET_RATIO;
        let rss_ok = f.peak_rss_mb.is_none_or(|mb| mb < TARGET_RSS_MB);
        println!(
            "{}: {:.1} MB/s, {:.2}× the gunzip floor ({}), peak RSS {} ({}); {} rows, {} skipped",
            f.case,
            mb_per_s(f.raw_bytes, f.parse),
            f.ratio(),
            if ratio_ok { "within target" } else { "OVER TARGET" },
            f.peak_rss_mb
                .map_or("unknown".to_owned(), |mb| format!("{mb:.1} MB")),
            if rss_ok { "within target" } else { "OVER TARGET" },
            f.rows,
            f.skipped,
        );
        if f.skipped != 0 {
            return Err(io::Error::other(format!(
                "{}: generated rows were skipped",
                f.case
            )));
        }
    }
    Ok(())
}

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// What a parse saw.
#[derive(Default)]
struct Count {
    rows: u64,
    skipped: u64,
}

impl Count {
    fn add<T>(&mut self, p: Parsed<T>) {
        match p {
            Parsed::Row(row) => {
                std::hint::black_box(row);
                self.rows += 1;
            }
            Parsed::Skipped(_) => self.skipped += 1,
        }
    }
}

fn parse_inventory(file: File) -> io::Result<Count> {
    let text = document::decode(file, &Encoded::default()).map_err(io::Error::other)?;
    let mut count = Count::default();
    for p in fba_inventory::rows(text).map_err(io::Error::other)? {
        count.add(p.map_err(io::Error::other)?);
    }
    Ok(count)
}

fn parse_sales_traffic(file: File) -> io::Result<Count> {
    let text = document::decode(file, &Encoded::default()).map_err(io::Error::other)?;
    let mut count = Count::default();
    let summary = sales_traffic::read(text, |p| count.add(p)).map_err(io::Error::other)?;
    assert_eq!(summary.by_asin_items, count.rows + count.skipped);
    Ok(count)
}

struct Figures {
    case: String,
    raw_bytes: u64,
    floor: Duration,
    parse: Duration,
    rows: u64,
    skipped: u64,
    peak_rss_mb: Option<f64>,
}

impl Figures {
    fn ratio(&self) -> f64 {
        self.parse.as_secs_f64() / self.floor.as_secs_f64()
    }
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn measure(
    case: &str,
    path: &Path,
    raw_bytes: u64,
    repeat: u64,
    parse: fn(File) -> io::Result<Count>,
) -> io::Result<Figures> {
    let gzip_bytes = std::fs::metadata(path)?.len();
    // Warm the page cache so neither side pays for the disk.
    io::copy(&mut File::open(path)?, &mut io::sink())?;

    // The best of a few runs on each side: the machine is shared.
    let mut floor = Duration::MAX;
    let mut parse_time = Duration::MAX;
    let mut count = Count::default();
    for _ in 0..repeat {
        floor = floor.min(gunzip_floor(path)?);
        reset_peak_rss();
        let started = Instant::now();
        count = parse(File::open(path)?)?;
        parse_time = parse_time.min(started.elapsed());
    }
    let figures = Figures {
        case: case.to_owned(),
        raw_bytes,
        floor,
        parse: parse_time,
        rows: count.rows,
        skipped: count.skipped,
        peak_rss_mb: peak_rss_mb(),
    };
    println!(
        "{:<34} {:>10.1} {:>10.1} {:>9.3} {:>11.1} {:>9.3} {:>8.1} {:>7.2}× {:>9.0}",
        case,
        raw_bytes as f64 / 1e6,
        gzip_bytes as f64 / 1e6,
        floor.as_secs_f64(),
        mb_per_s(raw_bytes, floor),
        parse_time.as_secs_f64(),
        mb_per_s(raw_bytes, parse_time),
        figures.ratio(),
        count.rows as f64 / parse_time.as_secs_f64(),
    );
    Ok(figures)
}

/// `gzip -dc FILE > /dev/null`, timed.
fn gunzip_floor(path: &Path) -> io::Result<Duration> {
    let started = Instant::now();
    let status = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .stdout(Stdio::from(File::create("/dev/null")?))
        .status()?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(io::Error::other(format!("gzip -dc failed: {status}")));
    }
    Ok(elapsed)
}

/// Resets `VmHWM` to the current RSS, so the next reading is the peak of what
/// follows (Linux 4.0+; without it the figure is the peak of the whole run).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

/// Writes what `body` produces to `path` through gzip; returns the number of
/// uncompressed bytes.
fn write_gzip(
    path: &Path,
    level: Compression,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<u64> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut counted = Counting {
        inner: GzEncoder::new(file, level),
        bytes: 0,
    };
    {
        let mut buffered = BufWriter::with_capacity(1 << 16, &mut counted);
        body(&mut buffered)?;
        buffered.flush()?;
    }
    counted.inner.finish()?.flush()?;
    Ok(counted.bytes)
}

struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A small deterministic generator (xorshift64*): the same files every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TITLES: &[&str] = &[
    "Red ceramic mug 12oz",
    "Men's T-Shirt, Black, Size M \"Classic Fit\"",
    "Cast iron skillet 12\" pre-seasoned",
    "Stainless steel water bottle 750 ml",
    "Organic green tea, 100 bags",
    "USB-C charging cable 2 m, braided",
];

/// A MYI report with Amazon's full header (22 columns, ours and others'), of
/// `max_rows` rows or `max_bytes` bytes, whichever comes first; returns the
/// number of rows.
fn inventory_tsv(out: &mut dyn Write, max_rows: u64, max_bytes: u64) -> io::Result<u64> {
    use std::fmt::Write as _;
    let mut line = String::new();
    writeln!(
        line,
        "sku\tfnsku\tasin\tproduct-name\tcondition\tyour-price\tmfn-listing-exists\tmfn-fulfillable-quantity\tafn-listing-exists\tafn-warehouse-quantity\tafn-fulfillable-quantity\tafn-unsellable-quantity\tafn-reserved-quantity\tafn-total-quantity\tper-unit-volume\tafn-inbound-working-quantity\tafn-inbound-shipped-quantity\tafn-inbound-receiving-quantity\tafn-researching-quantity\tafn-reserved-future-supply\tafn-future-supply-buyable\tstore"
    )
    .map_err(io::Error::other)?;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    out.write_all(line.as_bytes())?;
    let mut bytes = line.len() as u64;
    let mut n = 0;
    while n < max_rows && bytes < max_bytes {
        line.clear();
        let title = TITLES[rng.below(TITLES.len() as u64) as usize];
        let (fulfillable, unsellable, reserved) = (rng.below(500), rng.below(10), rng.below(40));
        let (working, shipped, receiving) = (rng.below(50), rng.below(100), rng.below(30));
        let warehouse = fulfillable + unsellable + reserved;
        let mfn = if rng.below(4) == 0 {
            rng.below(30).to_string()
        } else {
            String::new()
        };
        writeln!(
            line,
            "SKU-{n:08}\tX{n:09}\tB{n:09}\t{title}\tNew\t{}.{:02}\t{}\t{mfn}\tYes\t{warehouse}\t{fulfillable}\t{unsellable}\t{reserved}\t{}\t0.03\t{working}\t{shipped}\t{receiving}\t{}\t0\t0\t",
            rng.below(200),
            rng.below(100),
            if mfn.is_empty() { "No" } else { "Yes" },
            warehouse + working + shipped + receiving,
            rng.below(3),
        )
        .map_err(io::Error::other)?;
        out.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        n += 1;
    }
    Ok(n)
}

/// A Sales & Traffic report at SKU granularity, one item per line as Amazon
/// writes it compactly.
fn sales_traffic_json(out: &mut dyn Write, items: u64) -> io::Result<()> {
    out.write_all(
        br#"{"reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","reportOptions":{"dateGranularity":"DAY","asinGranularity":"SKU"},"dataStartTime":"2024-05-01","dataEndTime":"2024-05-01","marketplaceIds":["ATVPDKIKX0DER"]},"salesAndTrafficByDate":[{"date":"2024-05-01","salesByDate":{"orderedProductSales":{"amount":113.95,"currencyCode":"USD"},"unitsOrdered":7,"totalOrderItems":6},"trafficByDate":{"pageViews":136,"sessions":100,"buyBoxPercentage":98.53}}],"salesAndTrafficByAsin":["#,
    )?;
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    for n in 0..items {
        if n > 0 {
            out.write_all(b",\n")?;
        }
        let (browser, app) = (rng.below(400), rng.below(300));
        let (browser_views, app_views) = (browser + rng.below(200), app + rng.below(100));
        write!(
            out,
            r#"{{"parentAsin":"B{p:09}","childAsin":"B{n:09}","sku":"SKU-{n:08}","salesByAsin":{{"unitsOrdered":{units},"unitsOrderedB2B":0,"orderedProductSales":{{"amount":{a}.{c:02},"currencyCode":"USD"}},"orderedProductSalesB2B":{{"amount":0.0,"currencyCode":"USD"}},"totalOrderItems":{items},"totalOrderItemsB2B":0}},"trafficByAsin":{{"browserSessions":{browser},"browserSessionsB2B":0,"mobileAppSessions":{app},"mobileAppSessionsB2B":0,"sessions":{sessions},"sessionsB2B":0,"browserSessionPercentage":{pct1}.{pct2:02},"sessionPercentage":0.{pct2:02},"browserPageViews":{browser_views},"mobileAppPageViews":{app_views},"pageViews":{views},"pageViewsPercentage":0.{pct1:02},"buyBoxPercentage":{bb}.0,"unitSessionPercentage":{usp}.{pct2:02}}}}}"#,
            p = n / 4,
            units = rng.below(20),
            a = rng.below(2000),
            c = rng.below(100),
            items = rng.below(15),
            sessions = browser + app,
            pct1 = rng.below(100),
            pct2 = rng.below(100),
            views = browser_views + app_views,
            bb = rng.below(101),
            usp = rng.below(30),
        )?;
    }
    out.write_all(b"]}\n")
}

/// A directory of scratch files, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("amzsync-parse-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
