//! Credentials at rest: a wrong key, a tampered value or a value moved to
//! another store is a clear error naming the store, never garbage.

use amzsync_db::{Cipher, CipherError, Error, Scope};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};

on_both_engines!(
    a_wrong_key_names_the_store,
    a_tampered_secret_names_the_store_and_column,
    a_secret_copied_to_another_store_does_not_decrypt,
);

async fn a_wrong_key_names_the_store(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let other_key = t.reopen_with(Cipher::new(&Cipher::generate_key())).await;
    let err = other_key
        .stores()
        .credentials(Scope::All, store.id)
        .await
        .unwrap_err();
    match &err {
        Error::Secret {
            store_id,
            column,
            reason,
        } => {
            assert_eq!(*store_id, store.id);
            assert_eq!(*column, "sp_api_refresh_token");
            assert_eq!(*reason, CipherError::Authentication);
        }
        other => panic!("expected a secret error, got {other:?}"),
    }
    assert!(err.to_string().contains(&format!("store {}", store.id)), "{err}");
    other_key.close().await;
}

async fn a_tampered_secret_names_the_store_and_column(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let sealed = crate::raw_text(
        &t,
        "SELECT advertising_api_refresh_token FROM amazon_stores WHERE id = $1",
        store.id.0,
    )
    .await;
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    crate::raw_execute(
        &t,
        "UPDATE amazon_stores SET advertising_api_refresh_token = $1 WHERE seller_id = $2",
        &[&tampered, "ASELLER"],
    )
    .await;
    let err = t.stores().credentials(Scope::All, store.id).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Secret {
                column: "advertising_api_refresh_token",
                ..
            }
        ),
        "{err:?}"
    );
}

async fn a_secret_copied_to_another_store_does_not_decrypt(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let victim = create_store(&t, ann.id, "AVICTIM").await;
    let thief = create_store(&t, ann.id, "ATHIEF").await;
    let sealed = crate::raw_text(
        &t,
        "SELECT sp_api_refresh_token FROM amazon_stores WHERE id = $1",
        victim.id.0,
    )
    .await;
    crate::raw_execute(
        &t,
        "UPDATE amazon_stores SET sp_api_refresh_token = $1 WHERE seller_id = $2",
        &[&sealed, "ATHIEF"],
    )
    .await;
    let err = t.stores().credentials(Scope::All, thief.id).await.unwrap_err();
    assert!(
        matches!(err, Error::Secret { store_id, reason: CipherError::Authentication, .. } if store_id == thief.id),
        "{err:?}"
    );
    // The victim's own secret still opens.
    t.stores().credentials(Scope::All, victim.id).await.unwrap();
}
