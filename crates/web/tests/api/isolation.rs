//! Tenant isolation: user B gets 404 on every read, trigger, retry, update and
//! delete of user A's stores and tasks, exactly as for ones that do not exist.

use amzsync_db::Scope;
use amzsync_domain::ErrorClass;
use amzsync_test_support::{TestDb, on_both_engines};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, send};

async fn another_tenant_sees_nothing_of_the_first(db: TestDb) {
    let app = TestApp::start(db).await;
    let store = app.store("A1ALICE").await;
    let failed = app.triggered(store, "inventory").await;
    app.fail(failed, ErrorClass::Transient, "timeout").await;
    let pending = app.triggered(store, "advertising").await;
    let (_, bob) = app.tenant("bob").await;

    let s = format!("/api/v1/amazon/stores/{store}");
    let calls: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, s.clone(), None),
        (Method::PATCH, s.clone(), Some(json!({"is_active": false}))),
        (
            Method::PATCH,
            s.clone(),
            Some(json!({"sp_api_refresh_token": "Atzr|stolen"})),
        ),
        (Method::POST, format!("{s}/deactivate"), None),
        (Method::DELETE, s.clone(), None),
        (Method::POST, format!("{s}/sync/inventory"), None),
        (
            Method::POST,
            format!("{s}/sync/business-reports"),
            Some(json!({"days": 3})),
        ),
        (Method::POST, format!("{s}/sync/advertising"), None),
        (Method::GET, format!("{s}/sync/inventory/status"), None),
        (Method::GET, format!("{s}/sync/advertising/status"), None),
        (Method::GET, format!("{s}/inventory?date=2024-05-01"), None),
        (
            Method::GET,
            format!("{s}/business-metrics?from=2024-05-01&to=2024-05-02"),
            None,
        ),
        (
            Method::GET,
            format!("{s}/ads-metrics?from=2024-05-01&to=2024-05-02&format=csv"),
            None,
        ),
        (
            Method::GET,
            format!("{s}/summary?from=2024-05-01&to=2024-05-02"),
            None,
        ),
        (Method::GET, format!("/api/v1/amazon/sync-tasks/{failed}"), None),
        (Method::GET, format!("/api/v1/amazon/sync-tasks/{pending}"), None),
        (
            Method::POST,
            format!("/api/v1/amazon/sync-tasks/{failed}/retry"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/amazon/sync-tasks/{pending}/retry"),
            None,
        ),
    ];
    for (method, path, body) in calls {
        let request = app.request_as(&bob, method.clone(), &path);
        let reply = send(match &body {
            Some(b) => request.json(b),
            None => request,
        })
        .await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        reply.assert_error(404, "not_found", None);
        // Exactly the answer for a store or task that does not exist.
        let missing_path = path
            .replace(&format!("/stores/{store}"), "/stores/987654")
            .replace(&failed.to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .replace(&pending.to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let request = app.request(method.clone(), &missing_path);
        let missing = send(match &body {
            Some(b) => request.json(b),
            None => request,
        })
        .await;
        assert_eq!(missing.status, reply.status, "{method} {missing_path}");
        assert_eq!(missing.json(), reply.json(), "{method} {path}");
    }

    let listed = send(app.request_as(&bob, Method::GET, "/api/v1/amazon/stores"))
        .await
        .json();
    assert_eq!(listed["items"], json!([]));
    let tasks = send(app.request_as(&bob, Method::GET, "/api/v1/amazon/sync-tasks"))
        .await
        .json();
    assert_eq!(tasks["total"], 0);
    let filtered = send(app.request_as(
        &bob,
        Method::GET,
        &format!("/api/v1/amazon/sync-tasks?store_id={store}"),
    ))
    .await
    .json();
    assert_eq!(filtered["total"], 0);

    // And nothing of Alice's changed.
    let alice_store = app.db().stores().get(Scope::All, store).await.unwrap();
    assert!(alice_store.is_active);
    assert_eq!(app.task_status(failed).await, "failed");
    assert_eq!(app.task_status(pending).await, "pending");
    let all = app
        .db()
        .sync_tasks()
        .list(Scope::All, &Default::default(), 1, 50)
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    use secrecy::ExposeSecret;
    let creds = app.db().stores().credentials(Scope::All, store).await.unwrap();
    assert_eq!(
        creds.sp_api_refresh_token.unwrap().expose_secret(),
        "Atzr|sp-A1ALICE"
    );
}

on_both_engines!(another_tenant_sees_nothing_of_the_first);
