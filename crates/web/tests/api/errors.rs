//! Bad input anywhere answers the one JSON error shape, never plain text, never 500.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, send};

#[tokio::test]
async fn unknown_routes_answer_a_json_404() {
    let app = TestApp::sqlite().await;
    app.get("/api/v1/nothing-here")
        .await
        .assert_error(404, "not_found", None);
    let outside = send(app.client.get(format!("{}/nothing-here", app.base))).await;
    outside.assert_error(404, "not_found", None);
    // `/` itself is the dashboard now (issue 7): signed out, it sends you to sign in.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = send(client.get(format!("{}/", app.base))).await;
    assert_eq!(root.status.as_u16(), 303);
    assert_eq!(root.header("location"), Some("/sign-in"));
}

#[tokio::test]
async fn an_unknown_query_parameter_is_400_naming_it_not_silently_ignored() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    // Each would otherwise answer as if unfiltered: every store's tasks,
    // every marketplace's rows.
    for (path, unknown, known) in [
        (
            "/api/v1/amazon/sync-tasks?store=5".to_owned(),
            "store",
            "store_id",
        ),
        (
            format!(
                "/api/v1/amazon/stores/{store}/business-metrics?from=2026-03-01&to=2026-03-02&marketplace=CA"
            ),
            "marketplace",
            "marketplace_id",
        ),
        (
            format!("/api/v1/amazon/stores/{store}/inventory?marketplace=CA"),
            "marketplace",
            "marketplace_id",
        ),
    ] {
        let reply = app.get(&path).await;
        reply.assert_error(400, "malformed_query", Some(unknown));
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains(&format!("unknown query parameter `{unknown}`")) && message.contains(known),
            "{path}: {message}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_answers_a_json_405() {
    let app = TestApp::sqlite().await;
    let reply = send(app.request(Method::PUT, "/api/v1/amazon/stores")).await;
    reply.assert_error(405, "method_not_allowed", None);
}

#[tokio::test]
async fn malformed_path_ids_are_400_naming_the_segment() {
    let app = TestApp::sqlite().await;
    for path in [
        "/api/v1/amazon/stores/abc",
        "/api/v1/amazon/stores/0",
        "/api/v1/amazon/stores/-4",
        "/api/v1/amazon/stores/99999999999999999999999",
        "/api/v1/amazon/stores/abc/sync/inventory/status",
        "/api/v1/amazon/stores/abc/inventory?date=2024-01-01",
    ] {
        app.get(path)
            .await
            .assert_error(400, "malformed_field", Some("store_id"));
    }
    app.get("/api/v1/amazon/sync-tasks/not-a-ulid")
        .await
        .assert_error(400, "malformed_field", Some("task_id"));
    app.post("/api/v1/amazon/sync-tasks/%20/retry", json!({}))
        .await
        .assert_error(400, "malformed_field", Some("task_id"));
    let store = app.store("A1SELLER").await;
    app.get(&format!("/api/v1/amazon/stores/{store}/sync/everything/status"))
        .await
        .assert_error(400, "malformed_field", Some("kind"));
}

#[tokio::test]
async fn malformed_json_bodies_are_400_and_bad_fields_422_naming_the_field() {
    let app = TestApp::sqlite().await;
    let raw = |body: &'static str| {
        send(
            app.request(Method::POST, "/api/v1/amazon/stores")
                .header("content-type", "application/json")
                .body(body),
        )
    };
    raw("{not json").await.assert_error(400, "malformed_json", None);
    raw("").await.assert_error(400, "malformed_json", None);
    raw("[]").await.assert_error(422, "invalid_field", Some("body"));
    raw(r#"{"store_name": 5}"#)
        .await
        .assert_error(422, "invalid_field", Some("store_name"));
    let no_type = send(app.request(Method::POST, "/api/v1/amazon/stores").body("{}")).await;
    no_type.assert_error(415, "unsupported_media_type", None);
}

#[tokio::test]
async fn a_huge_body_is_refused_without_a_500() {
    let app = TestApp::sqlite().await;
    let big = format!(r#"{{"store_name": "{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let reply = send(
        app.request(Method::POST, "/api/v1/amazon/stores")
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    reply.assert_error(413, "payload_too_large", None);
}

#[tokio::test]
async fn hostile_inputs_never_make_the_server_answer_500() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let paths = [
        format!("/api/v1/amazon/stores/{store}/inventory?date=2024-02-30"),
        format!("/api/v1/amazon/stores/{store}/inventory?date=%00"),
        format!("/api/v1/amazon/stores/{store}/business-metrics?from=0000-01-01&to=9999-12-31"),
        format!("/api/v1/amazon/stores/{store}/ads-metrics?from=2024-01-01&to=2024-01-02&format=xml"),
        format!("/api/v1/amazon/stores/{store}/ads-metrics?from=2024-01-01&from=2024-01-02&to=2024-01-02"),
        "/api/v1/amazon/sync-tasks?page=4294967295&page_size=100".to_owned(),
        "/api/v1/amazon/sync-tasks?page=99999999999".to_owned(),
        "/api/v1/amazon/sync-tasks?store_id=9223372036854775807".to_owned(),
        "/api/v1/amazon/sync-tasks?status=%F0%9F%92%A5".to_owned(),
        "/api/v1/amazon/sync-tasks/7ZZZZZZZZZZZZZZZZZZZZZZZZZ".to_owned(),
    ];
    for path in paths {
        let reply = app.get(&path).await;
        assert!(
            reply.status.as_u16() < 500,
            "{path}: {} {}",
            reply.status,
            reply.text
        );
        assert!(
            reply.status == 200 || reply.json()["error"]["code"].is_string(),
            "{path}"
        );
    }
    let bodies = [
        json!({"days": 1e300}),
        json!({"days": -1}),
        json!({"from": "2024-13-01", "to": "2024-01-01"}),
        json!({"from": null, "to": null, "days": null}),
        json!([1, 2, 3]),
        json!("days"),
    ];
    for body in bodies {
        let reply = app.trigger(store, "inventory", Some(body.clone())).await;
        assert!(reply.status.as_u16() < 500, "{body}: {}", reply.text);
    }
}

#[tokio::test]
async fn a_server_fault_is_a_bare_500_and_its_cause_is_only_logged() {
    let app = TestApp::sqlite().await;
    app.db().close().await;
    let reply = app.get("/api/v1/amazon/stores").await;
    reply.assert_error(500, "internal", None);
    assert_eq!(reply.json()["error"]["message"], "internal server error");
    let logs = crate::helpers::captured_logs();
    let logged = logs
        .lines()
        .find(|l| l.contains("request failed"))
        .unwrap_or_else(|| panic!("the cause is logged:\n{logs}"));
    assert!(logged.contains("closed"), "{logged}");
    assert!(logged.contains("ERROR"), "{logged}");
}
