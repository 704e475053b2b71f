//! A payment and its life: approved or declined once, then perhaps voided or refunded.

use chrono::{DateTime, Utc};
pub use mybnb_events::payment::PaymentStatus;
use mybnb_events::payment::{CancellationReason, PaymentApproved, PaymentCancelled};
use uuid::Uuid;

use super::PaymentError;

/// What a booking asks to be paid: who pays whom, how much. Amounts are whole won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentOrder {
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub amount: i64,
}

impl PaymentOrder {
    pub fn parse(
        booking_id: Uuid,
        guest_id: Uuid,
        host_id: Uuid,
        amount: i64,
    ) -> Result<PaymentOrder, PaymentError> {
        if amount <= 0 {
            return Err(PaymentError::Invalid {
                field: "amount",
                reason: "must be positive".to_owned(),
            });
        }
        Ok(PaymentOrder {
            booking_id,
            guest_id,
            host_id,
            amount,
        })
    }
}

/// The card network's answer to a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    Approved,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub order: PaymentOrder,
    pub status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    /// Records the network's answer to an order; an approval is announced.
    pub fn authorized(
        id: Uuid,
        order: PaymentOrder,
        authorization: Authorization,
        now: DateTime<Utc>,
    ) -> (Payment, Option<PaymentApproved>) {
        let status = match authorization {
            Authorization::Approved => PaymentStatus::Approved,
            Authorization::Declined => PaymentStatus::Declined,
        };
        let payment = Payment {
            id,
            order,
            status,
            created_at: now,
            updated_at: now,
        };
        let event = (status == PaymentStatus::Approved).then_some(PaymentApproved {
            payment_id: id,
            booking_id: order.booking_id,
            guest_id: order.guest_id,
            host_id: order.host_id,
            amount: order.amount,
        });
        (payment, event)
    }

    /// A void recorded before any charge, so that a charge arriving late is refused.
    pub fn void_in_advance(id: Uuid, order: PaymentOrder, now: DateTime<Utc>) -> Payment {
        Payment {
            id,
            order,
            status: PaymentStatus::Voided,
            created_at: now,
            updated_at: now,
        }
    }

    /// An order repeated with the same booking id must be the same order.
    pub fn check_same_order(&self, order: &PaymentOrder) -> Result<(), PaymentError> {
        if self.order == *order {
            Ok(())
        } else {
            Err(PaymentError::Conflict {
                booking_id: order.booking_id,
                reason: "it was made for another amount or other parties".to_owned(),
            })
        }
    }

    /// Gives back an approved charge whose booking never came to be. Anything else is left as
    /// it is: voiding is idempotent.
    pub fn void(&mut self, now: DateTime<Utc>) -> Option<PaymentCancelled> {
        self.cancel(CancellationReason::Void, PaymentStatus::Voided, now)
    }

    /// Gives back the charge of a cancelled booking. Refunding twice changes nothing; a payment
    /// that was never approved cannot be refunded.
    pub fn refund(&mut self, now: DateTime<Utc>) -> Result<Option<PaymentCancelled>, PaymentError> {
        match self.status {
            PaymentStatus::Approved => {
                Ok(self.cancel(CancellationReason::Refund, PaymentStatus::Cancelled, now))
            }
            PaymentStatus::Cancelled => Ok(None),
            PaymentStatus::Declined | PaymentStatus::Voided => Err(PaymentError::Conflict {
                booking_id: self.order.booking_id,
                reason: format!("a {} payment cannot be refunded", self.status.as_str()),
            }),
        }
    }

    fn cancel(
        &mut self,
        reason: CancellationReason,
        status: PaymentStatus,
        now: DateTime<Utc>,
    ) -> Option<PaymentCancelled> {
        if self.status != PaymentStatus::Approved {
            return None;
        }
        self.status = status;
        self.updated_at = now;
        Some(PaymentCancelled {
            payment_id: self.id,
            booking_id: self.order.booking_id,
            guest_id: self.order.guest_id,
            amount: self.order.amount,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> PaymentOrder {
        PaymentOrder::parse(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), 240_000)
            .expect("valid order")
    }

    #[test]
    fn an_approval_is_announced_and_a_decline_is_not() {
        let (payment, event) =
            Payment::authorized(Uuid::now_v7(), order(), Authorization::Approved, Utc::now());
        assert_eq!(payment.status, PaymentStatus::Approved);
        assert_eq!(event.map(|event| event.amount), Some(240_000));
        let (payment, event) =
            Payment::authorized(Uuid::now_v7(), order(), Authorization::Declined, Utc::now());
        assert_eq!((payment.status, event), (PaymentStatus::Declined, None));
    }

    #[test]
    fn voiding_gives_back_an_approved_charge_once() {
        let (mut payment, _) =
            Payment::authorized(Uuid::now_v7(), order(), Authorization::Approved, Utc::now());
        let event = payment
            .void(Utc::now())
            .expect("an approved charge is voided");
        assert_eq!(event.reason, CancellationReason::Void);
        assert_eq!(payment.status, PaymentStatus::Voided);
        assert_eq!(payment.void(Utc::now()), None);
    }

    #[test]
    fn refunds_are_idempotent_and_only_for_approved_payments() {
        let (mut payment, _) =
            Payment::authorized(Uuid::now_v7(), order(), Authorization::Approved, Utc::now());
        assert!(payment.refund(Utc::now()).expect("refundable").is_some());
        assert_eq!(payment.status, PaymentStatus::Cancelled);
        assert!(payment.refund(Utc::now()).expect("again").is_none());
        let mut void = Payment::void_in_advance(Uuid::now_v7(), order(), Utc::now());
        assert!(void.refund(Utc::now()).is_err());
    }

    #[test]
    fn a_repeated_order_must_match() {
        let first = order();
        let (payment, _) =
            Payment::authorized(Uuid::now_v7(), first, Authorization::Approved, Utc::now());
        assert!(payment.check_same_order(&first).is_ok());
        let other = PaymentOrder { amount: 1, ..first };
        assert!(payment.check_same_order(&other).is_err());
    }

    #[test]
    fn non_positive_amounts_are_refused() {
        assert!(PaymentOrder::parse(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), 0).is_err());
    }
}
