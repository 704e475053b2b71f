//! The outbox relay: moves a context's recorded events onto the bus.

use std::sync::Arc;
use std::time::Duration;

use mybnb_platform::db::Database;
use mybnb_platform::outbox;
use tokio_util::sync::CancellationToken;

use crate::port::EventBus;

/// Events moved per round.
const BATCH: i64 = 500;

/// An idle relay looks again this often even without a wake-up (another process of the same
/// service may have written to the outbox).
const RECHECK: Duration = Duration::from_millis(500);

/// After a wake-up the relay lets this long pass, so that one round carries the events of many
/// commits: under load, fewer and fuller rounds leave the database to the requests.
const GATHER: Duration = Duration::from_millis(2);

pub struct Relay {
    context: &'static str,
    outbox: Database,
    bus: Arc<dyn EventBus>,
}

impl Relay {
    pub fn new(context: &'static str, outbox: Database, bus: Arc<dyn EventBus>) -> Self {
        Relay {
            context,
            outbox,
            bus,
        }
    }

    /// Publishes what is pending, in outbox order: the bus gets each batch before its events
    /// are marked published, so a crash in between publishes them again (the bus drops the
    /// repeats by event id). Returns how many events were moved.
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let mut moved = 0;
        loop {
            let events = outbox::pending(&self.outbox, BATCH).await?;
            if events.is_empty() {
                return Ok(moved);
            }
            self.bus.publish(&events).await?;
            moved += events.len();
            outbox::mark_published(
                &self.outbox,
                &events.iter().map(|event| event.id).collect::<Vec<_>>(),
            )
            .await?;
        }
    }

    /// Relays until `stop`: whenever the outbox's database commits, and every so often.
    pub async fn run(self, stop: CancellationToken) {
        let committed = self.outbox.committed();
        loop {
            let woken = committed.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Err(error) = self.relay_pending().await {
                tracing::warn!(
                    context = self.context,
                    error = format!("{error:#}"),
                    "relaying events failed; retrying"
                );
            }
            tokio::select! {
                _ = woken => {}
                () = tokio::time::sleep(RECHECK) => {}
                () = stop.cancelled() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}
