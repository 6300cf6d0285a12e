//! Secrets (refresh tokens, client secrets, API tokens) never appear in a
//! response or a log line.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, captured_logs, send};

#[tokio::test]
async fn secrets_never_appear_in_responses_or_logs() {
    let app = TestApp::sqlite().await;
    let secrets = [
        "Atzr|SP-never-shown-1",
        "Atzr|ADS-never-shown-2",
        "client-secret-never-shown-3",
        "Atzr|SP-rotated-never-shown-4",
    ];
    let mut replies = Vec::new();
    let created = app
        .post(
            "/api/v1/amazon/stores",
            json!({
                "store_name": "Secretive",
                "region": "na",
                "marketplaces": ["US", "CA"],
                "seller_id": "A9SECRET",
                "sp_api_refresh_token": secrets[0],
                "advertising_api_refresh_token": secrets[1],
                "sp_api_client_id": "amzn1.application-oa2-client.x",
                "sp_api_client_secret": secrets[2],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.json()["has_sp_api_client_secret"], true);
    replies.push(created);
    let store = format!("/api/v1/amazon/stores/{id}");
    replies.push(app.get("/api/v1/amazon/stores").await);
    replies.push(app.get(&store).await);
    replies.push(
        app.patch(&store, json!({"sp_api_refresh_token": secrets[3]}))
            .await,
    );
    // Refused inputs carrying secrets do not echo them either.
    replies.push(
        app.patch(&store, json!({"sp_api_refresh_token": secrets[0], "name": "x"}))
            .await,
    );
    replies.push(
        app.post(
            "/api/v1/amazon/stores",
            json!({"store_name": "Dup", "region": "na", "marketplaces": ["US"], "seller_id": "A9SECRET",
                   "sp_api_refresh_token": secrets[0]}),
        )
        .await,
    );
    replies.push(
        send(
            app.request(Method::POST, "/api/v1/amazon/stores")
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"sp_api_refresh_token": "{}", "region": 1"#,
                    secrets[1]
                )),
        )
        .await,
    );
    replies.push(app.post(&format!("{store}/deactivate"), json!({})).await);
    replies.push(app.post(&format!("{store}/sync/inventory"), json!({})).await);
    replies.push(app.get("/api/v1/amazon/sync-tasks").await);
    for reply in &replies {
        let headers = format!("{:?}", reply.headers);
        for secret in secrets {
            assert!(!reply.text.contains(secret), "{secret} in {}", reply.text);
            assert!(!headers.contains(secret), "{secret} in headers");
        }
        assert!(!reply.text.contains(&app.token));
    }

    let logs = captured_logs();
    assert!(logs.contains("request served"), "logs were captured");
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret} logged");
    }
    assert!(!logs.contains(&app.token), "the bearer token was logged");
}
