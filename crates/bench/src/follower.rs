//! A host following their notifications live (`GET /notifications/stream`), on a thread and
//! runtime of its own: each event is timed as its bytes arrive, not whenever the load
//! generator's tasks leave a core free. A stream that ends is reopened with `Last-Event-ID`,
//! as a browser would, and counted.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::sse::SseParser;

/// When a booking's `BOOKING_CONFIRMED` reached the follower (the first time, if replayed).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: Instant,
    pub wall: DateTime<Utc>,
}

/// What the follower saw, by booking id.
pub type Arrivals = HashMap<String, Arrival>;

#[derive(Default)]
struct Seen {
    arrivals: Mutex<Arrivals>,
    /// `BOOKING_CONFIRMED` events for a booking already seen (replays after a reconnection).
    repeats: AtomicU64,
    reconnections: AtomicU64,
}

/// Counts what a follower has seen so far.
pub struct Counter(Arc<Seen>);

impl Counter {
    pub fn count(&self) -> usize {
        self.0
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

pub struct Follower {
    seen: Arc<Seen>,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// What a closed follower saw.
pub struct Followed {
    pub arrivals: Arrivals,
    pub repeats: u64,
    pub reconnections: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    booking_id: String,
}

impl Follower {
    /// Opens the stream of the holder of `token` at `url`; returns once the server has answered
    /// 200 (from then on every notification recorded for them is sent on it).
    pub async fn open(url: String, token: String) -> anyhow::Result<Follower> {
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
                runtime.block_on(follow(url, token, shared, ready, stopped))
            })?;
        opened
            .await
            .context("the follower thread ended before the stream opened")??;
        Ok(Follower { seen, stop, thread })
    }

    /// A handle that counts the bookings whose notification has arrived, for progress lines.
    pub fn counter(&self) -> Counter {
        Counter(self.seen.clone())
    }

    /// Whether every one of `booking_ids` has arrived.
    pub fn has_all<'a>(&self, mut booking_ids: impl Iterator<Item = &'a String>) -> bool {
        let arrivals = self.lock();
        booking_ids.all(|id| arrivals.contains_key(id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Arrivals> {
        self.seen
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops following and returns what arrived.
    pub async fn close(self) -> anyhow::Result<Followed> {
        // The thread may have ended already (it reports why below).
        let _ = self.stop.send(());
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the follower thread panicked"))??;
        let arrivals = std::mem::take(
            &mut *self
                .seen
                .arrivals
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Ok(Followed {
            arrivals,
            repeats: self.seen.repeats.load(Ordering::Relaxed),
            reconnections: self.seen.reconnections.load(Ordering::Relaxed),
        })
    }
}

async fn follow(
    url: String,
    token: String,
    seen: Arc<Seen>,
    ready: oneshot::Sender<anyhow::Result<()>>,
    mut stop: oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let mut ready = Some(ready);
    let mut last_id: Option<String> = None;
    loop {
        let mut request = client
            .get(&url)
            .bearer_auth(&token)
            .header("accept", "text/event-stream");
        if let Some(id) = &last_id {
            request = request.header("last-event-id", id);
        }
        let answer = tokio::select! {
            answer = request.send() => answer,
            _ = &mut stop => return Ok(()),
        };
        let opened = answer
            .map_err(anyhow::Error::from)
            .and_then(|response| Ok(response.error_for_status()?));
        let mut response = match (opened, ready.take()) {
            (Ok(response), ready) => {
                if let Some(ready) = ready {
                    let _ = ready.send(Ok(()));
                }
                response
            }
            (Err(error), Some(ready)) => {
                let _ = ready.send(Err(error.context("opening the notification stream")));
                return Ok(());
            }
            (Err(error), None) => {
                eprintln!("   notification stream: {error:#}; reopening");
                seen.reconnections.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut parser = SseParser::default();
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk,
                _ = &mut stop => return Ok(()),
            };
            let arrival = Arrival {
                at: Instant::now(),
                wall: Utc::now(),
            };
            let Ok(Some(bytes)) = chunk else { break };
            for event in parser.push(&bytes) {
                if !event.id.is_empty() {
                    last_id = Some(event.id.clone());
                }
                if event.event != "BOOKING_CONFIRMED" {
                    continue;
                }
                let item: Item = serde_json::from_str(&event.data)
                    .with_context(|| format!("an unreadable notification: {}", event.data))?;
                let mut arrivals = seen.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
                match arrivals.entry(item.booking_id) {
                    Entry::Occupied(_) => {
                        seen.repeats.fetch_add(1, Ordering::Relaxed);
                    }
                    Entry::Vacant(vacant) => {
                        vacant.insert(arrival);
                    }
                }
            }
        }
        eprintln!("   notification stream ended; reopening after {last_id:?}");
        seen.reconnections.fetch_add(1, Ordering::Relaxed);
    }
}
