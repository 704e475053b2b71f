//! The inbox: exactly-once effects from at-least-once delivery.
//!
//! A consumer calls [`crate::db::Unit::first_time`] in the write unit that applies an event's
//! effect. The event id is recorded in the consumer's own database with the effect, so either
//! both commit or neither does; when the id is already there, the event was handled before and
//! the unit stops, changing nothing.

use anyhow::Context;
use sqlx::AnyConnection;
use uuid::Uuid;

use crate::db::{Migrations, instant_to_db, now};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/inbox");

/// The inbox table, for the migrations of a context that consumes events.
pub fn migrations() -> Migrations {
    Migrations::portable(&MIGRATOR)
}

/// Which consumer handles which event: what a write unit needs to record it in the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handling {
    pub consumer: &'static str,
    pub event_id: Uuid,
}

impl Handling {
    /// Records in this transaction that the consumer handles the event; `false` when it
    /// already has, in which case the caller must change nothing.
    pub(crate) async fn first_time(&self, transaction: &mut AnyConnection) -> anyhow::Result<bool> {
        let recorded = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, handled_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.consumer)
        .bind(self.event_id.to_string())
        .bind(instant_to_db(now()))
        .execute(transaction)
        .await
        .context("recording a handled event in the inbox")?;
        Ok(recorded.rows_affected() == 1)
    }
}

/// Forgets every event `consumer` handled, for a read model rebuilt from the whole history.
pub async fn forget(transaction: &mut AnyConnection, consumer: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM inbox WHERE consumer = $1")
        .bind(consumer)
        .execute(transaction)
        .await
        .context("clearing the inbox")?;
    Ok(())
}
