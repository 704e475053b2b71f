//! Request and response bodies of the room API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Availability, ListingDraft, Room, SearchDraft, SearchResults};

/// A room to register; the caller becomes its host.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRoomRequest {
    /// 1–100 characters.
    #[schema(example = "Hanok with a garden")]
    pub name: String,
    /// 1–200 characters.
    #[schema(example = "12 Bukchon-ro 11-gil, Jongno-gu")]
    pub address: String,
    /// Price of one night in whole won, 1–100,000,000.
    #[schema(example = 120000)]
    pub price: i64,
    /// Guests the room sleeps, 1–50; 2 when absent.
    pub capacity: Option<u32>,
    /// Up to 60 characters.
    #[schema(example = "Seoul")]
    pub city: Option<String>,
    /// Up to 2,000 characters.
    pub description: Option<String>,
}

impl RegisterRoomRequest {
    pub fn into_draft(self) -> ListingDraft {
        ListingDraft {
            name: self.name,
            address: self.address,
            city: self.city,
            description: self.description,
            price: self.price,
            capacity: self.capacity,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomResponse {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub city: Option<String>,
    pub description: Option<String>,
    /// Price of one night in whole won.
    pub price: i64,
    pub capacity: u32,
    /// The host's user id.
    pub host: Uuid,
    /// The host's username when the room was registered.
    pub host_name: String,
    pub created_at: DateTime<Utc>,
}

impl From<Room> for RoomResponse {
    fn from(room: Room) -> Self {
        RoomResponse {
            id: room.id.0,
            name: room.listing.name().to_owned(),
            address: room.listing.address().to_owned(),
            city: room.listing.city().map(str::to_owned),
            description: room.listing.description().map(str::to_owned),
            price: room.listing.price().won(),
            capacity: room.listing.capacity().guests(),
            host: room.host.id,
            host_name: room.host.name,
            created_at: room.registered_at,
        }
    }
}

/// Search parameters; all optional.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchRoomsQuery {
    /// Words that must all appear (ignoring case) in the name, address, city or description.
    pub q: Option<String>,
    /// The city, ignoring case.
    pub city: Option<String>,
    /// Lowest nightly price, inclusive.
    pub min_price: Option<i64>,
    /// Highest nightly price, inclusive.
    pub max_price: Option<i64>,
    /// Rooms that sleep at least this many guests.
    pub guests: Option<u32>,
    /// With `checkOut`: only rooms free on every night from `checkIn` (`YYYY-MM-DD`)…
    pub check_in: Option<String>,
    /// …up to, not including, `checkOut`.
    pub check_out: Option<String>,
    /// Only rooms registered by this user (the host's user id), such as the caller's own.
    #[param(value_type = Option<String>, format = Uuid, example = "67e55044-10b1-426f-9247-bb680e5fe0c8")]
    pub host: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 20 by default; sizes above 100 are lowered to 100.
    pub size: Option<u32>,
}

impl SearchRoomsQuery {
    pub fn into_draft(self) -> SearchDraft {
        SearchDraft {
            text: self.q,
            city: self.city,
            min_price: self.min_price,
            max_price: self.max_price,
            guests: self.guests,
            check_in: self.check_in,
            check_out: self.check_out,
            host: self.host,
            page: self.page,
            size: self.size,
        }
    }
}

/// One page of search results, oldest room first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomResponse>,
    /// Rooms matching in all.
    pub total: u64,
    pub page: u32,
    pub size: u32,
}

impl From<SearchResults> for RoomPage {
    fn from(results: SearchResults) -> Self {
        RoomPage {
            items: results.rooms.into_iter().map(RoomResponse::from).collect(),
            total: results.total,
            page: results.page.number(),
            size: results.page.size(),
        }
    }
}

/// The nights an availability calendar shows; both required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The first night, `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date, example = "2026-12-24")]
    pub from: Option<String>,
    /// The day after the last night, `YYYY-MM-DD`: 1 to 92 days after `from`.
    #[param(required = true, value_type = String, format = Date, example = "2026-12-31")]
    pub to: Option<String>,
}

/// Which nights of the range are taken. Follows bookings by event, so a booking made or
/// cancelled a moment ago may not show yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityResponse {
    pub room_id: Uuid,
    /// The first night asked about.
    pub from: NaiveDate,
    /// The day after the last night asked about.
    pub to: NaiveDate,
    /// The nights from `from` up to, not including, `to` that a booking takes, ascending; the
    /// others are free.
    pub taken_nights: Vec<NaiveDate>,
}

impl From<Availability> for AvailabilityResponse {
    fn from(availability: Availability) -> Self {
        AvailabilityResponse {
            room_id: availability.room.0,
            from: availability.nights.from(),
            to: availability.nights.to(),
            taken_nights: availability.taken,
        }
    }
}
