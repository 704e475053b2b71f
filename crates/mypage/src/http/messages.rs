//! Bodies of the my-page API.

use crate::domain::Status as _;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{MyPage, Stay};

/// A user's page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyPageView {
    /// Stays the user booked.
    pub as_guest: Vec<StayRow>,
    /// Stays booked in the user's rooms.
    pub as_host: Vec<StayRow>,
}

/// One stay on a page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StayRow {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub room_name: String,
    pub check_in: NaiveDate,
    /// Exclusive: the morning the guest leaves.
    pub check_out: NaiveDate,
    /// In whole won.
    pub total_price: i64,
    /// `CONFIRMED` or `CANCELLED`.
    pub booking_status: String,
    /// `PENDING` (its event has not arrived yet), `APPROVED` or `CANCELLED` (refunded).
    pub payment_status: String,
}

impl From<Stay> for StayRow {
    fn from(stay: Stay) -> Self {
        StayRow {
            booking_id: stay.booking_id,
            room_id: stay.room_id,
            room_name: stay.room_name,
            check_in: stay.check_in,
            check_out: stay.check_out,
            total_price: stay.total_price,
            booking_status: stay.booking_status.name().to_owned(),
            payment_status: stay.payment_status.name().to_owned(),
        }
    }
}

impl From<MyPage> for MyPageView {
    fn from(page: MyPage) -> Self {
        MyPageView {
            as_guest: page.as_guest.into_iter().map(StayRow::from).collect(),
            as_host: page.as_host.into_iter().map(StayRow::from).collect(),
        }
    }
}
