//! Advertising: discovered profiles are replaced per store, and the detail
//! tables upsert by Amazon's ids with money exact on both engines.

use std::sync::Arc;

use amzsync_db::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetrics, AdsSearchTermRow, AdsTargetingRow, Db, NewAdsProfile,
    Snapshots,
};
use amzsync_domain::{ManualClock, StoreId};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

on_both_engines!(
    profiles_are_replaced_per_store_and_listed_by_id,
    detail_rows_upsert_by_their_ids_with_exact_money,
);

fn profile(id: i64, marketplace: &str) -> NewAdsProfile {
    NewAdsProfile {
        profile_id: id,
        marketplace_id: marketplace.into(),
        country_code: "US".into(),
        currency_code: "USD".into(),
        timezone: "America/Los_Angeles".into(),
        account_type: "seller".into(),
        account_name: Some("Mugs & Co".into()),
    }
}

async fn profiles_are_replaced_per_store_and_listed_by_id(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 2, 8, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await.id;
    let other = create_store(&db, ann.id, "AOTHER").await.id;
    // 16-digit ids, as Amazon's are: never through f64.
    let big = 3_141_592_653_589_793;
    db.ads_profiles()
        .replace(other, &[profile(7, "ATVPDKIKX0DER")])
        .await
        .unwrap();

    let first = db
        .ads_profiles()
        .replace(
            store,
            &[profile(big, "ATVPDKIKX0DER"), profile(2, "A2EUQ1WTGCTBG2")],
        )
        .await
        .unwrap();
    assert_eq!(first.iter().map(|p| p.profile_id).collect::<Vec<_>>(), [2, big]);
    assert_eq!(first[1].account_name.as_deref(), Some("Mugs & Co"));
    assert_eq!(first[1].discovered_at, amzsync_domain::Clock::now(&clock));

    clock.advance(Duration::hours(1));
    let second = db
        .ads_profiles()
        .replace(store, &[profile(big, "ATVPDKIKX0DER")])
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(
        second[0].discovered_at,
        first[1].discovered_at + Duration::hours(1)
    );
    assert_eq!(db.ads_profiles().list(store).await.unwrap(), second);
    // Another store's profiles are its own.
    assert_eq!(db.ads_profiles().list(other).await.unwrap().len(), 1);
    assert!(
        db.ads_profiles()
            .replace(StoreId(999_999), &[profile(1, "X")])
            .await
            .is_err()
    );
}

fn day() -> NaiveDate {
    "2024-05-01".parse().unwrap()
}

fn metrics(spend: &str) -> AdsMetrics {
    AdsMetrics {
        impressions: 1_000,
        clicks: 12,
        spend: spend.parse().unwrap(),
        sales_7d: "123456789.01".parse().unwrap(),
        orders_7d: 3,
        units_7d: 4,
    }
}

async fn upsert_all(
    db: &Db,
    campaigns: &[AdsCampaignRow],
    groups: &[AdsAdGroupRow],
    targets: &[AdsTargetingRow],
    terms: &[AdsSearchTermRow],
) {
    let mut tx = db.begin().await.unwrap();
    Snapshots::upsert_ads_campaigns(&mut tx, campaigns).await.unwrap();
    Snapshots::upsert_ads_ad_groups(&mut tx, groups).await.unwrap();
    Snapshots::upsert_ads_targeting(&mut tx, targets).await.unwrap();
    Snapshots::upsert_ads_search_terms(&mut tx, terms).await.unwrap();
    tx.commit().await.unwrap();
}

