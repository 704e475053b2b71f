//! The outbox relay: moves a context's recorded events onto the bus, and counts what it
//! moved (`mybnb_relay_batches_total`, `mybnb_relay_events_published_total`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mybnb_platform::db::Database;
use mybnb_platform::metrics::Metrics;
use mybnb_platform::outbox;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio_util::sync::CancellationToken;

use crate::port::EventBus;

/// Events moved per round.
const BATCH: i64 = 500;

/// An idle relay looks again this often even without a wake-up (another process of the same
/// service may have written to the outbox).
const RECHECK: Duration = Duration::from_millis(500);

/// After a wake-up the relay lets this long pass, so that one round carries the events of many
/// commits: under load, fewer and fuller rounds leave the database to the requests.
const GATHER: Duration = Duration::from_millis(2);

pub struct Relay {
    context: &'static str,
    outbox: Database,
    bus: Arc<dyn EventBus>,
    metrics: Option<RelayMetrics>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ContextLabels {
    context: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    context: String,
    event_type: String,
}

/// The counters every relay of an application feeds: one increment per batch and per event
/// type in it, none per event.
#[derive(Clone)]
pub struct RelayMetrics {
    batches: Family<ContextLabels, Counter>,
    published: Family<EventLabels, Counter>,
}

impl RelayMetrics {
    pub fn register(metrics: &Metrics) -> RelayMetrics {
        let relay = RelayMetrics {
            batches: Family::default(),
            published: Family::default(),
        };
        metrics.register(
            "relay_batches",
            "Batches a context's relay published and marked published",
            relay.batches.clone(),
        );
        metrics.register(
            "relay_events_published",
            "Events a context's relay published and marked published, by type (with several \
             instances of a context, one event may be counted by more than one)",
            relay.published.clone(),
        );
        relay
    }

    fn count(&self, context: &str, events: &[mybnb_events::EventEnvelope]) {
        let mut by_type: BTreeMap<&str, u64> = BTreeMap::new();
        for event in events {
            *by_type.entry(&event.event_type).or_default() += 1;
        }
        for (event_type, count) in by_type {
            let labels = EventLabels {
                context: context.to_owned(),
                event_type: event_type.to_owned(),
            };
            self.published.get_or_create(&labels).inc_by(count);
        }
        let labels = ContextLabels {
            context: context.to_owned(),
        };
        self.batches.get_or_create(&labels).inc();
    }
}

impl Relay {
    pub fn new(context: &'static str, outbox: Database, bus: Arc<dyn EventBus>) -> Self {
        Relay {
            context,
            outbox,
            bus,
            metrics: None,
        }
    }

    /// The relay, counting what it moves in `metrics`.
    pub fn counted_in(self, metrics: RelayMetrics) -> Self {
        Relay {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Publishes what is pending, in outbox order: the bus gets each batch before its events
    /// are marked published, so a crash in between publishes them again (the bus drops the
    /// repeats by event id). Returns how many events were moved.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let mut moved = 0;
        loop {
            let events = outbox::pending(&self.outbox, BATCH).await?;
            if events.is_empty() {
                return Ok(moved);
            }
            self.bus.publish(&events).await?;
            moved += events.len();
            outbox::mark_published(
                &self.outbox,
                &events.iter().map(|event| event.id).collect::<Vec<_>>(),
            )
            .await?;
            if let Some(metrics) = &self.metrics {
                metrics.count(self.context, &events);
            }
        }
    }

    /// Relays until `stop`: whenever the outbox's database commits, and every so often.
    pub async fn run(self, stop: CancellationToken) {
        let committed = self.outbox.committed();
        loop {
            let woken = committed.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Err(error) = self.relay_pending().await {
                tracing::warn!(
                    context = self.context,
                    error = format!("{error:#}"),
                    "relaying events failed; retrying"
                );
            }
            tokio::select! {
                _ = woken => {}
                () = tokio::time::sleep(RECHECK) => {}
                () = stop.cancelled() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}
