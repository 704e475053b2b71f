//! Request and response bodies of the booking API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Booking, DatesDraft};
use crate::service::BookingDraft;

/// A stay to book: `checkIn` and `checkOut` (exclusive), or the original system's `usedate`
/// for one night. Prices sent by the client are ignored: the room's price is used.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookRequest {
    pub room_id: Uuid,
    /// `YYYY-MM-DD`, not in the past (UTC).
    #[schema(format = Date, example = "2026-12-24")]
    pub check_in: Option<String>,
    /// `YYYY-MM-DD`, 1 to 30 nights after `checkIn`.
    #[schema(format = Date, example = "2026-12-27")]
    pub check_out: Option<String>,
    /// `YYYYMMDD`: one night, instead of `checkIn`/`checkOut`.
    #[schema(pattern = "^[0-9]{8}$", example = "20261224")]
    pub usedate: Option<String>,
    /// 1 to the room's capacity; 1 when absent.
    #[schema(minimum = 1)]
    pub guests: Option<u32>,
}

impl BookRequest {
    pub fn into_draft(self) -> BookingDraft {
        BookingDraft {
            room_id: self.room_id,
            dates: DatesDraft {
                check_in: self.check_in,
                check_out: self.check_out,
                usedate: self.usedate,
            },
            guests: self.guests,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingResponse {
    pub id: Uuid,
    pub room_id: Uuid,
    /// The room's name when booked.
    pub room_name: String,
    /// The guest's user id.
    pub guest: Uuid,
    /// The host's user id.
    pub host: Uuid,
    pub check_in: NaiveDate,
    /// Exclusive: the morning the guest leaves.
    pub check_out: NaiveDate,
    pub nights: u32,
    pub guests: u32,
    /// Nightly price when booked, in whole won.
    pub nightly_price: i64,
    pub total_price: i64,
    /// `PENDING`, `CONFIRMED`, `REJECTED` or `CANCELLED`.
    pub status: String,
    pub payment_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Booking> for BookingResponse {
    fn from(booking: Booking) -> Self {
        BookingResponse {
            id: booking.id(),
            room_id: booking.room().id,
            room_name: booking.room().name.clone(),
            guest: booking.guest_id(),
            host: booking.room().host_id,
            check_in: booking.stay().check_in(),
            check_out: booking.stay().check_out(),
            nights: booking.stay().nights(),
            guests: booking.guests(),
            nightly_price: booking.room().price.as_won(),
            total_price: booking.total_price().as_won(),
            status: booking.status().name().to_owned(),
            payment_id: booking.status().payment_id(),
            created_at: booking.created_at(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    pub items: Vec<BookingResponse>,
}