async fn detail_rows_upsert_by_their_ids_with_exact_money(t: TestDb) {
    let db = t.db.clone();
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await.id;
    let profile = 3_141_592_653_589_793;
    let campaign = |id: i64, spend: &str| AdsCampaignRow {
        store_id: store,
        profile_id: profile,
        date: day(),
        campaign_id: id,
        marketplace_id: "ATVPDKIKX0DER".into(),
        campaign_name: Some(format!("Campaign {id}")),
        campaign_status: Some("ENABLED".into()),
        budget_amount: Some(Decimal::new(2550, 2)),
        budget_type: Some("DAILY".into()),
        currency: "USD".into(),
        metrics: metrics(spend),
    };
    let group = AdsAdGroupRow {
        store_id: store,
        profile_id: profile,
        date: day(),
        campaign_id: 144_512_345_678_901,
        ad_group_id: 244_512_345_678_901,
        marketplace_id: "ATVPDKIKX0DER".into(),
        campaign_name: None,
        ad_group_name: Some("Group".into()),
        ad_status: None,
        currency: "USD".into(),
        metrics: metrics("0.10"),
    };
    let target = |keyword_id: i64, keyword: Option<&str>| AdsTargetingRow {
        store_id: store,
        profile_id: profile,
        date: day(),
        campaign_id: 1,
        ad_group_id: 2,
        keyword_id,
        marketplace_id: "ATVPDKIKX0DER".into(),
        keyword: keyword.map(str::to_owned),
        keyword_type: Some("BROAD".into()),
        match_type: Some("BROAD".into()),
        targeting: Some(keyword.unwrap_or("close-match").to_owned()),
        currency: "USD".into(),
        metrics: metrics("1.5"),
    };
    let term = |search_term: &str| AdsSearchTermRow {
        store_id: store,
        profile_id: profile,
        date: day(),
        campaign_id: 1,
        ad_group_id: 2,
        keyword_id: 3,
        search_term: search_term.into(),
        marketplace_id: "ATVPDKIKX0DER".into(),
        keyword: Some("mug".into()),
        match_type: Some("EXACT".into()),
        currency: "USD".into(),
        metrics: metrics("0.01"),
    };
    let campaigns = vec![campaign(1, "13.44"), campaign(144_512_345_678_901, "0.3")];
    let targets = vec![target(3, Some("red mug")), target(4, None)];
    let terms = vec![term("*"), term("red mug \"12oz\"")];
    upsert_all(&db, &campaigns, std::slice::from_ref(&group), &targets, &terms).await;

    let read = |v: Vec<amzsync_db::Stamped<AdsCampaignRow>>| v.into_iter().map(|s| s.row).collect::<Vec<_>>();
    let stored = read(
        db.snapshots()
            .ads_campaigns_between(store, day(), day())
            .await
            .unwrap(),
    );
    assert_eq!(stored, campaigns);
    assert_eq!(stored[0].metrics.sales_7d.to_string(), "123456789.01");

    // A restated day replaces the values of the same ids; nothing is duplicated.
    let restated = vec![campaign(1, "14.00")];
    let mut later_group = group.clone();
    later_group.metrics.orders_7d = 5;
    let mut later_term = term("*");
    later_term.metrics.clicks = 40;
    upsert_all(
        &db,
        &restated,
        &[later_group.clone()],
        &targets[..1],
        &[later_term.clone()],
    )
    .await;
    let stored = read(
        db.snapshots()
            .ads_campaigns_between(store, day(), day())
            .await
            .unwrap(),
    );
    assert_eq!(
        stored,
        vec![campaign(1, "14.00"), campaign(144_512_345_678_901, "0.3")]
    );
    let groups: Vec<_> = db
        .snapshots()
        .ads_ad_groups_between(store, day(), day())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.row)
        .collect();
    assert_eq!(groups, vec![later_group]);
    let stored_targets: Vec<_> = db
        .snapshots()
        .ads_targeting_between(store, day(), day())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.row)
        .collect();
    assert_eq!(stored_targets, targets);
    let stored_terms: Vec<_> = db
        .snapshots()
        .ads_search_terms_between(store, day(), day())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.row)
        .collect();
    assert_eq!(stored_terms, vec![later_term, term("red mug \"12oz\"")]);
    assert!(
        db.snapshots()
            .ads_search_terms_between(store, day() + Duration::days(1), day() + Duration::days(9))
            .await
            .unwrap()
            .is_empty()
    );
}
