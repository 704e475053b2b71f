//! Running a subscriber: take each event in order, handle it, acknowledge it. A handler that
//! fails is retried with growing pauses, never skipped, so that an outage of what it writes to
//! delays events but loses none. Handlers must be idempotent: after a crash between handling
//! and acknowledging, the event comes again.

use std::sync::Arc;
use std::time::Duration;

use mybnb_platform::BoxFuture;
use mybnb_platform::outbox::EventEnvelope;
use tokio_util::sync::CancellationToken;

use crate::port::EventBus;

/// Handles one event; `Err` means "not handled, try again".
pub type Handler =
    Arc<dyn Fn(EventEnvelope) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Consumes `event_types` as the durable subscriber `name` until `stop`.
pub async fn consume(
    bus: Arc<dyn EventBus>,
    name: &'static str,
    event_types: &'static [&'static str],
    handler: Handler,
    stop: CancellationToken,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        let run = run_subscription(bus.as_ref(), name, event_types, &handler);
        tokio::select! {
            result = run => {
                if let Err(error) = result {
                    tracing::warn!(subscriber = name, error = format!("{error:#}"), "consumer failed; resuming");
                }
            }
            () = stop.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn run_subscription(
    bus: &dyn EventBus,
    name: &'static str,
    event_types: &'static [&'static str],
    handler: &Handler,
) -> anyhow::Result<()> {
    let mut subscription = bus.subscribe(name, event_types).await?;
    loop {
        let delivery = subscription.next().await?;
        handler(delivery.envelope.clone()).await?;
        subscription.ack(&delivery).await?;
    }
}
