//! Tenant isolation: user B gets 404 on every read, trigger, retry, update and
//! delete of user A's stores and tasks, exactly as for ones that do not exist.
//! The matrix is checked against the OpenAPI document: a route that is in
//! neither the matrix nor one of the listed kinds of unscoped routes fails
//! the test, so no new route escapes it.

use std::collections::BTreeSet;

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
        (Method::POST, format!("{s}/verify"), None),
        (Method::GET, format!("{s}/sync/inventory/status"), None),
        (Method::GET, format!("{s}/sync/business-reports/status"), None),
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
    let covered: BTreeSet<(String, String)> = calls
        .iter()
        .map(|(method, path, _)| {
            let template = path
                .split('?')
                .next()
                .unwrap_or_default()
                .replace(&format!("/stores/{store}"), "/stores/{store_id}")
                .replace(&failed.to_string(), "{task_id}")
                .replace(&pending.to_string(), "{task_id}");
            let template = match template.strip_suffix("/status") {
                Some(sync) => format!("{}/{{kind}}/status", sync.rsplit_once('/').unwrap().0),
                None => template,
            };
            (method.as_str().to_owned(), template)
        })
        .collect();
    let admin_only = every_route_is_covered(&covered);
    for (method, template) in admin_only {
        let path = template
            .replace("{user_id}", &app.user.id.to_string())
            .replace("{token_id}", "1");
        let method: Method = method.parse().unwrap();
        let reply = send(
            app.request_as(&bob, method.clone(), &path)
                .json(&json!({"name": "intruder"})),
        )
        .await;
        reply.assert_error(403, "forbidden", None);
    }

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

/// Asserts every operation of the OpenAPI document is one the isolation
/// test covers: tenant-scoped (in `covered`, the 404 matrix), a list or
/// create of the caller's own (checked above), an operations endpoint
/// without tenant data, or an admin route, which are returned for the test
/// to check that a tenant is refused them.
fn every_route_is_covered(covered: &BTreeSet<(String, String)>) -> Vec<(String, String)> {
    let own_or_operations: BTreeSet<(&str, &str)> = [
        ("GET", "/api/v1/amazon/stores"),
        ("POST", "/api/v1/amazon/stores"),
        ("GET", "/api/v1/amazon/sync-tasks"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
    ]
    .into();
    let doc = serde_json::to_value(amzsync_web::openapi()).unwrap();
    let mut admin = Vec::new();
    let mut escaped = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            // A path item also holds `parameters`, `summary` and the like.
            const METHODS: [&str; 8] = [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ];
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let method = method.to_uppercase();
            let operation = (method.clone(), path.clone());
            if covered.contains(&operation) || own_or_operations.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            if path.starts_with("/api/v1/admin/") {
                admin.push(operation);
            } else {
                escaped.push(operation);
            }
        }
    }
    assert!(
        escaped.is_empty(),
        "routes the tenant isolation test does not cover (add them to its matrix): {escaped:?}"
    );
    assert!(!admin.is_empty(), "the document lists the admin routes");
    admin
}
