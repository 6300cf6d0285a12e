//! The simulator as a running HTTP server: start-up on a given listener, shutdown,
//! routing, and the knobs tests turn while it runs.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::faults::{AdsReportOutcome, Faults, Pending, ReportOutcome};
use crate::marketplace::Marketplace;
use crate::rng::Rng;
use crate::seller::{Credentials, Seller};
use crate::stats::CallStats;
use crate::timing::ReportTiming;
use crate::truth::Truth;
use crate::usage_plan::Operation;
use crate::world::{Api, Grant, World};
use crate::{Error, ads, control, document, lwa, sp};

/// State shared by the handlers and the [`Simulator`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    /// Where clients reach this instance; document URLs point here.
    pub(crate) base_url: Url,
    world: Mutex<World>,
    request_ids: AtomicU64,
    /// Cancelled at shutdown: ends calls a fault left hanging, which graceful
    /// shutdown would otherwise wait for.
    pub(crate) stop: CancellationToken,
}

impl Shared {
    /// The world, even if a handler panicked while holding it: the state is plain
    /// data and a test is better served by carrying on than by a poisoned lock.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a seller (or replaces its marketplaces) and grants the LWA application
    /// access, returning a fresh refresh token and the client credentials.
    pub(crate) fn add_seller(&self, seller: Seller) -> Result<Credentials, Error> {
        if let Some((id, _)) = seller
            .marketplaces
            .iter()
            .find(|(id, _)| Marketplace::by_id(id).is_none())
        {
            return Err(Error::UnknownMarketplace(id.clone()));
        }
        let mut world = self.world();
        let mut grant = |api: Api, label: &str| {
            let n = world.next_sequence().to_string();
            let token = format!(
                "Atzr|IwEB{}",
                Rng::keyed(self.config.seed, &[label, &seller.id, &n]).alphanumeric(64)
            );
            world.grants.insert(
                token.clone(),
                Grant {
                    seller: seller.id.clone(),
                    api,
                    revoked: false,
                },
            );
            token
        };
        let refresh_token = grant(Api::SellingPartner, "refresh");
        let ads_refresh_token = grant(Api::Advertising, "ads-refresh");
        let seller_id = seller.id.clone();
        world.sellers.insert(seller.id.clone(), seller);
        Ok(Credentials {
            seller_id,
            refresh_token,
            ads_refresh_token,
            client_id: self.config.client_id.clone(),
            client_secret: self.config.client_secret.clone(),
        })
    }

    /// Revokes a grant, as a seller does in Seller Central: the refresh token then
    /// gets `invalid_grant`, and access tokens minted from it are refused as
    /// revoked. Works for SP-API and Ads refresh tokens alike.
    pub(crate) fn revoke_grant(&self, refresh_token: &str) {
        let mut world = self.world();
        if let Some(grant) = world.grants.get_mut(refresh_token) {
            grant.revoked = true;
        }
    }
}

