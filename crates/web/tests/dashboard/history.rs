//! `/history` and `/tasks/{id}`.

use amzsync_db::Scope;
use amzsync_domain::{ErrorClass, SyncKind};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn history_lists_tasks_with_their_counts_and_filters_them() {
    // Held still, so the tasks and the day filtered on are the same day.
    let now: DateTime<Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
    let app = TestApp::sqlite_at(now).await;
    let a = app.store("A1AAA").await;
    let b = app.store("A1BBB").await;
    app.succeeded(a, SyncKind::Business, 120).await;
    app.failed(a, SyncKind::Inventory, ErrorClass::Throttled, "quota")
        .await;
    app.succeeded(b, SyncKind::Advertising, 7).await;

    let all = app.get("/history").await;
    all.assert_ok().assert_contains("3 tasks");
    assert_eq!(all.count(r#"data-test="history-row""#), 3);

    let failed = app.get("/history?status=failed").await;
    assert_eq!(failed.count(r#"data-test="history-row""#), 1);
    failed
        .assert_contains(r#"data-status="failed""#)
        .assert_contains("Throttled by Amazon")
        .assert_contains(r#"<option value="failed" selected>"#);

    let by_store = app.get(&format!("/history?store={b}")).await;
    assert_eq!(by_store.count(r#"data-test="history-row""#), 1);
    by_store.assert_contains("Store A1BBB");

    let by_kind = app.get("/history?kind=business").await;
    assert_eq!(by_kind.count(r#"data-test="history-row""#), 1);

    let today = now.date_naive();
    let dated = app.get(&format!("/history?from={today}&to={today}")).await;
    assert_eq!(dated.count(r#"data-test="history-row""#), 3);
    let tomorrow = today.succ_opt().unwrap();
    let none = app.get(&format!("/history?from={tomorrow}")).await;
    none.assert_contains(r#"data-test="no-tasks""#);
}

#[tokio::test]
async fn history_sorts_by_a_column_and_pages() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    for records in 1..=27 {
        app.succeeded(store, SyncKind::Inventory, records * 10).await;
    }
    let first = app.get("/history").await;
    assert_eq!(first.count(r#"data-test="history-row""#), 25);
    first
        .assert_contains(r#"data-test="page-next""#)
        .assert_contains("Page 1 / 2");
    let second = app.get("/history?page=2").await;
    assert_eq!(second.count(r#"data-test="history-row""#), 2);

    let ascending = app.get("/history?sort=records&dir=asc").await;
    ascending.assert_contains(r#"aria-sort="ascending""#);
    let at_10 = ascending.text.find("<td>10</td>").expect("the smallest count");
    let at_20 = ascending.text.find("<td>20</td>").expect("the next one");
    assert!(at_10 < at_20);
    let descending = app.get("/history?sort=records").await;
    let top = descending
        .text
        .find("<td>270</td>")
        .expect("the largest count on page 1");
    let next = descending.text.find("<td>260</td>").unwrap();
    assert!(top < next);
}

#[tokio::test]
async fn a_malformed_filter_is_a_400_page() {
    let app = TestApp::sqlite().await;
    let page = app.get("/history?status=exploded").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_contains(r#"data-test="error-message""#)
        .assert_contains("<html");
}

#[tokio::test]
async fn a_failed_task_shows_its_error_and_can_be_retried() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let id = app
        .failed(
            store,
            SyncKind::Business,
            ErrorClass::Unauthorized,
            "invalid_grant <from LWA>",
        )
        .await;

    let page = app.get(&format!("/tasks/{id}")).await;
    page.assert_ok()
        .assert_contains(r#"data-test="task-error-class">Unauthorized (grant revoked)<"#)
        .assert_contains("invalid_grant &#60;from LWA&#62;")
        .assert_contains(r#"data-test="task-attempts">1<"#)
        .assert_contains(r#"data-test="retry-button""#);

    app.post_form(&format!("/tasks/{id}/retry"), &[])
        .await
        .assert_redirect(&format!("/tasks/{id}?retried=1"));
    let task = app.db().sync_tasks().get(Scope::All, id).await.unwrap();
    assert_eq!(task.status.as_str(), "pending");
    assert_eq!(task.trigger.as_str(), "retry");
    assert_eq!(app.queued_jobs().await, 1, "the retry's job is queued");

    let after = app.get(&format!("/tasks/{id}?retried=1")).await;
    after
        .assert_contains(r#"data-test="task-notice""#)
        .assert_lacks(r#"data-test="retry-button""#);

    // Retrying what has not failed is refused, on the task's page.
    let again = app.post_form(&format!("/tasks/{id}/retry"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    again.assert_contains(r#"data-test="task-notice""#);
    assert_eq!(app.queued_jobs().await, 1);
}

#[tokio::test]
async fn another_users_task_is_not_found() {
    let app = TestApp::sqlite().await;
    let (bob, _) = app.tenant("bob").await;
    let theirs = amzsync_test_support::create_store(app.db(), bob.id, "A1BOBS")
        .await
        .id;
    let id = app
        .failed(theirs, SyncKind::Business, ErrorClass::Internal, "x")
        .await;
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post_form(&format!("/tasks/{id}/retry"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/tasks/not-a-ulid").await.status, StatusCode::NOT_FOUND);
    app.get("/history")
        .await
        .assert_contains(r#"data-test="no-tasks""#);
}
