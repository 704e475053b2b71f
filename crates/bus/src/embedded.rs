//! The embedded bus of the all-in-one mode: an append-only log of events in its own SQLite
//! database, each durable subscriber's position in it, and the dead letters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mybnb_events::EventEnvelope;
use mybnb_platform::BoxFuture;
use mybnb_platform::db::{
    Bindings, Database, Migrations, Statement, Stop, instant_from_db, instant_to_db, now,
};
use sqlx::Row;
use tokio::sync::{Mutex, Notify};

use crate::port::{Delivery, EventBus, HistoryEntry, Subscription};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many events a subscriber reads at once.
const BATCH: i64 = 256;

/// A waiting subscriber looks again this often even without a wake-up, in case it missed one
/// (another process appending to the same file, say).
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct EmbeddedLog {
    database: Database,
    /// Woken when this process has appended (not on every commit of the log's database: the
    /// subscribers' own position writes must not wake them all).
    appended: Arc<Notify>,
}

impl EmbeddedLog {
    /// The log in `database`, which must be a SQLite database of its own.
    pub fn new(database: Database) -> Self {
        EmbeddedLog {
            appended: Arc::new(Notify::new()),
            database,
        }
    }

    /// The log's tables.
    pub fn migrations() -> Migrations {
        Migrations::portable(&MIGRATOR)
    }
}

impl EventBus for EmbeddedLog {
    fn publish<'a>(&'a self, events: &'a [EventEnvelope]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let rows = events
                .iter()
                .map(|envelope| {
                    Ok((
                        envelope.id.to_string(),
                        envelope.event_type.clone(),
                        serde_json::to_string(envelope)?,
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if rows.is_empty() {
                return Ok(());
            }
            self.database
                .write(async |unit| {
                    // One statement per batch: (event_id, event_type, envelope, published_at).
                    let mut bindings = Bindings::default();
                    let published_at = bindings.bind(instant_to_db(now()))?;
                    let mut values = Vec::with_capacity(rows.len());
                    for (event_id, event_type, envelope) in rows {
                        let row = bindings.bind_all([event_id, event_type, envelope])?;
                        values.push(format!("({row}, {published_at})"));
                    }
                    let sql = format!(
                        "INSERT INTO events (event_id, event_type, envelope, published_at) \
                         VALUES {} ON CONFLICT (event_id) DO NOTHING",
                        values.join(", ")
                    );
                    unit.execute("appending to the event log", bindings.statement(sql))
                        .await?;
                    Ok::<_, Stop>(())
                })
                .await?;
            self.appended.notify_waiters();
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        subscriber: &'a str,
        event_types: &'a [&'a str],
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Subscription>>> {
        Box::pin(async move {
            let register = sqlx::query(
                "INSERT INTO subscribers (name, position) VALUES ($1, 0) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(subscriber);
            self.database
                .write(async |unit| {
                    unit.execute("registering a subscriber", register).await?;
                    Ok::<_, Stop>(())
                })
                .await?;
            let position: i64 =
                sqlx::query_scalar("SELECT position FROM subscribers WHERE name = $1")
                    .bind(subscriber)
                    .fetch_one(self.database.pool())
                    .await
                    .context("reading a subscriber's position")?;
            let subscription: Box<dyn Subscription> = Box::new(EmbeddedSubscription {
                log: self.clone(),
                name: subscriber.to_owned(),
                event_types: event_types
                    .iter()
                    .map(|&event_type| event_type.to_owned())
                    .collect(),
                reader: Mutex::new(Reader {
                    delivered: u64::try_from(position)?,
                    buffer: VecDeque::new(),
                }),
            });
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
            let types: Vec<String> = event_types.iter().map(|&name| name.to_owned()).collect();
            read_after(&self.database, &types, after, i64::try_from(limit)?)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(HistoryEntry {
                        position: row.position,
                        envelope: row.envelope.context("an unreadable event in the log")?,
                        published_at: instant_from_db(&row.published_at)?,
                    })
                })
                .collect()
        })
    }
}

/// A row of the log, its envelope read if it can be.
struct LogRow {
    position: u64,
    event_id: String,
    envelope: Result<EventEnvelope, serde_json::Error>,
    text: String,
    published_at: String,
}

/// Up to `limit` events of `event_types` after `position`, in log order.
async fn read_after(
    database: &Database,
    event_types: &[String],
    position: u64,
    limit: i64,
) -> anyhow::Result<Vec<LogRow>> {
    let mut bindings = Bindings::default();
    let after = bindings.bind(i64::try_from(position)?)?;
    let types = bindings.bind_all(event_types)?;
    let sql = format!(
        "SELECT position, event_id, envelope, published_at FROM events WHERE position > {after} \
         AND event_type IN ({types}) ORDER BY position LIMIT {limit}"
    );
    let rows = bindings
        .statement(sql)
        .fetch_all(database.pool())
        .await
        .context("reading the event log")?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("envelope")?;
            let position: i64 = row.try_get("position")?;
            Ok(LogRow {
                position: u64::try_from(position)?,
                event_id: row.try_get("event_id")?,
                envelope: serde_json::from_str(&text),
                text,
                published_at: row.try_get("published_at")?,
            })
        })
        .collect()
}

