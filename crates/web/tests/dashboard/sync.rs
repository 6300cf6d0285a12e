//! Sync buttons and the card fragment their script polls.

use amzsync_db::Scope;
use amzsync_domain::{StoreId, SyncKind, TaskStatus, Trigger};
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_sync_button_records_a_manual_task_and_answers_with_its_card() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;

    let page = app.post_fetch(&format!("/stores/{store}/sync/business")).await;
    page.assert_ok()
        .assert_contains(r#"data-test="kind-card-business""#)
        .assert_contains(r#"data-active="true""#)
        .assert_contains(r#"data-status="pending""#)
        .assert_contains("Sync started.");

    // The same task the API's trigger records, its job queued by the engine.
    let task = app
        .db()
        .sync_tasks()
        .latest(Scope::All, store, SyncKind::Business, None)
        .await
        .unwrap()
        .expect("a task");
    assert_eq!(
        (task.store_id, task.sync_type, task.trigger, task.status),
        (store, SyncKind::Business, Trigger::Manual, TaskStatus::Pending)
    );
    assert!(task.window_start.is_some(), "the engine's default window");
    assert_eq!(app.queued_jobs().await, 1);
}

#[tokio::test]
async fn a_second_click_while_a_sync_runs_shows_the_409_message() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.post_fetch(&format!("/stores/{store}/sync/inventory"))
        .await
        .assert_ok();

    let again = app.post_fetch(&format!("/stores/{store}/sync/inventory")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    again
        .assert_contains(r#"data-test="sync-notice">A sync of this kind is already running for this store.<"#)
        .assert_contains(r#"data-active="true""#);
    assert_eq!(app.queued_jobs().await, 1);
}

#[tokio::test]
async fn without_a_script_a_sync_button_goes_back_to_the_overview() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    app.post_form(&format!("/stores/{store}/sync/advertising"), &[])
        .await
        .assert_redirect(&format!("/#store-{store}"));
    let busy = format!("/?busy={store}-advertising#store-{store}");
    app.post_form(&format!("/stores/{store}/sync/advertising"), &[])
        .await
        .assert_redirect(&busy);
    let page = app.get(&format!("/?busy={store}-advertising")).await;
    assert_eq!(page.count(r#"data-test="sync-notice""#), 1);
}

#[tokio::test]
async fn the_card_fragment_follows_the_task_to_its_end() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let id = app.pending(store, SyncKind::Inventory).await;
    let path = format!("/stores/{store}/sync/inventory");

    let pending = app.get(&path).await;
    pending
        .assert_ok()
        .assert_contains(r#"data-active="true""#)
        .assert_lacks("<html");

    let lease = chrono::Utc::now() + chrono::Duration::minutes(5);
    app.db().sync_tasks().claim(id, "w", lease).await.unwrap();
    app.db()
        .sync_tasks()
        .record_progress(id, None, 2, 4, Some("downloading"), &serde_json::json!({}))
        .await
        .unwrap();
    app.get(&path)
        .await
        .assert_contains(r#"data-status="running""#)
        .assert_contains(r#"<progress max="100" value="50""#)
        .assert_contains("downloading");

    app.db().sync_tasks().succeed(id, 42, 0).await.unwrap();
    app.get(&path)
        .await
        .assert_contains(r#"data-active="false""#)
        .assert_contains(r#"data-status="success""#)
        .assert_contains(r#"data-test="records-synced">42<"#);
}

#[tokio::test]
async fn another_users_store_cannot_be_synced_or_watched() {
    let app = TestApp::sqlite().await;
    let (bob, _) = app.tenant("bob").await;
    let theirs: StoreId = amzsync_test_support::create_store(app.db(), bob.id, "A1BOBS")
        .await
        .id;
    assert_eq!(
        app.post_fetch(&format!("/stores/{theirs}/sync/business"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/stores/{theirs}/sync/business")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.queued_jobs().await, 0);

    let mine = app.store("A1MINE").await;
    assert_eq!(
        app.get(&format!("/stores/{mine}/sync/nonsense")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_engines_refusals_show_on_the_card() {
    let app = TestApp::sqlite().await;
    let mut new = amzsync_test_support::new_store(app.user.id, "A1NOADS");
    new.advertising_api_refresh_token = None;
    let no_ads = app.db().stores().create(new).await.unwrap().id;
    let unsupported = app
        .post_fetch(&format!("/stores/{no_ads}/sync/advertising"))
        .await;
    assert_eq!(unsupported.status, StatusCode::UNPROCESSABLE_ENTITY);
    unsupported
        .assert_contains(r#"data-test="kind-card-advertising""#)
        .assert_contains("add an Advertising API refresh token");

    let off = app.store("A1OFF").await;
    app.db()
        .stores()
        .set_active(Scope::All, off, false)
        .await
        .unwrap();
    let inactive = app.post_fetch(&format!("/stores/{off}/sync/inventory")).await;
    assert_eq!(inactive.status, StatusCode::CONFLICT);
    inactive.assert_contains("Syncs are off for this store");
    // Without a script: an error page with the same status.
    let page = app.post_form(&format!("/stores/{off}/sync/inventory"), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(app.queued_jobs().await, 0);
}
