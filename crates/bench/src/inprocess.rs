//! The in-process event scenarios (no mybnb binary), each on a fresh bus of its own — the
//! embedded log in its own SQLite file, or JetStream on a nats-server of its own:
//!
//! - relay throughput: a context's SQLite outbox filled with booking-sized events through
//!   `mybnb_platform::outbox`'s write units, then `Relay::relay_pending` timed moving them all
//!   onto the bus; afterwards the outbox must hold no pending event and the bus every one;
//! - subscriber throughput: events put straight on the bus, then one `mybnb_bus::Consumer`
//!   with a handler that does nothing, timed until it has handled them all. It subscribes to
//!   two event types, as notification and my page subscribe to several: on JetStream that
//!   makes it read every event (NATS 2.9 filters on one subject only). What it measures is the
//!   ceiling the bus and the consumer put on any subscriber, whatever its handler costs.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{Days, Utc};
use mybnb_bus::{Consumer, ConsumerMetrics, EmbeddedLog, EventBus, Handler, JetStreamBus, Relay};
use mybnb_events::booking::BookingConfirmed;
use mybnb_events::payment::PaymentApproved;
use mybnb_events::{CorrelationId, EventEnvelope, IntegrationEvent};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations, Stop};
use mybnb_platform::metrics::Metrics;
use mybnb_platform::outbox;
use mybnb_testkit::nats::NatsServer;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// An event scenario, run on one of the two buses.
#[derive(Debug, Clone, Copy)]
pub struct BusScenario {
    pub name: &'static str,
    pub description: &'static str,
    pub jetstream: bool,
}

/// Events written to the outbox per write unit while filling it.
const FILL_BATCH: u64 = 1000;

/// Events published per call while filling the bus.
const PUBLISH_BATCH: u64 = 500;

/// The longest a consume run may take before it is called stuck.
const GIVE_UP_AFTER: Duration = Duration::from_secs(300);

/// What the consume scenarios' subscriber reads.
const SUBSCRIBES_TO: &[&str] = &[BookingConfirmed::TYPE, PaymentApproved::TYPE];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayResult {
    pub scenario: String,
    pub description: String,
    pub events: u64,
    /// The mean size of one event's envelope as JSON.
    pub envelope_bytes: u64,
    pub fill_seconds: f64,
    pub relay_seconds: f64,
    pub events_per_second: f64,
    /// Events the relay reported moving.
    pub moved: u64,
    /// Events left unpublished in the outbox afterwards (must be 0).
    pub left_in_outbox: u64,
    /// Events on the bus afterwards (must equal `events`).
    pub on_bus: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeResult {
    pub scenario: String,
    pub description: String,
    pub events: u64,
    pub seconds: f64,
    pub events_per_second: f64,
}

/// A fresh bus, set up and ready for use.
struct Bus {
    bus: Arc<dyn EventBus>,
    log: Option<Database>,
    nats: Option<NatsServer>,
}

impl Bus {
    async fn start(jetstream: bool, directory: &Path) -> anyhow::Result<Bus> {
        let bus = if jetstream {
            let nats = crate::system::nats().await?;
            let bus: Arc<dyn EventBus> = Arc::new(JetStreamBus::connect(&nats.url()).await?);
            Bus {
                bus,
                log: None,
                nats: Some(nats),
            }
        } else {
            let log = open(&directory.join("events.db"), EmbeddedLog::migrations()).await?;
            Bus {
                bus: Arc::new(EmbeddedLog::new(log.clone())),
                log: Some(log),
                nats: None,
            }
        };
        // The bus's first use sets it up (JetStream's streams): no scenario's work to time.
        bus.count().await?;
        Ok(bus)
    }

    /// The booking confirmations on the bus, read back through its history.
    async fn count(&self) -> anyhow::Result<u64> {
        const PAGE: usize = 10_000;
        let (mut count, mut after) = (0, 0);
        loop {
            let page = self
                .bus
                .history(&[BookingConfirmed::TYPE], after, PAGE)
                .await?;
            count += page.len() as u64;
            match page.last() {
                Some(last) if page.len() == PAGE => after = last.position,
                _ => return Ok(count),
            }
        }
    }

    async fn stop(self) {
        if let Some(log) = self.log {
            log.close().await;
        }
        if let Some(mut nats) = self.nats {
            nats.stop().await;
        }
    }
}

/// A SQLite database at `path`, migrated, as a context opens its own.
pub async fn open(path: &Path, migrations: Migrations) -> anyhow::Result<Database> {
    let location = DatabaseLocation::Sqlite {
        path: path.to_owned(),
    };
    Database::open(&location, 4, &migrations).await
}

pub async fn relay(scenario: &BusScenario, events: u64) -> anyhow::Result<RelayResult> {
    let directory = tempfile::tempdir()?;
    let outbox = open(&directory.path().join("booking.db"), outbox::migrations()).await?;
    let filling = Instant::now();
    let envelope_bytes = fill(&outbox, events).await?;
    let fill_seconds = filling.elapsed().as_secs_f64();
    eprintln!("   outbox filled with {events} events in {fill_seconds:.1} s; relaying");

    let bus = Bus::start(scenario.jetstream, directory.path()).await?;
    let relay = Relay::new("bench", outbox.clone(), bus.bus.clone());
    let relaying = Instant::now();
    let moved = relay.relay_pending().await?;
    let relay_seconds = relaying.elapsed().as_secs_f64();

    let left_in_outbox = outbox::pending(&outbox, i64::MAX).await?.len() as u64;
    let on_bus = bus.count().await?;
    outbox.close().await;
    bus.stop().await;
    Ok(RelayResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        events,
        envelope_bytes,
        fill_seconds,
        relay_seconds,
        events_per_second: moved as f64 / relay_seconds,
        moved: moved as u64,
        left_in_outbox,
        on_bus,
    })
}

