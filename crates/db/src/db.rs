//! The database handle: a pool on one of two engines, the clock that stamps
//! rows, and the cipher for stores' secrets.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use amzsync_domain::{Clock, SystemClock, UserId};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{Cipher, Result};

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Whose rows a query may see. Every query on tenant data takes one, so
/// forgetting the tenant is a compile error rather than a data leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Operators (CLI, scheduler, workers) see every tenant.
    All,
    /// A user sees only their own stores and what hangs off them.
    Owner(UserId),
}

impl Scope {
    /// The owner to filter on, bound as `$n` in `($n IS NULL OR user_id = $n)`.
    pub(crate) fn owner(self) -> Option<i64> {
        match self {
            Scope::All => None,
            Scope::Owner(u) => Some(u.0),
        }
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool. The body is compiled
/// once per engine, which is how one SQL text serves both.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The same for an open transaction.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// One handle over SQLite or PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: Pool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cipher: Cipher,
}

impl Db {
    /// Opens (creating if needed) the SQLite file at `path`.
    pub async fn open_sqlite(path: &Path, cipher: Cipher) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers run beside the one writer; NORMAL is durable in WAL
            // mode except for the last transactions on power loss, not on a crash.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self::from_pool(Pool::Sqlite(pool), cipher))
    }

    /// Connects to the PostgreSQL database at `url`.
    pub async fn connect_postgres(url: &str, max_connections: u32, cipher: Cipher) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let mut pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30));
        if options.get_socket().is_none() {
            // Over TCP, sqlx 0.9.0 leaves Nagle's algorithm on (nodelay.rs).
            let port = options.get_port();
            pool = pool.after_connect(move |_, _| {
                Box::pin(async move {
                    crate::nodelay::set(port);
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await?;
        Ok(Self::from_pool(Pool::Postgres(pool), cipher))
    }

    fn from_pool(pool: Pool, cipher: Cipher) -> Self {
        Self {
            pool,
            clock: Arc::new(SystemClock),
            cipher,
        }
    }

    /// The same database, stamped by another clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clock rows are stamped with, so callers (task ids, windows) agree with it.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// Applies every migration not yet applied. Safe to run from many processes
    /// at once: sqlx takes a lock for the duration.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(drop)?);
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of
    /// one failing when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            now: self.now(),
        })
    }

    /// The SQLite pool, for code that shares the file (the embedded job queue).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for code that shares the database (the job queue).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }

    /// Closes every connection; waits for those in use to be returned.
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await);
    }
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pub(crate) inner: TxInner,
    /// The time every row written in this transaction is stamped with.
    pub(crate) now: DateTime<Utc>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// The connection under an open transaction, for code that must write in
/// the same transaction through another library (the job queue's enqueue).
#[derive(Debug)]
pub enum RawConnection<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl Tx {
    /// The transaction's connection.
    pub fn raw(&mut self) -> RawConnection<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => RawConnection::Sqlite(t),
            TxInner::Postgres(t) => RawConnection::Postgres(t),
        }
    }

    /// The time rows written in this transaction are stamped with.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
