//! Relay throughput, in process (no mybnb binary): a context's SQLite outbox filled with
//! booking-sized events, then `Relay::relay_pending` timed moving them all onto the embedded
//! log or onto NATS JetStream.

use std::time::Instant;

use chrono::{Days, Utc};
use mybnb_bus::Relay;
use mybnb_events::CorrelationId;
use mybnb_events::EventEnvelope;
use mybnb_events::booking::BookingConfirmed;
use mybnb_platform::db::{Database, Stop};
use mybnb_platform::outbox;
use serde::Serialize;
use uuid::Uuid;

use crate::buses::{Bus, BusScenario, open};

/// Events written to the outbox per write unit while filling it.
const FILL_BATCH: usize = 1000;

/// This module's scenarios, one per bus.
pub const SCENARIOS: [BusScenario; 2] = [
    BusScenario {
        name: "relay-embedded",
        description: "outbox (SQLite) → embedded event log (SQLite)",
        jetstream: false,
    },
    BusScenario {
        name: "relay-jetstream",
        description: "outbox (SQLite) → NATS JetStream",
        jetstream: true,
    },
];

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

pub async fn run(scenario: &BusScenario, events: u64) -> anyhow::Result<RelayResult> {
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

    let left_in_outbox: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(outbox.pool())
            .await?;
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
        left_in_outbox: u64::try_from(left_in_outbox)?,
        on_bus,
    })
}

/// Writes `events` booking confirmations to the outbox, [`FILL_BATCH`] per write unit;
/// returns the mean envelope size in bytes.
async fn fill(outbox: &Database, events: u64) -> anyhow::Result<u64> {
    let mut written = 0;
    let mut bytes = 0;
    while written < events {
        let count = (events - written).min(FILL_BATCH as u64);
        let batch: Vec<BookingConfirmed> = (written..written + count).map(confirmation).collect();
        for event in &batch {
            bytes += serde_json::to_vec(&EventEnvelope::wrap(event, Utc::now(), &correlation())?)?
                .len() as u64;
        }
        let correlation = CorrelationId::generate();
        outbox
            .write_caused_by(&correlation, async |unit| {
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

/// A confirmation like the booking context's: ids, the room's name, dates, price.
pub fn confirmation(index: u64) -> BookingConfirmed {
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

/// A request id, as the API gives each request.
pub fn correlation() -> CorrelationId {
    CorrelationId::generate()
}
