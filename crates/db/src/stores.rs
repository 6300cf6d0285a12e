//! Stores: one seller account in one region, with its marketplaces and its
//! encrypted credentials. Secrets go in through [`NewStore`] and come out only
//! through [`Stores::credentials`]; [`Store`] never carries them.

use amzsync_domain::{Marketplace, Region, StoreId, UserId};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

use crate::db::{on_pool, on_tx};
use crate::error::one_changed;
use crate::{Db, Error, Result, Scope};

/// What a new store is made of. Marketplaces: the first is the primary one.
#[derive(Debug, Clone)]
pub struct NewStore {
    pub user_id: UserId,
    pub store_name: String,
    pub region: Region,
    pub marketplaces: Vec<Marketplace>,
    pub seller_id: String,
    pub sp_api_refresh_token: SecretString,
    pub advertising_api_refresh_token: Option<SecretString>,
    /// `None`: use the globally configured LWA application.
    pub sp_api_client_id: Option<String>,
    pub sp_api_client_secret: Option<SecretString>,
}

/// Where a store stands with its syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreStatus {
    Idle,
    Syncing,
    Error,
    /// Amazon refused the store's grant; nothing is scheduled until its
    /// credentials change.
    NeedsReauth,
}

impl StoreStatus {
    fn parse(s: &str) -> Self {
        match s {
            "syncing" => StoreStatus::Syncing,
            "error" => StoreStatus::Error,
            "needs_reauth" => StoreStatus::NeedsReauth,
            _ => StoreStatus::Idle,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Idle => "idle",
            StoreStatus::Syncing => "syncing",
            StoreStatus::Error => "error",
            StoreStatus::NeedsReauth => "needs_reauth",
        }
    }
}

/// A store as every interface may show it: no secrets, only whether each is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Store {
    pub id: StoreId,
    pub user_id: UserId,
    pub store_name: String,
    pub region: Region,
    /// The primary marketplace (`amazon_stores.marketplace_id`).
    pub marketplace_id: String,
    /// Every marketplace of the store, the primary one first.
    pub marketplaces: Vec<String>,
    pub seller_id: String,
    pub has_sp_api_refresh_token: bool,
    pub has_advertising_api_refresh_token: bool,
    pub sp_api_client_id: Option<String>,
    pub has_sp_api_client_secret: bool,
    pub is_active: bool,
    pub sync_status: StoreStatus,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_sync_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A store's decrypted secrets, for the code that talks to Amazon.
#[derive(Debug, Clone)]
pub struct StoreCredentials {
    pub sp_api_refresh_token: Option<SecretString>,
    pub advertising_api_refresh_token: Option<SecretString>,
    pub sp_api_client_id: Option<String>,
    pub sp_api_client_secret: Option<SecretString>,
}

