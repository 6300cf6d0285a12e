//! `amzsync migrate`: the schema is brought up to date when the database is
//! opened; this command does only that and says so.

use amzsync_db::{Db, Engine};

pub async fn run(db: &Db) -> anyhow::Result<()> {
    let engine = match db.engine() {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    };
    println!("{engine} database is up to date");
    Ok(())
}
