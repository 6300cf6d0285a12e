//! Ads API: profiles, reporting v3 lifecycle, documents and their agreement with
//! the ground truth, errors, usage plans and faults (PROTOCOL.md §5).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use amzsync_amazon_sim::{AdsReportOutcome, AdsRow, Config, Operation, Seller};
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{DE, SELLER, TestSim, US, ads_request, example};

const ADVERTISED_COLUMNS: &[&str] = &[
    "date",
    "campaignId",
    "campaignName",
    "adGroupId",
    "adGroupName",
    "adId",
    "advertisedAsin",
    "advertisedSku",
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "unitsSoldClicks7d",
    "sales7d",
    "sales14d",
];

fn advertised_product(start: &str, end: &str) -> Value {
    ads_request(
        "spAdvertisedProduct",
        &["advertiser"],
        ADVERTISED_COLUMNS,
        "DAILY",
        start,
        end,
    )
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

fn cents(v: &Value) -> i64 {
    let amount = v.as_f64().expect("money is a JSON number");
    let cents = (amount * 100.0).round();
    assert!(
        (amount * 100.0 - cents).abs() < 1e-6,
        "{amount} has more than two decimals"
    );
    cents as i64
}

#[tokio::test]
async fn profiles_are_a_top_level_array_with_one_seller_profile_per_marketplace() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;

    let profiles = t.ads_profiles(&token).await;

    let expected = t.sim.truth().ads_profiles(SELLER).unwrap();
    assert_eq!(profiles.len(), 2);
    assert_eq!(profiles.len(), expected.len());
    let template = &example("ads_profiles.json")[0];
    for (profile, truth) in profiles.iter().zip(&expected) {
        assert_eq!(keys(profile), keys(template));
        assert_eq!(keys(&profile["accountInfo"]), keys(&template["accountInfo"]));
        assert!(profile["profileId"].is_i64(), "a 64-bit integer, not a string");
        assert_eq!(profile["profileId"].as_i64(), Some(truth.profile_id));
        assert_eq!(profile["accountInfo"]["id"], SELLER);
        assert_eq!(profile["accountInfo"]["type"], "seller");
        assert_eq!(
            profile["accountInfo"]["marketplaceStringId"],
            truth.marketplace_id.as_str()
        );
        assert_eq!(profile["currencyCode"], truth.currency_code);
    }
    assert_eq!(profiles[0]["accountInfo"]["marketplaceStringId"], US);
    assert_eq!(profiles[0]["countryCode"], "US");
    assert_eq!(profiles[1]["accountInfo"]["marketplaceStringId"], DE);
    assert_eq!(profiles[1]["currencyCode"], "EUR");
}

