//! The user repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use mybnb_events::CorrelationId;
use mybnb_events::identity::UserRegistered;
use mybnb_platform::db::{Database, instant_from_db, instant_to_db};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::{DisplayName, Email, User, Username};

/// The outcome of inserting a user.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    Created,
    UsernameTaken,
}

/// Where users and their password hashes are kept. Errors are failures of the store itself.
#[derive(Clone)]
pub struct SqlUserRepository {
    database: Database,
}

impl SqlUserRepository {
    pub fn new(database: Database) -> Self {
        SqlUserRepository { database }
    }

    pub async fn insert(
        &self,
        user: &User,
        password_hash: &str,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Inserted> {
        let insert = sqlx::query(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id.to_string())
        .bind(user.username.as_str())
        .bind(user.display_name.as_str())
        .bind(user.email.as_ref().map(Email::as_str))
        .bind(password_hash)
        .bind(instant_to_db(user.created_at));
        let event = UserRegistered {
            user_id: user.id,
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            email: user.email.as_ref().map(|email| email.as_str().to_owned()),
        };
        self.database
            .write_caused_by(correlation, async |unit| {
                unit.insert_unique("inserting a user", insert, Inserted::UsernameTaken)
                    .await?;
                unit.record(&event).await?;
                Ok(Inserted::Created)
            })
            .await?
            .answer()
    }

    /// The user and their password hash.
    pub async fn find_by_username(
        &self,
        username: &Username,
    ) -> anyhow::Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, username, display_name, email, created_at, password_hash \
             FROM users WHERE username = $1",
        )
        .bind(username.as_str())
        .fetch_optional(self.database.pool())
        .await
        .context("reading a user by username")?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn find(&self, id: Uuid) -> anyhow::Result<Option<User>> {
        let row = sqlx::query(
            "SELECT id, username, display_name, email, created_at FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(self.database.pool())
        .await
        .context("reading a user")?;
        row.as_ref().map(user_from_row).transpose()
    }
}

fn user_from_row(row: &AnyRow) -> anyhow::Result<User> {
    let id: String = row.try_get("id")?;
    let username: String = row.try_get("username")?;
    let display_name: String = row.try_get("display_name")?;
    let email: Option<String> = row.try_get("email")?;
    let created_at: String = row.try_get("created_at")?;
    Ok(User {
        id: Uuid::parse_str(&id)?,
        username: Username::parse(&username)?,
        display_name: DisplayName::parse(&display_name)?,
        email: email.as_deref().map(Email::parse).transpose()?,
        created_at: instant_from_db(&created_at)?,
    })
}