/// A running simulator of Amazon's LWA, SP-API and Ads API endpoints.
///
/// Each instance has its own in-memory world generated from [`Config::seed`].
/// Dropping the handle stops the server; [`Simulator::shutdown`] also waits for it.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Serves on `listener` (bind port 0 in tests). Must be called inside a Tokio
    /// runtime; the server runs on a spawned task until shutdown.
    pub fn start(listener: TcpListener, config: Config) -> Result<Self, Error> {
        let base_url = base_url(listener.local_addr()?);
        let shutdown = CancellationToken::new();
        let shared = Arc::new(Shared {
            clock: Clock::new(config.start, config.clock),
            config,
            base_url,
            world: Mutex::new(World::default()),
            request_ids: AtomicU64::new(0),
            stop: shutdown.clone(),
        });
        let app = router(Arc::clone(&shared));
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        tracing::debug!(base_url = %shared.base_url, "Amazon simulator started.");
        Ok(Self {
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// Binds `127.0.0.1:0` and starts there.
    pub async fn start_local(config: Config) -> Result<Self, Error> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        Self::start(listener, config)
    }

    /// The base URL, e.g. `http://127.0.0.1:41234/`. It serves LWA
    /// (`auth/o2/token`), the SP-API and the Ads API paths alike: a client points
    /// its SP-API and Ads hosts of every region here.
    pub fn base_url(&self) -> &Url {
        &self.shared.base_url
    }

    /// The LWA token endpoint.
    pub fn token_url(&self) -> Url {
        self.shared
            .base_url
            .join("auth/o2/token")
            .expect("a fixed relative path joins onto an http base URL")
    }

    /// A token that stops the server when cancelled, for a caller that owns the
    /// shutdown of several components.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(result) => result?,
                Err(join) => return Err(Error::Io(std::io::Error::other(join))),
            }
        }
        Ok(())
    }

    /// The configuration this instance runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The ground truth behind every report.
    pub fn truth(&self) -> Truth {
        Truth::new(Arc::clone(&self.shared))
    }

    /// The simulated time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.clock.now()
    }

    /// Moves the simulated clock forward: tokens expire, buckets refill, reports
    /// with a [`ReportTiming::Duration`] progress, recent days restate and
    /// document URLs age accordingly. On a live clock it adds to the running time.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.shared.clock.advance(by);
    }

    /// Adds a seller (or replaces its marketplaces) and grants the LWA application
    /// access, returning a fresh refresh token and the client credentials.
    pub fn add_seller(&self, seller: Seller) -> Result<Credentials, Error> {
        self.shared.add_seller(seller)
    }

    /// Revokes a grant, as a seller does in Seller Central: the refresh token then
    /// gets `invalid_grant`, and access tokens minted from it are refused as
    /// revoked. Works for SP-API and Ads refresh tokens alike.
    pub fn revoke_grant(&self, refresh_token: &str) {
        self.shared.revoke_grant(refresh_token);
    }

    /// Answers the next `times` calls of `op` (any seller) with 429 `QuotaExceeded`,
    /// whatever the usage plan says. Has no effect on [`Operation::Token`].
    pub fn throttle(&self, op: Operation, times: u32) {
        *self.shared.world().pending.throttle.entry(op).or_default() += times;
    }

    /// Answers the next call of `op` with a 500 (`InternalFailure` on SP-API,
    /// `server_error` on LWA).
    pub fn fail_next(&self, op: Operation) {
        *self.shared.world().pending.fail.entry(op).or_default() += 1;
    }

    /// Reports created from now on take `polls` non-terminal `getReport` answers
    /// before reaching their outcome.
    pub fn set_report_polls(&self, polls: u32) {
        self.set_report_timing(ReportTiming::Polls(polls));
    }

    /// Reports created from now on follow `timing` (polls, simulated time or both).
    pub fn set_report_timing(&self, timing: ReportTiming) {
        self.shared.world().pending.report_timing = Some(timing);
    }

    /// Forces the outcome of the next created report (queued: call it twice for
    /// two reports).
    pub fn force_next_report(&self, outcome: ReportOutcome) {
        self.shared.world().pending.next_outcomes.push_back(outcome);
    }

    /// Ads reports created from now on take `polls` non-terminal `getAsyncReport`
    /// answers (the first half `PENDING`, the rest `PROCESSING`) before reaching
    /// their outcome.
    pub fn set_ads_report_polls(&self, polls: u32) {
        self.set_ads_report_timing(ReportTiming::Polls(polls));
    }

    /// Ads reports created from now on follow `timing` (polls, simulated time or
    /// both).
    pub fn set_ads_report_timing(&self, timing: ReportTiming) {
        self.shared.world().pending.ads_report_timing = Some(timing);
    }

    /// Forces the outcome of the next created Ads report (queued like
    /// [`Simulator::force_next_report`]).
    pub fn force_next_ads_report(&self, outcome: AdsReportOutcome) {
        self.shared.world().pending.next_ads_outcomes.push_back(outcome);
    }

    /// Call statistics of one seller and operation (Ads operations are counted
    /// under the seller that owns the profile).
    pub fn stats(&self, seller: &str, op: Operation) -> CallStats {
        self.shared
            .world()
            .stats
            .get(&(seller.to_owned(), op))
            .copied()
            .unwrap_or_default()
    }

    /// Replaces the probabilistic faults ([`Config::faults`]) from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.world().pending.faults = Some(faults);
    }

    /// Forgets all pending faults (throttles, failures, forced outcomes, report
    /// timing) and turns probabilistic faults off.
    pub fn clear_faults(&self) {
        self.shared.world().pending = Pending {
            faults: Some(Faults::default()),
            ..Pending::default()
        };
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn base_url(addr: SocketAddr) -> Url {
    // A listener on 0.0.0.0 is reachable on loopback; the unspecified address
    // itself is not a valid destination for clients.
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    Url::parse(&format!("http://{}/", SocketAddr::new(ip, addr.port())))
        .expect("an http URL built from a socket address parses")
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth/o2/token", post(lwa::token))
        .route(
            "/reports/2021-06-30/reports",
            post(sp::reports::create).get(sp::reports::list),
        )
        .route(
            "/reports/2021-06-30/reports/{report_id}",
            get(sp::reports::get).delete(sp::reports::cancel),
        )
        .route(
            "/reports/2021-06-30/documents/{document_id}",
            get(sp::reports::get_document),
        )
        .route(document::DOWNLOAD_ROUTE, get(document::download))
        .route("/fba/inventory/v1/summaries", get(sp::inventory::summaries))
        .route("/v2/profiles", get(ads::profiles::list))
        .route("/reporting/reports", post(ads::reporting::create))
        .route(
            "/reporting/reports/{report_id}",
            get(ads::reporting::get).delete(ads::reporting::delete),
        )
        .route(ads::reporting::DOWNLOAD_ROUTE, get(ads::reporting::download))
        .merge(control::routes())
        .fallback(sp::not_found)
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&shared),
            add_request_id,
        ))
        .with_state(shared)
}

/// Amazon puts `x-amzn-RequestId` on every response (PROTOCOL.md §2.4).
async fn add_request_id(State(shared): State<Arc<Shared>>, mut response: Response) -> Response {
    let n = shared.request_ids.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("{:08x}-5151-4000-8000-{n:012x}", shared.config.seed as u32);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}
