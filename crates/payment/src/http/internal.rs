//! Endpoints for mybnb's services (the booking context), behind the service token.

use std::sync::Arc;

use axum::extract::State;
use mybnb_platform::auth::ServiceCaller;
use mybnb_platform::http::{ApiError, BodyErrors, Json, Path, ProblemDocument, RequestId};
use uuid::Uuid;

use super::messages::{PaymentOrderMessage, PaymentRecord};
use crate::service::PaymentService;

/// Charge a booking, once: repeating the order returns the first payment.
#[utoipa::path(post, path = "/internal/payments", tag = "internal", security(("service" = [])),
    request_body = PaymentOrderMessage,
    responses(
        (status = 200, description = "The payment: APPROVED, DECLINED, or VOIDED if the booking was given up", body = PaymentRecord),
        (status = 401, description = "Not a mybnb service", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The booking has a payment for another order", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
        (status = 503, description = "The card network is unavailable", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn charge(
    State(payments): State<Arc<PaymentService>>,
    _service: ServiceCaller,
    RequestId(request_id): RequestId,
    Json(order): Json<PaymentOrderMessage>,
) -> Result<axum::Json<PaymentRecord>, ApiError> {
    let payment = payments.charge(order.into_order()?, &request_id).await?;
    Ok(axum::Json(payment.into()))
}

/// A booking's payment.
#[utoipa::path(get, path = "/internal/payments/{bookingId}", tag = "internal", security(("service" = [])),
    params(("bookingId" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The payment", body = PaymentRecord),
        (status = 401, description = "Not a mybnb service", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "The booking has no payment", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn payment_of_booking(
    State(payments): State<Arc<PaymentService>>,
    _service: ServiceCaller,
    Path(booking_id): Path<Uuid>,
) -> Result<axum::Json<PaymentRecord>, ApiError> {
    Ok(axum::Json(payments.find(booking_id).await?.into()))
}

/// Make sure a booking that never came to be is not charged.
#[utoipa::path(post, path = "/internal/payments/{bookingId}/void", tag = "internal", security(("service" = [])),
    params(("bookingId" = Uuid, Path, description = "The booking's id")),
    request_body = PaymentOrderMessage,
    responses(
        (status = 200, description = "The payment, now VOIDED (or DECLINED)", body = PaymentRecord),
        (status = 401, description = "Not a mybnb service", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "The path names no booking", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The order names another booking", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
    ))]
pub async fn void(
    State(payments): State<Arc<PaymentService>>,
    _service: ServiceCaller,
    RequestId(request_id): RequestId,
    Path(booking_id): Path<Uuid>,
    Json(order): Json<PaymentOrderMessage>,
) -> Result<axum::Json<PaymentRecord>, ApiError> {
    if order.booking_id != booking_id {
        return Err(ApiError::conflict("the order is for another booking"));
    }
    let payment = payments.void(order.into_order()?, &request_id).await?;
    Ok(axum::Json(payment.into()))
}
