//! The bus of services that run apart: NATS JetStream.
//!
//! Every event is a message on `mybnb.events.<type>` in the stream `MYBNB_EVENTS`, with the
//! event id as `Nats-Msg-Id`, so that the server drops a repeat within its duplicate window.
//! A subscriber is a durable pull consumer of that stream named after it; what it cannot
//! handle goes to the stream `MYBNB_DEAD_LETTERS`, on `mybnb.dead.<subscriber>`.
//!
//! The process starts and keeps taking requests while NATS is down (events wait in the
//! outboxes): the client connects and reconnects in the background, and every operation fails
//! within [`OPERATION_TIMEOUT`] until the server is back, then works again.

mod dead_letters;
mod history;
mod streams;
mod subscription;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, message::PublishMessage};
use async_nats::{ConnectOptions, Event};
use mybnb_events::EventEnvelope;
use mybnb_platform::BoxFuture;
use mybnb_platform::db::redact_url;
use tokio::sync::watch;

use crate::port::{EventBus, HistoryEntry, Subscription};

/// How long an operation waits for the server (to connect, to answer) before it fails.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause between two attempts to reconnect.
const LONGEST_RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The bus on NATS JetStream; cheap to clone (clones share one connection).
#[derive(Clone)]
pub struct JetStreamBus {
    shared: Arc<Shared>,
}

struct Shared {
    jetstream: jetstream::Context,
    /// Whether the client is connected now, as its events tell.
    connected: watch::Receiver<bool>,
    /// Whether both streams are known to exist since the last failure.
    streams_ready: AtomicBool,
    /// The server's URL without its password, for errors and logs.
    shown_url: String,
}

impl JetStreamBus {
    /// The stream of every event.
    pub const EVENTS_STREAM: &'static str = "MYBNB_EVENTS";
    /// The stream of the events subscribers set aside.
    pub const DEAD_LETTER_STREAM: &'static str = "MYBNB_DEAD_LETTERS";
    /// Headers of a dead letter: why it was set aside, and the event's id and type.
    pub const REASON_HEADER: &'static str = "Mybnb-Dead-Letter-Reason";
    pub const EVENT_ID_HEADER: &'static str = "Mybnb-Event-Id";
    pub const EVENT_TYPE_HEADER: &'static str = "Mybnb-Event-Type";

    /// A bus on the NATS server at `url` (`nats://[user:password@]host:port`, or
    /// `nats://token@host:port`). Does not wait for the server: the connection is made, and
    /// remade after a loss, in the background. Fails only when `url` is malformed.
    pub async fn connect(url: &str) -> anyhow::Result<JetStreamBus> {
        let shown_url = redact_url(url);
        let (server, credentials) =
            split_credentials(url).with_context(|| format!("reading the NATS URL {shown_url}"))?;
        let (connected_tx, connected) = watch::channel(false);
        let connected_tx = Arc::new(connected_tx);
        let logged_url = shown_url.clone();
        let options = ConnectOptions::new()
            .name("mybnb")
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(OPERATION_TIMEOUT)
            .request_timeout(Some(OPERATION_TIMEOUT))
            .reconnect_delay_callback(reconnect_pause)
            .event_callback(move |event| {
                let (connected_tx, url) = (connected_tx.clone(), logged_url.clone());
                async move {
                    match event {
                        Event::Connected => {
                            tracing::info!(url, "connected to nats");
                            connected_tx.send_replace(true);
                        }
                        Event::Disconnected => {
                            tracing::warn!(url, "lost the connection to nats; reconnecting");
                            connected_tx.send_replace(false);
                        }
                        Event::Closed => {
                            tracing::info!(url, "closed the connection to nats");
                            connected_tx.send_replace(false);
                        }
                        // Every failed attempt to reconnect is one: too many to warn about.
                        Event::ClientError(error) => {
                            tracing::debug!(url, error = %error, "nats client error");
                        }
                        other => tracing::warn!(url, event = %other, "nats client event"),
                    }
                }
            });
        // The client sends only credentials given as options, never those in the URL.
        let options = match credentials {
            Credentials::None => options,
            Credentials::Token(token) => options.token(token),
            Credentials::UserAndPassword(user, password) => {
                options.user_and_password(user, password)
            }
        };
        let client = options
            .connect(server.as_str())
            .await
            .with_context(|| format!("connecting to NATS at {shown_url}"))?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(OPERATION_TIMEOUT)
            .build(client);
        Ok(JetStreamBus {
            shared: Arc::new(Shared {
                jetstream,
                connected,
                streams_ready: AtomicBool::new(false),
                shown_url,
            }),
        })
    }

