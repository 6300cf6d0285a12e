//! Probes, metrics, request ids, the OpenAPI document and the docs page.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, send};

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let app = TestApp::sqlite().await;
    let reply = send(app.client.get(format!("{}/healthz", app.base))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "ok");
}

#[tokio::test]
async fn readyz_answers_ok_when_the_database_answers() {
    let app = TestApp::sqlite().await;
    let reply = send(app.client.get(format!("{}/readyz", app.base))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = TestApp::sqlite().await;
    app.db().close().await;
    let reply = send(app.client.get(format!("{}/readyz", app.base))).await;
    reply.assert_error(503, "not_ready", None);
}

#[tokio::test]
async fn readyz_answers_503_when_the_queue_is_gone() {
    // The engine's queue in a database of its own, which then goes away
    // while the application's database still answers.
    let queue_db = amzsync_test_support::TestDb::sqlite().await;
    let engine = crate::helpers::engine_on(&queue_db.db).await;
    let app = TestApp::start_with(amzsync_test_support::TestDb::sqlite().await, engine).await;
    let ready = send(app.client.get(format!("{}/readyz", app.base))).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    queue_db.db.close().await;
    let reply = send(app.client.get(format!("{}/readyz", app.base))).await;
    reply.assert_error(503, "not_ready", None);
    assert_eq!(reply.json()["error"]["message"], "the job queue does not answer");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::sqlite().await;
    app.get("/api/v1/amazon/stores").await;
    app.get("/api/v1/amazon/stores/999").await;
    let reply = send(app.client.get(format!("{}/metrics", app.base))).await;
    assert_eq!(reply.status, 200);
    let line_for = |status: &str| {
        reply.text.lines().any(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(r#"route="/api/v1/amazon/stores/{store_id}""#)
                && l.contains(&format!(r#"status="{status}""#))
        })
    };
    assert!(line_for("404"), "{}", reply.text);
    assert!(
        reply.text.contains(r#"route="/api/v1/amazon/stores""#),
        "{}",
        reply.text
    );
    assert!(
        !reply.text.contains("/stores/999"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let app = TestApp::sqlite().await;
    let fresh = send(app.client.get(format!("{}/healthz", app.base))).await;
    let id = fresh.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 26, "a ULID: {id}");
    let given = send(
        app.client
            .get(format!("{}/api/v1/amazon/stores", app.base))
            .header("x-request-id", "req-42"),
    )
    .await;
    assert_eq!(given.status, 401);
    assert_eq!(given.header("x-request-id"), Some("req-42"));
}

#[tokio::test]
async fn access_logs_have_one_span_per_request_with_route_status_and_request_id() {
    let app = TestApp::sqlite().await;
    let reply = send(
        app.request(Method::GET, "/api/v1/amazon/stores/12345")
            .header("x-request-id", "trace-me-7"),
    )
    .await;
    assert_eq!(reply.status, 404);
    let logs = crate::helpers::captured_logs();
    let line = logs
        .lines()
        .filter(|l| l.contains("request served") && l.contains("trace-me-7"))
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .next()
        .unwrap_or_else(|| panic!("no access log line for the request in:\n{logs}"));
    let span = &line["span"];
    assert_eq!(span["route"], "/api/v1/amazon/stores/{store_id}", "{line}");
    assert_eq!(span["method"], "GET");
    assert_eq!(line["fields"]["status"], 404, "{line}");
    assert!(line["fields"]["latency_ms"].is_number(), "{line}");
}

/// Every route of the API, as (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/api/v1/amazon/stores"),
    ("get", "/api/v1/amazon/stores"),
    ("get", "/api/v1/amazon/stores/{store_id}"),
    ("patch", "/api/v1/amazon/stores/{store_id}"),
    ("delete", "/api/v1/amazon/stores/{store_id}"),
    ("post", "/api/v1/amazon/stores/{store_id}/deactivate"),
    ("post", "/api/v1/amazon/stores/{store_id}/verify"),
    ("post", "/api/v1/amazon/stores/{store_id}/sync/inventory"),
    ("post", "/api/v1/amazon/stores/{store_id}/sync/business-reports"),
    ("post", "/api/v1/amazon/stores/{store_id}/sync/advertising"),
    ("get", "/api/v1/amazon/stores/{store_id}/sync/{kind}/status"),
    ("get", "/api/v1/amazon/sync-tasks"),
    ("get", "/api/v1/amazon/sync-tasks/{task_id}"),
    ("post", "/api/v1/amazon/sync-tasks/{task_id}/retry"),
    ("get", "/api/v1/amazon/stores/{store_id}/inventory"),
    ("get", "/api/v1/amazon/stores/{store_id}/business-metrics"),
    ("get", "/api/v1/amazon/stores/{store_id}/ads-metrics"),
    ("get", "/api/v1/amazon/stores/{store_id}/summary"),
    ("post", "/api/v1/admin/users"),
    ("get", "/api/v1/admin/users"),
    ("post", "/api/v1/admin/users/{user_id}/tokens"),
    ("get", "/api/v1/admin/users/{user_id}/tokens"),
    ("delete", "/api/v1/admin/tokens/{token_id}"),
];

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route() {
    let app = TestApp::sqlite().await;
    let reply = send(app.client.get(format!("{}/openapi.json", app.base))).await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut listed = 0;
    for (path, item) in paths {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                listed += 1;
                assert!(
                    ROUTES.contains(&(method, path.as_str())),
                    "undocumented in the test: {method} {path}"
                );
            }
        }
    }
    for (method, path) in ROUTES {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} missing"))[*method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        if path.starts_with("/api/") {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
    }
    assert_eq!(listed, ROUTES.len());
    let components = &doc["components"];
    assert_eq!(components["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for schema in [
        "ErrorBody",
        "ErrorDetail",
        "StoreView",
        "CreateStore",
        "TaskView",
        "TaskPage",
        "SyncRequest",
        "SummaryItems",
    ] {
        assert!(
            components["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
    // Secrets are write-only in the schema, and absent from the store's view.
    assert_eq!(
        components["schemas"]["CreateStore"]["properties"]["sp_api_refresh_token"]["writeOnly"],
        true
    );
    let view = components["schemas"]["StoreView"]["properties"]
        .as_object()
        .unwrap();
    let secretive = |k: &str| k.ends_with("token") || k.ends_with("secret");
    assert!(
        view.keys().all(|k| !secretive(k) || k.starts_with("has_")),
        "{view:?}"
    );
}

#[tokio::test]
async fn the_openapi_document_of_the_library_is_the_one_served() {
    let app = TestApp::sqlite().await;
    let served = send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .json();
    let built = serde_json::to_value(amzsync_web::openapi()).unwrap();
    assert_eq!(served, built);
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let app = TestApp::sqlite().await;
    let page = send(app.client.get(format!("{}/docs/", app.base))).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "no CDN: {}",
        page.text
    );
    let init = send(
        app.client
            .get(format!("{}/docs/swagger-initializer.js", app.base)),
    )
    .await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/openapi.json"), "{}", init.text);
    let bundle = send(app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.base))).await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000, "the bundle itself is embedded");
}
