//! Rate limits: the client keeps within Amazon's usage plans, survives 429
//! storms, returns long waits to the caller and follows the rate Amazon
//! announces.

use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::Error;
use amzsync_amazon::sp::reports::{CreateReportSpecification, GetReportsRequest, ReportFilter};
use amzsync_amazon::throttle::{self, InProcessRateLimiter, LimitKey, UsagePlan};
use amzsync_amazon_sim::{Config as SimConfig, Operation};

use crate::harness::{MYI, SELLER, TestWorld, US};

fn any_myi() -> GetReportsRequest {
    GetReportsRequest::Filter(ReportFilter {
        report_types: vec![MYI.into()],
        ..ReportFilter::default()
    })
}

#[tokio::test]
async fn a_429_storm_completes_without_ever_exceeding_the_usage_plan() {
    let t = TestWorld::start().await;
    assert!(t.sim.config().enforce_usage_plans);
    let spec = CreateReportSpecification::new(MYI, [US]);
    t.sim.throttle(Operation::CreateReport, 3);
    t.sim.throttle(Operation::GetReport, 4);

    // Twenty creates against a burst of 15 and one token a minute after it.
    let mut report_ids = Vec::new();
    for _ in 0..20 {
        report_ids.push(
            t.reports()
                .create_report(&spec)
                .await
                .expect("createReport succeeds"),
        );
    }
    let report = t.reports().get_report(&report_ids[0]).await;

    assert!(report.is_ok(), "{report:?}");
    let creates = t.sim.stats(SELLER, Operation::CreateReport);
    assert_eq!((creates.calls, creates.throttled, creates.violations), (23, 3, 0));
    let gets = t.sim.stats(SELLER, Operation::GetReport);
    assert_eq!((gets.calls, gets.throttled, gets.violations), (5, 4, 0));
    // The five creates beyond the burst each waited about a minute.
    assert!(
        t.clock.slept() >= Duration::from_secs(5 * 59),
        "{:?}",
        t.clock.slept()
    );
}

#[tokio::test]
async fn throttling_beyond_the_retry_budget_is_returned_as_throttled() {
    let t = TestWorld::start().await;
    t.sim.throttle(Operation::GetReports, 10);

    let result = t.reports().get_reports(&any_myi()).await;

    assert!(matches!(result, Err(Error::Throttled { .. })), "{result:?}");
    assert!(result.is_err_and(|e| e.is_retryable()));
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).calls, 5);
}

#[tokio::test]
async fn a_permit_wait_beyond_the_threshold_is_returned_as_paced_instead_of_slept() {
    let t = TestWorld::with(
        SimConfig::default(),
        |mut config| {
            config.max_permit_wait = Duration::from_secs(10);
            config
        },
        |builder, _| builder,
    )
    .await;
    for _ in 0..10 {
        t.reports()
            .get_reports(&any_myi())
            .await
            .expect("within the burst of 10");
    }

    let result = t.reports().get_reports(&any_myi()).await;

    // getReports refills at 0.0222/s: the next permit is ~46 s away.
    assert!(matches!(result, Err(Error::Paced { .. })), "{result:?}");
    let retry_after = result.as_ref().err().and_then(Error::retry_after);
    assert!(
        retry_after.is_some_and(|wait| wait > Duration::from_secs(40) && wait < Duration::from_secs(50)),
        "{result:?}"
    );
    assert_eq!(t.clock.slept(), Duration::ZERO);
    assert_eq!(t.sim.stats(SELLER, Operation::GetReports).calls, 10);
}

#[tokio::test]
async fn the_rate_amazon_announces_replaces_the_configured_one() {
    // Start far more cautious than Amazon's plan for getReport (2/s, burst 15).
    let mut limiter = None;
    let t = TestWorld::with(
        SimConfig::default(),
        |config| config,
        |builder, clock| {
            let cautious = Arc::new(
                InProcessRateLimiter::new(clock)
                    .with_plan(throttle::Operation::GetReport, UsagePlan { rate: 0.1, burst: 1 }),
            );
            limiter = Some(Arc::clone(&cautious));
            builder.rate_limiter(cautious)
        },
    )
    .await;
    let limiter = limiter.expect("the world built its client");
    let report_id = t
        .reports()
        .create_report(&CreateReportSpecification::new(MYI, [US]))
        .await
        .expect("createReport succeeds");
    let key = LimitKey {
        seller_id: SELLER.into(),
        operation: throttle::Operation::GetReport,
    };
    assert_eq!(limiter.plan(&key).rate, 0.1);

    for _ in 0..5 {
        t.reports()
            .get_report(&report_id)
            .await
            .expect("getReport succeeds");
    }

    // After the first answer (`x-amzn-RateLimit-Limit: 2.0`) the calls are half
    // a second apart, not ten seconds.
    assert_eq!(limiter.plan(&key).rate, 2.0);
    assert!(t.clock.slept() < Duration::from_secs(5), "{:?}", t.clock.slept());
    assert_eq!(t.sim.stats(SELLER, Operation::GetReport).violations, 0);
}
