//! The two streams, made to exist with the settings the bus relies on.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, stream};

use super::JetStreamBus;

/// Every event subject (see `mybnb_events::catalogue::subject`).
pub(super) const EVENT_SUBJECTS: &str = "mybnb.events.>";
pub(super) const DEAD_LETTER_SUBJECTS: &str = "mybnb.dead.>";
pub(super) const DEAD_LETTER_SUBJECT_PREFIX: &str = "mybnb.dead.";

/// How long the server remembers an event id to drop a repeat: longer than the relay takes to
/// publish a batch again after a crash between publishing and marking it.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Creates the streams that are missing and sets the subjects and duplicate window of those
/// that differ; leaves everything else an operator may have set (limits, replicas) alone.
pub(super) async fn ensure(jetstream: &jetstream::Context) -> anyhow::Result<()> {
    ensure_stream(jetstream, JetStreamBus::EVENTS_STREAM, EVENT_SUBJECTS).await?;
    ensure_stream(
        jetstream,
        JetStreamBus::DEAD_LETTER_STREAM,
        DEAD_LETTER_SUBJECTS,
    )
    .await
}

async fn ensure_stream(
    jetstream: &jetstream::Context,
    name: &str,
    subjects: &str,
) -> anyhow::Result<()> {
    let wanted = stream::Config {
        name: name.to_owned(),
        subjects: vec![subjects.to_owned()],
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    };
    let existing = jetstream
        .get_or_create_stream(wanted)
        .await
        .with_context(|| format!("creating the stream {name}"))?;
    let config = &existing.cached_info().config;
    if config.storage != stream::StorageType::File {
        tracing::warn!(
            stream = name,
            "the stream is not kept on file: a restart loses it"
        );
    }
    if config.subjects != [subjects] || config.duplicate_window != DUPLICATE_WINDOW {
        let updated = stream::Config {
            subjects: vec![subjects.to_owned()],
            duplicate_window: DUPLICATE_WINDOW,
            ..config.clone()
        };
        jetstream
            .update_stream(updated)
            .await
            .with_context(|| format!("updating the stream {name}"))?;
        tracing::info!(
            stream = name,
            "updated the stream's subjects and duplicate window"
        );
    }
    Ok(())
}
