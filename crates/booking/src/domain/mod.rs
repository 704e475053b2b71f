//! The booking context's rules: valid stays, who may book and cancel, and a booking's life
//! from PENDING (nights claimed, payment under way) to CONFIRMED, REJECTED or CANCELLED.

mod booking;
mod error;
mod idempotency;
mod money;
mod stay;

pub use booking::{Booking, BookingStatus, Rejection, RoomSnapshot, StoredBooking};
pub use error::BookingError;
pub use idempotency::IdempotencyKey;
pub use money::Money;
pub use stay::{DatesDraft, StayDates};
