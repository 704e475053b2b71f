//! How an event travels, and how a consumer reads it back.
//!
//! Every event goes out in an [`EventEnvelope`]. A consumer declares what it reads with
//! [`incoming!`](crate::incoming): one enum with a variant per event, whose
//! [`Incoming::EVENT_TYPES`] is the consumer's subscription and whose [`Incoming::decode`] the
//! only way it reads an envelope — so what it subscribes to and what it handles cannot drift.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::IntegrationEvent;

/// The id of the request that caused an event: every event it caused carries it, to follow one
/// story across services (the `x-request-id` of the HTTP request, or the id an event carried).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(String);

impl CorrelationId {
    pub fn new(id: impl Into<String>) -> Self {
        CorrelationId(id.into())
    }

    /// A new id, for work that no request caused.
    pub fn generate() -> Self {
        CorrelationId(Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The id of the aggregate an event is about (a booking, a room, a user): events of one
/// aggregate keep their order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AggregateId(String);

impl AggregateId {
    pub fn new(id: impl Into<String>) -> Self {
        AggregateId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Uuid> for AggregateId {
    fn from(id: Uuid) -> Self {
        AggregateId(id.to_string())
    }
}

impl std::fmt::Display for AggregateId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
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
    pub aggregate_id: AggregateId,
    /// The id of the request that caused the event, to follow one story across services.
    pub correlation_id: CorrelationId,
    pub payload: serde_json::Value,
}

impl EventEnvelope {
    /// The event in a new envelope.
    pub fn wrap<E: IntegrationEvent>(
        event: &E,
        occurred_at: DateTime<Utc>,
        correlation_id: &CorrelationId,
    ) -> Result<Self, serde_json::Error> {
        Ok(EventEnvelope {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at,
            aggregate_id: event.aggregate_id(),
            correlation_id: correlation_id.clone(),
            payload: serde_json::to_value(event)?,
        })
    }

    /// The payload as `E`; an error when it is another type, a newer version than this build
    /// knows, or unreadable.
    pub fn decode<E: IntegrationEvent + DeserializeOwned>(&self) -> Result<E, Undecodable> {
        if self.event_type != E::TYPE {
            return Err(Undecodable(format!(
                "expected {}, got {}",
                E::TYPE,
                self.event_type
            )));
        }
        if self.version > E::VERSION {
            return Err(Undecodable(format!(
                "{} version {} is newer than the {} this service reads",
                E::TYPE,
                self.version,
                E::VERSION
            )));
        }
        serde_json::from_value(self.payload.clone())
            .map_err(|error| Undecodable(format!("unreadable {}: {error}", E::TYPE)))
    }
}

/// Why an envelope cannot be read: it never will be, however often it is delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Undecodable(pub String);

/// What one consumer reads: declared with [`incoming!`](crate::incoming).
pub trait Incoming: Sized {
    /// The event types the consumer subscribes to: one per variant.
    const EVENT_TYPES: &'static [&'static str];

    /// The envelope's event, or why it cannot be read (including a type the consumer does not
    /// subscribe to).
    fn decode(envelope: &EventEnvelope) -> Result<Self, Undecodable>;
}

/// Declares what a consumer reads: an enum with one variant per event it handles, implementing
/// [`Incoming`] — its subscription list and its decoding derived from the same variants.
///
/// ```
/// mybnb_events::incoming! {
///     /// What the room context reads.
///     pub enum RoomIncoming {
///         Confirmed(mybnb_events::booking::BookingConfirmed),
///         Cancelled(mybnb_events::booking::BookingCancelled),
///     }
/// }
/// use mybnb_events::Incoming;
/// assert_eq!(RoomIncoming::EVENT_TYPES, ["BookingConfirmed", "BookingCancelled"]);
/// ```
#[macro_export]
macro_rules! incoming {
    (
        $(#[$meta:meta])*
        $visibility:vis enum $name:ident {
            $($variant:ident($event:ty)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $visibility enum $name {
            $($variant($event)),+
        }

        impl $crate::Incoming for $name {
            const EVENT_TYPES: &'static [&'static str] =
                &[$(<$event as $crate::IntegrationEvent>::TYPE),+];

            fn decode(
                envelope: &$crate::EventEnvelope,
            ) -> ::std::result::Result<Self, $crate::Undecodable> {
                $(
                    if envelope.event_type == <$event as $crate::IntegrationEvent>::TYPE {
                        return envelope.decode::<$event>().map($name::$variant);
                    }
                )+
                Err($crate::Undecodable(format!(
                    "{} does not read {}",
                    stringify!($name),
                    envelope.event_type
                )))
            }
        }
    };
}
