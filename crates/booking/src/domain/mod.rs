//! The booking context's rules: valid stays, who may book and cancel, and a booking's life
//! from PENDING (nights claimed, payment under way) to CONFIRMED, REJECTED or CANCELLED.

mod booking;
mod error;
mod stay;

pub use booking::{Booking, BookingStatus, Rejection, RoomSnapshot};
pub use error::BookingError;
pub use stay::{DatesDraft, StayDates};
