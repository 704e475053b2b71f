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
    /// 1–100 characters, not all spaces; surrounding spaces are dropped. No control characters
    /// but line breaks, here and in every text of a listing.
    #[schema(
        example = "Hanok with a garden",
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// 1–200 characters, not all spaces.
    #[schema(
        example = "12 Bukchon-ro 11-gil, Jongno-gu",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub address: String,
    /// Price of one night in whole won, 1–100,000,000.
    #[schema(example = 120000, minimum = 1, maximum = 100_000_000)]
    pub price: i64,
    /// Guests the room sleeps, 1–50; 2 when absent.
    #[schema(minimum = 1, maximum = 50)]
    pub capacity: Option<u32>,
    /// Up to 60 characters.
    #[schema(
        example = "Seoul",
        max_length = 60,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub city: Option<String>,
    /// Up to 2,000 characters.
    #[schema(
        max_length = 2000,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
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
    /// Words that must all appear (ignoring case) in the name, address, city or description;
    /// at most 10.
    pub q: Option<String>,
    /// The city, ignoring case.
    pub city: Option<String>,
    /// Lowest nightly price, inclusive; 0–100,000,000 and not above `maxPrice`.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub min_price: Option<i64>,
    /// Highest nightly price, inclusive.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub max_price: Option<i64>,
    /// Rooms that sleep at least this many guests.
    #[param(minimum = 1)]
    pub guests: Option<u32>,
    /// With `checkOut`: only rooms free on every night from `checkIn` (`YYYY-MM-DD`)…
    #[param(format = Date, example = "2026-12-24")]
    pub check_in: Option<String>,
    /// …up to, not including, `checkOut`: 1 to 90 nights later.
    #[param(format = Date, example = "2026-12-27")]
    pub check_out: Option<String>,
    /// Only rooms registered by this user (the host's user id), such as the caller's own.
    #[param(value_type = Option<String>, format = Uuid, example = "67e55044-10b1-426f-9247-bb680e5fe0c8")]
    pub host: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Page size, 20 by default; sizes above 100 are lowered to 100.
    #[param(minimum = 1)]
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

#[cfg(test)]
mod tests {
    use utoipa::{IntoParams, PartialSchema};

    use super::*;
    use crate::domain::{Capacity, Listing, Page, Price};

    /// The limits the document states are the ones the domain enforces (utoipa takes only
    /// literals in its attributes, so this keeps the two from drifting apart).
    #[test]
    fn the_listing_schema_states_the_domains_limits() {
        let schema = serde_json::to_value(RegisterRoomRequest::schema()).expect("a schema");
        let member = |name: &str, bound: &str| schema["properties"][name][bound].as_u64();
        let chars = |limit: usize| u64::try_from(limit).ok();
        for (name, max) in [
            ("name", Listing::MAX_NAME_CHARS),
            ("address", Listing::MAX_ADDRESS_CHARS),
        ] {
            assert_eq!(member(name, "minLength"), Some(1), "{name}");
            assert_eq!(member(name, "maxLength"), chars(max), "{name}");
        }
        assert_eq!(member("city", "maxLength"), chars(Listing::MAX_CITY_CHARS));
        assert_eq!(
            member("description", "maxLength"),
            chars(Listing::MAX_DESCRIPTION_CHARS)
        );
        assert_eq!(member("price", "minimum"), Some(1));
        assert_eq!(member("price", "maximum"), u64::try_from(Price::MAX).ok());
        assert_eq!(member("capacity", "minimum"), Some(1));
        assert_eq!(
            member("capacity", "maximum"),
            Some(u64::from(Capacity::MAX))
        );
    }

    #[test]
    fn the_search_parameters_state_the_domains_limits() {
        let parameters =
            serde_json::to_value(SearchRoomsQuery::into_params(|| None)).expect("parameters");
        let bound = |name: &str, bound: &str| {
            parameters
                .as_array()
                .into_iter()
                .flatten()
                .find(|parameter| parameter["name"] == name)
                .and_then(|parameter| parameter["schema"][bound].as_u64())
        };
        for name in ["minPrice", "maxPrice"] {
            assert_eq!(bound(name, "minimum"), Some(0), "{name}");
            assert_eq!(
                bound(name, "maximum"),
                u64::try_from(Price::MAX).ok(),
                "{name}"
            );
        }
        for name in ["guests", "page", "size"] {
            assert_eq!(bound(name, "minimum"), Some(1), "{name}");
        }
        assert!(Page::parse(Some(0), None).is_err() && Page::parse(None, Some(0)).is_err());
    }
}