/// Writes `events` booking confirmations to the outbox, [`FILL_BATCH`] per write unit;
/// returns the mean envelope size in bytes.
async fn fill(outbox: &Database, events: u64) -> anyhow::Result<u64> {
    let (mut written, mut bytes) = (0, 0);
    while written < events {
        let count = (events - written).min(FILL_BATCH);
        let batch: Vec<BookingConfirmed> = (written..written + count).map(confirmation).collect();
        for event in &batch {
            bytes += serde_json::to_vec(&envelope(event)?)?.len() as u64;
        }
        outbox
            .write_caused_by(&CorrelationId::generate(), async |unit| {
                for event in &batch {
                    unit.record(event).await?;
                }
                Ok::<_, Stop>(())
            })
            .await?;
        written += count;
    }
    Ok(bytes / events.max(1))
}

pub async fn consume(scenario: &BusScenario, events: u64) -> anyhow::Result<ConsumeResult> {
    let directory = tempfile::tempdir()?;
    let bus = Bus::start(scenario.jetstream, directory.path()).await?;
    let mut published = 0;
    while published < events {
        let count = (events - published).min(PUBLISH_BATCH);
        let batch = (published..published + count)
            .map(|index| envelope(&confirmation(index)))
            .collect::<Result<Vec<_>, _>>()?;
        bus.bus.publish(&batch).await?;
        published += count;
    }
    eprintln!("   {events} events on the bus; consuming");

    let handled = Arc::new(AtomicU64::new(0));
    let counting = handled.clone();
    let handler: Handler = Arc::new(move |_envelope| {
        counting.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    });
    let consumer = Consumer {
        name: "bench",
        event_types: SUBSCRIBES_TO,
        handler,
    };
    let stop = CancellationToken::new();
    let metrics = ConsumerMetrics::register(&Metrics::new());
    let started = Instant::now();
    let consuming = tokio::spawn(consumer.run(bus.bus.clone(), metrics, stop.clone()));
    while handled.load(Ordering::Relaxed) < events {
        if started.elapsed() > GIVE_UP_AFTER {
            stop.cancel();
            let handled = handled.load(Ordering::Relaxed);
            bail!("the subscriber handled {handled} of {events} events in {GIVE_UP_AFTER:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    consuming.await?;
    bus.stop().await;
    Ok(ConsumeResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        events,
        seconds,
        events_per_second: events as f64 / seconds,
    })
}

/// A confirmation like the booking context's: ids, the room's name, dates, price.
fn confirmation(index: u64) -> BookingConfirmed {
    let check_in = Utc::now().date_naive() + Days::new(1 + index % 300);
    BookingConfirmed {
        booking_id: Uuid::now_v7(),
        room_id: Uuid::now_v7(),
        room_name: format!("Hanok with a garden in Bukchon, room {index}"),
        guest_id: Uuid::now_v7(),
        host_id: Uuid::now_v7(),
        check_in,
        check_out: check_in + Days::new(3),
        nights: 3,
        total_price: 360_000,
        payment_id: Uuid::now_v7(),
    }
}

/// `event` in an envelope of its own request, as the API gives each request an id.
fn envelope(event: &BookingConfirmed) -> Result<EventEnvelope, serde_json::Error> {
    EventEnvelope::wrap(event, Utc::now(), &CorrelationId::generate())
}
