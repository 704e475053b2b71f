//! The published language as a document: an AsyncAPI 3.0 description of every event — who
//! publishes it, on which subject, its envelope, and a JSON Schema of its payload — generated
//! from the payload types themselves, so the document cannot drift from the code. It is kept
//! at `docs/asyncapi.json`; a test fails when the two differ.

use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::IntegrationEvent;
use crate::booking::{BookingCancelled, BookingConfirmed};
use crate::identity::UserRegistered;
use crate::payment::{PaymentApproved, PaymentCancelled};
use crate::room::{RoomDeleted, RoomRegistered};

/// The document's own version: its major number changes when an event changes in a way
/// existing subscribers cannot read.
const CONTRACT_VERSION: &str = "1.0.0";

/// One published event.
struct Entry {
    name: &'static str,
    version: u16,
    publisher: &'static str,
    schemas: Vec<(String, RefOr<Schema>)>,
}

fn entry<E: IntegrationEvent + ToSchema>(publisher: &'static str) -> Entry {
    let mut schemas = vec![(E::TYPE.to_owned(), E::schema())];
    E::schemas(&mut schemas);
    Entry {
        name: E::TYPE,
        version: E::VERSION,
        publisher,
        schemas,
    }
}

fn entries() -> Vec<Entry> {
    vec![
        entry::<UserRegistered>("identity"),
        entry::<RoomRegistered>("room"),
        entry::<RoomDeleted>("room"),
        entry::<BookingConfirmed>("booking"),
        entry::<BookingCancelled>("booking"),
        entry::<PaymentApproved>("payment"),
        entry::<PaymentCancelled>("payment"),
    ]
}

/// The subject an event type travels on over NATS JetStream.
pub fn subject(event_type: &str) -> String {
    format!("mybnb.events.{event_type}")
}

/// The AsyncAPI document of every published event.
pub fn asyncapi() -> Value {
    let (mut channels, mut operations, mut messages) = (Map::new(), Map::new(), Map::new());
    let mut schemas = Map::new();
    schemas.insert("EventEnvelope".to_owned(), envelope_schema());
    for entry in entries() {
        let name = entry.name;
        for (schema_name, schema) in entry.schemas {
            schemas.insert(schema_name, json!(schema));
        }
        channels.insert(
            name.to_owned(),
            json!({
                "address": subject(name),
                "description": format!(
                    "`{name}` events, published by the {} context. On the embedded log, rows \
                     whose event_type is `{name}`.",
                    entry.publisher
                ),
                "messages": { name: { "$ref": format!("#/components/messages/{name}") } },
            }),
        );
        operations.insert(
            format!("publish{name}"),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{name}") },
                "summary": format!("The {} context publishes {name} through its outbox.", entry.publisher),
                "tags": [{ "name": entry.publisher }],
            }),
        );
        messages.insert(
            name.to_owned(),
            json!({
                "name": name,
                "title": name,
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "properties": {
                        "Nats-Msg-Id": {
                            "type": "string",
                            "description": "The event id (JetStream drops a repeat within its duplicate window)."
                        }
                    }
                },
                "payload": {
                    "allOf": [
                        { "$ref": "#/components/schemas/EventEnvelope" },
                        {
                            "type": "object",
                            "properties": {
                                "type": { "const": name },
                                "version": { "const": entry.version },
                                "payload": { "$ref": format!("#/components/schemas/{name}") }
                            }
                        }
                    ]
                },
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "mybnb integration events",
            "version": CONTRACT_VERSION,
            "description": "Every event a mybnb context publishes, for any service to subscribe \
                to with a durable subscription of its own. Events are delivered at least once: \
                de-duplicate by the envelope's `id`. Events of one aggregate arrive in the order \
                they were committed; events of different aggregates may arrive in any order. A \
                payload only gains optional fields within a version; anything else is a new \
                `version`, and a subscriber should set aside a version newer than it knows."
        },
        "defaultContentType": "application/json",
        "servers": {
            "jetstream": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "Distributed mode: the stream MYBNB_EVENTS (subjects mybnb.events.>), \
                    one durable pull consumer per subscribing service, explicit acks. What a \
                    subscriber cannot handle goes to the stream MYBNB_DEAD_LETTERS."
            }
        },
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages, "schemas": schemas },
    })
}

fn envelope_schema() -> Value {
    json!({
        "type": "object",
        "description": "What every event travels in.",
        "required": ["id", "type", "version", "occurredAt", "aggregateId", "correlationId", "payload"],
        "properties": {
            "id": { "type": "string", "format": "uuid", "description": "Unique per event (UUIDv7: ids sort by creation); de-duplicate by it." },
            "type": { "type": "string", "description": "The event's name, e.g. BookingConfirmed." },
            "version": { "type": "integer", "minimum": 1, "description": "The payload's schema version." },
            "occurredAt": { "type": "string", "format": "date-time", "description": "When the change was committed (UTC)." },
            "aggregateId": { "type": "string", "description": "The id of what the event is about; events of one aggregate keep their order." },
            "correlationId": { "type": "string", "description": "The id of the request that caused it, to follow one story across services." },
            "payload": { "type": "object", "description": "The event itself: see the message's schema." }
        }
    })
}
