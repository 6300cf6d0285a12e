//! Sync triggers through the real engine (202 queued / 404 / 409 / 422) and
//! the per-kind status. No worker runs: a triggered job stays in the queue.

use amzsync_db::Scope;
use amzsync_domain::{ErrorClass, StoreId, SyncTaskId};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const US: &str = "ATVPDKIKX0DER";

/// The instant the tests that reckon days hold the database's (and so the
/// engine's) clock at: their "today" cannot turn over between the server's
/// planning and the test's reading of it.
fn now() -> DateTime<Utc> {
    "2026-03-10T12:00:00Z".parse().unwrap()
}

/// Today in the test stores' (US) marketplace at [`now`], as the engine
/// counts days.
fn today() -> NaiveDate {
    amzsync_sync::plan::today_in(US, now())
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

impl TestApp {
    async fn triggered_with(&self, store: StoreId, kind: &str, body: Value) -> SyncTaskId {
        let reply = self.trigger(store, kind, Some(body)).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json()["task_id"].as_str().unwrap().parse().unwrap()
    }

    async fn task_count(&self) -> i64 {
        let tasks = self.db().sync_tasks();
        tasks
            .list(Scope::All, &Default::default(), 1, 50)
            .await
            .unwrap()
            .total
    }
}

#[tokio::test]
async fn a_trigger_records_a_pending_task_and_queues_its_job() {
    let app = TestApp::sqlite_at(now()).await;
    let store = app.store("A1SELLER").await;
    assert_eq!(app.queued_jobs().await, 0);
    for (n, (kind, stored)) in [
        ("inventory", "inventory"),
        ("business-reports", "business"),
        ("advertising", "advertising"),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app.trigger(store, kind, None).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let task_id: SyncTaskId = reply.json()["task_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(reply.json()["status"], "pending");
        assert_eq!(
            reply.header("location"),
            Some(format!("/api/v1/amazon/sync-tasks/{task_id}").as_str())
        );
        let task = app.db().sync_tasks().get(Scope::All, task_id).await.unwrap();
        assert_eq!(task.sync_type.as_str(), stored);
        assert_eq!(task.trigger.as_str(), "manual");
        assert_eq!(task.status.as_str(), "pending");
        // No body: the engine's default window, recorded on the task.
        assert!(task.window_start.is_some() && task.window_end.is_some());
        assert_eq!(app.queued_jobs().await, n as u64 + 1, "its job is queued");
    }
    let inventory = app
        .get(&format!("/api/v1/amazon/stores/{store}/sync/inventory/status"))
        .await
        .json();
    let today = today().to_string();
    assert_eq!(inventory["latest"]["window_start"], today.as_str());
    assert_eq!(inventory["latest"]["window_end"], today.as_str());
}

#[tokio::test]
async fn a_trigger_takes_a_window_as_days_or_as_from_and_to() {
    let app = TestApp::sqlite_at(now()).await;
    let store = app.store("A1SELLER").await;

    // `days` ends on the latest day the kind can sync: yesterday for reports.
    let by_days = app
        .triggered_with(store, "business-reports", json!({"days": 7}))
        .await;
    let task = app.db().sync_tasks().get(Scope::All, by_days).await.unwrap();
    assert_eq!(task.window_end, Some(days_ago(1)));
    assert_eq!(task.window_start, Some(days_ago(7)));

    // ... and today for inventory, a snapshot of today.
    let inventory = app.triggered_with(store, "inventory", json!({"days": 1})).await;
    let task = app.db().sync_tasks().get(Scope::All, inventory).await.unwrap();
    assert_eq!(
        (task.window_start, task.window_end),
        (Some(today()), Some(today()))
    );

    let (from, to) = (days_ago(30), days_ago(2));
    let by_dates = app
        .triggered_with(
            store,
            "advertising",
            json!({"from": from.to_string(), "to": to.to_string()}),
        )
        .await;
    let task = app.db().sync_tasks().get(Scope::All, by_dates).await.unwrap();
    assert_eq!((task.window_start, task.window_end), (Some(from), Some(to)));
    assert_eq!(app.queued_jobs().await, 3);
}

#[tokio::test]
async fn a_malformed_window_is_a_422_naming_the_field_and_records_nothing() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let cases = [
        (json!({"from": "2024-05-02", "to": "2024-05-01"}), "from"),
        (json!({"days": 0}), "days"),
        (json!({"days": -5}), "days"),
        (json!({"days": "seven"}), "days"),
        (
            json!({"days": 3, "from": "2024-05-01", "to": "2024-05-02"}),
            "days",
        ),
        (json!({"from": "2024-05-01"}), "to"),
        (json!({"to": "2024-05-01"}), "from"),
        (json!({"from": "2024-02-30", "to": "2024-03-01"}), "from"),
        (json!({"from": "yesterday", "to": "2024-03-01"}), "from"),
        (json!({"weeks": 2}), "weeks"),
    ];
    for (body, field) in cases {
        let reply = app.trigger(store, "business-reports", Some(body.clone())).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        reply.assert_error(422, "invalid_field", Some(field));
    }
    assert_eq!(app.task_count().await, 0);
    assert_eq!(app.queued_jobs().await, 0);
}

#[tokio::test]
async fn a_window_the_engine_refuses_is_a_422_naming_days_or_window() {
    let app = TestApp::sqlite_at(now()).await;
    let store = app.store("A1SELLER").await;
    let dates = |from: NaiveDate, to: NaiveDate| json!({"from": from.to_string(), "to": to.to_string()});
    let tomorrow = today().checked_add_days(Days::new(1)).unwrap();
    let cases = [
        // Reports end by yesterday: Amazon has no complete day after it.
        ("business-reports", dates(days_ago(3), today()), "window"),
        ("business-reports", dates(days_ago(3), tomorrow), "window"),
        ("advertising", dates(days_ago(3), today()), "window"),
        // Amazon keeps two years of Sales & Traffic.
        ("business-reports", json!({"days": 731}), "days"),
        ("business-reports", dates(days_ago(800), days_ago(1)), "window"),
        // ... and about three months of advertising reports.
        ("advertising", dates(days_ago(400), days_ago(300)), "window"),
        ("advertising", json!({"days": 365}), "days"),
        // Inventory is today's snapshot or a ledger backfill ending by
        // yesterday, not both at once.
        ("inventory", json!({"days": 2}), "days"),
        ("inventory", dates(days_ago(1), today()), "window"),
    ];
    for (kind, body, field) in cases {
        let reply = app.trigger(store, kind, Some(body.clone())).await;
        assert_eq!(reply.status, 422, "{kind} {body}: {}", reply.text);
        reply.assert_error(422, "invalid_field", Some(field));
    }
    assert_eq!(app.task_count().await, 0);
    assert_eq!(app.queued_jobs().await, 0);
}

#[tokio::test]
async fn an_inventory_window_before_today_is_accepted_as_a_ledger_backfill() {
    let app = TestApp::sqlite_at(now()).await;
    let store = app.store("A1SELLER").await;
    let (from, to) = (days_ago(5), days_ago(1));

    let task = app
        .triggered_with(
            store,
            "inventory",
            json!({"from": from.to_string(), "to": to.to_string()}),
        )
        .await;

    let task = app.db().sync_tasks().get(Scope::All, task).await.unwrap();
    assert_eq!((task.window_start, task.window_end), (Some(from), Some(to)));
}

#[tokio::test]
async fn a_second_trigger_of_the_same_kind_is_a_409_naming_the_running_task() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let first = app.triggered(store, "inventory").await;
    let again = app.trigger(store, "inventory", Some(json!({"days": 1}))).await;
    again.assert_error(409, "sync_already_running", None);
    let error = &again.json()["error"];
    assert_eq!(
        error["message"],
        "a sync of this kind is already running for this store"
    );
    assert_eq!(error["task_id"], first.to_string());
    assert_eq!(app.queued_jobs().await, 1, "the refused trigger queued nothing");
    // Other kinds are independent.
    app.triggered(store, "advertising").await;
    // Once the first has finished, the slot is free again.
    app.succeed(first, 10, 0).await;
    app.triggered(store, "inventory").await;
}

