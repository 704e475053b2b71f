//! Running a subscriber: take each event, handle it, acknowledge it.
//!
//! A handler that fails is retried with growing pauses and never skipped, so an outage of what
//! it writes to delays events but loses none. The one exception is an event the handler
//! [`Rejected`]: one it can never handle (an unreadable payload, a version it does not know).
//! After [`REJECTIONS_BEFORE_DEAD_LETTER`] rejections, or when the bus has delivered it
//! [`MAX_DELIVERIES`] times, it goes to the bus's dead-letter place, counted in
//! `mybnb_events_dead_lettered_total`, and the subscriber moves on.
//!
//! Handlers must be idempotent: after a crash between handling and acknowledging, the event
//! comes again. `mybnb_platform::inbox` makes any effect so.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use mybnb_events::IntegrationEvent;
use mybnb_platform::BoxFuture;
use mybnb_platform::metrics::Metrics;
use mybnb_platform::outbox::EventEnvelope;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::port::{Delivery, EventBus, Subscription};

/// Handles one event; `Err` means "not handled": retried, or dead-lettered if [`Rejected`].
pub type Handler =
    Arc<dyn Fn(EventEnvelope) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// A handler's verdict that an event can never be handled, however often it is retried.
#[derive(Debug, thiserror::Error)]
#[error("rejected: {0}")]
pub struct Rejected(pub String);

/// Rejections of one delivery before it is dead-lettered.
pub const REJECTIONS_BEFORE_DEAD_LETTER: u32 = 3;

/// Deliveries of one event (across crashes and restarts) before a failure dead-letters it.
pub const MAX_DELIVERIES: u64 = 10;

const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// The payload of `envelope` as `E`, or [`Rejected`] when it is another type, a newer version
/// than this build knows, or unreadable.
pub fn decode<E: IntegrationEvent + DeserializeOwned>(
    envelope: &EventEnvelope,
) -> Result<E, Rejected> {
    if envelope.event_type != E::TYPE {
        return Err(Rejected(format!(
            "expected {}, got {}",
            E::TYPE,
            envelope.event_type
        )));
    }
    if envelope.version > E::VERSION {
        return Err(Rejected(format!(
            "{} version {} is newer than the {} this service reads",
            E::TYPE,
            envelope.version,
            E::VERSION
        )));
    }
    serde_json::from_value(envelope.payload.clone())
        .map_err(|error| Rejected(format!("unreadable {}: {error}", E::TYPE)))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriberLabels {
    subscriber: String,
}

/// The counters every subscriber feeds; one set per application.
#[derive(Clone)]
pub struct ConsumerMetrics {
    handled: Family<SubscriberLabels, Counter>,
    dead_lettered: Family<SubscriberLabels, Counter>,
}

impl ConsumerMetrics {
    pub fn register(metrics: &Metrics) -> ConsumerMetrics {
        let consumer = ConsumerMetrics {
            handled: Family::default(),
            dead_lettered: Family::default(),
        };
        metrics.register(
            "events_handled",
            "Events a subscriber handled and acknowledged",
            consumer.handled.clone(),
        );
        metrics.register(
            "events_dead_lettered",
            "Events a subscriber could not handle, set aside in the dead-letter place",
            consumer.dead_lettered.clone(),
        );
        consumer
    }
}

/// Handlers of one subscriber running at once. Events of different aggregates may be handled
/// in any order (handlers check state), so a subscriber need not wait for one commit before
/// starting on the next event: the handlers' writes share their databases' group commits.
const CONCURRENCY: usize = 64;

/// How often a handler still retrying tells the bus it is at work: well within the time a bus
/// gives a subscriber before handing an event out again (10 s on JetStream).
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// A subscription that ran this long had recovered: the next failure starts the pauses over.
const RECOVERED_AFTER: Duration = Duration::from_secs(30);

/// One durable subscriber: its name, what it reads, and what it does with each event.
pub struct Consumer {
    pub name: &'static str,
    pub event_types: &'static [&'static str],
    pub handler: Handler,
}

/// A delivery being handled, with the task handling it.
struct InFlight {
    delivery: Delivery,
    handling: AbortOnDropHandle<Outcome>,
}

