//! Per-test databases.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use amzsync_db::{Cipher, Db, Engine};
use amzsync_domain::ManualClock;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Advisory lock serializing template creation across test processes.
const TEMPLATE_LOCK: i64 = 0x0061_6d7a_7379_6e63;

/// A migrated database that exists for one test and is removed after it.
pub struct TestDb {
    pub db: Db,
    location: Location,
}

enum Location {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        admin_url: String,
        url: String,
        name: String,
    },
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

fn test_cipher() -> Cipher {
    Cipher::new(&Cipher::generate_key())
}

impl TestDb {
    /// A new SQLite file in its own temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("creating a temporary directory for a test database");
        let path = dir.path().join("amzsync.db");
        let db = Db::open_sqlite(&path, test_cipher())
            .await
            .expect("opening a test SQLite file");
        db.migrate().await.expect("migrating a test SQLite file");
        TestDb {
            db,
            location: Location::Sqlite { _dir: dir, path },
        }
    }

    /// A new PostgreSQL database cloned from the migrated template.
    pub async fn postgres() -> Self {
        let admin_url =
            std::env::var("AMZSYNC_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at {admin_url} ({e}); start it with scripts/services.sh \
                 or point AMZSYNC_TEST_DATABASE_URL at a server"
            )
        });
        let template = ensure_template(&mut admin, &admin_url).await;
        let name = format!("amzsync_test_{}", ulid_like());
        // Cloning is done under the template lock too: PostgreSQL refuses to copy
        // a template while anyone (a concurrent migration) is connected to it.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await
            .unwrap();
        let created = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
        )))
        .execute(&mut admin)
        .await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await
            .unwrap();
        created.expect("creating a test database from the template");
        admin.close().await.ok();
        let url = database_url(&admin_url, &name);
        let db = Db::connect_postgres(&url, 5, test_cipher())
            .await
            .expect("connecting to the test database");
        TestDb {
            db,
            location: Location::Postgres { admin_url, url, name },
        }
    }

    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// The same database opened again with another cipher (another key).
    pub async fn reopen_with(&self, cipher: Cipher) -> Db {
        match &self.location {
            Location::Sqlite { path, .. } => Db::open_sqlite(path, cipher).await.unwrap(),
            Location::Postgres { url, .. } => Db::connect_postgres(url, 2, cipher).await.unwrap(),
        }
    }

    /// The SQLite file, or the PostgreSQL URL, to hand to a child process.
    pub fn url(&self) -> String {
        match &self.location {
            Location::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Location::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.location {
            Location::Sqlite { path, .. } => Some(path),
            Location::Postgres { .. } => None,
        }
    }

    /// The same database with its clock held at `now`: rows are stamped, and
    /// an engine or a server built on it reckons days, at that instant, so a
    /// test's "today" cannot turn over between its steps.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.db = self.db.clone().with_clock(Arc::new(ManualClock::new(now)));
        self
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Location::Postgres { admin_url, name, .. } = &self.location else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop cannot await, and the test's runtime may be shutting down: use a
        // thread with its own small runtime and wait for it, so the database is
        // gone when the test ends (also after a failed assertion).
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("dropping test database failed: {dropped:?}");
        }
    }
}

/// The template's name carries a hash of the migrations, so changing a
/// migration makes a new template instead of cloning a stale one.
async fn ensure_template(admin: &mut PgConnection, admin_url: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../db/migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for f in &files {
        hash.update(std::fs::read(f).unwrap());
    }
    let digest: String = hash
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let template = format!("amzsync_template_{digest}");

    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .unwrap();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&template)
        .fetch_one(&mut *admin)
        .await
        .unwrap();
    let result = async {
        if exists {
            return Ok(());
        }
        // Templates of other migrations belong to older commits, or to
        // another checkout (a branch with a new migration) whose tests may
        // be cloning them right now: keep the newest few (database oids
        // grow with creation), drop the rest so they do not pile up.
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database
             WHERE datname LIKE 'amzsync\\_template\\_%' AND datname NOT LIKE '%\\_building'
               AND datname <> $1
             ORDER BY oid DESC OFFSET 4",
        )
        .bind(&template)
        .fetch_all(&mut *admin)
        .await?;
        for old in stale {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                r#"DROP DATABASE IF EXISTS "{old}" WITH (FORCE)"#
            )))
            .execute(&mut *admin)
            .await?;
        }
        let building = format!("{template}_building");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#
        )))
        .execute(&mut *admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{building}""#)))
            .execute(&mut *admin)
            .await?;
        let db = Db::connect_postgres(&database_url(admin_url, &building), 1, test_cipher())
            .await
            .map_err(other)?;
        db.migrate().await.map_err(other)?;
        db.close().await;
        // Renamed only once complete, so a crash mid-migration leaves no
        // half-built template behind to be cloned.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"ALTER DATABASE "{building}" RENAME TO "{template}""#
        )))
        .execute(&mut *admin)
        .await?;
        Ok::<(), sqlx::Error>(())
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .unwrap();
    result.expect("building the migrated template database");
    template
}

fn other(e: amzsync_db::Error) -> sqlx::Error {
    sqlx::Error::Protocol(e.to_string())
}

fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

/// A unique, lower-case database name suffix.
fn ulid_like() -> String {
    ulid::Ulid::from_parts(
        u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
        u128::from(std::process::id()) << 64 | u128::from(rand_u64()),
    )
    .to_string()
    .to_ascii_lowercase()
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}
