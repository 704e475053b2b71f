//! The booking repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::CorrelationId;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_platform::db::{
    Database, Statement, Stop, Unit, Written, instant_from_db, instant_to_db,
};
use mybnb_platform::inbox::Handling;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::{
    Booking, BookingStatus, IdempotencyKey, Money, RoomSnapshot, StayDates, StoredBooking,
};
use crate::ports::{BookingRepository, Claim};

#[derive(Clone)]
pub struct SqlBookingRepository {
    database: Database,
}

impl SqlBookingRepository {
    pub fn new(database: Database) -> Self {
        SqlBookingRepository { database }
    }
}

const BOOKING_COLUMNS: &str = "id, room_id, room_name, host_id, guest_id, check_in, check_out, \
     guests, nightly_price, capacity, total_price, status, payment_id, payment_settled, \
     created_at, updated_at";

impl BookingRepository for SqlBookingRepository {
    async fn claim(
        &self,
        booking: &Booking,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> anyhow::Result<Claim> {
        let attempt = self
            .database
            .write(async |unit| {
                unit.execute("inserting a booking", insert_booking(booking)).await?;
                if let Some(key) = idempotency_key {
                    let remember = sqlx::query(
                        "INSERT INTO idempotency_keys (guest_id, idempotency_key, booking_id) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(booking.guest_id().to_string())
                    .bind(key.as_str())
                    .bind(booking.id().to_string());
                    unit.insert_unique("remembering an idempotency key", remember, Attempt::KeyUsed)
                        .await?;
                }
                for night in booking.stay().each_night() {
                    let claim = sqlx::query(
                        "INSERT INTO booking_nights (room_id, night, booking_id) VALUES ($1, $2, $3)",
                    )
                    .bind(booking.room().id.to_string())
                    .bind(night.to_string())
                    .bind(booking.id().to_string());
                    unit.insert_unique("claiming a night", claim, Attempt::NightsTaken)
                        .await?;
                }
                Ok(Attempt::Claimed)
            })
            .await?
            .answer()?;
        Ok(match (attempt, idempotency_key) {
            (Attempt::Claimed, _) => Claim::Claimed,
            (Attempt::NightsTaken, _) => Claim::NightsTaken,
            // Read after the claim's transaction: the key's booking may have been rejected (and
            // the key deleted with it) in between.
            (Attempt::KeyUsed, Some(key)) => match self.find_by_key(booking.guest_id(), key).await?
            {
                Some(first) if first.status().name() != BookingStatus::REJECTED => {
                    Claim::KeyUsed(first)
                }
                _ => Claim::KeyReleased,
            },
            (Attempt::KeyUsed, None) => anyhow::bail!("a claim without a key found its key used"),
        })
    }

    async fn confirm(
        &self,
        booking: &Booking,
        event: &BookingConfirmed,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Written<()>> {
        self.database
            .write_caused_by(correlation, async |unit| {
                move_status(unit, booking, BookingStatus::PENDING).await?;
                unit.record(event).await?;
                Ok::<_, Stop>(())
            })
            .await
    }

    async fn reject(&self, booking: &Booking) -> anyhow::Result<Written<()>> {
        self.database
            .write(async |unit| {
                move_status(unit, booking, BookingStatus::PENDING).await?;
                unit.execute("releasing nights", release_nights(booking.id()))
                    .await?;
                let forget = sqlx::query("DELETE FROM idempotency_keys WHERE booking_id = $1")
                    .bind(booking.id().to_string());
                unit.execute("forgetting an idempotency key", forget)
                    .await?;
                Ok::<_, Stop>(())
            })
            .await
    }

    async fn cancel(
        &self,
        booking: &Booking,
        event: &BookingCancelled,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Written<()>> {
        self.database
            .write_caused_by(correlation, async |unit| {
                move_status(unit, booking, BookingStatus::CONFIRMED).await?;
                unit.execute("releasing nights", release_nights(booking.id()))
                    .await?;
                unit.record(event).await?;
                Ok::<_, Stop>(())
            })
            .await
    }

    async fn mark_payment_settled(&self, booking_id: Uuid) -> anyhow::Result<()> {
        let settle =
            sqlx::query("UPDATE bookings SET payment_settled = 1, updated_at = $1 WHERE id = $2")
                .bind(instant_to_db(mybnb_platform::db::now()))
                .bind(booking_id.to_string());
        self.database
            .write(async |unit| {
                unit.execute("settling a booking's payment", settle).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    async fn find(&self, id: Uuid) -> anyhow::Result<Option<Booking>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.database.pool())
        .await
        .context("reading a booking")?;
        row.as_ref().map(booking_from_row).transpose()
    }

    async fn find_by_key(
        &self,
        guest_id: Uuid,
        key: &IdempotencyKey,
    ) -> anyhow::Result<Option<Booking>> {
        let booking_id: Option<String> = sqlx::query_scalar(
            "SELECT booking_id FROM idempotency_keys WHERE guest_id = $1 AND idempotency_key = $2",
        )
        .bind(guest_id.to_string())
        .bind(key.as_str())
        .fetch_optional(self.database.pool())
        .await
        .context("reading an idempotency key")?;
        match booking_id {
            Some(id) => self.find(Uuid::parse_str(&id)?).await,
            None => Ok(None),
        }
    }

    async fn list_for_guest(&self, guest_id: Uuid) -> anyhow::Result<Vec<Booking>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE guest_id = $1 ORDER BY id DESC"
        )))
        .bind(guest_id.to_string())
        .fetch_all(self.database.pool())
        .await
        .context("listing a guest's bookings")?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn unsettled(&self, stale_before: DateTime<Utc>) -> anyhow::Result<Vec<Booking>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE payment_settled = 0 \
             AND (status <> 'PENDING' OR created_at < $1) \
             ORDER BY CASE WHEN status = 'PENDING' THEN 0 ELSE 1 END, created_at LIMIT 500"
        )))
        .bind(instant_to_db(stale_before))
        .fetch_all(self.database.pool())
        .await
        .context("listing unsettled bookings")?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn upcoming_for_room(
        &self,
        room_id: Uuid,
        today: NaiveDate,
    ) -> anyhow::Result<Vec<Booking>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE room_id = $1 AND status = 'CONFIRMED' \
             AND check_in > $2 ORDER BY check_in"
        )))
        .bind(room_id.to_string())
        .bind(today.to_string())
        .fetch_all(self.database.pool())
        .await
        .context("listing a room's upcoming bookings")?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn cancel_for_event(
        &self,
        cancellations: &[(Booking, BookingCancelled)],
        handling: &Handling,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Written<usize>> {
        self.database
            .write_caused_by(correlation, async |unit| {
                unit.first_time(handling).await?;
                let mut cancelled = 0;
                for (booking, event) in cancellations {
                    // A booking that is no longer CONFIRMED is left as it is.
                    let moved = unit
                        .execute(
                            "updating a booking's status",
                            status_move(booking, BookingStatus::CONFIRMED),
                        )
                        .await?;
                    if moved == 1 {
                        unit.execute("releasing nights", release_nights(booking.id()))
                            .await?;
                        unit.record(event).await?;
                        cancelled += 1;
                    }
                }
                Ok::<_, Stop>(cancelled)
            })
            .await
    }
}

