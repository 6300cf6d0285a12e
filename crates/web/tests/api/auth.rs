//! Bearer tokens: missing, malformed, unknown and revoked ones are 401.

use reqwest::Method;

use crate::helpers::{TestApp, send};

#[tokio::test]
async fn a_request_without_a_token_is_a_401_asking_for_a_bearer_token() {
    let app = TestApp::sqlite().await;
    let reply = send(app.client.get(format!("{}/api/v1/amazon/stores", app.base))).await;
    reply.assert_error(401, "unauthorized", None);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_401() {
    let app = TestApp::sqlite().await;
    let url = format!("{}/api/v1/amazon/sync-tasks", app.base);
    for header in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "amzs_abc",
        "Bearer amzs_unknown",
        "Bearer not-even-prefixed",
    ] {
        let reply = send(app.client.get(&url).header("authorization", header)).await;
        reply.assert_error(401, "unauthorized", None);
    }
    let bad_bytes = send(
        app.client
            .get(&url)
            .header("authorization", b"Bearer \xff\xfe".as_slice()),
    )
    .await;
    bad_bytes.assert_error(401, "unauthorized", None);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::sqlite().await;
    let reply = send(
        app.client
            .get(format!("{}/api/v1/amazon/stores", app.base))
            .header("authorization", format!("bearer {}", app.token)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::sqlite().await;
    assert_eq!(app.get("/api/v1/amazon/stores").await.status, 200);
    let token = app.db().tokens().list(app.user.id).await.unwrap()[0].id;
    app.db().tokens().revoke(None, token).await.unwrap();
    app.get("/api/v1/amazon/stores")
        .await
        .assert_error(401, "unauthorized", None);
}

#[tokio::test]
async fn using_a_token_records_when_it_was_last_used() {
    let app = TestApp::sqlite().await;
    assert!(
        app.db().tokens().list(app.user.id).await.unwrap()[0]
            .last_used_at
            .is_none()
    );
    send(app.request(Method::GET, "/api/v1/amazon/stores")).await;
    assert!(
        app.db().tokens().list(app.user.id).await.unwrap()[0]
            .last_used_at
            .is_some()
    );
}
