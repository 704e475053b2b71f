//! A subscriber as a durable pull consumer.
//!
//! It pulls in batches, and only when it has handed out everything it pulled, so no pull is
//! pending at the server while the subscriber works. An event that waits out its
//! acknowledgement deadline anyway (in a buffer, or while its handler retries) comes again;
//! a second copy of one still being handled is not handed out again. When the stream has
//! nothing new, it waits for one event with an expiring pull. Dropped, it gives back (NAKs) what it holds unacknowledged, so the
//! next subscription gets it at once rather than after the acknowledgement deadline.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind};
use async_nats::{Client, Subject};
use futures_util::StreamExt;
use mybnb_events::EventEnvelope;
use mybnb_platform::BoxFuture;
use tokio::sync::watch;

use super::dead_letters::{self, DeadLetter};
use super::{JetStreamBus, OPERATION_TIMEOUT, check_token, filter_subject};
use crate::MAX_DELIVERIES;
use crate::port::{Delivery, Subscription};

/// How long a subscriber may hold an event before the server hands it out again. The server
/// takes the first step of [`BACKOFF`] as this deadline, so the two must agree.
/// Short, so that what a crashed subscriber held comes again soon; a handler still retrying
/// reports progress more often than this (`consumer::PROGRESS_EVERY`).
const ACK_WAIT: Duration = Duration::from_secs(10);

/// The deadline of each delivery after the first: a subscriber that crashed, or hangs, gets
/// the event again later and later, at most [`MAX_DELIVERIES`] times.
const BACKOFF: [Duration; 6] = [
    ACK_WAIT,
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(300),
    Duration::from_secs(600),
];

/// Events pulled at once: as many as the consumer handles at once, so that few wait in
/// buffers while their deadline runs.
const BATCH: usize = 64;

/// How long a pull for a new event stays at the server.
const IDLE_PULL: Duration = Duration::from_secs(5);

pub(super) struct JetStreamSubscription {
    bus: JetStreamBus,
    client: Client,
    subscriber: String,
    event_types: Vec<String>,
    consumer: PullConsumer,
    connected: watch::Receiver<bool>,
    /// Pulled, not yet handed out; the reading task's alone.
    pulled: tokio::sync::Mutex<VecDeque<jetstream::Message>>,
    /// Handed out, not yet acknowledged: each one's acknowledgement subject, by stream sequence.
    in_flight: Mutex<HashMap<u64, Subject>>,
}