#[tokio::test]
async fn triggering_a_missing_store_is_a_404() {
    let app = TestApp::sqlite().await;
    for body in [None, Some(json!({"days": 3}))] {
        app.trigger(StoreId(777), "business-reports", body)
            .await
            .assert_error(404, "not_found", None);
    }
    assert_eq!(app.queued_jobs().await, 0);
}

#[tokio::test]
async fn a_deactivated_store_is_a_409_store_inactive() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.post(&format!("/api/v1/amazon/stores/{store}/deactivate"), json!({}))
        .await;
    for kind in ["inventory", "business-reports", "advertising"] {
        app.trigger(store, kind, None)
            .await
            .assert_error(409, "store_inactive", None);
    }
    assert_eq!(app.task_count().await, 0);
    assert_eq!(app.queued_jobs().await, 0);
}

#[tokio::test]
async fn advertising_without_an_ads_authorization_is_a_422_naming_the_reason() {
    let app = TestApp::sqlite().await;
    let mut new = amzsync_test_support::new_store(app.user.id, "A1NOADS");
    new.advertising_api_refresh_token = None;
    let store = app.db().stores().create(new).await.unwrap().id;
    let reply = app.trigger(store, "advertising", None).await;
    reply.assert_error(422, "sync_unsupported", None);
    let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("advertising_api_refresh_token"), "{message}");
    // The other kinds need no Ads authorization.
    app.triggered(store, "inventory").await;
    assert_eq!(app.queued_jobs().await, 1);
}