#[derive(sqlx::FromRow)]
struct StoreRow {
    id: i64,
    user_id: i64,
    store_name: String,
    region: String,
    marketplace_id: String,
    seller_id: String,
    has_sp: bool,
    has_ads: bool,
    sp_api_client_id: Option<String>,
    has_secret: bool,
    is_active: bool,
    sync_status: String,
    last_sync_at: Option<DateTime<Utc>>,
    last_sync_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const STORE_COLUMNS: &str = "s.id, s.user_id, s.store_name, s.region, s.marketplace_id, s.seller_id,
    s.sp_api_refresh_token IS NOT NULL AS has_sp,
    s.advertising_api_refresh_token IS NOT NULL AS has_ads,
    s.sp_api_client_id,
    s.sp_api_client_secret IS NOT NULL AS has_secret,
    s.is_active, s.sync_status, s.last_sync_at, s.last_sync_error, s.created_at, s.updated_at";

impl StoreRow {
    fn into_store(self, marketplaces: Vec<String>) -> Store {
        Store {
            id: StoreId(self.id),
            user_id: UserId(self.user_id),
            store_name: self.store_name,
            region: self.region.parse().unwrap_or(Region::Na),
            marketplace_id: self.marketplace_id,
            marketplaces,
            seller_id: self.seller_id,
            has_sp_api_refresh_token: self.has_sp,
            has_advertising_api_refresh_token: self.has_ads,
            sp_api_client_id: self.sp_api_client_id,
            has_sp_api_client_secret: self.has_secret,
            is_active: self.is_active,
            sync_status: StoreStatus::parse(&self.sync_status),
            last_sync_at: self.last_sync_at,
            last_sync_error: self.last_sync_error,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The associated data binding a secret to its row and column.
fn context(store: StoreId, column: &str) -> String {
    format!("amazon_stores/{store}/{column}")
}

impl NewStore {
    /// Checks what the schema cannot: marketplaces in the store's region, a
    /// plausible seller id, a client secret only with a client id.
    fn validate(&self) -> Result<()> {
        let invalid = |field, message: String| Err(Error::Invalid { field, message });
        let name = self.store_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return invalid("store_name", "a store name is 1 to 200 characters".into());
        }
        let seller = self.seller_id.trim();
        if seller.is_empty()
            || seller.len() > 32
            || !seller
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return invalid(
                "seller_id",
                format!(
                    "{seller:?} is not a selling partner id (upper-case letters and digits, like A3EXAMPLESELLER)"
                ),
            );
        }
        if self.marketplaces.is_empty() {
            return invalid("marketplaces", "a store needs at least one marketplace".into());
        }
        if let Some(m) = self.marketplaces.iter().find(|m| m.region() != self.region) {
            return invalid(
                "marketplaces",
                format!(
                    "marketplace {} ({}) is in region {}, not in the store's region {}",
                    m.id(),
                    m.country(),
                    m.region(),
                    self.region
                ),
            );
        }
        if self.sp_api_client_secret.is_some() != self.sp_api_client_id.is_some() {
            return invalid(
                "sp_api_client_secret",
                "a store's own LWA client needs both the client id and the client secret".into(),
            );
        }
        Ok(())
    }
}

/// Repository of stores (`db.stores()`).
#[derive(Debug, Clone, Copy)]
pub struct Stores<'a>(pub(crate) &'a Db);

impl Db {
    pub fn stores(&self) -> Stores<'_> {
        Stores(self)
    }
}