impl Consumer {
    /// Consumes from `bus` until `stop`; resubscribes after a failure of the bus.
    pub async fn run(
        self,
        bus: Arc<dyn EventBus>,
        metrics: ConsumerMetrics,
        stop: CancellationToken,
    ) {
        let labels = SubscriberLabels {
            subscriber: self.name.to_owned(),
        };
        let mut pause = FIRST_PAUSE;
        loop {
            let started = tokio::time::Instant::now();
            let run = self.run_subscription(bus.as_ref(), &metrics, &labels, &stop);
            tokio::select! {
                result = run => {
                    if let Err(error) = result {
                        tracing::warn!(subscriber = self.name, error = format!("{error:#}"), "subscription failed; resuming");
                    }
                }
                () = stop.cancelled() => return,
            }
            if started.elapsed() >= RECOVERED_AFTER {
                pause = FIRST_PAUSE;
            }
            if !pause_or_stop(pause, &stop).await {
                return;
            }
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    /// Reads on one task; handles up to [`CONCURRENCY`] events at once; settles them —
    /// acknowledged or dead-lettered — in the order they were delivered.
    async fn run_subscription(
        &self,
        bus: &dyn EventBus,
        metrics: &ConsumerMetrics,
        labels: &SubscriberLabels,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let subscription: Arc<dyn Subscription> =
            bus.subscribe(self.name, self.event_types).await?.into();
        let (delivered, mut deliveries) = mpsc::channel(CONCURRENCY);
        let reading = subscription.clone();
        let mut reader = AbortOnDropHandle::new(tokio::spawn(async move {
            loop {
                let delivery = reading.next().await?;
                if delivered.send(delivery).await.is_err() {
                    return anyhow::Ok(());
                }
            }
        }));
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut progress = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                delivery = deliveries.recv(), if in_flight.len() < CONCURRENCY => {
                    let Some(delivery) = delivery else {
                        // The reader stopped: say why.
                        return (&mut reader).await?;
                    };
                    let handling = tokio::spawn(handle(self.name, self.handler.clone(), delivery.clone(), stop.clone()));
                    in_flight.push_back(InFlight { delivery, handling: AbortOnDropHandle::new(handling) });
                }
                finished = async { (&mut in_flight.front_mut()?.handling).await.ok() }, if !in_flight.is_empty() => {
                    let Some(first) = finished else {
                        anyhow::bail!("a handler of {} panicked", self.name);
                    };
                    let mut outcomes = Vec::new();
                    if let Some(InFlight { delivery, .. }) = in_flight.pop_front() {
                        outcomes.push((delivery, first));
                    }
                    // Settle every finished delivery at the front at once.
                    while in_flight.front().is_some_and(|next| next.handling.is_finished()) {
                        let Some(InFlight { delivery, handling }) = in_flight.pop_front() else { break };
                        let Ok(outcome) = handling.await else {
                            anyhow::bail!("a handler of {} panicked", self.name);
                        };
                        outcomes.push((delivery, outcome));
                    }
                    self.settle(subscription.as_ref(), outcomes, metrics, labels).await?;
                }
                _ = progress.tick() => {
                    for busy in &in_flight {
                        subscription.in_progress(&busy.delivery).await?;
                    }
                }
                () = stop.cancelled() => return Ok(()),
            }
        }
    }

    /// Acknowledges handled deliveries (together) and dead-letters the others, in order.
    async fn settle(
        &self,
        subscription: &dyn Subscription,
        outcomes: Vec<(Delivery, Outcome)>,
        metrics: &ConsumerMetrics,
        labels: &SubscriberLabels,
    ) -> anyhow::Result<()> {
        let mut handled = Vec::new();
        for (delivery, outcome) in outcomes {
            match outcome {
                Outcome::Handled => {
                    metrics.handled.get_or_create(labels).inc();
                    handled.push(delivery);
                }
                Outcome::DeadLettered(reason) => {
                    subscription.ack(&handled).await?;
                    handled.clear();
                    tracing::error!(
                        subscriber = self.name,
                        event_id = %delivery.envelope.id,
                        event_type = delivery.envelope.event_type,
                        reason,
                        "event dead-lettered"
                    );
                    subscription.dead_letter(&delivery, &reason).await?;
                    metrics.dead_lettered.get_or_create(labels).inc();
                }
                // Stopping: this one and what follows are left for the next subscription.
                Outcome::Stopped => break,
            }
        }
        subscription.ack(&handled).await
    }
}

/// Runs the handler until it succeeds, the event is to be dead-lettered, or `stop`.
async fn handle(
    subscriber: &'static str,
    handler: Handler,
    delivery: Delivery,
    stop: CancellationToken,
) -> Outcome {
    let mut rejections = 0;
    let mut pause = FIRST_PAUSE;
    loop {
        let error = match handler(delivery.envelope.clone()).await {
            Ok(()) => return Outcome::Handled,
            Err(error) => error,
        };
        let rejected = error.chain().any(|cause| cause.is::<Rejected>());
        rejections += u32::from(rejected);
        if rejections >= REJECTIONS_BEFORE_DEAD_LETTER || delivery.delivered >= MAX_DELIVERIES {
            return Outcome::DeadLettered(format!("{error:#}"));
        }
        tracing::warn!(
            subscriber,
            event_id = %delivery.envelope.id,
            error = format!("{error:#}"),
            "handling an event failed; retrying"
        );
        if !pause_or_stop(pause, &stop).await {
            return Outcome::Stopped;
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

enum Outcome {
    Handled,
    DeadLettered(String),
    Stopped,
}

/// Waits `pause`; false if `stop` came first.
async fn pause_or_stop(pause: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        () = stop.cancelled() => false,
    }
}