/// How a claim went, inside its write unit.
enum Attempt {
    Claimed,
    NightsTaken,
    KeyUsed,
}

fn insert_booking(booking: &Booking) -> Statement<'_> {
    sqlx::query(
        "INSERT INTO bookings (id, room_id, room_name, host_id, guest_id, check_in, check_out, \
         guests, nightly_price, capacity, total_price, status, payment_id, payment_settled, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(booking.id().to_string())
    .bind(booking.room().id.to_string())
    .bind(&booking.room().name)
    .bind(booking.room().host_id.to_string())
    .bind(booking.guest_id().to_string())
    .bind(booking.stay().check_in().to_string())
    .bind(booking.stay().check_out().to_string())
    .bind(i64::from(booking.guests()))
    .bind(booking.room().price.as_won())
    .bind(i64::from(booking.room().capacity))
    .bind(booking.total_price().as_won())
    .bind(booking.status().name())
    .bind(booking.status().payment_id().map(|id| id.to_string()))
    .bind(i64::from(booking.status().payment_settled()))
    .bind(instant_to_db(booking.created_at()))
    .bind(instant_to_db(booking.updated_at()))
}

/// Writes the booking's new status, if it still has the status `from`.
fn status_move<'q>(booking: &'q Booking, from: &'static str) -> Statement<'q> {
    sqlx::query(
        "UPDATE bookings SET status = $1, payment_id = $2, payment_settled = $3, updated_at = $4 \
         WHERE id = $5 AND status = $6",
    )
    .bind(booking.status().name())
    .bind(booking.status().payment_id().map(|id| id.to_string()))
    .bind(i64::from(booking.status().payment_settled()))
    .bind(instant_to_db(booking.updated_at()))
    .bind(booking.id().to_string())
    .bind(from)
}

/// Moves the booking to its new status; the unit stops with [`Stop::LostRace`] if it no longer
/// has the status `from`.
async fn move_status<C>(
    unit: &mut Unit<'_, C>,
    booking: &Booking,
    from: &'static str,
) -> Result<(), Stop> {
    unit.guarded("updating a booking's status", status_move(booking, from))
        .await
}

fn release_nights(booking_id: Uuid) -> Statement<'static> {
    sqlx::query("DELETE FROM booking_nights WHERE booking_id = $1").bind(booking_id.to_string())
}

fn booking_from_row(row: &AnyRow) -> anyhow::Result<Booking> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let uuid = |column: &str| -> anyhow::Result<Uuid> { Ok(Uuid::parse_str(&text(column)?)?) };
    let date = |column: &str| -> anyhow::Result<NaiveDate> { Ok(text(column)?.parse()?) };
    let number = |column: &str| -> anyhow::Result<i64> { Ok(row.try_get(column)?) };
    let payment_id: Option<String> = row.try_get("payment_id")?;
    let status = BookingStatus::restore(
        &text("status")?,
        payment_id.as_deref().map(Uuid::parse_str).transpose()?,
        number("payment_settled")? == 1,
    )?;
    Ok(Booking::restore(StoredBooking {
        id: uuid("id")?,
        room: RoomSnapshot {
            id: uuid("room_id")?,
            name: text("room_name")?,
            host_id: uuid("host_id")?,
            price: Money::won(number("nightly_price")?)?,
            capacity: u32::try_from(number("capacity")?)?,
        },
        guest_id: uuid("guest_id")?,
        stay: StayDates::restore(date("check_in")?, date("check_out")?)?,
        guests: u32::try_from(number("guests")?)?,
        total_price: Money::won(number("total_price")?)?,
        status,
        created_at: instant_from_db(&text("created_at")?)?,
        updated_at: instant_from_db(&text("updated_at")?)?,
    }))
}
