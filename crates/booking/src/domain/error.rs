use std::time::Duration;

use uuid::Uuid;

/// What can go wrong with a booking command or query.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// A value of the request breaks a rule; names the field.
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("room {0} does not exist")]
    RoomNotFound(Uuid),
    #[error("booking {0} does not exist")]
    NotFound(Uuid),
    #[error("hosts cannot book their own rooms")]
    OwnRoom,
    #[error("some of these nights are already booked")]
    NightsTaken,
    #[error("the payment was declined")]
    PaymentDeclined,
    /// The payment provider is slow, down or shedding load; nothing was booked.
    #[error("payment is unavailable right now; try again shortly")]
    PaymentUnavailable { retry_after: Duration },
    /// The room context could not be asked; nothing was booked.
    #[error("rooms cannot be read right now; try again shortly")]
    RoomsUnavailable,
    #[error("the booking made with this Idempotency-Key, {0}, has since been cancelled")]
    KeyOfCancelledBooking(Uuid),
    #[error("a request with this Idempotency-Key is still being handled")]
    RequestInProgress,
    #[error("this booking cannot be cancelled: {0}")]
    NotCancellable(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl BookingError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        BookingError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
