//! Events published by the payment context.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::IntegrationEvent;

/// A booking's payment went through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentApproved {
    pub payment_id: Uuid,
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    /// In whole won.
    pub amount: i64,
}

/// Where a payment stands: what payment stores, and what it tells booking over its internal API
/// (booking reads it in one place, `mybnb_booking::ports::PaymentState::from_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Approved,
    Declined,
    /// Voided before its booking came to be, or recorded as void so that a late charge for a
    /// booking that was given up is refused.
    Voided,
    /// Refunded after its booking was cancelled.
    Cancelled,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Approved => "APPROVED",
            PaymentStatus::Declined => "DECLINED",
            PaymentStatus::Voided => "VOIDED",
            PaymentStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Approved,
            PaymentStatus::Declined,
            PaymentStatus::Voided,
            PaymentStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// Why an approved payment was given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancellationReason {
    /// The booking was cancelled.
    Refund,
    /// The booking never came to be (payment answered too late, or the booking failed after
    /// the charge): the charge is voided.
    Void,
}

/// An approved payment was given back to the guest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCancelled {
    pub payment_id: Uuid,
    pub booking_id: Uuid,
    pub guest_id: Uuid,
    pub amount: i64,
    pub reason: CancellationReason,
}

impl IntegrationEvent for PaymentApproved {
    const TYPE: &'static str = "PaymentApproved";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.payment_id.into()
    }
}

impl IntegrationEvent for PaymentCancelled {
    const TYPE: &'static str = "PaymentCancelled";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.payment_id.into()
    }
}
