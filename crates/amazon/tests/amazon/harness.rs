//! A world per test: a simulator with one seller, a counting proxy in front of
//! its LWA endpoint, a clock shared by client and simulator, and a client
//! pointed at all of it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amzsync_amazon::ads::AdsAccount;
use amzsync_amazon::lwa::InProcessTokenCache;
use amzsync_amazon::sp::reports::{ProcessingStatus, Report, Reports};
use amzsync_amazon::{Client, ClientBuilder, Clock, Config, Endpoints, LwaApp, Region, SellingPartner};
use amzsync_amazon_sim::{Config as SimConfig, Credentials, Seller, Simulator};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use url::Url;

pub const SELLER: &str = "A3EXAMPLESELLER";
pub const US: &str = "ATVPDKIKX0DER";
pub const DE: &str = "A1PA6795UKMFR9";
pub const JP: &str = "A1VC38T7YXB528";
pub const MYI: &str = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA";
pub const SALES: &str = "GET_SALES_AND_TRAFFIC_REPORT";

/// The client's clock, moved only by the client's own waits and by the test.
/// Every wait also advances the simulator, so Amazon's buckets refill and URLs
/// age exactly as long as the client believes it waited.
#[derive(Debug)]
pub struct TestClock {
    sim: Arc<Simulator>,
    start: DateTime<Utc>,
    offset: Mutex<Duration>,
    slept: Mutex<Duration>,
}

impl TestClock {
    /// Moves this clock and the simulator's.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().expect("not poisoned") += by;
        self.sim.advance(by);
    }

    /// How long the client has waited in total.
    pub fn slept(&self) -> Duration {
        *self.slept.lock().expect("not poisoned")
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + *self.offset.lock().expect("not poisoned")
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        *self.slept.lock().expect("not poisoned") += duration;
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

pub struct TestWorld {
    pub sim: Arc<Simulator>,
    pub clock: Arc<TestClock>,
    pub client: Client,
    pub seller: SellingPartner,
    pub credentials: Credentials,
    lwa: LwaProxy,
}

impl TestWorld {
    pub async fn start() -> Self {
        Self::with(SimConfig::default(), |config| config, |builder, _| builder).await
    }

    /// A world with a simulator configured by `sim_config`, a client configured
    /// by `configure` and built by `build`.
    pub async fn with(
        sim_config: SimConfig,
        configure: impl FnOnce(Config) -> Config,
        build: impl FnOnce(ClientBuilder, Arc<dyn Clock>) -> ClientBuilder,
    ) -> Self {
        // reqwest is built without a TLS provider choice (STACK.md P2).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = Arc::new(
            Simulator::start_local(sim_config)
                .await
                .expect("the simulator starts on port 0"),
        );
        let credentials = sim
            .add_seller(Seller::new(SELLER).marketplace(US, 12).marketplace(DE, 6))
            .expect("known marketplaces are accepted");
        let lwa = LwaProxy::start(sim.token_url()).await;
        let clock = Arc::new(TestClock {
            sim: Arc::clone(&sim),
            start: sim.now(),
            offset: Mutex::new(Duration::ZERO),
            slept: Mutex::new(Duration::ZERO),
        });
        let app = LwaApp {
            client_id: credentials.client_id.clone(),
            client_secret: credentials.client_secret.clone().into(),
        };
        let config = configure(Config {
            endpoints: Endpoints {
                lwa_token: lwa.url.clone(),
                sp_api: sim.base_url().clone(),
                // The simulator serves the Ads API on the same host.
                ads_api: sim.base_url().clone(),
            },
            ..Config::new(Region::NorthAmerica, app)
        });
        let builder = Client::builder(config)
            .clock(Arc::clone(&clock) as Arc<dyn Clock>)
            // Its own cache, so tests sharing a process cannot see each other's tokens.
            .token_cache(Arc::new(InProcessTokenCache::new()));
        let client = build(builder, Arc::clone(&clock) as Arc<dyn Clock>)
            .build()
            .expect("the client builds");
        let seller = SellingPartner::new(SELLER, credentials.refresh_token.clone());
        Self {
            sim,
            clock,
            client,
            seller,
            credentials,
            lwa,
        }
    }

    /// Calls the LWA token endpoint received.
    pub fn lwa_calls(&self) -> u64 {
        self.lwa.calls.load(Ordering::SeqCst)
    }

    pub fn reports(&self) -> Reports<'_> {
        self.client.reports(&self.seller)
    }

    /// The seller's Ads authorization, a grant of its own.
    pub fn ads_account(&self) -> AdsAccount {
        AdsAccount::new(self.credentials.ads_refresh_token.clone())
    }

    /// Polls until the report is terminal (the simulator advances a report per poll).
    pub async fn poll_until_terminal(&self, report_id: &str) -> Report {
        for _ in 0..20 {
            let report = self
                .reports()
                .get_report(report_id)
                .await
                .expect("getReport succeeds");
            if report.processing_status.is_terminal() {
                return report;
            }
            assert!(matches!(
                report.processing_status,
                ProcessingStatus::InQueue | ProcessingStatus::InProgress
            ));
        }
        panic!("report {report_id} did not finish in 20 polls");
    }
}

/// Forwards `POST /auth/o2/token` to the simulator and counts the calls: the
/// simulator keeps no statistics for its token endpoint.
struct LwaProxy {
    url: Url,
    calls: Arc<AtomicU64>,
    server: JoinHandle<()>,
}

#[derive(Clone)]
struct ProxyState {
    target: Url,
    calls: Arc<AtomicU64>,
    http: reqwest::Client,
}

impl LwaProxy {
    async fn start(target: Url) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port is free");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let calls = Arc::new(AtomicU64::new(0));
        let state = ProxyState {
            target,
            calls: Arc::clone(&calls),
            http: reqwest::Client::new(),
        };
        let app = Router::new()
            .route("/auth/o2/token", post(forward))
            .with_state(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the LWA proxy serves");
        });
        Self {
            url: Url::parse(&format!("http://{addr}/auth/o2/token")).expect("a valid URL"),
            calls,
            server,
        }
    }
}

impl Drop for LwaProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(state): State<ProxyState>, headers: HeaderMap, body: Bytes) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = state
        .http
        .post(state.target.clone())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the simulator's token endpoint answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("a valid status");
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = answer.bytes().await.expect("the simulator's answer arrives");
    (status, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

/// Serves `body` at a URL of its own, as a download host would, for documents
/// the simulator cannot produce (a cut gzip stream). The server stops when the
/// returned handle is dropped.
pub async fn serve_document(body: Vec<u8>, content_type: &'static str) -> (Url, AbortOnDrop) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a loopback port is free");
    let addr = listener.local_addr().expect("a bound listener has an address");
    let body = Bytes::from(body);
    let app = Router::new().route(
        "/document",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, content_type)], body) }
        }),
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the document host serves");
    });
    let url = Url::parse(&format!("http://{addr}/document")).expect("a valid URL");
    (url, AbortOnDrop(server))
}

pub struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An example file from `testdata/amazon-api/` (copied from the team's shared
/// protocol folder, so tests pass on any checkout).
pub fn example(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/amazon-api")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading the example {} failed: {e}", path.display()))
}
