//! `/api/v1/amazon/sync-tasks`: history with filters and pages, one task, retry.

use amzsync_domain::{ErrorClass, StoreId, SyncTaskId};
use serde_json::{Value, json};

use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Days, Utc};

use crate::helpers::TestApp;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Five finished inventory tasks on one store, newest last.
async fn history(app: &TestApp, store: StoreId) -> Vec<SyncTaskId> {
    let mut made = Vec::new();
    for n in 0..5 {
        let task = app.triggered(store, "inventory").await;
        if n % 2 == 0 {
            app.succeed(task, n, 0).await;
        } else {
            app.fail(task, ErrorClass::Transient, "timeout").await;
        }
        made.push(task);
    }
    made
}

#[tokio::test]
async fn tasks_are_listed_newest_first_a_page_at_a_time() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let made = history(&app, store).await;
    let newest_first: Vec<String> = made.iter().rev().map(ToString::to_string).collect();

    let all = app.get("/api/v1/amazon/sync-tasks").await.json();
    assert_eq!(all["total"], 5);
    assert_eq!(all["page"], 1);
    assert_eq!(all["page_size"], 20);
    assert_eq!(ids(&all), newest_first);

    let second = app
        .get("/api/v1/amazon/sync-tasks?page=2&page_size=2")
        .await
        .json();
    assert_eq!(
        (second["total"].as_i64(), second["page"].as_i64()),
        (Some(5), Some(2))
    );
    assert_eq!(ids(&second), newest_first[2..4]);
    let last = app
        .get("/api/v1/amazon/sync-tasks?page=3&page_size=2")
        .await
        .json();
    assert_eq!(ids(&last), newest_first[4..]);
    let past_the_end = app
        .get("/api/v1/amazon/sync-tasks?page=4&page_size=2")
        .await
        .json();
    assert_eq!(past_the_end["total"], 5);
    assert!(ids(&past_the_end).is_empty());
    let one = app.get("/api/v1/amazon/sync-tasks?page_size=1").await.json();
    assert_eq!(ids(&one), newest_first[..1]);
    let max = app.get("/api/v1/amazon/sync-tasks?page_size=100").await;
    assert_eq!(max.status, 200);
}

#[tokio::test]
async fn paging_out_of_range_is_refused_naming_the_parameter() {
    let app = TestApp::sqlite().await;
    let cases = [
        ("page=0", 422, "invalid_field", "page"),
        ("page=-1", 400, "malformed_field", "page"),
        ("page=abc", 400, "malformed_field", "page"),
        ("page_size=0", 422, "invalid_field", "page_size"),
        ("page_size=101", 422, "invalid_field", "page_size"),
        ("page_size=1.5", 400, "malformed_field", "page_size"),
        ("store_id=x", 400, "malformed_field", "store_id"),
        ("status=done", 400, "malformed_field", "status"),
        ("sync_type=orders", 400, "malformed_field", "sync_type"),
        ("from=yesterday", 400, "malformed_field", "from"),
        ("to=2024-13-01", 400, "malformed_field", "to"),
        ("from=2024-05-02&to=2024-05-01", 422, "invalid_field", "from"),
        ("sort=fastest", 400, "malformed_field", "sort"),
        ("order=up", 400, "malformed_field", "order"),
    ];
    for (query, status, code, field) in cases {
        app.get(&format!("/api/v1/amazon/sync-tasks?{query}"))
            .await
            .assert_error(status, code, Some(field));
    }
}

#[tokio::test]
async fn tasks_are_filtered_by_store_status_and_kind() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let other = app.store("A1OTHER").await;
    let made = history(&app, store).await;
    let business = app.triggered(other, "business-reports").await;

    let by_store = app
        .get(&format!("/api/v1/amazon/sync-tasks?store_id={other}"))
        .await
        .json();
    assert_eq!(ids(&by_store), [business.to_string()]);
    let failed = app.get("/api/v1/amazon/sync-tasks?status=failed").await.json();
    assert_eq!(ids(&failed), [made[3].to_string(), made[1].to_string()]);
    let by_kind = app
        .get("/api/v1/amazon/sync-tasks?sync_type=business-reports")
        .await
        .json();
    assert_eq!(ids(&by_kind), [business.to_string()]);
    let combined = app
        .get(&format!(
            "/api/v1/amazon/sync-tasks?store_id={store}&status=success&sync_type=inventory&page_size=1"
        ))
        .await
        .json();
    assert_eq!(combined["total"], 3);
    assert_eq!(ids(&combined), [made[4].to_string()]);
    let empty_values = app
        .get("/api/v1/amazon/sync-tasks?store_id=&status=")
        .await
        .json();
    assert_eq!(empty_values["total"], 6, "empty filters mean any");
}