#[tokio::test]
async fn ads_calls_need_an_ads_token_the_client_id_and_a_scope_the_store_owns() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let sp_token = t.access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let other = t
        .sim
        .add_seller(Seller::new("A2OTHERSELLER").marketplace(US, 3))
        .unwrap();
    let other_profile = t.sim.truth().ads_profiles(&other.seller_id).unwrap()[0].profile_id;
    let path = "reporting/reports/00000000-0000-4000-8000-000000000000";

    let without_client_id = t
        .http
        .get(t.url("v2/profiles"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let sp_token_on_ads = t
        .ads(Method::GET, &sp_token, "v2/profiles", None)
        .send()
        .await
        .unwrap();
    let without_scope = t.ads(Method::GET, &token, path, None).send().await.unwrap();
    let unknown_scope = t.ads(Method::GET, &token, path, Some(42)).send().await.unwrap();
    let foreign_scope = t
        .ads(Method::GET, &token, path, Some(other_profile))
        .send()
        .await
        .unwrap();
    let unknown_report = t
        .ads(Method::GET, &token, path, Some(profile))
        .send()
        .await
        .unwrap();

    assert_eq!(without_client_id.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sp_token_on_ads.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        sp_token_on_ads.json::<Value>().await.unwrap()["code"],
        "UNAUTHORIZED"
    );
    assert_eq!(without_scope.status(), StatusCode::BAD_REQUEST);
    assert_eq!(unknown_scope.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown_scope.json::<Value>().await.unwrap(),
        json!({ "code": "400", "detail": "Invalid Advertiser or Marketplace ID." })
    );
    assert_eq!(foreign_scope.status(), StatusCode::FORBIDDEN);
    assert_eq!(unknown_report.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown_report.json::<Value>().await.unwrap()["code"], "404");
}

#[tokio::test]
async fn an_advertised_product_report_goes_from_pending_to_completed_and_its_rows_are_the_ground_truth() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;

    let created = t
        .ads_create(&token, profile, &advertised_product("2024-04-25", "2024-04-27"))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "PENDING");
    assert_eq!(keys(&created), keys(&example("ads_report_pending.json")));
    assert_eq!(created["configuration"]["filters"], Value::Null);
    let id = created["reportId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let mut statuses = Vec::new();
    let mut report = created;
    while !matches!(report["status"].as_str(), Some("COMPLETED" | "FAILED")) {
        report = t.ads_get(&token, profile, &id).await;
        statuses.push(report["status"].as_str().unwrap().to_owned());
    }

    assert_eq!(statuses, ["PENDING", "PROCESSING", "COMPLETED"]);
    assert_eq!(keys(&report), keys(&example("ads_report_completed.json")));
    assert!(report["generatedAt"].as_str().unwrap().ends_with('Z'));
    assert!(report["url"].as_str().unwrap().contains("X-Amz-Expires=3599"));
    let (size, rows) = t.ads_download(&report).await;
    assert_eq!(report["fileSize"].as_u64(), Some(size as u64));
    let mut expected: Vec<AdsRow> = Vec::new();
    for day in 25..=27 {
        let date = NaiveDate::from_ymd_opt(2024, 4, day).unwrap();
        expected.extend(t.sim.truth().ads_advertised_product(profile, date).unwrap());
    }
    assert!(!expected.is_empty(), "the seeded store advertises");
    assert_eq!(rows.len(), expected.len());
    for (row, truth) in rows.iter().zip(&expected) {
        let mut columns = keys(row);
        let mut requested: Vec<String> = ADVERTISED_COLUMNS.iter().map(|c| c.to_string()).collect();
        columns.sort();
        requested.sort();
        assert_eq!(columns, requested, "exactly the requested columns");
        assert_eq!(row["date"], truth.date.to_string());
        assert_eq!(row["campaignId"].as_i64(), Some(truth.campaign_id));
        assert_eq!(row["adGroupId"].as_i64(), truth.ad_group_id);
        assert_eq!(row["adId"].as_i64(), truth.ad_id);
        assert_eq!(row["advertisedSku"].as_str(), truth.advertised_sku.as_deref());
        assert_eq!(row["advertisedAsin"].as_str(), truth.advertised_asin.as_deref());
        assert_eq!(row["impressions"], truth.metrics.impressions);
        assert_eq!(row["clicks"], truth.metrics.clicks);
        assert_eq!(cents(&row["cost"]), truth.metrics.cost_cents);
        assert_eq!(row["purchases7d"], truth.metrics.d7.purchases);
        assert_eq!(row["unitsSoldClicks7d"], truth.metrics.d7.units_sold);
        assert_eq!(cents(&row["sales7d"]), truth.metrics.d7.sales_cents);
        assert_eq!(cents(&row["sales14d"]), truth.metrics.d14.sales_cents);
    }
    let skus: Vec<String> = t
        .sim
        .truth()
        .products(SELLER, US)
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert!(
        expected
            .iter()
            .all(|r| skus.contains(r.advertised_sku.as_ref().unwrap()))
    );
}

/// Sums of a report's rows per key column: (clicks, cost, purchases7d, sales7d,
/// impressions).
fn sums_by(rows: &[Value], key: &str) -> BTreeMap<i64, [i64; 5]> {
    let mut sums = BTreeMap::new();
    for row in rows {
        let entry: &mut [i64; 5] = sums.entry(row[key].as_i64().unwrap()).or_default();
        entry[0] += row["clicks"].as_i64().unwrap();
        entry[1] += cents(&row["cost"]);
        entry[2] += row["purchases7d"].as_i64().unwrap();
        entry[3] += cents(&row["sales7d"]);
        entry[4] += row["impressions"].as_i64().unwrap();
    }
    sums
}

