//! `/`: the stores overview.

use amzsync_db::StoreStatus;
use amzsync_domain::{ErrorClass, SyncKind};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_overview_lists_each_store_with_a_card_per_kind() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.succeeded(store, SyncKind::Business, 321).await;
    app.failed(
        store,
        SyncKind::Advertising,
        ErrorClass::Transient,
        "Ads API answered 503",
    )
    .await;

    let page = app.get("/").await;
    page.assert_ok()
        .assert_contains(r#"data-test="store-name">Store A1SELLER<"#)
        .assert_contains("Marketplaces: US")
        .assert_contains(r#"data-test="kind-card-inventory""#)
        .assert_contains(r#"data-test="kind-card-business""#)
        .assert_contains(r#"data-test="kind-card-advertising""#)
        .assert_contains(r#"data-status="success">Success<"#)
        .assert_contains(r#"data-test="records-synced">321<"#)
        .assert_contains(r#"data-status="failed">Failed<"#)
        .assert_contains("Ads API answered 503")
        .assert_contains(r#"data-status="never">Never synced<"#)
        .assert_contains(r#"data-test="freshness">just now<"#)
        .assert_lacks(r#"data-test="needs-reauth""#);
    assert_eq!(page.count(r#"data-test="sync-button""#), 3);
}

#[tokio::test]
async fn a_store_that_needs_re_authorization_says_so() {
    let app = TestApp::sqlite().await;
    let revoked = app.store("A1REVOKED").await;
    app.store("A1FINE").await;
    app.db()
        .stores()
        .set_status(revoked, StoreStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();
    let page = app.get("/").await;
    assert_eq!(page.count(r#"data-test="needs-reauth""#), 1);
    let warning = page.text.find(r#"data-test="needs-reauth""#).unwrap();
    let revoked_at = page.text.find("Store A1REVOKED").unwrap();
    let fine_at = page.text.find("Store A1FINE").unwrap();
    assert!(
        revoked_at < warning && warning < fine_at,
        "the warning sits under its store"
    );
}

#[tokio::test]
async fn store_names_are_escaped() {
    let app = TestApp::sqlite().await;
    let mut new = amzsync_test_support::new_store(app.user.id, "A1XSS");
    new.store_name = r#"<script>alert("x")</script> & Co"#.into();
    app.db().stores().create(new).await.unwrap();
    app.get("/")
        .await
        .assert_ok()
        .assert_contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Co")
        .assert_lacks("<script>alert");
}

#[tokio::test]
async fn the_overview_shows_only_the_users_own_stores() {
    let app = TestApp::sqlite().await;
    app.store("A1MINE").await;
    let (bob, _) = app.tenant("bob").await;
    amzsync_test_support::create_store(app.db(), bob.id, "A1BOBS").await;
    app.get("/")
        .await
        .assert_contains("Store A1MINE")
        .assert_lacks("Store A1BOBS");
}

#[tokio::test]
async fn without_stores_the_overview_invites_adding_one() {
    let app = TestApp::sqlite().await;
    app.get("/")
        .await
        .assert_ok()
        .assert_contains(r#"data-test="no-stores""#)
        .assert_contains(r#"href="/stores/new""#);
}