#[tokio::test]
async fn a_store_needing_reauthorization_still_takes_a_manual_trigger() {
    // The engine refuses only scheduled syncs then (`needs_reauth`), so a
    // user can check new credentials at once.
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.db()
        .stores()
        .set_status(store, amzsync_db::StoreStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();
    app.triggered(store, "inventory").await;
    assert_eq!(app.queued_jobs().await, 1);
}

async fn twenty_concurrent_triggers_give_one_202_and_nineteen_409s(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    let replies =
        futures::future::join_all((0..20).map(|_| app.trigger(store, "business-reports", None))).await;
    let accepted: Vec<_> = replies.iter().filter(|r| r.status == 202).collect();
    assert_eq!(accepted.len(), 1, "{replies:#?}");
    let winner = accepted[0].json()["task_id"].clone();
    let conflicts: Vec<_> = replies.iter().filter(|r| r.status == 409).collect();
    assert_eq!(conflicts.len(), 19, "{replies:#?}");
    for c in conflicts {
        c.assert_error(409, "sync_already_running", None);
        assert_eq!(c.json()["error"]["task_id"], winner);
    }
    assert_eq!(app.task_count().await, 1);
    assert_eq!(app.queued_jobs().await, 1, "exactly one job");
}

on_both_engines!(twenty_concurrent_triggers_give_one_202_and_nineteen_409s);

#[tokio::test]
async fn the_status_shows_the_latest_task_the_last_success_and_freshness() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let path = format!("/api/v1/amazon/stores/{store}/sync/inventory/status");

    let empty = app.get(&path).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    let body = empty.json();
    assert_eq!(body["sync_type"], "inventory");
    assert!(body["latest"].is_null() && body["last_success"].is_null());
    assert!(body["freshness_seconds"].is_null());
    assert_eq!(body["is_active"], false);

    let done = app.triggered(store, "inventory").await;
    app.succeed(done, 120, 3).await;
    let failed = app.triggered(store, "inventory").await;
    app.fail(failed, ErrorClass::Transient, "timeout").await;
    let running = app.triggered(store, "inventory").await;

    let body = app.get(&path).await.json();
    assert_eq!(body["latest"]["id"], running.to_string());
    assert_eq!(body["latest"]["status"], "pending");
    assert_eq!(body["is_active"], true);
    assert_eq!(body["last_success"]["id"], done.to_string());
    assert_eq!(body["last_success"]["records_synced"], 120);
    assert!(body["last_success_at"].is_string());
    let fresh = body["freshness_seconds"].as_i64().unwrap();
    assert!((0..60).contains(&fresh), "{fresh}");

    // Kinds are separate; the REST spelling of business is accepted.
    let business = app
        .get(&format!(
            "/api/v1/amazon/stores/{store}/sync/business-reports/status"
        ))
        .await
        .json();
    assert_eq!(business["sync_type"], "business");
    assert!(business["latest"].is_null());
    app.get("/api/v1/amazon/stores/9999/sync/inventory/status")
        .await
        .assert_error(404, "not_found", None);
}
