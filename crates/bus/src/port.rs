//! The bus port, implemented by the embedded log (and, in distributed mode, NATS JetStream).

use mybnb_platform::BoxFuture;
use mybnb_platform::outbox::EventEnvelope;

/// An event handed to a subscriber, with what it needs to acknowledge it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: EventEnvelope,
    /// The bus's own mark of this delivery (a log position, a stream sequence).
    pub(crate) position: i64,
}

/// Carries integration events to their subscribers, at least once each.
pub trait EventBus: Send + Sync + 'static {
    /// Stores the events durably, in order; returns once the bus has them. Publishing an event
    /// again (same id) changes nothing.
    fn publish<'a>(&'a self, events: &'a [EventEnvelope]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// A durable subscription named `subscriber` to events of `event_types`: it resumes after
    /// the last event it acknowledged, whenever it was created.
    fn subscribe<'a>(
        &'a self,
        subscriber: &'a str,
        event_types: &'a [&'a str],
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Subscription>>>;
}

/// One subscriber's stream of events, in publication order.
pub trait Subscription: Send {
    /// The next event; waits until there is one.
    fn next(&mut self) -> BoxFuture<'_, anyhow::Result<Delivery>>;

    /// Marks the delivery (and every earlier one) handled: it will not be delivered again.
    fn ack(&mut self, delivery: &Delivery) -> BoxFuture<'_, anyhow::Result<()>>;
}
