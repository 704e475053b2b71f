//! Subscriber throughput, in process: events put straight on a fresh bus, then one
//! `mybnb_bus::Consumer` with a handler that does nothing, timed until it has handled them all.
//! It subscribes to two event types, as notification and my page subscribe to several: on
//! JetStream that makes it read every event (NATS 2.9 filters on one subject only). What it
//! measures is the ceiling the bus and the consumer put on any subscriber, whatever its
//! handler costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::Utc;
use mybnb_bus::{Consumer, ConsumerMetrics, Handler};
use mybnb_events::EventEnvelope;
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::BookingConfirmed;
use mybnb_events::payment::PaymentApproved;
use mybnb_platform::metrics::Metrics;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::buses::{Bus, BusScenario};
use crate::relay_throughput::{confirmation, correlation};

/// Events published per call while filling the bus.
const PUBLISH_BATCH: u64 = 500;

/// The longest a run may take before it is called stuck.
const GIVE_UP_AFTER: Duration = Duration::from_secs(300);

const SUBSCRIBES_TO: &[&str] = &[BookingConfirmed::TYPE, PaymentApproved::TYPE];

/// This module's scenarios, one per bus.
pub const SCENARIOS: [BusScenario; 2] = [
    BusScenario {
        name: "consume-embedded",
        description: "one subscriber, handler doing nothing, embedded event log",
        jetstream: false,
    },
    BusScenario {
        name: "consume-jetstream",
        description: "one subscriber, handler doing nothing, NATS JetStream",
        jetstream: true,
    },
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeResult {
    pub scenario: String,
    pub description: String,
    pub events: u64,
    pub seconds: f64,
    pub events_per_second: f64,
}

pub async fn run(scenario: &BusScenario, events: u64) -> anyhow::Result<ConsumeResult> {
    let directory = tempfile::tempdir()?;
    let bus = Bus::start(scenario.jetstream, directory.path()).await?;
    let mut published = 0;
    while published < events {
        let count = (events - published).min(PUBLISH_BATCH);
        let batch = (published..published + count)
            .map(|index| EventEnvelope::wrap(&confirmation(index), Utc::now(), &correlation()))
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
            bail!(
                "the subscriber handled {} of {events} events in {GIVE_UP_AFTER:?}",
                handled.load(Ordering::Relaxed)
            );
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
