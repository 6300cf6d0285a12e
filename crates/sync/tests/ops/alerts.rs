//! Alerts through a real webhook receiver (axum on 127.0.0.1:0): failed
//! tasks, stores needing re-authorization and stale data arrive as JSON,
//! retried past a failing receiver, and never carry a secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use amzsync_db::NewSyncTask;
use amzsync_domain::{ErrorClass, ManualClock, StoreId, SyncKind, SyncTaskId, Trigger};
use amzsync_sync::{Alert, AlertSettings, Alerts, Engine};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::{engine, now, utc};

on_both_engines!(stale_data_is_reported_once_per_episode_and_reaches_the_webhook);

/// Secrets a careless message could carry.
const SECRETS: [&str; 4] = [
    "Atza|IwEBIsecretaccess",
    "Atzr|IwEBIsecretrefresh",
    "X-Amz-Signature=deadbeef",
    "amzn1.oa2-cs.v1.clientsecret",
];

/// A webhook receiver that answers 503 to its first `failures` requests.
struct Receiver {
    url: reqwest::Url,
    bodies: mpsc::UnboundedReceiver<Value>,
    requests: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    failures: usize,
    requests: Arc<AtomicUsize>,
    bodies: mpsc::UnboundedSender<Value>,
}

async fn hook(State(state): State<ReceiverState>, Json(body): Json<Value>) -> StatusCode {
    let n = state.requests.fetch_add(1, Ordering::SeqCst);
    if n < state.failures {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let _ = state.bodies.send(body);
    StatusCode::NO_CONTENT
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let requests = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState {
            failures,
            requests: Arc::clone(&requests),
            bodies: tx,
        };
        let app = axum::Router::new().route("/hook", post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook").parse().expect("a valid URL"),
            bodies: rx,
            requests,
        }
    }

    fn alerts(&self) -> Alerts {
        Alerts::new(AlertSettings {
            webhook_url: Some(self.url.clone()),
            attempts: 3,
            backoff: Duration::from_millis(5),
            ..AlertSettings::default()
        })
    }

    async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(30), self.bodies.recv())
            .await
            .expect("an alert within 30 s")
            .expect("the receiver runs")
    }
}

fn assert_no_secret(body: &Value) {
    let text = body.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_task_and_a_store_needing_reauth_reach_the_webhook_without_secrets() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The first try of the first alert fails: it is retried.
    let mut receiver = Receiver::start(1).await;
    let alerts = receiver.alerts();
    let task = SyncTaskId(ulid::Ulid::generate());
    let leaky = format!(
        "downloading the report: error sending request for url (https://s3.example/doc?{}&X-Amz-Credential=AKIA): \
         token {} refused for {}, client {}",
        SECRETS[2], SECRETS[0], SECRETS[1], SECRETS[3]
    );

    alerts.task_failed(
        StoreId(7),
        "Mug Store",
        task,
        SyncKind::Inventory,
        ErrorClass::Transient,
        &leaky,
    );
    let body = receiver.next().await;
    assert_eq!(body["source"], "amzsync");
    assert_eq!(body["event"], "task_failed");
    assert_eq!(body["store_id"], 7);
    assert_eq!(body["store_name"], "Mug Store");
    assert_eq!(body["task_id"], task.to_string());
    assert_eq!(body["kind"], "inventory");
    assert_eq!(body["error_class"], "transient");
    assert!(
        body["message"].as_str().expect("a message").starts_with(
            "downloading the report: error sending request for url (https://s3.example/doc?[REDACTED])"
        ),
        "{body}"
    );
    assert!(body["at"].is_string());
    assert_no_secret(&body);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 2);

    alerts.needs_reauth(
        StoreId(7),
        "Mug Store",
        Some(task),
        &format!("invalid_grant for {}", SECRETS[1]),
    );
    let body = receiver.next().await;
    assert_eq!(body["event"], "needs_reauth");
    assert_eq!(body["task_id"], task.to_string());
    assert_no_secret(&body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_gives_up_after_the_configured_attempts() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start(usize::MAX).await;
    let alerts = receiver.alerts();
    let alert = Alert::NeedsReauth {
        store_id: StoreId(1),
        store_name: "S".into(),
        task_id: None,
        message: "invalid_grant".into(),
    };
    let sent = alerts.send(&alert).await;
    assert!(sent.is_err(), "{sent:?}");
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 3);
}

async fn succeed(engine: &Engine, store: StoreId, kind: SyncKind) {
    let tasks = engine.db().sync_tasks();
    let at: DateTime<Utc> = engine.db().clock().now();
    let id = SyncTaskId::new(
        u64::try_from(at.timestamp_millis()).expect("after 1970"),
        ulid::Ulid::generate().random(),
    );
    tasks
        .create(&NewSyncTask {
            id,
            store_id: store,
            kind,
            trigger: Trigger::Manual,
            window: None,
        })
        .await
        .expect("created");
    tasks
        .claim(id, "test", at + TimeDelta::hours(1))
        .await
        .expect("claimed")
        .expect("claimable");
    tasks.succeed(id, 1, 0).await.expect("succeeded");
}