#[tokio::test]
async fn the_four_report_types_are_consistent_sums_of_the_same_facts() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    t.sim.set_ads_report_polls(0);
    let metrics = ["impressions", "clicks", "cost", "purchases7d", "sales7d"];
    let with = |dimensions: &[&'static str]| -> Vec<&'static str> {
        dimensions.iter().chain(&metrics).copied().collect()
    };
    let (start, end) = ("2024-04-20", "2024-04-26");
    let requests = [
        ads_request(
            "spCampaigns",
            &["campaign"],
            &with(&["startDate", "endDate", "campaignId"]),
            "SUMMARY",
            start,
            end,
        ),
        ads_request(
            "spCampaigns",
            &["campaign", "adGroup"],
            &with(&["startDate", "campaignId", "adGroupId"]),
            "SUMMARY",
            start,
            end,
        ),
        ads_request(
            "spAdvertisedProduct",
            &["advertiser"],
            &with(&["endDate", "campaignId", "adId"]),
            "SUMMARY",
            start,
            end,
        ),
        ads_request(
            "spTargeting",
            &["targeting"],
            &with(&["campaignId", "keywordId", "keywordType"]),
            "SUMMARY",
            start,
            end,
        ),
        ads_request(
            "spSearchTerm",
            &["searchTerm"],
            &with(&["campaignId", "keywordId", "searchTerm"]),
            "SUMMARY",
            start,
            end,
        ),
    ];

    let mut reports = Vec::new();
    for request in &requests {
        let (statuses, report) = t.ads_run(&token, profile, request).await;
        assert!(statuses.is_empty(), "zero polls: COMPLETED at creation");
        assert_eq!(report["status"], "COMPLETED");
        reports.push(t.ads_download(&report).await.1);
    }

    let [campaigns, ad_groups, advertised, targeting, search_terms] = &reports[..] else {
        unreachable!("five requests");
    };
    assert!(
        campaigns
            .iter()
            .all(|r| r["startDate"] == start && r["endDate"] == end)
    );
    assert!(campaigns.iter().all(|r| r.get("date").is_none()));
    let by_campaign = sums_by(campaigns, "campaignId");
    assert!(!by_campaign.is_empty());
    assert_eq!(sums_by(ad_groups, "campaignId"), by_campaign);
    assert_eq!(sums_by(advertised, "campaignId"), by_campaign);
    assert_eq!(sums_by(targeting, "campaignId"), by_campaign);
    // Search terms keep only impressions that led to a click: equal money and
    // clicks, fewer impressions.
    let terms = sums_by(search_terms, "campaignId");
    assert_eq!(
        terms.keys().collect::<Vec<_>>(),
        by_campaign.keys().collect::<Vec<_>>()
    );
    for (campaign, sums) in &terms {
        assert_eq!(sums[..4], by_campaign[campaign][..4]);
        assert!(sums[4] <= by_campaign[campaign][4]);
    }
    assert!(search_terms.iter().all(|r| r["clicks"].as_i64().unwrap() > 0));
    // The ground truth agrees with the SUMMARY: the days' campaign rows add up.
    let mut truth: HashMap<i64, i64> = HashMap::new();
    for day in 20..=26 {
        let date = NaiveDate::from_ymd_opt(2024, 4, day).unwrap();
        for row in t.sim.truth().ads_campaigns(profile, date).unwrap() {
            *truth.entry(row.campaign_id).or_default() += row.metrics.cost_cents;
        }
    }
    for (campaign, sums) in &by_campaign {
        assert_eq!(truth[campaign], sums[1]);
    }
}

