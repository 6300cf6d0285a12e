//! Integration tests of the data layer on real SQLite and PostgreSQL.

mod ads;
mod archive;
mod bulk;
mod connections;
mod schema;
mod secrets;
mod stores;
mod sync_tasks;
mod users;

use amzsync_db::Db;

/// Runs one statement with text binds, bypassing the repositories (to tamper
/// with stored values the way an attacker or a bug would).
async fn raw_execute(db: &Db, sql: &'static str, binds: &[&str]) {
    if let Some(p) = db.sqlite_pool() {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(p).await.unwrap();
    } else {
        let p = db.postgres_pool().unwrap();
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(p).await.unwrap();
    }
}

async fn raw_text(db: &Db, sql: &'static str, bind: i64) -> String {
    if let Some(p) = db.sqlite_pool() {
        sqlx::query_scalar(sql).bind(bind).fetch_one(p).await.unwrap()
    } else {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(db.postgres_pool().unwrap())
            .await
            .unwrap()
    }
}
