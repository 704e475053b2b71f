//! Booked stays as the room context sees them: which nights of which room are taken.

use chrono::NaiveDate;
use uuid::Uuid;

/// A booking's stay in a room, from `check_in` up to, not including, `check_out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedStay {
    pub booking_id: Uuid,
    pub room_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    /// A cancelled stay frees its nights; once cancelled, a stay stays cancelled, whatever
    /// order the events arrive in.
    pub cancelled: bool,
}
