//! What each event tells my page about a stay.
//!
//! Events of different aggregates (a booking, its payment) arrive in any order, and a
//! redelivered one may arrive late. So an event never overwrites what it does not know, and
//! statuses only move forward: once CANCELLED, a booking or a payment stays CANCELLED whatever
//! arrives after.

use chrono::NaiveDate;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use uuid::Uuid;

/// A booking's status as my page shows it.
pub const CONFIRMED: &str = "CONFIRMED";
/// A booking or payment status that nothing after it changes.
pub const CANCELLED: &str = "CANCELLED";
/// A payment's status once it went through.
pub const APPROVED: &str = "APPROVED";
/// A payment's status before its event has arrived.
pub const PENDING: &str = "PENDING";

/// What one event says about one stay: `None` for what it does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StayUpdate {
    pub booking_id: Uuid,
    pub room_id: Option<Uuid>,
    pub room_name: Option<String>,
    pub guest_id: Option<Uuid>,
    pub host_id: Option<Uuid>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub total_price: Option<i64>,
    pub booking_status: Option<&'static str>,
    pub payment_status: Option<&'static str>,
}

impl From<BookingConfirmed> for StayUpdate {
    fn from(event: BookingConfirmed) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            room_id: Some(event.room_id),
            room_name: Some(event.room_name),
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            check_in: Some(event.check_in),
            check_out: Some(event.check_out),
            total_price: Some(event.total_price),
            booking_status: Some(CONFIRMED),
            payment_status: None,
        }
    }
}

impl From<BookingCancelled> for StayUpdate {
    fn from(event: BookingCancelled) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            room_id: Some(event.room_id),
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            check_in: Some(event.check_in),
            check_out: Some(event.check_out),
            booking_status: Some(CANCELLED),
            ..StayUpdate::default()
        }
    }
}

impl From<PaymentApproved> for StayUpdate {
    fn from(event: PaymentApproved) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            guest_id: Some(event.guest_id),
            host_id: Some(event.host_id),
            payment_status: Some(APPROVED),
            ..StayUpdate::default()
        }
    }
}

impl From<PaymentCancelled> for StayUpdate {
    fn from(event: PaymentCancelled) -> Self {
        StayUpdate {
            booking_id: event.booking_id,
            guest_id: Some(event.guest_id),
            payment_status: Some(CANCELLED),
            ..StayUpdate::default()
        }
    }
}

/// One row of my page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub room_name: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub total_price: i64,
    pub booking_status: String,
    pub payment_status: String,
}

/// A user's page: the stays they booked and the stays booked in their rooms, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPage {
    pub as_guest: Vec<Stay>,
    pub as_host: Vec<Stay>,
}
