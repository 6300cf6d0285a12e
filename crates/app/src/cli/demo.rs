//! `amzsync demo`: the closest honest thing to the product's main job until the
//! sync engine lands: an embedded database with a demo user, API token and
//! store, listed back. Running it again reuses what exists.

use anyhow::Context;
use secrecy::SecretString;

use amzsync_db::{Db, Error, NewStore, Scope};
use amzsync_domain::{Marketplace, Region};

use crate::config::Config;

const DEMO_USER: &str = "demo";
const DEMO_SELLER: &str = "ADEMOSELLER";

pub async fn run(db: &Db, config: &Config) -> anyhow::Result<()> {
    let user = match db.users().by_name(DEMO_USER).await {
        Ok(u) => u,
        Err(Error::NotFound { .. }) => db.users().create(DEMO_USER, true).await?,
        Err(e) => return Err(e.into()),
    };
    let stores = db.stores().list(Scope::Owner(user.id)).await?;
    if !stores.iter().any(|s| s.seller_id == DEMO_SELLER) {
        db.stores()
            .create(NewStore {
                user_id: user.id,
                store_name: "Demo store (US, CA)".into(),
                region: Region::Na,
                marketplaces: ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
                    .iter()
                    .map(|id| Marketplace::by_id(id).expect("demo marketplaces are known"))
                    .collect(),
                seller_id: DEMO_SELLER.into(),
                // Placeholders: the demo store talks to the simulator, never to Amazon.
                sp_api_refresh_token: SecretString::from("Atzr|demo-sp-api".to_owned()),
                advertising_api_refresh_token: Some(SecretString::from("Atzr|demo-ads-api".to_owned())),
                sp_api_client_id: None,
                sp_api_client_secret: None,
            })
            .await
            .context("adding the demo store")?;
    }
    let where_ = match config.database() {
        crate::config::Database::Sqlite(p) => p.display().to_string(),
        crate::config::Database::Postgres(_) => "PostgreSQL (database_url)".to_owned(),
    };
    println!("demo database: {where_}");
    println!("user: {} (id {})", user.name, user.id);
    for s in db.stores().list(Scope::Owner(user.id)).await? {
        println!(
            "store {}: {} — seller {}, region {}, marketplaces {}, {}",
            s.id,
            s.store_name,
            s.seller_id,
            s.region,
            s.marketplaces.join(", "),
            if s.is_active { "active" } else { "inactive" }
        );
    }
    println!(
        "next: `amzsync stores show <id>`; syncing against the built-in simulator arrives with the sync engine"
    );
    Ok(())
}