impl Stores<'_> {
    /// Creates a store with its marketplaces and encrypted secrets, all or nothing.
    pub async fn create(&self, new: NewStore) -> Result<Store> {
        new.validate()?;
        let mut marketplaces: Vec<String> = Vec::new();
        for m in &new.marketplaces {
            if !marketplaces.iter().any(|x| x == m.id()) {
                marketplaces.push(m.id().to_owned());
            }
        }
        let cipher = &self.0.cipher;
        let mut tx = self.0.begin().await?;
        let now = tx.now;
        // The secrets are bound to the row id, which exists only after the insert.
        let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO amazon_stores
                (user_id, store_name, region, marketplace_id, seller_id, sp_api_client_id,
                 is_active, sync_status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, 'idle', $7, $7)
             RETURNING id",
        )
        .bind(new.user_id.0)
        .bind(new.store_name.trim())
        .bind(new.region.as_str())
        .bind(&marketplaces[0])
        .bind(new.seller_id.trim())
        .bind(new.sp_api_client_id.as_deref().map(str::trim))
        .bind(now)
        .fetch_one(c)
        .await)
        .map_err(|e| Error::from_write_referencing(e, "user"))?;
        let store = StoreId(id);
        let seal = |s: &SecretString, col: &str| cipher.encrypt(s, &context(store, col));
        let sp = seal(&new.sp_api_refresh_token, "sp_api_refresh_token");
        let ads = new
            .advertising_api_refresh_token
            .as_ref()
            .map(|s| seal(s, "advertising_api_refresh_token"));
        let secret = new
            .sp_api_client_secret
            .as_ref()
            .map(|s| seal(s, "sp_api_client_secret"));
        on_tx!(tx, c => sqlx::query(
            "UPDATE amazon_stores SET sp_api_refresh_token = $1, advertising_api_refresh_token = $2,
                sp_api_client_secret = $3 WHERE id = $4",
        )
        .bind(sp)
        .bind(ads)
        .bind(secret)
        .bind(id)
        .execute(c)
        .await
        .map(drop))?;
        for m in &marketplaces {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO store_marketplaces (store_id, marketplace_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(m)
            .execute(c)
            .await
            .map(drop))?;
        }
        tx.commit().await?;
        self.get(Scope::All, store).await
    }

    /// One store, if `scope` may see it.
    pub async fn get(&self, scope: Scope, id: StoreId) -> Result<Store> {
        let sql = const_format_store_query("WHERE s.id = $1 AND ($2 IS NULL OR s.user_id = $2)");
        let row = on_pool!(self.0, p => sqlx::query_as::<_, StoreRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(scope.owner())
            .fetch_optional(p)
            .await)?;
        let row = row.ok_or(Error::NotFound { what: "store" })?;
        let mut markets = self.marketplaces_of(&[id.0]).await?;
        let list = markets.remove(&id.0).unwrap_or_default();
        Ok(row.into_store(list))
    }

    /// Every store `scope` may see, oldest first.
    pub async fn list(&self, scope: Scope) -> Result<Vec<Store>> {
        let sql = const_format_store_query("WHERE ($1 IS NULL OR s.user_id = $1) ORDER BY s.id");
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, StoreRow>(sqlx::AssertSqlSafe(sql))
            .bind(scope.owner())
            .fetch_all(p)
            .await)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut markets = self.marketplaces_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let list = markets.remove(&r.id).unwrap_or_default();
                r.into_store(list)
            })
            .collect())
    }

    /// Marketplace ids per store, each store's primary marketplace first.
    async fn marketplaces_of(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<String>>> {
        let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        // One query for all stores; the id list is bound as JSON so the same
        // statement serves one store or a thousand on both engines.
        let ids_json = serde_json::to_string(ids).expect("a list of integers serializes");
        let rows: Vec<(i64, String, bool)> = match &self.0.pool {
            crate::db::Pool::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.store_id, m.marketplace_id, m.marketplace_id = s.marketplace_id
                 FROM store_marketplaces m JOIN amazon_stores s ON s.id = m.store_id
                 WHERE m.store_id IN (SELECT value FROM json_each($1))
                 ORDER BY m.store_id, m.marketplace_id",
                )
                .bind(ids_json)
                .fetch_all(p)
                .await?
            }
            crate::db::Pool::Postgres(p) => {
                sqlx::query_as(
                    "SELECT m.store_id, m.marketplace_id, m.marketplace_id = s.marketplace_id
                 FROM store_marketplaces m JOIN amazon_stores s ON s.id = m.store_id
                 WHERE m.store_id = ANY($1)
                 ORDER BY m.store_id, m.marketplace_id",
                )
                .bind(ids)
                .fetch_all(p)
                .await?
            }
        };
        for (store, market, primary) in rows {
            let list = out.entry(store).or_default();
            if primary {
                list.insert(0, market)
            } else {
                list.push(market)
            }
        }
        Ok(out)
    }

    /// The decrypted secrets of a store. A wrong key or an altered value is an
    /// error naming the store and the column, never garbage.
    pub async fn credentials(&self, scope: Scope, id: StoreId) -> Result<StoreCredentials> {
        type Sealed = (Option<String>, Option<String>, Option<String>, Option<String>);
        let row: Option<Sealed> = on_pool!(self.0, p => sqlx::query_as(
            "SELECT sp_api_refresh_token, advertising_api_refresh_token, sp_api_client_id, sp_api_client_secret
             FROM amazon_stores WHERE id = $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(id.0)
        .bind(scope.owner())
        .fetch_optional(p)
        .await)?;
        let (sp, ads, client_id, secret) = row.ok_or(Error::NotFound { what: "store" })?;
        let open = |value: Option<String>, column: &'static str| -> Result<Option<SecretString>> {
            value
                .map(|v| {
                    self.0
                        .cipher
                        .decrypt(&v, &context(id, column))
                        .map_err(|reason| Error::Secret {
                            store_id: id,
                            column,
                            reason,
                        })
                })
                .transpose()
        };
        Ok(StoreCredentials {
            sp_api_refresh_token: open(sp, "sp_api_refresh_token")?,
            advertising_api_refresh_token: open(ads, "advertising_api_refresh_token")?,
            sp_api_client_id: client_id,
            sp_api_client_secret: open(secret, "sp_api_client_secret")?,
        })
    }

    /// Replaces the refresh tokens given (others are kept). New credentials
    /// clear "needs re-authorization".
    pub async fn rotate_credentials(
        &self,
        scope: Scope,
        id: StoreId,
        sp_api_refresh_token: Option<&SecretString>,
        advertising_api_refresh_token: Option<&SecretString>,
    ) -> Result<Store> {
        let cipher = &self.0.cipher;
        let sp = sp_api_refresh_token.map(|s| cipher.encrypt(s, &context(id, "sp_api_refresh_token")));
        let ads = advertising_api_refresh_token
            .map(|s| cipher.encrypt(s, &context(id, "advertising_api_refresh_token")));
        let now = self.0.now();
        let changed = on_pool!(self.0, p => sqlx::query(
            "UPDATE amazon_stores SET
                sp_api_refresh_token = COALESCE($1, sp_api_refresh_token),
                advertising_api_refresh_token = COALESCE($2, advertising_api_refresh_token),
                sync_status = CASE WHEN sync_status = 'needs_reauth' THEN 'idle' ELSE sync_status END,
                updated_at = $3
             WHERE id = $4 AND ($5 IS NULL OR user_id = $5)",
        )
        .bind(sp)
        .bind(ads)
        .bind(now)
        .bind(id.0)
        .bind(scope.owner())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "store")?;
        self.get(scope, id).await
    }

    /// Turns scheduled syncs for the store on or off.
    pub async fn set_active(&self, scope: Scope, id: StoreId, active: bool) -> Result<Store> {
        let now = self.0.now();
        let changed = on_pool!(self.0, p => sqlx::query(
            "UPDATE amazon_stores SET is_active = $1, updated_at = $2
             WHERE id = $3 AND ($4 IS NULL OR user_id = $4)",
        )
        .bind(active)
        .bind(now)
        .bind(id.0)
        .bind(scope.owner())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "store")?;
        self.get(scope, id).await
    }

    /// Records where the store stands after a sync (the engine calls this).
    pub async fn set_status(&self, id: StoreId, status: StoreStatus, error: Option<&str>) -> Result<()> {
        let now = self.0.now();
        on_pool!(self.0, p => sqlx::query(
            "UPDATE amazon_stores SET sync_status = $1, last_sync_error = $2,
                last_sync_at = CASE WHEN $1 IN ('idle', 'error', 'needs_reauth') THEN $3 ELSE last_sync_at END,
                updated_at = $3
             WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now)
        .bind(id.0)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Deletes the store and, by cascade, its tasks, reports and data.
    pub async fn delete(&self, scope: Scope, id: StoreId) -> Result<()> {
        let changed = on_pool!(self.0, p => sqlx::query(
            "DELETE FROM amazon_stores WHERE id = $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(id.0)
        .bind(scope.owner())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "store")?;
        Ok(())
    }
}

fn const_format_store_query(tail: &str) -> String {
    format!("SELECT {STORE_COLUMNS} FROM amazon_stores s {tail}")
}
