//! `/api/v1/amazon/stores`: create, list, read, update, deactivate, delete.

use amzsync_db::{Scope, StoreStatus};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn new_store(seller: &str) -> Value {
    json!({
        "store_name": "Main store",
        "region": "eu",
        "marketplaces": ["A1PA6795UKMFR9", "UK"],
        "seller_id": seller,
        "sp_api_refresh_token": "Atzr|sp-secret",
        "advertising_api_refresh_token": "Atzr|ads-secret",
    })
}

#[tokio::test]
async fn creating_a_store_answers_201_with_its_location_and_no_secrets() {
    let app = TestApp::sqlite().await;
    let reply = app.post("/api/v1/amazon/stores", new_store("A2SELLER")).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let store = reply.json();
    let id = store["id"].as_i64().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/amazon/stores/{id}").as_str())
    );
    assert_eq!(store["region"], "eu");
    assert_eq!(store["marketplace_id"], "A1PA6795UKMFR9");
    assert_eq!(store["marketplaces"], json!(["A1PA6795UKMFR9", "A1F83G8C2ARO7P"]));
    assert_eq!(store["has_sp_api_refresh_token"], true);
    assert_eq!(store["has_advertising_api_refresh_token"], true);
    assert_eq!(store["has_sp_api_client_secret"], false);
    assert_eq!(store["is_active"], true);
    assert_eq!(store["sync_status"], "idle");
    assert!(!reply.text.contains("Atzr|"), "{}", reply.text);

    let read = app.get(&format!("/api/v1/amazon/stores/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), store);
}

#[tokio::test]
async fn store_creation_names_the_field_at_fault() {
    let app = TestApp::sqlite().await;
    let with = |key: &str, value: Value| {
        let mut body = new_store("A2SELLER");
        body[key] = value;
        body
    };
    let cases = [
        (with("region", json!("mars")), "region"),
        (with("region", json!(3)), "region"),
        (
            with("marketplaces", json!(["A1PA6795UKMFR9", "XX"])),
            "marketplaces[1]",
        ),
        // The US is not in the EU region.
        (with("marketplaces", json!(["ATVPDKIKX0DER"])), "marketplaces"),
        (with("marketplaces", json!([])), "marketplaces"),
        (with("seller_id", json!("lower case")), "seller_id"),
        (with("store_name", json!("  ")), "store_name"),
        (with("sp_api_refresh_token", json!("")), "sp_api_refresh_token"),
        (
            with("sp_api_client_secret", json!("s3cret")),
            "sp_api_client_secret",
        ),
        (with("colour", json!("blue")), "colour"),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/amazon/stores", body).await;
        reply.assert_error(422, "invalid_field", Some(field));
    }
    let mut missing = new_store("A2SELLER");
    missing.as_object_mut().unwrap().remove("seller_id");
    app.post("/api/v1/amazon/stores", missing)
        .await
        .assert_error(422, "invalid_field", Some("seller_id"));
    assert!(app.db().stores().list(Scope::All).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_second_store_for_the_same_seller_and_region_is_a_409() {
    let app = TestApp::sqlite().await;
    assert_eq!(
        app.post("/api/v1/amazon/stores", new_store("A2SELLER"))
            .await
            .status,
        201
    );
    let again = app.post("/api/v1/amazon/stores", new_store("A2SELLER")).await;
    again.assert_error(409, "store_exists", Some("seller_id"));
}

#[tokio::test]
async fn listing_shows_the_callers_stores_oldest_first() {
    let app = TestApp::sqlite().await;
    let first = app.store("A1FIRST").await;
    let second = app.store("A1SECOND").await;
    let (other, _) = app.tenant("bob").await;
    amzsync_test_support::create_store(app.db(), other.id, "A1BOBS").await;
    let reply = app.get("/api/v1/amazon/stores").await;
    assert_eq!(reply.status, 200);
    let ids: Vec<i64> = reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [first.0, second.0]);
}

#[tokio::test]
async fn a_missing_store_is_a_404() {
    let app = TestApp::sqlite().await;
    app.get("/api/v1/amazon/stores/424242")
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn patching_rotates_refresh_tokens_and_clears_needs_reauth() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    app.db()
        .stores()
        .set_status(id, StoreStatus::NeedsReauth, Some("grant revoked"))
        .await
        .unwrap();
    let reply = app
        .patch(
            &format!("/api/v1/amazon/stores/{id}"),
            json!({"sp_api_refresh_token": "Atzr|rotated"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["sync_status"], "idle");
    let creds = app.db().stores().credentials(Scope::All, id).await.unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        creds.sp_api_refresh_token.unwrap().expose_secret(),
        "Atzr|rotated"
    );
    // The Ads token was left out, so it is kept.
    assert_eq!(
        creds.advertising_api_refresh_token.unwrap().expose_secret(),
        "Atzr|ads-A1SELLER"
    );
}

#[tokio::test]
async fn patching_turns_scheduled_syncs_off_and_on() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    let path = format!("/api/v1/amazon/stores/{id}");
    assert_eq!(
        app.patch(&path, json!({"is_active": false})).await.json()["is_active"],
        false
    );
    assert_eq!(
        app.patch(&path, json!({"is_active": true})).await.json()["is_active"],
        true
    );
    // An empty patch changes nothing and shows the store.
    assert_eq!(app.patch(&path, json!({})).await.json()["id"], id.0);
}

#[tokio::test]
async fn patching_renames_and_changes_marketplaces_at_once() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    let path = format!("/api/v1/amazon/stores/{id}");
    let store = app
        .patch(
            &path,
            json!({"store_name": "Renamed", "marketplaces": ["CA", "US"]}),
        )
        .await
        .json();
    assert_eq!(store["store_name"], "Renamed");
    assert_eq!(store["marketplaces"], json!(["A2EUQ1WTGCTBG2", "ATVPDKIKX0DER"]));
    assert_eq!(store["marketplace_id"], "A2EUQ1WTGCTBG2");
}

#[tokio::test]
async fn patching_what_cannot_change_names_the_field() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    let path = format!("/api/v1/amazon/stores/{id}");
    app.patch(&path, json!({"seller_id": "AOTHER"}))
        .await
        .assert_error(422, "invalid_field", Some("seller_id"));
    app.patch(&path, json!({"marketplaces": ["US", "DE"]}))
        .await
        .assert_error(422, "invalid_field", Some("marketplaces"));
    app.patch(
        &path,
        json!({"sp_api_client_id": "amzn1.application-oa2-client.x"}),
    )
    .await
    .assert_error(422, "invalid_field", Some("sp_api_client_secret"));
    app.patch(&path, json!({"is_active": "yes"}))
        .await
        .assert_error(422, "invalid_field", Some("is_active"));
    app.patch(&path, json!({"advertising_api_refresh_token": " "}))
        .await
        .assert_error(422, "invalid_field", Some("advertising_api_refresh_token"));
    app.patch("/api/v1/amazon/stores/9999", json!({"is_active": false}))
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn deactivating_keeps_the_store_but_stops_its_schedule() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    let reply = app
        .post(&format!("/api/v1/amazon/stores/{id}/deactivate"), json!({}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["is_active"], false);
    assert!(!app.db().stores().get(Scope::All, id).await.unwrap().is_active);
    app.post("/api/v1/amazon/stores/9999/deactivate", json!({}))
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn deleting_a_store_removes_it_with_its_tasks() {
    let app = TestApp::sqlite().await;
    let id = app.store("A1SELLER").await;
    let task = app.triggered(id, "inventory").await;
    let reply = app.delete(&format!("/api/v1/amazon/stores/{id}")).await;
    assert_eq!(reply.status, 204);
    assert!(reply.text.is_empty());
    app.get(&format!("/api/v1/amazon/stores/{id}"))
        .await
        .assert_error(404, "not_found", None);
    app.get(&format!("/api/v1/amazon/sync-tasks/{task}"))
        .await
        .assert_error(404, "not_found", None);
    app.delete(&format!("/api/v1/amazon/stores/{id}"))
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test]
async fn a_store_s_lookbacks_are_set_shown_reset_and_bounded() {
    let app = TestApp::sqlite().await;
    let mut body = new_store("A2SELLER");
    body["business_lookback_days"] = json!(10);
    let created = app.post("/api/v1/amazon/stores", body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let store = created.json();
    assert_eq!(store["business_lookback_days"], 10);
    assert_eq!(
        store["ads_lookback_days"],
        Value::Null,
        "null: the configured default"
    );
    let path = format!("/api/v1/amazon/stores/{}", store["id"]);

    let patched = app.patch(&path, json!({"ads_lookback_days": 30})).await.json();
    assert_eq!(
        (&patched["business_lookback_days"], &patched["ads_lookback_days"]),
        (&json!(10), &json!(30)),
        "a lookback left out stays"
    );
    let reset = app
        .patch(&path, json!({"business_lookback_days": null}))
        .await
        .json();
    assert_eq!(
        (&reset["business_lookback_days"], &reset["ads_lookback_days"]),
        (&Value::Null, &json!(30))
    );
    assert_eq!(app.get(&path).await.json(), reset);

    for (patch, field) in [
        (json!({"business_lookback_days": 0}), "business_lookback_days"),
        (json!({"ads_lookback_days": 61}), "ads_lookback_days"),
        (json!({"ads_lookback_days": -1}), "ads_lookback_days"),
        (
            json!({"business_lookback_days": "week"}),
            "business_lookback_days",
        ),
    ] {
        app.patch(&path, patch)
            .await
            .assert_error(422, "invalid_field", Some(field));
    }
    let mut too_long = new_store("A2OTHER");
    too_long["business_lookback_days"] = json!(90);
    app.post("/api/v1/amazon/stores", too_long).await.assert_error(
        422,
        "invalid_field",
        Some("business_lookback_days"),
    );
}

#[test]
fn the_openapi_schema_bounds_the_lookbacks_everywhere() {
    let doc = serde_json::to_value(amzsync_web::openapi()).unwrap();
    for schema in ["StoreView", "CreateStore", "UpdateStore"] {
        for field in ["business_lookback_days", "ads_lookback_days"] {
            let property = &doc["components"]["schemas"][schema]["properties"][field];
            assert_eq!(
                (&property["minimum"], &property["maximum"]),
                (&json!(1), &json!(60)),
                "{schema}.{field}: {property}"
            );
        }
    }
}
