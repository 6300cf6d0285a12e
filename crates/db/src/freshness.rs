//! How fresh each active store's data is (FR-10 "stale data"): the end of its
//! latest successful sync of a kind, read from `sync_tasks`.

use amzsync_domain::{StoreId, SyncKind};
use chrono::{DateTime, Utc};

use crate::db::on_pool;
use crate::{Db, Result};

/// One active store's latest successful sync of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub store_id: StoreId,
    pub store_name: String,
    pub kind: SyncKind,
    /// When its latest successful sync of `kind` ended; `None` if it never had one.
    pub last_success: Option<DateTime<Utc>>,
    /// When the store was added: the reference for a store never synced.
    pub store_created_at: DateTime<Utc>,
}

impl Freshness {
    /// Since when the store's data of this kind has been waiting for a sync.
    pub fn since(&self) -> DateTime<Utc> {
        self.last_success.unwrap_or(self.store_created_at)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    store_name: String,
    created_at: DateTime<Utc>,
    last_success: Option<DateTime<Utc>>,
}

impl Db {
    /// For every active store and each of `kinds`, its latest successful sync,
    /// by store id. Every tenant: this is an operator's query (alerts).
    pub async fn freshness(&self, kinds: &[SyncKind]) -> Result<Vec<Freshness>> {
        let mut out = Vec::new();
        for &kind in kinds {
            let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
                "SELECT s.id, s.store_name, s.created_at,
                        (SELECT MAX(t.end_time) FROM sync_tasks t
                          WHERE t.store_id = s.id AND t.sync_type = $1 AND t.status = 'success') AS last_success
                 FROM amazon_stores s WHERE s.is_active ORDER BY s.id",
            )
            .bind(kind.as_str())
            .fetch_all(p)
            .await)?;
            out.extend(rows.into_iter().map(|r| Freshness {
                store_id: StoreId(r.id),
                store_name: r.store_name,
                kind,
                last_success: r.last_success,
                store_created_at: r.created_at,
            }));
        }
        out.sort_by_key(|f| f.store_id.0);
        Ok(out)
    }
}
