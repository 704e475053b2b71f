//! "Each event once in effect", counted after a distributed run has settled, three ways:
//!
//! 1. recorded → on the bus: each publisher's outbox rows of an event type (one row per event,
//!    `event_id` unique) against the messages of that type in the JetStream stream. Every
//!    instance of a context runs a relay over the same outbox, so several may publish one
//!    event; the stream must still hold it once (its `Nats-Msg-Id` is the event id).
//! 2. on the bus → handled: per subscriber, the sum over its instances of
//!    `mybnb_events_handled_total` (handled and acknowledged), against the stream's events of
//!    the types it reads. Instances share one durable consumer, so the sum is the number of
//!    events, not instances × events; anything above is a redelivery.
//! 3. handled → effect: the subscriber's inbox rows (one per event handled the first time,
//!    written in the transaction of its effect) and the effects themselves (refunded
//!    payments; notifications), against the same number.

use std::collections::BTreeMap;

use anyhow::Context;
use futures_util::TryStreamExt;
use mybnb::services::Service;
use mybnb_bus::JetStreamBus;
use mybnb_events::IntegrationEvent;
use mybnb_events::identity::UserRegistered;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::cluster::{Cluster, metric_sum};

/// The contexts with an outbox, whose events the ledger counts.
const PUBLISHERS: [&str; 4] = ["identity", "room", "booking", "payment"];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCount {
    pub event_type: String,
    pub publisher: String,
    /// Rows in the publisher's outbox.
    pub recorded: u64,
    /// Of those, not yet marked published.
    pub unpublished: u64,
    /// Messages in the JetStream stream.
    pub in_stream: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerCount {
    pub subscriber: String,
    /// The stream's events of the types it reads.
    pub events: u64,
    /// `mybnb_events_handled_total` of each instance.
    pub handled_by_instance: Vec<u64>,
    pub handled: u64,
    /// Inbox rows: events handled the first time.
    pub first_time: u64,
    /// What the effect is, and how many there are.
    pub effect: String,
    pub effects: u64,
    /// How many effects there should be.
    pub expected_effects: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub events: Vec<EventCount>,
    pub consumers: Vec<ConsumerCount>,
    /// Every event once on the bus, handled once by its subscriber, with one effect.
    pub once_in_effect: bool,
}

impl Ledger {
    fn holds(&self) -> bool {
        self.events
            .iter()
            .all(|event| event.unpublished == 0 && event.recorded == event.in_stream)
            && self.consumers.iter().all(|consumer| {
                consumer.first_time == consumer.events
                    && consumer.handled >= consumer.events
                    && consumer.effects == consumer.expected_effects
            })
    }
}

/// Counts until every count agrees or `limit` passes (events may still be on their way).
pub async fn settle(cluster: &Cluster, limit: std::time::Duration) -> anyhow::Result<Ledger> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let ledger = count(cluster).await?;
        if ledger.once_in_effect || tokio::time::Instant::now() >= deadline {
            return Ok(ledger);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

async fn count(cluster: &Cluster) -> anyhow::Result<Ledger> {
    let in_stream = stream_counts(&cluster.nats.url()).await?;
    let mut events = Vec::new();
    for publisher in PUBLISHERS {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            // The schema names are the code's own.
            "SELECT event_type, COUNT(*), COUNT(*) FILTER (WHERE published_at IS NULL) \
             FROM \"{publisher}\".outbox GROUP BY event_type ORDER BY event_type"
        )))
        .fetch_all(&cluster.database)
        .await
        .with_context(|| format!("counting {publisher}'s outbox"))?;
        for (event_type, recorded, unpublished) in rows {
            events.push(EventCount {
                in_stream: in_stream.get(&event_type).copied().unwrap_or(0),
                event_type,
                publisher: publisher.to_owned(),
                recorded: u64::try_from(recorded)?,
                unpublished: u64::try_from(unpublished)?,
            });
        }
    }
    let of_types = |types: &[&str]| -> u64 {
        types
            .iter()
            .map(|event_type| in_stream.get(*event_type).copied().unwrap_or(0))
            .sum()
    };
    let payment_events = of_types(mybnb_payment::service::SUBSCRIBES_TO);
    let payment = consumer(
        cluster,
        Service::Payment,
        "payment",
        payment_events,
        "payments refunded (CANCELLED)",
        "SELECT COUNT(*) FROM payment.payments WHERE status = 'CANCELLED'",
        payment_events,
    )
    .await?;
    let notifying: Vec<&str> = mybnb_notification::SUBSCRIBES_TO
        .iter()
        .copied()
        .filter(|event_type| *event_type != UserRegistered::TYPE)
        .collect();
    let notification = consumer(
        cluster,
        Service::Notification,
        "notification",
        of_types(mybnb_notification::SUBSCRIBES_TO),
        "notifications (one per booking or payment event)",
        "SELECT COUNT(*) FROM notification.notifications",
        of_types(&notifying),
    )
    .await?;
    let mut ledger = Ledger {
        events,
        consumers: vec![payment, notification],
        once_in_effect: false,
    };
    ledger.once_in_effect = ledger.holds();
    Ok(ledger)
}

async fn consumer(
    cluster: &Cluster,
    service: Service,
    subscriber: &str,
    events: u64,
    effect: &str,
    effects_query: &'static str,
    expected_effects: u64,
) -> anyhow::Result<ConsumerCount> {
    let mut handled_by_instance = Vec::new();
    for port in cluster.topology.ports(service) {
        let metrics = cluster.metrics(port).await?;
        handled_by_instance.push(metric_sum(
            &metrics,
            "mybnb_events_handled_total",
            &[&format!("subscriber=\"{subscriber}\"")],
        ));
    }
    let first_time: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM \"{}\".inbox WHERE consumer = $1",
        service.name()
    )))
    .bind(subscriber)
    .fetch_one(&cluster.database)
    .await?;
    let effects: i64 = sqlx::query_scalar(effects_query)
        .fetch_one(&cluster.database)
        .await?;
    Ok(ConsumerCount {
        subscriber: subscriber.to_owned(),
        events,
        handled: handled_by_instance.iter().sum(),
        handled_by_instance,
        first_time: u64::try_from(first_time)?,
        effect: effect.to_owned(),
        effects: u64::try_from(effects)?,
        expected_effects,
    })
}

/// Messages in the events stream by event type.
async fn stream_counts(nats_url: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let client = async_nats::connect(nats_url).await?;
    let jetstream = async_nats::jetstream::new(client);
    let stream = jetstream
        .get_stream(JetStreamBus::EVENTS_STREAM)
        .await
        .context("finding the events stream")?;
    let subjects: Vec<(String, usize)> = stream
        .info_with_subjects("mybnb.events.>")
        .await?
        .try_collect()
        .await?;
    Ok(subjects
        .into_iter()
        .filter_map(|(subject, count)| {
            let event_type = subject.strip_prefix("mybnb.events.")?;
            Some((event_type.to_owned(), count as u64))
        })
        .collect())
}
