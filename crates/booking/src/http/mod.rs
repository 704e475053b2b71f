//! The booking context's HTTP API: `POST /bookings`, `GET /bookings`, `GET /bookings/{id}`,
//! `POST /bookings/{id}/cancel`.

mod handlers;
mod messages;

use std::sync::Arc;

use axum::extract::FromRef;
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::BookingError;
use crate::service::BookingService;
use crate::store::SqlBookingRepository;

pub type Bookings = BookingService<SqlBookingRepository>;

#[derive(Clone, FromRef)]
pub struct BookingState {
    bookings: Arc<Bookings>,
    verifier: TokenVerifier,
}

pub fn router(bookings: Arc<Bookings>, verifier: TokenVerifier) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(handlers::book, handlers::list_bookings))
        .routes(routes!(handlers::get_booking))
        .routes(routes!(handlers::cancel_booking))
        .with_state(BookingState { bookings, verifier })
}

impl From<BookingError> for ApiError {
    fn from(error: BookingError) -> Self {
        match error {
            BookingError::Invalid { .. } => ApiError::validation(error.to_string()),
            BookingError::RoomNotFound(_) | BookingError::NotFound(_) => {
                ApiError::not_found(error.to_string())
            }
            BookingError::OwnRoom => ApiError::forbidden(error.to_string()),
            BookingError::RequestInProgress => ApiError::request_in_progress(error.to_string()),
            BookingError::NightsTaken
            | BookingError::KeyOfCancelledBooking(_)
            | BookingError::NotCancellable(_) => ApiError::conflict(error.to_string()),
            BookingError::PaymentDeclined => ApiError::payment_required(error.to_string()),
            BookingError::RoomsUnavailable => ApiError::service_unavailable(error.to_string(), 1),
            BookingError::PaymentUnavailable { retry_after } => {
                ApiError::service_unavailable(error.to_string(), retry_after.as_secs().max(1))
            }
            BookingError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}
