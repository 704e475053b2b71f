//! The my-page tables on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use mybnb_platform::db::{Database, Stop};
use mybnb_platform::inbox::{self, Handling};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::{BookingStatus, MyPage, PaymentStatus, Status, Stay, StayUpdate};

/// Rows of each side of a page, newest first.
pub const PAGE_ROWS: i64 = 200;

#[derive(Clone)]
pub struct SqlMyPageRepository {
    database: Database,
}

impl SqlMyPageRepository {
    pub fn new(database: Database) -> Self {
        SqlMyPageRepository { database }
    }

    /// Merges what the event says into its stay and records `handling` in the inbox, in one
    /// transaction; nothing changes when the event was handled before. Known values are kept
    /// where the event knows nothing, and statuses merge as [`crate::domain::merge`] says: for these orders
    /// (one status after the first, CANCELLED), "never replace the last" is "only forward".
    pub async fn apply(&self, update: &StayUpdate, handling: &Handling) -> anyhow::Result<()> {
        let upsert = sqlx::query(
            "INSERT INTO stays (booking_id, room_id, room_name, guest_id, host_id, \
             check_in, check_out, total_price, booking_status, payment_status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (booking_id) DO UPDATE SET \
             room_id = COALESCE(excluded.room_id, stays.room_id), \
             room_name = COALESCE(excluded.room_name, stays.room_name), \
             guest_id = COALESCE(excluded.guest_id, stays.guest_id), \
             host_id = COALESCE(excluded.host_id, stays.host_id), \
             check_in = COALESCE(excluded.check_in, stays.check_in), \
             check_out = COALESCE(excluded.check_out, stays.check_out), \
             total_price = COALESCE(excluded.total_price, stays.total_price), \
             booking_status = CASE WHEN stays.booking_status = $11 \
               THEN stays.booking_status \
               ELSE COALESCE(excluded.booking_status, stays.booking_status) END, \
             payment_status = CASE WHEN stays.payment_status = $11 \
               THEN stays.payment_status \
               ELSE COALESCE(excluded.payment_status, stays.payment_status) END",
        )
        .bind(update.booking_id.to_string())
        .bind(update.room_id.map(|id| id.to_string()))
        .bind(update.room_name.as_deref())
        .bind(update.guest_id.map(|id| id.to_string()))
        .bind(update.host_id.map(|id| id.to_string()))
        .bind(update.check_in.map(|date| date.to_string()))
        .bind(update.check_out.map(|date| date.to_string()))
        .bind(update.total_price)
        .bind(update.booking_status.map(Status::name))
        .bind(update.payment_status.map(Status::name))
        // The last status of both kinds: CANCELLED (a unit test keeps them the same).
        .bind(BookingStatus::LAST.name());
        self.database
            .write(async |unit| {
                unit.first_time(handling).await?;
                unit.execute("updating a stay on my page", upsert).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    /// Forgets every stay and every handled event, to rebuild from the history.
    pub async fn clear(&self, consumer: &'static str) -> anyhow::Result<()> {
        self.database
            .write(async |unit| {
                unit.execute("clearing my page", sqlx::query("DELETE FROM stays"))
                    .await?;
                inbox::forget(unit.connection(), consumer).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    /// The user's stays as guest and as host, newest first; stays whose booking event has not
    /// arrived yet are left out.
    pub async fn page(&self, user_id: Uuid) -> anyhow::Result<MyPage> {
        Ok(MyPage {
            as_guest: self.side("guest_id", user_id).await?,
            as_host: self.side("host_id", user_id).await?,
        })
    }

    async fn side(&self, column: &'static str, user_id: Uuid) -> anyhow::Result<Vec<Stay>> {
        // `column` is one of two constants, never input.
        let sql = format!(
            "SELECT booking_id, room_id, room_name, check_in, check_out, total_price, \
             booking_status, payment_status FROM stays \
             WHERE {column} = $1 AND room_name IS NOT NULL AND booking_status IS NOT NULL \
             ORDER BY booking_id DESC LIMIT {PAGE_ROWS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id.to_string())
            .fetch_all(self.database.pool())
            .await
            .context("reading my page")?;
        rows.iter().map(stay_from_row).collect()
    }
}

fn stay_from_row(row: &AnyRow) -> anyhow::Result<Stay> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let payment_status: Option<String> = row.try_get("payment_status")?;
    Ok(Stay {
        booking_id: Uuid::parse_str(&text("booking_id")?)?,
        room_id: Uuid::parse_str(&text("room_id")?)?,
        room_name: text("room_name")?,
        check_in: text("check_in")?.parse()?,
        check_out: text("check_out")?.parse()?,
        total_price: row.try_get("total_price")?,
        booking_status: status(&text("booking_status")?)?,
        payment_status: match payment_status {
            Some(name) => status(&name)?,
            None => PaymentStatus::Pending,
        },
    })
}

fn status<S: Status>(name: &str) -> anyhow::Result<S> {
    S::parse(name).with_context(|| format!("an unknown status on my page: {name}"))
}
