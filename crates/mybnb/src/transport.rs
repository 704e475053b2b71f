//! The bus events travel on in this process: NATS JetStream when `nats_url` is set, watched so
//! that readiness says when it is away; the embedded log otherwise (opened by the wiring).

use std::sync::Arc;
use std::time::Duration;

use mybnb_bus::{EventBus, JetStreamBus};
use mybnb_platform::health::{ComponentStatus, Readiness};
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long a process waits for its first connection to NATS before it reports ready anyway
/// (degraded).
const NATS_FIRST_CONNECT: Duration = Duration::from_secs(5);

/// The bus events travel on, and the readiness component to await before using it.
#[derive(Clone)]
pub(crate) struct EventTransport {
    pub(crate) bus: Arc<dyn EventBus>,
    /// The readiness component to await before using the bus, if any.
    pub(crate) component: Option<String>,
}

impl EventTransport {
    /// NATS JetStream at `url`. Not awaited by anything: events wait in the outboxes while
    /// NATS is away, so the process stays ready; `events.bus` reports it degraded, with why.
    pub(crate) async fn jetstream(
        url: &SecretString,
        readiness: &Readiness,
        background: &mut JoinSet<()>,
        stop: &CancellationToken,
    ) -> anyhow::Result<EventTransport> {
        let bus = JetStreamBus::connect(url.expose_secret()).await?;
        let mut connected = bus.watch_connection();
        let (readiness, stop) = (readiness.clone(), stop.clone());
        readiness.set(
            "events.bus",
            ComponentStatus::Starting("connecting to NATS".to_owned()),
        );
        background.spawn(async move {
            // Not ready until the first connection, for a while: long enough for a reachable
            // server, short enough that an outage at start-up does not keep the process out.
            let first = tokio::time::timeout(NATS_FIRST_CONNECT, connected.wait_for(|up| *up));
            tokio::select! {
                _ = first => {}
                () = stop.cancelled() => return,
            }
            loop {
                let status = if *connected.borrow_and_update() {
                    ComponentStatus::Ready
                } else {
                    ComponentStatus::Degraded(
                        "NATS is unreachable; events wait in the outboxes until it is back"
                            .to_owned(),
                    )
                };
                readiness.set("events.bus", status);
                tokio::select! {
                    changed = connected.changed() => if changed.is_err() { return },
                    () = stop.cancelled() => return,
                }
            }
        });
        Ok(EventTransport {
            bus: Arc::new(bus),
            component: None,
        })
    }
}
