//! The published language of mybnb: the payload of every integration event a context publishes.
//!
//! These types are the contract between teams. A context publishes them through its outbox,
//! wrapped in an [`EventEnvelope`] (id, type, version, occurredAt, aggregateId, correlationId,
//! payload); any service — including one written by a new team — subscribes by their `TYPE`,
//! declaring what it reads with [`incoming!`]. Changing a payload in a way old readers cannot
//! read means a new `VERSION`. [`catalogue`] describes them all as an AsyncAPI document
//! (`docs/asyncapi.json`).

use serde::Serialize;

pub mod booking;
pub mod catalogue;
mod envelope;
pub mod identity;
pub mod payment;
pub mod room;

pub use envelope::{AggregateId, CorrelationId, EventEnvelope, Incoming, Undecodable};

/// An event one context tells the others about.
pub trait IntegrationEvent: Serialize {
    /// The event's name, e.g. `RoomRegistered`.
    const TYPE: &'static str;
    /// The payload's schema version.
    const VERSION: u16;
    /// The id of the aggregate the event is about; events of one aggregate keep their order.
    fn aggregate_id(&self) -> AggregateId;
}
