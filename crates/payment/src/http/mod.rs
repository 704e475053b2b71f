//! The payment context's HTTP API. Public: `GET /payments?bookingId=` for the booking's guest
//! and host. Internal, for mybnb's services only (the service token): charge, look up and void
//! under `/internal/payments`. Refunds happen by event (`BookingCancelled`), never by call.

mod internal;
mod messages;
mod public;

use std::sync::Arc;

use axum::extract::FromRef;
use mybnb_platform::auth::{ServiceToken, TokenVerifier};
use mybnb_platform::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::PaymentError;
use crate::service::PaymentService;

pub use messages::{PaymentOrderMessage, PaymentRecord};

#[derive(Clone, FromRef)]
pub struct PaymentState {
    payments: Arc<PaymentService>,
    verifier: TokenVerifier,
    service_token: ServiceToken,
}

pub fn router(
    payments: Arc<PaymentService>,
    verifier: TokenVerifier,
    service_token: ServiceToken,
) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(public::payments_of_booking))
        .routes(routes!(internal::charge))
        .routes(routes!(internal::payment_of_booking))
        .routes(routes!(internal::void))
        .with_state(PaymentState {
            payments,
            verifier,
            service_token,
        })
}

impl From<PaymentError> for ApiError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::Invalid { .. } => ApiError::validation(error.to_string()),
            PaymentError::Unavailable => ApiError::service_unavailable(error.to_string(), 1),
            PaymentError::NotFound(_) => ApiError::not_found(error.to_string()),
            PaymentError::Conflict { .. } => ApiError::conflict(error.to_string()),
            PaymentError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}
