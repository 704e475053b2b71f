//! "Each event once in effect", counted after a distributed run has settled, from the outside
//! only — the public API, each instance's `/metrics`, and the JetStream stream of the broker
//! the run started:
//!
//! 1. recorded → on the bus: what the API says happened (the users and rooms the run made; its
//!    guests' bookings, `GET /bookings`; each booking's payment, `GET /payments?bookingId=`)
//!    against the messages of each event type in the stream, which must hold each event once
//!    (its `Nats-Msg-Id` is the event id) though every instance of a context runs a relay over
//!    the same outbox; "unpublished" is what the relays' `mybnb_relay_events_published_total`
//!    has not yet counted.
//! 2. on the bus → handled: per subscriber, the sum over its instances of
//!    `mybnb_events_handled_total` (handled and acknowledged) against the stream's events of
//!    the types it reads. Instances share one durable consumer, so the sum is the number of
//!    events, not instances × events; "first time" leaves out `mybnb_events_redelivered_total`.
//! 3. handled → effect: refunded payments (`GET /payments?bookingId=` answers `CANCELLED`) and
//!    the users' notifications (`GET /notifications`' total), against the same number.

use std::collections::BTreeMap;

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use mybnb::services::Service;
use mybnb_bus::JetStreamBus;
use mybnb_client::{Booking, Client, metric_sum};
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::identity::UserRegistered;
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use mybnb_events::room::RoomRegistered;
use serde::Serialize;

use crate::seed::Seeded;
use crate::system::Cluster;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCount {
    pub event_type: String,
    pub publisher: String,
    /// Events of the type the API shows happened.
    pub recorded: u64,
    /// Of those, not yet counted published by the publisher's relays.
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
    /// Handled on their first delivery.
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
pub async fn settle(
    cluster: &Cluster,
    seeded: &Seeded,
    limit: std::time::Duration,
) -> anyhow::Result<Ledger> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let ledger = count(cluster, seeded).await?;
        if ledger.once_in_effect || tokio::time::Instant::now() >= deadline {
            return Ok(ledger);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// What the API shows the run caused, by event type.
async fn recorded(api: &Client, seeded: &Seeded) -> anyhow::Result<BTreeMap<&'static str, u64>> {
    let mut bookings: Vec<(&String, Booking)> = Vec::new();
    for guest in &seeded.guests {
        bookings.extend(
            api.bookings(guest)
                .await?
                .into_iter()
                .map(|booking| (guest, booking)),
        );
    }
    bookings.retain(|(_, booking)| matches!(booking.status.as_str(), "CONFIRMED" | "CANCELLED"));
    let payments: Vec<_> = futures_util::stream::iter(&bookings)
        .map(|(guest, booking)| api.payments(guest, booking.id))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    let cancelled = |statuses: &mut dyn Iterator<Item = &str>| {
        statuses.filter(|status| *status == "CANCELLED").count() as u64
    };
    Ok(BTreeMap::from([
        (UserRegistered::TYPE, seeded.users().count() as u64),
        (RoomRegistered::TYPE, seeded.rooms.len() as u64),
        (BookingConfirmed::TYPE, bookings.len() as u64),
        (
            BookingCancelled::TYPE,
            cancelled(&mut bookings.iter().map(|(_, booking)| booking.status.as_str())),
        ),
        (PaymentApproved::TYPE, payments.len() as u64),
        (
            PaymentCancelled::TYPE,
            cancelled(&mut payments.iter().map(|payment| payment.status.as_str())),
        ),
    ]))
}

async fn count(cluster: &Cluster, seeded: &Seeded) -> anyhow::Result<Ledger> {
    let in_stream = stream_counts(&cluster.nats.url()).await?;
    let recorded = recorded(&cluster.api, seeded).await?;
    let publishers = [
        (Service::Identity, vec![UserRegistered::TYPE]),
        (Service::Room, vec![RoomRegistered::TYPE]),
        (
            Service::Booking,
            vec![BookingCancelled::TYPE, BookingConfirmed::TYPE],
        ),
        (
            Service::Payment,
            vec![PaymentApproved::TYPE, PaymentCancelled::TYPE],
        ),
    ];
    let mut events = Vec::new();
    for (publisher, types) in publishers {
        let metrics = cluster.metrics(publisher).await?;
        for event_type in types {
            let label = format!("event_type=\"{event_type}\"");
            let published: u64 = metrics
                .iter()
                .map(|text| metric_sum(text, "mybnb_relay_events_published_total", &[&label]))
                .sum();
            let recorded = recorded.get(event_type).copied().unwrap_or_default();
            events.push(EventCount {
                event_type: event_type.to_owned(),
                publisher: publisher.name().to_owned(),
                recorded,
                unpublished: recorded.saturating_sub(published),
                in_stream: in_stream.get(event_type).copied().unwrap_or(0),
            });
        }
    }
    let of_types = |types: &[&str]| -> u64 {
        types
            .iter()
            .map(|event_type| in_stream.get(*event_type).copied().unwrap_or(0))
            .sum()
    };
    let refunded = recorded
        .get(PaymentCancelled::TYPE)
        .copied()
        .unwrap_or_default();
    let payment_events = of_types(mybnb_payment::service::SUBSCRIBES_TO);
    let mut notifications = 0;
    for user in seeded.users() {
        notifications += cluster.api.notifications(user, Some((1, 1))).await?.total;
    }
    let notifying: Vec<&str> = mybnb_notification::SUBSCRIBES_TO
        .iter()
        .copied()
        .filter(|event_type| *event_type != UserRegistered::TYPE)
        .collect();
    let consumers = vec![
        consumer(
            cluster,
            Service::Payment,
            payment_events,
            ("payments refunded (CANCELLED)", refunded),
            payment_events,
        )
        .await?,
        consumer(
            cluster,
            Service::Notification,
            of_types(mybnb_notification::SUBSCRIBES_TO),
            (
                "notifications (one per booking or payment event)",
                notifications,
            ),
            of_types(&notifying),
        )
        .await?,
    ];
    let mut ledger = Ledger {
        events,
        consumers,
        once_in_effect: false,
    };
    ledger.once_in_effect = ledger.holds();
    Ok(ledger)
}

/// The subscriber of `service` (named as the service) as its instances' `/metrics` count it.
async fn consumer(
    cluster: &Cluster,
    service: Service,
    events: u64,
    (effect, effects): (&str, u64),
    expected_effects: u64,
) -> anyhow::Result<ConsumerCount> {
    let subscriber = format!("subscriber=\"{}\"", service.name());
    let metrics = cluster.metrics(service).await?;
    let sum = |name: &str| -> Vec<u64> {
        metrics
            .iter()
            .map(|text| metric_sum(text, name, &[&subscriber]))
            .collect()
    };
    let handled_by_instance = sum("mybnb_events_handled_total");
    let handled = handled_by_instance.iter().sum::<u64>();
    let redelivered: u64 = sum("mybnb_events_redelivered_total").iter().sum();
    Ok(ConsumerCount {
        subscriber: service.name().to_owned(),
        events,
        handled,
        handled_by_instance,
        first_time: handled.saturating_sub(redelivered),
        effect: effect.to_owned(),
        effects,
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
