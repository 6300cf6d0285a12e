//! Advertising (FR-3) beyond the per-SKU snapshot: the store's discovered Ads
//! profiles ([`AdsProfiles`]) and the detail tables, one row per Amazon id and
//! day (campaign, ad group, keyword or target, search term), upserted in bulk
//! like the snapshots and keyed by ids because names change.

use amzsync_domain::StoreId;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::bulk::{self, BulkRow, Kind, RowWriter, Table};
use crate::db::{on_pool, on_tx};
use crate::decimal::OptDec;
use crate::snapshots::{Stamped, with_archive};
use crate::{Db, Dec, Result, Snapshots, Tx};

/// An advertising profile as discovered from the store's Ads authorization:
/// one per (advertiser, marketplace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsProfile {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    /// The `Amazon-Advertising-API-Scope` of the profile's calls.
    pub profile_id: i64,
    /// The SP-API marketplace id (`accountInfo.marketplaceStringId`).
    pub marketplace_id: String,
    /// As the Ads API writes it (`UK` for Britain).
    pub country_code: String,
    pub currency_code: String,
    /// IANA time zone of the profile's report days.
    pub timezone: String,
    /// `seller`, `vendor` or `agency`.
    pub account_type: String,
    pub account_name: Option<String>,
    pub discovered_at: DateTime<Utc>,
}

/// A profile to record; the store and the discovery time are the caller's
/// and the database clock's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdsProfile {
    pub profile_id: i64,
    pub marketplace_id: String,
    pub country_code: String,
    pub currency_code: String,
    pub timezone: String,
    pub account_type: String,
    pub account_name: Option<String>,
}

/// Repository of discovered Ads profiles (`db.ads_profiles()`).
#[derive(Debug, Clone, Copy)]
pub struct AdsProfiles<'a>(pub(crate) &'a Db);

impl Db {
    pub fn ads_profiles(&self) -> AdsProfiles<'_> {
        AdsProfiles(self)
    }
}

impl AdsProfiles<'_> {
    /// Replaces the store's profiles with `profiles` in one transaction (a
    /// profile no longer reachable disappears), stamped now; returns them as
    /// stored, by profile id.
    pub async fn replace(&self, store: StoreId, profiles: &[NewAdsProfile]) -> Result<Vec<AdsProfile>> {
        let mut tx = self.0.begin().await?;
        let now = tx.now;
        on_tx!(tx, c => sqlx::query("DELETE FROM ads_profiles WHERE store_id = $1")
            .bind(store.0)
            .execute(&mut *c)
            .await
            .map(drop))?;
        for p in profiles {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO ads_profiles (store_id, profile_id, marketplace_id, country_code,
                    currency_code, timezone, account_type, account_name, discovered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(store.0)
            .bind(p.profile_id)
            .bind(&p.marketplace_id)
            .bind(&p.country_code)
            .bind(&p.currency_code)
            .bind(&p.timezone)
            .bind(&p.account_type)
            .bind(p.account_name.as_deref())
            .bind(now)
            .execute(&mut *c)
            .await
            .map(drop))
            .map_err(|e| crate::Error::from_write_referencing(e, "store"))?;
        }
        tx.commit().await?;
        self.list(store).await
    }

    /// The store's profiles, by profile id.
    pub async fn list(&self, store: StoreId) -> Result<Vec<AdsProfile>> {
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, AdsProfile>(
            "SELECT store_id, profile_id, marketplace_id, country_code, currency_code, timezone,
                account_type, account_name, discovered_at
             FROM ads_profiles WHERE store_id = $1 ORDER BY profile_id",
        )
        .bind(store.0)
        .fetch_all(p)
        .await)?;
        Ok(rows)
    }
}

/// One campaign's Sponsored Products results on one day (spCampaigns by
/// campaign), at the 7-day attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsCampaignRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub profile_id: i64,
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub marketplace_id: String,
    pub campaign_name: Option<String>,
    pub campaign_status: Option<String>,
    #[sqlx(try_from = "OptDec")]
    pub budget_amount: Option<Decimal>,
    pub budget_type: Option<String>,
    pub currency: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: AdsMetrics,
}

/// The metrics every detail row carries (the seller console's 7-day
/// attribution: `cost`, `sales7d`, `purchases7d`, `unitsSoldClicks7d`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsMetrics {
    pub impressions: i64,
    pub clicks: i64,
    #[sqlx(try_from = "Dec")]
    pub spend: Decimal,
    #[sqlx(try_from = "Dec")]
    pub sales_7d: Decimal,
    pub orders_7d: i64,
    pub units_7d: i64,
}

impl AdsMetrics {
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.impressions)
            .int(self.clicks)
            .dec(self.spend)
            .dec(self.sales_7d)
            .int(self.orders_7d)
            .int(self.units_7d);
    }
}

