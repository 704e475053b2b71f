//! The payment use cases: charge (idempotent per booking), look up, void, refund.

use mybnb_bus::Rejected;
use mybnb_events::booking::BookingCancelled;
use mybnb_events::{CorrelationId, EventEnvelope, Incoming};
use mybnb_platform::db::now;
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{Payment, PaymentError, PaymentOrder};
use crate::simulation::SimulatedConnection;
use crate::store::{Recorded, SqlPaymentRepository};

/// The name payment subscribes and records handled events under.
pub const CONSUMER: &str = "payment";

mybnb_events::incoming! {
    /// The events payment reacts to.
    pub enum PaymentIncoming {
        BookingCancelled(BookingCancelled),
    }
}

/// What payment subscribes to.
pub const SUBSCRIBES_TO: &[&str] = PaymentIncoming::EVENT_TYPES;

pub struct PaymentService {
    payments: SqlPaymentRepository,
    network: SimulatedConnection,
}

impl PaymentService {
    pub fn new(payments: SqlPaymentRepository, network: SimulatedConnection) -> Self {
        PaymentService { payments, network }
    }

    /// Charges the order once: a repeated order for the same booking returns the first
    /// payment (approved, declined or voided) without charging again.
    #[tracing::instrument(skip_all, fields(booking_id = %order.booking_id))]
    pub async fn charge(
        &self,
        order: PaymentOrder,
        correlation: &CorrelationId,
    ) -> Result<Payment, PaymentError> {
        if let Some(existing) = self.payments.find_by_booking(order.booking_id).await? {
            existing.check_same_order(&order)?;
            return Ok(existing);
        }
        let authorization = self
            .network
            .authorize(&order)
            .await
            .map_err(|_| PaymentError::Unavailable)?;
        let (payment, event) = Payment::authorized(Uuid::now_v7(), order, authorization, now());
        match self
            .payments
            .insert(&payment, event.as_ref(), correlation)
            .await?
        {
            Recorded::Created => {
                tracing::info!(payment_id = %payment.id, status = payment.status.as_str(), "payment recorded");
                Ok(payment)
            }
            Recorded::Existing(existing) => {
                existing.check_same_order(&order)?;
                Ok(existing)
            }
        }
    }

    pub async fn find(&self, booking_id: Uuid) -> Result<Payment, PaymentError> {
        self.payments
            .find_by_booking(booking_id)
            .await?
            .ok_or(PaymentError::NotFound(booking_id))
    }

    /// Makes sure the booking is not charged: voids an approved charge, or records a void in
    /// advance so that a charge still on its way is refused. Idempotent.
    #[tracing::instrument(skip_all, fields(booking_id = %order.booking_id))]
    pub async fn void(
        &self,
        order: PaymentOrder,
        correlation: &CorrelationId,
    ) -> Result<Payment, PaymentError> {
        let Some(mut payment) = self.payments.find_by_booking(order.booking_id).await? else {
            let void = Payment::void_in_advance(Uuid::now_v7(), order, now());
            return match self.payments.insert(&void, None, correlation).await? {
                Recorded::Created => Ok(void),
                // A charge got in first: void that one.
                Recorded::Existing(_) => Box::pin(self.void(order, correlation)).await,
            };
        };
        if let Some(event) = payment.void(now()) {
            if !self
                .payments
                .give_back(&payment, &event, correlation, None)
                .await?
                .is_applied()
            {
                return self.find(order.booking_id).await;
            }
            tracing::info!(payment_id = %payment.id, "charge voided");
        }
        Ok(payment)
    }

    /// Refunds the booking's payment, recording `handling` (the event that asked for it) with
    /// the refund when there is one. Idempotent.
    #[tracing::instrument(skip_all, fields(%booking_id))]
    async fn refund_for(
        &self,
        booking_id: Uuid,
        correlation: &CorrelationId,
        handling: &Handling,
    ) -> Result<Payment, PaymentError> {
        let mut payment = self.find(booking_id).await?;
        if let Some(event) = payment.refund(now())? {
            if !self
                .payments
                .give_back(&payment, &event, correlation, Some(handling))
                .await?
                .is_applied()
            {
                return self.find(booking_id).await;
            }
            tracing::info!(payment_id = %payment.id, "payment refunded");
        }
        Ok(payment)
    }

    /// A booking was cancelled (`BookingCancelled`): refund its payment, exactly once per
    /// event (the inbox), and only once per payment (compare-and-set on APPROVED).
    #[tracing::instrument(skip_all, fields(event_id = %envelope.id))]
    pub async fn on_booking_cancelled(&self, envelope: &EventEnvelope) -> anyhow::Result<()> {
        let PaymentIncoming::BookingCancelled(event) =
            PaymentIncoming::decode(envelope).map_err(Rejected::from)?;
        let handling = Handling {
            consumer: CONSUMER,
            event_id: envelope.id,
        };
        match self
            .refund_for(event.booking_id, &envelope.correlation_id, &handling)
            .await
        {
            Ok(_) => Ok(()),
            // Nothing was charged, or nothing is left to give back: there is nothing to do.
            Err(error @ (PaymentError::NotFound(_) | PaymentError::Conflict { .. })) => {
                tracing::warn!(booking_id = %event.booking_id, %error, "no refund for a cancelled booking");
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The booking's payment, for its guest or host only; anyone else is told it does not exist.
    pub async fn find_for(&self, user_id: Uuid, booking_id: Uuid) -> Result<Payment, PaymentError> {
        let payment = self.find(booking_id).await?;
        if payment.order.guest_id == user_id || payment.order.host_id == user_id {
            Ok(payment)
        } else {
            Err(PaymentError::NotFound(booking_id))
        }
    }
}