fn stale_set(alerts: &[Alert]) -> Vec<(i64, SyncKind, Option<DateTime<Utc>>)> {
    let mut set: Vec<_> = alerts
        .iter()
        .map(|a| match a {
            Alert::StaleData {
                store_id,
                kind,
                last_success,
                ..
            } => (store_id.0, *kind, *last_success),
            other => panic!("not a stale-data alert: {other:?}"),
        })
        .collect();
    set.sort_by_key(|(s, k, _)| (*s, k.as_str()));
    set
}

async fn stale_data_is_reported_once_per_episode_and_reaches_the_webhook(t: TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut receiver = Receiver::start(0).await;
    let start = utc("2026-03-07T12:00:00Z");
    let clock = ManualClock::new(start);
    let engine = engine(&t, &clock, |b| b.alerts(receiver.alerts())).await;
    let db = engine.db().clone();
    let ann = new_user(&db, "ann").await;
    let synced = create_store(&db, ann.id, "ASYNCED").await.id;
    let never = create_store(&db, ann.id, "ANEVER").await.id;
    clock.advance(TimeDelta::days(1));
    succeed(&engine, synced, SyncKind::Inventory).await;
    let inventory_at = now(&clock);
    clock.advance(TimeDelta::hours(47));
    succeed(&engine, synced, SyncKind::Business).await;
    let business_at = now(&clock);
    clock.advance(TimeDelta::hours(1));

    // 48 h without inventory for one store, nothing ever for the other (added
    // 72 h ago); business synced an hour ago. The threshold is 36 h.
    let stale = engine.check_stale_data(now(&clock)).await.expect("checked");
    assert_eq!(
        stale_set(&stale),
        vec![
            (synced.0, SyncKind::Inventory, Some(inventory_at)),
            (never.0, SyncKind::Business, None),
            (never.0, SyncKind::Inventory, None),
        ]
    );
    let mut received = Vec::new();
    for _ in 0..3 {
        let body = receiver.next().await;
        assert_eq!(body["event"], "stale_data");
        assert_eq!(body["threshold_secs"], 36 * 3600);
        received.push((
            body["store_id"].as_i64().expect("an id"),
            body["kind"].to_string(),
        ));
    }
    received.sort();
    assert_eq!(received.len(), 3);
    assert!(received.contains(&(synced.0, "\"inventory\"".into())));

    // The next check reports nothing new.
    clock.advance(TimeDelta::minutes(15));
    assert!(
        engine
            .check_stale_data(now(&clock))
            .await
            .expect("checked")
            .is_empty()
    );

    // Inventory synced again: fresh; stale again 37 h later is a new episode
    // (and business has gone stale meanwhile).
    succeed(&engine, synced, SyncKind::Inventory).await;
    let resynced_at = now(&clock);
    assert!(
        engine
            .check_stale_data(now(&clock))
            .await
            .expect("checked")
            .is_empty()
    );
    clock.advance(TimeDelta::hours(37));
    let stale = engine.check_stale_data(now(&clock)).await.expect("checked");
    assert_eq!(
        stale_set(&stale),
        vec![
            (synced.0, SyncKind::Business, Some(business_at)),
            (synced.0, SyncKind::Inventory, Some(resynced_at)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_failing_on_a_revoked_grant_alerts_twice_with_the_store_name_and_no_secret() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut receiver = Receiver::start(0).await;
    let t = TestDb::sqlite().await;
    let clock = ManualClock::new(utc("2026-03-07T12:00:00Z"));
    let engine = engine(&t, &clock, |b| b.alerts(receiver.alerts())).await;
    let ann = new_user(engine.db(), "ann").await;
    let store = create_store(engine.db(), ann.id, "AREVOKED").await;
    let task = engine
        .db()
        .sync_tasks()
        .create(&NewSyncTask {
            id: SyncTaskId(ulid::Ulid::generate()),
            store_id: store.id,
            kind: SyncKind::Business,
            trigger: Trigger::Scheduled,
            window: None,
        })
        .await
        .expect("created");

    let message = format!("refreshing the token: invalid_grant for {}", SECRETS[1]);
    engine
        .on_task_failed(&task, ErrorClass::Unauthorized, &message)
        .await;

    let mut events = Vec::new();
    for _ in 0..2 {
        let body = receiver.next().await;
        assert_no_secret(&body);
        assert_eq!(body["store_name"], store.store_name.as_str());
        assert_eq!(body["store_id"], store.id.0);
        assert_eq!(body["task_id"], task.id.to_string());
        events.push(body["event"].as_str().expect("an event").to_owned());
    }
    events.sort();
    assert_eq!(events, ["needs_reauth", "task_failed"]);
}
