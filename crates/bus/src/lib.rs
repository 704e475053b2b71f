//! # Event transport
//!
//! How integration events travel from the context that caused them to every subscriber:
//!
//! - [`EventBus`] is the port: publish envelopes, subscribe durably by name.
//! - [`EmbeddedLog`] is the all-in-one bus: an append-only log in its own SQLite database,
//!   de-duplicated by event id, with each subscriber's position kept beside it, so that
//!   nothing is lost across restarts.
//! - [`JetStreamBus`] is the bus of services that run apart: NATS JetStream, a durable pull
//!   consumer per subscriber, dead letters in a stream of their own.
//! - [`Relay`] moves a context's outbox onto the bus in commit order and marks events sent
//!   only once the bus has acknowledged them: an event is published at least once if and only
//!   if its state change was committed.
//! - [`Consumer`] runs a subscriber: each event handled, then acknowledged; an event it can
//!   never handle goes to the dead-letter place.
//! - [`wired::Wired`] is what a context hands the process that runs it: its API, its
//!   consumers, whether its outbox is relayed, its background jobs.

mod consumer;
mod embedded;
mod jetstream;
mod port;
mod relay;
pub mod wired;

pub use consumer::{
    Consumer, ConsumerMetrics, Handler, MAX_DELIVERIES, REJECTIONS_BEFORE_DEAD_LETTER, Rejected,
};
pub use embedded::EmbeddedLog;
pub use jetstream::JetStreamBus;
pub use port::{Delivery, EventBus, HistoryEntry, Subscription};
pub use relay::{Relay, RelayMetrics};
