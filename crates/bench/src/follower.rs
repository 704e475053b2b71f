//! A host following their notifications live (`GET /notifications/stream`), on a thread and
//! runtime of its own: each event is timed as its bytes arrive, not whenever the load
//! generator's tasks leave a core free. A stream that ends is reopened with `Last-Event-ID`,
//! as a browser would, and counted.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use mybnb_client::{Client, Notification};
use tokio::sync::oneshot;
use uuid::Uuid;

/// When a booking's `BOOKING_CONFIRMED` reached the follower (the first time, if replayed),
/// and when notification recorded it (its `createdAt`).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: Instant,
    pub wall: DateTime<Utc>,
    pub recorded: DateTime<Utc>,
}

/// What the follower saw, by booking id.
pub type Arrivals = HashMap<Uuid, Arrival>;

#[derive(Default)]
pub struct Seen {
    arrivals: Mutex<Arrivals>,
    /// `BOOKING_CONFIRMED` events for a booking already seen (replays after a reconnection).
    repeats: AtomicU64,
    reconnections: AtomicU64,
}

impl Seen {
    pub fn arrivals(&self) -> MutexGuard<'_, Arrivals> {
        self.arrivals.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct Follower {
    pub seen: Arc<Seen>,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// What a closed follower saw.
pub struct Followed {
    pub arrivals: Arrivals,
    pub repeats: u64,
    pub reconnections: u64,
}

impl Follower {
    /// Opens the stream of the holder of `token` on the API at `base`; returns once the server
    /// has answered 200 (from then on every notification recorded for them is sent on it).
    pub async fn open(base: &str, token: String) -> anyhow::Result<Follower> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let api = Client::with_http(base, http)?;
        let seen = Arc::new(Seen::default());
        let (ready, opened) = oneshot::channel();
        let (stop, stopped) = oneshot::channel();
        let shared = seen.clone();
        let thread = std::thread::Builder::new()
            .name("notification-follower".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(follow(api, token, shared, ready, stopped))
            })?;
        opened
            .await
            .context("the follower thread ended before the stream opened")??;
        Ok(Follower { seen, stop, thread })
    }

    /// Stops following and returns what arrived.
    pub async fn close(self) -> anyhow::Result<Followed> {
        // The thread may have ended already (it reports why below).
        let _ = self.stop.send(());
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the follower thread panicked"))??;
        Ok(Followed {
            arrivals: std::mem::take(&mut *self.seen.arrivals()),
            repeats: self.seen.repeats.load(Ordering::Relaxed),
            reconnections: self.seen.reconnections.load(Ordering::Relaxed),
        })
    }
}

async fn follow(
    api: Client,
    token: String,
    seen: Arc<Seen>,
    ready: oneshot::Sender<anyhow::Result<()>>,
    mut stop: oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let mut ready = Some(ready);
    let mut last_id: Option<String> = None;
    loop {
        let answer = tokio::select! {
            answer = api.notification_stream(&token, last_id.as_deref()) => answer,
            _ = &mut stop => return Ok(()),
        };
        let mut response = match (answer, ready.take()) {
            (Ok(response), ready) => {
                if let Some(ready) = ready {
                    let _ = ready.send(Ok(()));
                }
                response
            }
            (Err(error), Some(ready)) => {
                let _ = ready.send(Err(
                    anyhow::Error::from(error).context("opening the notification stream")
                ));
                return Ok(());
            }
            (Err(error), None) => {
                eprintln!("   notification stream: {error:#}; reopening");
                seen.reconnections.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut pending = String::new();
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk,
                _ = &mut stop => return Ok(()),
            };
            let (at, wall) = (Instant::now(), Utc::now());
            let Ok(Some(bytes)) = chunk else { break };
            pending.push_str(&String::from_utf8_lossy(&bytes));
            if pending.contains('\r') {
                pending = pending.replace("\r\n", "\n");
            }
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                let (event, id, data) = parse_block(&block);
                if let Some(id) = id {
                    last_id = Some(id);
                }
                if event != Some("BOOKING_CONFIRMED") {
                    continue;
                }
                let notification: Notification = serde_json::from_str(&data)
                    .with_context(|| format!("an unreadable notification: {data}"))?;
                match seen.arrivals().entry(notification.booking_id) {
                    Entry::Occupied(_) => {
                        seen.repeats.fetch_add(1, Ordering::Relaxed);
                    }
                    Entry::Vacant(vacant) => {
                        vacant.insert(Arrival {
                            at,
                            wall,
                            recorded: notification.created_at,
                        });
                    }
                }
            }
        }
        eprintln!("   notification stream ended; reopening after {last_id:?}");
        seen.reconnections.fetch_add(1, Ordering::Relaxed);
    }
}

/// A server-sent event's name, id and data (`data:` lines joined); comments are skipped.
fn parse_block(block: &str) -> (Option<&str>, Option<String>, String) {
    let (mut event, mut id, mut data) = (None, None, Vec::new());
    for line in block.lines().filter(|line| !line.starts_with(':')) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = Some(value),
            "id" => id = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    (event, id, data.join("\n"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_event_block_reads_its_fields() {
        let (event, id, data) =
            super::parse_block(": keep-alive\nevent: X\nid: 7\ndata: {\"a\"\ndata: :1}\n\n");
        assert_eq!(
            (event, id.as_deref(), data.as_str()),
            (Some("X"), Some("7"), "{\"a\"\n:1}")
        );
    }
}
