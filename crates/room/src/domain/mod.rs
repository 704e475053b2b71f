//! The room context's rules: what a valid listing is, who may delete a room, what a search asks,
//! which nights an availability calendar asks about.

mod error;
mod listing;
mod nights;
mod room;
mod search;
mod stay;

pub use error::RoomError;
pub use listing::{Capacity, Listing, ListingDraft, Price};
pub use mybnb_platform::paging::Page;
pub use nights::{Availability, NightRange};
pub use room::{Host, Room, RoomId};
pub use search::{SearchCriteria, SearchDraft, SearchResults};
pub use stay::BookedStay;
