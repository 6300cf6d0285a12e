//! The crate's one error type, shaped by what callers do with it.

/// Any error a job handler wants to report; its text ends up in the queue's
/// `last_result` for operators.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong talking to the queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQL database (SQLite or PostgreSQL) failed.
    #[error("queue database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Running the queue's migrations failed.
    #[error("queue migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Redis failed.
    #[error("queue redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// The queue library reported an error we do not classify further.
    #[error("queue error: {0}")]
    Queue(BoxError),
    /// A job's payload could not be encoded or decoded.
    #[error("job payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// The operation does not exist on this backend (for example a
    /// transactional enqueue on Redis), or the connection given belongs to
    /// another backend.
    #[error("{operation} is not supported by the {backend} queue backend")]
    Unsupported {
        /// What was attempted.
        operation: &'static str,
        /// The queue's backend.
        backend: &'static str,
    },
    /// A cron expression or time zone did not parse.
    #[error("invalid schedule {expression:?}: {reason}")]
    Schedule {
        /// The expression as given.
        expression: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl From<apalis_sqlite::Error> for Error {
    fn from(e: apalis_sqlite::Error) -> Self {
        match e {
            apalis_sqlite::Error::Database(e) => Error::Database(e),
            other => Error::Queue(Box::new(other)),
        }
    }
}

impl From<apalis_postgres::Error> for Error {
    fn from(e: apalis_postgres::Error) -> Self {
        match e {
            apalis_postgres::Error::Database(e) => Error::Database(e),
            other => Error::Queue(Box::new(other)),
        }
    }
}

impl From<apalis_redis::Error> for Error {
    fn from(e: apalis_redis::Error) -> Self {
        match e {
            apalis_redis::Error::Database(e) => Error::Redis(e),
            other => Error::Queue(Box::new(other)),
        }
    }
}
