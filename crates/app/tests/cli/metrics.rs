//! `amzsync worker` and `amzsync scheduler` serve `/healthz`, `/readyz` and
//! `/metrics` on `metrics_listen`, and nothing else there.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Kills the child when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Long enough for a slow CI machine to migrate and start.
const DEADLINE: Duration = Duration::from_secs(60);

async fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

/// Starts `amzsync <role>` on an embedded installation in `dir` with
/// `metrics_listen` on a port the system picks, and returns the process and
/// the address it printed.
fn start(dir: &std::path::Path, role: &str) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amzsync"))
        .arg(role)
        .current_dir(dir)
        .env("AMZSYNC_DATA_DIR", dir.join("data"))
        .env("AMZSYNC_METRICS_LISTEN", "127.0.0.1:0")
        .env_remove("AMZSYNC_DATABASE_URL")
        .env_remove("AMZSYNC_ENCRYPTION_KEY")
        .env_remove("AMZSYNC_CONFIG")
        .env_remove("AMZSYNC_QUEUE")
        .env_remove("AMZSYNC_REDIS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the amzsync binary");
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    // Read to the end on a thread: a closed pipe would fail the process's
    // next log line.
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("amzsync: metrics at http://") {
                let _ = found.send(Ok(url.trim_end_matches("/metrics").to_owned()));
            }
            seen.push(line);
        }
        let _ = found.send(Err(seen));
    });
    match address.recv_timeout(DEADLINE) {
        Ok(Ok(address)) => (running, address),
        Ok(Err(seen)) => panic!("amzsync {role} ended without printing its metrics address: {seen:#?}"),
        Err(e) => panic!("amzsync {role} printed no metrics address within {DEADLINE:?}: {e}"),
    }
}

/// Scrapes `/metrics` until `holds` accepts it, failing at [`DEADLINE`].
async fn scrape_until(address: &str, holds: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let reply = get(address, "/metrics").await;
        if holds(&reply) {
            return reply;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "never true within {DEADLINE:?}:\n{reply}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_scheduler_process_serves_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (_running, address) = start(dir.path(), "scheduler");

    let health = get(&address, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(get(&address, "/readyz").await.starts_with("HTTP/1.1 200"));
    // The scheduler samples the queue on its first pass (which also enqueues
    // the archival caught up from the last day, so the depth is not 0).
    let metrics = scrape_until(&address, |m| m.contains("amzsync_queue_jobs{")).await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("text/plain"), "{metrics}");
    assert!(
        metrics.contains(r#"amzsync_queue_jobs{queue="sync",state="pending"} "#),
        "{metrics}"
    );
    assert!(
        metrics.contains("# HELP amzsync_queue_jobs "),
        "described: {metrics}"
    );
    // Only the operations endpoints: no API, no dashboard on this port.
    assert!(
        get(&address, "/api/v1/amazon/stores")
            .await
            .starts_with("HTTP/1.1 404")
    );
    assert!(get(&address, "/").await.starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn a_worker_process_serves_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (_running, address) = start(dir.path(), "worker");

    let health = get(&address, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // The scrape itself is a request, counted by the next one.
    get(&address, "/metrics").await;
    let metrics = scrape_until(&address, |m| m.contains("http_requests_total{")).await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/metrics",status="200"}"#),
        "{metrics}"
    );
}

#[test]
fn a_bad_metrics_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_amzsync"))
        .arg("worker")
        .current_dir(dir.path())
        .env("AMZSYNC_DATA_DIR", dir.path().join("data"))
        .env("AMZSYNC_METRICS_LISTEN", "localhost:9100")
        .env_remove("AMZSYNC_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("metrics_listen"), "{stderr}");
}
