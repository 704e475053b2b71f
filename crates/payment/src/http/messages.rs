//! Bodies of the payment API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Payment, PaymentError, PaymentOrder, PaymentStatus};

/// What a booking asks to be charged (or voided).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOrderMessage {
    /// The idempotency key: one payment per booking.
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    /// In whole won, positive.
    #[schema(minimum = 1)]
    pub amount: i64,
}

impl PaymentOrderMessage {
    pub fn into_order(self) -> Result<PaymentOrder, PaymentError> {
        PaymentOrder::parse(self.booking_id, self.guest_id, self.host_id, self.amount)
    }
}

/// A payment, as services see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub amount: i64,
    /// `APPROVED`, `DECLINED`, `VOIDED` or `CANCELLED` (refunded).
    pub status: PaymentStatus,
}

impl From<Payment> for PaymentRecord {
    fn from(payment: Payment) -> Self {
        PaymentRecord {
            id: payment.id,
            booking_id: payment.order.booking_id,
            guest_id: payment.order.guest_id,
            host_id: payment.order.host_id,
            amount: payment.order.amount,
            status: payment.status,
        }
    }
}

/// A payment, as its guest and host see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub amount: i64,
    /// `APPROVED`, then `CANCELLED` once refunded; `DECLINED` or `VOIDED` for a booking that
    /// never came to be.
    pub status: PaymentStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<PaymentView>,
}

impl From<Payment> for PaymentView {
    fn from(payment: Payment) -> Self {
        PaymentView {
            id: payment.id,
            booking_id: payment.order.booking_id,
            amount: payment.order.amount,
            status: payment.status,
        }
    }
}