const METRIC_COLUMNS: &str = "impressions, clicks, spend, sales_7d, orders_7d, units_7d";

pub(crate) static CAMPAIGNS: Table = Table {
    name: "ads_campaign_metrics",
    key: &["store_id", "profile_id", "date", "campaign_id"],
    columns: &[
        ("store_id", Kind::BigInt),
        ("profile_id", Kind::BigInt),
        ("date", Kind::Date),
        ("campaign_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("campaign_name", Kind::Text),
        ("campaign_status", Kind::Text),
        ("budget_amount", Kind::Numeric),
        ("budget_type", Kind::Text),
        ("currency", Kind::Text),
        ("impressions", Kind::BigInt),
        ("clicks", Kind::BigInt),
        ("spend", Kind::Numeric),
        ("sales_7d", Kind::Numeric),
        ("orders_7d", Kind::BigInt),
        ("units_7d", Kind::BigInt),
    ],
};

impl BulkRow for AdsCampaignRow {
    const TABLE: &'static Table = &CAMPAIGNS;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .int(self.profile_id)
            .date(self.date)
            .int(self.campaign_id)
            .text(Some(&self.marketplace_id))
            .text(self.campaign_name.as_deref())
            .text(self.campaign_status.as_deref())
            .dec(self.budget_amount)
            .text(self.budget_type.as_deref())
            .text(Some(&self.currency));
        self.metrics.write(w);
    }
}

/// One ad group's results on one day (spCampaigns by campaign and ad group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsAdGroupRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub profile_id: i64,
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub marketplace_id: String,
    pub campaign_name: Option<String>,
    pub ad_group_name: Option<String>,
    pub ad_status: Option<String>,
    pub currency: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: AdsMetrics,
}

pub(crate) static AD_GROUPS: Table = Table {
    name: "ads_ad_group_metrics",
    key: &["store_id", "profile_id", "date", "campaign_id", "ad_group_id"],
    columns: &[
        ("store_id", Kind::BigInt),
        ("profile_id", Kind::BigInt),
        ("date", Kind::Date),
        ("campaign_id", Kind::BigInt),
        ("ad_group_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("campaign_name", Kind::Text),
        ("ad_group_name", Kind::Text),
        ("ad_status", Kind::Text),
        ("currency", Kind::Text),
        ("impressions", Kind::BigInt),
        ("clicks", Kind::BigInt),
        ("spend", Kind::Numeric),
        ("sales_7d", Kind::Numeric),
        ("orders_7d", Kind::BigInt),
        ("units_7d", Kind::BigInt),
    ],
};

impl BulkRow for AdsAdGroupRow {
    const TABLE: &'static Table = &AD_GROUPS;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .int(self.profile_id)
            .date(self.date)
            .int(self.campaign_id)
            .int(self.ad_group_id)
            .text(Some(&self.marketplace_id))
            .text(self.campaign_name.as_deref())
            .text(self.ad_group_name.as_deref())
            .text(self.ad_status.as_deref())
            .text(Some(&self.currency));
        self.metrics.write(w);
    }
}

/// One keyword or product/auto target on one day (spTargeting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsTargetingRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub profile_id: i64,
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub keyword_id: i64,
    pub marketplace_id: String,
    pub keyword: Option<String>,
    pub keyword_type: Option<String>,
    pub match_type: Option<String>,
    pub targeting: Option<String>,
    pub currency: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: AdsMetrics,
}

pub(crate) static TARGETING: Table = Table {
    name: "ads_targeting_metrics",
    key: &[
        "store_id",
        "profile_id",
        "date",
        "campaign_id",
        "ad_group_id",
        "keyword_id",
    ],
    columns: &[
        ("store_id", Kind::BigInt),
        ("profile_id", Kind::BigInt),
        ("date", Kind::Date),
        ("campaign_id", Kind::BigInt),
        ("ad_group_id", Kind::BigInt),
        ("keyword_id", Kind::BigInt),
        ("marketplace_id", Kind::Text),
        ("keyword", Kind::Text),
        ("keyword_type", Kind::Text),
        ("match_type", Kind::Text),
        ("targeting", Kind::Text),
        ("currency", Kind::Text),
        ("impressions", Kind::BigInt),
        ("clicks", Kind::BigInt),
        ("spend", Kind::Numeric),
        ("sales_7d", Kind::Numeric),
        ("orders_7d", Kind::BigInt),
        ("units_7d", Kind::BigInt),
    ],
};

impl BulkRow for AdsTargetingRow {
    const TABLE: &'static Table = &TARGETING;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .int(self.profile_id)
            .date(self.date)
            .int(self.campaign_id)
            .int(self.ad_group_id)
            .int(self.keyword_id)
            .text(Some(&self.marketplace_id))
            .text(self.keyword.as_deref())
            .text(self.keyword_type.as_deref())
            .text(self.match_type.as_deref())
            .text(self.targeting.as_deref())
            .text(Some(&self.currency));
        self.metrics.write(w);
    }
}

