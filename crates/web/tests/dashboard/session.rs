//! Signing in and out, the session cookie, languages, and the pages' headers.

use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, send};

#[tokio::test]
async fn signed_out_pages_redirect_to_sign_in_with_the_way_back() {
    let app = TestApp::sqlite().await;
    app.get_signed_out("/").await.assert_redirect("/sign-in");
    app.get_signed_out("/history?status=failed")
        .await
        .assert_redirect("/sign-in?next=/history%3Fstatus%3Dfailed");
    app.get_signed_out("/stores/1")
        .await
        .assert_redirect("/sign-in?next=/stores/1");
    // The page's script gets a status it can act on, not a page.
    let fetch = send(
        app.client
            .get(app.url("/stores/1/sync/inventory"))
            .header("x-amzsync-fetch", "1"),
    )
    .await;
    assert_eq!(fetch.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sign_in_form_asks_for_a_token() {
    let app = TestApp::sqlite().await;
    let page = app.get_signed_out("/sign-in?next=/history").await;
    page.assert_ok()
        .assert_contains(r#"<html lang="en">"#)
        .assert_contains(r#"data-test="token-input""#)
        .assert_contains(r#"name="next" value="/history""#);
}

#[tokio::test]
async fn a_valid_token_sets_an_http_only_cookie_and_goes_back() {
    let app = TestApp::sqlite().await;
    let form = [("token", app.token.as_str()), ("next", "/history")];
    let page = send(app.client.post(app.url("/sign-in")).form(&form)).await;
    page.assert_redirect("/history");
    let cookie = page.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.starts_with(&format!("amzsync_session={};", app.token)),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    // Behind a proxy that terminates HTTPS the cookie is Secure.
    let behind_https = send(
        app.client
            .post(app.url("/sign-in"))
            .header("x-forwarded-proto", "https")
            .form(&form),
    )
    .await;
    assert!(behind_https.header("set-cookie").unwrap().ends_with("; Secure"));

    // The cookie signs the user in.
    app.get("/")
        .await
        .assert_ok()
        .assert_contains(r#"data-test="user-name">alice<"#);
}

#[tokio::test]
async fn an_unknown_token_shows_the_form_again() {
    let app = TestApp::sqlite().await;
    let page = send(
        app.client
            .post(app.url("/sign-in"))
            .form(&[("token", "amzs_unknown"), ("next", "/")]),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.header("set-cookie").is_none());
    page.assert_contains(r#"data-test="sign-in-error""#);
}

#[tokio::test]
async fn sign_in_never_sends_you_to_another_site() {
    let app = TestApp::sqlite().await;
    for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let page = send(
            app.client
                .post(app.url("/sign-in"))
                .form(&[("token", app.token.as_str()), ("next", next)]),
        )
        .await;
        page.assert_redirect("/");
    }
}

#[tokio::test]
async fn sign_out_clears_the_cookie_and_a_revoked_token_ends_the_session() {
    let app = TestApp::sqlite().await;
    let page = send(app.request_as(&app.token, Method::POST, "/sign-out")).await;
    page.assert_redirect("/sign-in");
    let cookie = page.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("amzsync_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );

    let tokens = app.db().tokens().list(app.user.id).await.unwrap();
    app.db().tokens().revoke(None, tokens[0].id).await.unwrap();
    app.get("/").await.assert_redirect("/sign-in");
}

#[tokio::test]
async fn posts_from_other_sites_are_refused() {
    let app = TestApp::sqlite().await;
    let store = app.store("A1SELLER").await;
    let page = send(
        app.request_as(&app.token, Method::POST, &format!("/stores/{store}/delete"))
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(app.db().stores().get(amzsync_db::Scope::All, store).await.is_ok());
}

#[tokio::test]
async fn the_language_is_switched_remembered_and_guessed() {
    let app = TestApp::sqlite().await;
    let page = send(app.client.get(app.url("/lang?to=zh-CN&next=/history"))).await;
    page.assert_redirect("/history");
    let cookie = page.header("set-cookie").unwrap();
    assert!(cookie.starts_with("amzsync_lang=zh-CN;"), "{cookie}");

    let zh = app.get_zh("/").await;
    zh.assert_ok()
        .assert_contains(r#"<html lang="zh-CN">"#)
        .assert_contains("同步记录")
        .assert_lacks("Sync history");
    let en = app.get("/").await;
    en.assert_contains("Sync history").assert_lacks("同步记录");

    // Without a cookie, the browser's languages decide.
    let guessed = send(
        app.request_as(&app.token, Method::GET, "/")
            .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8"),
    )
    .await;
    guessed.assert_contains("同步记录");
}

#[tokio::test]
async fn pages_keep_to_their_own_scripts_and_assets_are_embedded() {
    let app = TestApp::sqlite().await;
    let page = app.get("/").await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));

    let css = app.get_signed_out("/assets/dashboard.css").await;
    css.assert_ok();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let js = app.get_signed_out("/assets/dashboard.js").await;
    js.assert_ok().assert_contains("data-sync-form");
    assert_eq!(
        app.get_signed_out("/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_is_untouched_by_the_dashboard() {
    let app = TestApp::sqlite().await;
    // A session cookie is not an API credential.
    let page = send(app.request_as(&app.token, Method::GET, "/api/v1/amazon/stores")).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    // Unknown routes are still the API's JSON 404.
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("content-type"), Some("application/json"));
}
