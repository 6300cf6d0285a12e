//! How fast the simulator serves report documents, and in how much memory.
//!
//! Starts a simulator per store size (1,000 and 100,000 SKUs), downloads an MYI
//! report (TSV) and a one-day Sales & Traffic report (gzip JSON, CHILD
//! granularity: a row per ASIN with traffic) over HTTP on loopback, and prints the
//! bytes served, the time, the rate and the process's peak resident set (VmHWM).
//! The client counts the bytes as they arrive and keeps none, so the peak is the
//! simulator's: documents are generated as streams, so it must not grow with the
//! number of SKUs. The smaller store runs first: VmHWM only ever grows, so a
//! 100,000-SKU figure close to the 1,000-SKU one shows memory does not scale.
//!
//! `cargo bench -p amzsync-amazon-sim --bench serve`

use std::io::Write;
use std::time::{Duration, Instant};

use amzsync_amazon_sim::{Config, Credentials, Seller, Simulator};
use futures::StreamExt as _;
use serde_json::{Value, json};

const SELLER: &str = "A3BENCHSELLER";
const US: &str = "ATVPDKIKX0DER";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    // reqwest is built without a TLS provider choice: install ring once, although
    // only plain HTTP is spoken here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("peak RSS at start: {:.1} MiB", peak_rss_mib());
        println!(
            "{:>8}  {:<34} {:>12} {:>8} {:>9} {:>14}",
            "SKUs", "document", "bytes", "seconds", "MB/s", "peak RSS (MiB)"
        );
        for skus in [1_000, 100_000] {
            store(skus).await?;
        }
        Ok(())
    })
}

/// Serves both documents of one store size and prints a line for each.
async fn store(skus: u32) -> Result<()> {
    let sim = Simulator::start_local(Config {
        report_polls: 0,
        ..Config::default()
    })
    .await?;
    let credentials = sim.add_seller(Seller::new(SELLER).marketplace(US, skus))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let token = access_token(&http, &sim, &credentials).await?;

    let myi = json!({ "reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [US] });
    let sales = json!({
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "marketplaceIds": [US],
        "dataStartTime": "2024-04-20T00:00:00Z",
        "dataEndTime": "2024-04-20T23:59:59Z",
        "reportOptions": { "dateGranularity": "DAY", "asinGranularity": "CHILD" },
    });
    for (name, request, gzip) in [
        ("MYI TSV", myi, false),
        ("Sales & Traffic JSON, gzip", sales, true),
    ] {
        let url = document_url(&http, &sim, &token, &request).await?;
        let started = Instant::now();
        let mut body = http.get(url).send().await?.error_for_status()?.bytes_stream();
        let mut bytes = 0u64;
        // Gzip bodies are inflated as they arrive, to count the JSON generated.
        let mut inflated = gzip.then(|| flate2::write::GzDecoder::new(Counter(0)));
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            bytes += chunk.len() as u64;
            if let Some(inflated) = &mut inflated {
                inflated.write_all(&chunk)?;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let plain = match inflated {
            Some(inflated) => format!(" ({} bytes of JSON)", inflated.finish()?.0),
            None => String::new(),
        };
        println!(
            "{skus:>8}  {name:<34} {bytes:>12} {seconds:>8.3} {:>9.1} {:>14.1}{plain}",
            bytes as f64 / seconds / 1e6,
            peak_rss_mib()
        );
    }
    sim.shutdown().await?;
    Ok(())
}

async fn access_token(http: &reqwest::Client, sim: &Simulator, credentials: &Credentials) -> Result<String> {
    let body: Value = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", credentials.refresh_token.as_str()),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.as_str()),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body["access_token"].as_str().ok_or("no access_token")?.to_owned())
}

/// Creates a report (terminal at once with `report_polls: 0`) and returns the URL
/// of its document.
async fn document_url(
    http: &reqwest::Client,
    sim: &Simulator,
    token: &str,
    request: &Value,
) -> Result<String> {
    let api = |path: &str| sim.base_url().join(path);
    let created: Value = http
        .post(api("reports/2021-06-30/reports")?)
        .header("x-amz-access-token", token)
        .json(request)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["reportId"].as_str().ok_or("no reportId")?;
    let report: Value = http
        .get(api(&format!("reports/2021-06-30/reports/{id}"))?)
        .header("x-amz-access-token", token)
        .send()
        .await?
        .json()
        .await?;
    let document_id = report["reportDocumentId"]
        .as_str()
        .ok_or_else(|| format!("no document: {report}"))?;
    let document: Value = http
        .get(api(&format!("reports/2021-06-30/documents/{document_id}"))?)
        .header("x-amz-access-token", token)
        .send()
        .await?
        .json()
        .await?;
    Ok(document["url"].as_str().ok_or("no url")?.to_owned())
}

/// A sink that only counts what is written to it.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's peak resident set so far (`VmHWM`), in MiB; 0 where `/proc` has
/// no such line.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
