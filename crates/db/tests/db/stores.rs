use amzsync_db::{Error, Scope, StoreStatus};
use amzsync_domain::{Marketplace, Region, StoreId, SyncKind, SyncTaskId, Trigger};
use amzsync_test_support::{TestDb, create_store, new_store, new_user, on_both_engines};
use secrecy::{ExposeSecret, SecretString};

on_both_engines!(
    a_store_keeps_its_marketplaces_and_hides_its_secrets,
    tenants_only_see_their_own_stores,
    invalid_stores_are_refused_and_nothing_is_written,
    the_same_seller_in_the_same_region_is_a_conflict,
    rotating_credentials_clears_needs_reauth,
    deactivating_and_deleting_a_store,
    a_store_s_lookbacks_are_bounded_and_null_means_the_default,
);

async fn a_store_keeps_its_marketplaces_and_hides_its_secrets(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let mut new = new_store(ann.id, "A3EXAMPLESELLER");
    new.marketplaces = vec![
        "CA".parse().unwrap(),
        "US".parse().unwrap(),
        "CA".parse().unwrap(),
    ];
    new.sp_api_client_id = Some("amzn1.application-oa2-client.abc".into());
    new.sp_api_client_secret = Some(SecretString::from("client-secret".to_owned()));
    let store = t.stores().create(new).await.unwrap();

    assert_eq!(
        store.marketplace_id, "A2EUQ1WTGCTBG2",
        "the first marketplace is the primary one"
    );
    assert_eq!(store.marketplaces, vec!["A2EUQ1WTGCTBG2", "ATVPDKIKX0DER"]);
    assert_eq!(store.region, Region::Na);
    assert!(store.has_sp_api_refresh_token && store.has_advertising_api_refresh_token);
    assert!(store.has_sp_api_client_secret);
    assert_eq!(store.sync_status, StoreStatus::Idle);
    assert!(store.is_active);
    let shown = format!("{store:?} {}", serde_json::to_string(&store).unwrap());
    assert!(
        !shown.contains("Atzr") && !shown.contains("client-secret"),
        "{shown}"
    );

    let creds = t
        .stores()
        .credentials(Scope::Owner(ann.id), store.id)
        .await
        .unwrap();
    assert_eq!(
        creds.sp_api_refresh_token.unwrap().expose_secret(),
        "Atzr|sp-A3EXAMPLESELLER"
    );
    assert_eq!(
        creds.advertising_api_refresh_token.unwrap().expose_secret(),
        "Atzr|ads-A3EXAMPLESELLER"
    );
    assert_eq!(
        creds.sp_api_client_secret.unwrap().expose_secret(),
        "client-secret"
    );
    assert_eq!(
        creds.sp_api_client_id.as_deref(),
        Some("amzn1.application-oa2-client.abc")
    );
    assert!(
        !format!(
            "{:?}",
            t.stores().credentials(Scope::All, store.id).await.unwrap()
        )
        .contains("Atzr")
    );

    let stored = crate::raw_text(
        &t,
        "SELECT sp_api_refresh_token FROM amazon_stores WHERE id = $1",
        store.id.0,
    )
    .await;
    assert!(
        stored.starts_with("v1:") && !stored.contains("Atzr"),
        "encrypted at rest: {stored}"
    );
}

