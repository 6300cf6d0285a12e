//! The Ads API end to end: profiles, reporting v3 from request to rows, the
//! 425 duplicate, FAILED reports, long ranges, expired URLs, throttling and a
//! revoked grant.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use amzsync_amazon::ads::report_rows::{AdGroupRow, AdvertisedProductRow, TargetingRow};
use amzsync_amazon::ads::reporting::{AsyncReport, CreateReportRequest, ReportStatus, ReportType, Reporting};
use amzsync_amazon::ads::{Ads, AdsAccount};
use amzsync_amazon::lwa::{AccessToken, InProcessTokenCache, TokenCache as _};
use amzsync_amazon::sp::reports::{GetReportsRequest, ReportFilter};
use amzsync_amazon::throttle::{self, InProcessRateLimiter, UsagePlan};
use amzsync_amazon::{Clock as _, Error, Parsed};
use amzsync_amazon_sim::{AdsReportOutcome, AdsRow, Config as SimConfig, Operation};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use crate::harness::{DE, MYI, SELLER, TestWorld, US};

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, month, day).expect("a valid date")
}

fn cents(amount: Decimal) -> i64 {
    (amount * Decimal::from(100)).try_into().expect("whole cents")
}

fn count(n: u64) -> i64 {
    i64::try_from(n).expect("counts fit i64")
}

/// The seller's US profile.
async fn us_profile(ads: &Ads<'_>) -> i64 {
    ads.profiles()
        .await
        .expect("profiles are listed")
        .into_iter()
        .find(|p| p.marketplace_id() == US)
        .expect("the seller advertises in the US")
        .profile_id
}

/// Polls until the report is terminal (the simulator advances a report per poll).
async fn poll_until_terminal(reporting: &Reporting<'_>, report_id: &str) -> AsyncReport {
    for _ in 0..20 {
        let report = reporting
            .get_report(report_id)
            .await
            .expect("getAsyncReport succeeds");
        if report.status.is_terminal() {
            return report;
        }
    }
    panic!("Ads report {report_id} did not finish in 20 polls");
}

/// Requests a report, polls it to the end and returns it.
async fn completed(reporting: &Reporting<'_>, request: &CreateReportRequest) -> AsyncReport {
    let requested = reporting
        .create_report(request)
        .await
        .expect("createAsyncReport succeeds");
    assert!(!requested.reused);
    let report = poll_until_terminal(reporting, &requested.report_id).await;
    assert_eq!(report.status, ReportStatus::Completed);
    report
}

/// Downloads a report's rows, each expected to parse.
async fn rows<T: DeserializeOwned + Send + 'static>(
    reporting: &Reporting<'_>,
    report: &AsyncReport,
) -> Vec<T> {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&collected);
    let count = reporting
        .download_rows(report, move |row: Parsed<T>| match row {
            Parsed::Row(row) => sink.lock().expect("not poisoned").push(row),
            Parsed::Skipped(e) => panic!("the simulator's rows are well formed: {e}"),
        })
        .await
        .expect("the report downloads and parses");
    let rows = std::mem::take(&mut *collected.lock().expect("not poisoned"));
    assert_eq!(count, rows.len() as u64);
    rows
}

/// The ground truth of `days` at a grain.
fn truth(
    t: &TestWorld,
    profile_id: i64,
    days: impl IntoIterator<Item = NaiveDate>,
    of: fn(&amzsync_amazon_sim::Truth, i64, NaiveDate) -> Result<Vec<AdsRow>, amzsync_amazon_sim::Error>,
) -> Vec<AdsRow> {
    let truth = t.sim.truth();
    days.into_iter()
        .flat_map(|d| of(&truth, profile_id, d).expect("the profile exists"))
        .collect()
}

fn assert_advertised_products_match(rows: &[AdvertisedProductRow], expected: &[AdsRow]) {
    assert!(!expected.is_empty(), "the seeded store advertises");
    assert_eq!(rows.len(), expected.len());
    for (row, truth) in rows.iter().zip(expected) {
        assert_eq!(row.metrics.date, Some(truth.date));
        assert_eq!(row.campaign_id, truth.campaign_id);
        assert_eq!(Some(row.ad_group_id), truth.ad_group_id);
        assert_eq!(row.ad_id, truth.ad_id);
        assert_eq!(Some(&row.advertised_sku), truth.advertised_sku.as_ref());
        assert_eq!(row.advertised_asin, truth.advertised_asin);
        assert_eq!(row.metrics.impressions, count(truth.metrics.impressions));
        assert_eq!(row.metrics.clicks, count(truth.metrics.clicks));
        assert_eq!(cents(row.metrics.cost), truth.metrics.cost_cents);
        assert_eq!(row.metrics.purchases_7d, count(truth.metrics.d7.purchases));
        assert_eq!(
            row.metrics.units_sold_clicks_7d,
            count(truth.metrics.d7.units_sold)
        );
        assert_eq!(cents(row.metrics.sales_7d), truth.metrics.d7.sales_cents);
        assert_eq!(row.campaign_budget_currency_code.as_deref(), Some("USD"));
    }
}

