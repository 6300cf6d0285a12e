//! LWA token endpoint (PROTOCOL.md §1).

use std::time::Duration;

use amzsync_amazon_sim::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestSim, example, sp_error};

#[tokio::test]
async fn a_form_encoded_refresh_token_grant_returns_a_bearer_token_for_an_hour() {
    let t = TestSim::start().await;

    let response = t
        .token_response(&t.credentials.refresh_token, &t.credentials.client_secret)
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("Atza|"));
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token"], t.credentials.refresh_token.as_str());
}

#[tokio::test]
async fn a_json_body_is_accepted_like_the_official_java_sdk_sends_it() {
    let t = TestSim::start().await;

    let response = t
        .http
        .post(t.sim.token_url())
        .json(&json!({
            "grant_type": "refresh_token",
            "refresh_token": t.credentials.refresh_token,
            "client_id": t.credentials.client_id,
            "client_secret": t.credentials.client_secret,
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("Atza|"));
}

#[tokio::test]
async fn an_unknown_refresh_token_is_an_invalid_grant() {
    let t = TestSim::start().await;

    let response = t
        .token_response("Atzr|IwEBnotarealtoken", &t.credentials.client_secret)
        .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, example("lwa_error_invalid_grant.json"));
}

#[tokio::test]
async fn a_revoked_grant_is_an_invalid_grant_and_its_access_tokens_stop_working() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    t.sim.revoke_grant(&t.credentials.refresh_token);

    let refresh = t
        .token_response(&t.credentials.refresh_token, &t.credentials.client_secret)
        .await;
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refresh.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let call = t
        .sp_get(
            &token,
            "reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT",
        )
        .await;
    assert_eq!(call.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sp_error(call).await["details"],
        "The access token you provided is revoked, malformed or invalid."
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_invalid_client_with_401() {
    let t = TestSim::start().await;

    let response = t
        .token_response(&t.credentials.refresh_token, "wrong-secret")
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, example("lwa_error_invalid_client.json"));
}

#[tokio::test]
async fn an_access_token_expires_after_its_configured_lifetime_with_amazons_403() {
    let t = TestSim::with_config(Config {
        access_token_lifetime: Duration::from_secs(5),
        ..Config::default()
    })
    .await;
    let token = t.access_token().await;
    let path = "reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT";
    assert_eq!(t.sp_get(&token, path).await.status(), StatusCode::OK);

    t.sim.advance(Duration::from_secs(5));

    let response = t.sp_get(&token, path).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("x-amzn-RateLimit-Limit").is_none());
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        example("spapi_error_403_token_expired.json")
    );
}

#[tokio::test]
async fn a_call_without_an_access_token_is_refused_with_403() {
    let t = TestSim::start().await;

    let response = t
        .http
        .get(t.url("reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error = sp_error(response).await;
    assert_eq!(error["code"], "Unauthorized");
    assert_eq!(error["message"], "Access to requested resource is denied.");
    assert_eq!(error["details"], "Access token is missing in the request header.");
}

#[tokio::test]
async fn an_injected_lwa_failure_answers_500_server_error_once() {
    let t = TestSim::start().await;
    t.sim.fail_next(amzsync_amazon_sim::Operation::Token);

    let failed = t
        .token_response(&t.credentials.refresh_token, &t.credentials.client_secret)
        .await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.json::<Value>().await.unwrap()["error"], "server_error");

    t.access_token().await;
}

#[tokio::test]
async fn a_missing_or_unsupported_grant_type_is_a_400() {
    let t = TestSim::start().await;
    let post = |form: Vec<(&'static str, String)>| {
        let request = t.http.post(t.sim.token_url()).form(&form);
        async move { request.send().await.unwrap() }
    };
    let client = |mut form: Vec<(&'static str, String)>| {
        form.push(("client_id", t.credentials.client_id.clone()));
        form.push(("client_secret", t.credentials.client_secret.clone()));
        form
    };

    let missing = post(client(vec![])).await;
    let unsupported = post(client(vec![("grant_type", "client_credentials".into())])).await;

    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(missing.json::<Value>().await.unwrap()["error"], "invalid_request");
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unsupported.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn a_shut_down_simulator_stops_answering() {
    let t = TestSim::start().await;
    let url = t.sim.token_url();
    let crate::harness::TestSim { sim, .. } = t;

    sim.shutdown().await.expect("the server stops cleanly");

    let fresh = reqwest::Client::new();
    assert!(fresh.post(url).send().await.is_err());
}
