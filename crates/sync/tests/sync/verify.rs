//! "Verify credentials" ([`Engine::verify`]): a real LWA refresh for each
//! token and Ads profile discovery, against the simulator; each API gets its
//! own answer, and nothing the engine stores changes.

use amzsync_amazon_sim::Seller;
use amzsync_db::{NewStore, Scope, StoreStatus};
use amzsync_domain::{ErrorClass, Marketplace, Region};
use amzsync_sync::{CheckOutcome, TriggerError};
use amzsync_test_support::{TestDb, new_user, on_both_engines};
use secrecy::SecretString;

use crate::harness::{CA, SELLER, US, World};

fn failed_class(outcome: &CheckOutcome) -> ErrorClass {
    match outcome {
        CheckOutcome::Failed { class, .. } => *class,
        other => panic!("expected a failure, got {other:?}"),
    }
}

on_both_engines!(valid_credentials_are_valid_and_the_ads_profiles_are_found);

async fn valid_credentials_are_valid_and_the_ads_profiles_are_found(db: TestDb) {
    let world = World::new(db).await;
    let v = world
        .engine
        .verify(Scope::Owner(world.store.user_id), world.store.id)
        .await
        .expect("the store is the owner's");
    assert_eq!(v.store_id, world.store.id);
    assert_eq!(v.sp_api, CheckOutcome::Valid);
    assert_eq!(v.advertising, CheckOutcome::Valid);
    assert!(v.all_valid());
    let expected: Vec<i64> = world
        .sim
        .truth()
        .ads_profiles(SELLER)
        .expect("the seller has profiles")
        .iter()
        .map(|p| p.profile_id)
        .collect();
    let mut found: Vec<(String, i64)> = v
        .ads_profiles
        .iter()
        .map(|p| (p.marketplace_id.clone(), p.profile_id))
        .collect();
    found.sort();
    assert_eq!(
        found.len(),
        2,
        "one profile per marketplace of the store: {found:?}"
    );
    assert!(found.iter().all(|(_, id)| expected.contains(id)));
    assert_eq!(
        found.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
        vec![CA, US]
    );
    // Read-only: no task, no change of status.
    let store = world
        .db
        .stores()
        .get(Scope::All, world.store.id)
        .await
        .expect("store");
    assert_eq!(store.sync_status, world.store.sync_status);
    let tasks = world
        .db
        .sync_tasks()
        .latest(
            Scope::All,
            world.store.id,
            amzsync_domain::SyncKind::Business,
            None,
        )
        .await
        .expect("tasks");
    assert!(tasks.is_none());
}

on_both_engines!(a_revoked_grant_is_unauthorized_even_with_a_cached_token);

async fn a_revoked_grant_is_unauthorized_even_with_a_cached_token(db: TestDb) {
    let world = World::new(db).await;
    // The first check leaves a fresh access token in the engine's cache.
    let before = world
        .engine
        .verify(Scope::All, world.store.id)
        .await
        .expect("verify");
    assert_eq!(before.sp_api, CheckOutcome::Valid);

    world.sim.revoke_grant(&world.credentials.refresh_token);
    let after = world
        .engine
        .verify(Scope::All, world.store.id)
        .await
        .expect("verify");
    assert_eq!(failed_class(&after.sp_api), ErrorClass::Unauthorized);
    let CheckOutcome::Failed { message, .. } = &after.sp_api else {
        unreachable!()
    };
    assert!(message.contains("invalid_grant"), "{message}");
    // The Ads grant is another one: it still works.
    assert_eq!(after.advertising, CheckOutcome::Valid);
    assert!(!after.all_valid());

    world.sim.revoke_grant(&world.credentials.ads_refresh_token);
    let both = world
        .engine
        .verify(Scope::All, world.store.id)
        .await
        .expect("verify");
    assert_eq!(failed_class(&both.advertising), ErrorClass::Unauthorized);
    assert!(both.ads_profiles.is_empty());
    let store = world
        .db
        .stores()
        .get(Scope::All, world.store.id)
        .await
        .expect("store");
    assert_ne!(
        store.sync_status,
        StoreStatus::NeedsReauth,
        "verifying stores nothing"
    );
}

on_both_engines!(without_an_ads_token_only_the_sp_api_is_checked);

async fn without_an_ads_token_only_the_sp_api_is_checked(db: TestDb) {
    let world = World::new(db).await;
    let seller = world
        .sim
        .add_seller(Seller::new("A3NOADSSELLER").marketplace(US, 3))
        .expect("another seller");
    let store = world
        .db
        .stores()
        .create(NewStore {
            user_id: world.store.user_id,
            store_name: "No Ads".into(),
            region: Region::Na,
            marketplaces: vec![Marketplace::by_id(US).expect("US")],
            seller_id: seller.seller_id,
            sp_api_refresh_token: SecretString::from(seller.refresh_token),
            advertising_api_refresh_token: None,
            sp_api_client_id: None,
            sp_api_client_secret: None,
            business_lookback_days: None,
            ads_lookback_days: None,
        })
        .await
        .expect("creating the store");
    let v = world.engine.verify(Scope::All, store.id).await.expect("verify");
    assert_eq!(v.sp_api, CheckOutcome::Valid);
    assert_eq!(v.advertising, CheckOutcome::NotConfigured);
    assert!(v.ads_profiles.is_empty());
    assert!(v.all_valid());
}

on_both_engines!(an_ads_grant_of_another_seller_is_forbidden);

async fn an_ads_grant_of_another_seller_is_forbidden(db: TestDb) {
    let world = World::new(db).await;
    let other = world
        .sim
        .add_seller(Seller::new("A3OTHERSELLER").marketplace(US, 3))
        .expect("another seller");
    let store = world
        .db
        .stores()
        .create(NewStore {
            user_id: world.store.user_id,
            store_name: "Mixed grants".into(),
            region: Region::Na,
            marketplaces: vec![Marketplace::by_id(US).expect("US")],
            seller_id: other.seller_id,
            sp_api_refresh_token: SecretString::from(other.refresh_token),
            // The first seller's Ads grant: it reaches only that seller's profiles.
            advertising_api_refresh_token: Some(SecretString::from(
                world.credentials.ads_refresh_token.clone(),
            )),
            sp_api_client_id: None,
            sp_api_client_secret: None,
            business_lookback_days: None,
            ads_lookback_days: None,
        })
        .await
        .expect("creating the store");
    let v = world.engine.verify(Scope::All, store.id).await.expect("verify");
    assert_eq!(v.sp_api, CheckOutcome::Valid);
    assert_eq!(failed_class(&v.advertising), ErrorClass::Forbidden);
}

on_both_engines!(another_tenants_store_is_not_found);

async fn another_tenants_store_is_not_found(db: TestDb) {
    let world = World::new(db).await;
    let stranger = new_user(&world.db, "stranger").await;
    let err = world
        .engine
        .verify(Scope::Owner(stranger.id), world.store.id)
        .await
        .expect_err("not the stranger's store");
    assert!(matches!(err, TriggerError::StoreNotFound), "{err:?}");
}
