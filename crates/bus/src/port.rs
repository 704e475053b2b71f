//! The bus port, implemented by the embedded log and by NATS JetStream.

use chrono::{DateTime, Utc};
use mybnb_events::EventEnvelope;
use mybnb_platform::BoxFuture;

/// An event handed to a subscriber, with what it needs to acknowledge it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: EventEnvelope,
    /// How many times the bus has handed this event to the subscriber, this time included
    /// (more than 1 after a crash or a timeout before the acknowledgement).
    pub delivered: u64,
    /// The bus's own mark of this delivery (a log position, a stream sequence).
    pub(crate) position: u64,
}

/// An event from the bus's history, with where it stands in it.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// Increases along the history; pass the last one seen to read on.
    pub position: u64,
    pub envelope: EventEnvelope,
    /// When the bus stored it (the embedded log's append, the stream's timestamp).
    pub published_at: DateTime<Utc>,
}

/// Carries integration events to their subscribers, at least once each.
pub trait EventBus: Send + Sync + 'static {
    /// Stores the events durably, in order; returns once the bus has them. Publishing an event
    /// again (same id) changes nothing.
    fn publish<'a>(&'a self, events: &'a [EventEnvelope]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// A durable subscription named `subscriber` to events of `event_types`: it resumes after
    /// the last event it acknowledged, whenever it was created, and starts from the first event
    /// ever published when it is new.
    fn subscribe<'a>(
        &'a self,
        subscriber: &'a str,
        event_types: &'a [&'a str],
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Subscription>>>;

    /// Up to `limit` events of `event_types` published after `after` (0: from the first),
    /// oldest first; fewer than `limit` means the end of the history so far. For rebuilding a
    /// read model; it touches no subscription. An event whose envelope cannot be read is an
    /// error here (a subscription sets it aside instead).
    fn history<'a>(
        &'a self,
        event_types: &'a [&'a str],
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, anyhow::Result<Vec<HistoryEntry>>>;
}

/// One subscriber's stream of events, in publication order (redeliveries aside). One task
/// reads it with `next` while others acknowledge what it handed out.
pub trait Subscription: Send + Sync {
    /// The next event; waits until there is one. Not to be called again before it returns.
    fn next(&self) -> BoxFuture<'_, anyhow::Result<Delivery>>;

    /// Marks the deliveries handled, and with them every earlier delivery of this
    /// subscription: they will not be delivered again. (The embedded log records the last
    /// position; JetStream acknowledges each.)
    fn ack<'a>(&'a self, deliveries: &'a [Delivery]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Tells the bus the subscriber is still working on the delivery, so that it is not handed
    /// out again meanwhile.
    fn in_progress<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Sets the delivery aside in the bus's dead-letter place, with why, and acknowledges it
    /// (and, like [`Subscription::ack`], every earlier delivery).
    fn dead_letter<'a>(
        &'a self,
        delivery: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
}