/// The tasks are created today; the days asked for are one or two away, so a
/// run across midnight agrees.
async fn tasks_are_filtered_by_creation_day_and_sorted_by_any_column(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1SELLER").await;
    let made = history(&app, store).await;
    let day = |offset: i64| {
        let today = Utc::now().date_naive();
        let shifted = if offset < 0 {
            today.checked_sub_days(Days::new(offset.unsigned_abs()))
        } else {
            today.checked_add_days(Days::new(offset.unsigned_abs()))
        };
        shifted.unwrap().to_string()
    };
    let list = |query: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/amazon/sync-tasks?{query}"))
                .await
                .json()
        }
    };

    let around_today = list(format!("from={}&to={}", day(-1), day(1))).await;
    assert_eq!(around_today["total"], 5);
    assert_eq!(list(format!("to={}", day(-2))).await["total"], 0);
    assert_eq!(list(format!("from={}", day(2))).await["total"], 0);

    let id = |i: usize| made[i].to_string();
    // Records synced: 4, 2, then three tasks with none, newest first.
    let by_records = list("sort=records".into()).await;
    assert_eq!(ids(&by_records), [id(4), id(2), id(3), id(1), id(0)]);
    let fewest_first = list("sort=records&order=asc&page=2&page_size=2".into()).await;
    assert_eq!(fewest_first["total"], 5);
    assert_eq!(ids(&fewest_first), [id(0), id(2)]);
    let by_status = list(format!("sort=status&order=asc&from={}", day(-1))).await;
    assert_eq!(ids(&by_status), [id(3), id(1), id(4), id(2), id(0)]);
    let oldest_first = list("sort=created&order=asc".into()).await;
    assert_eq!(ids(&oldest_first), [id(0), id(1), id(2), id(3), id(4)]);
}

on_both_engines!(tasks_are_filtered_by_creation_day_and_sorted_by_any_column);

#[tokio::test]
async fn a_task_shows_progress_counts_error_report_ids_attempts_and_duration() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let task = app.triggered(store, "business-reports").await;
    let tasks = app.db().sync_tasks();
    let lease = chrono::Utc::now() + chrono::Duration::minutes(5);
    tasks.claim(task, "w1", lease).await.unwrap().unwrap();
    let checkpoint = json!({"reports": [{"marketplace_id": "ATVPDKIKX0DER", "report_id": "50017019"}]});
    tasks
        .record_progress(task, None, 3, 30, Some("day 3 of 30"), &checkpoint)
        .await
        .unwrap();

    let running = app.get(&format!("/api/v1/amazon/sync-tasks/{task}")).await;
    assert_eq!(running.status, 200, "{}", running.text);
    let body = running.json();
    assert_eq!(body["status"], "running");
    assert_eq!(body["sync_type"], "business");
    assert_eq!(
        body["progress"],
        json!({"done": 3, "total": 30, "message": "day 3 of 30"})
    );
    assert_eq!(body["report_ids"], json!(["50017019"]));
    assert_eq!(body["checkpoint"], checkpoint);
    assert_eq!(body["attempt"], 1);
    assert!(body["duration_seconds"].is_number());

    tasks
        .fail(task, ErrorClass::Unauthorized, "the refresh token was revoked")
        .await
        .unwrap();
    let body = app.get(&format!("/api/v1/amazon/sync-tasks/{task}")).await.json();
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error_class"], "unauthorized");
    assert_eq!(body["error_message"], "the refresh token was revoked");
    assert_eq!(body["retry_count"], 0);
    assert!(body["end_time"].is_string() && body["start_time"].is_string());

    app.get("/api/v1/amazon/sync-tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn retrying_a_failed_task_makes_it_pending_again() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let task = app.triggered(store, "advertising").await;
    app.fail(task, ErrorClass::Transient, "502 from Amazon").await;
    let reply = app
        .post(&format!("/api/v1/amazon/sync-tasks/{task}/retry"), json!({}))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/amazon/sync-tasks/{task}").as_str())
    );
    let body = reply.json();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["trigger"], "retry");
    assert_eq!(body["retry_count"], 1);
    assert!(body["error_message"].is_null());
    // The trigger's job (never taken: no worker runs) and the retry's.
    assert_eq!(app.queued_jobs().await, 2);
    // A double click retries nothing more.
    app.post(&format!("/api/v1/amazon/sync-tasks/{task}/retry"), json!({}))
        .await
        .assert_error(409, "task_not_failed", None);
    assert_eq!(app.queued_jobs().await, 2);
}

#[tokio::test]
async fn retrying_a_task_that_has_not_failed_is_a_409() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let pending = app.triggered(store, "inventory").await;
    app.post(&format!("/api/v1/amazon/sync-tasks/{pending}/retry"), json!({}))
        .await
        .assert_error(409, "task_not_failed", None);
    app.succeed(pending, 1, 0).await;
    app.post(&format!("/api/v1/amazon/sync-tasks/{pending}/retry"), json!({}))
        .await
        .assert_error(409, "task_not_failed", None);
    assert_eq!(app.task_status(pending).await, "success");
    assert_eq!(app.queued_jobs().await, 1, "only the trigger's job");
}

#[tokio::test]
async fn retrying_while_another_sync_of_the_kind_runs_is_a_409_naming_it() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let failed = app.triggered(store, "inventory").await;
    app.fail(failed, ErrorClass::Transient, "timeout").await;
    let active = app.triggered(store, "inventory").await;
    let reply = app
        .post(&format!("/api/v1/amazon/sync-tasks/{failed}/retry"), json!({}))
        .await;
    reply.assert_error(409, "sync_already_running", None);
    assert_eq!(reply.json()["error"]["task_id"], active.to_string());
    assert_eq!(app.task_status(failed).await, "failed");
    app.post(
        "/api/v1/amazon/sync-tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV/retry",
        json!({}),
    )
    .await
    .assert_error(404, "not_found", None);
}