struct EmbeddedSubscription {
    log: EmbeddedLog,
    name: String,
    event_types: Vec<String>,
    reader: Mutex<Reader>,
}

/// What the reading task has read ahead.
struct Reader {
    /// The position of the last event handed out.
    delivered: u64,
    buffer: VecDeque<Delivery>,
}

impl EmbeddedSubscription {
    /// Reads ahead. A row whose envelope cannot be read is set aside as a dead letter (as
    /// JetStream does) and skipped; the position moves past it with the next acknowledgement.
    async fn fill(&self, reader: &mut Reader) -> anyhow::Result<()> {
        let rows = read_after(
            &self.log.database,
            &self.event_types,
            reader.delivered,
            BATCH,
        )
        .await?;
        for row in rows {
            match row.envelope {
                Ok(envelope) => reader.buffer.push_back(Delivery {
                    envelope,
                    delivered: 1,
                    position: row.position,
                }),
                Err(error) => {
                    let reason = format!("unreadable event envelope: {error}");
                    tracing::error!(
                        subscriber = self.name,
                        position = row.position,
                        reason,
                        "event dead-lettered"
                    );
                    self.set_aside(DeadLetter {
                        event_id: row.event_id,
                        envelope: row.text,
                        reason,
                    })
                    .await?;
                    reader.delivered = row.position;
                }
            }
        }
        Ok(())
    }

    async fn set_aside(&self, letter: DeadLetter) -> anyhow::Result<()> {
        self.advance_with(None, Some(letter)).await
    }

    /// Moves the subscriber's position up to `position`, in the same transaction as `also`.
    async fn advance(&self, position: u64, also: Option<DeadLetter>) -> anyhow::Result<()> {
        self.advance_with(Some(position), also).await
    }

    /// Sets a dead letter aside and moves the position up, each if given, in one transaction.
    async fn advance_with(
        &self,
        position: Option<u64>,
        letter: Option<DeadLetter>,
    ) -> anyhow::Result<()> {
        let position = position.map(i64::try_from).transpose()?;
        self.log
            .database
            .write(async |unit| {
                if let Some(letter) = &letter {
                    unit.execute(
                        "setting an event aside as a dead letter",
                        dead_letter(&self.name, letter),
                    )
                    .await?;
                }
                if let Some(position) = position {
                    let advance = sqlx::query(
                        "UPDATE subscribers SET position = $1 WHERE name = $2 AND position < $1",
                    )
                    .bind(position)
                    .bind(&self.name);
                    unit.execute("recording a subscriber's position", advance)
                        .await?;
                }
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }
}

fn dead_letter<'q>(subscriber: &'q str, letter: &'q DeadLetter) -> Statement<'q> {
    sqlx::query(
        "INSERT INTO dead_letters (subscriber, event_id, envelope, reason, failed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscriber, event_id) DO NOTHING",
    )
    .bind(subscriber)
    .bind(&letter.event_id)
    .bind(&letter.envelope)
    .bind(&letter.reason)
    .bind(instant_to_db(now()))
}

struct DeadLetter {
    event_id: String,
    envelope: String,
    reason: String,
}

impl Subscription for EmbeddedSubscription {
    fn next(&self) -> BoxFuture<'_, anyhow::Result<Delivery>> {
        Box::pin(async move {
            let mut reader = self.reader.lock().await;
            loop {
                if let Some(delivery) = reader.buffer.pop_front() {
                    reader.delivered = delivery.position;
                    return Ok(delivery);
                }
                // Listen before looking, so that an append between the two is not missed.
                let appended = self.log.appended.clone();
                let woken = appended.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                self.fill(&mut reader).await?;
                if reader.buffer.is_empty() {
                    let _ = tokio::time::timeout(RECHECK, woken).await;
                }
            }
        })
    }

    fn ack<'a>(&'a self, deliveries: &'a [Delivery]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            match deliveries.iter().map(|delivery| delivery.position).max() {
                Some(position) => self.advance(position, None).await,
                None => Ok(()),
            }
        })
    }

    fn in_progress<'a>(&'a self, _delivery: &'a Delivery) -> BoxFuture<'a, anyhow::Result<()>> {
        // Nothing to tell: the log hands an event out again only to a new subscription.
        Box::pin(async { Ok(()) })
    }

    fn dead_letter<'a>(
        &'a self,
        delivery: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let letter = DeadLetter {
                event_id: delivery.envelope.id.to_string(),
                envelope: serde_json::to_string(&delivery.envelope)?,
                reason: reason.to_owned(),
            };
            self.advance(delivery.position, Some(letter)).await
        })
    }
}