#[tokio::test]
async fn profiles_list_each_marketplace_with_its_seller_and_16_digit_id() {
    let t = TestWorld::start().await;
    let account = t.ads_account();

    let profiles = t
        .client
        .ads(&account)
        .profiles()
        .await
        .expect("profiles are listed");

    let expected = t.sim.truth().ads_profiles(SELLER).expect("a known seller");
    assert_eq!(profiles.len(), 2);
    for (profile, truth) in profiles.iter().zip(&expected) {
        assert_eq!(profile.profile_id, truth.profile_id);
        assert_eq!(profile.country_code, truth.country_code);
        assert_eq!(profile.currency_code.as_deref(), Some(truth.currency_code));
        assert_eq!(profile.marketplace_id(), truth.marketplace_id);
        assert_eq!(profile.account_info.id, SELLER);
        assert!(profile.is_seller());
    }
    assert_eq!(profiles[0].marketplace_id(), US);
    assert_eq!(profiles[1].marketplace_id(), DE);
}

#[tokio::test]
async fn an_advertised_product_report_goes_from_request_to_rows_equal_to_the_ground_truth() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let profile_id = us_profile(&ads).await;
    let reporting = ads.reporting(profile_id);
    let request = CreateReportRequest::daily(ReportType::AdvertisedProduct, day(3, 20), day(3, 22));

    let report = completed(&reporting, &request).await;
    let rows: Vec<AdvertisedProductRow> = rows(&reporting, &report).await;

    let expected = truth(&t, profile_id, day(3, 20).iter_days().take(3), |truth, p, d| {
        truth.ads_advertised_product(p, d)
    });
    assert_advertised_products_match(&rows, &expected);
    assert!(report.answers(&request));
}

#[tokio::test]
async fn targeting_and_ad_group_reports_match_the_ground_truth() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let profile_id = us_profile(&ads).await;
    let reporting = ads.reporting(profile_id);
    let days = || day(3, 25).iter_days().take(2);

    let targeting = completed(
        &reporting,
        &CreateReportRequest::daily(ReportType::Targeting, day(3, 25), day(3, 26)),
    )
    .await;
    let targets: Vec<TargetingRow> = rows(&reporting, &targeting).await;
    let ad_group_report = completed(
        &reporting,
        &CreateReportRequest::daily(ReportType::AdGroups, day(3, 25), day(3, 26)),
    )
    .await;
    let ad_groups: Vec<AdGroupRow> = rows(&reporting, &ad_group_report).await;

    let expected = truth(&t, profile_id, days(), |truth, p, d| truth.ads_targeting(p, d));
    assert!(!expected.is_empty());
    assert_eq!(targets.len(), expected.len());
    for (row, truth) in targets.iter().zip(&expected) {
        assert_eq!(row.metrics.date, Some(truth.date));
        assert_eq!(
            (row.campaign_id, Some(row.ad_group_id)),
            (truth.campaign_id, truth.ad_group_id)
        );
        assert_eq!(Some(row.keyword_id), truth.keyword_id);
        assert_eq!(row.keyword, truth.keyword);
        assert_eq!(row.keyword_type.as_deref(), truth.keyword_type);
        assert_eq!(row.match_type.as_deref(), truth.match_type);
        assert_eq!(row.targeting, truth.targeting);
        assert_eq!(row.metrics.clicks, count(truth.metrics.clicks));
        assert_eq!(cents(row.metrics.cost), truth.metrics.cost_cents);
        assert_eq!(cents(row.metrics.sales_7d), truth.metrics.d7.sales_cents);
    }
    let expected = truth(&t, profile_id, days(), |truth, p, d| truth.ads_ad_groups(p, d));
    assert!(!expected.is_empty());
    assert_eq!(ad_groups.len(), expected.len());
    for (row, truth) in ad_groups.iter().zip(&expected) {
        assert_eq!(row.metrics.date, Some(truth.date));
        assert_eq!(
            (row.campaign_id, Some(row.ad_group_id)),
            (truth.campaign_id, truth.ad_group_id)
        );
        assert_eq!(row.ad_group_name, truth.ad_group_name);
        assert_eq!(row.ad_status.as_deref(), truth.ad_group_status);
        assert_eq!(row.metrics.impressions, count(truth.metrics.impressions));
        assert_eq!(row.metrics.purchases_7d, count(truth.metrics.d7.purchases));
    }
}

