//! The booking repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_platform::db::{
    Database, WriteOutcome, instant_from_db, instant_to_db, is_unique_violation,
};
use mybnb_platform::inbox::Handling;
use mybnb_platform::outbox;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::domain::{Booking, BookingStatus, RoomSnapshot, StayDates};
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
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<Claim> {
        let (booking, key) = (booking.clone(), idempotency_key.map(str::to_owned));
        let guest_id = booking.guest_id;
        let attempt = self
            .database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    insert_booking(connection, &booking).await?;
                    if let Some(key) = &key {
                        let remembered = sqlx::query(
                            "INSERT INTO idempotency_keys (guest_id, idempotency_key, booking_id) \
                             VALUES ($1, $2, $3)",
                        )
                        .bind(booking.guest_id.to_string())
                        .bind(key)
                        .bind(booking.id.to_string())
                        .execute(&mut *connection)
                        .await;
                        match remembered {
                            Ok(_) => {}
                            Err(error) if is_unique_violation(&error) => {
                                return Ok(WriteOutcome::Undo(Attempt::KeyUsed(key.clone())));
                            }
                            Err(error) => return Err(error).context("remembering an idempotency key"),
                        }
                    }
                    for night in booking.stay.each_night() {
                        let claimed = sqlx::query(
                            "INSERT INTO booking_nights (room_id, night, booking_id) VALUES ($1, $2, $3)",
                        )
                        .bind(booking.room.id.to_string())
                        .bind(night.to_string())
                        .bind(booking.id.to_string())
                        .execute(&mut *connection)
                        .await;
                        match claimed {
                            Ok(_) => {}
                            Err(error) if is_unique_violation(&error) => {
                                return Ok(WriteOutcome::Undo(Attempt::NightsTaken));
                            }
                            Err(error) => return Err(error).context("claiming a night"),
                        }
                    }
                    Ok(WriteOutcome::Keep(Attempt::Claimed))
                })
            }))
            .await?;
        Ok(match attempt {
            Attempt::Claimed => Claim::Claimed,
            Attempt::NightsTaken => Claim::NightsTaken,
            // Read after the claim's transaction: the key's booking may have been rejected (and
            // the key deleted with it) in between.
            Attempt::KeyUsed(key) => match self.find_by_key(guest_id, &key).await? {
                Some(first) if first.status != BookingStatus::Rejected => Claim::KeyUsed(first),
                _ => Claim::KeyReleased,
            },
        })
    }

    async fn confirm(
        &self,
        booking: &Booking,
        event: &BookingConfirmed,
        correlation_id: &str,
    ) -> anyhow::Result<bool> {
        let (booking, event, correlation_id) =
            (booking.clone(), event.clone(), correlation_id.to_owned());
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    if !move_status(connection, &booking, BookingStatus::Pending).await? {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    outbox::record(connection, &event, &correlation_id).await?;
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await
    }

    async fn reject(&self, booking: &Booking) -> anyhow::Result<bool> {
        let booking = booking.clone();
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    if !move_status(connection, &booking, BookingStatus::Pending).await? {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    release_nights(connection, booking.id).await?;
                    sqlx::query("DELETE FROM idempotency_keys WHERE booking_id = $1")
                        .bind(booking.id.to_string())
                        .execute(&mut *connection)
                        .await
                        .context("forgetting an idempotency key")?;
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await
    }

    async fn cancel(
        &self,
        booking: &Booking,
        event: &BookingCancelled,
        correlation_id: &str,
    ) -> anyhow::Result<bool> {
        let (booking, event, correlation_id) =
            (booking.clone(), event.clone(), correlation_id.to_owned());
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    if !move_status(connection, &booking, BookingStatus::Confirmed).await? {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    release_nights(connection, booking.id).await?;
                    outbox::record(connection, &event, &correlation_id).await?;
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await
    }

    async fn mark_payment_settled(&self, booking_id: Uuid) -> anyhow::Result<()> {
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE bookings SET payment_settled = 1, updated_at = $1 WHERE id = $2",
                    )
                    .bind(instant_to_db(mybnb_platform::db::now()))
                    .bind(booking_id.to_string())
                    .execute(&mut *connection)
                    .await
                    .context("settling a booking's payment")?;
                    Ok(WriteOutcome::Keep(()))
                })
            }))
            .await
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

    async fn find_by_key(&self, guest_id: Uuid, key: &str) -> anyhow::Result<Option<Booking>> {
        let booking_id: Option<String> = sqlx::query_scalar(
            "SELECT booking_id FROM idempotency_keys WHERE guest_id = $1 AND idempotency_key = $2",
        )
        .bind(guest_id.to_string())
        .bind(key)
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
        cancellations: Vec<(Booking, BookingCancelled)>,
        handling: Handling,
        correlation_id: &str,
    ) -> anyhow::Result<usize> {
        let correlation_id = correlation_id.to_owned();
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    if !handling.first_time(connection).await? {
                        return Ok(WriteOutcome::Undo(0));
                    }
                    let mut cancelled = 0;
                    for (booking, event) in cancellations {
                        if move_status(connection, &booking, BookingStatus::Confirmed).await? {
                            release_nights(connection, booking.id).await?;
                            outbox::record(connection, &event, &correlation_id).await?;
                            cancelled += 1;
                        }
                    }
                    Ok(WriteOutcome::Keep(cancelled))
                })
            }))
            .await
    }
}

