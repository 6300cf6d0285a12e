//! Access tokens: cache, refresh ahead of expiry, single flight, refresh on a
//! refused token, permanent authorization errors.

use std::time::Duration;

use amzsync_amazon::Error;
use amzsync_amazon::sp::reports::{GetReportsRequest, ReportFilter};
use amzsync_amazon_sim::{Config as SimConfig, Operation};
use secrecy::ExposeSecret as _;

use crate::harness::{MYI, SELLER, TestWorld};

fn any_myi() -> GetReportsRequest {
    GetReportsRequest::Filter(ReportFilter {
        report_types: vec![MYI.into()],
        ..ReportFilter::default()
    })
}

#[tokio::test]
async fn a_second_call_reuses_the_cached_token_without_calling_lwa() {
    let t = TestWorld::start().await;

    let first = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");
    let second = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");

    assert_eq!(first.secret().expose_secret(), second.secret().expose_secret());
    assert_eq!(t.lwa_calls(), 1);
}

#[tokio::test]
async fn a_token_is_refreshed_a_minute_before_it_expires() {
    let t = TestWorld::start().await;
    let first = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");

    // 3600 s lifetime, 60 s margin: still cached just before the margin...
    t.clock.advance(Duration::from_secs(3600 - 61));
    let before = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");
    // ...and replaced once inside it, while the old one would still work.
    t.clock.advance(Duration::from_secs(2));
    let after = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");

    assert_eq!(before.secret().expose_secret(), first.secret().expose_secret());
    assert_ne!(after.secret().expose_secret(), first.secret().expose_secret());
    assert_eq!(t.lwa_calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_with_an_expired_token_cause_one_lwa_call() {
    let t = TestWorld::start().await;
    let stale = t
        .client
        .tokens()
        .access_token(&t.seller.refresh_token)
        .await
        .expect("a token");
    t.clock.advance(Duration::from_secs(3600));

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let client = t.client.clone();
            let refresh_token = t.seller.refresh_token.clone();
            tokio::spawn(async move { client.tokens().access_token(&refresh_token).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        let token = caller.await.expect("no caller panics").expect("a token");
        tokens.push(token.secret().expose_secret().to_owned());
    }

    assert_eq!(
        t.lwa_calls(),
        2,
        "one call for the first token, one for all hundred callers"
    );
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert_ne!(tokens[0], stale.secret().expose_secret());
}

#[tokio::test]
async fn a_token_amazon_says_has_expired_is_refreshed_and_the_call_succeeds() {
    let t = TestWorld::start().await;
    t.reports()
        .get_reports(&any_myi())
        .await
        .expect("getReports succeeds");
    // Amazon's clock runs ahead of ours: it considers our cached token expired.
    t.sim.advance(Duration::from_secs(3600));

    let page = t.reports().get_reports(&any_myi()).await;

    assert!(page.is_ok(), "{page:?}");
    assert_eq!(t.lwa_calls(), 2);
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).calls, 2);
}

#[tokio::test]
async fn a_revoked_grant_is_unauthorized_and_asks_lwa_only_once_per_call() {
    let t = TestWorld::start().await;
    t.reports()
        .get_reports(&any_myi())
        .await
        .expect("getReports succeeds");
    t.sim.revoke_grant(&t.credentials.refresh_token);

    let with_cached_token = t.reports().get_reports(&any_myi()).await;
    let calls_after_first = t.lwa_calls();
    let without_token = t.reports().get_reports(&any_myi()).await;

    for result in [&with_cached_token, &without_token] {
        assert!(
            matches!(result, Err(Error::Unauthorized { code, .. }) if code == "invalid_grant"),
            "{result:?}"
        );
    }
    assert_eq!(calls_after_first, 2, "the first token, then one refresh attempt");
    assert_eq!(t.lwa_calls(), 3, "no retry loop: one LWA call per failed call");
    assert!(
        with_cached_token
            .as_ref()
            .is_err_and(|e| !e.is_retryable() && e.is_unauthorized())
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_unauthorized_with_lwas_code() {
    let t = TestWorld::with(
        SimConfig::default(),
        |mut config| {
            config.app.client_secret = "amzn1.oa2-cs.v1.rotated-away".into();
            config
        },
        |builder, _| builder,
    )
    .await;

    let result = t.client.tokens().access_token(&t.seller.refresh_token).await;

    assert!(
        matches!(&result, Err(Error::Unauthorized { code, .. }) if code == "invalid_client"),
        "{result:?}"
    );
    assert_eq!(t.lwa_calls(), 1);
}

#[tokio::test]
async fn an_lwa_server_error_is_retried() {
    let t = TestWorld::start().await;
    t.sim.fail_next(Operation::Token);

    let token = t.client.tokens().access_token(&t.seller.refresh_token).await;

    assert!(token.is_ok(), "{token:?}");
    assert_eq!(t.lwa_calls(), 2);
}
