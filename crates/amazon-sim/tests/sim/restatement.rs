//! Restatement (PROTOCOL.md §4.4.4, §5.8): recent days change on a later pull and
//! are final after their window; documents hold the figures of their generation.

use std::time::Duration;

use amzsync_amazon_sim::{AdsMetrics, AdsRow, Config, Seller, Simulator};
use chrono::NaiveDate;
use serde_json::Value;

use crate::harness::{SELLER, TestSim, US, ads_request, sales_request};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Requests, polls and downloads a one-day sales and traffic report with a fresh
/// token (the clock may have moved past the last one's expiry).
async fn pull_sales(t: &TestSim, day: &str) -> Value {
    let token = t.access_token().await;
    let id = t.create(&token, &sales_request(US, day)).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    let (_, _, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_two_day_old_day_changes_on_a_pull_five_days_later_but_a_ten_day_old_day_does_not() {
    let t = TestSim::start().await; // now: 2024-05-02
    let (recent, old) = ("2024-04-30", "2024-04-22");
    let recent_then = pull_sales(&t, recent).await;
    let old_then = pull_sales(&t, old).await;
    let truth_then = t.sim.truth().sales_and_traffic(SELLER, US, date(recent)).unwrap();

    t.sim.advance(5 * DAY);
    let recent_now = pull_sales(&t, recent).await;
    let old_now = pull_sales(&t, old).await;
    let truth_now = t.sim.truth().sales_and_traffic(SELLER, US, date(recent)).unwrap();

    assert_ne!(
        recent_then["salesAndTrafficByDate"],
        recent_now["salesAndTrafficByDate"]
    );
    assert_ne!(
        recent_then["salesAndTrafficByAsin"],
        recent_now["salesAndTrafficByAsin"]
    );
    assert_eq!(
        old_then["salesAndTrafficByDate"],
        old_now["salesAndTrafficByDate"]
    );
    assert_eq!(
        old_then["salesAndTrafficByAsin"],
        old_now["salesAndTrafficByAsin"]
    );
    // Each pull is the truth of its time, and figures only grow as they settle.
    assert_ne!(truth_then, truth_now);
    assert_eq!(
        recent_then["salesAndTrafficByDate"][0]["salesByDate"]["unitsOrdered"],
        truth_then.totals.units_ordered
    );
    assert_eq!(
        recent_now["salesAndTrafficByDate"][0]["salesByDate"]["unitsOrdered"],
        truth_now.totals.units_ordered
    );
    assert!(truth_then.totals.units_ordered <= truth_now.totals.units_ordered);
    assert!(truth_then.totals.browser_sessions < truth_now.totals.browser_sessions);
}

#[tokio::test]
async fn the_truth_as_of_an_earlier_instant_is_what_a_pull_then_contained() {
    let t = TestSim::start().await;
    let then = t.sim.now();
    let day = date("2024-05-01");
    let before = t.sim.truth().sales_and_traffic(SELLER, US, day).unwrap();

    t.sim.advance(3 * DAY);

    let truth = t.sim.truth();
    assert_eq!(
        truth.as_of(then).sales_and_traffic(SELLER, US, day).unwrap(),
        before
    );
    assert_ne!(truth.sales_and_traffic(SELLER, US, day).unwrap(), before);
    // After the window every instant agrees.
    let settled = truth.as_of(then + chrono::Duration::days(8));
    let later = truth.as_of(then + chrono::Duration::days(40));
    assert_eq!(
        settled.sales_and_traffic(SELLER, US, day).unwrap(),
        later.sales_and_traffic(SELLER, US, day).unwrap()
    );
}

#[tokio::test]
async fn restatement_can_be_turned_off() {
    let sim = Simulator::start_local(Config {
        restatement_days: 0,
        ads_restatement: false,
        ..Config::default()
    })
    .await
    .unwrap();
    sim.add_seller(Seller::new(SELLER).marketplace(US, 12)).unwrap();
    let day = date("2024-05-01");
    let profile = sim.truth().ads_profiles(SELLER).unwrap()[0].profile_id;
    let sales = sim.truth().sales_and_traffic(SELLER, US, day).unwrap();
    let ads = sim.truth().ads_campaigns(profile, day).unwrap();

    sim.advance(40 * DAY);

    assert_eq!(sim.truth().sales_and_traffic(SELLER, US, day).unwrap(), sales);
    assert_eq!(sim.truth().ads_campaigns(profile, day).unwrap(), ads);
}

fn purchases(rows: &[AdsRow], window: fn(&AdsMetrics) -> u64) -> u64 {
    rows.iter().map(|r| window(&r.metrics)).sum()
}

#[tokio::test]
async fn ads_conversions_grow_after_the_click_and_each_window_is_final_after_its_days() {
    let t = TestSim::start().await;
    let profile = t.sim.truth().ads_profiles(SELLER).unwrap()[0].profile_id;
    let truth = t.sim.truth();
    let day = date("2024-04-20");
    let at = |days: i64| {
        truth
            .as_of(day.and_hms_opt(12, 0, 0).unwrap().and_utc() + chrono::Duration::days(days))
            .ads_campaigns(profile, day)
            .unwrap()
    };
    let (d0, d3, d7, d20, d30, d60) = (at(0), at(3), at(7), at(20), at(30), at(60));

    let p1 = |m: &AdsMetrics| m.d1.purchases;
    let p7 = |m: &AdsMetrics| m.d7.purchases;
    let p14 = |m: &AdsMetrics| m.d14.purchases;
    let p30 = |m: &AdsMetrics| m.d30.purchases;
    assert!(
        purchases(&d0, p1) < purchases(&d3, p1),
        "day-0 figures are partial"
    );
    assert_eq!(
        purchases(&d7, p7),
        purchases(&d60, p7),
        "7d is final after 7 days"
    );
    assert!(
        purchases(&d7, p14) < purchases(&d20, p14),
        "14d grows in its second week"
    );
    assert_eq!(
        purchases(&d20, p14),
        purchases(&d60, p14),
        "14d is final after 14 days"
    );
    assert!(
        purchases(&d20, p30) < purchases(&d30, p30),
        "30d grows until day 30"
    );
    assert_eq!(d30, d60, "everything is final after 30 days");
    // Clicks and cost do not restate.
    let clicks = |rows: &[AdsRow]| rows.iter().map(|r| r.metrics.clicks).sum::<u64>();
    assert_eq!(clicks(&d0), clicks(&d60));
}

#[tokio::test]
async fn an_ads_report_pulled_a_month_later_shows_more_thirty_day_purchases_for_a_recent_day() {
    let t = TestSim::start().await; // now: 2024-05-02
    let columns = ["date", "campaignId", "clicks", "purchases30d", "sales30d"];
    let body = ads_request(
        "spCampaigns",
        &["campaign"],
        &columns,
        "DAILY",
        "2024-04-30",
        "2024-04-30",
    );
    let total = |rows: &[Value], key: &str| rows.iter().map(|r| r[key].as_f64().unwrap()).sum::<f64>();

    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let (_, report) = t.ads_run(&token, profile, &body).await;
    let (_, before) = t.ads_download(&report).await;

    t.sim.advance(30 * DAY);
    let token = t.ads_access_token().await;
    let (_, report) = t.ads_run(&token, profile, &body).await;
    let (_, after) = t.ads_download(&report).await;

    assert_eq!(total(&before, "clicks"), total(&after, "clicks"));
    assert!(total(&before, "purchases30d") < total(&after, "purchases30d"));
    let final_rows = t.sim.truth().ads_campaigns(profile, date("2024-04-30")).unwrap();
    assert_eq!(
        total(&after, "purchases30d") as u64,
        final_rows.iter().map(|r| r.metrics.d30.purchases).sum::<u64>()
    );
}
