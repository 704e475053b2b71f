//! The payment repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use mybnb_platform::db::{
    Database, WriteOutcome, instant_from_db, instant_to_db, is_unique_violation,
};
use mybnb_platform::inbox::Handling;
use mybnb_platform::outbox;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::domain::{Payment, PaymentOrder, PaymentStatus};
use crate::ports::{PaymentRepository, Recorded};

#[derive(Clone)]
pub struct SqlPaymentRepository {
    database: Database,
}

impl SqlPaymentRepository {
    pub fn new(database: Database) -> Self {
        SqlPaymentRepository { database }
    }
}

impl PaymentRepository for SqlPaymentRepository {
    async fn find_by_booking(&self, booking_id: Uuid) -> anyhow::Result<Option<Payment>> {
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

    async fn insert(
        &self,
        payment: &Payment,
        event: Option<&mybnb_events::payment::PaymentApproved>,
        correlation_id: &str,
    ) -> anyhow::Result<Recorded> {
        let (payment, event, correlation_id) =
            (payment.clone(), event.cloned(), correlation_id.to_owned());
        let booking_id = payment.order.booking_id;
        let created = self
            .database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    let inserted = sqlx::query(
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
                    .bind(instant_to_db(payment.updated_at))
                    .execute(&mut *connection)
                    .await;
                    match inserted {
                        Ok(_) => {}
                        Err(error) if is_unique_violation(&error) => {
                            return Ok(WriteOutcome::Undo(false));
                        }
                        Err(error) => return Err(error).context("inserting a payment"),
                    }
                    if let Some(event) = event {
                        outbox::record(connection, &event, &correlation_id).await?;
                    }
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await?;
        if created {
            return Ok(Recorded::Created);
        }
        let existing = self
            .find_by_booking(booking_id)
            .await?
            .context("a payment that collided has vanished")?;
        Ok(Recorded::Existing(existing))
    }

    async fn give_back(
        &self,
        payment: &Payment,
        event: &mybnb_events::payment::PaymentCancelled,
        correlation_id: &str,
        handling: Option<Handling>,
    ) -> anyhow::Result<bool> {
        let (payment, event, correlation_id) =
            (payment.clone(), event.clone(), correlation_id.to_owned());
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    if let Some(handling) = handling
                        && !handling.first_time(connection).await?
                    {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    let given_back = sqlx::query(
                        "UPDATE payments SET status = $1, updated_at = $2 \
                         WHERE id = $3 AND status = 'APPROVED'",
                    )
                    .bind(payment.status.as_str())
                    .bind(instant_to_db(payment.updated_at))
                    .bind(payment.id.to_string())
                    .execute(&mut *connection)
                    .await
                    .context("giving back a payment")?
                    .rows_affected()
                        == 1;
                    if !given_back {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    outbox::record(connection, &event, &correlation_id).await?;
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await
    }
}

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
