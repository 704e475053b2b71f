//! The transactional outbox.
//!
//! A context that changes state appends the integration events it caused to its own `outbox`
//! table in the same transaction as the change, so an event exists exactly when its change was
//! committed. The relay (`mybnb_bus::Relay`) reads them back with [`pending`] in `position`
//! order and marks them with [`mark_published`] once the bus has them.

use anyhow::Context;
use mybnb_events::{AggregateId, CorrelationId, EventEnvelope, IntegrationEvent};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::db::{Bindings, Database, Migrations, Stop, instant_from_db, instant_to_db};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The outbox table, for the migrations of a context that publishes events.
pub fn migrations() -> Migrations {
    Migrations::per_backend(&SQLITE, &POSTGRES)
}

/// Records an event in the outbox of the transaction's database, wrapped in a new envelope
/// (see [`crate::db::Unit::record`]).
pub(crate) async fn record<E: IntegrationEvent>(
    transaction: &mut AnyConnection,
    event: &E,
    correlation: &CorrelationId,
) -> anyhow::Result<()> {
    let envelope = EventEnvelope::wrap(event, crate::db::now(), correlation)?;
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
    .bind(envelope.aggregate_id.as_str())
    .bind(envelope.correlation_id.as_str())
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
pub async fn mark_published(database: &Database, event_ids: &[Uuid]) -> anyhow::Result<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    database
        .write(async |unit| {
            let mut bindings = Bindings::default();
            let published_at = bindings.bind(instant_to_db(crate::db::now()))?;
            let ids = bindings.bind_all(event_ids.iter().map(Uuid::to_string))?;
            let sql = format!(
                "UPDATE outbox SET published_at = {published_at} WHERE event_id IN ({ids})"
            );
            unit.execute("marking events published", bindings.statement(sql))
                .await?;
            Ok::<_, Stop>(())
        })
        .await?;
    Ok(())
}

fn envelope_from_row(row: &AnyRow) -> anyhow::Result<EventEnvelope> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let version: i64 = row.try_get("event_version")?;
    Ok(EventEnvelope {
        id: Uuid::parse_str(&text("event_id")?)?,
        event_type: text("event_type")?,
        version: u16::try_from(version)?,
        occurred_at: instant_from_db(&text("occurred_at")?)?,
        aggregate_id: AggregateId::new(text("aggregate_id")?),
        correlation_id: CorrelationId::new(text("correlation_id")?),
        payload: serde_json::from_str(&text("payload")?)?,
    })
}