async fn tenants_only_see_their_own_stores(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let bob = new_user(&t, "bob").await;
    let a1 = create_store(&t, ann.id, "ASELLERONE").await;
    let a2 = create_store(&t, ann.id, "ASELLERTWO").await;
    let b1 = create_store(&t, bob.id, "BSELLERONE").await;

    let anns: Vec<_> = t
        .stores()
        .list(Scope::Owner(ann.id))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(anns, vec![a1.id, a2.id]);
    assert_eq!(t.stores().list(Scope::All).await.unwrap().len(), 3);

    let foreign = Scope::Owner(ann.id);
    assert!(matches!(
        t.stores().get(foreign, b1.id).await,
        Err(Error::NotFound { what: "store" })
    ));
    assert!(matches!(
        t.stores().credentials(foreign, b1.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        t.stores().set_active(foreign, b1.id, false).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        t.stores().delete(foreign, b1.id).await,
        Err(Error::NotFound { .. })
    ));
    let secret = SecretString::from("x".to_owned());
    assert!(matches!(
        t.stores()
            .rotate_credentials(foreign, b1.id, Some(&secret), None)
            .await,
        Err(Error::NotFound { .. })
    ));
    // Bob's store is untouched by Ann's attempts.
    let b1_now = t.stores().get(Scope::Owner(bob.id), b1.id).await.unwrap();
    assert_eq!(b1_now, b1);
}

async fn invalid_stores_are_refused_and_nothing_is_written(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let mut eu_in_na = new_store(ann.id, "ASELLER");
    eu_in_na
        .marketplaces
        .push(Marketplace::by_id("A1PA6795UKMFR9").unwrap());
    let err = t.stores().create(eu_in_na).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Invalid {
                field: "marketplaces",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("A1PA6795UKMFR9"), "{err}");

    let mut bad_seller = new_store(ann.id, "not a seller");
    bad_seller.seller_id = "not a seller".into();
    assert!(matches!(
        t.stores().create(bad_seller).await,
        Err(Error::Invalid {
            field: "seller_id",
            ..
        })
    ));

    let mut none = new_store(ann.id, "ASELLER");
    none.marketplaces.clear();
    assert!(matches!(
        t.stores().create(none).await,
        Err(Error::Invalid {
            field: "marketplaces",
            ..
        })
    ));

    let mut half_client = new_store(ann.id, "ASELLER");
    half_client.sp_api_client_secret = Some(SecretString::from("s".to_owned()));
    assert!(matches!(
        t.stores().create(half_client).await,
        Err(Error::Invalid { .. })
    ));

    let nobody = t
        .stores()
        .create(new_store(amzsync_domain::UserId(9_999), "ASELLER"))
        .await
        .unwrap_err();
    assert!(matches!(nobody, Error::NotFound { what: "user" }), "{nobody:?}");

    assert!(t.stores().list(Scope::All).await.unwrap().is_empty());
}

async fn the_same_seller_in_the_same_region_is_a_conflict(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    create_store(&t, ann.id, "ASELLER").await;
    let err = t.stores().create(new_store(ann.id, "ASELLER")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                constraint: "amazon_stores_seller_region_key"
            }
        ),
        "{err:?}"
    );
    // The same seller in Europe is another store.
    let mut eu = new_store(ann.id, "ASELLER");
    eu.region = Region::Eu;
    eu.marketplaces = vec!["DE".parse().unwrap()];
    t.stores().create(eu).await.unwrap();
    assert_eq!(t.stores().list(Scope::All).await.unwrap().len(), 2);
}

