//! Users: the tenants that own stores.

use amzsync_domain::UserId;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::on_pool;
use crate::{Db, Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    name: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            name: r.name,
            is_admin: r.is_admin,
            created_at: r.created_at,
        }
    }
}

/// Repository of users (`db.users()`).
#[derive(Debug, Clone, Copy)]
pub struct Users<'a>(pub(crate) &'a Db);

impl Db {
    pub fn users(&self) -> Users<'_> {
        Users(self)
    }
}

/// A user name: 1 to 64 characters, no control characters, not only spaces.
fn validate_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field: "name",
            message: "a user name is 1 to 64 printable characters".into(),
        });
    }
    Ok(name)
}

impl Users<'_> {
    pub async fn create(&self, name: &str, is_admin: bool) -> Result<User> {
        let name = validate_name(name)?;
        let now = self.0.now();
        let row = on_pool!(self.0, p => sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (name, is_admin, created_at) VALUES ($1, $2, $3)
             RETURNING id, name, is_admin, created_at",
        )
        .bind(name)
        .bind(is_admin)
        .bind(now)
        .fetch_one(p)
        .await)
        .map_err(Error::from_write)?;
        Ok(row.into())
    }

    pub async fn get(&self, id: UserId) -> Result<User> {
        let row = on_pool!(self.0, p => sqlx::query_as::<_, UserRow>(
            "SELECT id, name, is_admin, created_at FROM users WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(p)
        .await)?;
        row.map(User::from).ok_or(Error::NotFound { what: "user" })
    }

    pub async fn by_name(&self, name: &str) -> Result<User> {
        let row = on_pool!(self.0, p => sqlx::query_as::<_, UserRow>(
            "SELECT id, name, is_admin, created_at FROM users WHERE name = $1",
        )
        .bind(name.trim())
        .fetch_optional(p)
        .await)?;
        row.map(User::from).ok_or(Error::NotFound { what: "user" })
    }

    pub async fn list(&self) -> Result<Vec<User>> {
        let rows = on_pool!(self.0, p => sqlx::query_as::<_, UserRow>(
            "SELECT id, name, is_admin, created_at FROM users ORDER BY id",
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(User::from).collect())
    }
}
