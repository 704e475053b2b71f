//! What both bus suites build their events and outboxes with.

use mybnb_events::{AggregateId, CorrelationId, EventEnvelope};
use mybnb_platform::db::{Database, Stop};
use uuid::Uuid;

/// An envelope of `event_type` about `aggregate`, with a payload naming it.
pub fn event(event_type: &str, aggregate: &str) -> EventEnvelope {
    EventEnvelope {
        id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        version: 1,
        occurred_at: mybnb_platform::db::now(),
        aggregate_id: AggregateId::new(aggregate),
        correlation_id: CorrelationId::new("test"),
        payload: serde_json::json!({ "aggregate": aggregate }),
    }
}

/// Writes the envelope, as it is, into the outbox of `outbox_database`.
pub async fn record(outbox_database: &Database, envelope: &EventEnvelope) {
    let insert = sqlx::query(
        "INSERT INTO outbox (event_id, event_type, event_version, aggregate_id, \
         correlation_id, occurred_at, payload) VALUES ($1, $2, 1, $3, $4, $5, $6)",
    )
    .bind(envelope.id.to_string())
    .bind(&envelope.event_type)
    .bind(envelope.aggregate_id.as_str())
    .bind(envelope.correlation_id.as_str())
    .bind(mybnb_platform::db::instant_to_db(envelope.occurred_at))
    .bind(envelope.payload.to_string());
    outbox_database
        .write(async |unit| {
            unit.execute("recording an envelope", insert).await?;
            Ok::<_, Stop>(())
        })
        .await
        .expect("recorded");
}
