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
    /// Days a later business sync re-pulls; `None`: the configured default.
    pub business_lookback_days: Option<u32>,
    /// Days a later advertising sync re-pulls; `None`: the configured default.
    pub ads_lookback_days: Option<u32>,
}

/// The bounds of a store's lookbacks (both kinds), also a CHECK in the schema:
/// Amazon restates Sales & Traffic for about a week and grows attributed ad
/// sales for up to 30 days (PROTOCOL §4.4.4, §5.8); 60 leaves room for a
/// cautious seller while keeping the whole lookback inside every Ads report's
/// retention (search terms: 65 days) and a daily run's reports bounded.
pub const LOOKBACK_DAYS: std::ops::RangeInclusive<u32> = 1..=60;

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
    /// Days a later business sync re-pulls (and after which a day is final);
    /// `None`: the configured default.
    pub business_lookback_days: Option<u32>,
    /// The same for advertising.
    pub ads_lookback_days: Option<u32>,
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

/// A change to a store; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct StoreUpdate {
    pub store_name: Option<String>,
    /// Every marketplace, the primary one first; all in the store's region.
    pub marketplaces: Option<Vec<Marketplace>>,
    pub is_active: Option<bool>,
    pub sp_api_refresh_token: Option<SecretString>,
    pub advertising_api_refresh_token: Option<SecretString>,
    pub lwa_client: Option<LwaClient>,
    /// `Some(None)` returns to the configured default.
    pub business_lookback_days: Option<Option<u32>>,
    /// `Some(None)` returns to the configured default.
    pub ads_lookback_days: Option<Option<u32>>,
}

/// Which LWA application a store's tokens belong to.
#[derive(Debug, Clone)]
pub enum LwaClient {
    /// The globally configured application.
    Global,
    /// The store's own application.
    Own {
        client_id: String,
        client_secret: SecretString,
    },
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
    business_lookback_days: Option<i32>,
    ads_lookback_days: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const STORE_COLUMNS: &str = "s.id, s.user_id, s.store_name, s.region, s.marketplace_id, s.seller_id,
    s.sp_api_refresh_token IS NOT NULL AS has_sp,
    s.advertising_api_refresh_token IS NOT NULL AS has_ads,
    s.sp_api_client_id,
    s.sp_api_client_secret IS NOT NULL AS has_secret,
    s.is_active, s.sync_status, s.last_sync_at, s.last_sync_error,
    s.business_lookback_days, s.ads_lookback_days, s.created_at, s.updated_at";

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
            // The schema's CHECK keeps them within 1..=60.
            business_lookback_days: self.business_lookback_days.and_then(|d| u32::try_from(d).ok()),
            ads_lookback_days: self.ads_lookback_days.and_then(|d| u32::try_from(d).ok()),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The associated data binding a secret to its row and column.
fn context(store: StoreId, column: &str) -> String {
    format!("amazon_stores/{store}/{column}")
}

fn validate_store_name(name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Invalid {
            field: "store_name",
            message: "a store name is 1 to 200 characters".into(),
        });
    }
    Ok(())
}

fn validate_lookback(field: &'static str, days: Option<u32>) -> Result<()> {
    match days {
        Some(d) if !LOOKBACK_DAYS.contains(&d) => Err(Error::Invalid {
            field,
            message: format!(
                "{d} days is outside {}..={}: Amazon restates a day for a week (ads: up to 30 days) \
                 and keeps search terms 65 days",
                LOOKBACK_DAYS.start(),
                LOOKBACK_DAYS.end()
            ),
        }),
        _ => Ok(()),
    }
}

/// The marketplace ids to store, duplicates dropped, the primary one first.
fn validate_marketplaces(region: Region, list: &[Marketplace]) -> Result<Vec<String>> {
    if list.is_empty() {
        return Err(Error::Invalid {
            field: "marketplaces",
            message: "a store needs at least one marketplace".into(),
        });
    }
    if let Some(m) = list.iter().find(|m| m.region() != region) {
        return Err(Error::Invalid {
            field: "marketplaces",
            message: format!(
                "marketplace {} ({}) is in region {}, not in the store's region {}",
                m.id(),
                m.country(),
                m.region(),
                region
            ),
        });
    }
    let mut ids: Vec<String> = Vec::new();
    for m in list {
        if !ids.iter().any(|x| x == m.id()) {
            ids.push(m.id().to_owned());
        }
    }
    Ok(ids)
}

