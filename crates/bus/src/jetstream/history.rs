//! Reading the stream from a sequence on, for rebuilding a read model: a short-lived consumer
//! that starts there, acknowledges nothing, and is deleted when done.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use chrono::DateTime;
use futures_util::StreamExt;
use mybnb_events::EventEnvelope;

use super::{JetStreamBus, OPERATION_TIMEOUT, filter_subject};
use crate::port::HistoryEntry;

/// Events pulled at once.
const BATCH: usize = 256;

/// The server deletes a reader left behind (its process died) after this long.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// Up to `limit` events of `event_types` after stream sequence `after`, oldest first.
pub(super) async fn read(
    bus: &JetStreamBus,
    event_types: &[&str],
    after: u64,
    limit: usize,
) -> anyhow::Result<Vec<HistoryEntry>> {
    let filter_subject = filter_subject(event_types)?;
    let config = pull::Config {
        deliver_policy: DeliverPolicy::ByStartSequence {
            start_sequence: after.saturating_add(1),
        },
        ack_policy: AckPolicy::None,
        filter_subject,
        inactive_threshold: ABANDONED_AFTER,
        memory_storage: true,
        ..Default::default()
    };
    let reader = bus
        .jetstream()
        .create_consumer_on_stream(config, JetStreamBus::EVENTS_STREAM)
        .await
        .context("creating a reader of the stream")?;
    let name = reader.cached_info().name.clone();
    let recorded = read_with(&reader, event_types, limit).await;
    if let Err(error) = bus
        .jetstream()
        .delete_consumer_from_stream(&name, JetStreamBus::EVENTS_STREAM)
        .await
    {
        // The server deletes it itself once it has been idle for a while.
        tracing::debug!(consumer = name, error = %error, "deleting a reader of the stream failed");
    }
    recorded
}

async fn read_with(
    reader: &PullConsumer,
    event_types: &[&str],
    limit: usize,
) -> anyhow::Result<Vec<HistoryEntry>> {
    let mut recorded = Vec::new();
    let mut more = reader.cached_info().num_pending > 0;
    while more && recorded.len() < limit {
        let pulled = async {
            let mut batch = reader.fetch().max_messages(BATCH).messages().await?;
            let mut pulled = Vec::new();
            while let Some(message) = batch.next().await {
                pulled.push(message.map_err(anyhow::Error::from_boxed)?);
            }
            anyhow::Ok(pulled)
        };
        let pulled = tokio::time::timeout(OPERATION_TIMEOUT, pulled)
            .await
            .context("NATS did not answer a pull in time")?
            .context("pulling events")?;
        // An empty pull: the stream ends here (events may have been removed meanwhile).
        more = !pulled.is_empty();
        for message in pulled {
            let info = message
                .info()
                .map_err(anyhow::Error::from_boxed)
                .context("a pulled message without its delivery information")?;
            let (position, pending) = (info.stream_sequence, info.pending);
            let envelope: EventEnvelope = serde_json::from_slice(&message.payload)
                .with_context(|| format!("an unreadable event at stream sequence {position}"))?;
            if event_types.contains(&envelope.event_type.as_str()) {
                let published_at =
                    DateTime::from_timestamp_nanos(info.published.unix_timestamp_nanos() as i64);
                recorded.push(HistoryEntry {
                    position,
                    envelope,
                    published_at,
                });
                if recorded.len() == limit {
                    break;
                }
            }
            if pending == 0 {
                more = false;
                break;
            }
        }
    }
    Ok(recorded)
}
