//! The transactional outbox and the event envelope.
//!
//! A context that changes state appends the integration events it caused to its own `outbox`
//! table in the same transaction as the change, so an event exists exactly when its change was
//! committed. The relay (`mybnb_bus::Relay`) reads them back with [`pending`] in `position`
//! order and marks them with [`mark_published`] once the bus has them.

use anyhow::Context;
use chrono::{DateTime, Utc};
use mybnb_events::IntegrationEvent;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, AssertSqlSafe, Row};
use uuid::Uuid;

use crate::db::{Database, Migrations, WriteOutcome, instant_from_db, instant_to_db};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The outbox table, for the migrations of a context that publishes events.
pub fn migrations() -> Migrations {
    Migrations::per_backend(&SQLITE, &POSTGRES)
}

/// An integration event as it travels: the payload with what every subscriber needs to route,
/// de-duplicate and trace it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    /// Unique per event (UUIDv7, so ids sort by creation); subscribers de-duplicate by it.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    pub aggregate_id: String,
    /// The id of the request that caused the event, to follow one story across services.
    pub correlation_id: String,
    pub payload: serde_json::Value,
}

impl EventEnvelope {
    pub fn wrap<E: IntegrationEvent>(
        event: &E,
        occurred_at: DateTime<Utc>,
        correlation_id: &str,
    ) -> Result<Self, serde_json::Error> {
        Ok(EventEnvelope {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at,
            aggregate_id: event.aggregate_id(),
            correlation_id: correlation_id.to_owned(),
            payload: serde_json::to_value(event)?,
        })
    }
}

/// Records an event in the outbox of the transaction's database, wrapped in a new envelope.
pub async fn record<E: IntegrationEvent>(
    transaction: &mut AnyConnection,
    event: &E,
    correlation_id: &str,
) -> anyhow::Result<()> {
    let envelope = EventEnvelope::wrap(event, crate::db::now(), correlation_id)?;
    append(transaction, &envelope)
        .await
        .with_context(|| format!("appending {} to the outbox", E::TYPE))
}

async fn append(transaction: &mut AnyConnection, envelope: &EventEnvelope) -> sqlx::Result<()> {
    let payload = serde_json::to_string(&envelope.payload)
        .map_err(|error| sqlx::Error::Encode(error.into()))?;
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, event_version, aggregate_id, correlation_id, \
         occurred_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(envelope.id.to_string())
    .bind(&envelope.event_type)
    .bind(i64::from(envelope.version))
    .bind(&envelope.aggregate_id)
    .bind(&envelope.correlation_id)
    .bind(instant_to_db(envelope.occurred_at))
    .bind(payload)
    .execute(transaction)
    .await?;
    Ok(())
}

/// The oldest events not yet published, at most `limit`, in the order they were recorded.
pub async fn pending(database: &Database, limit: i64) -> anyhow::Result<Vec<EventEnvelope>> {
    let rows = sqlx::query(
        "SELECT event_id, event_type, event_version, aggregate_id, correlation_id, occurred_at, \
         payload FROM outbox WHERE published_at IS NULL ORDER BY position LIMIT $1",
    )
    .bind(limit)
    .fetch_all(database.pool())
    .await
    .context("reading the outbox")?;
    rows.iter().map(envelope_from_row).collect()
}

/// Marks the events published, in one statement. Only events the bus has acknowledged may be
/// marked. (By id, not by position range: on PostgreSQL a lower position can commit later.)
pub async fn mark_published(database: &Database, event_ids: Vec<Uuid>) -> anyhow::Result<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    database
        .write(Box::new(move |connection| {
            Box::pin(async move {
                let placeholders: Vec<String> = (2..event_ids.len() + 2)
                    .map(|index| format!("${index}"))
                    .collect();
                let sql = format!(
                    "UPDATE outbox SET published_at = $1 WHERE event_id IN ({})",
                    placeholders.join(", ")
                );
                let mut arguments = AnyArguments::default();
                arguments
                    .add(instant_to_db(crate::db::now()))
                    .map_err(|error| anyhow::anyhow!(error))?;
                for event_id in &event_ids {
                    arguments
                        .add(event_id.to_string())
                        .map_err(|error| anyhow::anyhow!(error))?;
                }
                // Only placeholders are interpolated; the values are bound.
                sqlx::query_with(AssertSqlSafe(sql), arguments)
                    .execute(&mut *connection)
                    .await
                    .context("marking events published")?;
                Ok(WriteOutcome::Keep(()))
            })
        }))
        .await
}

fn envelope_from_row(row: &AnyRow) -> anyhow::Result<EventEnvelope> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let version: i64 = row.try_get("event_version")?;
    Ok(EventEnvelope {
        id: Uuid::parse_str(&text("event_id")?)?,
        event_type: text("event_type")?,
        version: u16::try_from(version)?,
        occurred_at: instant_from_db(&text("occurred_at")?)?,
        aggregate_id: text("aggregate_id")?,
        correlation_id: text("correlation_id")?,
        payload: serde_json::from_str(&text("payload")?)?,
    })
}
