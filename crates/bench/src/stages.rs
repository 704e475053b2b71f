//! Where the time between a booking's commit and its notification goes, read after the run
//! from the timestamps the server's own databases keep (same machine, same clock):
//!
//! - booking's outbox: `occurred_at`, stamped while the unit that confirms the booking runs
//!   (just before its group commit), and `published_at`, stamped by the relay in the write
//!   that marks the event sent, once the bus has acknowledged it;
//! - the embedded log (`events.db`): `published_at`, stamped in the relay's append;
//! - notification: `created_at`, stamped in the unit that records the notification (just
//!   before its commit);
//! - the client: when the 201 and the notification arrived.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row, SqliteConnection};

use crate::releases::{self, Releases};
use crate::stats::Spread;

/// One step of the way, over the measured bookings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub from: String,
    pub to: String,
    pub spread: Spread,
}

pub struct Measured {
    pub stages: Vec<Stage>,
    pub releases: Releases,
    pub relay_rounds: u64,
    pub events_per_relay_round: f64,
}

/// The booking's event as the databases recorded it.
struct Recorded {
    occurred: DateTime<Utc>,
    marked_published: Option<DateTime<Utc>>,
    appended: Option<DateTime<Utc>>,
    notified: Option<DateTime<Utc>>,
}

/// The stages of `bookings` (id, 201's arrival, notification's arrival) on the server whose
/// data directory is `data_dir`; `jetstream` when the bus was NATS (no `events.db`).
pub async fn measure(
    data_dir: &Path,
    jetstream: bool,
    bookings: &[(String, DateTime<Utc>, DateTime<Utc>)],
) -> anyhow::Result<Measured> {
    let mut booking = open(&data_dir.join("booking.db")).await?;
    let mut by_event: HashMap<String, String> = HashMap::new();
    let mut recorded: HashMap<String, Recorded> = HashMap::new();
    let rows = sqlx::query(
        "SELECT event_id, aggregate_id, occurred_at, published_at FROM outbox \
         WHERE event_type = 'BookingConfirmed'",
    )
    .fetch_all(&mut booking)
    .await
    .context("reading booking's outbox")?;
    for row in rows {
        let (event_id, booking_id): (String, String) =
            (row.try_get("event_id")?, row.try_get("aggregate_id")?);
        let published: Option<String> = row.try_get("published_at")?;
        recorded.insert(
            booking_id.clone(),
            Recorded {
                occurred: instant(&row.try_get::<String, _>("occurred_at")?)?,
                marked_published: published.as_deref().map(instant).transpose()?,
                appended: None,
                notified: None,
            },
        );
        by_event.insert(event_id, booking_id);
    }
    let (rounds, relayed): (i64, i64) = {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT published_at) AS rounds, COUNT(published_at) AS relayed \
             FROM outbox",
        )
        .fetch_one(&mut booking)
        .await?;
        (row.try_get("rounds")?, row.try_get("relayed")?)
    };
    if !jetstream {
        let mut log = open(&data_dir.join("events.db")).await?;
        let rows = sqlx::query(
            "SELECT event_id, published_at FROM events WHERE event_type = 'BookingConfirmed'",
        )
        .fetch_all(&mut log)
        .await
        .context("reading the event log")?;
        for row in rows {
            let event_id: String = row.try_get("event_id")?;
            let booking_id = by_event.get(&event_id);
            if let Some(entry) = booking_id.and_then(|id| recorded.get_mut(id)) {
                entry.appended = Some(instant(&row.try_get::<String, _>("published_at")?)?);
            }
        }
    }
    let mut notification = open(&data_dir.join("notification.db")).await?;
    let rows = sqlx::query(
        "SELECT booking_id, created_at FROM notifications WHERE kind = 'BOOKING_CONFIRMED'",
    )
    .fetch_all(&mut notification)
    .await
    .context("reading the notifications")?;
    for row in rows {
        let booking_id: String = row.try_get("booking_id")?;
        if let Some(entry) = recorded.get_mut(&booking_id) {
            entry.notified = Some(instant(&row.try_get::<String, _>("created_at")?)?);
        }
    }

    // On the bus: appended to the log (embedded), or acknowledged by NATS and marked.
    let on_bus = if jetstream {
        "relay marked it sent (NATS acknowledged)"
    } else {
        "relay appended it to the log"
    };
    let mut steps: Vec<(&str, &str, Vec<i64>)> = vec![
        (
            "booking confirmed (before commit)",
            "201 at the client",
            Vec::new(),
        ),
        ("booking confirmed (before commit)", on_bus, Vec::new()),
        (on_bus, "notification recorded (before commit)", Vec::new()),
        (
            "notification recorded (before commit)",
            "on the host's stream",
            Vec::new(),
        ),
        (
            "booking confirmed (before commit)",
            "on the host's stream",
            Vec::new(),
        ),
    ];
    let mut on_stream = Vec::with_capacity(bookings.len());
    for (booking_id, answered, arrived) in bookings {
        let Some(entry) = recorded.get(booking_id) else {
            continue;
        };
        if let Some(notified) = entry.notified {
            on_stream.push((notified, *arrived));
        }
        let bus = if jetstream {
            entry.marked_published
        } else {
            entry.appended
        };
        let (Some(bus), Some(notified)) = (bus, entry.notified) else {
            continue;
        };
        let marks = [
            (entry.occurred, *answered),
            (entry.occurred, bus),
            (bus, notified),
            (notified, *arrived),
            (entry.occurred, *arrived),
        ];
        for ((from, to), step) in marks.into_iter().zip(steps.iter_mut()) {
            step.2
                .push((to - from).num_microseconds().unwrap_or(i64::MAX));
        }
    }
    Ok(Measured {
        releases: releases::group(&on_stream),
        stages: steps
            .into_iter()
            .map(|(from, to, samples)| Stage {
                from: from.to_owned(),
                to: to.to_owned(),
                spread: Spread::of(samples),
            })
            .collect(),
        relay_rounds: u64::try_from(rounds)?,
        events_per_relay_round: relayed as f64 / rounds.max(1) as f64,
    })
}

async fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))
}

fn instant(text: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("an unreadable instant: {text}"))?
        .with_timezone(&Utc))
}