#[tokio::test]
async fn an_identical_request_while_the_first_is_pending_reuses_the_report_amazon_names() {
    let t = TestWorld::start().await;
    t.sim.set_ads_report_polls(6);
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let reporting = ads.reporting(us_profile(&ads).await);
    let request = CreateReportRequest::daily(ReportType::AdvertisedProduct, day(3, 20), day(3, 20));
    let first = reporting.create_report(&request).await.expect("created");

    let again = reporting
        .create_report(&request)
        .await
        .expect("the duplicate is resolved");

    assert!(!first.reused);
    assert_eq!(
        (again.report_id.as_str(), again.reused),
        (first.report_id.as_str(), true)
    );
    // The second create was answered 425: Amazon made no second report.
    let creates = t.sim.stats(SELLER, Operation::CreateAsyncReport);
    assert_eq!(creates.calls, 2);
    let report = reporting.get_report(&first.report_id).await.expect("found");
    assert!(report.answers(&request));
}

#[tokio::test]
async fn a_failed_report_is_a_fatal_error_with_amazons_reason() {
    let t = TestWorld::start().await;
    t.sim.force_next_ads_report(AdsReportOutcome::Failed);
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let reporting = ads.reporting(us_profile(&ads).await);
    let requested = reporting
        .create_report(&CreateReportRequest::daily(
            ReportType::Campaigns,
            day(3, 20),
            day(3, 20),
        ))
        .await
        .expect("created");

    let report = poll_until_terminal(&reporting, &requested.report_id).await;
    let ready = reporting.ready(&report);

    assert_eq!(report.status, ReportStatus::Failed);
    match ready {
        Err(Error::ReportFatal {
            report_id,
            error_document: Some(reason),
        }) => {
            assert_eq!(report_id, requested.report_id);
            assert!(reason.contains("failed"), "{reason}");
        }
        other => panic!("expected a FAILED report to be fatal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_60_day_range_is_split_into_two_reports_that_cover_it_exactly() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let profile_id = us_profile(&ads).await;
    let reporting = ads.reporting(profile_id);
    let (start, end) = (day(2, 15), day(4, 14));
    let whole = CreateReportRequest::daily(ReportType::AdvertisedProduct, start, end);
    let refused = reporting.create_report(&whole).await;
    assert!(
        matches!(&refused, Err(Error::InvalidInput { message }) if message.contains("31 days")),
        "{refused:?}"
    );

    let windows = whole.windows();
    let mut all: Vec<AdvertisedProductRow> = Vec::new();
    for window in &windows {
        let report = completed(&reporting, window).await;
        all.extend(rows::<AdvertisedProductRow>(&reporting, &report).await);
    }

    assert_eq!(windows.len(), 2);
    assert_eq!((windows[0].start_date, windows[1].end_date), (start, end));
    assert_eq!(windows[0].end_date.succ_opt(), Some(windows[1].start_date));
    let expected = truth(&t, profile_id, start.iter_days().take(60), |truth, p, d| {
        truth.ads_advertised_product(p, d)
    });
    assert_advertised_products_match(&all, &expected);
    // The refused 60-day request and one per window.
    assert_eq!(t.sim.stats(SELLER, Operation::CreateAsyncReport).calls, 3);
}

#[tokio::test]
async fn an_expired_download_url_is_replaced_by_polling_the_report_again() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let profile_id = us_profile(&ads).await;
    let reporting = ads.reporting(profile_id);
    let report = completed(
        &reporting,
        &CreateReportRequest::daily(ReportType::AdvertisedProduct, day(3, 20), day(3, 20)),
    )
    .await;
    let polls = t.sim.stats(SELLER, Operation::GetAsyncReport).calls;
    // Ads URLs live an hour after the poll that minted them.
    t.clock.advance(Duration::from_secs(3600));

    let rows: Vec<AdvertisedProductRow> = rows(&reporting, &report).await;

    let expected = truth(&t, profile_id, [day(3, 20)], |truth, p, d| {
        truth.ads_advertised_product(p, d)
    });
    assert_advertised_products_match(&rows, &expected);
    assert_eq!(t.sim.stats(SELLER, Operation::GetAsyncReport).calls, polls + 1);
}

#[tokio::test]
async fn an_ads_429_waits_as_long_as_its_retry_after_says() {
    // Amazon allows two polls and then one every ten seconds; the client is
    // configured far more generously, so only the 429 can slow it down.
    let t = TestWorld::with(
        SimConfig {
            ads_rate: 0.1,
            ads_burst: 2,
            ..SimConfig::default()
        },
        |config| config,
        |builder, clock| {
            builder.rate_limiter(Arc::new(InProcessRateLimiter::new(clock).with_plan(
                throttle::Operation::GetAsyncReport,
                UsagePlan {
                    rate: 100.0,
                    burst: 100,
                },
            )))
        },
    )
    .await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let reporting = ads.reporting(us_profile(&ads).await);
    let requested = reporting
        .create_report(&CreateReportRequest::daily(
            ReportType::Targeting,
            day(3, 20),
            day(3, 20),
        ))
        .await
        .expect("created");
    let slept_before = t.clock.slept();

    let report = poll_until_terminal(&reporting, &requested.report_id).await;

    assert_eq!(report.status, ReportStatus::Completed);
    let polls = t.sim.stats(SELLER, Operation::GetAsyncReport);
    assert_eq!((polls.calls, polls.throttled), (4, 1));
    // Retry-After said 10 s: exactly that, not a shorter backoff.
    assert_eq!(t.clock.slept() - slept_before, Duration::from_secs(10));
}

#[tokio::test]
async fn a_revoked_ads_grant_is_unauthorized_without_a_retry_loop() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    ads.profiles().await.expect("profiles are listed");
    t.sim.revoke_grant(&t.credentials.ads_refresh_token);

    let result = ads.profiles().await;

    assert!(matches!(&result, Err(e) if e.is_unauthorized()), "{result:?}");
    assert!(result.is_err_and(|e| !e.is_retryable()));
    // One token, then one refresh after the 401, which LWA refused for good.
    assert_eq!(t.lwa_calls(), 2);
}

