//! SQLite's raw durable-commit rate on this machine (WAL, `synchronous=FULL`, one writer), the
//! ceiling for any design that commits each booking on its own.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

pub async fn rate(duration: Duration) -> anyhow::Result<f64> {
    let directory = tempfile::tempdir()?;
    let url = format!("sqlite://{}", directory.path().join("commits.db").display());
    let mut connection = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE commits (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&mut connection)
        .await?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < duration {
        let mut transaction = connection.begin().await?;
        sqlx::query("INSERT INTO commits (payload) VALUES ('a booking-sized row of text')")
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        commits += 1;
    }
    connection.close().await?;
    Ok(commits as f64 / started.elapsed().as_secs_f64())
}
