//! Store management: add, credentials, scheduled syncs on and off, delete.

use amzsync_db::{Scope, StoreStatus};
use reqwest::StatusCode;

use crate::helpers::TestApp;

fn new_store_form<'a>(name: &'a str, marketplaces: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("store_name", name),
        ("region", "eu"),
        ("marketplaces", marketplaces),
        ("seller_id", "A1NEWSELLER"),
        ("sp_api_refresh_token", token),
        ("advertising_api_refresh_token", ""),
        ("sp_api_client_id", ""),
        ("sp_api_client_secret", ""),
    ]
}

#[tokio::test]
async fn a_store_is_added_from_the_form() {
    let app = TestApp::sqlite().await;
    app.get("/stores/new")
        .await
        .assert_ok()
        .assert_contains(r#"data-test="new-store-form""#)
        .assert_contains(r#"type="password""#);

    let page = app
        .post_form(
            "/stores",
            &new_store_form("Nord GmbH", "DE, FR", "Atzr|secret-sp"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let stores = app.db().stores().list(Scope::Owner(app.user.id)).await.unwrap();
    assert_eq!(stores.len(), 1);
    let store = &stores[0];
    assert_eq!(page.location(), format!("/stores/{}", store.id));
    assert_eq!(store.region.as_str(), "eu");
    assert_eq!(store.marketplaces, ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]);
    assert!(store.has_sp_api_refresh_token && !store.has_advertising_api_refresh_token);

    app.get(&format!("/stores/{}", store.id))
        .await
        .assert_ok()
        .assert_contains("Nord GmbH")
        .assert_contains("DE, FR")
        .assert_lacks("secret-sp");
}

#[tokio::test]
async fn a_refused_store_shows_why_and_never_echoes_a_secret() {
    let app = TestApp::sqlite().await;
    let page = app
        .post_form(
            "/stores",
            &new_store_form("Nord GmbH", "DE, JP", "Atzr|secret-sp"),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains(r#"data-test="form-error""#)
        .assert_contains(r#"value="Nord GmbH""#)
        .assert_lacks("secret-sp");

    app.post_form("/stores", &new_store_form("Nord", "DE", "Atzr|one"))
        .await;
    let duplicate = app
        .post_form("/stores", &new_store_form("Nord again", "DE", "Atzr|two"))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    duplicate.assert_contains("you already have a store for this seller in this region");
}

#[tokio::test]
async fn new_credentials_clear_the_re_authorization_warning() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.db()
        .stores()
        .set_status(store, StoreStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();
    app.get(&format!("/stores/{store}/settings"))
        .await
        .assert_ok()
        .assert_contains(r#"data-test="needs-reauth""#)
        .assert_contains(r#"data-test="verify-button""#)
        .assert_lacks(r#"data-test="verify-result""#);

    let form = [
        ("sp_api_refresh_token", "Atzr|fresh"),
        ("advertising_api_refresh_token", ""),
        ("sp_api_client_id", ""),
        ("sp_api_client_secret", ""),
    ];
    app.post_form(&format!("/stores/{store}/credentials"), &form)
        .await
        .assert_redirect(&format!("/stores/{store}/settings?saved=1"));
    let updated = app.db().stores().get(Scope::All, store).await.unwrap();
    assert_ne!(updated.sync_status, StoreStatus::NeedsReauth);
    app.get(&format!("/stores/{store}/settings?saved=1"))
        .await
        .assert_contains(r#"data-test="saved""#)
        .assert_lacks(r#"data-test="needs-reauth""#)
        .assert_lacks("Atzr|fresh");

    // Half an LWA client is refused, naming the missing half.
    let half = [("sp_api_client_id", "amzn1.application-oa2-client.x")];
    let refused = app
        .post_form(&format!("/stores/{store}/credentials"), &half)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("sp_api_client_secret");
}

#[tokio::test]
async fn scheduled_syncs_are_turned_off_and_on() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.post_form(&format!("/stores/{store}/active"), &[("active", "false")])
        .await
        .assert_redirect(&format!("/stores/{store}/settings?saved=1"));
    assert!(!app.db().stores().get(Scope::All, store).await.unwrap().is_active);
    app.get(&format!("/stores/{store}/settings"))
        .await
        .assert_contains(r#"data-test="activate""#);
    app.post_form(&format!("/stores/{store}/active"), &[("active", "true")])
        .await;
    assert!(app.db().stores().get(Scope::All, store).await.unwrap().is_active);
}

#[tokio::test]
async fn a_store_is_deleted_after_a_confirmation() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.get(&format!("/stores/{store}/delete"))
        .await
        .assert_ok()
        .assert_contains(r#"data-test="confirm-delete""#)
        .assert_contains("Store A1SELLER");
    // Opening the confirmation deletes nothing.
    assert!(app.db().stores().get(Scope::All, store).await.is_ok());
    app.post_form(&format!("/stores/{store}/delete"), &[])
        .await
        .assert_redirect("/");
    assert!(app.db().stores().get(Scope::All, store).await.is_err());
}

#[tokio::test]
async fn another_users_store_cannot_be_managed() {
    let app = TestApp::sqlite().await;
    let (bob, _) = app.tenant("bob").await;
    let theirs = amzsync_test_support::create_store(app.db(), bob.id, "A1BOBS")
        .await
        .id;
    for path in [
        format!("/stores/{theirs}/settings"),
        format!("/stores/{theirs}/delete"),
    ] {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        page.assert_contains(r#"data-test="error-heading">Not found<"#);
    }
    let deleting = app.post_form(&format!("/stores/{theirs}/delete"), &[]).await;
    assert_eq!(deleting.status, StatusCode::NOT_FOUND);
    let deactivating = app
        .post_form(&format!("/stores/{theirs}/active"), &[("active", "false")])
        .await;
    assert_eq!(deactivating.status, StatusCode::NOT_FOUND);
    let rotating = app
        .post_form(
            &format!("/stores/{theirs}/credentials"),
            &[("sp_api_refresh_token", "Atzr|x")],
        )
        .await;
    assert_eq!(rotating.status, StatusCode::NOT_FOUND);
    let store = app.db().stores().get(Scope::All, theirs).await.unwrap();
    assert!(store.is_active);
}

#[tokio::test]
async fn verify_shows_each_check_and_is_the_owners_only() {
    // The test engine has no LWA application: the check fails on our side,
    // and the page says so with the class (nothing reaches Amazon).
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let page = app.post_form(&format!("/stores/{store}/verify"), &[]).await;
    page.assert_ok()
        .assert_contains(r#"data-test="verify-result" data-valid="false""#)
        .assert_contains(r#"data-test="verify-sp-api" data-status="failed""#)
        .assert_contains("Internal error")
        .assert_contains("no LWA application")
        .assert_contains(r#"data-test="verify-advertising" data-status="failed""#);

    let (_, stranger) = app.tenant("mallory").await;
    let theirs = crate::helpers::send(app.request_as(
        &stranger,
        reqwest::Method::POST,
        &format!("/stores/{store}/verify"),
    ))
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}
