//! `POST /amazon/stores/{id}/verify`: the engine's credential check, against
//! the Amazon simulator started in the test, mapped to JSON; tenant-scoped.

use amzsync_amazon::{Endpoints, LwaApp};
use amzsync_amazon_sim::{Config as SimConfig, Seller, Simulator};
use amzsync_domain::Region;
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings};
use amzsync_test_support::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, send};

const SELLER: &str = "A3VERIFYSELLER";
const US: &str = "ATVPDKIKX0DER";

/// A server whose engine calls `sim` for North America.
async fn app_with(sim: &Simulator) -> TestApp {
    let db = TestDb::sqlite().await;
    let queue = Queue::connect(
        Backend::Sqlite(db.db.sqlite_pool().expect("an SQLite pool").clone()),
        QUEUE,
    )
    .await
    .expect("connecting the queue");
    queue.setup().await.expect("setting up the queue");
    let amazon = AmazonSettings {
        lwa_app: Some(LwaApp {
            client_id: sim.config().client_id.clone(),
            client_secret: sim.config().client_secret.clone().into(),
        }),
        endpoints: [(
            Region::Na,
            Endpoints {
                lwa_token: sim.token_url(),
                sp_api: sim.base_url().clone(),
                ads_api: sim.base_url().clone(),
            },
        )]
        .into_iter()
        .collect(),
        ..AmazonSettings::default()
    };
    let engine = Engine::builder(db.db.clone(), queue, amazon, SyncSettings::default())
        // Its own cache: tests sharing a process must not share tokens.
        .token_cache(std::sync::Arc::new(
            amzsync_amazon::lwa::InProcessTokenCache::new(),
        ))
        .build()
        .expect("the engine builds");
    TestApp::start_with(db, engine).await
}

#[tokio::test]
async fn verify_answers_what_works_and_what_fails_with_its_class() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Simulator::start_local(SimConfig::default())
        .await
        .expect("the simulator starts");
    let credentials = sim
        .add_seller(Seller::new(SELLER).marketplace(US, 3))
        .expect("a seller");
    let app = app_with(&sim).await;
    let created = app
        .post(
            "/api/v1/amazon/stores",
            json!({
                "store_name": "Verified",
                "region": "na",
                "marketplaces": ["US"],
                "seller_id": SELLER,
                "sp_api_refresh_token": credentials.refresh_token,
                "advertising_api_refresh_token": credentials.ads_refresh_token,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/amazon/stores/{id}/verify");

    let ok = app.post(&path, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let body = ok.json();
    assert_eq!(body["store_id"], id);
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(
        body["sp_api"],
        json!({"status": "valid", "error_class": null, "message": null})
    );
    assert_eq!(body["advertising"]["status"], "valid");
    let profiles = body["ads_profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 1, "{body}");
    assert_eq!(profiles[0]["marketplace_id"], US);
    assert_eq!(profiles[0]["country_code"], "US");
    assert!(profiles[0]["profile_id"].as_i64().is_some());
    assert!(body["checked_at"].as_str().is_some());

    sim.revoke_grant(&credentials.refresh_token);
    let revoked = app.post(&path, json!({})).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let body = revoked.json();
    assert_eq!(body["valid"], false, "{body}");
    assert_eq!(body["sp_api"]["status"], "failed");
    assert_eq!(body["sp_api"]["error_class"], "unauthorized");
    assert!(
        body["sp_api"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{body}"
    );
    assert_eq!(
        body["advertising"]["status"], "valid",
        "the Ads grant is another one"
    );
    assert!(
        !revoked.text.contains(&credentials.refresh_token),
        "no secret comes back"
    );
}

#[tokio::test]
async fn verify_is_the_owners_only() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1OWNSELLER").await;
    let path = format!("/api/v1/amazon/stores/{store}/verify");
    let (_, stranger) = app.tenant("mallory").await;
    send(app.request_as(&stranger, Method::POST, &path))
        .await
        .assert_error(404, "not_found", None);
    app.post("/api/v1/amazon/stores/999999/verify", json!({}))
        .await
        .assert_error(404, "not_found", None);
    let anonymous = send(app.client.post(format!("{}{path}", app.base))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_an_lwa_application_the_check_fails_as_ours_not_amazons() {
    // The default engine has no LWA application and no endpoints: nothing
    // reaches Amazon, and the answer says why.
    let app = TestApp::sqlite().await;
    let store = app.store("A1NOAPPSELLER").await;
    let reply = app
        .post(&format!("/api/v1/amazon/stores/{store}/verify"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["valid"], false);
    assert_eq!(body["sp_api"]["status"], "failed");
    assert_eq!(body["sp_api"]["error_class"], "internal");
    assert!(
        body["sp_api"]["message"]
            .as_str()
            .unwrap()
            .contains("no LWA application"),
        "{body}"
    );
}