    /// Waits (a bounded time) until the client is connected and both streams exist.
    async fn ready(&self) -> anyhow::Result<()> {
        let mut connected = self.shared.connected.clone();
        let wait = connected.wait_for(|connected| *connected);
        match tokio::time::timeout(OPERATION_TIMEOUT, wait).await {
            Ok(Ok(_)) => {}
            _ => anyhow::bail!(
                "NATS at {} is unreachable (not connected within {OPERATION_TIMEOUT:?})",
                self.shared.shown_url
            ),
        }
        if !self.shared.streams_ready.load(Ordering::Acquire) {
            streams::ensure(&self.shared.jetstream)
                .await
                .with_context(|| format!("setting up the streams on {}", self.shared.shown_url))?;
            self.shared.streams_ready.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Runs `operation` once ready; after a failure, the streams are checked again next time
    /// (the server may have lost them).
    async fn guarded<T>(
        &self,
        operation: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let result = async {
            self.ready().await?;
            operation.await
        }
        .await;
        if result.is_err() {
            self.shared.streams_ready.store(false, Ordering::Release);
        }
        result
    }

    fn jetstream(&self) -> &jetstream::Context {
        &self.shared.jetstream
    }

    /// Whether the client is connected now (it may have lost the connection since).
    pub fn watch_connection(&self) -> watch::Receiver<bool> {
        self.shared.connected.clone()
    }

    /// Sends every event, then awaits every acknowledgement: one round trip for the batch.
    async fn publish_pipelined(&self, events: &[EventEnvelope]) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(events.len());
        for envelope in events {
            let subject = event_subject(&envelope.event_type)?;
            let body = serde_json::to_vec(envelope).context("encoding an event")?;
            let message = PublishMessage::build()
                .payload(body.into())
                .message_id(envelope.id.to_string());
            let acknowledgement = self
                .jetstream()
                .send_publish(subject, message)
                .await
                .with_context(|| format!("publishing event {}", envelope.id))?;
            pending.push((envelope, acknowledgement));
        }
        for (envelope, acknowledgement) in pending {
            acknowledgement.await.with_context(|| {
                format!(
                    "NATS did not acknowledge event {} ({})",
                    envelope.id, envelope.event_type
                )
            })?;
        }
        Ok(())
    }
}

impl EventBus for JetStreamBus {
    fn publish<'a>(&'a self, events: &'a [EventEnvelope]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            self.guarded(self.publish_pipelined(events)).await
        })
    }

    fn subscribe<'a>(
        &'a self,
        subscriber: &'a str,
        event_types: &'a [&'a str],
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Subscription>>> {
        Box::pin(async move {
            let subscription = self
                .guarded(subscription::JetStreamSubscription::open(
                    self,
                    subscriber,
                    event_types,
                ))
                .await
                .with_context(|| format!("subscribing {subscriber} to NATS"))?;
            let subscription: Box<dyn Subscription> = Box::new(subscription);
            Ok(subscription)
        })
    }

    fn history<'a>(
        &'a self,
        event_types: &'a [&'a str],
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, anyhow::Result<Vec<HistoryEntry>>> {
        Box::pin(async move {
            if limit == 0 || event_types.is_empty() {
                return Ok(Vec::new());
            }
            self.guarded(history::read(self, event_types, after, limit))
                .await
                .context("reading the event history from NATS")
        })
    }
}

/// 0 s, then 100 ms more per attempt up to [`LONGEST_RECONNECT_PAUSE`]: a restarted server is
/// found again within about a second.
fn reconnect_pause(attempts: usize) -> Duration {
    let attempts = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
    (Duration::from_millis(100).saturating_mul(attempts)).min(LONGEST_RECONNECT_PAUSE)
}

/// What a NATS URL carries to log in with.
enum Credentials {
    None,
    Token(String),
    UserAndPassword(String, String),
}

/// The server's URL without credentials, and the credentials (percent-decoded).
fn split_credentials(url: &str) -> anyhow::Result<(url::Url, Credentials)> {
    let mut server = url::Url::parse(url)?;
    let decode = |text: &str| -> anyhow::Result<String> {
        Ok(percent_encoding::percent_decode_str(text)
            .decode_utf8()?
            .into_owned())
    };
    let user = decode(server.username())?;
    let password = server.password().map(decode).transpose()?;
    let credentials = match (user.is_empty(), password) {
        (true, None) => Credentials::None,
        (false, None) => Credentials::Token(user),
        (_, Some(password)) => Credentials::UserAndPassword(user, password),
    };
    server
        .set_username("")
        .and_then(|()| server.set_password(None))
        .map_err(|()| anyhow::anyhow!("a NATS URL must name a host"))?;
    Ok((server, credentials))
}

/// `mybnb.events.<event type>`, as the published contract (`docs/asyncapi.json`) says.
fn event_subject(event_type: &str) -> anyhow::Result<String> {
    check_token("an event type", event_type)?;
    Ok(mybnb_events::catalogue::subject(event_type))
}

/// The one subject a consumer of `event_types` filters on: NATS 2.9 takes one only, so several
/// types are read from all events (and the others skipped by the reader).
fn filter_subject(event_types: &[&str]) -> anyhow::Result<String> {
    match event_types {
        [only] => event_subject(only),
        several => {
            for event_type in several {
                check_token("an event type", event_type)?;
            }
            Ok(streams::EVENT_SUBJECTS.to_owned())
        }
    }
}

/// Event types and subscriber names become one token of a subject (and a consumer's name).
fn check_token(what: &str, token: &str) -> anyhow::Result<()> {
    let forbidden = |character: char| {
        character.is_whitespace() || character.is_control() || ".*>/\\".contains(character)
    };
    if token.is_empty() || token.contains(forbidden) {
        anyhow::bail!(
            "{what} must be a non-empty word without spaces, dots, slashes, `*` or `>`: {token:?}"
        );
    }
    Ok(())
}
