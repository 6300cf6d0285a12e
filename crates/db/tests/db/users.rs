use std::sync::Arc;

use amzsync_db::Error;
use amzsync_domain::{Clock, ManualClock};
use amzsync_test_support::{TestDb, on_both_engines};
use chrono::{Duration, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};

on_both_engines!(
    users_are_created_found_and_listed,
    user_names_are_unique_and_validated,
    tokens_authenticate_until_revoked,
    tokens_need_an_existing_user,
    a_tokens_last_use_is_written_at_most_once_a_minute,
);

async fn users_are_created_found_and_listed(t: TestDb) {
    let ann = t.users().create("ann", true).await.unwrap();
    let bob = t.users().create("  bob ", false).await.unwrap();
    assert!(ann.is_admin);
    assert_eq!(bob.name, "bob");
    assert_eq!(t.users().by_name("bob").await.unwrap(), bob);
    assert_eq!(t.users().get(ann.id).await.unwrap(), ann);
    assert_eq!(t.users().list().await.unwrap(), vec![ann, bob]);
    assert!(matches!(
        t.users().by_name("carl").await,
        Err(Error::NotFound { what: "user" })
    ));
}

async fn user_names_are_unique_and_validated(t: TestDb) {
    t.users().create("ann", false).await.unwrap();
    let dup = t.users().create("ann", false).await.unwrap_err();
    assert!(
        matches!(
            dup,
            Error::Conflict {
                constraint: "users_name_key"
            }
        ),
        "{dup:?}"
    );
    let empty = t.users().create("   ", false).await.unwrap_err();
    assert!(matches!(empty, Error::Invalid { field: "name", .. }), "{empty:?}");
    assert_eq!(t.users().list().await.unwrap().len(), 1);
}

async fn tokens_authenticate_until_revoked(t: TestDb) {
    let ann = t.users().create("ann", false).await.unwrap();
    let (token, secret) = t.tokens().create(ann.id, "laptop").await.unwrap();
    assert!(secret.expose_secret().starts_with("amzs_"));
    assert_eq!(token.last_used_at, None);

    let who = t.tokens().authenticate(&secret).await.unwrap();
    assert_eq!(who.map(|u| u.id), Some(ann.id));
    let listed = t.tokens().list(ann.id).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    let wrong = SecretString::from(format!("{}x", secret.expose_secret()));
    assert_eq!(t.tokens().authenticate(&wrong).await.unwrap(), None);
    assert_eq!(
        t.tokens()
            .authenticate(&SecretString::from("garbage".to_owned()))
            .await
            .unwrap(),
        None
    );

    // Another user cannot revoke it; its owner can.
    let bob = t.users().create("bob", false).await.unwrap();
    assert!(matches!(
        t.tokens().revoke(Some(bob.id), token.id).await,
        Err(Error::NotFound { .. })
    ));
    t.tokens().revoke(Some(ann.id), token.id).await.unwrap();
    assert_eq!(t.tokens().authenticate(&secret).await.unwrap(), None);
    let stored: Vec<_> = t.tokens().list(ann.id).await.unwrap();
    assert!(stored[0].revoked_at.is_some());
}

async fn tokens_need_an_existing_user(t: TestDb) {
    let err = t
        .tokens()
        .create(amzsync_domain::UserId(999), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { what: "user" }), "{err:?}");
}

async fn a_tokens_last_use_is_written_at_most_once_a_minute(t: TestDb) {
    let start = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    let clock = ManualClock::new(start);
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = db.users().create("ann", false).await.unwrap();
    let (_, secret) = db.tokens().create(ann.id, "laptop").await.unwrap();
    let last_used = || async { db.tokens().list(ann.id).await.unwrap()[0].last_used_at };

    db.tokens().authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(last_used().await, Some(start));
    clock.advance(Duration::seconds(59));
    assert!(db.tokens().authenticate(&secret).await.unwrap().is_some());
    assert_eq!(last_used().await, Some(start), "not rewritten within the minute");
    clock.advance(Duration::seconds(2));
    db.tokens().authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(last_used().await, Some(clock.now()));
}
