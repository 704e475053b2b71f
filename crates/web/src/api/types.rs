//! The API's bodies, as far as the pages use them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub(super) struct Problem {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub title: String,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_token: String,
    /// Seconds.
    pub expires_in: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub city: Option<String>,
    pub description: Option<String>,
    pub price: i64,
    pub capacity: u32,
    pub host_name: String,
}

#[derive(Debug, Deserialize)]
pub struct RoomPage {
    pub items: Vec<Room>,
    pub total: u64,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub taken_nights: Vec<NaiveDate>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRoom<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub price: i64,
    pub capacity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewBooking {
    pub room_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyPage {
    pub as_guest: Vec<Stay>,
    pub as_host: Vec<Stay>,
}

/// A booked stay, as my page shows it to its guest or its host.
#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
pub struct Notifications {
    pub items: Vec<Notification>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}
