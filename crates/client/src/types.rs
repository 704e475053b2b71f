//! The API's bodies, as `docs/openapi.json` describes them: what is sent (`New…`) and what is
//! answered. Unknown members are ignored, so a field added to the API breaks no client.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /users`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
}

/// `POST /auth/token`.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

/// A user, as `POST /users` and `GET /users/me` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `POST /auth/token`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
}

/// `POST /rooms`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRoom<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub price: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

/// A room, as `POST /rooms`, `GET /rooms/{id}` and a search answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub price: i64,
    pub capacity: u32,
    pub host: Uuid,
    pub host_name: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A page of `GET /rooms`.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomPage {
    pub items: Vec<Room>,
    pub total: u64,
    pub page: u32,
    pub size: u32,
}

impl RoomPage {
    /// The ids of the page's rooms, in order.
    pub fn ids(&self) -> Vec<Uuid> {
        self.items.iter().map(|room| room.id).collect()
    }
}

/// `GET /rooms/{id}/availability`: the nights of `[from, to)` that booked stays take.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub room_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub taken_nights: Vec<NaiveDate>,
}

/// `POST /bookings`: `[check_in, check_out)`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewBooking {
    pub room_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guests: Option<u32>,
}

/// A booking, as `POST /bookings`, `GET /bookings/{id}` and a cancellation answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: Uuid,
    pub room_id: Uuid,
    #[serde(default)]
    pub room_name: String,
    pub guest: Uuid,
    pub host: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub nights: u32,
    #[serde(default)]
    pub guests: u32,
    #[serde(default)]
    pub nightly_price: i64,
    pub total_price: i64,
    /// `CONFIRMED`, `CANCELLED`, or `REJECTED` (the suites see all three).
    pub status: String,
    #[serde(default)]
    pub payment_id: Option<Uuid>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /bookings`.
#[derive(Debug, Clone, Deserialize)]
pub struct BookingList {
    pub items: Vec<Booking>,
}

/// A payment, as `GET /payments?bookingId=` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub amount: i64,
    /// `APPROVED`, then `CANCELLED` once refunded.
    pub status: String,
}

/// `GET /payments?bookingId=`.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentList {
    pub items: Vec<Payment>,
}

/// One notification, as `GET /notifications` lists it and the live stream sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: Uuid,
    /// The event's name in capitals: `PAYMENT_APPROVED`, `BOOKING_CONFIRMED`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub booking_id: Uuid,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// A page of `GET /notifications`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub page: u32,
    pub size: u32,
    /// The user's whole history.
    pub total: u64,
}

/// `GET /mypage`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyPage {
    pub as_guest: Vec<Stay>,
    pub as_host: Vec<Stay>,
}

/// A booked stay, as my page shows it to its guest or its host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// `GET /health/ready`'s report of a process ready for traffic.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Readiness {
    /// `ready`, or `degraded`: ready, but a component is impaired.
    pub status: String,
    /// Each component's state: `ready`, or why it is not.
    pub checks: BTreeMap<String, String>,
}

/// An RFC 9457 problem document, as every error is answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub title: String,
    pub status: u16,
    #[serde(default)]
    pub detail: Option<String>,
    /// The members RFC 9457 lets a problem type add (readiness's `checks`, …).
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} {}: {}",
            self.status,
            self.title,
            self.message()
        )?;
        if let Some(kind) = &self.kind {
            write!(formatter, " ({kind})")?;
        }
        Ok(())
    }
}

impl Problem {
    /// The problem type of a request whose idempotency key is still being handled.
    pub const IN_PROGRESS: &'static str = "/problems/request-in-progress";

    /// The detail, or the title when there is none.
    pub fn message(&self) -> &str {
        self.detail.as_deref().unwrap_or(&self.title)
    }
}