impl NewStore {
    /// Checks what the schema cannot: marketplaces in the store's region, a
    /// plausible seller id, a client secret only with a client id.
    fn validate(&self) -> Result<Vec<String>> {
        validate_store_name(&self.store_name)?;
        let seller = self.seller_id.trim();
        if seller.is_empty()
            || seller.len() > 32
            || !seller
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(Error::Invalid {
                field: "seller_id",
                message: format!(
                    "{seller:?} is not a selling partner id (upper-case letters and digits, like A3EXAMPLESELLER)"
                ),
            });
        }
        let marketplaces = validate_marketplaces(self.region, &self.marketplaces)?;
        validate_lookback("business_lookback_days", self.business_lookback_days)?;
        validate_lookback("ads_lookback_days", self.ads_lookback_days)?;
        if self.sp_api_client_secret.is_some() != self.sp_api_client_id.is_some() {
            return Err(Error::Invalid {
                field: "sp_api_client_secret",
                message: "a store's own LWA client needs both the client id and the client secret".into(),
            });
        }
        Ok(marketplaces)
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
        let marketplaces = new.validate()?;
        let cipher = &self.0.cipher;
        let mut tx = self.0.begin().await?;
        let now = tx.now;
        // The secrets are bound to the row id, which exists only after the insert.
        let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO amazon_stores
                (user_id, store_name, region, marketplace_id, seller_id, sp_api_client_id,
                 is_active, sync_status, business_lookback_days, ads_lookback_days, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, 'idle', $8, $9, $7, $7)
             RETURNING id",
        )
        .bind(new.user_id.0)
        .bind(new.store_name.trim())
        .bind(new.region.as_str())
        .bind(&marketplaces[0])
        .bind(new.seller_id.trim())
        .bind(new.sp_api_client_id.as_deref().map(str::trim))
        .bind(now)
        .bind(new.business_lookback_days.and_then(|d| i32::try_from(d).ok()))
        .bind(new.ads_lookback_days.and_then(|d| i32::try_from(d).ok()))
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

    /// Changes what `change` names, all or nothing. New credentials clear
    /// "needs re-authorization": the engine may try the store again.
    pub async fn update(&self, scope: Scope, id: StoreId, change: StoreUpdate) -> Result<Store> {
        let current = self.get(scope, id).await?;
        if let Some(name) = &change.store_name {
            validate_store_name(name)?;
        }
        let marketplaces = match &change.marketplaces {
            Some(list) => Some(validate_marketplaces(current.region, list)?),
            None => None,
        };
        validate_lookback("business_lookback_days", change.business_lookback_days.flatten())?;
        validate_lookback("ads_lookback_days", change.ads_lookback_days.flatten())?;
        // (set it?, the new value or NULL for the default)
        let lookback = |change: Option<Option<u32>>| {
            (
                change.is_some(),
                change.flatten().and_then(|d| i32::try_from(d).ok()),
            )
        };
        let business_lookback = lookback(change.business_lookback_days);
        let ads_lookback = lookback(change.ads_lookback_days);
        let cipher = &self.0.cipher;
        let seal = |s: &SecretString, col: &str| cipher.encrypt(s, &context(id, col));
        let sp = change
            .sp_api_refresh_token
            .as_ref()
            .map(|s| seal(s, "sp_api_refresh_token"));
        let ads = change
            .advertising_api_refresh_token
            .as_ref()
            .map(|s| seal(s, "advertising_api_refresh_token"));
        // (set the client?, client id, sealed secret)
        let client = match &change.lwa_client {
            None => (false, None, None),
            Some(LwaClient::Global) => (true, None, None),
            Some(LwaClient::Own {
                client_id,
                client_secret,
            }) => {
                if client_id.trim().is_empty() {
                    return Err(Error::Invalid {
                        field: "sp_api_client_id",
                        message: "a store's own LWA client needs a client id".into(),
                    });
                }
                (
                    true,
                    Some(client_id.trim().to_owned()),
                    Some(seal(client_secret, "sp_api_client_secret")),
                )
            }
        };
        let new_credentials = sp.is_some() || ads.is_some() || client.0;

        let mut tx = self.0.begin().await?;
        let now = tx.now;
        on_tx!(tx, c => sqlx::query(
            "UPDATE amazon_stores SET
                store_name = COALESCE($1, store_name),
                is_active = COALESCE($2, is_active),
                sp_api_refresh_token = COALESCE($3, sp_api_refresh_token),
                advertising_api_refresh_token = COALESCE($4, advertising_api_refresh_token),
                sp_api_client_id = CASE WHEN $5 THEN $6 ELSE sp_api_client_id END,
                sp_api_client_secret = CASE WHEN $5 THEN $7 ELSE sp_api_client_secret END,
                marketplace_id = COALESCE($8, marketplace_id),
                sync_status = CASE WHEN $9 AND sync_status = 'needs_reauth' THEN 'idle' ELSE sync_status END,
                updated_at = $10,
                business_lookback_days = CASE WHEN $12 THEN $13 ELSE business_lookback_days END,
                ads_lookback_days = CASE WHEN $14 THEN $15 ELSE ads_lookback_days END
             WHERE id = $11",
        )
        .bind(change.store_name.as_deref().map(str::trim))
        .bind(change.is_active)
        .bind(sp)
        .bind(ads)
        .bind(client.0)
        .bind(client.1)
        .bind(client.2)
        .bind(marketplaces.as_ref().map(|m| m[0].clone()))
        .bind(new_credentials)
        .bind(now)
        .bind(id.0)
        .bind(business_lookback.0)
        .bind(business_lookback.1)
        .bind(ads_lookback.0)
        .bind(ads_lookback.1)
        .execute(c)
        .await
        .map(drop))?;
        if let Some(list) = &marketplaces {
            on_tx!(tx, c => sqlx::query("DELETE FROM store_marketplaces WHERE store_id = $1")
                .bind(id.0)
                .execute(c)
                .await
                .map(drop))?;
            for m in list {
                on_tx!(tx, c => sqlx::query(
                    "INSERT INTO store_marketplaces (store_id, marketplace_id) VALUES ($1, $2)",
                )
                .bind(id.0)
                .bind(m)
                .execute(c)
                .await
                .map(drop))?;
            }
        }
        tx.commit().await?;
        self.get(scope, id).await
    }

    /// Replaces the refresh tokens given (others are kept).
    pub async fn rotate_credentials(
        &self,
        scope: Scope,
        id: StoreId,
        sp_api_refresh_token: Option<&SecretString>,
        advertising_api_refresh_token: Option<&SecretString>,
    ) -> Result<Store> {
        let change = StoreUpdate {
            sp_api_refresh_token: sp_api_refresh_token.cloned(),
            advertising_api_refresh_token: advertising_api_refresh_token.cloned(),
            ..StoreUpdate::default()
        };
        self.update(scope, id, change).await
    }

    /// Turns scheduled syncs for the store on or off.
    pub async fn set_active(&self, scope: Scope, id: StoreId, active: bool) -> Result<Store> {
        self.update(
            scope,
            id,
            StoreUpdate {
                is_active: Some(active),
                ..StoreUpdate::default()
            },
        )
        .await
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

    /// Deletes the store, its tasks, reports and profiles (by cascade) and
    /// its rows in every data table, in one transaction. The data tables
    /// have no foreign key on PostgreSQL (migration 0004), so their rows are
    /// deleted here, after the store: deleting its tasks waits for a sync
    /// committing rows at that moment, whose rows the following statements
    /// then see; a later sync's fenced task update finds no task and rolls
    /// its rows back.
    pub async fn delete(&self, scope: Scope, id: StoreId) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let changed = on_tx!(tx, c => sqlx::query(
            "DELETE FROM amazon_stores WHERE id = $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(id.0)
        .bind(scope.owner())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        one_changed(changed, "store")?;
        for table in crate::ArchivedTable::ALL {
            for name in [table.name().to_owned(), format!("{}_archive", table.name())] {
                // Table names from our own list, never from input.
                let sql = format!("DELETE FROM {name} WHERE store_id = $1");
                on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id.0)
                    .execute(&mut *c)
                    .await
                    .map(drop))?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn const_format_store_query(tail: &str) -> String {
    format!("SELECT {STORE_COLUMNS} FROM amazon_stores s {tail}")
}