/// How a claim went, inside its write unit.
enum Attempt {
    Claimed,
    NightsTaken,
    KeyUsed(String),
}

async fn insert_booking(connection: &mut AnyConnection, booking: &Booking) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO bookings (id, room_id, room_name, host_id, guest_id, check_in, check_out, \
         guests, nightly_price, capacity, total_price, status, payment_id, payment_settled, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(booking.id.to_string())
    .bind(booking.room.id.to_string())
    .bind(&booking.room.name)
    .bind(booking.room.host_id.to_string())
    .bind(booking.guest_id.to_string())
    .bind(booking.stay.check_in().to_string())
    .bind(booking.stay.check_out().to_string())
    .bind(i64::from(booking.guests))
    .bind(booking.room.price)
    .bind(i64::from(booking.room.capacity))
    .bind(booking.total_price)
    .bind(booking.status.as_str())
    .bind(booking.payment_id.map(|id| id.to_string()))
    .bind(i64::from(booking.payment_settled))
    .bind(instant_to_db(booking.created_at))
    .bind(instant_to_db(booking.updated_at))
    .execute(&mut *connection)
    .await
    .context("inserting a booking")?;
    Ok(())
}

/// Writes the booking's new status, if it still has the status `from`.
async fn move_status(
    connection: &mut AnyConnection,
    booking: &Booking,
    from: BookingStatus,
) -> anyhow::Result<bool> {
    let moved = sqlx::query(
        "UPDATE bookings SET status = $1, payment_id = $2, payment_settled = $3, updated_at = $4 \
         WHERE id = $5 AND status = $6",
    )
    .bind(booking.status.as_str())
    .bind(booking.payment_id.map(|id| id.to_string()))
    .bind(i64::from(booking.payment_settled))
    .bind(instant_to_db(booking.updated_at))
    .bind(booking.id.to_string())
    .bind(from.as_str())
    .execute(&mut *connection)
    .await
    .context("updating a booking's status")?;
    Ok(moved.rows_affected() == 1)
}

async fn release_nights(connection: &mut AnyConnection, booking_id: Uuid) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM booking_nights WHERE booking_id = $1")
        .bind(booking_id.to_string())
        .execute(&mut *connection)
        .await
        .context("releasing nights")?;
    Ok(())
}

fn booking_from_row(row: &AnyRow) -> anyhow::Result<Booking> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let uuid = |column: &str| -> anyhow::Result<Uuid> { Ok(Uuid::parse_str(&text(column)?)?) };
    let date = |column: &str| -> anyhow::Result<NaiveDate> { Ok(text(column)?.parse()?) };
    let number = |column: &str| -> anyhow::Result<i64> { Ok(row.try_get(column)?) };
    let status = text("status")?;
    let payment_id: Option<String> = row.try_get("payment_id")?;
    Ok(Booking {
        id: uuid("id")?,
        room: RoomSnapshot {
            id: uuid("room_id")?,
            name: text("room_name")?,
            host_id: uuid("host_id")?,
            price: number("nightly_price")?,
            capacity: u32::try_from(number("capacity")?)?,
        },
        guest_id: uuid("guest_id")?,
        stay: StayDates::restore(date("check_in")?, date("check_out")?)?,
        guests: u32::try_from(number("guests")?)?,
        total_price: number("total_price")?,
        status: BookingStatus::parse(&status)
            .with_context(|| format!("unknown booking status {status}"))?,
        payment_id: payment_id.as_deref().map(Uuid::parse_str).transpose()?,
        payment_settled: number("payment_settled")? == 1,
        created_at: instant_from_db(&text("created_at")?)?,
        updated_at: instant_from_db(&text("updated_at")?)?,
    })
}
