//! Snapshots (insta) of the API's contract: the OpenAPI document and a few
//! representative responses. A change to either shows up as a diff to review;
//! `scripts/test.sh` runs with `INSTA_UPDATE=no`, so CI never writes one.
//! Values that differ between runs (ids, times, windows of today) are
//! replaced by their kind before the comparison.

use amzsync_domain::ErrorClass;
use serde_json::Value;

use crate::data::seed;
use crate::helpers::{TestApp, send};

/// Keys whose values change from run to run; `null` stays visible.
const VOLATILE: &[&str] = &[
    "id",
    "task_id",
    "created_at",
    "updated_at",
    "start_time",
    "end_time",
    "next_attempt_at",
    "duration_seconds",
    "window_start",
    "window_end",
    "last_used_at",
];

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) && !v.is_null() {
                    *v = Value::String(format!("[{key}]"));
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn redacted(mut value: Value) -> Value {
    redact(&mut value);
    value
}

#[tokio::test]
async fn the_openapi_document() {
    let app = TestApp::sqlite().await;
    let doc = send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .json();
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn a_summary_response() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    seed(&app, store).await;
    let reply = app
        .get(&format!(
            "/api/v1/amazon/stores/{store}/summary?from=2024-05-01&to=2024-05-31"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    insta::assert_json_snapshot!("summary", reply.json());
}

#[tokio::test]
async fn a_failed_task_and_a_page_of_tasks() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let task = app.triggered(store, "inventory").await;
    app.fail(task, ErrorClass::Unauthorized, "the grant was revoked")
        .await;
    let one = app.get(&format!("/api/v1/amazon/sync-tasks/{task}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    insta::assert_json_snapshot!("failed_task", redacted(one.json()));
    let page = app
        .get("/api/v1/amazon/sync-tasks?status=failed&page_size=5")
        .await;
    insta::assert_json_snapshot!("task_page", redacted(page.json()));
}

#[tokio::test]
async fn a_store_and_an_error() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let view = app.get(&format!("/api/v1/amazon/stores/{store}")).await;
    assert_eq!(view.status, 200, "{}", view.text);
    insta::assert_json_snapshot!("store", redacted(view.json()));
    let error = app
        .get(&format!(
            "/api/v1/amazon/stores/{store}/summary?from=2024-05-02&to=2024-05-01"
        ))
        .await;
    insta::assert_json_snapshot!("range_error", error.json());
}