async fn rotating_credentials_clears_needs_reauth(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    t.stores()
        .set_status(store.id, StoreStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();
    let marked = t.stores().get(Scope::All, store.id).await.unwrap();
    assert_eq!(marked.sync_status, StoreStatus::NeedsReauth);
    assert_eq!(marked.last_sync_error.as_deref(), Some("invalid_grant"));
    assert!(marked.last_sync_at.is_some());

    let fresh = SecretString::from("Atzr|fresh".to_owned());
    let rotated = t
        .stores()
        .rotate_credentials(Scope::Owner(ann.id), store.id, Some(&fresh), None)
        .await
        .unwrap();
    assert_eq!(rotated.sync_status, StoreStatus::Idle);
    let creds = t.stores().credentials(Scope::All, store.id).await.unwrap();
    assert_eq!(creds.sp_api_refresh_token.unwrap().expose_secret(), "Atzr|fresh");
    assert_eq!(
        creds.advertising_api_refresh_token.unwrap().expose_secret(),
        "Atzr|ads-ASELLER",
        "kept"
    );
}

async fn deactivating_and_deleting_a_store(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let other = create_store(&t, ann.id, "AOTHER").await;
    let off = t
        .stores()
        .set_active(Scope::Owner(ann.id), store.id, false)
        .await
        .unwrap();
    assert!(!off.is_active);

    let task = amzsync_db::NewSyncTask {
        id: SyncTaskId::new(1, 1),
        store_id: store.id,
        kind: SyncKind::Inventory,
        trigger: Trigger::Manual,
        window: None,
    };
    t.sync_tasks().create(&task).await.unwrap();
    t.stores().delete(Scope::Owner(ann.id), store.id).await.unwrap();
    assert!(matches!(
        t.stores().get(Scope::All, store.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        matches!(
            t.sync_tasks().get(Scope::All, task.id).await,
            Err(Error::NotFound { .. })
        ),
        "cascaded"
    );
    assert!(matches!(
        t.stores().delete(Scope::All, StoreId(store.id.0)).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(t.stores().list(Scope::All).await.unwrap(), vec![other]);
}

on_both_engines!(
    an_update_changes_what_it_names_all_or_nothing,
    switching_between_the_global_and_an_own_lwa_client,
);

async fn an_update_changes_what_it_names_all_or_nothing(t: TestDb) {
    use amzsync_db::StoreUpdate;
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    t.stores()
        .set_status(store.id, StoreStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();

    let changed = t
        .stores()
        .update(
            Scope::Owner(ann.id),
            store.id,
            StoreUpdate {
                store_name: Some("  Renamed ".into()),
                marketplaces: Some(vec!["MX".parse().unwrap(), "US".parse().unwrap()]),
                advertising_api_refresh_token: Some(SecretString::from("Atzr|new-ads".to_owned())),
                ..StoreUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.store_name, "Renamed");
    assert_eq!(changed.marketplace_id, "A1AM78C64UM0Y8");
    assert_eq!(changed.marketplaces, vec!["A1AM78C64UM0Y8", "ATVPDKIKX0DER"]);
    assert_eq!(
        changed.sync_status,
        StoreStatus::Idle,
        "new credentials clear needs_reauth"
    );
    assert!(changed.is_active, "untouched");
    let creds = t.stores().credentials(Scope::All, store.id).await.unwrap();
    assert_eq!(
        creds.advertising_api_refresh_token.unwrap().expose_secret(),
        "Atzr|new-ads"
    );
    assert_eq!(
        creds.sp_api_refresh_token.unwrap().expose_secret(),
        "Atzr|sp-ASELLER"
    );

    // A bad marketplace refuses the whole update: the name stays.
    let err = t
        .stores()
        .update(
            Scope::Owner(ann.id),
            store.id,
            StoreUpdate {
                store_name: Some("Other".into()),
                marketplaces: Some(vec!["JP".parse().unwrap()]),
                ..StoreUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "marketplaces",
                ..
            }
        ),
        "{err:?}"
    );
    let blank = StoreUpdate {
        store_name: Some(" ".into()),
        ..StoreUpdate::default()
    };
    assert!(matches!(
        t.stores().update(Scope::All, store.id, blank).await,
        Err(Error::Invalid {
            field: "store_name",
            ..
        })
    ));
    assert_eq!(
        t.stores().get(Scope::All, store.id).await.unwrap().store_name,
        "Renamed"
    );

    // Only changing the name does not lift a needs_reauth mark.
    t.stores()
        .set_status(store.id, StoreStatus::NeedsReauth, None)
        .await
        .unwrap();
    let renamed = t
        .stores()
        .update(
            Scope::All,
            store.id,
            StoreUpdate {
                store_name: Some("X".into()),
                ..StoreUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.sync_status, StoreStatus::NeedsReauth);
}

async fn switching_between_the_global_and_an_own_lwa_client(t: TestDb) {
    use amzsync_db::{LwaClient, StoreUpdate};
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let own = StoreUpdate {
        lwa_client: Some(LwaClient::Own {
            client_id: "amzn1.application-oa2-client.own".into(),
            client_secret: SecretString::from("own-secret".to_owned()),
        }),
        ..StoreUpdate::default()
    };
    let updated = t.stores().update(Scope::All, store.id, own).await.unwrap();
    assert_eq!(
        updated.sp_api_client_id.as_deref(),
        Some("amzn1.application-oa2-client.own")
    );
    assert!(updated.has_sp_api_client_secret);
    let creds = t.stores().credentials(Scope::All, store.id).await.unwrap();
    assert_eq!(creds.sp_api_client_secret.unwrap().expose_secret(), "own-secret");

    let global = StoreUpdate {
        lwa_client: Some(LwaClient::Global),
        ..StoreUpdate::default()
    };
    let updated = t.stores().update(Scope::All, store.id, global).await.unwrap();
    assert_eq!(updated.sp_api_client_id, None);
    assert!(!updated.has_sp_api_client_secret);
}

async fn a_store_s_lookbacks_are_bounded_and_null_means_the_default(t: TestDb) {
    use amzsync_db::StoreUpdate;
    let ann = new_user(&t, "ann").await;
    let mut new = new_store(ann.id, "ASELLER");
    new.business_lookback_days = Some(10);
    let store = t.stores().create(new).await.unwrap();
    assert_eq!(
        (store.business_lookback_days, store.ads_lookback_days),
        (Some(10), None)
    );

    for (business, ads, field) in [
        (Some(0), None, "business_lookback_days"),
        (None, Some(61), "ads_lookback_days"),
    ] {
        let mut bad = new_store(ann.id, "AOTHERSELLER");
        bad.business_lookback_days = business;
        bad.ads_lookback_days = ads;
        let err = t.stores().create(bad).await.unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field: f, message } if *f == field && message.contains("1..=60")),
            "{err:?}"
        );
    }
    assert_eq!(t.stores().list(Scope::All).await.unwrap().len(), 1);

    let lookbacks = |business, ads| StoreUpdate {
        business_lookback_days: business,
        ads_lookback_days: ads,
        ..StoreUpdate::default()
    };
    let changed = t
        .stores()
        .update(Scope::All, store.id, lookbacks(None, Some(Some(30))))
        .await
        .unwrap();
    assert_eq!(
        (changed.business_lookback_days, changed.ads_lookback_days),
        (Some(10), Some(30)),
        "a lookback left out stays"
    );
    let err = t
        .stores()
        .update(Scope::All, store.id, lookbacks(Some(Some(61)), Some(None)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "business_lookback_days",
                ..
            }
        ),
        "{err:?}"
    );
    let reset = t
        .stores()
        .update(Scope::All, store.id, lookbacks(Some(None), Some(Some(60))))
        .await
        .unwrap();
    assert_eq!(
        (reset.business_lookback_days, reset.ads_lookback_days),
        (None, Some(60)),
        "null returns to the default"
    );
}