#[tokio::test]
async fn the_ads_grant_gets_tokens_of_its_own_next_to_the_sp_api_grant() {
    let t = TestWorld::start().await;
    let account = t.ads_account();
    let wrong = AdsAccount::new(t.credentials.refresh_token.clone());

    let profiles = t.client.ads(&account).profiles().await;
    let with_sp_grant = t.client.ads(&wrong).profiles().await;
    let reports = t
        .reports()
        .get_reports(&GetReportsRequest::Filter(ReportFilter {
            report_types: vec![MYI.into()],
            ..ReportFilter::default()
        }))
        .await;

    assert!(profiles.is_ok(), "{profiles:?}");
    // An SP-API token is refused by the Ads API even after a refresh.
    assert!(
        matches!(&with_sp_grant, Err(Error::Forbidden { .. })),
        "{with_sp_grant:?}"
    );
    assert!(reports.is_ok(), "{reports:?}");
    // One token per grant.
    assert_eq!(t.lwa_calls(), 3);
}

#[tokio::test]
async fn a_pending_report_can_be_deleted() {
    let t = TestWorld::start().await;
    t.sim.set_ads_report_polls(4);
    let account = t.ads_account();
    let ads = t.client.ads(&account);
    let reporting = ads.reporting(us_profile(&ads).await);
    let requested = reporting
        .create_report(&CreateReportRequest::daily(
            ReportType::SearchTerm,
            day(3, 20),
            day(3, 20),
        ))
        .await
        .expect("created");

    reporting
        .delete_report(&requested.report_id)
        .await
        .expect("deleteAsyncReport succeeds");

    let gone = reporting.get_report(&requested.report_id).await;
    assert!(matches!(gone, Err(Error::NotFound)), "{gone:?}");
}

#[tokio::test]
async fn an_ads_401_refreshes_the_token_once_and_the_call_succeeds() {
    let cache = Arc::new(InProcessTokenCache::new());
    let shared = Arc::clone(&cache);
    let t = TestWorld::with(
        SimConfig::default(),
        |config| config,
        move |builder, _| builder.token_cache(shared),
    )
    .await;
    let account = t.ads_account();
    // A token the cache believes in but Amazon does not know (revoked, or
    // minted before a restart of Amazon's side).
    let key = t.client.tokens().key(&account.refresh_token);
    let far = t.clock.now() + chrono::Duration::hours(1);
    cache
        .put(&key, AccessToken::new("Atza|unknown".to_owned().into(), far))
        .await;

    let profiles = t.client.ads(&account).profiles().await;

    assert!(profiles.is_ok_and(|p| p.len() == 2));
    assert_eq!(t.lwa_calls(), 1);
}
