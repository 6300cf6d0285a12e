//! Issue 8, security sweep: an `amzsync serve` process (API, workers,
//! scheduler) syncs every kind for a store added through the API, and a store
//! whose grant Amazon refuses fails and alerts. Everything a tenant or an
//! operator can see of it (every API response body and header, /metrics, the
//! webhook bodies, the process's whole log at debug level) is then searched
//! for every secret it handled: refresh tokens, the LWA client secret, access
//! tokens, the API token and the encryption key. None may appear.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use amzsync_amazon_sim::Seller;
use amzsync_test_support::new_user;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Days;
use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::harness::{Deployment, Role, Setup, US, no_schedules, wait_until};

/// The prefix of every LWA access token (Amazon's and the simulator's).
const ACCESS_TOKEN_PREFIX: &str = "Atza|";
/// A refresh token Amazon does not know: its sync fails `unauthorized`.
const REFUSED_TOKEN: &str = "Atzr|refused-grant-of-the-security-sweep";
const DEADLINE: Duration = Duration::from_secs(120);

/// Every webhook body received, as sent.
#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<String>>>);

impl Hooks {
    fn bodies(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn hook(State(hooks): State<Hooks>, body: String) -> StatusCode {
    hooks.0.lock().unwrap_or_else(|p| p.into_inner()).push(body);
    StatusCode::NO_CONTENT
}

/// What the test saw, to be searched for secrets.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, seen: &mut Seen, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let headers = format!("{:?}", response.headers());
        let text = response.text().await.expect("a readable body");
        seen.0.push((format!("{method} {path} headers"), headers));
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        seen.0.push((format!("{method} {path} body"), text));
        (status, json)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_responses_metrics_or_webhooks() {
    let dep = Deployment::start(Setup::default()).await;
    let credentials = dep
        .sim
        .add_seller(Seller::new("APROCSECURITY01").marketplace(US, 5))
        .expect("a known marketplace");
    let tenant = new_user(&dep.db, "security-tenant").await;
    let (_, api_token) = dep
        .db
        .tokens()
        .create(tenant.id, "security sweep")
        .await
        .expect("creating an API token");
    let api_token = api_token.expose_secret().to_owned();

    let hooks = Hooks::default();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let hook_url = format!("http://{}/hook", receiver.local_addr().expect("bound"));
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(hooks.clone());
    tokio::spawn(async move { axum::serve(receiver, app).await });

    // The test triggers every task itself: a scheduled one caught up on
    // start for the store it adds would make its trigger a 409.
    let quiet = no_schedules();
    let mut env: Vec<(&str, &str)> = quiet.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend([
        ("AMZSYNC_LISTEN", "127.0.0.1:0"),
        ("AMZSYNC_LOG", "debug"),
        ("AMZSYNC_SYNC__ALERT_WEBHOOK_URL", hook_url.as_str()),
    ]);
    let mut procs = vec![dep.spawn_with(Role::Serve, &env)];
    let log = procs[0].log_path();
    let base = wait_until("the API's address in the log", DEADLINE, &mut procs, || async {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let (_, rest) = text.split_once("API and dashboard at ")?;
        Some(rest.split('/').take(3).collect::<Vec<_>>().join("/"))
    })
    .await;
    let api = Api {
        base,
        token: api_token.clone(),
        client: reqwest::Client::new(),
    };
    let mut seen = Seen::default();

    let (status, good) = api
        .call(
            &mut seen,
            Method::POST,
            "/api/v1/amazon/stores",
            Some(json!({
                "store_name": "Secure store",
                "region": "na",
                "marketplaces": ["US"],
                "seller_id": credentials.seller_id,
                "sp_api_refresh_token": credentials.refresh_token,
                "advertising_api_refresh_token": credentials.ads_refresh_token,
                "sp_api_client_id": credentials.client_id,
                "sp_api_client_secret": credentials.client_secret,
            })),
        )
        .await;
    assert_eq!(status, 201, "{good}");
    let (status, refused) = api
        .call(
            &mut seen,
            Method::POST,
            "/api/v1/amazon/stores",
            Some(json!({
                "store_name": "Refused store",
                "region": "na",
                "marketplaces": ["US"],
                "seller_id": "APROCREFUSED01",
                "sp_api_refresh_token": REFUSED_TOKEN,
            })),
        )
        .await;
    assert_eq!(status, 201, "{refused}");
    let good = format!("/api/v1/amazon/stores/{}", good["id"]);
    let refused = format!("/api/v1/amazon/stores/{}", refused["id"]);

    let mut tasks = Vec::new();
    for (store, kind) in [
        (&good, "inventory"),
        (&good, "business-reports"),
        (&good, "advertising"),
        (&refused, "inventory"),
    ] {
        let (status, accepted) = api
            .call(&mut seen, Method::POST, &format!("{store}/sync/{kind}"), None)
            .await;
        assert_eq!(status, 202, "{kind}: {accepted}");
        tasks.push(accepted["task_id"].as_str().expect("a task id").to_owned());
    }
    let mut finished = Vec::new();
    for task in &tasks {
        let path = format!("/api/v1/amazon/sync-tasks/{task}");
        let status = wait_until(
            &format!("task {task} to finish"),
            DEADLINE,
            &mut procs,
            || async {
                let reply = api
                    .client
                    .get(format!("{}{path}", api.base))
                    .bearer_auth(&api.token)
                    .send()
                    .await
                    .ok()?;
                let body: Value = reply.json().await.ok()?;
                let status = body["status"].as_str()?.to_owned();
                matches!(status.as_str(), "success" | "failed").then_some(status)
            },
        )
        .await;
        finished.push(status);
        api.call(&mut seen, Method::GET, &path, None).await;
    }
    assert_eq!(finished, ["success", "success", "success", "failed"]);
    let events = wait_until("the refused store's alerts", DEADLINE, &mut procs, || async {
        let bodies = hooks.bodies();
        let mut events: Vec<String> = bodies
            .iter()
            .filter_map(|b| serde_json::from_str::<Value>(b).ok())
            .filter_map(|b| b["event"].as_str().map(str::to_owned))
            .collect();
        events.sort();
        (events.len() >= 2).then_some(events)
    })
    .await;
    assert_eq!(events, ["needs_reauth", "task_failed"]);

    let today = dep.sim.now().date_naive();
    let from = today - Days::new(30);
    for store in [&good, &refused] {
        for path in [
            store.clone(),
            format!("{store}/inventory?date={today}"),
            format!("{store}/business-metrics?from={from}&to={today}"),
            format!("{store}/ads-metrics?from={from}&to={today}"),
            format!("{store}/ads-metrics?from={from}&to={today}&format=csv"),
            format!("{store}/sync/inventory/status"),
            format!("{store}/sync/business-reports/status"),
            format!("{store}/sync/advertising/status"),
        ] {
            api.call(&mut seen, Method::GET, &path, None).await;
        }
        api.call(&mut seen, Method::POST, &format!("{store}/verify"), None)
            .await;
    }
    api.call(&mut seen, Method::GET, "/api/v1/amazon/stores", None)
        .await;
    api.call(&mut seen, Method::GET, "/api/v1/amazon/sync-tasks", None)
        .await;
    // Rotating a secret answers with the store, never the secret.
    api.call(
        &mut seen,
        Method::PATCH,
        &refused,
        Some(json!({"sp_api_refresh_token": format!("{REFUSED_TOKEN}-rotated")})),
    )
    .await;
    let (status, _) = api.call(&mut seen, Method::GET, "/metrics", None).await;
    assert_eq!(status, 200);
    let metrics = &seen.0.last().expect("the scrape").1;
    assert!(metrics.contains("amzsync_"), "{metrics}");

    procs.pop().expect("the serve process").kill();
    let process_log = std::fs::read_to_string(&log).expect("the process log");
    assert!(process_log.contains(&tasks[0]), "the log tells of the tasks");
    seen.0.push(("the serve process's log".into(), process_log));
    for (n, body) in hooks.bodies().into_iter().enumerate() {
        seen.0.push((format!("webhook body {n}"), body));
    }

    let encryption_key = dep.setting("AMZSYNC_ENCRYPTION_KEY").to_owned();
    let secrets = [
        ("the SP-API refresh token", credentials.refresh_token.clone()),
        ("the Ads refresh token", credentials.ads_refresh_token.clone()),
        ("the LWA client secret", credentials.client_secret.clone()),
        ("a refused refresh token", REFUSED_TOKEN.to_owned()),
        ("an access token", ACCESS_TOKEN_PREFIX.to_owned()),
        ("the API token", api_token),
        ("the encryption key", encryption_key),
    ];
    let mut leaks = Vec::new();
    for (place, text) in &seen.0 {
        for (name, secret) in &secrets {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{name} in {place}"));
            }
        }
    }
    assert!(seen.0.len() > 60, "everything was looked at: {}", seen.0.len());
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}
