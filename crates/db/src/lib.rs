#![doc = include_str!("../README.md")]

mod ads;
mod archive;
mod bulk;
mod db;
mod decimal;
mod error;
mod freshness;
mod history;
mod nodelay;
mod secrets;
mod snapshots;
mod stores;
mod summary;
mod sync_tasks;
mod tokens;
mod users;

pub use ads::{
    AdsAdGroupRow, AdsCampaignRow, AdsMetrics, AdsProfile, AdsProfiles, AdsSearchTermRow, AdsTargetingRow,
    NewAdsProfile,
};
pub use archive::{Archive, ArchivedTable};
pub use db::{Db, Engine, RawConnection, Scope, Tx};
pub use decimal::Dec;
pub use error::Error;
pub use freshness::Freshness;
pub use history::{AdsRange, AdsTable, AsinTrafficRow, DayTable, LedgerRow};
pub use secrets::{Cipher, CipherError, KEY_LEN};
pub use snapshots::{AdsMetricRow, BusinessMetricRow, InventoryRow, SalesTrafficMetrics, Snapshots, Stamped};
pub use stores::{
    LOOKBACK_DAYS, LwaClient, NewStore, Store, StoreCredentials, StoreStatus, StoreUpdate, Stores,
};
pub use summary::{CurrentInventory, SkuSummary};
pub use sync_tasks::{
    Fetched, Lease, NewSyncTask, Page, SyncTask, SyncTaskFilter, SyncTasks, TaskHistory, TaskOrder,
    TaskSortKey,
};
pub use tokens::{ApiToken, Tokens};
pub use users::{User, Users};

pub type Result<T, E = Error> = std::result::Result<T, E>;