#[tokio::test]
async fn an_identical_request_while_one_is_pending_is_a_425_naming_it() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let request = advertised_product("2024-04-25", "2024-04-25");
    let first: Value = t
        .ads_create(&token, profile, &request)
        .await
        .json()
        .await
        .unwrap();
    let first_id = first["reportId"].as_str().unwrap();

    let duplicate = t.ads_create(&token, profile, &request).await;
    let other_day = t
        .ads_create(&token, profile, &advertised_product("2024-04-24", "2024-04-24"))
        .await;

    assert_eq!(duplicate.status().as_u16(), 425);
    let body: Value = duplicate.json().await.unwrap();
    assert_eq!(keys(&body), keys(&example("ads_error_425_duplicate.json")));
    assert_eq!(
        body["detail"],
        format!("The Request is a duplicate of : {first_id}")
    );
    assert_eq!(other_day.status(), StatusCode::OK);
    // Once the first one is finished, the same request makes a new report.
    while t.ads_get(&token, profile, first_id).await["status"] != "COMPLETED" {}
    assert_eq!(
        t.ads_create(&token, profile, &request).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_range_over_31_days_and_dates_past_retention_are_400() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let search_terms = |start: &str, end: &str| {
        ads_request(
            "spSearchTerm",
            &["searchTerm"],
            &["date", "searchTerm", "clicks"],
            "DAILY",
            start,
            end,
        )
    };

    // Today is 2024-05-02: 32 days, 96 days back, and 70 days back.
    let too_long = t
        .ads_create(&token, profile, &advertised_product("2024-03-31", "2024-05-01"))
        .await;
    let too_old = t
        .ads_create(&token, profile, &advertised_product("2024-01-27", "2024-01-28"))
        .await;
    let old_products = t
        .ads_create(&token, profile, &advertised_product("2024-02-22", "2024-02-22"))
        .await;
    let old_terms = t
        .ads_create(&token, profile, &search_terms("2024-02-22", "2024-02-22"))
        .await;
    let recent_terms = t
        .ads_create(&token, profile, &search_terms("2024-04-22", "2024-04-22"))
        .await;

    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        too_long.json::<Value>().await.unwrap(),
        example("ads_error_400_range.json")
    );
    assert_eq!(too_old.status(), StatusCode::BAD_REQUEST);
    assert_eq!(too_old.json::<Value>().await.unwrap()["code"], "400");
    assert_eq!(old_products.status(), StatusCode::OK, "95 days for product ads");
    assert_eq!(
        old_terms.status(),
        StatusCode::BAD_REQUEST,
        "65 days for search terms"
    );
    assert_eq!(recent_terms.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_configuration_the_report_type_does_not_take_is_refused() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let day = "2024-04-25";

    let wrong_group = t
        .ads_create(
            &token,
            profile,
            &ads_request(
                "spTargeting",
                &["campaign"],
                &["date", "clicks"],
                "DAILY",
                day,
                day,
            ),
        )
        .await;
    let wrong_column = t
        .ads_create(
            &token,
            profile,
            &ads_request(
                "spCampaigns",
                &["campaign"],
                &["date", "advertisedSku"],
                "DAILY",
                day,
                day,
            ),
        )
        .await;
    let date_in_summary = t
        .ads_create(
            &token,
            profile,
            &ads_request(
                "spCampaigns",
                &["campaign"],
                &["date", "clicks"],
                "SUMMARY",
                day,
                day,
            ),
        )
        .await;
    let plain_json = t
        .ads(Method::POST, &token, "reporting/reports", Some(profile))
        .json(&advertised_product(day, day))
        .send()
        .await
        .unwrap();
    let text = t
        .ads(Method::POST, &token, "reporting/reports", Some(profile))
        .header("content-type", "text/plain")
        .body(advertised_product(day, day).to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(wrong_group.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_column.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(date_in_summary.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        plain_json.status(),
        StatusCode::OK,
        "plain JSON works as in production"
    );
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_forced_failure_ends_failed_with_a_reason_and_no_url() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    t.sim.force_next_ads_report(AdsReportOutcome::Failed);

    let (statuses, report) = t
        .ads_run(&token, profile, &advertised_product("2024-04-25", "2024-04-25"))
        .await;

    assert_eq!(statuses.last().unwrap(), "FAILED");
    assert_eq!(keys(&report), keys(&example("ads_report_failed.json")));
    assert!(report["failureReason"].is_string());
    assert_eq!(report["url"], Value::Null);
    assert_eq!(report["fileSize"], Value::Null);
}

#[tokio::test]
async fn an_ads_report_takes_the_number_of_polls_it_was_set_to() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    t.sim.set_ads_report_polls(4);

    let (statuses, _) = t
        .ads_run(&token, profile, &advertised_product("2024-04-25", "2024-04-25"))
        .await;

    assert_eq!(
        statuses,
        ["PENDING", "PENDING", "PROCESSING", "PROCESSING", "COMPLETED"]
    );
}

#[tokio::test]
async fn a_pending_report_can_be_deleted_but_a_completed_one_cannot() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let pending: Value = t
        .ads_create(&token, profile, &advertised_product("2024-04-25", "2024-04-25"))
        .await
        .json()
        .await
        .unwrap();
    t.sim.set_ads_report_polls(0);
    let (_, completed) = t
        .ads_run(&token, profile, &advertised_product("2024-04-24", "2024-04-24"))
        .await;
    let delete = |id: &str| {
        t.ads(
            Method::DELETE,
            &token,
            &format!("reporting/reports/{id}"),
            Some(profile),
        )
        .send()
    };

    let deleted = delete(pending["reportId"].as_str().unwrap()).await.unwrap();
    let refused = delete(completed["reportId"].as_str().unwrap()).await.unwrap();
    let gone = t
        .ads(
            Method::GET,
            &token,
            &format!("reporting/reports/{}", pending["reportId"].as_str().unwrap()),
            Some(profile),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(
        deleted.json::<Value>().await.unwrap()["reportId"],
        pending["reportId"]
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_download_url_expires_after_an_hour_and_each_get_mints_a_fresh_one() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    t.sim.set_ads_report_polls(0);
    let (_, report) = t
        .ads_run(&token, profile, &advertised_product("2024-04-25", "2024-04-25"))
        .await;
    let old_url = report["url"].as_str().unwrap().to_owned();

    t.sim.advance(Duration::from_secs(3600));
    let expired = t.http.get(&old_url).send().await.unwrap();
    let token = t.ads_access_token().await; // the first one expired too
    let again = t
        .ads_get(&token, profile, report["reportId"].as_str().unwrap())
        .await;

    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert_ne!(again["url"], report["url"]);
    assert_ne!(again["urlExpiresAt"], report["urlExpiresAt"]);
    let (size, _) = t.ads_download(&again).await;
    assert_eq!(again["fileSize"].as_u64(), Some(size as u64));
}

#[tokio::test]
async fn throttled_report_creation_gets_a_429_without_retry_after_and_polls_get_one() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let profile = t.ads_profile_id(&token, US).await;
    let request = advertised_product("2024-04-25", "2024-04-25");
    t.sim.throttle(Operation::CreateAsyncReport, 1);
    t.sim.throttle(Operation::GetAsyncReport, 1);

    let throttled = t.ads_create(&token, profile, &request).await;
    let created: Value = t
        .ads_create(&token, profile, &request)
        .await
        .json()
        .await
        .unwrap();
    let poll = t
        .ads(
            Method::GET,
            &token,
            &format!("reporting/reports/{}", created["reportId"].as_str().unwrap()),
            Some(profile),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().get("retry-after").is_none());
    assert_eq!(
        throttled.json::<Value>().await.unwrap(),
        example("ads_error_429.json")
    );
    assert_eq!(poll.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(poll.headers()["retry-after"], "1");
    let stats = t.sim.stats(SELLER, Operation::CreateAsyncReport);
    assert_eq!((stats.calls, stats.throttled), (2, 1));
}

#[tokio::test]
async fn the_ads_usage_plan_is_per_profile_and_refills_with_the_clock() {
    let t = TestSim::with_config(Config {
        ads_rate: 0.5,
        ads_burst: 2,
        ..Config::default()
    })
    .await;
    let token = t.ads_access_token().await;
    let us = t.ads_profile_id(&token, US).await;
    let de = t.ads_profile_id(&token, DE).await;
    let path = "reporting/reports/00000000-0000-4000-8000-000000000000";
    let (t, token) = (&t, &token);
    let status = |profile: i64| async move {
        t.ads(Method::GET, token, path, Some(profile))
            .send()
            .await
            .unwrap()
    };

    let first = status(us).await.status();
    let second = status(us).await.status();
    let third = status(us).await;
    let other_profile = status(de).await.status();
    t.sim.advance(Duration::from_secs(2));
    let refilled = status(us).await.status();

    assert_eq!([first, second], [StatusCode::NOT_FOUND; 2]);
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["retry-after"], "2");
    assert_eq!(other_profile, StatusCode::NOT_FOUND);
    assert_eq!(refilled, StatusCode::NOT_FOUND);
    let stats = t.sim.stats(SELLER, Operation::GetAsyncReport);
    assert_eq!((stats.calls, stats.throttled, stats.violations), (5, 1, 1));
}

#[tokio::test]
async fn a_revoked_ads_grant_stops_ads_calls_but_not_the_sp_api() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;
    let sp_token = t.access_token().await;

    t.sim.revoke_grant(&t.credentials.ads_refresh_token);

    let profiles = t
        .ads(Method::GET, &token, "v2/profiles", None)
        .send()
        .await
        .unwrap();
    let refresh = t
        .token_response(&t.credentials.ads_refresh_token, &t.credentials.client_secret)
        .await;
    let sp = t
        .sp_get(
            &sp_token,
            "reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT",
        )
        .await;

    assert_eq!(profiles.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refresh.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(sp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_ads_token_does_not_work_on_the_sp_api() {
    let t = TestSim::start().await;
    let token = t.ads_access_token().await;

    let response = t
        .sp_get(
            &token,
            "reports/2021-06-30/reports?reportTypes=GET_SALES_AND_TRAFFIC_REPORT",
        )
        .await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
