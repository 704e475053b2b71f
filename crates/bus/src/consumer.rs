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
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use mybnb_events::{EventEnvelope, Undecodable};
use mybnb_platform::BoxFuture;
use mybnb_platform::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::{mpsc, watch};
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

impl From<Undecodable> for Rejected {
    fn from(Undecodable(reason): Undecodable) -> Self {
        Rejected(reason)
    }
}

/// Rejections of one delivery before it is dead-lettered.
pub const REJECTIONS_BEFORE_DEAD_LETTER: u32 = 3;

/// Deliveries of one event (across crashes and restarts) before a failure dead-letters it.
pub const MAX_DELIVERIES: u64 = 10;

const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriberLabels {
    subscriber: String,
}

/// The counters every subscriber feeds; one set per application.
#[derive(Clone)]
pub struct ConsumerMetrics {
    handled: Family<SubscriberLabels, Counter>,
    redelivered: Family<SubscriberLabels, Counter>,
    dead_lettered: Family<SubscriberLabels, Counter>,
}

impl ConsumerMetrics {
    pub fn register(metrics: &Metrics) -> ConsumerMetrics {
        let consumer = ConsumerMetrics {
            handled: Family::default(),
            redelivered: Family::default(),
            dead_lettered: Family::default(),
        };
        metrics.register(
            "events_handled",
            "Events a subscriber handled and acknowledged",
            consumer.handled.clone(),
        );
        metrics.register(
            "events_redelivered",
            "Of the events handled, those the bus had handed out before (a crash or a timeout \
             before the acknowledgement)",
            consumer.redelivered.clone(),
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
    /// Closes when the task ends: the next delivery of the same aggregate waits for it.
    finished: watch::Receiver<()>,
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

    /// Reads on one task; handles up to [`CONCURRENCY`] events at once — those of one
    /// aggregate one after another, in delivery order; settles them — acknowledged or
    /// dead-lettered — in the order they were delivered, so that nothing unsettled is ever
    /// acknowledged past.
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
                biased;
                () = stop.cancelled() => return Ok(()),
                finished = async { (&mut in_flight.front_mut()?.handling).await.ok() }, if !in_flight.is_empty() => {
                    let mut outcomes = Vec::new();
                    if let Some(InFlight { delivery, .. }) = in_flight.pop_front() {
                        outcomes.push((delivery, finished.unwrap_or(Outcome::Stopped)));
                    }
                    // Settle every finished delivery at the front at once.
                    while in_flight.front().is_some_and(|next| next.handling.is_finished()) {
                        let Some(InFlight { delivery, handling, .. }) = in_flight.pop_front() else { break };
                        outcomes.push((delivery, handling.await.unwrap_or(Outcome::Stopped)));
                    }
                    if self.settle(subscription.as_ref(), outcomes, metrics, labels).await? == Settled::Stopped {
                        return Ok(());
                    }
                }
                delivery = deliveries.recv(), if in_flight.len() < CONCURRENCY => {
                    let Some(delivery) = delivery else {
                        // The reader stopped: say why.
                        return (&mut reader).await?;
                    };
                    let (done, finished) = watch::channel(());
                    let before = in_flight
                        .iter()
                        .rev()
                        .find(|earlier| earlier.delivery.envelope.aggregate_id == delivery.envelope.aggregate_id)
                        .map(|earlier| earlier.finished.clone());
                    let handling = tokio::spawn(handle(self.name, self.handler.clone(), delivery.clone(), before, done, stop.clone()));
                    in_flight.push_back(InFlight { delivery, handling: AbortOnDropHandle::new(handling), finished });
                }
                _ = progress.tick() => {
                    for busy in &in_flight {
                        subscription.in_progress(&busy.delivery).await?;
                    }
                }
            }
        }
    }

    /// Acknowledges handled deliveries (together) and dead-letters the others, in order, up
    /// to the first that did not finish (stopping): it and what follows are left unsettled,
    /// for the next subscription.
    async fn settle(
        &self,
        subscription: &dyn Subscription,
        outcomes: Vec<(Delivery, Outcome)>,
        metrics: &ConsumerMetrics,
        labels: &SubscriberLabels,
    ) -> anyhow::Result<Settled> {
        let mut handled = Vec::new();
        let mut settled = Settled::All;
        for (delivery, outcome) in outcomes {
            match outcome {
                Outcome::Handled => {
                    metrics.handled.get_or_create(labels).inc();
                    if delivery.delivered > 1 {
                        metrics.redelivered.get_or_create(labels).inc();
                    }
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
                Outcome::Stopped => {
                    settled = Settled::Stopped;
                    break;
                }
            }
        }
        subscription.ack(&handled).await?;
        Ok(settled)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Settled {
    All,
    /// A delivery was left unhandled because the consumer is stopping.
    Stopped,
}

/// Runs the handler — once the previous delivery of the same aggregate, if any, is done —
/// until it succeeds, the event is to be dead-lettered, or `stop`. A handler that panics has
/// failed that attempt, as one that rejects the event.
async fn handle(
    subscriber: &'static str,
    handler: Handler,
    delivery: Delivery,
    before: Option<watch::Receiver<()>>,
    _done: watch::Sender<()>,
    stop: CancellationToken,
) -> Outcome {
    if let Some(mut before) = before {
        // Resolves when the earlier handler's sender is dropped: it finished.
        let _ = before.changed().await;
    }
    let mut rejections = 0;
    let mut pause = FIRST_PAUSE;
    loop {
        let attempt = AssertUnwindSafe(handler(delivery.envelope.clone())).catch_unwind();
        let error = match attempt.await {
            Ok(Ok(())) => return Outcome::Handled,
            Ok(Err(error)) => error,
            Err(_) => anyhow::Error::new(Rejected("the handler panicked".to_owned())),
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
