use uuid::Uuid;

/// What can go wrong with a payment command or query.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The card network did not answer as it should: an outage, as far as the caller knows.
    #[error("the payment provider is unavailable")]
    Unavailable,
    #[error("no payment for booking {0}")]
    NotFound(Uuid),
    /// The booking already has a payment that does not match the request.
    #[error("booking {booking_id} already has a payment: {reason}")]
    Conflict { booking_id: Uuid, reason: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
