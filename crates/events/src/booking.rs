//! Events published by the booking context.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::IntegrationEvent;

/// A booking was paid for and holds its nights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingConfirmed {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub room_name: String,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub check_in: NaiveDate,
    /// Exclusive: the morning the guest leaves.
    pub check_out: NaiveDate,
    pub nights: u32,
    /// In whole won.
    pub total_price: i64,
    pub payment_id: Uuid,
}

/// A confirmed booking was cancelled (by its guest, or because its room was deleted); its
/// payment is to be refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingCancelled {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub payment_id: Uuid,
}

impl IntegrationEvent for BookingConfirmed {
    const TYPE: &'static str = "BookingConfirmed";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.booking_id.into()
    }
}

impl IntegrationEvent for BookingCancelled {
    const TYPE: &'static str = "BookingCancelled";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.booking_id.into()
    }
}
