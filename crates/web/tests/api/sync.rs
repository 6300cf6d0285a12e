//! Sync triggers (202 / 409 / 422) and the per-kind status.

use amzsync_db::Scope;
use amzsync_domain::{ErrorClass, SyncTaskId};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Days, Utc};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_trigger_records_a_pending_task_and_rings_the_doorbell() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    for (kind, stored) in [
        ("inventory", "inventory"),
        ("business-reports", "business"),
        ("advertising", "advertising"),
    ] {
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
        assert_eq!(task.window_start, None, "no body: the engine's default window");
        assert_eq!(app.doorbell.dispatched().last(), Some(&task_id));
    }
    assert_eq!(app.doorbell.dispatched().len(), 3);
}

#[tokio::test]
async fn a_trigger_takes_a_window_as_days_or_as_from_and_to() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let today = Utc::now().date_naive();

    let by_days = app.triggered_with(store, "inventory", json!({"days": 7})).await;
    let task = app.db().sync_tasks().get(Scope::All, by_days).await.unwrap();
    assert_eq!(task.window_end, Some(today));
    assert_eq!(task.window_start, today.checked_sub_days(Days::new(6)));

    let by_dates = app
        .triggered_with(
            store,
            "advertising",
            json!({"from": "2024-05-01", "to": "2024-05-31"}),
        )
        .await;
    let task = app.db().sync_tasks().get(Scope::All, by_dates).await.unwrap();
    assert_eq!(task.window_start, Some("2024-05-01".parse().unwrap()));
    assert_eq!(task.window_end, Some("2024-05-31".parse().unwrap()));
}

impl TestApp {
    async fn triggered_with(
        &self,
        store: amzsync_domain::StoreId,
        kind: &str,
        body: serde_json::Value,
    ) -> SyncTaskId {
        let reply = self.trigger(store, kind, Some(body)).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json()["task_id"].as_str().unwrap().parse().unwrap()
    }
}

#[tokio::test]
async fn a_bad_window_is_a_422_naming_the_field_and_records_nothing() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let tomorrow = Utc::now().date_naive().checked_add_days(Days::new(1)).unwrap();
    let cases = [
        (json!({"from": "2024-05-02", "to": "2024-05-01"}), "from"),
        (json!({"days": 0}), "days"),
        (json!({"days": 366}), "days"),
        (json!({"days": -5}), "days"),
        (json!({"days": "seven"}), "days"),
        (
            json!({"days": 3, "from": "2024-05-01", "to": "2024-05-02"}),
            "days",
        ),
        (json!({"from": "2024-05-01"}), "to"),
        (json!({"to": "2024-05-01"}), "from"),
        (json!({"from": "2022-01-01", "to": "2024-01-01"}), "from"),
        (json!({"from": "2024-05-01", "to": tomorrow.to_string()}), "to"),
        (json!({"from": "2024-02-30", "to": "2024-03-01"}), "from"),
        (json!({"from": "yesterday", "to": "2024-03-01"}), "from"),
        (json!({"weeks": 2}), "weeks"),
    ];
    for (body, field) in cases {
        let reply = app.trigger(store, "business-reports", Some(body.clone())).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        reply.assert_error(422, "invalid_field", Some(field));
    }
    let tasks = app.db().sync_tasks();
    let page = tasks.list(Scope::All, &Default::default(), 1, 10).await.unwrap();
    assert_eq!(page.total, 0);
    assert!(app.doorbell.dispatched().is_empty());
}

#[tokio::test]
async fn a_second_trigger_of_the_same_kind_is_a_409_naming_the_running_task() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let first = app.triggered(store, "inventory").await;
    let again = app.trigger(store, "inventory", Some(json!({"days": 2}))).await;
    again.assert_error(409, "sync_already_running", None);
    let error = &again.json()["error"];
    assert_eq!(
        error["message"],
        "a sync of this kind is already running for this store"
    );
    assert_eq!(error["task_id"], first.to_string());
    // Other kinds are independent.
    app.triggered(store, "advertising").await;
    // Once the first has finished, the slot is free again.
    app.succeed(first, 10, 0).await;
    app.triggered(store, "inventory").await;
}

#[tokio::test]
async fn triggering_a_missing_store_is_a_404() {
    let app = TestApp::sqlite().await;
    app.trigger(amzsync_domain::StoreId(777), "inventory", None)
        .await
        .assert_error(404, "not_found", None);
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
    let page = app
        .db()
        .sync_tasks()
        .list(Scope::All, &Default::default(), 1, 50)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(app.doorbell.dispatched().len(), 1);
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
