//! What host-insights knows: each booking's room, host, total and whether it was cancelled,
//! and the per-room sums a host asks for.

use anyhow::Context;
use mybnb_bus::Rejected;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::{EventEnvelope, Incoming};
use mybnb_platform::db::{Database, Stop};
use mybnb_platform::inbox::Handling;
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// The durable subscription's name (and the inbox's consumer name).
pub const SUBSCRIBER: &str = "host-insights";

mybnb_events::incoming! {
    /// What host-insights reads.
    pub enum InsightsIncoming {
        Confirmed(BookingConfirmed),
        Cancelled(BookingCancelled),
    }
}

/// What host-insights subscribes to.
pub const SUBSCRIBES_TO: &[&str] = InsightsIncoming::EVENT_TYPES;

/// One room's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInsight {
    pub room_id: Uuid,
    pub host_id: Uuid,
    /// Bookings confirmed and not cancelled.
    pub bookings: i64,
    pub cancellations: i64,
    /// The total of the bookings that stand, in whole won.
    pub revenue: i64,
}

pub struct Insights {
    database: Database,
}

impl Insights {
    pub fn new(database: Database) -> Self {
        Insights { database }
    }

    /// Applies one event, exactly once.
    pub async fn handle(&self, envelope: &EventEnvelope) -> anyhow::Result<()> {
        let (booking_id, room_id, host_id, total_price, cancelled) =
            match InsightsIncoming::decode(envelope).map_err(Rejected::from)? {
                InsightsIncoming::Confirmed(event) => {
                    let total = Some(event.total_price);
                    (event.booking_id, event.room_id, event.host_id, total, 0_i64)
                }
                InsightsIncoming::Cancelled(event) => {
                    (event.booking_id, event.room_id, event.host_id, None, 1)
                }
            };
        let handling = Handling {
            consumer: SUBSCRIBER,
            event_id: envelope.id,
        };
        let record = sqlx::query(
            "INSERT INTO bookings (booking_id, room_id, host_id, total_price, cancelled) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id) \
             DO UPDATE SET total_price = COALESCE(excluded.total_price, bookings.total_price), \
             cancelled = CASE WHEN excluded.cancelled = 1 THEN 1 ELSE bookings.cancelled END",
        )
        .bind(booking_id.to_string())
        .bind(room_id.to_string())
        .bind(host_id.to_string())
        .bind(total_price)
        .bind(cancelled);
        self.database
            .write(async |unit| {
                unit.first_time(&handling).await?;
                unit.execute("recording a booking", record).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    /// Every room's figures, or one host's rooms'.
    pub async fn rooms(&self, host_id: Option<Uuid>) -> anyhow::Result<Vec<RoomInsight>> {
        let rows = sqlx::query(
            "SELECT room_id, host_id, \
             CAST(SUM(CASE WHEN cancelled = 0 THEN 1 ELSE 0 END) AS BIGINT) AS standing, \
             CAST(SUM(cancelled) AS BIGINT) AS cancellations, \
             CAST(SUM(CASE WHEN cancelled = 0 THEN COALESCE(total_price, 0) ELSE 0 END) \
             AS BIGINT) AS revenue \
             FROM bookings WHERE $1 IS NULL OR host_id = $1 \
             GROUP BY room_id, host_id ORDER BY room_id",
        )
        .bind(host_id.map(|id| id.to_string()))
        .fetch_all(self.database.pool())
        .await
        .context("summing bookings per room")?;
        rows.iter()
            .map(|row| {
                let text = |column: &str| -> anyhow::Result<Uuid> {
                    Ok(Uuid::parse_str(&row.try_get::<String, _>(column)?)?)
                };
                Ok(RoomInsight {
                    room_id: text("room_id")?,
                    host_id: text("host_id")?,
                    bookings: row.try_get("standing")?,
                    cancellations: row.try_get("cancellations")?,
                    revenue: row.try_get("revenue")?,
                })
            })
            .collect()
    }
}