impl JetStreamSubscription {
    /// Creates the subscriber's consumer, or updates it to the current settings.
    pub(super) async fn open(
        bus: &JetStreamBus,
        subscriber: &str,
        event_types: &[&str],
    ) -> anyhow::Result<JetStreamSubscription> {
        check_token("a subscriber's name", subscriber)?;
        if event_types.is_empty() {
            anyhow::bail!("{subscriber} subscribes to no event type");
        }
        // Several types are read from all events, and the others skipped in `accept`.
        let filter_subject = filter_subject(event_types)?;
        let config = pull::Config {
            durable_name: Some(subscriber.to_owned()),
            description: Some(format!("mybnb subscriber of {}", event_types.join(", "))),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: ACK_WAIT,
            // The consumer dead-letters at MAX_DELIVERIES; the server's own bound is a backstop
            // that must not take the decision (and the dead letter) from it.
            max_deliver: i64::try_from(MAX_DELIVERIES * 2)?,
            backoff: BACKOFF.to_vec(),
            filter_subject,
            ..Default::default()
        };
        let consumer = bus
            .jetstream()
            .create_consumer_on_stream(config, JetStreamBus::EVENTS_STREAM)
            .await
            .with_context(|| format!("creating or updating the consumer {subscriber}"))?;
        Ok(JetStreamSubscription {
            bus: bus.clone(),
            client: bus.jetstream().client(),
            subscriber: subscriber.to_owned(),
            event_types: event_types.iter().map(|&name| name.to_owned()).collect(),
            consumer,
            connected: bus.watch_connection(),
            pulled: tokio::sync::Mutex::new(VecDeque::new()),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// Pulls what the stream has now; if nothing, waits for one event (or the pull's expiry).
    async fn pull(&self, pulled_so_far: &mut VecDeque<jetstream::Message>) -> anyhow::Result<()> {
        if !*self.connected.borrow() {
            anyhow::bail!("not connected to NATS");
        }
        let consumer = &self.consumer;
        let available = async {
            let mut batch = consumer.fetch().max_messages(BATCH).messages().await?;
            let mut pulled = Vec::new();
            while let Some(message) = batch.next().await {
                pulled.push(message.map_err(anyhow::Error::from_boxed)?);
            }
            anyhow::Ok(pulled)
        };
        let pulled = tokio::time::timeout(OPERATION_TIMEOUT, available)
            .await
            .context("NATS did not answer a pull in time")?
            .context("pulling events")?;
        if !pulled.is_empty() {
            pulled_so_far.extend(pulled);
            return Ok(());
        }

        let mut waiting = self
            .consumer
            .batch()
            .max_messages(1)
            .expires(IDLE_PULL)
            .messages()
            .await
            .context("waiting for events")?;
        let mut connected = self.connected.clone();
        tokio::select! {
            message = waiting.next() => {
                if let Some(message) = message {
                    pulled_so_far.push_back(message.map_err(anyhow::Error::from_boxed)?);
                }
                Ok(())
            }
            _ = connected.wait_for(|connected| !*connected) => {
                anyhow::bail!("lost the connection to NATS while waiting for events")
            }
        }
    }

    /// The delivery to hand out for `message`, or `None` when it is not for this subscriber
    /// (another type; an unreadable envelope, set aside): acknowledged and skipped.
    async fn accept(&self, message: jetstream::Message) -> anyhow::Result<Option<Delivery>> {
        let (sequence, delivered) = {
            let info = message
                .info()
                .map_err(anyhow::Error::from_boxed)
                .context("a pulled message without its delivery information")?;
            (info.stream_sequence, u64::try_from(info.delivered)?)
        };
        let reply = message
            .reply
            .clone()
            .context("a pulled message without an acknowledgement subject")?;
        let envelope = match serde_json::from_slice::<EventEnvelope>(&message.payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                let reason = format!("unreadable event envelope: {error}");
                tracing::error!(
                    subscriber = self.subscriber,
                    sequence,
                    subject = %message.subject,
                    reason,
                    "event dead-lettered"
                );
                let letter = DeadLetter {
                    message_id: format!("{}:sequence-{sequence}", self.subscriber),
                    event_id: None,
                    event_type: None,
                    body: message.payload.to_vec(),
                    reason,
                };
                dead_letters::set_aside(self.bus.jetstream(), &self.subscriber, letter).await?;
                self.acknowledge(&reply, AckKind::Ack).await?;
                return Ok(None);
            }
        };
        if !self.event_types.contains(&envelope.event_type) {
            // Fire and forget: if it is lost, the event comes again and is skipped again.
            self.client
                .publish(reply, AckKind::Ack.into())
                .await
                .context("acknowledging an event of another type")?;
            return Ok(None);
        }
        // Handed out already and still being handled (it waited out its deadline in a buffer,
        // or while its handler retried): answer through the newest delivery, hand out one.
        if self.holding().insert(sequence, reply).is_some() {
            return Ok(None);
        }
        Ok(Some(Delivery {
            envelope,
            delivered,
            position: sequence,
        }))
    }

    /// Sends `kind` for the message and waits until the server has applied it.
    async fn acknowledge(&self, reply: &Subject, kind: AckKind) -> anyhow::Result<()> {
        let confirmed = self.client.request(reply.clone(), kind.into());
        tokio::time::timeout(OPERATION_TIMEOUT, confirmed)
            .await
            .context("NATS did not confirm an acknowledgement in time")?
            .context("acknowledging an event")?;
        Ok(())
    }

    /// The deliveries handed out and not yet acknowledged.
    fn holding(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Subject>> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn in_flight(&self, delivery: &Delivery) -> anyhow::Result<Subject> {
        self.holding()
            .get(&delivery.position)
            .cloned()
            .with_context(|| {
                format!(
                    "event {} is not awaiting an acknowledgement from {}",
                    delivery.envelope.id, self.subscriber
                )
            })
    }
}

impl Subscription for JetStreamSubscription {
    fn next(&self) -> BoxFuture<'_, anyhow::Result<Delivery>> {
        Box::pin(async move {
            let mut pulled = self.pulled.lock().await;
            loop {
                while let Some(message) = pulled.pop_front() {
                    if let Some(delivery) = self.accept(message).await? {
                        return Ok(delivery);
                    }
                }
                self.pull(&mut pulled).await?;
            }
        })
    }

    fn ack<'a>(&'a self, deliveries: &'a [Delivery]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let replies = deliveries
                .iter()
                .map(|delivery| self.in_flight(delivery))
                .collect::<anyhow::Result<Vec<_>>>()?;
            // All at once: one round trip for the batch, each still confirmed by the server.
            futures_util::future::try_join_all(
                replies
                    .iter()
                    .map(|reply| self.acknowledge(reply, AckKind::Ack)),
            )
            .await?;
            let mut holding = self.holding();
            for delivery in deliveries {
                holding.remove(&delivery.position);
            }
            Ok(())
        })
    }

    fn in_progress<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let reply = self.in_flight(delivery)?;
            let sent = self.client.publish(reply, AckKind::Progress.into());
            tokio::time::timeout(OPERATION_TIMEOUT, sent)
                .await
                .context("NATS did not take a progress report in time")?
                .context("reporting progress on an event")?;
            Ok(())
        })
    }

    fn dead_letter<'a>(
        &'a self,
        delivery: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let reply = self.in_flight(delivery)?;
            let envelope = &delivery.envelope;
            let letter = DeadLetter {
                message_id: format!("{}:{}", self.subscriber, envelope.id),
                event_id: Some(envelope.id.to_string()),
                event_type: Some(envelope.event_type.clone()),
                body: serde_json::to_vec(envelope).context("encoding a dead letter")?,
                reason: reason.to_owned(),
            };
            dead_letters::set_aside(self.bus.jetstream(), &self.subscriber, letter).await?;
            self.acknowledge(&reply, AckKind::Ack).await?;
            self.holding().remove(&delivery.position);
            Ok(())
        })
    }
}

impl Drop for JetStreamSubscription {
    fn drop(&mut self) {
        let in_flight = self
            .in_flight
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let given_back: Vec<Subject> = in_flight
            .drain()
            .map(|(_, reply)| reply)
            .chain(
                self.pulled
                    .get_mut()
                    .drain(..)
                    .filter_map(|message| message.reply.clone()),
            )
            .collect();
        if given_back.is_empty() {
            return;
        }
        // Without a runtime (dropped at shutdown), the server hands them out again after their
        // deadline instead.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        runtime.spawn(async move {
            let give_back = async {
                for reply in given_back {
                    client.publish(reply, AckKind::Nak(None).into()).await?;
                }
                // Out before the connection closes, if this was its last user.
                client.flush().await?;
                anyhow::Ok(())
            };
            if let Ok(Err(error)) = tokio::time::timeout(OPERATION_TIMEOUT, give_back).await {
                tracing::debug!(error = %error, "giving back unacknowledged events failed");
            }
        });
    }
}
