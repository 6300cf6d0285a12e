//! Builders for rows tests need, with plausible defaults.

use amzsync_db::{Db, NewStore, Store, User};
use amzsync_domain::{Marketplace, Region, UserId};
use secrecy::SecretString;

/// A user with a unique name.
pub async fn new_user(db: &Db, name: &str) -> User {
    db.users()
        .create(name, false)
        .await
        .expect("creating a test user")
}

/// A US store of `user` with an SP-API and an Ads refresh token.
pub fn new_store(user: UserId, seller_id: &str) -> NewStore {
    NewStore {
        user_id: user,
        store_name: format!("Store {seller_id}"),
        region: Region::Na,
        marketplaces: vec![Marketplace::by_id("ATVPDKIKX0DER").expect("US is a known marketplace")],
        seller_id: seller_id.to_owned(),
        sp_api_refresh_token: SecretString::from(format!("Atzr|sp-{seller_id}")),
        advertising_api_refresh_token: Some(SecretString::from(format!("Atzr|ads-{seller_id}"))),
        sp_api_client_id: None,
        sp_api_client_secret: None,
        business_lookback_days: None,
        ads_lookback_days: None,
    }
}

/// Creates the store in the database.
pub async fn create_store(db: &Db, user: UserId, seller_id: &str) -> Store {
    db.stores()
        .create(new_store(user, seller_id))
        .await
        .expect("creating a test store")
}
