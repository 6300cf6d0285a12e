//! The one error type of the data layer, shaped by what callers do with it.

use amzsync_domain::{StoreId, SyncTaskId};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row does not exist, or belongs to another tenant (callers must not
    /// be able to tell the two apart).
    #[error("{what} not found")]
    NotFound { what: &'static str },

    /// A unique key refused the write; `constraint` is the key's name in the schema.
    #[error("conflicts with an existing row ({constraint})")]
    Conflict { constraint: &'static str },

    /// FR-6: a pending or running task of this kind already exists for the store.
    #[error("a sync of this kind is already running for this store (task {task_id})")]
    SyncAlreadyActive { task_id: SyncTaskId },

    /// The row is not in a state that allows the operation (retrying a task
    /// that has not failed).
    #[error("{message}")]
    InvalidState { message: String },

    /// A delivery wrote to a task it no longer holds: its lease expired and
    /// another delivery claimed the task. Its writes are refused so two
    /// workers never advance one task's checkpoint at once.
    #[error("sync task {task_id} was taken over by another worker (this worker's lease expired)")]
    LeaseLost { task_id: SyncTaskId },

    /// Input that cannot be stored, with the field at fault.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },

    /// A stored secret could not be decrypted: wrong key or tampered data.
    #[error("cannot decrypt {column} of store {store_id}: {reason}")]
    Secret {
        store_id: StoreId,
        column: &'static str,
        reason: crate::CipherError,
    },

    #[error("migrating the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error(transparent)]
    Other(#[from] sqlx::Error),
}

// Unique keys we report by name. PostgreSQL names the violated constraint;
// SQLite only lists its columns ("UNIQUE constraint failed: t.a, t.b"), so the
// same keys are also known by their columns.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("users_name_key", "users.name"),
    ("api_tokens_token_hash_key", "api_tokens.token_hash"),
    (
        "amazon_stores_seller_region_key",
        "amazon_stores.user_id, amazon_stores.seller_id, amazon_stores.region",
    ),
    (
        "sync_tasks_one_active_key",
        "sync_tasks.store_id, sync_tasks.sync_type",
    ),
];

/// The name of the unique key `err` violated, if that is what it is.
pub(crate) fn unique_violation(err: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if !matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation) {
        return None;
    }
    if let Some(name) = db.constraint() {
        return UNIQUE_KEYS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, _)| *n)
            .or(Some("unique"));
    }
    let columns = db.message().strip_prefix("UNIQUE constraint failed: ")?;
    Some(
        UNIQUE_KEYS
            .iter()
            .find(|(_, c)| *c == columns)
            .map(|(n, _)| *n)
            .unwrap_or("unique"),
    )
}

impl Error {
    /// Turns a unique violation into [`Error::Conflict`]; anything else stays as it is.
    pub(crate) fn from_write(err: sqlx::Error) -> Self {
        match unique_violation(&err) {
            Some(constraint) => Error::Conflict { constraint },
            None => Error::Other(err),
        }
    }

    /// The same, for a write whose only foreign key points at `what`: a
    /// violation means the referenced row does not exist.
    pub(crate) fn from_write_referencing(err: sqlx::Error, what: &'static str) -> Self {
        match err {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => Error::NotFound { what },
            other => Error::from_write(other),
        }
    }
}

/// An update or delete by key that changed no row found nothing (or nothing
/// the caller's scope may touch).
pub(crate) fn one_changed(rows: u64, what: &'static str) -> crate::Result<()> {
    if rows == 0 {
        Err(Error::NotFound { what })
    } else {
        Ok(())
    }
}