/// One customer search, per keyword or target, on one day (spSearchTerm;
/// `*` for placements without a search keyword).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdsSearchTermRow {
    #[sqlx(try_from = "i64")]
    pub store_id: StoreId,
    pub profile_id: i64,
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub keyword_id: i64,
    pub search_term: String,
    pub marketplace_id: String,
    pub keyword: Option<String>,
    pub match_type: Option<String>,
    pub currency: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub metrics: AdsMetrics,
}

pub(crate) static SEARCH_TERMS: Table = Table {
    name: "ads_search_term_metrics",
    key: &[
        "store_id",
        "profile_id",
        "date",
        "campaign_id",
        "ad_group_id",
        "keyword_id",
        "search_term",
    ],
    columns: &[
        ("store_id", Kind::BigInt),
        ("profile_id", Kind::BigInt),
        ("date", Kind::Date),
        ("campaign_id", Kind::BigInt),
        ("ad_group_id", Kind::BigInt),
        ("keyword_id", Kind::BigInt),
        ("search_term", Kind::Text),
        ("marketplace_id", Kind::Text),
        ("keyword", Kind::Text),
        ("match_type", Kind::Text),
        ("currency", Kind::Text),
        ("impressions", Kind::BigInt),
        ("clicks", Kind::BigInt),
        ("spend", Kind::Numeric),
        ("sales_7d", Kind::Numeric),
        ("orders_7d", Kind::BigInt),
        ("units_7d", Kind::BigInt),
    ],
};

impl BulkRow for AdsSearchTermRow {
    const TABLE: &'static Table = &SEARCH_TERMS;
    fn write<'a>(&'a self, w: &mut RowWriter<'_, 'a>) {
        w.int(self.store_id.0)
            .int(self.profile_id)
            .date(self.date)
            .int(self.campaign_id)
            .int(self.ad_group_id)
            .int(self.keyword_id)
            .text(Some(&self.search_term))
            .text(Some(&self.marketplace_id))
            .text(self.keyword.as_deref())
            .text(self.match_type.as_deref())
            .text(Some(&self.currency));
        self.metrics.write(w);
    }
}

impl Snapshots<'_> {
    pub async fn upsert_ads_campaigns(tx: &mut Tx, rows: &[AdsCampaignRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_ads_ad_groups(tx: &mut Tx, rows: &[AdsAdGroupRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_ads_targeting(tx: &mut Tx, rows: &[AdsTargetingRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    pub async fn upsert_ads_search_terms(tx: &mut Tx, rows: &[AdsSearchTermRow]) -> Result<u64> {
        bulk::upsert(tx, rows).await
    }

    /// A store's campaign rows between two days (both included), archived
    /// rows included, by day, profile and key.
    pub async fn ads_campaigns_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Stamped<AdsCampaignRow>>> {
        let sql = detail_read(
            &CAMPAIGNS,
            "campaign_name, campaign_status, budget_amount, budget_type",
        );
        self.detail_between(sql, store, from, to).await
    }

    /// The same for ad groups.
    pub async fn ads_ad_groups_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Stamped<AdsAdGroupRow>>> {
        let sql = detail_read(&AD_GROUPS, "campaign_name, ad_group_name, ad_status");
        self.detail_between(sql, store, from, to).await
    }

    /// The same for keywords and targets.
    pub async fn ads_targeting_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Stamped<AdsTargetingRow>>> {
        let sql = detail_read(&TARGETING, "keyword, keyword_type, match_type, targeting");
        self.detail_between(sql, store, from, to).await
    }

    /// The same for search terms.
    pub async fn ads_search_terms_between(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Stamped<AdsSearchTermRow>>> {
        let sql = detail_read(&SEARCH_TERMS, "keyword, match_type");
        self.detail_between(sql, store, from, to).await
    }

    /// Runs a [`detail_read`] for `store` between two days.
    async fn detail_between<T>(
        &self,
        sql: String,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<T>>
    where
        T: Send + Unpin,
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql))
            .bind(store.0)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}

/// A read of a detail table and its archive twin for `$1` store between `$2`
/// and `$3`; a key present in both is read from the live table only.
/// `descriptive` are the columns between the key (with `marketplace_id`) and
/// `currency`.
fn detail_read(table: &Table, descriptive: &str) -> String {
    let key = table.key.join(", ");
    let columns =
        format!("{key}, marketplace_id, {descriptive}, currency, {METRIC_COLUMNS}, created_at, updated_at");
    with_archive(
        table.name,
        table.key,
        &columns,
        "store_id = $1 AND date BETWEEN $2 AND $3",
        &key,
    )
}
