//! The payment repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use mybnb_events::CorrelationId;
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use mybnb_platform::db::{Database, Stop, Written, instant_from_db, instant_to_db};
use mybnb_platform::inbox::Handling;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::{Payment, PaymentOrder, PaymentStatus};

/// The outcome of recording a new payment.
#[derive(Debug)]
pub enum Recorded {
    Created,
    /// The booking already had a payment (a concurrent or repeated request): this one.
    Existing(Payment),
}

/// Where payments are kept; changes and their events commit together. Errors are failures of
/// the store itself.
#[derive(Clone)]
pub struct SqlPaymentRepository {
    database: Database,
}

impl SqlPaymentRepository {
    pub fn new(database: Database) -> Self {
        SqlPaymentRepository { database }
    }

    pub async fn find_by_booking(&self, booking_id: Uuid) -> anyhow::Result<Option<Payment>> {
        let row = sqlx::query(
            "SELECT id, booking_id, guest_id, host_id, amount, status, created_at, updated_at \
             FROM payments WHERE booking_id = $1",
        )
        .bind(booking_id.to_string())
        .fetch_optional(self.database.pool())
        .await
        .context("reading a payment")?;
        row.as_ref().map(payment_from_row).transpose()
    }

    pub async fn insert(
        &self,
        payment: &Payment,
        event: Option<&PaymentApproved>,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Recorded> {
        let insert = sqlx::query(
            "INSERT INTO payments (id, booking_id, guest_id, host_id, amount, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(payment.id.to_string())
        .bind(payment.order.booking_id.to_string())
        .bind(payment.order.guest_id.to_string())
        .bind(payment.order.host_id.to_string())
        .bind(payment.order.amount)
        .bind(payment.status.as_str())
        .bind(instant_to_db(payment.created_at))
        .bind(instant_to_db(payment.updated_at));
        let written = self
            .database
            .write_caused_by(correlation, async |unit| {
                // The booking id is unique: a second payment for it is refused.
                unit.insert_unique("inserting a payment", insert, BookingHasOne)
                    .await?;
                if let Some(event) = event {
                    unit.record(event).await?;
                }
                Ok(())
            })
            .await?;
        if written.is_applied() {
            return Ok(Recorded::Created);
        }
        let existing = self
            .find_by_booking(payment.order.booking_id)
            .await?
            .context("a payment that collided has vanished")?;
        Ok(Recorded::Existing(existing))
    }

    /// Gives back an approved payment: stores its new status (voided or refunded) with its
    /// event, if it is still APPROVED — else [`Written::LostRace`] (another void or refund got
    /// there first) or [`Written::AlreadyHandled`] (the event that asked, `handling`).
    pub async fn give_back(
        &self,
        payment: &Payment,
        event: &PaymentCancelled,
        correlation: &CorrelationId,
        handling: Option<&Handling>,
    ) -> anyhow::Result<Written<()>> {
        let give_back = sqlx::query(
            "UPDATE payments SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'APPROVED'",
        )
        .bind(payment.status.as_str())
        .bind(instant_to_db(payment.updated_at))
        .bind(payment.id.to_string());
        self.database
            .write_caused_by(correlation, async |unit| {
                if let Some(handling) = handling {
                    unit.first_time(handling).await?;
                }
                unit.guarded("giving back a payment", give_back).await?;
                unit.record(event).await?;
                Ok::<_, Stop>(())
            })
            .await
    }
}

/// Why a payment was not inserted: its booking already has one.
struct BookingHasOne;

fn payment_from_row(row: &AnyRow) -> anyhow::Result<Payment> {
    let uuid = |column: &str| -> anyhow::Result<Uuid> {
        let text: String = row.try_get(column)?;
        Ok(Uuid::parse_str(&text)?)
    };
    let status: String = row.try_get("status")?;
    let created_at: String = row.try_get("created_at")?;
    let updated_at: String = row.try_get("updated_at")?;
    Ok(Payment {
        id: uuid("id")?,
        order: PaymentOrder {
            booking_id: uuid("booking_id")?,
            guest_id: uuid("guest_id")?,
            host_id: uuid("host_id")?,
            amount: row.try_get("amount")?,
        },
        status: PaymentStatus::parse(&status)
            .with_context(|| format!("unknown payment status {status}"))?,
        created_at: instant_from_db(&created_at)?,
        updated_at: instant_from_db(&updated_at)?,
    })
}
