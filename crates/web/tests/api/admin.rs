//! `/api/v1/admin`: users and tokens, for admins only.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, send};

#[tokio::test]
async fn non_admins_get_403_on_every_admin_route() {
    let app = TestApp::sqlite().await;
    let id = app.user.id;
    let replies = [
        app.post("/api/v1/admin/users", json!({"name": "mallory"})).await,
        app.get("/api/v1/admin/users").await,
        app.post(&format!("/api/v1/admin/users/{id}/tokens"), json!({"name": "x"}))
            .await,
        app.get(&format!("/api/v1/admin/users/{id}/tokens")).await,
        app.delete("/api/v1/admin/tokens/1").await,
    ];
    for reply in replies {
        reply.assert_error(403, "forbidden", None);
    }
    let anonymous = send(app.client.get(format!("{}/api/v1/admin/users", app.base))).await;
    anonymous.assert_error(401, "unauthorized", None);
}

#[tokio::test]
async fn an_admin_creates_a_user_and_a_token_shown_once_that_then_works() {
    let app = TestApp::sqlite().await;
    let (_, admin) = app.admin().await;
    let created = send(
        app.request_as(&admin, Method::POST, "/api/v1/admin/users")
            .json(&json!({"name": "carol"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    let user_id = user["id"].as_i64().unwrap();
    assert_eq!(user["is_admin"], false);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/admin/users/{user_id}").as_str())
    );

    let issued = send(
        app.request_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/users/{user_id}/tokens"),
        )
        .json(&json!({"name": "script"})),
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let token = issued.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("amzs_"));
    let token_id = issued.json()["id"].as_i64().unwrap();

    let as_carol = send(app.request_as(&token, Method::GET, "/api/v1/amazon/stores")).await;
    assert_eq!(as_carol.status, 200);

    let listed = send(app.request_as(
        &admin,
        Method::GET,
        &format!("/api/v1/admin/users/{user_id}/tokens"),
    ))
    .await;
    assert_eq!(listed.json()["items"][0]["id"], token_id);
    assert!(
        !listed.text.contains(&token),
        "a token's secret is shown only once"
    );
    assert!(listed.json()["items"][0]["last_used_at"].is_string());

    let users = send(app.request_as(&admin, Method::GET, "/api/v1/admin/users")).await;
    assert!(
        users.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "carol")
    );

    let revoked = send(app.request_as(
        &admin,
        Method::DELETE,
        &format!("/api/v1/admin/tokens/{token_id}"),
    ))
    .await;
    assert_eq!(revoked.status, 204);
    let after = send(app.request_as(&token, Method::GET, "/api/v1/amazon/stores")).await;
    after.assert_error(401, "unauthorized", None);
}

#[tokio::test]
async fn admin_errors_name_what_is_wrong() {
    let app = TestApp::sqlite().await;
    let (_, admin) = app.admin().await;
    let post =
        |path: String, body: serde_json::Value| send(app.request_as(&admin, Method::POST, &path).json(&body));
    post("/api/v1/admin/users".into(), json!({"name": "alice"}))
        .await
        .assert_error(409, "user_exists", Some("name"));
    post("/api/v1/admin/users".into(), json!({"name": ""}))
        .await
        .assert_error(422, "invalid_field", Some("name"));
    post(
        "/api/v1/admin/users".into(),
        json!({"name": "dave", "is_admin": "no"}),
    )
    .await
    .assert_error(422, "invalid_field", Some("is_admin"));
    post("/api/v1/admin/users/9999/tokens".into(), json!({"name": "x"}))
        .await
        .assert_error(404, "not_found", None);
    post("/api/v1/admin/users/abc/tokens".into(), json!({"name": "x"}))
        .await
        .assert_error(400, "malformed_field", Some("user_id"));
    post(
        format!("/api/v1/admin/users/{}/tokens", app.user.id),
        json!({"name": " "}),
    )
    .await
    .assert_error(422, "invalid_field", Some("name"));
    send(app.request_as(&admin, Method::GET, "/api/v1/admin/users/9999/tokens"))
        .await
        .assert_error(404, "not_found", None);
    send(app.request_as(&admin, Method::DELETE, "/api/v1/admin/tokens/9999"))
        .await
        .assert_error(404, "not_found", None);
    send(app.request_as(&admin, Method::DELETE, "/api/v1/admin/tokens/x"))
        .await
        .assert_error(400, "malformed_field", Some("token_id"));
}
